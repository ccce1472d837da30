"""The expected value of switching a supplier, by hand and against the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.errors import InputError
from critmin.simulate import Switch, simulate
from critmin.simulate.switching import candidates, switched_lines

TARIFF = """tree:
  id: t
  title: tariff only
  note: example for a test
  start: 2026-07-01
  months: 12
  root:
    id: tariff
    scenario: s232_tariff_non_partners
    params: {rate: 0.3}
"""


def test_switched_lines_take_the_target_origin_and_unit_value(hand_ledger: pl.DataFrame) -> None:
    moved = switched_lines(
        hand_ledger.with_columns(pl.lit(None, dtype=pl.String).alias("country_export")),
        Switch("Baotou", "Lynas"),
    )
    rows = moved.select(
        "line_id", "hts", "country_origin", "supplier", "quantity_kg", "customs_value_usd"
    ).rows()
    assert rows == [
        # Lynas ships the oxide from AUS at 80,000 / 1,000 kg = 80 USD/kg: 600 kg cost 48,000
        ("L2", "2846902040", "AUS", "Lynas", 600.0, 48_000.0),
        # Lynas does not ship neodymium metal: its main origin, the line's own value
        ("L3", "2805300020", "AUS", "Lynas", 500.0, 50_000.0),
    ]


def test_expected_value_of_switching(kit: Any, hand_ledger: pl.DataFrame, tmp_path: Path) -> None:
    tree = kit.write_tree(tmp_path, TARIFF)
    result = simulate(
        tree,
        hand_ledger,
        draws=100,
        seed=0,
        uncertainty=kit.fixed,
        switches=[Switch("Baotou", "Lynas")],
        sensitivity=False,
    )
    (switch,) = result.switching
    # before: CHN oxide 0.3 x 36,000 = 10,800; CHN Nd 5% MFN 2,500 + 0.3 x 50,000 = 17,500; VNM Nd 15,750
    # after:  AUS is a partner: no tariff; the Nd metal still pays 5% MFN (no preference claimed) = 2,500
    assert result.summary["mean"] == pytest.approx(10_800 + 17_500 + 15_750)
    assert switch["cost_after"] == pytest.approx(2_500 + 15_750)
    assert switch["expected_saving"] == pytest.approx(10_800 + 15_000)
    assert switch["probability_saving"] == 1.0 and switch["lines"] == 2
    # the oxide costs 12,000 more from Lynas (48,000 instead of 36,000): landed saving 25,800 - 12,000
    assert switch["expected_landed_saving"] == pytest.approx(13_800)


def test_switching_under_uncertainty_uses_the_same_draws(kit: Any, hand_ledger: pl.DataFrame) -> None:
    result = simulate(
        "pcmdp_window_2026", hand_ledger, draws=2000, seed=4, switches="auto", sensitivity=False
    )
    pairs = {(s["from"], s["to"]) for s in result.switching}
    # Each costly supplier goes to the one shipping most of its codes from another country: Baotou's oxide
    # and metal -> Lynas (AUS, 80,000 of oxide); Hanoi's metal -> Baotou; Lynas (floor levies) -> Baotou.
    assert pairs == {("Baotou", "Lynas"), ("Hanoi", "Baotou"), ("Lynas", "Baotou")}
    first = result.switching[0]
    assert first["saving_p5"] <= first["expected_saving"] <= first["saving_p95"]
    assert first["mc_error"] < abs(first["expected_saving"])


def test_candidates_and_errors(hand_ledger: pl.DataFrame) -> None:
    found = candidates(hand_ledger, {"Baotou": 50.0, "Hanoi": 10.0, "Lynas": 0.0})
    assert found == [Switch("Baotou", "Lynas"), Switch("Hanoi", "Baotou")]
    with pytest.raises(InputError, match="Did you mean 'Baotou'"):
        switched_lines(hand_ledger, Switch("Baotuo", "Lynas"))
    with pytest.raises(InputError, match="FROM=TO"):
        Switch.parse("Baotou")
