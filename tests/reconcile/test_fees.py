"""Merchandise processing fee and harbor maintenance fee: golden cases with the arithmetic written out.

MPF = 0.3464% of the entry's value (lines claiming an MPF-exempt programme left out), at least the fiscal
year's minimum and at most its maximum (19 CFR 24.23(b)(1)): FY2025 (2024-10-01 .. 2025-09-30) $32.71 /
$634.62 (FR Doc 2024-15990), FY2026 (2025-10-01 .. 2026-09-30) $33.58 / $651.50 (90 FR 34665).
HMF = 0.125% of the value of vessel cargo (mode 10/11), no limits (19 CFR 24.24).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from critmin.reconcile import reconcile_file
from critmin.reconcile.fees import MPF_YEARS, entry_fees, fiscal_year, mpf_for


def test_fiscal_years_turn_on_1_october() -> None:
    days = pl.DataFrame({"d": [date(2024, 9, 30), date(2024, 10, 1), date(2025, 9, 30), date(2025, 10, 1)]})
    assert days.select(fiscal_year(pl.col("d"))).to_series().to_list() == [2024, 2025, 2025, 2026]


def test_the_fiscal_year_limits_are_the_notices() -> None:
    years = {y.fiscal_year: (y.minimum, y.maximum) for y in MPF_YEARS}
    assert years[2025] == (32.71, 634.62)
    assert years[2026] == (33.58, 651.50)
    assert all(y.start.month == 10 and y.start.day == 1 for y in MPF_YEARS)


@pytest.mark.parametrize(
    ("value", "day", "mpf"),
    [
        # 0.3464% x 5,000.00 = 17.32, below the FY2025 minimum -> 32.71
        (5_000.00, date(2025, 9, 30), 32.71),
        # the same entry a day later is in FY2026 -> its minimum 33.58
        (5_000.00, date(2025, 10, 1), 33.58),
        # 0.3464% x 100,000.00 = 346.40, between the limits
        (100_000.00, date(2025, 6, 10), 346.40),
        # 0.3464% x 12,345.67 = 42.765 (42.7654...) -> rounded half up to 42.77
        (12_345.67, date(2025, 6, 10), 42.77),
        # 0.3464% x 200,000.00 = 692.80, above the FY2025 maximum -> 634.62
        (200_000.00, date(2025, 9, 30), 634.62),
        # 0.3464% x 250,000.00 = 866.00, above the FY2026 maximum -> 651.50
        (250_000.00, date(2025, 11, 20), 651.50),
        # 0.3464% x 9,694.00 = 33.58 exactly: the FY2026 minimum reached, not raised
        (9_694.00, date(2026, 9, 30), 33.58),
    ],
)
def test_mpf_minimum_maximum_and_the_fiscal_year(value: float, day: date, mpf: float) -> None:
    assert mpf_for(value, day) == pytest.approx(mpf, abs=1e-9)


def test_mpf_of_a_fiscal_year_critmin_does_not_have_is_unknown() -> None:
    # FY2027 begins 2026-10-01; its notice was not found: unknown, never zero
    assert mpf_for(5_000.00, date(2026, 10, 1)) is None


def _entries(rows: list[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    lines = pl.DataFrame(
        [
            {k: r[k] for k in ("entry_number", "customs_value_usd", "preference_program", "claim_eligible")}
            for r in rows
        ],
        schema={
            "entry_number": pl.String,
            "customs_value_usd": pl.Float64,
            "preference_program": pl.String,
            "claim_eligible": pl.Boolean,
        },
    )
    entries = pl.DataFrame(
        [
            {
                k: r[k]
                for k in (
                    "entry_number",
                    "entry_date",
                    "entry_type",
                    "mode_of_transport",
                    "paid_mpf",
                    "paid_hmf",
                )
            }
            for r in rows
        ]
    ).unique("entry_number", keep="first", maintain_order=True)
    return lines, entries


def _row(entry: str, value: float, **kw: Any) -> dict[str, Any]:
    base = {
        "entry_number": entry,
        "customs_value_usd": value,
        "preference_program": None,
        "claim_eligible": None,
        "entry_date": date(2025, 11, 20),
        "entry_type": "01",
        "mode_of_transport": "11",
        "paid_mpf": None,
        "paid_hmf": None,
    }
    return base | kw


def test_exempt_programme_lines_are_left_out_of_the_mpf_value() -> None:
    lines, entries = _entries(
        [
            # a USMCA line (S, origin eligible) is exempt; the other line's 20,000.00 pays:
            # 0.3464% x 20,000.00 = 69.28 (between the FY2026 limits 33.58 .. 651.50)
            _row("E1", 100_000.00, preference_program="S", claim_eligible=True),
            _row("E1", 20_000.00),
            # every line exempt: no MPF at all, not the minimum
            _row("E2", 50_000.00, preference_program="KR", claim_eligible=True),
            # a KR claim the origin is not eligible for exempts nothing: 0.3464% x 50,000.00 = 173.20
            _row("E3", 50_000.00, preference_program="KR", claim_eligible=False),
        ]
    )
    mpf = entry_fees(lines, entries).filter(pl.col("fee") == "MPF")
    owed = dict(mpf.select("entry_number", "expected").iter_rows())
    assert owed == {"E1": pytest.approx(69.28), "E2": 0.0, "E3": pytest.approx(173.20)}
    e2 = mpf.filter(pl.col("entry_number") == "E2").get_column("explanation").item()
    assert "none owed (every line claims an MPF-exempt programme)" in e2


def test_hmf_is_owed_on_vessel_cargo_only() -> None:
    lines, entries = _entries(
        [
            _row("SEA", 10_000.00, mode_of_transport="11", paid_hmf=12.50),  # 0.125% x 10,000.00 = 12.50
            _row(
                "BULK", 4_321.00, mode_of_transport="10", paid_hmf=5.40
            ),  # 0.125% x 4,321.00 = 5.40125 -> 5.40
            _row("AIR", 10_000.00, mode_of_transport="40", paid_hmf=12.50),  # air: none owed, 12.50 paid
            _row("TRUCK", 10_000.00, mode_of_transport="30", paid_hmf=0.0),
            _row("NOMODE", 10_000.00, mode_of_transport=None, paid_hmf=0.0),
        ]
    )
    hmf = entry_fees(lines, entries).filter(pl.col("fee") == "HMF")
    got = {r["entry_number"]: (r["expected"], r["cause"]) for r in hmf.to_dicts()}
    assert got["SEA"] == (12.50, "match")
    assert got["BULK"] == (5.40, "match")
    assert got["AIR"] == (0.0, "fee_not_owed")
    assert got["TRUCK"] == (0.0, "match")
    assert got["NOMODE"] == (None, "fee_unknown")


def test_the_previous_years_minimum_paid_after_1_october(ace: Any) -> None:
    # entry of 2025-10-01 (FY2026) worth 6,000.00: 0.3464% x 6,000.00 = 20.78 -> FY2026 minimum 33.58;
    # paid 32.71, the FY2025 minimum: variance 32.71 - 33.58 = -0.87
    path = ace.write([ace.goods("AX7-1000015-5", 1, "8112926000", 6000, 156, date="10/01/2025", origin="DE",
                                mot="40", mpf="32.71")])  # fmt: skip
    fees = reconcile_file(path, today=date(2026, 12, 5)).fees
    mpf = fees.filter(pl.col("fee") == "MPF").row(0, named=True)
    assert (mpf["computed"], mpf["expected"], mpf["paid"], mpf["variance"]) == (20.78, 33.58, 32.71, -0.87)
    assert mpf["cause"] == "fee_fiscal_year"
    assert "is the FY2025 limit; an entry of 2025-10-01 is in FY2026" in mpf["explanation"]
    assert "FR Doc 2025-13869" in mpf["citation"]


def test_fees_total_compare_like_with_like(ace: Any) -> None:
    # HMF not exported for the entry -> not compared (and not a zero paid)
    columns = [c for c in ace.columns if c != "Line HMF Amount"]
    path = ace.write(
        [ace.goods("E1", 1, "8505110070", 10_000, 210, mpf="34.64")], columns=columns
    )  # 0.3464% x 10,000.00 = 34.64
    totals = reconcile_file(path, today=date(2026, 12, 5)).totals()
    assert totals["fees"]["mpf"] == {
        "paid": 34.64,
        "expected": 34.64,
        "variance": 0.0,
        "entries_compared": 1,
        "entries_not_compared": 0,
    }
    assert totals["fees"]["hmf"]["entries_compared"] == 0
    assert totals["fees"]["hmf"]["entries_not_compared"] == 1
