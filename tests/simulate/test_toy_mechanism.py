"""A rate mechanism added from one file, the way a user or a plugin would: a model, a charge function and
one ``register`` call. It is then valid in scenario files, priced by the engine and simulated.

The toy: an ad valorem rate with a ceiling per line, amount = min(rate x value, ceiling), the shape of the
merchandise processing fee's maximum.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pytest
from pydantic import Field
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.duty import evaluate
from critmin.duty.charge import Charge, first_reason, per_case, same
from critmin.duty.mechanisms import MECHANISMS, Mechanism, register
from critmin.duty.rates import Bases
from critmin.policy import load_scenario
from critmin.policy.models import Fraction, Measure, RateModel
from critmin.simulate import simulate


class CeilingAdValorem(RateModel):
    kind: Literal["toy_ceiling_ad_valorem"]
    rate: Fraction
    ceiling_usd: float = Field(gt=0)


def ceiling_charge(measure: Measure, rate: CeilingAdValorem, index: int, bases: Bases) -> Charge:
    r = pl.lit(rate.rate)
    return Charge(
        basis=measure.basis.value,
        base=bases.value,
        rate=same(r),
        amount=per_case(lambda c: pl.min_horizontal(r * bases.value[c], pl.lit(rate.ceiling_usd))),
        missing=first_reason([(bases.value["central"].is_null(), bases.value_missing)]),
    )


if "toy_ceiling_ad_valorem" not in MECHANISMS:
    register(
        Mechanism(
            CeilingAdValorem,
            "An ad valorem rate with a ceiling in US dollars per line.",
            "rate: {kind: toy_ceiling_ad_valorem, rate: 5%, ceiling_usd: 1000}",
            ceiling_charge,
            parameters={"rate": "fraction or percent", "ceiling_usd": "USD per line"},
        )
    )

SCENARIO = """scenario:
  id: toy_fee
  title: A capped fee on Chinese goods
  description: Test scenario for a mechanism registered from outside the package.
  base: none
  parameters:
    fee_rate: {value: 0.05, description: fee rate}
  measures:
    - id: toy_fee
      title: Capped fee
      authority: other
      status: scenario
      citations: [{document: "Test document", date: 2026-01-01, url: "https://example.org/toy"}]
      products: {all: true}
      origin: {countries: [CHN]}
      rate: {kind: toy_ceiling_ad_valorem, rate: "${fee_rate}", ceiling_usd: 1000}
"""


@pytest.fixture()
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "toy_fee.yaml"
    path.write_text(SCENARIO)
    return path


def test_a_registered_mechanism_prices_lines_in_the_engine(
    scenario_file: Path, hand_ledger: pl.DataFrame
) -> None:
    measures = load_scenario(scenario_file)
    assert isinstance(measures.measures[0].rate, CeilingAdValorem)
    result = evaluate(hand_ledger, measures)
    duty = dict(result.lines.select("line_id", "duty").iter_rows())
    # CHN oxide   36,000 x 5% = 1,800 -> ceiling 1,000
    # CHN Nd      50,000 x 5% = 2,500 -> ceiling 1,000
    # AUS, VNM: not Chinese, 0
    assert duty == pytest.approx({"L1": 0.0, "L2": 1_000.0, "L3": 1_000.0, "L4": 0.0})
    cheap = hand_ledger.with_columns(pl.lit(12_000.0).alias("customs_value_usd"))
    small = dict(evaluate(cheap, measures).lines.select("line_id", "duty").iter_rows())
    assert small["L2"] == pytest.approx(12_000 * 0.05)  # 600, under the ceiling


def test_a_registered_mechanism_is_simulated_like_the_engine(
    kit: Any, scenario_file: Path, hand_ledger: pl.DataFrame, tmp_path: Path
) -> None:
    tree = kit.write_tree(
        tmp_path,
        f"""tree:
  id: toy
  title: toy tree
  note: example probabilities for a test
  start: 2026-07-01
  months: 12
  root:
    id: fee
    scenario: {scenario_file}
""",
    )
    result = simulate(tree, hand_ledger, draws=20, seed=1, uncertainty=kit.fixed, sensitivity=False)
    # the two Chinese lines pay the 1,000 ceiling each
    assert result.summary["mean"] == pytest.approx(2_000.0, rel=1e-12)
    assert result.summary["p95"] == pytest.approx(2_000.0, rel=1e-12)


def test_a_registered_mechanism_is_listed_for_scenario_writers() -> None:
    out = CliRunner().invoke(app, ["policy", "mechanisms", "--format", "json"])
    assert out.exit_code == 0, out.output
    kinds = {m["kind"]: m for m in json.loads(out.output)}
    assert kinds["toy_ceiling_ad_valorem"]["parameters"] == {
        "rate": "fraction or percent",
        "ceiling_usd": "USD per line",
    }


def test_an_unknown_kind_names_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.replace("toy_ceiling_ad_valorem", "toy_unknown"))
    out = CliRunner().invoke(app, ["policy", "validate", str(path)])
    assert out.exit_code != 0
    assert "unknown rate kind 'toy_unknown'" in out.output
    assert "toy_ceiling_ad_valorem" in out.output and "ad_valorem" in out.output
