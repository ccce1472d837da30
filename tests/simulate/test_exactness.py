"""The simulation reproduces the duty engine: exactly with fixed inputs, and draw by draw with prices,
volumes, floor levels, quota sizes and mechanisms all drawn."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from critmin.duty.engine import evaluate
from critmin.policy import load_scenario
from critmin.policy.params import Override
from critmin.policy.trees import load_tree, paths
from critmin.simulate import simulate
from critmin.simulate.cells import place
from critmin.simulate.draws import sample_draws
from critmin.simulate.montecarlo import build

HEAD = """tree:
  id: t
  title: test tree
  note: example probabilities for a test
  start: 2026-07-01
  months: 12
"""


def test_one_certain_branch_equals_the_engine(kit: Any, hand_ledger: pl.DataFrame, tmp_path: Path) -> None:
    tree = kit.write_tree(
        tmp_path,
        HEAD
        + """  root:
    id: tariff
    scenario: s232_tariff_non_partners
    params: {rate: 0.3, derivative_rate: 0.2}
""",
    )
    result = simulate(tree, hand_ledger, draws=50, seed=1, uncertainty=kit.fixed, sensitivity=False)
    # AUS is a partner (no tariff); the oxide is MFN-free, neodymium metal pays 5% MFN:
    #   CHN oxide   36,000 x 0.30                    = 10,800
    #   CHN Nd      50,000 x 0.05 + 50,000 x 0.30    = 17,500
    #   VNM Nd      45,000 x 0.05 + 45,000 x 0.30    = 15,750
    hand = 10_800 + 17_500 + 15_750
    placed = place(hand_ledger, result_horizon(tree)).frame
    engine = kit.engine_cost(placed, paths(load_tree(tree))[0])
    assert engine == pytest.approx(hand, rel=1e-12)
    for key in ("mean", "p5", "p50", "p95", "var95", "cvar95", "var99", "cvar99"):
        assert result.summary[key] == pytest.approx(engine, rel=1e-12), key
    assert result.summary["sd"] == pytest.approx(0.0, abs=1e-6)


def result_horizon(tree: Path) -> Any:
    from critmin.simulate.cells import Horizon

    parsed = load_tree(tree)
    return Horizon.of(parsed.start, parsed.months)


def _dated_ledger(kit: Any) -> pl.DataFrame:
    """Processed rare earths over several months, unit prices on both sides of the 110 USD/kg NdPr floor."""
    rows = []
    specs = [  # (month, hts, origin, supplier, kg, usd)
        (8, kit.oxide, "AUS", "Lynas", 900.0, 72_000.0),  # 80 USD/kg
        (9, kit.oxide, "CHN", "Baotou", 700.0, 42_000.0),
        (10, kit.oxide, "AUS", "Lynas", 400.0, 48_000.0),  # 120 USD/kg: above the floor
        (10, kit.nd_metal, "CHN", "Baotou", 500.0, 50_000.0),
        (11, kit.oxide, "CAN", "Niocorp", 600.0, 54_000.0),  # 90 USD/kg
        (12, kit.oxide, "CHN", "Ganzhou", 800.0, 44_000.0),
        (1, kit.nd_metal, "VNM", "Hanoi", 300.0, 27_000.0),
        (2, kit.oxide, "AUS", "Lynas", 500.0, 52_500.0),  # 105 USD/kg
        (3, kit.oxide, "CHN", "Baotou", 900.0, 49_500.0),
    ]
    for i, (month, hts, origin, supplier, kg, usd) in enumerate(specs):
        year = 2025 if month >= 7 else 2026
        rows.append(kit.line(i, dt.date(year, month, 10 + i), hts, origin, supplier, kg, usd))
    return kit.ledger(rows)


DRAWN = """  uncertainty:
    prices: {scale: 1.0}
    volumes: {sd: 0.25, common_share: 0.3}
  root:
    id: now
    scenario: status_quo
    children:
      - id: quota
        probability: 0.5
        date: 2026-09-15
        scenario: trq
        params:
          quota_kg: {dist: uniform, low: 400, high: 3000}
          partner_share: {dist: uniform, low: 0.3, high: 0.9}
          others_share: 0.1
          over_quota_rate: {dist: triangular, low: 0.2, mode: 0.4, high: 0.7}
          in_quota_rate: 0.05
      - id: floors
        probability: 0.5
        date: 2026-10-01
        scenario: price_floor_partners_tariff_others
        params:
          reference_prices.ndpr_oxide: {dist: triangular, low: 70, mode: 110, high: 150}
          non_partner_rate: {dist: uniform, low: 0.1, high: 0.5}
          floor_mechanism: {dist: choice, values: [variable_levy, price_undertaking, minimum_import_price]}
