"""The sourcing model written family by family: :func:`build` reads as the formulation's table of contents.

Sets: options o (each supplies one product p(o)), periods t, scenarios s (probability p_s).

Variables, each a named block (:mod:`critmin.optimize.algebra`):

- ``x[o,t] ≥ 0``: units bought from option o in period t, only where its product has demand in t;
- ``y[o,t] ∈ {0,1}``: option o supplies in period t, only for options with a minimum order;
- ``q[o] ∈ {0,1}``: unqualified option o is qualified (its qualification cost is paid once), only where
  that cost is positive;
- ``short[p,t] ≥ 0``: demand not supplied, only where the file prices a shortfall;
- ``eta`` (free) and ``u[s] ≥ 0``: the CVaR threshold and excess per scenario, when ``risk_measure: cvar``;
- ``m[o,t] ≥ 0``: volume moved away from the current mix, when a switching limit is set.

Each constraint family is one function below; its docstring states the inequality and the rows it has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import sparse

from critmin.optimize.algebra import Constraints, Floats, Index, Variables, grouped_sum
from critmin.optimize.landed import landed_costs, option_attributes
from critmin.optimize.model import Problem

DFARS_WIDENING = date(2027, 1, 1)


@dataclass(frozen=True)
class Data:
    """The problem as arrays over options (O), products (P), periods (T) and scenarios (S)."""

    problem: Problem
    attrs: pl.DataFrame
    risk_price: float
    products: NDArray[np.str_]  # (P,)
    periods: list[str]  # (T,)
    option_ids: NDArray[np.str_]  # (O,)
    product_of: Index  # (O,) product index of each option
    capacity: Floats  # (O,) units per period
    min_order: Floats  # (O,) units in any period the option supplies
    qualification_cost: Floats  # (O,) paid once if used; 0 for options already qualified
    probabilities: Floats  # (S,)
    unit_cost: Floats  # (O, S) unit price + duty per unit in each scenario
    risk_weight: Floats  # (O,)
    demand: Floats  # (P, T)
    penalty: Floats  # (P, T) USD per unit short; NaN where demand must be met
    current: Floats  # (O,) units per period in today's mix

    @property
    def expected_unit_cost(self) -> Floats:
        """E_s[c_s[o]] = Σ_s p_s (price_o + duty_{o,s})."""
        return self.unit_cost @ self.probabilities

    @property
    def option_demand(self) -> Floats:
        """(O, T): demand in each period for each option's product."""
        return self.demand[self.product_of]

    def flags(self, column: str) -> NDArray[np.bool_]:
        """(O, T) dated group membership (feoc, partner, dfars_covered): each period uses its own date."""
        return np.column_stack(  # periods are few; each is one column of the attribute frame
            [
                self.attrs[f"{column}@{period_date(self.problem, p).isoformat()}"].to_numpy()
                for p in self.periods
            ]
        ).astype(bool)


def period_date(problem: Problem, period: str) -> date:
    return problem.period_dates.get(period, problem.as_of)


def prepare(problem: Problem, risk_price: float | None = None) -> Data:
    """Gather option attributes, landed costs (from the duty engine) and demand as arrays."""
    attrs = option_attributes(problem)
    products = sorted({o.product for o in problem.options})
    periods = problem.periods
    product_of = np.searchsorted(products, [o.product for o in problem.options]).astype(np.int64)
    d_product = np.searchsorted(products, [d.product for d in problem.demand])
    d_period = np.searchsorted(periods, [d.period for d in problem.demand])
    demand = np.zeros((len(products), len(periods)))
    np.add.at(demand, (d_product, d_period), [d.quantity for d in problem.demand])
    penalty = np.full(demand.shape, np.nan)
    priced = np.array([d.shortfall_penalty is not None for d in problem.demand], dtype=bool)
    penalty[d_product[priced], d_period[priced]] = [
        d.shortfall_penalty for d in problem.demand if d.shortfall_penalty is not None
    ]
    price = np.array([o.unit_price for o in problem.options])
    return Data(
        problem=problem,
        attrs=attrs,
        risk_price=problem.risk_price if risk_price is None else risk_price,
        products=np.array(products, dtype=str),
        periods=periods,
        option_ids=np.array([o.id for o in problem.options], dtype=str),
        product_of=product_of,
        capacity=np.array([o.capacity for o in problem.options]),
        min_order=np.array([o.min_order for o in problem.options]),
        qualification_cost=np.array([0.0 if o.qualified else o.qualification_cost for o in problem.options]),
        probabilities=np.array([s.probability for s in problem.scenarios]),
        unit_cost=price[:, None] + landed_costs(problem, attrs),
        risk_weight=attrs["risk_weight"].to_numpy().astype(np.float64),
        demand=demand,
        penalty=penalty,
        current=np.array([problem.current_mix.get(o.id, 0.0) for o in problem.options]),
    )


