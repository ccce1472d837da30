"""Solve the sourcing model with HiGHS and read the answer back by name.

The model itself is written family by family in :mod:`critmin.optimize.families`. Here it is solved as a MILP
(yes/no choices: qualification and minimum orders) and then as an LP with those choices fixed at their
optimum, whose duals are the shadow prices. An infeasible problem goes to :mod:`critmin.optimize.diagnose`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import LinearConstraint, linprog, milp

from critmin.optimize.algebra import Floats
from critmin.optimize.diagnose import diagnose
from critmin.optimize.families import DFARS_WIDENING, Model, build
from critmin.optimize.model import Problem

__all__ = ["DFARS_WIDENING", "Model", "Solution", "build", "cvar", "frontier", "solve", "solve_model"]

TOL = 1e-7


@dataclass
class Solution:
    """What a solve returns, in user terms (option ids, row names, dollars), ready for JSON and the views.

    ``status`` is ``optimal`` or ``infeasible``; an infeasible solution carries the diagnosis in ``message``
    and ``conflicts`` and leaves the figures empty.
    """

    status: str
    message: str
    objective: float | None = None
    expected_cost: float | None = None
    risk: float | None = None
    mix: dict[str, dict[str, Any]] = field(default_factory=dict)
    binding: dict[str, dict[str, float]] = field(default_factory=dict)
    shortfall: dict[str, float] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    frontier: list[dict[str, float]] = field(default_factory=list)
    size: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "objective": self.objective,
            "expected_cost": self.expected_cost,
            "risk": self.risk,
            "mix": self.mix,
            "binding": self.binding,
            "shortfall": self.shortfall,
            "conflicts": self.conflicts,
            "frontier": self.frontier,
            "size": self.size,
        }


def solve_model(model: Model, fixed: Floats | None = None) -> tuple[Any, Any]:
    """Solve the MILP (or LP when no binary is free); return (MILP result, LP result with duals or None).

    ``fixed`` gives the values of the integer columns, in column order: they become fixed bounds and the
    LP's duals are then the shadow prices at the chosen yes/no decisions.
    """
    v = model.variables
    a = model.matrix
    lower, upper = model.rows.lower, model.rows.upper
    lb, ub, integrality = v.lower.copy(), v.upper.copy(), v.integrality.copy()
    if fixed is not None:
        binary = integrality == 1
        lb[binary] = ub[binary] = fixed
        integrality[:] = 0
        lower, upper = _lp_rows(model)
        ub = _gate_off(model, ub)
    if integrality.any():
        result = milp(
            model.c,
            constraints=LinearConstraint(a, lower, upper),
            integrality=integrality,
            bounds=(lb, ub),
            options={"mip_rel_gap": 1e-9},
        )
        if not result.success:
            return result, None
        return solve_model(model, fixed=np.round(result.x[integrality == 1]))
    eq = lower == upper
    lp = linprog(
        model.c,
        A_ub=sparse.vstack([a[~eq & np.isfinite(upper)], -a[~eq & np.isfinite(lower)]]).tocsr(),
        b_ub=np.concatenate([upper[~eq & np.isfinite(upper)], -lower[~eq & np.isfinite(lower)]]),
        A_eq=a[eq] if eq.any() else None,
        b_eq=upper[eq] if eq.any() else None,
        bounds=np.column_stack([lb, ub]),
        method="highs",
    )
    return lp, lp


def _lp_rows(model: Model) -> tuple[Floats, Floats]:
    """Row bounds of the LP solved for duals: the supply_link rows are dropped (see :func:`_gate_off`)."""
    lower, upper = model.rows.lower, model.rows.upper
    family = model.rows.families.get("supply_link")
    if family is not None:
        lower[family.start : family.stop] = -np.inf
        upper[family.start : family.stop] = np.inf
    return lower, upper


def _gate_off(model: Model, ub: Floats) -> Floats:
    """With y fixed, x[o,t] ≤ M·y[o,t] only says "nothing where y = 0": make that an upper bound of 0.

    Where y = 1 the row repeats capacity or demand; kept, it would share their duals and blur the prices.
    """
    x, y = model.variables["x"], model.variables["y"]
    off = (y >= 0) & (ub[np.maximum(y, 0)] == 0)
    ub = ub.copy()
    ub[x[off]] = 0.0
    return ub


def _duals(model: Model, lp: Any) -> Floats:
    """Shadow price of each row: d(objective)/d(right-hand side), in the row's own sense."""
    lower, upper = _lp_rows(model)
    eq = lower == upper
    ub_rows = ~eq & np.isfinite(upper)
    lb_rows = ~eq & np.isfinite(lower)
    duals = np.zeros(model.rows.count)
    marg_ub = np.asarray(lp.ineqlin.marginals)
    duals[ub_rows] = marg_ub[: int(ub_rows.sum())]
    duals[lb_rows] -= marg_ub[int(ub_rows.sum()) :]
    if eq.any():
        duals[eq] = np.asarray(lp.eqlin.marginals)
    return duals


