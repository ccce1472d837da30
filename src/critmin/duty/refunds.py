"""Refund status of invalidated IEEPA duties, line by line.

A refund of duties the Supreme Court invalidated is not one state. CBP refunds them through its CAPE process
(CSMS #68396594) for entries not yet liquidated and for entries liquidated within the last 180 days, the
window in which a protest may still be filed (19 U.S.C. 1514(c)(3)); refunds of finally liquidated entries
of importers who did not sue are contested (the government said on 2026-05-29 it would appeal them). The
ledger's ``liquidation_date`` decides; without it the status depends on liquidation and is said so.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

PROTEST_DAYS = 180
STATUSES = ("unliquidated", "protest_window", "finally_liquidated", "depends_on_liquidation")
STATUS_TEXT = {
    "unliquidated": "not yet liquidated: refundable through CBP's CAPE process",
    "protest_window": "liquidated within the 180-day protest window: refundable through CAPE by the deadline",
    "finally_liquidated": "finally liquidated: refund contested (the government is appealing such refunds)",
    "depends_on_liquidation": "no liquidation date in the ledger: refundable if unliquidated or liquidated "
    "within the last 180 days, contested if finally liquidated",
}


def refund_status(lines: pl.DataFrame, today: date) -> pl.DataFrame:
    """``line_id``, ``refund_eligible``, ``refund_status`` and ``protest_deadline`` for lines with a
    refundable amount (``today`` is the day the protest window is judged on)."""
    liquidated = pl.col("liquidation_date")
    deadline = liquidated + timedelta(days=PROTEST_DAYS)
    status = (
        pl.when(liquidated.is_null())
        .then(pl.lit("depends_on_liquidation"))
        .when(liquidated > pl.lit(today))
        .then(pl.lit("unliquidated"))
        .when(deadline >= pl.lit(today))
        .then(pl.lit("protest_window"))
        .otherwise(pl.lit("finally_liquidated"))
    )
    frame = (
        lines
        if "liquidation_date" in lines.columns
        else lines.with_columns(pl.lit(None, dtype=pl.Date).alias("liquidation_date"))
    )
    return frame.filter(pl.col("refund_eligible") > 0).select(
        "line_id",
        "refund_eligible",
        status.alias("refund_status"),
        pl.when(liquidated.is_not_null()).then(deadline).alias("protest_deadline"),
    )


def refund_totals(lines: pl.DataFrame, today: date) -> dict[str, float]:
    """Refundable dollars by status (every status present, zero where no line has it)."""
    per = refund_status(lines, today).group_by("refund_status").agg(pl.col("refund_eligible").sum())
    found = {str(k): float(v) for k, v in per.iter_rows()}
    return {s: found.get(s, 0.0) for s in STATUSES}


__all__ = ["PROTEST_DAYS", "STATUSES", "STATUS_TEXT", "refund_status", "refund_totals"]