def allocate(data: Data) -> Variables:
    """The variable blocks; a block only has columns where its variable can be non-zero."""
    v = Variables()
    buys = data.option_demand > 0  # nothing is bought for a product in a period without demand
    cvar = data.problem.risk_measure == "cvar"
    switching = data.problem.constraints.max_switch_share is not None
    v.add("x", ("option", "period"), buys)
    v.add("y", ("option", "period"), buys & (data.min_order > 0)[:, None], upper=1.0, integer=True)
    v.add("q", ("option",), data.qualification_cost > 0, upper=1.0, integer=True)
    v.add("short", ("product", "period"), ~np.isnan(data.penalty) & (data.demand > 0))
    v.add("eta", ("risk",), np.array([cvar]), lower=-np.inf)
    v.add("u", ("scenario",), np.full(data.probabilities.size, cvar))
    v.add("m", ("option", "period"), buys & (data.current > 0)[:, None] & switching)
    return v


def objective(data: Data, v: Variables) -> Floats:
    """min Σ_{o,t} (E_s[c_s[o]] + λ r_o) x[o,t] + Σ_o f_o q[o] + Σ_{p,t} π[p,t] short[p,t]
    + λ (eta + Σ_s p_s u[s] / (1 − α)).

    λ r_o (risk weight per unit) enters only for ``risk_measure: concentration``; eta and u only for
    ``cvar`` (Rockafellar–Uryasev: at the optimum eta + E[u]/(1 − α) is CVaR_α of total cost).
    """
    c = np.zeros(v.size)
    x = v["x"]
    per_unit = data.expected_unit_cost
    if data.problem.risk_measure == "concentration":
        per_unit = per_unit + data.risk_price * data.risk_weight
    o, _t = np.nonzero(x >= 0)
    c[x[x >= 0]] = per_unit[o]
    q = v["q"]
    c[q[q >= 0]] = data.qualification_cost[q >= 0]
    short = v["short"]
    c[short[short >= 0]] = data.penalty[short >= 0]
    if "eta" in v:
        c[v["eta"]] = data.risk_price
        c[v["u"]] = data.risk_price * data.probabilities / (1 - data.problem.cvar_alpha)
    return c


# --- constraint families, in the order the rows are laid out ------------------------------------------------


def demand(data: Data, v: Variables, rows: Constraints) -> None:
    """demand: Σ_{o ∈ p} x[o,t] + short[p,t] = D[p,t]   for each product p, period t with D[p,t] > 0

    Demand is met exactly: nothing is bought beyond it (no stock is modelled), and less only where the file
    prices a shortfall (``short`` exists only there).
    """
    cells, row_of = _demand_cells(data)
    x = v["x"]
    o, t = np.nonzero(x >= 0)
    short = v["short"].ravel()[cells]
    priced = short >= 0
    p_row, t_row = np.divmod(cells, len(data.periods))
    rows.add(
        "demand",
        subject=data.products[p_row],
        product=p_row,
        period=t_row,
        row=np.concatenate([row_of[data.product_of[o] * len(data.periods) + t], np.flatnonzero(priced)]),
        col=np.concatenate([x[o, t], short[priced]]),
        coef=1.0,
        lower=data.demand.ravel()[cells],
        upper=data.demand.ravel()[cells],
    )


