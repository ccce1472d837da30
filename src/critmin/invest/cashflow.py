"""Yearly cash flows of a project for many price paths at once.

Everything is an array of shape (paths, years); the only loop is over years, for the tax-loss carry-forward,
which depends on the previous year. Revenue is built up from the market price so that the floor, the tariff
pass-through and each offtake are visible as separate lines of the cash-flow table.

Conventions (docs/invest.md, "Conventions"): taxable income is sales (revenue + floor payments) less opex
and depreciation, losses carried forward; credits are untaxed cash. Working capital is a share of sales,
floor payments included (they are billed and collected like sales, so they tie up receivables too), and is
released in the last year. Depreciation runs per capex tranche (``capex_and_depreciation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from critmin.invest.model import Project

Array = NDArray[np.float64]


@dataclass(frozen=True)
class CashFlows:
    """Each field is (paths, years); ``year`` is the year index (0 = first construction year)."""

    year: NDArray[np.int64]
    volume: Array
    market_price: Array
    revenue: Array
    floor_payment: Array
    opex: Array
    credits: Array
    capex: Array
    depreciation: Array
    tax: Array
    working_capital_change: Array
    salvage: Array
    net: Array


def _active(project_years: NDArray[np.int64], start: int, start_year: int, years: int) -> Array:
    """1.0 in operating years start_year .. start_year+years-1 (1-based operating years), else 0.0."""
    operating_year = project_years - start + 1
    return ((operating_year >= start_year) & (operating_year < start_year + years)).astype(np.float64)


def volumes(project: Project) -> Array:
    years = np.arange(project.horizon)
    k = years - project.operations_start
    ramp = np.asarray(project.ramp_up, dtype=np.float64)
    utilisation = np.where(k >= 0, ramp[np.clip(k, 0, len(ramp) - 1)], 0.0)
    return project.capacity_per_year * utilisation


def median_price_path(project: Project) -> Array:
    """The deterministic price in each year: the base price grown at the drift (zero before operations)."""
    years = np.arange(project.horizon)
    k = years - project.operations_start
    return np.where(k >= 0, project.price.base * np.exp(project.price.drift * np.maximum(k, 0)), 0.0)


def capex_and_depreciation(project: Project) -> tuple[Array, Array]:
    """Capex by year and the straight-line tax depreciation of it, tranche by tranche.

    Each capex item (tranche) is depreciated in equal parts over ``depreciation_years`` from the later of
    the year it is spent and ``operations_start``: construction capex from the first operating year (when
    the plant is placed in service), sustaining capex from the year it is spent, never before. Basis not yet
    depreciated at the end of the horizon is deducted in the last year (written off at closure).
    """
    horizon = project.horizon
    spent = np.array([item.year for item in project.capex], dtype=np.int64)
    amount = np.array([item.amount for item in project.capex], dtype=np.float64)
    late = spent[spent >= horizon]
    if late.size:
        raise ValueError(f"capex in year {int(late.max())} falls after the project's last year {horizon - 1}")
    capex_by_year = np.bincount(spent, weights=amount, minlength=horizon).astype(np.float64)
    in_service = np.maximum(spent, project.operations_start)
    age = np.arange(horizon)[None, :] - in_service[:, None]  # (tranches, years)
    schedule = np.where((age >= 0) & (age < project.depreciation_years), 1.0, 0.0)
    per_tranche = schedule * (amount / project.depreciation_years)[:, None]
    per_tranche[:, -1] += amount - per_tranche.sum(axis=1)  # the rest of the basis, written off at the end
    return capex_by_year, per_tranche.sum(axis=0)


def cash_flows(project: Project, market_price: Array, *, with_floor: bool = True) -> CashFlows:
    """Cash flows for each row of ``market_price`` (paths x years; USD per unit before any tariff)."""
    prices = np.atleast_2d(np.asarray(market_price, dtype=np.float64))
    paths, horizon = prices.shape
    if horizon != project.horizon:
        raise ValueError(f"price paths have {horizon} years, the project has {project.horizon}")
    years = np.arange(horizon)
    start = project.operations_start
    volume = np.broadcast_to(volumes(project), (paths, horizon))

    domestic = prices.copy()
    if project.tariff is not None:
        on = _active(years, start, project.tariff.start_year, horizon)
        domestic = prices * (1.0 + project.tariff.rate * project.tariff.pass_through * on)

    revenue = np.zeros((paths, horizon))
    merchant_share = np.ones(horizon)
    for offtake in project.offtakes:
        on = _active(years, start, offtake.start_year, offtake.years)
        share = offtake.volume_share * on
        merchant_share = merchant_share - share
        if offtake.pricing == "fixed":
            assert offtake.price is not None  # enforced by the model
            revenue += volume * share * offtake.price
        else:
            revenue += volume * share * domestic * (1.0 - offtake.discount)
    revenue += volume * merchant_share * domestic

    floor_payment = np.zeros((paths, horizon))
    if with_floor and project.floor is not None:
        floor = project.floor
        on = _active(years, start, floor.start_year, floor.years)
        floor_payment = volume * floor.volume_share * on * np.maximum(0.0, floor.level - domestic)

    unit_cost = project.opex_variable_per_unit + project.feedstock_cost_per_unit
    operating = (years >= start).astype(np.float64)
    opex = project.opex_fixed_per_year * operating + unit_cost * volume

    credits = np.zeros((paths, horizon))
    for credit in project.credits:
        credits += volume * credit.per_unit * _active(years, start, credit.start_year, credit.years)

    capex_by_year, depreciation_row = capex_and_depreciation(project)
    capex = np.broadcast_to(capex_by_year, (paths, horizon))
    depreciation = np.broadcast_to(depreciation_row, (paths, horizon))

    sales = revenue + floor_payment
    taxable = sales - opex - depreciation
    tax = np.zeros((paths, horizon))
    carried_loss = np.zeros(paths)
    for t in range(horizon):  # carry-forward links each year to the one before
        income = taxable[:, t] - carried_loss
        tax[:, t] = project.tax_rate * np.maximum(income, 0.0)
        carried_loss = np.maximum(-income, 0.0)

    working_capital = project.working_capital_share * sales
    wc_change = np.diff(working_capital, axis=1, prepend=0.0)
    wc_change[:, -1] -= working_capital[:, -1]  # released at the end of the project

    salvage = np.zeros((paths, horizon))
    salvage[:, -1] = project.salvage_value

    net = sales - opex + credits - capex - tax - wc_change + salvage
    return CashFlows(
        year=years,
        volume=np.array(volume),
        market_price=prices,
        revenue=revenue,
        floor_payment=floor_payment,
        opex=opex,
        credits=credits,
        capex=np.array(capex),
        depreciation=np.array(depreciation),
        tax=tax,
        working_capital_change=wc_change,
        salvage=salvage,
        net=net,
    )


def discount_factors(rate: float, horizon: int) -> Array:
    return np.asarray(1.0 / (1.0 + rate) ** np.arange(horizon), dtype=np.float64)


def npv(net: Array, rate: float) -> Array:
    """Net present value of each path (end-of-year flows, year 0 undiscounted)."""
    flows = np.atleast_2d(net)
    return np.asarray(flows @ discount_factors(rate, flows.shape[1]), dtype=np.float64)
