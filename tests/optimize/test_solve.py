"""Sourcing optimisation on small problems whose optimum is worked out by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from critmin.optimize import solve
from critmin.optimize.model import Problem
from critmin.optimize.solve import cvar, frontier

from .conftest import option, problem


def test_cheapest_landed_cost_wins_until_capacity() -> None:
    # China $50 + 25% Section 301 = $62.50 landed, capacity 80; Japan $60 + 2.1% = $61.26, capacity 50
    p = problem([option("cn", "China", 50, 80, duty=12.5), option("jp", "Japan", 60, 50, duty=1.26)])
    s = solve(p)
    assert s.status == "optimal"
    # Japan first (61.26 < 62.50): 50 units; China the remaining 50
    assert s.mix["jp"]["quantity"] == pytest.approx(50)
    assert s.mix["cn"]["quantity"] == pytest.approx(50)
    # cost = 50 x 61.26 + 50 x 62.50 = 3,063 + 3,125 = 6,188
    assert s.expected_cost == pytest.approx(6188.0)
    # one more unit of Japanese capacity saves 62.50 - 61.26 = 1.24
    assert s.binding["capacity[jp,2026]"]["shadow_price"] == pytest.approx(-1.24)


def test_feoc_cap_and_its_shadow_price_checked_by_resolving() -> None:
    opts = [option("cn", "China", 40, 100), option("au", "Australia", 55, 100)]
    capped = problem(opts, constraints={"max_share_feoc": 0.3})
    s = solve(capped)
    # at most 30 units from China: 30 x 40 + 70 x 55 = 1,200 + 3,850 = 5,050
    assert s.mix["cn"]["quantity"] == pytest.approx(30)
    assert s.expected_cost == pytest.approx(5050.0)
    entry = s.binding["feoc_cap[ndfeb,2026]"]
    # each extra unit under the cap swaps $55 for $40: shadow price -15; one point of share = 1 unit
    assert entry["shadow_price"] == pytest.approx(-15.0)
    assert entry["change_per_point"] == pytest.approx(-15.0)
    relaxed = solve(problem(opts, constraints={"max_share_feoc": 0.31}))
    assert relaxed.expected_cost == pytest.approx(s.expected_cost + entry["change_per_point"])


def test_qualification_cost_is_paid_only_when_worth_it() -> None:
    opts = [
        option("cur", "Japan", 60, 100),
        option("new", "Australia", 50, 100, qualified=False, qualification_cost=500),
    ]
    # saving 10 a unit on 100 units = 1,000 > 500: qualify; cost 100 x 50 + 500 = 5,500
    s = solve(problem(opts))
    assert set(s.mix) == {"new"} and s.expected_cost == pytest.approx(5500.0)
    # on 40 units the saving is 400 < 500: stay; cost 40 x 60 = 2,400
    s = solve(problem(opts, demand=40))
    assert set(s.mix) == {"cur"} and s.expected_cost == pytest.approx(2400.0)


def test_partner_floor_and_dfars_ban_from_its_date() -> None:
    opts = [option("cn", "China", 40, 100), option("kr", "Korea, South", 50, 100)]
    s = solve(problem(opts, constraints={"min_share_partners": 0.6}))
    # Korea is an FTA partner: at least 60 units from Korea -> 40 x 40 + 60 x 50 = 4,600
    assert s.mix["kr"]["quantity"] == pytest.approx(60) and s.expected_cost == pytest.approx(4600.0)
    ban = {"constraints": {"dfars_ban": True}, "dfars_products": ["ndfeb"]}
    before = solve(problem(opts, **ban, period_dates={"2026": "2026-06-01"}))
    after = solve(problem(opts, **ban, period_dates={"2026": "2027-03-01"}))
    assert before.mix["cn"]["quantity"] == pytest.approx(100)
    assert "cn" not in after.mix and after.mix["kr"]["quantity"] == pytest.approx(100)


def test_infeasible_problem_names_the_conflict() -> None:
    opts = [option("cn", "China", 40, 1000), option("jp", "Japan", 60, 50)]
    s = solve(problem(opts, constraints={"max_share_feoc": 0.3}))
    # FEOC cap allows 30 from China, Japan has 50: 80 < 100 demand
    assert s.status == "infeasible"
    assert "exceeds what the other rules allow (80)" in s.message
    assert "short by 20" in s.message
    assert "FEOC share cap" in s.message and "supplier capacities" in s.message


def test_shortfall_penalty_makes_it_feasible() -> None:
    opts = [option("jp", "Japan", 60, 50)]
    p = Problem.model_validate(
        {
            "name": "t",
            "as_of": "2026-06-01",
            "options": opts,
            "demand": [{"product": "ndfeb", "period": "2026", "quantity": 100, "shortfall_penalty": 200}],
        }
    )
    s = solve(p)
    # 50 bought at 60, 50 short at 200: 3,000 + 10,000 = 13,000
    assert s.expected_cost == pytest.approx(13000.0)
    assert s.shortfall == {"ndfeb,2026": pytest.approx(50)}


def test_cvar_by_hand() -> None:
    # costs 100 (p .5), 200 (p .3), 400 (p .2); CVaR 90%: worst 10% -> 400
    assert cvar(np.array([100.0, 200, 400]), np.array([0.5, 0.3, 0.2]), 0.9) == pytest.approx(400.0)
    # CVaR 70%: worst 30% = 0.2 at 400 + 0.1 at 200 -> (80 + 20)/0.3 = 333.33
    assert cvar(np.array([100.0, 200, 400]), np.array([0.5, 0.3, 0.2]), 0.7) == pytest.approx(1000 / 3)


def test_risk_price_trades_cost_for_tail_risk_and_frontier_is_monotone() -> None:
    # China is cheap today but a tariff scenario (p 0.3) adds $30; Australia costs $52 in both
    opts = [
        option("cn", "China", 40, 100, duty=0, duties={"tariff": 30}),
        option("au", "Australia", 52, 100, duty=0, duties={"tariff": 0}),
    ]
    scen = [{"name": "in_force", "probability": 0.7}, {"name": "tariff", "probability": 0.3}]
    p = problem(opts, scenarios=scen, cvar_alpha=0.9)
    cheap = solve(p, risk_price=0.0)
    # expected China = 40 + 0.3 x 30 = 49 < 52 -> all China; CVaR90 = cost in tariff scenario = 7,000
    assert cheap.mix["cn"]["quantity"] == pytest.approx(100)
    assert cheap.expected_cost == pytest.approx(4900.0) and cheap.risk == pytest.approx(7000.0)
    safe = solve(p, risk_price=10.0)
    assert safe.mix["au"]["quantity"] == pytest.approx(100) and safe.risk == pytest.approx(5200.0)
    points = frontier(p, 6)
    costs = [pt["expected_cost"] for pt in points]
    risks = [pt["risk"] for pt in points]
    assert costs == sorted(costs) and risks == sorted(risks, reverse=True)
    assert costs[0] == pytest.approx(4900.0) and risks[-1] == pytest.approx(5200.0)


def test_switching_limit_from_current_mix() -> None:
    opts = [option("cn", "China", 40, 100), option("au", "Australia", 35, 100)]
    s = solve(problem(opts, current_mix={"cn": 100}, constraints={"max_switch_share": 0.25}))
    # at most 25 units may move from China to the cheaper Australia: 75 x 40 + 25 x 35 = 3,875
    assert s.mix["au"]["quantity"] == pytest.approx(25) and s.expected_cost == pytest.approx(3875.0)


def test_bad_problem_file_fails_clearly(tmp_path: Any) -> None:
    from critmin.errors import InputError
    from critmin.optimize import load_problem

    path = tmp_path / "p.yaml"
    path.write_text("name: x\nas_of: 2026-01-01\noptions: []\ndemand: []\n")
    with pytest.raises(InputError, match=r"p\.yaml: field `options`"):
        load_problem(path)


def test_landed_cost_comes_from_the_duty_engine() -> None:
    from critmin.optimize import load_problem
    from critmin.optimize.landed import landed_costs, option_attributes
    from critmin.paths import SAMPLES_DIR

    p = load_problem(SAMPLES_DIR / "sourcing" / "ndfeb_magnets.yaml")
    attrs = option_attributes(p)
    duty = landed_costs(p, attrs)
    ids = [o.id for o in p.options]
    in_force = duty[:, 0]
    # Chinese sintered NdFeB magnet on 2026-09-01: MFN 2.1% + Section 301 25% (from 2026-01-01) = 27.1%
    # of the $52 unit value = $14.092 a unit
    assert in_force[ids.index("cn-ningbo")] == pytest.approx(52 * 0.271, abs=1e-6)
    # Japanese magnet: MFN 2.1% only = $1.638
    assert in_force[ids.index("jp-shinetsu")] == pytest.approx(78 * 0.021, abs=1e-6)
    assert attrs.filter(attrs["option"] == "cn-ningbo")["feoc@2026-09-01"].item() is True
    solution = solve(p)
    assert solution.status == "optimal"
    # DFARS: nothing from China in 2027
    for option_id in ("cn-ningbo", "cn-baotou"):
        assert "2027" not in solution.mix.get(option_id, {}).get("by_period", {})