def capacity(data: Data, v: Variables, rows: Constraints) -> None:
    """capacity: x[o,t] ≤ cap_o · q[o]   for each option o and period t it can buy in

    q[o] ≡ 1 for options already qualified (or free to qualify), so the row is then x[o,t] ≤ cap_o; for the
    others, buying anywhere forces q[o] = 1 and its one-off qualification cost.
    """
    x, q = v["x"], v["q"]
    o, t = np.nonzero(x >= 0)
    gate = q[o]
    gated = gate >= 0
    n = o.size
    rows.add(
        "capacity",
        subject=data.option_ids[o],
        product=data.product_of[o],
        period=t,
        row=np.concatenate([np.arange(n), np.flatnonzero(gated)]),
        col=np.concatenate([x[o, t], gate[gated]]),
        coef=np.concatenate([np.ones(n), -data.capacity[o[gated]]]),
        upper=np.where(gated, 0.0, data.capacity[o]),
    )


def min_order(data: Data, v: Variables, rows: Constraints) -> None:
    """min_order: min_o · y[o,t] ≤ x[o,t]   for each option o with a minimum order and period t with demand

    The minimum binds only in the periods where the option supplies (y[o,t] = 1); in the others it buys
    nothing (``supply_link``), so a period without demand never forces a purchase.
    """
    x, y = v["x"], v["y"]
    o, t = np.nonzero(y >= 0)
    n = o.size
    rows.add(
        "min_order",
        subject=data.option_ids[o],
        product=data.product_of[o],
        period=t,
        row=np.tile(np.arange(n), 2),
        col=np.concatenate([y[o, t], x[o, t]]),
        coef=np.concatenate([data.min_order[o], -np.ones(n)]),
        upper=0.0,
    )


def supply_link(data: Data, v: Variables, rows: Constraints) -> None:
    """supply_link: x[o,t] ≤ M[o,t] · y[o,t],  M[o,t] = min(cap_o, D[p(o),t])   for the same rows as min_order

    An option with a minimum order buys only in periods it supplies; M is the most it could buy there. The
    rows are bookkeeping: with y fixed they say nothing that capacity and demand do not.
    """
    x, y = v["x"], v["y"]
    o, t = np.nonzero(y >= 0)
    n = o.size
    big_m = np.minimum(data.capacity[o], data.option_demand[o, t])
    rows.add(
        "supply_link",
        subject=data.option_ids[o],
        product=data.product_of[o],
        period=t,
        row=np.tile(np.arange(n), 2),
        col=np.concatenate([x[o, t], y[o, t]]),
        coef=np.concatenate([np.ones(n), -big_m]),
        upper=0.0,
        structural=True,
    )


def country_share(data: Data, v: Variables, rows: Constraints) -> None:
    """country_share: Σ_{o ∈ p, origin(o) = c} x[o,t] ≤ s_country · D[p,t]   for each origin c, p, t"""
    share = data.problem.constraints.max_share_country
    if share is not None:
        origin = data.attrs["origin"].to_numpy().astype(str)
        _share_cap(data, v, rows, "country_share", _by_product(data, origin), _everywhere(data), share)


def supplier_share(data: Data, v: Variables, rows: Constraints) -> None:
    """supplier_share: Σ_{o ∈ p, supplier(o) = k} x[o,t] ≤ s_supplier · D[p,t]   for each supplier k, p, t"""
    share = data.problem.constraints.max_share_supplier
    if share is not None:
        supplier = data.attrs["supplier"].to_numpy().astype(str)
        _share_cap(data, v, rows, "supplier_share", _by_product(data, supplier), _everywhere(data), share)


def feoc_cap(data: Data, v: Variables, rows: Constraints) -> None:
    """feoc_cap: Σ_{o ∈ p, origin(o) ∈ FEOC(t)} x[o,t] ≤ s_feoc · D[p,t]   for each product p, period t

    FEOC membership is dated: each period uses its own date (``period_dates``).
    """
    share = data.problem.constraints.max_share_feoc
    if share is not None:
        _share_cap(data, v, rows, "feoc_cap", data.products[data.product_of], data.flags("feoc"), share)


