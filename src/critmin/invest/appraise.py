"""Deterministic, tornado, scenario-branch and Monte Carlo appraisal of a project.

Conventions (also in docs/invest.md): year t's cash flow falls at time t and is discounted by (1 + r)^t, so
year 0 (the first construction outlay) is undiscounted; IRR is the rate that makes the deterministic NPV
zero; payback is read on the same clock: the time from year 0's flow until cumulative undiscounted cash flow
reaches zero, interpolated linearly within the year it turns; LCOP is the levelised cost of product,
PV(capex + opex - salvage) / PV(volume), before tax and credits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import brentq

from critmin.invest.cashflow import (
    Array,
    CashFlows,
    cash_flows,
    discount_factors,
    median_price_path,
    npv,
    volumes,
)
from critmin.invest.model import Project, project_from_dict
from critmin.invest.prices import VolatilityEstimate, price_paths, resolve_volatility


@dataclass(frozen=True)
class Branch:
    """A policy branch: its probability and the project fields it changes (dotted keys, like --set)."""

    name: str
    probability: float
    overrides: dict[str, Any]


@dataclass
class Appraisal:
    npv: float
    irr: float | None
    payback_years: float | None
    lcop: float
    npv_by_branch: dict[str, float]
    expected_npv: float | None
    npv_mean: float | None
    npv_p5: float | None
    npv_p50: float | None
    npv_p95: float | None
    prob_npv_negative: float | None
    floor_value: float | None
    breakeven_floor: float | None
    breakeven_note: str
    volatility: float
    volatility_source: str
    volatility_series: str | None = None
    volatility_years: list[int] = field(default_factory=list)
    tornado: list[dict[str, float | str]] = field(default_factory=list)
    cash_flow_table: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "npv": self.npv,
            "irr": self.irr,
            "payback_years": self.payback_years,
            "lcop": self.lcop,
            "npv_by_branch": self.npv_by_branch,
            "expected_npv": self.expected_npv,
            "npv_mean": self.npv_mean,
            "npv_p5": self.npv_p5,
            "npv_p50": self.npv_p50,
            "npv_p95": self.npv_p95,
            "prob_npv_negative": self.prob_npv_negative,
            "floor_value": self.floor_value,
            "breakeven_floor": self.breakeven_floor,
            "breakeven_note": self.breakeven_note,
            "volatility": self.volatility,
            "volatility_source": self.volatility_source,
            "volatility_series": self.volatility_series,
            "volatility_years": self.volatility_years,
            "tornado": self.tornado,
            "cash_flows": self.cash_flow_table,
        }


def deterministic_flows(project: Project, *, with_floor: bool = True) -> CashFlows:
    return cash_flows(project, median_price_path(project)[None, :], with_floor=with_floor)


def deterministic_npv(project: Project, *, with_floor: bool = True) -> float:
    return float(npv(deterministic_flows(project, with_floor=with_floor).net, project.discount_rate)[0])


def irr(net: Array) -> float | None:
    """The discount rate in (-99%, 1000%) that zeroes NPV, or None when the flows never change sign."""
    flows = np.asarray(net, dtype=np.float64).ravel()

    def value(rate: float) -> float:
        return float(flows @ discount_factors(rate, flows.size))

    low, high = -0.99, 10.0
    if np.sign(value(low)) == np.sign(value(high)):
        return None
    return float(brentq(value, low, high, xtol=1e-12))


def payback_years(net: Array) -> float | None:
    """Time from year 0's flow until cumulative undiscounted cash flow reaches zero (None if it never does).

    Year t's flow falls at time t, the NPV clock; within the year the total turns, it is interpolated
    linearly, as if that year's flow came in evenly.
    """
    flows = np.asarray(net, dtype=np.float64).ravel()
    cumulative = np.cumsum(flows)
    if cumulative[-1] < 0:
        return None
    negative = np.nonzero(cumulative < 0)[0]
    if negative.size == 0:
        return 0.0
    last_negative = int(negative[-1])
    if last_negative + 1 >= flows.size:
        return None
    # cumulative crosses zero during year last_negative + 1 (flows fall at year ends)
    fraction = -cumulative[last_negative] / flows[last_negative + 1]
    return float(last_negative + fraction)


def lcop(project: Project) -> float:
    flows = deterministic_flows(project, with_floor=False)
    factors = discount_factors(project.discount_rate, project.horizon)
    costs = (flows.capex[0] + flows.opex[0] - flows.salvage[0]) @ factors
    output = volumes(project) @ factors
    return float(costs / output)


TORNADO_INPUTS: dict[str, str] = {
    "price.base": "market price",
    "capacity_per_year": "capacity",
    "opex_variable_per_unit": "variable opex",
    "feedstock_cost_per_unit": "feedstock cost",
    "opex_fixed_per_year": "fixed opex",
    "discount_rate": "discount rate",
}


def _scaled_capex(project: Project, factor: float) -> Project:
    items = [{"year": c.year, "amount": c.amount * factor} for c in project.capex]
    return project.model_copy(update={"capex": [type(project.capex[0])(**i) for i in items]})


def tornado(project: Project, swing: float = 0.2) -> list[dict[str, float | str]]:
    """NPV with each input moved down and up by ``swing`` (one at a time), widest bar first."""
    base = project.model_dump()
    rows: list[dict[str, float | str]] = []
    for key, label in TORNADO_INPUTS.items():
        node: Any = base
        for part in key.split("."):
            node = node[part]
        value = float(node)
        if value == 0:
            continue
        low = deterministic_npv(project_from_dict(base, "tornado", {key: value * (1 - swing)}))
        high = deterministic_npv(project_from_dict(base, "tornado", {key: value * (1 + swing)}))
        rows.append({"input": label, "key": key, "low": low, "high": high, "range": abs(high - low)})
    capex_low = deterministic_npv(_scaled_capex(project, 1 - swing))
    capex_high = deterministic_npv(_scaled_capex(project, 1 + swing))
    rows.append(
        {
            "input": "capex",
            "key": "capex",
            "low": capex_low,
            "high": capex_high,
            "range": abs(capex_high - capex_low),
        }
    )
    return sorted(rows, key=lambda r: -float(r["range"]))


def breakeven_floor(project: Project) -> tuple[float | None, str]:
    """The floor level at which deterministic NPV is zero, keeping the project's floor terms (or defaults)."""
    base_npv = deterministic_npv(project, with_floor=False)
    if base_npv >= 0:
        return None, "NPV is non-negative without a floor; no floor is needed to break even"
    if project.floor is not None:
        terms = project.floor
    else:
        from critmin.invest.model import PriceFloor

        terms = PriceFloor(
            level=project.price.base,
            start_year=1,
            years=project.operating_years,
            volume_share=1.0,
            source="break-even search",
        )

    def npv_at(level: float) -> float:
        trial = project.model_copy(update={"floor": terms.model_copy(update={"level": level})})
        return deterministic_npv(trial)

    high = project.price.base
    while npv_at(high) < 0:
        high *= 2
        if high > 1e4 * project.price.base:
            return None, "no floor level up to 10,000x the base price makes NPV non-negative"
    return float(brentq(npv_at, 1e-9, high, xtol=1e-9)), (
        f"floor covering {terms.volume_share:.0%} of output for {terms.years} years from operating year "
        f"{terms.start_year}"
    )


