"""Build the sourcing LP/MILP as sparse matrices (vectorised over options x periods) and solve it with HiGHS.

Variables: quantity x[o,t] per option and period; y[o] = 1 if option o is used (binary where it matters:
qualification costs and minimum orders); shortfall per demand row where a penalty is given; for CVaR, eta
and one excess u[s] per scenario (Rockafellar-Uryasev); for switching limits, the volume m[o,t] moved away
from the current mix. Shadow prices come from the LP with the binaries fixed at their optimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import LinearConstraint, linprog, milp

from critmin.optimize.landed import landed_costs, option_attributes
from critmin.optimize.model import Problem

DFARS_WIDENING = date(2027, 1, 1)
TOL = 1e-7


@dataclass
class Rows:
    """Constraint rows collected family by family, as COO triplets."""

    rows: list[NDArray[np.int64]] = field(default_factory=list)
    cols: list[NDArray[np.int64]] = field(default_factory=list)
    vals: list[NDArray[np.float64]] = field(default_factory=list)
    lower: list[NDArray[np.float64]] = field(default_factory=list)
    upper: list[NDArray[np.float64]] = field(default_factory=list)
    family: list[str] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)  # rhs change for "1 percentage point" of a share rule
    count: int = 0

    def add(
        self,
        family: str,
        labels: list[str],
        local_rows: NDArray[np.int64],
        cols: NDArray[np.int64],
        vals: NDArray[np.float64],
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
        scale: NDArray[np.float64] | None = None,
    ) -> None:
        n = len(labels)
        if n == 0:
            return
        self.rows.append(local_rows + self.count)
        self.cols.append(cols)
        self.vals.append(vals)
        self.lower.append(lower)
        self.upper.append(upper)
        self.family.extend([family] * n)
        self.label.extend(labels)
        self.scale.extend((scale if scale is not None else np.zeros(n)).tolist())
        self.count += n

    def matrix(self, n_vars: int) -> sparse.csr_matrix:
        return sparse.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.count, n_vars),
        )


@dataclass
class Solution:
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


@dataclass
class Model:
    """The assembled program plus what is needed to read a solution back."""

    c: NDArray[np.float64]
    rows: Rows
    lower_bounds: NDArray[np.float64]
    upper_bounds: NDArray[np.float64]
    integrality: NDArray[np.int64]
    n_options: int
    n_periods: int
    option_ids: list[str]
    periods: list[str]
    products: list[str]
    expected_unit_cost: NDArray[np.float64]
    scenario_unit_cost: NDArray[np.float64]  # (options, scenarios)
    probabilities: NDArray[np.float64]
    risk_weight: NDArray[np.float64]
    demand: NDArray[np.float64]  # (products, periods)
    option_product: NDArray[np.int64]
    fixed_cost: NDArray[np.float64]  # per y
    short_index: NDArray[np.int64]  # (products, periods) -> variable index or -1
    short_penalty: NDArray[np.float64]
    eta_index: int
    u_index: NDArray[np.int64]


def build(problem: Problem, risk_price: float | None = None) -> Model:
    lam = problem.risk_price if risk_price is None else risk_price
    attrs = option_attributes(problem)
    costs = landed_costs(problem, attrs)  # (options, scenarios) duty per unit
    products = sorted({o.product for o in problem.options})
    periods = problem.periods
    n_o, n_t, n_s = len(problem.options), len(periods), len(problem.scenarios)
    product_of = np.array([products.index(o.product) for o in problem.options], dtype=np.int64)
    price = np.array([o.unit_price for o in problem.options])
    capacity = np.array([o.capacity for o in problem.options])
    min_order = np.array([o.min_order for o in problem.options])
    qualified = np.array([o.qualified for o in problem.options])
    qcost = np.array([0.0 if o.qualified else o.qualification_cost for o in problem.options])
    probs = np.array([s.probability for s in problem.scenarios])
    unit_cost_s = price[:, None] + costs
    expected_unit = unit_cost_s @ probs
    risk_weight = attrs["risk_weight"].to_numpy()

    demand = np.zeros((len(products), n_t))
    penalty = np.full((len(products), n_t), np.nan)
    for d in problem.demand:  # demand rows are few (products x periods); options are the large dimension
        p, t = products.index(d.product), periods.index(d.period)
        demand[p, t] += d.quantity
        if d.shortfall_penalty is not None:
            penalty[p, t] = d.shortfall_penalty

    # variable layout
    x0 = 0
    y0 = n_o * n_t
    short_index = np.full((len(products), n_t), -1, dtype=np.int64)
    has_short = ~np.isnan(penalty) & (demand > 0)
    short_index[has_short] = y0 + n_o + np.arange(int(has_short.sum()))
    nxt = y0 + n_o + int(has_short.sum())
    use_cvar = problem.risk_measure == "cvar"
    eta_index = nxt if use_cvar else -1
    u_index = np.arange(nxt + 1, nxt + 1 + n_s) if use_cvar else np.zeros(0, dtype=np.int64)
    nxt = nxt + 1 + n_s if use_cvar else nxt
    current = np.array([problem.current_mix.get(o.id, 0.0) for o in problem.options])
    switching = problem.constraints.max_switch_share is not None
    m0 = nxt
    n_vars = nxt + (n_o * n_t if switching else 0)

    x_idx = (np.arange(n_o)[:, None] * n_t + np.arange(n_t)[None, :]) + x0  # (options, periods)
    c = np.zeros(n_vars)
    c[x_idx] = expected_unit[:, None]
    if not use_cvar:
        c[x_idx] += lam * risk_weight[:, None]
    c[y0 : y0 + n_o] = qcost
    c[short_index[has_short]] = penalty[has_short]
    if use_cvar:
        c[eta_index] = lam
        c[u_index] = lam * probs / (1 - problem.cvar_alpha)

    lb = np.zeros(n_vars)
    ub = np.full(n_vars, np.inf)
    ub[y0 : y0 + n_o] = 1.0
    lb[y0 : y0 + n_o] = np.where(qualified & (min_order == 0), 1.0, 0.0)
    if use_cvar:
        lb[eta_index] = -np.inf
    integrality = np.zeros(n_vars, dtype=np.int64)
    integrality[y0 : y0 + n_o] = np.where(lb[y0 : y0 + n_o] < 1, 1, 0)

    rows = Rows()
    o_grid, t_grid = np.meshgrid(np.arange(n_o), np.arange(n_t), indexing="ij")
    o_flat, t_flat = o_grid.ravel(), t_grid.ravel()
    ids = [o.id for o in problem.options]

    # demand: sum of x over the product's options (+ shortfall) = demand
    d_rows = np.flatnonzero(demand.ravel() > 0)
    d_row_of = np.full(demand.size, -1)
    d_row_of[d_rows] = np.arange(d_rows.size)
    x_row = d_row_of[product_of[o_flat] * n_t + t_flat]
    keep = x_row >= 0
    p_of_row, t_of_row = np.divmod(d_rows, n_t)
    s_cols = short_index.ravel()[d_rows]
    with_short = s_cols >= 0
    rows.add(
        "demand",
        [f"demand[{products[p]},{periods[t]}]" for p, t in zip(p_of_row, t_of_row, strict=True)],
        np.concatenate([x_row[keep], np.flatnonzero(with_short)]),
        np.concatenate([x_idx.ravel()[keep], s_cols[with_short]]),
        np.ones(int(keep.sum()) + int(with_short.sum())),
        demand.ravel()[d_rows],
        demand.ravel()[d_rows],
    )

    # capacity: x[o,t] - capacity_o * y_o <= 0
    n_ot = n_o * n_t
    rows.add(
        "capacity",
        [f"capacity[{ids[o]},{periods[t]}]" for o, t in zip(o_flat, t_flat, strict=True)],
        np.concatenate([np.arange(n_ot), np.arange(n_ot)]),
        np.concatenate([x_idx.ravel(), y0 + o_flat]),
        np.concatenate([np.ones(n_ot), -capacity[o_flat]]),
        np.full(n_ot, -np.inf),
        np.zeros(n_ot),
    )

    # minimum order: min_o * y_o - x[o,t] <= 0
    mo = min_order[o_flat] > 0
    k = int(mo.sum())
    rows.add(
        "min_order",
        [f"min_order[{ids[o]},{periods[t]}]" for o, t in zip(o_flat[mo], t_flat[mo], strict=True)],
        np.concatenate([np.arange(k), np.arange(k)]),
        np.concatenate([x_idx.ravel()[mo], y0 + o_flat[mo]]),
        np.concatenate([-np.ones(k), min_order[o_flat[mo]]]),
        np.full(k, -np.inf),
        np.zeros(k),
    )

    def share_rows(
        family: str, group_key: NDArray[Any], share: float, sense: str, member: NDArray[np.bool_]
    ) -> None:
        """sum of x over options in a group (within one product and period) <= or >= share x demand."""
        sel = member.ravel() & (demand[product_of[o_flat], t_flat] > 0)
        if not sel.any():
            return
        keys = np.char.add(np.char.add(group_key[o_flat[sel]].astype(str), "|"), t_flat[sel].astype(str))
        uniq, local = np.unique(keys, return_inverse=True)
        first = np.zeros(uniq.size, dtype=np.int64)
        first[local] = np.flatnonzero(sel)
        dem = demand[product_of[o_flat[first]], t_flat[first]]
        labels = [f"{family}[{u.split('|')[0]},{periods[int(u.split('|')[1])]}]" for u in uniq]
        sign = 1.0 if sense == "<=" else -1.0
        rows.add(
            family,
            labels,
            local.astype(np.int64),
            x_idx.ravel()[sel],
            np.full(int(sel.sum()), sign),
            np.full(uniq.size, -np.inf),
            sign * share * dem,
            scale=sign * 0.01 * dem,
        )

    cons = problem.constraints
    everyone = np.ones((n_o, n_t), dtype=bool)
    product_names = np.array(products, dtype=object)[product_of]
    if cons.max_share_country is not None:
        key = np.char.add(np.char.add(attrs["origin"].to_numpy().astype(str), "/"), product_names.astype(str))
        share_rows("country_share", key, cons.max_share_country, "<=", everyone)
    if cons.max_share_supplier is not None:
        key = np.char.add(
            np.char.add(attrs["supplier"].to_numpy().astype(str), "/"), product_names.astype(str)
        )
        share_rows("supplier_share", key, cons.max_share_supplier, "<=", everyone)
    feoc = attrs_matrix(attrs, "feoc", n_o, n_t, periods, problem)
    if cons.max_share_feoc is not None:
        share_rows("feoc_cap", product_names.astype(str), cons.max_share_feoc, "<=", feoc)
    if cons.min_share_partners is not None:
        partner = attrs_matrix(attrs, "partner", n_o, n_t, periods, problem)
        share_rows("partner_floor", product_names.astype(str), cons.min_share_partners, ">=", partner)
    if cons.dfars_ban and problem.dfars_products:
        covered = attrs_matrix(attrs, "dfars_covered", n_o, n_t, periods, problem)
        in_force = np.array([_period_date(problem, p) >= DFARS_WIDENING for p in periods])
        dfars_product = np.isin(product_names.astype(str), problem.dfars_products)
        banned = (covered & in_force[None, :] & dfars_product[:, None]).ravel()
        k = int(banned.sum())
        rows.add(
            "dfars_ban",
            [
                f"dfars_ban[{ids[o]},{periods[t]}]"
                for o, t in zip(o_flat[banned], t_flat[banned], strict=True)
            ],
            np.arange(k),
            x_idx.ravel()[banned],
            np.ones(k),
            np.full(k, -np.inf),
            np.zeros(k),
        )
    if switching:
        assert cons.max_switch_share is not None
        m_idx = m0 + np.arange(n_ot)
        has_current = current[o_flat] > 0
        k = int(has_current.sum())
        rows.add(
            "switch_link",
            [
                f"switch_link[{ids[o]},{periods[t]}]"
                for o, t in zip(o_flat[has_current], t_flat[has_current], strict=True)
            ],
            np.concatenate([np.arange(k), np.arange(k)]),
            np.concatenate([x_idx.ravel()[has_current], m_idx[has_current]]),
            np.concatenate([-np.ones(k), -np.ones(k)]),
            np.full(k, -np.inf),
            -current[o_flat[has_current]],
        )
        rows_m = d_row_of[product_of[o_flat] * n_t + t_flat]
        keep_m = rows_m >= 0
        rows.add(
            "switching",
            [f"switching[{products[p]},{periods[t]}]" for p, t in zip(p_of_row, t_of_row, strict=True)],
            rows_m[keep_m],
            m_idx[keep_m],
            np.ones(int(keep_m.sum())),
            np.full(d_rows.size, -np.inf),
            cons.max_switch_share * demand.ravel()[d_rows],
            scale=0.01 * demand.ravel()[d_rows],
        )
    if use_cvar:
        # scenario cost - eta - u_s <= 0
        cols = np.concatenate([x_idx.ravel(), y0 + np.arange(n_o), short_index[has_short]])
        per_s_rows, per_s_cols, per_s_vals = [], [], []
        for s in range(n_s):  # one dense row per scenario; scenarios are few
            vals = np.concatenate([unit_cost_s[o_flat, s], qcost, penalty[has_short]])
            per_s_rows.append(np.full(cols.size + 2, s))
            per_s_cols.append(np.concatenate([cols, [eta_index, u_index[s]]]))
            per_s_vals.append(np.concatenate([vals, [-1.0, -1.0]]))
        rows.add(
            "cvar",
            [f"cvar[{sc.name}]" for sc in problem.scenarios],
            np.concatenate(per_s_rows),
            np.concatenate(per_s_cols),
            np.concatenate(per_s_vals),
            np.full(n_s, -np.inf),
            np.zeros(n_s),
        )

    return Model(
        c=c,
        rows=rows,
        lower_bounds=lb,
        upper_bounds=ub,
        integrality=integrality,
        n_options=n_o,
        n_periods=n_t,
        option_ids=ids,
        periods=periods,
        products=products,
        expected_unit_cost=expected_unit,
        scenario_unit_cost=unit_cost_s,
        probabilities=probs,
        risk_weight=risk_weight,
        demand=demand,
        option_product=product_of,
        fixed_cost=qcost,
        short_index=short_index,
        short_penalty=np.nan_to_num(penalty),
        eta_index=eta_index,
        u_index=u_index,
    )


def _period_date(problem: Problem, period: str) -> date:
    return problem.period_dates.get(period, problem.as_of)


def attrs_matrix(
    attrs: pl.DataFrame, column: str, n_o: int, n_t: int, periods: list[str], problem: Problem
) -> Any:
    """(options, periods) membership flags; attributes are dated, so each period uses its own date."""
    flags = np.zeros((n_o, n_t), dtype=bool)
    for t, period in enumerate(periods):  # periods are few; membership per period is one vectorised join
        flags[:, t] = attrs[f"{column}@{_period_date(problem, period).isoformat()}"].to_numpy()
    return flags


def solve_model(model: Model, fixed_y: NDArray[np.float64] | None = None) -> tuple[Any, Any]:
    """Solve the MILP (or LP when no binary is free); return (milp result, LP result with duals or None)."""
    a = model.rows.matrix(model.c.size)
    lower, upper = np.concatenate(model.rows.lower), np.concatenate(model.rows.upper)
    lb, ub = model.lower_bounds.copy(), model.upper_bounds.copy()
    y0 = model.n_options * model.n_periods
    integrality = model.integrality.copy()
    if fixed_y is not None:
        lb[y0 : y0 + model.n_options] = fixed_y
        ub[y0 : y0 + model.n_options] = fixed_y
        integrality[:] = 0
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
        y = np.round(result.x[y0 : y0 + model.n_options])
        return solve_model(model, fixed_y=y)
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


def _duals(model: Model, lp: Any) -> NDArray[np.float64]:
    """Shadow price of each row: d(objective)/d(right-hand side), in the row's own sense."""
    lower, upper = np.concatenate(model.rows.lower), np.concatenate(model.rows.upper)
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