def partner_floor(data: Data, v: Variables, rows: Constraints) -> None:
    """partner_floor: Σ_{o ∈ p, origin(o) ∈ partners(t)} x[o,t] ≥ s_partner · D[p,t]   for each p, t

    Stored as −Σ x ≤ −s · D, as the shares above. A product with no partner option still gets its row, so
    an unreachable floor is reported rather than silently skipped.
    """
    share = data.problem.constraints.min_share_partners
    if share is None:
        return
    cells, row_of = _demand_cells(data)
    x = v["x"]
    o, t = np.nonzero((x >= 0) & data.flags("partner"))
    need = data.demand.ravel()[cells]
    p_row, t_row = np.divmod(cells, len(data.periods))
    rows.add(
        "partner_floor",
        subject=data.products[p_row],
        product=p_row,
        period=t_row,
        row=row_of[data.product_of[o] * len(data.periods) + t],
        col=x[o, t],
        coef=-1.0,
        upper=-share * need,
        scale=-0.01 * need,
    )


def dfars_ban(data: Data, v: Variables, rows: Constraints) -> None:
    """dfars_ban: x[o,t] ≤ 0   for each option from a covered country supplying a DFARS product from 2027

    Covered countries and DFARS products come from the file; periods are dated by ``period_dates``, and the
    ban starts with the widening of DFARS 252.225-7052 on 1 Jan 2027.
    """
    problem = data.problem
    if not (problem.constraints.dfars_ban and problem.dfars_products):
        return
    in_force = np.array([period_date(problem, p) >= DFARS_WIDENING for p in data.periods])
    dfars_product = np.isin(data.products[data.product_of], problem.dfars_products)
    x = v["x"]
    o, t = np.nonzero((x >= 0) & data.flags("dfars_covered") & in_force[None, :] & dfars_product[:, None])
    rows.add(
        "dfars_ban",
        subject=data.option_ids[o],
        product=data.product_of[o],
        period=t,
        row=np.arange(o.size),
        col=x[o, t],
        coef=1.0,
        upper=0.0,
    )


def switch_link(data: Data, v: Variables, rows: Constraints) -> None:
    """switch_link: m[o,t] ≥ current_o − x[o,t]   for each option in the current mix and period with demand

    Stored as −x[o,t] − m[o,t] ≤ −current_o; with m ≥ 0 it measures the volume moved away from the option.
    """
    x, m = v["x"], v["m"]
    o, t = np.nonzero(m >= 0)
    rows.add(
        "switch_link",
        subject=data.option_ids[o],
        product=data.product_of[o],
        period=t,
        row=np.tile(np.arange(o.size), 2),
        col=np.concatenate([x[o, t], m[o, t]]),
        coef=-1.0,
        upper=-data.current[o],
        structural=True,
    )


def switching(data: Data, v: Variables, rows: Constraints) -> None:
    """switching: Σ_{o ∈ p} m[o,t] ≤ s_switch · D[p,t]   for each product p, period t with demand"""
    share = data.problem.constraints.max_switch_share
    if share is None:
        return
    cells, row_of = _demand_cells(data)
    m = v["m"]
    o, t = np.nonzero(m >= 0)
    need = data.demand.ravel()[cells]
    p_row, t_row = np.divmod(cells, len(data.periods))
    rows.add(
        "switching",
        subject=data.products[p_row],
        product=p_row,
        period=t_row,
        row=row_of[data.product_of[o] * len(data.periods) + t],
        col=m[o, t],
        coef=1.0,
        upper=share * need,
        scale=0.01 * need,
    )


