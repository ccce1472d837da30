"""Investment appraisal against hand-computed cash flows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from critmin.errors import InputError
from critmin.invest import appraise, load_project
from critmin.invest.appraise import Branch, deterministic_flows, deterministic_npv, irr, payback_years
from critmin.invest.model import project_from_dict
from critmin.invest.prices import log_return_volatility
from critmin.paths import SAMPLES_DIR


def tiny(**changes: Any) -> dict[str, Any]:
    """One construction year, two operating years, 10 units a year at $10, capex 100 in year 0."""
    data: dict[str, Any] = {
        "name": "tiny",
        "product": "oxide",
        "stage": "oxide_salt_compound",
        "label": "test",
        "capacity_per_year": 10,
        "ramp_up": [1.0],
        "operations_start": 1,
        "operating_years": 2,
        "capex": [{"year": 0, "amount": 100}],
        "opex_fixed_per_year": 0,
        "opex_variable_per_unit": 0,
        "feedstock_cost_per_unit": 0,
        "tax_rate": 0,
        "depreciation_years": 2,
        "discount_rate": 0.10,
        "price": {"base": 10, "volatility": 0.0, "source": "test"},
    }
    data.update(changes)
    return data


def project(**changes: Any):  # type: ignore[no-untyped-def]
    return project_from_dict(tiny(**changes), "test")


def test_npv_irr_payback_lcop_by_hand() -> None:
    p = project()
    flows = deterministic_flows(p)
    # revenue 10 units x $10 = 100 in years 1 and 2; capex 100 in year 0
    np.testing.assert_allclose(flows.net[0], [-100, 100, 100])
    # NPV = -100 + 100/1.1 + 100/1.21 = -100 + 90.9091 + 82.6446 = 73.5537
    assert deterministic_npv(p) == pytest.approx(73.553719, abs=1e-6)
    # IRR: -100 + 100x + 100x^2 = 0 with x = 1/(1+r) -> x = (sqrt(5)-1)/2 -> r = 0.618034
    assert irr(flows.net[0]) == pytest.approx((np.sqrt(5) - 1) / 2, abs=1e-9)
    # cumulative -100, 0, 100 -> paid back exactly at the end of year 1
    assert payback_years(flows.net[0]) == pytest.approx(1.0)
    # LCOP = PV(costs) / PV(volume) = 100 / (10/1.1 + 10/1.21) = 100 / 17.3554 = 5.7619
    result = appraise(p)
    assert result.lcop == pytest.approx(100 / (10 / 1.1 + 10 / 1.21))


def test_tax_with_straight_line_depreciation() -> None:
    p = project(tax_rate=0.2)
    # depreciation 100/2 = 50 a year; taxable 100 - 50 = 50; tax 20% = 10; net 90
    np.testing.assert_allclose(deterministic_flows(p).net[0], [-100, 90, 90])


def test_tax_loss_is_carried_forward() -> None:
    p = project(tax_rate=0.2, ramp_up=[0.3, 1.0])
    # year 1: revenue 30 - dep 50 = -20 (no tax, loss 20 carried); year 2: 100 - 50 - 20 = 30 -> tax 6
    flows = deterministic_flows(p)
    np.testing.assert_allclose(flows.tax[0], [0, 0, 6])
    np.testing.assert_allclose(flows.net[0], [-100, 30, 94])


def test_floor_top_up_and_its_value() -> None:
    p = project(floor={"level": 12, "start_year": 1, "years": 1, "volume_share": 0.5, "source": "t"})
    # year 1 top-up: 10 units x 50% x (12 - 10) = 10
    np.testing.assert_allclose(deterministic_flows(p).floor_payment[0], [0, 10, 0])
    assert appraise(p).floor_value == pytest.approx(10 / 1.1)


def test_floor_below_the_price_path_has_zero_value() -> None:
    p = project(floor={"level": 8, "start_year": 1, "years": 2, "source": "t"})
    result = appraise(p, draws=0)
    assert result.floor_value == 0.0
    # with price risk, a floor far below every path is still worth nothing
    p2 = project(
        floor={"level": 0.01, "start_year": 1, "years": 2, "source": "t"},
        price={"base": 10, "volatility": 0.2, "source": "t"},
    )
    assert appraise(p2, draws=2000, seed=3).floor_value == 0.0


def test_breakeven_floor_makes_npv_zero() -> None:
    p = project(price={"base": 4, "volatility": 0.0, "source": "t"})
    # NPV without floor = -100 + 40/1.1 + 40/1.21 = -30.58; with a floor F on all output for two years
    # NPV(F) = -100 + 10 F (1/1.1 + 1/1.21) = 0 -> F = 100 / 17.3554 = 5.7619 (= LCOP here: no opex)
    result = appraise(p)
    assert result.breakeven_floor == pytest.approx(100 / (10 / 1.1 + 10 / 1.21), rel=1e-7)
    with_floor = project(
        price={"base": 4, "volatility": 0.0, "source": "t"},
        floor={"level": result.breakeven_floor, "start_year": 1, "years": 2, "source": "t"},
    )
    assert deterministic_npv(with_floor) == pytest.approx(0.0, abs=1e-6)
    assert appraise(project()).breakeven_floor is None  # already viable without a floor


def test_tariff_pass_through_and_offtakes() -> None:
    tariffed = project(tariff={"rate": 0.2, "pass_through": 0.5, "source": "t"})
    # domestic price 10 x (1 + 0.2 x 0.5) = 11 -> revenue 110
    np.testing.assert_allclose(deterministic_flows(tariffed).revenue[0], [0, 110, 110])
    contracted = project(
        offtakes=[{"name": "c", "volume_share": 0.5, "pricing": "fixed", "price": 20, "years": 1}]
    )
    # year 1: 5 units at 20 + 5 at 10 = 150; year 2 all merchant: 100
    np.testing.assert_allclose(deterministic_flows(contracted).revenue[0], [0, 150, 100])


def test_branches_and_expected_npv() -> None:
    p = project()
    branches = [
        Branch("status quo", 0.5, {}),
        Branch("tariff", 0.5, {"tariff": {"rate": 0.2, "pass_through": 0.5, "source": "scenario"}}),
    ]
    result = appraise(p, branches=branches)
    # the tariff branch adds 10 a year: 10/1.1 + 10/1.21 = 17.3554
    assert result.npv_by_branch["tariff"] - result.npv_by_branch["status quo"] == pytest.approx(
        17.355372, 1e-6
    )
    assert result.expected_npv == pytest.approx(73.553719 + 17.355372 / 2, abs=1e-5)
    with pytest.raises(ValueError, match="add up to"):
        appraise(p, branches=[Branch("a", 0.3, {})])


def test_monte_carlo_is_seeded_and_centred() -> None:
    p = project(price={"base": 10, "volatility": 0.3, "source": "t"}, operating_years=5)
    a = appraise(p, draws=5000, seed=7)
    b = appraise(p, draws=5000, seed=7)
    c = appraise(p, draws=5000, seed=8)
    assert (a.npv_p5, a.npv_p50, a.npv_p95) == (b.npv_p5, b.npv_p50, b.npv_p95)
    assert a.npv_p50 != c.npv_p50
    assert a.npv_p5 is not None and a.npv_p95 is not None and a.npv_p50 is not None
    assert a.npv_p5 < a.npv < a.npv_p95
    # simulated prices average to the price deck and this project is linear in price (no tax, no floor),
    # so the mean NPV matches the deterministic NPV up to Monte Carlo error
    assert a.npv_mean == pytest.approx(a.npv, rel=0.02)
    assert 0.0 <= (a.prob_npv_negative or 0.0) < 0.5


def test_volatility_from_log_returns() -> None:
    # NdPr 92, 124, 75, 55, 69: log returns 0.2985, -0.5028, -0.3102, 0.2268; mean -0.0719;
    # squared deviations 0.1371, 0.1858, 0.0567, 0.0891 -> sum 0.4688 / 3 = 0.1563 -> sd 0.3953
    assert log_return_volatility(np.array([92.0, 124, 75, 55, 69])) == pytest.approx(0.39532, abs=1e-4)


def test_invalid_projects_fail_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nproduct: y\nstage: oxide_salt_compound\nlabel: t\ncapacity_per_year: -5\n")
    with pytest.raises(InputError) as info:
        load_project(bad)
    message = str(info.value)
    assert "bad.yaml" in message and "capacity_per_year" in message and "greater than 0" in message
    with pytest.raises(InputError, match="fixed-price offtake needs `price`"):
        project(offtakes=[{"name": "c", "volume_share": 0.5, "pricing": "fixed", "years": 1}])
    with pytest.raises(InputError, match="does not exist"):
        load_project(tmp_path / "missing.yaml")


@pytest.mark.parametrize("name", ["ndpr_separation.yaml", "lioh_refinery.yaml"])
def test_sample_projects_appraise(name: str) -> None:
    p = load_project(SAMPLES_DIR / "projects" / name, {"price.volatility": 0.35})
    result = appraise(p, draws=500, seed=1)
    assert np.isfinite(result.npv) and result.lcop > 0
    assert result.tornado[0]["range"] >= result.tornado[-1]["range"]


def test_simulated_prices_average_to_the_price_deck() -> None:
    from critmin.invest.cashflow import median_price_path
    from critmin.invest.prices import price_paths

    p = project(
        operating_years=6,
        price={"base": 10, "drift": 0.05, "volatility": 0.4, "mean_reversion": 0.3, "source": "t"},
    )
    paths = price_paths(p, 0.4, draws=200_000, seed=11)
    deck = median_price_path(p)
    # year 1 is the known base price; later years average to base x e^(0.05 k) within 1%
    assert paths[:, 1] == pytest.approx(np.full(paths.shape[0], 10.0))
    np.testing.assert_allclose(paths.mean(axis=0)[1:], deck[1:], rtol=0.01)


def test_npv_by_branch_from_a_scenario_tree(tmp_path: Path) -> None:
    from critmin.invest.branches import branches_from_tree
    from critmin.policy.trees import load_tree

    tree_file = tmp_path / "tree.yaml"
    tree_file.write_text(
        "tree:\n  id: t\n  title: T\n  note: example\n  start: 2026-07-01\n  root:\n    id: r\n"
        "    scenario: status_quo\n    children:\n      - {id: calm, probability: 0.6}\n"
        "      - id: tariff\n        probability: 0.4\n        scenario: s232_tariff_non_partners\n"
        "        params: {rate: {dist: uniform, low: 0.1, high: 0.5}}\n"
    )
    p = project(
        tariff={"rate": 0.0, "pass_through": 0.5, "source": "t"},
        scenario_effects={"s232_tariff_non_partners": {"tariff.rate": "rate"}},
    )
    branches = branches_from_tree(p, load_tree(tree_file))
    assert [(b.name, b.probability) for b in branches] == [("calm", 0.6), ("tariff", 0.4)]
    # the uniform(0.1, 0.5) rate is taken at its mean 0.3
    assert branches[1].overrides["tariff.rate"] == pytest.approx(0.3, abs=1e-3)
    result = appraise(p, branches=branches)
    # rate 0.3 x pass-through 0.5 lifts the price 15%: +15 a year -> 15 x (1/1.1 + 1/1.21) = 26.033
    delta = result.npv_by_branch["tariff"] - result.npv_by_branch["calm"]
    assert delta == pytest.approx(15 * (1 / 1.1 + 1 / 1.21), rel=1e-3)
    assert result.expected_npv == pytest.approx(result.npv_by_branch["calm"] + 0.4 * delta)
