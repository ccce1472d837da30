"""Sourcing LP at scale: 10,000 options x 60 minerals x 12 periods (full), solved with HiGHS.

The baseline is the same model's build time (matrix assembly), measured in the same run, so the table shows
how much of the work is the solver.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from critmin.optimize.model import Problem
from critmin.optimize.solve import build, solve_model

SIZES = {"small": (500, 10, 3), "full": (10_000, 60, 12)}
ORIGINS = ["CHN", "AUS", "JPN", "DEU", "KOR", "CAN", "MEX", "BRA", "ZAF", "IND", "VNM", "MYS", "CHL", "PER"]


def generate(options: int, minerals: int, periods: int, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    product = rng.integers(0, minerals, options)
    price = rng.uniform(5, 200, options)
    capacity = rng.uniform(50, 500, options)
    origin = rng.choice(ORIGINS, options)
    # demand: 40% of the capacity offered for each mineral, split over periods
    cap_by_product = np.bincount(product, weights=capacity, minlength=minerals)
    opts = [
        {
            "id": f"o{i}",
            "product": f"m{product[i]}",
            "supplier": f"s{i % 2000}",
            "origin": str(origin[i]),
            "hts": "8112920000",
            "unit_price": float(price[i]),
            "capacity": float(capacity[i]),
            "risk_weight": 0.5,
            "duty_per_unit": {"in_force": float(price[i] * 0.25 * (origin[i] == "CHN"))},
        }
        for i in range(options)
    ]
    demand = [
        {"product": f"m{p}", "period": f"{t + 1:02d}", "quantity": float(0.4 * cap_by_product[p])}
        for p in range(minerals)
        for t in range(periods)
        if cap_by_product[p] > 0
    ]
    return Problem.model_validate(
        {
            "name": "bench",
            "as_of": "2026-06-01",
            "options": opts,
            "demand": demand,
            "constraints": {"max_share_feoc": 0.3, "max_share_country": 0.5},
            "risk_measure": "concentration",
            "risk_price": 1.0,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="full")
    args = parser.parse_args(argv)
    options, minerals, periods = SIZES[args.size]
    problem = generate(options, minerals, periods)
    t0 = time.perf_counter()
    model = build(problem)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _result, lp = solve_model(model)
    solve_s = time.perf_counter() - t0
    status = "optimal" if lp is not None and lp.success else "not solved"
    header = f"{'case':<20} {'variables':>10} {'constraints':>12} {'seconds':>9} {'ratio':>7}"
    size = f"{model.c.size:>10,} {model.rows.count:>12,}"
    print(header)
    print(f"{'build (baseline)':<20} {size} {build_s:>9.2f} {1.0:>7.2f}")
    print(f"{'HiGHS solve':<20} {size} {solve_s:>9.2f} {solve_s / build_s:>7.2f}")
    objective = lp.fun if lp is not None else float("nan")
    print(
        f"status: {status}; objective {objective:,.0f}; {options:,} options x {minerals} x {periods} periods"
    )
    return 0 if status == "optimal" else 1


if __name__ == "__main__":
    sys.exit(main())