def cvar(data: Data, v: Variables, rows: Constraints) -> None:
    """cvar: Σ_{o,t} c_s[o] x[o,t] + Σ_o f_o q[o] + Σ_{p,t} π[p,t] short[p,t] − eta − u[s] ≤ 0   for each s

    u[s] ≥ 0 is the scenario's total cost above the threshold eta (Rockafellar–Uryasev linearisation).
    """
    if "eta" not in v:
        return
    x, q, short = v["x"], v["q"], v["short"]
    o, _t = np.nonzero(x >= 0)
    n_s = data.probabilities.size
    cols = np.concatenate([x[x >= 0], q[q >= 0], short[short >= 0]])
    fixed = np.concatenate([data.qualification_cost[q >= 0], data.penalty[short >= 0]])
    coef = np.column_stack([data.unit_cost[o].T, np.tile(fixed, (n_s, 1)), -np.ones((n_s, 2))])
    rows.add(
        "cvar",
        subject=np.array([s.name for s in data.problem.scenarios], dtype=str),
        product=-1,
        period=-1,
        row=np.repeat(np.arange(n_s), cols.size + 2),
        col=np.column_stack([np.tile(cols, (n_s, 1)), np.full(n_s, v["eta"][0]), v["u"]]).ravel(),
        coef=coef.ravel(),
        upper=0.0,
        structural=True,
    )


Family = Callable[[Data, Variables, Constraints], None]
FAMILIES: tuple[Family, ...] = (
    demand,
    capacity,
    min_order,
    supply_link,
    country_share,
    supplier_share,
    feoc_cap,
    partner_floor,
    dfars_ban,
    switch_link,
    switching,
    cvar,
)


@dataclass
class Model:
    """The assembled program: data, named variable blocks, named constraint families and the cost vector."""

    data: Data
    variables: Variables
    rows: Constraints
    c: Floats

    @cached_property
    def matrix(self) -> sparse.csr_matrix:
        """The constraint matrix, rows in family order, columns in block order."""
        return self.rows.matrix(self.c.size)


def build(problem: Problem, risk_price: float | None = None) -> Model:
    """Variables, then each constraint family in turn, then the objective."""
    data = prepare(problem, risk_price)
    variables = allocate(data)
    rows = Constraints(periods=data.periods)
    for family in FAMILIES:
        family(data, variables, rows)
    return Model(data, variables, rows, objective(data, variables))


# --- helpers shared by families -----------------------------------------------------------------------------


def _demand_cells(data: Data) -> tuple[Index, Index]:
    """Flat (product, period) cells with demand, and a lookup from any cell to its row (-1 without demand)."""
    cells = np.flatnonzero(data.demand.ravel() > 0)
    row_of = np.full(data.demand.size, -1, dtype=np.int64)
    row_of[cells] = np.arange(cells.size)
    return cells, row_of


def _by_product(data: Data, key: NDArray[np.str_]) -> NDArray[np.str_]:
    """Group key ``key/product`` per option: shares are always within one product."""
    return np.char.add(np.char.add(key, "/"), data.products[data.product_of])


def _everywhere(data: Data) -> NDArray[np.bool_]:
    return np.ones((data.option_ids.size, len(data.periods)), dtype=bool)


def _share_cap(
    data: Data,
    v: Variables,
    rows: Constraints,
    name: str,
    group: NDArray[np.str_],
    member: NDArray[np.bool_],
    share: float,
) -> None:
    """Σ_{o in group g (within one product p), member in t} x[o,t] ≤ share · D[p,t]   for each g, t

    A group without members in a period has no row: the cap cannot bind.
    """
    x = v["x"]
    n_t = len(data.periods)
    names, code = np.unique(group, return_inverse=True)
    product_of_group = np.zeros(names.size, dtype=np.int64)
    product_of_group[code] = data.product_of
    key = np.where((x >= 0) & member, code[:, None] * n_t + np.arange(n_t)[None, :], -1)
    row, cell, groups = grouped_sum(key)
    g, t = np.divmod(groups, n_t)
    need = data.demand[product_of_group[g], t]
    rows.add(
        name,
        subject=names[g],
        product=product_of_group[g],
        period=t,
        row=row,
        col=x.ravel()[cell],
        coef=1.0,
        upper=share * need,
        scale=0.01 * need,
    )