def _costs_by_scenario(model: Model, x: Floats) -> Floats:
    """Total cost in each scenario: Σ c_s[o] x[o,t] + qualification costs + shortfall penalties."""
    data, v = model.data, model.variables
    qty = v.values("x", x).sum(axis=1)
    fixed = float(data.qualification_cost @ v.values("q", x))
    fixed += float(np.nansum(data.penalty * v.values("short", x)))
    return np.asarray(data.unit_cost.T @ qty + fixed, dtype=np.float64)


def _risk(model: Model, x: Floats) -> float:
    data = model.data
    if data.problem.risk_measure == "concentration":
        return float(data.risk_weight @ model.variables.values("x", x).sum(axis=1))
    return cvar(_costs_by_scenario(model, x), data.probabilities, data.problem.cvar_alpha)


def cvar(costs: NDArray[np.float64], probabilities: NDArray[np.float64], alpha: float) -> float:
    """CVaR_alpha of a discrete cost distribution: min over eta of eta + E[max(0, cost - eta)]/(1 - alpha)."""
    candidates = np.asarray(costs, dtype=np.float64)
    # the optimum eta is one of the scenario costs: evaluate all of them at once
    tail = np.maximum(0.0, candidates[None, :] - candidates[:, None]) @ probabilities / (1 - alpha)
    return float(np.min(candidates + tail))


def _read(model: Model, x: Floats, duals: Floats, objective: float) -> Solution:
    data, v = model.data, model.variables
    qty = v.values("x", x)
    demand_of_option = data.option_demand.sum(axis=1)
    mix: dict[str, dict[str, Any]] = {}
    for o in np.flatnonzero(qty.sum(axis=1) > TOL):  # one entry per option bought from
        total = float(qty[o].sum())
        mix[str(data.option_ids[o])] = {
            "product": str(data.products[data.product_of[o]]),
            "quantity": total,
            "share": total / demand_of_option[o] if demand_of_option[o] > 0 else 0.0,
            "by_period": {p: float(qty[o, t]) for t, p in enumerate(data.periods) if qty[o, t] > TOL},
        }
    binding: dict[str, dict[str, float]] = {}
    scale = model.rows.scale
    reported = (np.abs(duals) > 1e-9) & ~model.rows.structural()
    for r in np.flatnonzero(reported):  # binding rows only: few
        entry = {"shadow_price": float(duals[r])}
        if scale[r] != 0:
            entry["change_per_point"] = float(duals[r] * scale[r])
        binding[model.rows.label(int(r))] = entry
    short = v.values("short", x)
    shortfall = {
        f"{data.products[p]},{data.periods[t]}": float(short[p, t]) for p, t in np.argwhere(short > TOL)
    }
    expected = float(data.expected_unit_cost @ qty.sum(axis=1))
    expected += float(data.qualification_cost @ v.values("q", x))
    expected += float(np.nansum(data.penalty * short))
    return Solution(
        status="optimal",
        message="optimal solution found",
        objective=objective,
        expected_cost=expected,
        risk=_risk(model, x),
        mix=mix,
        binding=binding,
        shortfall=shortfall,
        size={
            "variables": int(model.c.size),
            "constraints": model.rows.count,
            "binaries": int(v.integrality.sum()),
        },
    )


def solve(problem: Problem, *, risk_price: float | None = None) -> Solution:
    """Cheapest sourcing plan under the problem's rules (``risk_price`` prices supply risk per unit); an
    infeasible problem returns the rules that jointly cause the shortfall instead of raising."""
    model = build(problem, risk_price)
    _result, lp = solve_model(model)
    if lp is None or not lp.success:
        found = diagnose(model)
        return Solution(
            status="infeasible",
            message=found.message,
            shortfall=found.shortfall,
            conflicts=found.conflicts,
        )
    return _read(model, np.asarray(lp.x), _duals(model, lp), float(lp.fun))


def frontier(problem: Problem, points: int) -> list[dict[str, float]]:
    """Sweep the risk price from 0 upwards; return (risk price, expected cost, risk) at each point."""
    if points < 2:
        raise ValueError("a frontier needs at least two points")
    base = solve(problem, risk_price=0.0)
    if base.status != "optimal":
        return []
    assert base.expected_cost is not None and base.risk is not None
    scale = base.expected_cost / max(base.risk, 1e-9)
    prices = np.concatenate([[0.0], scale * np.logspace(-3, 2, points - 1)])
    out = []
    for lam in prices:
        s = base if lam == 0 else solve(problem, risk_price=float(lam))
        if s.status == "optimal" and s.expected_cost is not None and s.risk is not None:
            out.append({"risk_price": float(lam), "expected_cost": s.expected_cost, "risk": s.risk})
    return out