"""


def _engine_per_draw(built: Any, draws: Any) -> list[tuple[float, str, dict[str, Any]]]:
    """For each draw, re-price the placed lines (value x price x volume, quantities x volume), set the drawn
    parameters and run the engine per segment: (its cost, the path's leaf, the parameter values used)."""
    frame = built.base.placed.frame
    geo = built.base.geo
    out = []
    for d in range(draws.n):
        path = built.plan.paths[int(draws.path[d])]
        m = draws.price[d][geo.line_mineral, geo.line_month]
        v = draws.volume[d][geo.line_mineral]
        repriced = frame.with_columns(
            pl.Series("customs_value_usd", frame.get_column("customs_value_usd").to_numpy() * m * v),
            *[pl.Series(c, frame.get_column(c).to_numpy() * v) for c in ("quantity", "quantity_kg")],
        ).drop("source_line_id", "weight", "month")
        expected = 0.0
        used: dict[str, Any] = {}
        for segment in path.segments:
            index = 0
            for choice in segment.choices:
                index = index * len(choice.dist.values) + int(draws.choices[choice.name][d])
            variant = segment.variants[index]
            values = {
                k: float(draws.params[f"{segment.node_id}.{k}"][d])
                if f"{segment.node_id}.{k}" in draws.params
                else v
                for k, v in variant.overrides.items()
            }
            used |= values
            measures = load_scenario(segment.scenario, [Override(k, v, "") for k, v in values.items()])
            dates = repriced.get_column("entry_date")
            inside = (dates >= segment.start) & ((dates < segment.end) if segment.end else True)
            totals = evaluate(repriced.filter(inside), measures).totals()
            expected += totals["duty"] + totals["paid_to_exporter"]
        out.append((expected, path.leaf, used))
    return out


def test_floor_and_quota_draws_match_the_engine_draw_by_draw(kit: Any, tmp_path: Path) -> None:
    built = build(kit.write_tree(tmp_path, HEAD + DRAWN), _dated_ledger(kit))
    draws = sample_draws(built.plan, built.prices, built.uncertainty.volumes, 24, seed=11)
    cost = built.base.run(draws).cost
    checked = {"quota": 0, "floors": 0}
    mechanisms = set()
    for d, (expected, leaf, values) in enumerate(_engine_per_draw(built, draws)):
        assert cost[d] == pytest.approx(expected, rel=1e-11), (d, leaf)
        checked[leaf] += 1
        mechanisms.add(values.get("floor_mechanism"))
    assert checked["quota"] >= 5 and checked["floors"] >= 5
    assert {"variable_levy", "price_undertaking", "minimum_import_price"} <= mechanisms
    # the draws moved prices and volumes, and the quota bound: some lines were partly inside
    assert np.ptp(draws.price) > 0.1 and np.ptp(draws.volume) > 0.1


BACKSTOP = """  uncertainty:
    prices: {scale: 1.0}
    volumes: {sd: 0.25, common_share: 0.3}
  root:
    id: now
    scenario: status_quo
    children:
      - id: template
        probability: 1.0
        date: 2026-08-01
        scenario: polysilicon_template_pcmdp
        params:
          start_date: 2026-08-01
          rate: {dist: choice, values: [0.15, 0.30]}
"""


def test_minimum_price_backstop_draws_match_the_engine_draw_by_draw(kit: Any, tmp_path: Path) -> None:
    """The backstop pays max(rate x value, F x kg - value): as prices are drawn, lines cross from one side to
    the other (at 30%, oxide at 80 USD/kg pays the 110 USD/kg minimum price, 30 > 24 USD/kg; at 105 USD/kg
    the ad valorem part, 31.50 > 5 USD/kg), and the simulation must follow the engine both ways."""
    built = build(kit.write_tree(tmp_path, HEAD + BACKSTOP), _dated_ledger(kit))
    draws = sample_draws(built.plan, built.prices, built.uncertainty.volumes, 40, seed=5)
    cost = built.base.run(draws).cost
    rates = set()
    for d, (expected, leaf, values) in enumerate(_engine_per_draw(built, draws)):
        assert cost[d] == pytest.approx(expected, rel=1e-11), (d, leaf)
        rates.add(values["rate"])
    assert rates == {0.15, 0.30}
    assert np.ptp(draws.price) > 0.1


def test_hand_worked_floor_and_quota(kit: Any, hand_ledger: pl.DataFrame, tmp_path: Path) -> None:
    quota = kit.write_tree(
        tmp_path,
        HEAD
        + """  root:
    id: q
    scenario: trq
    params: {quota_kg: 1000, partner_share: 0.8, others_share: 0.2, in_quota_rate: 0.0, over_quota_rate: 0.5}
""",
        "quota.yaml",
    )
    result = simulate(quota, hand_ledger, draws=20, seed=0, uncertainty=kit.fixed, sensitivity=False)
    # Partners' allocation 0.8 x 1000 = 800 kg; everyone else's 0.2 x 1000 = 200 kg; filled in date order.
    #   AUS oxide 1000 kg, 80,000 USD: 800 in, 200 over -> 0.5 x 80,000 x 200/1000 =  8,000
    #   CHN oxide  600 kg, 36,000 USD: 200 in, 400 over -> 0.5 x 36,000 x 400/600  = 12,000
    #   CHN Nd     500 kg: the others' 200 kg are used up -> 0.5 x 50,000           = 25,000
    #   VNM Nd     500 kg                                  -> 0.5 x 45,000           = 22,500
    assert result.by_measure["pcmdp_trq_rare_earths"] == pytest.approx(8_000 + 12_000 + 25_000 + 22_500)
    # plus 5% MFN on the two neodymium lines
    assert result.summary["mean"] == pytest.approx(67_500 + 2_500 + 2_250)

    floors = kit.write_tree(
        tmp_path,
        HEAD
        + """  root:
    id: f
    scenario: price_floor_partners_tariff_others
    params: {non_partner_rate: 0.25, floor_mechanism: price_undertaking}
""",
        "floors.yaml",
    )
    result = simulate(floors, hand_ledger, draws=20, seed=0, uncertainty=kit.fixed, sensitivity=False)
    # AUS oxide at 80 USD/kg under the 110 USD/kg NdPr oxide floor: (110 - 80) x 1000 kg paid to the exporter
    assert result.by_measure["pcmdp_floor_partners"] == pytest.approx(30_000)
    # non-partners pay 25%: 0.25 x (36,000 + 50,000 + 45,000); MFN 5% on neodymium metal
    assert result.summary["mean"] == pytest.approx(30_000 + 0.25 * 131_000 + 2_500 + 2_250)


FIXED_TREE = """  root:
    id: now
    scenario: status_quo
    children:
      - id: none
        probability: 0.4
      - id: tariff
        probability: 0.35
        date: 2026-09-01
        scenario: s232_tariff_non_partners
        params: {rate: 0.35, derivative_rate: 0.2}
        children:
          - {id: stays, probability: 0.6}
          - id: then_quota
            probability: 0.4
            date: 2027-01-01
            scenario: trq
            params: {quota_kg: 1500, over_quota_rate: 0.6}
      - id: floors
        probability: 0.25
        date: 2026-10-01
        scenario: price_floor_partners_tariff_others
        params: {non_partner_rate: 0.3, floor_mechanism: variable_levy}
"""


def test_degenerate_inputs_reproduce_every_branch_exactly(kit: Any, tmp_path: Path) -> None:
    tree_path = kit.write_tree(tmp_path, HEAD + FIXED_TREE)
    ledger = _dated_ledger(kit)
    result = simulate(tree_path, ledger, draws=400, seed=5, uncertainty=kit.fixed, sensitivity=False)
    tree = load_tree(tree_path)
    placed = place(ledger, result_horizon(tree_path)).frame
    for branch, path in zip(result.by_branch, paths(tree), strict=True):
        engine = kit.engine_cost(placed, path)
        assert branch["central"] == pytest.approx(engine, rel=1e-12), branch["branch"]
        assert branch["mean"] == pytest.approx(engine, rel=1e-12), branch["branch"]
        assert branch["p5"] == pytest.approx(engine, rel=1e-12) and branch["p95"] == pytest.approx(
            engine, rel=1e-12
        )
    # the branches differ, so the test would notice a wrong path
    assert len({round(b["mean"]) for b in result.by_branch}) == len(result.by_branch)
