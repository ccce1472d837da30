"""The shipped tree `pcmdp_after_window` (the law in force on 2026-12-05, then illustrative 2027 branches)
simulates over a ledger, and its "no action" and polysilicon-template branches equal the duty engine."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from critmin.policy.trees import load_tree, paths
from critmin.simulate import simulate
from critmin.simulate.cells import Horizon, place


def test_no_action_and_polysilicon_branches_equal_the_engine(kit: Any, hand_ledger: pl.DataFrame) -> None:
    tree = load_tree("pcmdp_after_window")
    result = simulate(tree, hand_ledger, draws=400, seed=3, uncertainty=kit.fixed, switches=None)
    payload = result.payload()
    branches = {b["branch"]: b for b in payload["by_branch"]}
    assert set(branches) == {p.name for p in paths(tree)}
    # the hand ledger's November 2025 entries are placed in November 2027, inside every branch's scenario
    placed = place(hand_ledger, Horizon.of(tree.start, tree.months)).frame
    by_name = {p.name: p for p in paths(tree)}
    no_action = kit.engine_cost(placed, by_name["no_action"])
    assert branches["no_action"]["central"] == pytest.approx(no_action, rel=1e-12)
    assert branches["no_action"]["p5"] == pytest.approx(no_action, rel=1e-12)  # nothing is drawn
    # The polysilicon template from 2027-04-01; its rate is a choice (0.15, 0.10, 0.25 with weights 0.5,
    # 0.25, 0.25), each value run by the engine. Every line is a non-ally's NdPr oxide or Nd metal priced
    # below its minimum import price, so the backstop binds whatever the rate:
    #   AUS oxide  1,000 kg at  80 USD/kg: 110 x 1,000 - 80,000 = 30,000
    #   CHN oxide    600 kg at  60 USD/kg: 110 x   600 - 36,000 = 30,000
    #   CHN Nd metal 500 kg at 100 USD/kg: 140 x   500 - 50,000 = 20,000
    #   VNM Nd metal 500 kg at  90 USD/kg: 140 x   500 - 45,000 = 25,000
    # on top of the status quo (5% MFN on the two metal lines: 2,500 + 2,250).
    poly = by_name["polysilicon_template"]
    costs = {
        rate: kit.engine_cost(placed, poly, {"polysilicon_template": {"rate": rate}})
        for rate in (0.15, 0.10, 0.25)
    }
    assert costs[0.15] == pytest.approx(no_action + 30_000 + 30_000 + 20_000 + 25_000, rel=1e-12)
    assert costs[0.10] == pytest.approx(costs[0.15]) and costs[0.25] == pytest.approx(costs[0.15])
    central = 0.5 * costs[0.15] + 0.25 * costs[0.10] + 0.25 * costs[0.25]
    assert branches["polysilicon_template"]["central"] == pytest.approx(central, rel=1e-12)
    assert branches["polysilicon_template"]["mean"] == pytest.approx(central, rel=1e-12)
    assert [s["scenario"] for s in branches["polysilicon_template"]["segments"]] == [
        "status_quo",
        "polysilicon_template_pcmdp",
    ]
