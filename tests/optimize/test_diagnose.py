"""An infeasible problem names the rules that jointly cause it, by product and period, and only those."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.optimize import solve
from critmin.optimize.diagnose import _block, _deletion_filter, _highs_iis
from critmin.optimize.model import Problem
from critmin.optimize.solve import build

from .conftest import option, problem


def _magnets_and_oxide() -> Problem:
    """NdFeB magnets cannot be covered; dysprosium oxide is fine but has a binding cap of its own."""
    opts = [
        option("cn", "China", 40, 1000),
        option("jp", "Japan", 60, 50),
        option("au-dy", "Australia", 12, 1000, product="dy_oxide"),
        option("ca-dy", "Canada", 20, 1000, product="dy_oxide"),
    ]
    return Problem.model_validate(
        {
            "name": "t",
            "as_of": "2026-06-01",
            "options": opts,
            "demand": [
                {"product": "ndfeb", "period": "2026", "quantity": 100},
                {"product": "dy_oxide", "period": "2026", "quantity": 100},
            ],
            "constraints": {"max_share_feoc": 0.3, "max_share_supplier": 0.8},
        }
    )


def test_names_the_causing_rules_and_not_a_bystander_cap_on_another_product() -> None:
    s = solve(_magnets_and_oxide())
    assert s.status == "infeasible"
    # magnets: the FEOC cap allows 30% x 100 = 30 from China, Japan has 50: 30 + 50 = 80 < 100
    assert "demand for ndfeb in 2026 (100) exceeds what the other rules allow (80); short by 20" in s.message
    assert "FEOC share cap for ndfeb in 2026: at most 30% of demand (30 units)" in s.message
    assert "capacity of option jp (supplier jp, Japan) in 2026: at most 50 units" in s.message
    assert "raise constraints.max_share_feoc" in s.message
    # the oxide's supplier cap (Australia at most 80% = 80 units) binds but plays no part
    assert "dy_oxide" not in s.message and "au-dy" not in s.message
    assert "per-supplier share cap" not in s.message
    assert len(s.conflicts) == 3  # demand, Japan's capacity, the FEOC cap
    assert not any("dy_oxide" in line for line in s.conflicts)


def test_highs_iis_and_the_deletion_filter_agree() -> None:
    model = build(_magnets_and_oxide())
    rows = model.rows
    block_rows = np.flatnonzero((rows.per_row("product") == 1) & (rows.per_row("period") == 0))  # ndfeb 2026
    block = _block(model, block_rows)
    by_highs = _highs_iis(block)
    assert by_highs is not None
    by_deletion = _deletion_filter(block, integer=False)
    labels = {rows.label(int(block.rows[r])) for r in by_deletion}
    assert labels == {rows.label(int(block.rows[r])) for r in by_highs if not block.structural[r]}
    assert labels == {"demand[ndfeb,2026]", "capacity[jp,2026]", "feoc_cap[ndfeb,2026]"}


def test_a_minimum_order_above_demand_is_named_without_the_capacity() -> None:
    # the only option has a 60-unit minimum and capacity 100; demand is 40: buying 0 or >= 60, never 40
    s = solve(problem([option("jp", "Japan", 40, 100, min_order=60)], demand=40))
    assert s.status == "infeasible"
    assert "demand for ndfeb in 2026 (40) exceeds what the other rules allow (0); short by 40" in s.message
    assert "minimum order of option jp (supplier jp, Japan) in 2026: at least 60 units" in s.message
    assert "lower min_order of jp" in s.message
    assert "capacity of option" not in s.message  # 100 units is plenty; it is not part of the conflict
    assert len(s.conflicts) == 2


def test_switching_limit_against_a_country_cap() -> None:
    # today all 100 units come from China; the country cap allows 50% x 100 = 50, so 50 must move,
    # but the switching limit lets only 25% x 100 = 25 move
    opts = [option("cn", "China", 40, 200), option("au", "Australia", 50, 200)]
    p = problem(
        opts, current_mix={"cn": 100}, constraints={"max_share_country": 0.5, "max_switch_share": 0.25}
    )
    s = solve(p)
    assert s.status == "infeasible"
    assert "the rules for ndfeb in 2026 conflict: the per-country share cap, the switching limit" in s.message
    assert "per-country share cap for ndfeb in 2026: at most 50% of demand (50 units) from CHN" in s.message
    assert "switching limit for ndfeb in 2026: at most 25% of demand (25 units)" in s.message
    assert "capacity" not in s.message and "demand for ndfeb in 2026: 100 units" not in s.message


def test_partner_floor_without_any_partner_option_is_reported() -> None:
    # no option is from an agreement partner, so a 60% floor (60 units) cannot be met
    s = solve(problem([option("cn", "China", 40, 100)], constraints={"min_share_partners": 0.6}))
    assert s.status == "infeasible"
    assert "agreement-partner share floor for ndfeb in 2026: at least 60% of demand (60 units)" in s.message
    assert "no option is in us_fta, us_cm_frameworks" in s.message


@pytest.mark.parametrize("penalty", [None, 200.0])
def test_a_priced_shortfall_is_not_a_conflict(penalty: float | None) -> None:
    opts = [option("cn", "China", 40, 1000), option("jp", "Japan", 60, 50)]
    p = Problem.model_validate(
        {
            "name": "t",
            "as_of": "2026-06-01",
            "options": opts,
            "demand": [{"product": "ndfeb", "period": "2026", "quantity": 100, "shortfall_penalty": penalty}],
            "constraints": {"max_share_feoc": 0.3},
        }
    )
    s = solve(p)
    if penalty is None:
        assert s.status == "infeasible"
    else:
        # 30 from China at $40 + 50 from Japan at $60 + 20 short at $200 = 1,200 + 3,000 + 4,000 = $8,200
        assert s.status == "optimal" and s.expected_cost == pytest.approx(8200.0)
