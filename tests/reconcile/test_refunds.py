"""IEEPA refunds: the amount paid, the status, and the protest deadline - 180 days after the date of
liquidation (19 U.S.C. 1514(c)(3)) - with the calendar arithmetic written out."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import polars as pl
import pytest

from critmin.reconcile import reconcile_file
from critmin.reconcile.refunds import CAPE_COLUMNS


@pytest.mark.parametrize(
    ("liquidated", "deadline"),
    [
        # 2024-09-02 + 180 days: Sept 3..30 = 28, Oct 31 (59), Nov 30 (89), Dec 31 (120), Jan 31 (151),
        # Feb 2025 has 28 days (179), so day 180 is 1 March 2025
        (date(2024, 9, 2), date(2025, 3, 1)),
        # 2023-09-03 + 180 days: Sept 4..30 = 27, Oct 31 (58), Nov 30 (88), Dec 31 (119), Jan 31 (150),
        # Feb 2024 is a leap February of 29 days (179), so day 180 is 1 March 2024
        (date(2023, 9, 3), date(2024, 3, 1)),
        # 2025-08-31 + 180 days: Sept 30, Oct 31 (61), Nov 30 (91), Dec 31 (122), Jan 31 (153),
        # then 27 days of February -> 27 February 2026
        (date(2025, 8, 31), date(2026, 2, 27)),
        # 2026-06-26 + 180 days: June 27..30 = 4, Jul 31 (35), Aug 31 (66), Sep 30 (96), Oct 31 (127),
        # Nov 30 (157), then 23 days of December -> 23 December 2026
        (date(2026, 6, 26), date(2026, 12, 23)),
    ],
)
def test_protest_deadline_is_180_days_after_liquidation(ace: Any, liquidated: date, deadline: date) -> None:
    line = {"date": "06/01/2023", "origin": "IN", "liq": liquidated.isoformat(), "status": "Liquidated"}
    rows = [ace.ch99("E1", 1, "99030125", 1000, **line), ace.goods("E1", 1, "3923900080", 10000, 300, **line)]
    refunds = reconcile_file(ace.write(rows), today=deadline).refunds
    assert refunds.get_column("protest_deadline").item() == deadline
    # on the deadline itself the window is still open; a day later it is not
    assert refunds.get_column("status").item() == "protest_window"
    after = reconcile_file(ace.write(rows), today=date.fromordinal(deadline.toordinal() + 1)).refunds
    assert after.get_column("status").item() == "finally_liquidated"


def _rows(ace: Any) -> list[dict[str, Any]]:
    cn = {"date": "06/10/2025", "origin": "CN"}
    return [
        # unliquidated (ACE status, no date)
        ace.ch99("U1", 1, "99030124", 2000, status="Unliquidated", **cn),
        ace.goods("U1", 1, "8505110070", 10000, 210, status="Unliquidated", **cn),
        # liquidated 2026-08-21: deadline 2027-02-17 (Aug 22..31 = 10, Sep 30 (40), Oct 31 (71), Nov 30 (101),
        # Dec 31 (132), Jan 31 (163), 17 days of Feb) -> in the window on 2026-12-05, 74 days left
        ace.ch99("W1", 1, "99030124", 3000, liq="08/21/2026", status="Liquidated", **cn),
        ace.goods("W1", 1, "8505110070", 15000, 315, liq="08/21/2026", status="Liquidated", **cn),
        # liquidated 2026-01-30: deadline 2026-07-29, passed -> finally liquidated (contested)
        ace.ch99("F1", 1, "99030124", 1000, liq="01/30/2026", status="Liquidated", **cn),
        ace.goods("F1", 1, "8505110070", 5000, 105, liq="01/30/2026", status="Liquidated", **cn),
        # no liquidation data at all
        ace.ch99("D1", 1, "99030124", 400, **cn),
        ace.goods("D1", 1, "8505110070", 2000, 42, **cn),
        # liquidation scheduled after today: not yet liquidated
        ace.ch99("S1", 1, "99030124", 200, liq="01/15/2027", status="Liquidated", **cn),
        ace.goods("S1", 1, "8505110070", 1000, 21, liq="01/15/2027", status="Liquidated", **cn),
        # a reciprocal heading the library does not model (9903.02.xx, IEEPA country rate) is refundable too
        ace.ch99("U1", 2, "99030219", 700, status="Unliquidated", date="06/10/2025", origin="IN"),
        ace.goods("U1", 2, "3923900080", 2000, 60, status="Unliquidated", date="06/10/2025", origin="IN"),
    ]


def test_statuses_amounts_and_cape_export(ace: Any) -> None:
    result = reconcile_file(ace.write(_rows(ace)), today=date(2026, 12, 5))
    refunds = result.refunds
    status = {(r["entry_number"], r["heading"]): r["status"] for r in refunds.to_dicts()}
    assert status == {
        ("U1", "9903.01.24"): "unliquidated",
        ("U1", "9903.02.19"): "unliquidated",
        ("W1", "9903.01.24"): "protest_window",
        ("F1", "9903.01.24"): "finally_liquidated",
        ("D1", "9903.01.24"): "depends_on_liquidation",
        ("S1", "9903.01.24"): "unliquidated",
    }
    window = refunds.filter(pl.col("entry_number") == "W1").row(0, named=True)
    assert (window["protest_deadline"], window["days_left"]) == (date(2027, 2, 17), 74)
    final = refunds.filter(pl.col("entry_number") == "F1").row(0, named=True)
    assert (final["protest_deadline"], final["days_left"]) == (date(2026, 7, 29), -129)
    # totals by status: unliquidated 2,000 + 700 + 200; window 3,000; final 1,000; unknown 400
    assert result.totals()["refund_by_status"] == {
        "unliquidated": 2900.0,
        "protest_window": 3000.0,
        "finally_liquidated": 1000.0,
        "depends_on_liquidation": 400.0,
    }
    cape = list(csv.DictReader(io.StringIO(result.cape_csv())))
    assert list(cape[0]) == list(CAPE_COLUMNS.values())
    assert len(cape) == 6
    assert {r["entry_number"] for r in cape if r["status"] == "protest_window"} == {"W1"}
    assert next(r for r in cape if r["entry_number"] == "W1")["protest_deadline"] == "2027-02-17"
    # CAPE lists the entries refundable now: unliquidated or in the protest window
    assert result.cape_entries() == ["S1", "U1", "W1"]


def test_the_refund_is_what_was_paid_not_what_the_engine_computes(ace: Any) -> None:
    # the engine owes 20% x 10,000.00 = 2,000.00 under 9903.01.24 (entry of 2025-06-10); 2,100.00 was paid:
    # 2,100.00 is what CBP refunds, and the 100.00 difference is a rate_differs variance
    rows = [
        ace.ch99("E1", 1, "99030124", 2100, status="Unliquidated"),
        ace.goods("E1", 1, "8505110070", 10000, 210, status="Unliquidated"),
    ]
    result = reconcile_file(ace.write(rows), today=date(2026, 12, 5))
    refund = result.refunds.row(0, named=True)
    assert (refund["amount"], refund["expected"], refund["measure_id"]) == (
        2100.0,
        2000.0,
        "ieepa_fentanyl_china_20pct",
    )
    slot = result.slots.filter(pl.col("slot") == "9903.01.24").row(0, named=True)
    assert (slot["variance"], slot["cause"]) == (100.0, "rate_differs")
