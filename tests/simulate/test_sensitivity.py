"""Tornado (one at a time, exact expected cost) and rank correlation on a hand-built case."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from critmin.simulate import simulate
from critmin.simulate.sensitivity import ranks, spearman

TREE = """tree:
  id: sens
  title: sensitivity test
  note: example probabilities for a test
  start: 2026-07-01
  months: 12
  root:
    id: now
    scenario: status_quo
    children:
      - id: a
        probability: 0.5
        date: 2026-08-01
        scenario: s232_tariff_non_partners
        params:
          rate: {dist: uniform, low: 0.1, high: 0.7}
      - id: b
        probability: 0.5
        date: 2026-08-01
        scenario: price_floor_partners_tariff_others
        params:
          non_partner_rate: {dist: uniform, low: 0.2, high: 0.3}
          floor_mechanism: {dist: choice, values: [variable_levy, price_undertaking]}
"""
V = 36_000 + 50_000 + 45_000  # customs value of the non-partner lines (CHN oxide, CHN Nd, VNM Nd)
MFN = 0.05 * (50_000 + 45_000)  # neodymium metal
FLOOR = (110 - 80) * 1000  # AUS oxide at 80 USD/kg under the 110 USD/kg floor


def test_tornado_bars_by_hand(kit: Any, hand_ledger: pl.DataFrame, tmp_path: Path) -> None:
    result = simulate(kit.write_tree(tmp_path, TREE), hand_ledger, draws=4000, seed=2, uncertainty=kit.fixed)
    bars = {bar["input"]: bar for bar in result.tornado["one_at_a_time"]}
    # central inputs: rate = 0.4, non_partner_rate = 0.25
    cost_a = 0.4 * V + MFN
    cost_b = 0.25 * V + MFN + FLOOR
    base = 0.5 * cost_a + 0.5 * cost_b
    rate = bars["a.rate"]  # 5th/95th percentiles of U(0.1, 0.7): 0.13 and 0.67; branch a has probability 0.5
    assert (rate["low"], rate["high"]) == ("0.13", "0.67")
    assert rate["base"] == pytest.approx(base)
    assert rate["cost_low"] == pytest.approx(base + 0.5 * (0.13 - 0.4) * V)
    assert rate["cost_high"] == pytest.approx(base + 0.5 * (0.67 - 0.4) * V)
    assert rate["swing"] == pytest.approx(0.5 * 0.54 * V)  # 35,370
    npr = bars["b.non_partner_rate"]  # U(0.2, 0.3): 0.205 and 0.295
    assert npr["swing"] == pytest.approx(0.5 * 0.09 * V)  # 5,895
    branch = bars["branch"]  # cheapest and costliest path at central inputs
    assert (branch["low"], branch["high"]) == ("a", "b")
    assert branch["cost_low"] == pytest.approx(cost_a) and branch["cost_high"] == pytest.approx(cost_b)
    # a levy and an undertaking cost the importer the same (one pays customs, the other the exporter)
    assert bars["b.floor_mechanism"]["swing"] == pytest.approx(0.0, abs=1e-6)
    order = [bar["input"] for bar in result.tornado["one_at_a_time"]]
    assert order == ["a.rate", "branch", "b.non_partner_rate", "b.floor_mechanism"]

    rank = {item["input"]: item["spearman"] for item in result.tornado["rank_correlation"]}
    assert rank["a.rate"] > abs(rank["b.non_partner_rate"]) > 0
    assert result.tornado["rank_correlation"][0]["input"] in {"a.rate", "branch"}


def test_price_and_volume_bars(kit: Any, hand_ledger: pl.DataFrame, tmp_path: Path) -> None:
    result = simulate(kit.write_tree(tmp_path, TREE), hand_ledger, draws=500, seed=2)
    bars = {bar["input"]: bar for bar in result.tornado["one_at_a_time"]}
    volume = bars["volume:rare_earths"]
    sd = 0.1  # the default volume spread: 5th/95th percentiles exp(-+1.645 x 0.1 - 0.1^2 / 2)
    assert volume["low"] == f"x{math.exp(-1.6448536269514722 * sd - sd**2 / 2):.3g}"
    assert volume["cost_high"] > volume["base"] > volume["cost_low"]
    assert bars["price:rare_earths"]["kind"] == "price" and bars["price:neodymium"]["swing"] > 0


def test_ranks_and_spearman() -> None:
    np.testing.assert_array_equal(ranks(np.array([10.0, 30.0, 20.0, 20.0])), [1.0, 4.0, 2.5, 2.5])
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman(x, ranks(x**3)) == pytest.approx(1.0)
    assert spearman(x, ranks(-x)) == pytest.approx(-1.0)
    assert spearman(np.ones(5), ranks(x)) is None
