"""Branch weighting, reproducibility, risk measures and the consistency of every breakdown."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from critmin.simulate import simulate
from critmin.simulate.results import statistics

TWO = """tree:
  id: two
  title: two branches
  note: example probabilities for a test
  start: 2026-07-01
  months: 12
  root:
    id: now
    scenario: status_quo
    children:
      - {id: calm, probability: 0.3}
      - id: tariff
        probability: 0.7
        date: 2026-08-01
        scenario: s232_tariff_non_partners
        params: {rate: 0.4, derivative_rate: 0.2}
"""


def test_two_branch_mean_is_the_probability_weighted_engine_result(
    kit: Any, hand_ledger: pl.DataFrame, tmp_path: Path
) -> None:
    draws = 20_000
    result = simulate(
        kit.write_tree(tmp_path, TWO),
        hand_ledger,
        draws=draws,
        seed=3,
        uncertainty=kit.fixed,
        sensitivity=False,
    )
    calm, tariff = result.by_branch
    # status quo: 5% MFN on the two neodymium lines = 0.05 x (50,000 + 45,000)
    assert calm["central"] == pytest.approx(4_750)
    # tariff from 2026-08-01 (all lines are in November): 0.4 x (36,000 + 50,000 + 45,000) + 4,750
    assert tariff["central"] == pytest.approx(0.4 * 131_000 + 4_750)
    weighted = 0.3 * calm["central"] + 0.7 * tariff["central"]
    # Each draw follows "tariff" with probability 0.7, so the mean's Monte Carlo error is
    # |difference| x sqrt(0.3 x 0.7 / draws) = 52,400 x 0.00324 = 170 USD; allow four of them.
    error = abs(tariff["central"] - calm["central"]) * math.sqrt(0.3 * 0.7 / draws)
    assert result.summary["mean"] == pytest.approx(weighted, abs=4 * error)
    # and given the realised branch counts the mean is exact
    exact = (calm["draws"] * calm["central"] + tariff["draws"] * tariff["central"]) / draws
    assert result.summary["mean"] == pytest.approx(exact, rel=1e-12)
    assert calm["probability"] == 0.3 and tariff["probability"] == 0.7
    assert calm["draws"] + tariff["draws"] == draws


def test_same_seed_same_numbers(kit: Any, hand_ledger: pl.DataFrame) -> None:
    one = simulate("pcmdp_window_2026", hand_ledger, draws=300, seed=42, switches=None).payload()
    two = simulate("pcmdp_window_2026", hand_ledger, draws=300, seed=42, switches=None).payload()
    other = simulate("pcmdp_window_2026", hand_ledger, draws=300, seed=43, switches=None).payload()
    assert one == two
    assert one["mean"] != other["mean"]


def test_risk_measures_are_cost_percentiles_and_tail_means() -> None:
    cost = np.arange(1.0, 101.0)  # 1 .. 100
    stats = statistics(cost)
    assert stats["var95"] == pytest.approx(np.quantile(cost, 0.95)) == pytest.approx(95.05)
    assert stats["cvar95"] == pytest.approx(np.mean([96, 97, 98, 99, 100]))  # the costliest 5 of 100 draws
    assert stats["cvar99"] == pytest.approx(100.0)
    assert stats["p5"] == pytest.approx(5.95) and stats["p50"] == pytest.approx(50.5)
    assert stats["mc_error"] == pytest.approx(cost.std(ddof=1) / 10)


def test_breakdowns_add_up_to_the_mean(kit: Any, tmp_path: Path) -> None:
    ledger = kit.ledger(
        [
            kit.line(1, __import__("datetime").date(2025, 8, 10), kit.oxide, "AUS", "Lynas", 900.0, 72_000.0),
            kit.line(
                2, __import__("datetime").date(2025, 9, 10), kit.oxide, "CHN", "Baotou", 700.0, 42_000.0
            ),
            kit.line(
                3, __import__("datetime").date(2025, 12, 1), kit.nd_metal, "CHN", "Baotou", 500.0, 50_000.0
            ),
            kit.line(
                4, __import__("datetime").date(2026, 2, 1), kit.nd_metal, "VNM", "Hanoi", 300.0, 27_000.0
            ),
        ]
    )
    result = simulate("pcmdp_window_2026", ledger, draws=3000, seed=9, switches=None)
    p = result.payload()
    mean = p["mean"]
    assert sum(m["mean"] for m in p["monthly"]) == pytest.approx(mean, rel=1e-9)
    assert sum(v["mean"] for v in p["by_mineral"].values()) == pytest.approx(mean, rel=1e-9)
    for key in ("by_origin", "by_supplier", "by_hts", "by_measure"):
        assert sum(p[key].values()) == pytest.approx(mean, rel=1e-9), key
    assert sum(b["mean"] * b["draws"] for b in p["by_branch"]) / p["settings"]["draws"] == pytest.approx(mean)
    assert p["landed_cost"]["mean"] == pytest.approx(p["landed_cost"]["goods_value_mean"] + mean)
    # fan bands are ordered in every month
    for month in p["monthly"]:
        assert month["p5"] <= month["p25"] <= month["p50"] <= month["p75"] <= month["p95"]
    assert p["var95"] <= p["cvar95"] <= p["cvar99"] and p["p5"] <= p["p50"] <= p["p95"] == p["var95"]


def test_payload_keys(kit: Any, hand_ledger: pl.DataFrame) -> None:
    payload = simulate("pcmdp_window_2026", hand_ledger, draws=200, seed=0, switches=None).payload()
    for key in (
        "mean",
        "p5",
        "p50",
        "p95",
        "var95",
        "cvar95",
        "var99",
        "cvar99",
        "by_branch",
        "by_mineral",
        "tornado",
        "monthly",
        "by_origin",
        "by_supplier",
        "switching",
        "prices",
        "definitions",
    ):
        assert key in payload, key
    assert set(payload["tornado"]) == {"one_at_a_time", "rank_correlation"}
    assert "percentile" in payload["definitions"]["var95"]
    assert [m["month"] for m in payload["monthly"]][:2] == ["2026-07", "2026-08"] and len(
        payload["monthly"]
    ) == 12
