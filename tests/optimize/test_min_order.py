"""Minimum orders bind only in the periods where an option supplies; purchases never exceed demand."""

from __future__ import annotations

from itertools import product as combinations

import numpy as np
import pytest
from scipy.optimize import linprog

from critmin.optimize import solve

from .conftest import option, periods


def test_a_period_without_demand_buys_nothing() -> None:
    # Australia $20 with a 50-unit minimum order, Japan $45; demand 100 in 2026 and none in 2027
    opts = [option("au", "Australia", 20, 100, min_order=50), option("jp", "Japan", 45, 100)]
    s = solve(periods(opts, {"2026": 100, "2027": 0}))
    assert s.status == "optimal"
    # 2026: 100 from Australia (100 >= its 50 minimum); 2027: no demand, so nothing at all
    assert s.mix["au"]["by_period"] == {"2026": pytest.approx(100)}
    assert s.mix["au"]["share"] == pytest.approx(1.0)
    assert "jp" not in s.mix
    # cost = 100 x $20 = $2,000
    assert s.expected_cost == pytest.approx(2000.0)


def test_cheaper_supplier_with_minimum_is_used_where_demand_reaches_it() -> None:
    # Australia $40 (capacity 120, minimum order 60) against Japan $50; demand 100, 40, 80
    opts = [option("au", "Australia", 40, 120, min_order=60), option("jp", "Japan", 50, 200)]
    s = solve(periods(opts, {"2026": 100, "2027": 40, "2028": 80}))
    assert s.status == "optimal"
    # 2026 and 2028 reach Australia's minimum; 2027 (40 < 60) goes to Japan
    assert s.mix["au"]["by_period"] == {"2026": pytest.approx(100), "2028": pytest.approx(80)}
    assert s.mix["jp"]["by_period"] == {"2027": pytest.approx(40)}
    # cost = 100 x $40 + 40 x $50 + 80 x $40 = 4,000 + 2,000 + 3,200 = $9,200
    assert s.expected_cost == pytest.approx(9200.0)
    # one more unit of demand costs Australia's $40 where it supplies and Japan's $50 in 2027
    assert s.binding["demand[ndfeb,2026]"]["shadow_price"] == pytest.approx(40.0)
    assert s.binding["demand[ndfeb,2027]"]["shadow_price"] == pytest.approx(50.0)
    assert s.binding["demand[ndfeb,2028]"]["shadow_price"] == pytest.approx(40.0)


@pytest.mark.parametrize(
    ("qualification_cost", "expected_cost", "uses_au"),
    [
        # saving (50 - 40) x (100 + 80) = $1,800 > $500: qualify once; 9,200 + 500 = $9,700
        (500.0, 9700.0, True),
        # $2,000 > $1,800 saving: stay with Japan; 220 x $50 = $11,000
        (2000.0, 11000.0, False),
    ],
)
def test_qualification_is_paid_once_across_the_periods_an_option_supplies(
    qualification_cost: float, expected_cost: float, uses_au: bool
) -> None:
    opts = [
        option(
            "au", "Australia", 40, 120, min_order=60, qualified=False, qualification_cost=qualification_cost
        ),
        option("jp", "Japan", 50, 200),
    ]
    s = solve(periods(opts, {"2026": 100, "2027": 40, "2028": 80}))
    assert s.expected_cost == pytest.approx(expected_cost)
    assert ("au" in s.mix) is uses_au


def _cheapest_by_enumeration(
    price: np.ndarray, capacity: np.ndarray, minimum: np.ndarray, demand: float
) -> float:
    """Independent oracle for one period: try every set of options that supply, each as a plain LP."""
    best = np.inf
    has_min = np.flatnonzero(minimum > 0)
    for on in combinations([False, True], repeat=has_min.size):  # 2^k choices, k <= 3 here
        lower = np.zeros(price.size)
        upper = capacity.copy()
        lower[has_min[list(on)]] = minimum[has_min[list(on)]]
        upper[has_min[~np.array(on, dtype=bool)]] = 0.0
        lp = linprog(
            price, A_eq=np.ones((1, price.size)), b_eq=[demand], bounds=np.column_stack([lower, upper])
        )
        if lp.success:
            best = min(best, float(lp.fun))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_multi_period_minimum_orders_match_period_by_period_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 4
    price = rng.integers(20, 60, n).astype(float)
    capacity = rng.integers(40, 120, n).astype(float)
    minimum = np.where(np.arange(n) < 3, rng.integers(10, 70, n), 0).astype(float)
    demand = {str(2026 + t): float(q) for t, q in enumerate(rng.integers(0, 100, 4))}
    opts = [
        option(f"o{i}", "Japan", float(price[i]), float(capacity[i]), min_order=float(minimum[i]))
        for i in range(n)
    ]
    s = solve(periods(opts, demand))
    expected = sum(_cheapest_by_enumeration(price, capacity, minimum, q) for q in demand.values() if q > 0)
    assert np.isfinite(expected) and s.status == "optimal"
    assert s.expected_cost == pytest.approx(expected)
    for i, entry in ((int(k[1:]), v) for k, v in s.mix.items()):  # never below a minimum, never above demand
        for period, quantity in entry["by_period"].items():
            assert quantity >= minimum[i] - 1e-6
            assert quantity <= demand[period] + 1e-6
