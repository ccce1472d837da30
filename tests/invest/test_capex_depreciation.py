"""Capex tranches are depreciated from when they are spent; the payback clock and working-capital rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from critmin.invest.appraise import deterministic_flows, payback_years
from critmin.invest.cashflow import capex_and_depreciation
from critmin.invest.model import Project, project_from_dict


def plant(**changes: Any) -> Project:
    """One construction year, four operating years of 10 units at $10 (revenue 100 a year), no opex."""
    data: dict[str, Any] = {
        "name": "plant",
        "product": "oxide",
        "stage": "oxide_salt_compound",
        "label": "test",
        "capacity_per_year": 10,
        "ramp_up": [1.0],
        "operations_start": 1,
        "operating_years": 4,
        "capex": [{"year": 0, "amount": 100}, {"year": 3, "amount": 40}],
        "opex_fixed_per_year": 0,
        "opex_variable_per_unit": 0,
        "feedstock_cost_per_unit": 0,
        "tax_rate": 0.25,
        "depreciation_years": 2,
        "discount_rate": 0.10,
        "price": {"base": 10, "volatility": 0.0, "source": "test"},
    }
    data.update(changes)
    return project_from_dict(data, "test")


def test_sustaining_capex_is_depreciated_from_the_year_it_is_spent() -> None:
    p = plant()
    flows = deterministic_flows(p)
    # Construction capex 100 (year 0) is placed in service with operations in year 1: 100 / 2 = 50 in years
    # 1 and 2. Sustaining capex 40 spent in year 3: 40 / 2 = 20 in years 3 and 4, not before it is spent.
    # (Depreciating the 140 in total from year 1 gave 70 in years 1 and 2: 40 deducted two years early.)
    np.testing.assert_allclose(flows.capex[0], [100, 0, 0, 40, 0])
    np.testing.assert_allclose(flows.depreciation[0], [0, 50, 50, 20, 20])
    # taxable = revenue 100 - depreciation: 50, 50, 80, 80; tax at 25%: 12.5, 12.5, 20, 20
    np.testing.assert_allclose(flows.tax[0], [0, 12.5, 12.5, 20, 20])
    # net = revenue - capex - tax: -100; 100 - 12.5 = 87.5; 87.5; 100 - 40 - 20 = 40; 100 - 20 = 80
    np.testing.assert_allclose(flows.net[0], [-100, 87.5, 87.5, 40, 80])
    # every dollar of capex is deducted once over the project
    assert flows.depreciation[0].sum() == pytest.approx(140)


def test_basis_left_at_the_end_is_written_off_in_the_last_year() -> None:
    # 40 spent in year 4, the last year: 20 that year by the schedule plus the 20 the horizon cuts off
    capex, depreciation = capex_and_depreciation(
        plant(capex=[{"year": 0, "amount": 100}, {"year": 4, "amount": 40}])
    )
    np.testing.assert_allclose(capex, [100, 0, 0, 0, 40])
    np.testing.assert_allclose(depreciation, [0, 50, 50, 0, 40])
    # a schedule longer than the operating life: 100 / 6 = 16.667 a year in years 1-3, the rest (50) in year 4
    _, long_life = capex_and_depreciation(plant(capex=[{"year": 0, "amount": 100}], depreciation_years=6))
    np.testing.assert_allclose(long_life, [0, 100 / 6, 100 / 6, 100 / 6, 100 - 300 / 6])


def test_tranches_in_one_year_add_up_and_late_capex_is_refused() -> None:
    _, depreciation = capex_and_depreciation(
        plant(capex=[{"year": 0, "amount": 60}, {"year": 0, "amount": 40}, {"year": 2, "amount": 10}])
    )
    # 100 from year 1: 50, 50; 10 spent in year 2: 5 in years 2 and 3 -> 0, 50, 55, 5, 0
    np.testing.assert_allclose(depreciation, [0, 50, 55, 5, 0])
    with pytest.raises(ValueError, match="capex in year 7 falls after the project's last year 4"):
        capex_and_depreciation(plant(capex=[{"year": 7, "amount": 1}]))


def test_payback_clock_is_the_npv_clock() -> None:
    # year t's flow falls at time t (year 0 undiscounted). Cumulative: -100, -12.5, 75, 115, 195.
    # It turns non-negative during year 2: 1 + 12.5 / 87.5 = 1.142857 years after year 0's outlay.
    net = deterministic_flows(plant()).net[0]
    assert payback_years(net) == pytest.approx(1 + 12.5 / 87.5)
    # a later dip below zero (a big sustaining outlay) moves payback to the last time the total turns
    # cumulative -100, -50, 0, -50, 50 -> last negative in year 3, recovered during year 4: 3 + 50 / 100 = 3.5
    assert payback_years(np.array([-100.0, 50, 50, -50, 100])) == pytest.approx(3.5)
    assert payback_years(np.array([-100.0, 50, 40])) is None


def test_floor_payments_count_as_sales_for_working_capital_and_tax() -> None:
    p = plant(
        capex=[{"year": 0, "amount": 100}],
        tax_rate=0.0,
        working_capital_share=0.1,
        floor={"level": 12, "start_year": 1, "years": 4, "source": "t"},
    )
    flows = deterministic_flows(p)
    # sales = revenue 100 + floor top-up 10 units x (12 - 10) = 20 -> 120 a year in years 1-4
    np.testing.assert_allclose(flows.floor_payment[0], [0, 20, 20, 20, 20])
    # working capital 10% of 120 = 12, built in year 1 and released in year 4: changes 0, 12, 0, 0, -12
    np.testing.assert_allclose(flows.working_capital_change[0], [0, 12, 0, 0, -12])
    np.testing.assert_allclose(flows.net[0], [-100, 108, 120, 120, 132])