def _branch_npvs(project: Project, branches: list[Branch]) -> dict[str, float]:
    total = sum(b.probability for b in branches)
    if branches and abs(total - 1) > 1e-6:
        raise ValueError(f"branch probabilities add up to {total:.6f}, not 1")
    base = project.model_dump()
    return {
        b.name: deterministic_npv(project_from_dict(base, f"branch {b.name}", b.overrides)) for b in branches
    }


def appraise(
    project: Project,
    *,
    branches: list[Branch] | None = None,
    draws: int = 0,
    seed: int = 0,
) -> Appraisal:
    """Everything an investment committee asks of a project, from one call.

    Deterministic NPV, IRR, payback and LCOP on the price deck; the tornado; the floor's value and the
    break-even floor; NPV per policy branch with its expectation when ``branches`` are given; and, with
    ``draws`` > 0, a seeded Monte Carlo over prices (volatility from the project's one price series) for
    the NPV percentiles, the probability of a loss and the floor's option value.
    """
    flows = deterministic_flows(project)
    npv_value = float(npv(flows.net, project.discount_rate)[0])
    estimate: VolatilityEstimate = resolve_volatility(project)
    volatility = estimate.volatility
    by_branch = _branch_npvs(project, branches or [])
    expected = float(sum(b.probability * by_branch[b.name] for b in branches or [])) if branches else None
    level, note = breakeven_floor(project)
    result = Appraisal(
        npv=npv_value,
        irr=irr(flows.net[0]),
        payback_years=payback_years(flows.net[0]),
        lcop=lcop(project),
        npv_by_branch=by_branch,
        expected_npv=expected,
        npv_mean=None,
        npv_p5=None,
        npv_p50=None,
        npv_p95=None,
        prob_npv_negative=None,
        floor_value=None,
        breakeven_floor=level,
        breakeven_note=note,
        volatility=volatility,
        volatility_source=estimate.source,
        volatility_series=estimate.series_id,
        volatility_years=list(estimate.years),
        tornado=tornado(project),
        cash_flow_table=[
            {
                "year": int(t),
                "volume": float(flows.volume[0, t]),
                "market_price": float(flows.market_price[0, t]),
                "revenue": float(flows.revenue[0, t]),
                "floor_payment": float(flows.floor_payment[0, t]),
                "opex": float(flows.opex[0, t]),
                "credits": float(flows.credits[0, t]),
                "capex": float(flows.capex[0, t]),
                "depreciation": float(flows.depreciation[0, t]),
                "tax": float(flows.tax[0, t]),
                "working_capital_change": float(flows.working_capital_change[0, t]),
                "salvage": float(flows.salvage[0, t]),
                "net": float(flows.net[0, t]),
            }
            for t in flows.year
        ],
    )
    if project.floor is None:
        result.floor_value = 0.0
    else:
        result.floor_value = npv_value - deterministic_npv(project, with_floor=False)
    if draws > 0:
        paths = price_paths(project, volatility, draws=draws, seed=seed)
        with_floor = npv(cash_flows(project, paths).net, project.discount_rate)
        without = npv(cash_flows(project, paths, with_floor=False).net, project.discount_rate)
        result.npv_p5, result.npv_p50, result.npv_p95 = (
            float(q) for q in np.percentile(with_floor, [5, 50, 95])
        )
        result.npv_mean = float(np.mean(with_floor))
        result.prob_npv_negative = float(np.mean(with_floor < 0))
        result.floor_value = float(np.mean(with_floor - without))
    return result