def _risk(model: Model, x: NDArray[np.float64], alpha: float, measure: str) -> float:
    n_ot = model.n_options * model.n_periods
    qty = x[:n_ot].reshape(model.n_options, model.n_periods).sum(axis=1)
    if measure == "concentration":
        return float(model.risk_weight @ qty)
    y = x[n_ot : n_ot + model.n_options]
    fixed = float(model.fixed_cost @ y)
    shorts = model.short_index >= 0
    fixed += float(model.short_penalty[shorts] @ x[model.short_index[shorts]])
    costs = model.scenario_unit_cost.T @ qty + fixed  # per scenario
    return cvar(costs, model.probabilities, alpha)


def cvar(costs: NDArray[np.float64], probabilities: NDArray[np.float64], alpha: float) -> float:
    """CVaR_alpha of a discrete cost distribution: min over eta of eta + E[max(0, cost - eta)]/(1 - alpha)."""
    candidates = np.asarray(costs, dtype=np.float64)
    best = np.inf
    for eta in candidates:  # the optimum eta is one of the scenario costs; scenarios are few
        best = min(best, float(eta + probabilities @ np.maximum(0.0, candidates - eta) / (1 - alpha)))
    return best


def _read(
    problem: Problem, model: Model, x: NDArray[np.float64], duals: NDArray[np.float64], objective: float
) -> Solution:
    n_ot = model.n_options * model.n_periods
    qty = x[:n_ot].reshape(model.n_options, model.n_periods)
    demand_of_option = model.demand[model.option_product].sum(axis=1)
    mix: dict[str, dict[str, Any]] = {}
    for o in np.flatnonzero(qty.sum(axis=1) > TOL):
        total = float(qty[o].sum())
        mix[model.option_ids[o]] = {
            "product": model.products[model.option_product[o]],
            "quantity": total,
            "share": total / demand_of_option[o] if demand_of_option[o] > 0 else 0.0,
            "by_period": {p: float(qty[o, t]) for t, p in enumerate(model.periods) if qty[o, t] > TOL},
        }
    binding: dict[str, dict[str, float]] = {}
    scale = np.asarray(model.rows.scale)
    for r in np.flatnonzero(np.abs(duals) > 1e-9):
        family = model.rows.family[r]
        if family in {"cvar", "switch_link"}:
            continue
        entry = {"shadow_price": float(duals[r])}
        if scale[r] != 0:
            entry["change_per_point"] = float(duals[r] * scale[r])
        binding[model.rows.label[r]] = entry
    shortfall = {
        f"{model.products[p]},{model.periods[t]}": float(x[i])
        for (p, t), i in np.ndenumerate(model.short_index)
        if i >= 0 and x[i] > TOL
    }
    expected = float(model.expected_unit_cost @ qty.sum(axis=1))
    expected += float(model.fixed_cost @ x[n_ot : n_ot + model.n_options])
    expected += sum(
        float(model.short_penalty[p, t] * x[i]) for (p, t), i in np.ndenumerate(model.short_index) if i >= 0
    )
    return Solution(
        status="optimal",
        message="optimal solution found",
        objective=objective,
        expected_cost=expected,
        risk=_risk(model, x, problem.cvar_alpha, problem.risk_measure),
        mix=mix,
        binding=binding,
        shortfall=shortfall,
        size={
            "variables": int(model.c.size),
            "constraints": model.rows.count,
            "binaries": int(model.integrality.sum()),
        },
    )


def solve(problem: Problem, *, risk_price: float | None = None) -> Solution:
    model = build(problem, risk_price)
    _result, lp = solve_model(model)
    if lp is None or not lp.success:
        return diagnose(problem, model)
    return _read(problem, model, np.asarray(lp.x), _duals(model, lp), float(lp.fun))


ELASTIC_FAMILIES = (
    "demand",
    "capacity",
    "min_order",
    "country_share",
    "supplier_share",
    "feoc_cap",
    "partner_floor",
    "dfars_ban",
    "switching",
)
FAMILY_TEXT = {
    "demand": "demand",
    "capacity": "supplier capacities",
    "min_order": "minimum orders",
    "country_share": "the per-country share cap",
    "supplier_share": "the per-supplier share cap",
    "feoc_cap": "the FEOC share cap",
    "partner_floor": "the agreement-partner share floor",
    "dfars_ban": "the DFARS ban on covered countries",
    "switching": "the switching limit",
}


def diagnose(problem: Problem, model: Model) -> Solution:
    """Explain infeasibility: the least total violation that makes the problem feasible, and by which rules.

    Every constraint row gets a non-negative slack priced at 1 per unit (an elastic program). The rows whose
    slack is used are the conflict; the message says how far demand falls short of what the other rules allow.
    """
    a = model.rows.matrix(model.c.size)
    lower, upper = np.concatenate(model.rows.lower), np.concatenate(model.rows.upper)
    n_rows = model.rows.count
    # slack s+ relaxes an upper bound (row - s+ <= upper); s- relaxes a lower bound (row + s- >= lower)
    elastic = sparse.hstack([a, -sparse.identity(n_rows), sparse.identity(n_rows)]).tocsr()
    n_vars = model.c.size + 2 * n_rows
    # demand slack is cheaper, so a conflict is stated as demand short of what the rules allow where it can be
    weight = np.where(np.array(model.rows.family) == "demand", 0.5, 1.0)
    c = np.concatenate([np.zeros(model.c.size), weight, weight])
    lb = np.concatenate([model.lower_bounds, np.zeros(2 * n_rows)])
    ub = np.concatenate([model.upper_bounds, np.full(2 * n_rows, np.inf)])
    result = milp(
        c,
        constraints=LinearConstraint(elastic, lower, upper),
        integrality=np.concatenate([model.integrality, np.zeros(2 * n_rows, dtype=np.int64)]),
        bounds=(lb, ub),
    )
    solution = Solution(status="infeasible", message="no supply mix satisfies every constraint")
    if not result.success:
        solution.message += f" (the diagnosis itself failed: {result.message})"
        return solution
    slack = result.x[model.c.size : model.c.size + n_rows] + result.x[model.c.size + n_rows : n_vars]
    violated = np.flatnonzero(slack > 1e-6)
    by_family: dict[str, float] = {}
    for r in violated:
        by_family[model.rows.family[r]] = by_family.get(model.rows.family[r], 0.0) + float(slack[r])
        solution.conflicts.append(f"{model.rows.label[r]} needs relaxing by {slack[r]:,.2f}")
    parts = []
    for p, product in enumerate(model.products):
        for t, period in enumerate(model.periods):
            need = model.demand[p, t]
            if need <= 0:
                continue
            label = f"demand[{product},{period}]"
            gap = sum(float(slack[r]) for r in violated if model.rows.label[r] == label)
            if gap > 1e-6:
                parts.append(
                    f"demand for {product} in {period} ({need:,.0f}) exceeds what the other rules allow "
                    f"({need - gap:,.0f}); short by {gap:,.0f}"
                )
    rules = [FAMILY_TEXT[f] for f in by_family if f != "demand"]
    binding_rules = _binding_families(model, result.x[: model.c.size])
    if binding_rules:
        rules = sorted(set(rules) | {FAMILY_TEXT[f] for f in binding_rules})
    if parts:
        solution.message = "; ".join(parts)
        if rules:
            solution.message += " after " + ", ".join(rules)
    elif rules:
        solution.message = "the rules conflict: " + ", ".join(rules)
    solution.shortfall = {k: v for k, v in ((model.rows.label[r], float(slack[r])) for r in violated)}
    return solution


def _binding_families(model: Model, x: NDArray[np.float64]) -> set[str]:
    """Families (other than demand and capacity bookkeeping) whose rows are tight at the elastic optimum."""
    a = model.rows.matrix(model.c.size)
    activity = a @ x
    upper = np.concatenate(model.rows.upper)
    tight = np.isfinite(upper) & (np.abs(activity - upper) <= 1e-6 * np.maximum(1.0, np.abs(upper)))
    fams = {model.rows.family[r] for r in np.flatnonzero(tight)}
    return fams & {
        "feoc_cap",
        "country_share",
        "supplier_share",
        "dfars_ban",
        "partner_floor",
        "switching",
        "capacity",
    }


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
