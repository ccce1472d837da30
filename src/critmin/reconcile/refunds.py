"""What you can get back: IEEPA duties paid, line by line, with their refund status and protest deadline.

The amount is what the entry line actually paid under a heading of an invalidated, refund-eligible
measure (the library's IEEPA measures, and any 9903.01/9903.02 heading): that deposit is what CBP refunds
through CAPE (CSMS #68396594), whatever critmin would have computed. The status comes from
:func:`critmin.duty.refunds.refund_status` (liquidation date + 180 days, 19 U.S.C. 1514(c)(3)); an entry
that has no liquidation date but whose ACE liquidation status says it is not liquidated (unliquidated,
extended, suspended) is ``unliquidated`` rather than ``depends_on_liquidation``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from critmin.duty.refunds import PROTEST_DAYS, STATUS_TEXT, STATUSES, refund_status
from critmin.reconcile.measures import heading_table, refund_headings
from critmin.spreadsheet import csv_text

CAPE_ELIGIBLE = ("unliquidated", "protest_window")
"""Statuses whose IEEPA duties CBP refunds through CAPE; finally liquidated entries are contested."""
CAPE_ENTRY_LIMIT = 9_999
"""Entry numbers one CAPE declaration may list (CBP's information collection 1651-0149, as reported)."""

REFUND_SCHEMA: dict[str, pl.DataType] = {
    "entry_number": pl.String(),
    "line_number": pl.Int64(),
    "line_id": pl.String(),
    "entry_date": pl.Date(),
    "hts": pl.String(),
    "heading": pl.String(),
    "measure_id": pl.String(),
    "amount": pl.Float64(),
    "expected": pl.Float64(),
    "liquidation_date": pl.Date(),
    "liquidation_status": pl.String(),
    "status": pl.String(),
    "protest_deadline": pl.Date(),
    "days_left": pl.Int64(),
    "status_text": pl.String(),
}

CAPE_COLUMNS: dict[str, str] = {
    "entry_number": "entry_number",
    "line_number": "line_number",
    "hts": "hts",
    "heading": "chapter99_heading",
    "amount": "amount_usd",
    "status": "status",
    "protest_deadline": "protest_deadline",
}
"""Columns of the CAPE-ready CSV, in order (frame column -> CSV header)."""


def refund_lines(
    tariffs: pl.DataFrame,
    lines: pl.DataFrame,
    measures: pl.DataFrame,
    slots: pl.DataFrame,
    today: date,
) -> pl.DataFrame:
    """One row per entry line and refundable heading paid: amount, status, deadline and days left."""
    paid = (
        tariffs.filter((pl.col("kind") == "ch99") & refund_headings(measures) & (pl.col("duty_paid") > 0))
        .group_by("line_id", "heading")
        .agg(pl.col("duty_paid").sum().alias("amount"))
    )
    first_measure = (
        heading_table(measures.filter(pl.col("refund_eligible")))
        .sort("heading", "measure_id")
        .unique("heading", keep="first")
    )
    per_line = paid.group_by("line_id").agg(pl.col("amount").sum().alias("refund_eligible"))
    info = lines.select(
        "line_id",
        "entry_number",
        "line_number",
        "entry_date",
        "hts",
        "liquidation_date",
        "liquidation_status",
    )
    status = refund_status(per_line.join(info, on="line_id", how="left"), today)
    expected = slots.select("line_id", pl.col("slot").alias("heading"), "expected", "measure_id")
    frame = (
        paid.join(info, on="line_id", how="left")
        .join(status.select("line_id", "refund_status", "protest_deadline"), on="line_id", how="left")
        .join(expected, on=["line_id", "heading"], how="left")
        .join(first_measure.rename({"measure_id": "_library_measure"}), on="heading", how="left")
    )
    ace_unliquidated = pl.col("liquidation_date").is_null() & (pl.col("liquidation_status") == "unliquidated")
    final_status = pl.when(ace_unliquidated).then(pl.lit("unliquidated")).otherwise(pl.col("refund_status"))
    texts = pl.DataFrame({"status": list(STATUS_TEXT), "status_text": list(STATUS_TEXT.values())})
    order = pl.DataFrame({"status": list(STATUSES), "_order": list(range(len(STATUSES)))})
    return (
        frame.with_columns(
            final_status.alias("status"),
            pl.coalesce("measure_id", "_library_measure").alias("measure_id"),
            (pl.col("protest_deadline") - pl.lit(today)).dt.total_days().alias("days_left"),
        )
        .join(texts, on="status", how="left")
        .join(order, on="status", how="left")
        .sort("_order", "protest_deadline", "entry_number", "line_number", "heading", nulls_last=True)
        .select(list(REFUND_SCHEMA))
        .cast(pl.Schema(REFUND_SCHEMA))
    )


ENTRY_DEADLINE_SCHEMA: dict[str, pl.DataType] = {
    "entry_number": pl.String(),
    "liquidation_date": pl.Date(),
    "protest_deadline": pl.Date(),
    "days_left": pl.Int64(),
    "status": pl.String(),
    "amount": pl.Float64(),
    "lines": pl.Int64(),
    "headings": pl.String(),
    "hts": pl.String(),
}
"""One row per entry and protest deadline (:func:`entry_deadlines`)."""


def entry_deadlines(
    refunds: pl.DataFrame,
    within_days: int | None = None,
    *,
    statuses: tuple[str, ...] | None = ("protest_window",),
) -> pl.DataFrame:
    """Refundable IEEPA duty per entry and protest deadline, soonest deadline first.

    A protest is filed per entry, not per line, and liquidation is an entry's, so this is what one acts on:
    the monitor raises one alert per row and the timeline shows one event per row. The deadline and the
    days left are those of :func:`refund_lines` (liquidation date + 180 days), never recomputed here.
    ``statuses`` keeps those statuses (``None``: every line that has a deadline, past ones included);
    ``within_days`` keeps deadlines at most that many days after the reconciliation's ``today``.
    """
    chosen = refunds.filter(pl.col("protest_deadline").is_not_null())
    if statuses is not None:
        chosen = chosen.filter(pl.col("status").is_in(list(statuses)))
    if within_days is not None:
        chosen = chosen.filter(pl.col("days_left") <= within_days)
    return (
        chosen.group_by("entry_number", "liquidation_date", "protest_deadline", "days_left", "status")
        .agg(
            pl.col("amount").sum().round(2).alias("amount"),
            pl.col("line_number").n_unique().cast(pl.Int64).alias("lines"),
            pl.col("heading").unique().sort().str.join(", ").alias("headings"),
            pl.col("hts").unique().sort().str.join(", ").alias("hts"),
        )
        .sort("protest_deadline", "entry_number")
        .select(list(ENTRY_DEADLINE_SCHEMA))
        .cast(pl.Schema(ENTRY_DEADLINE_SCHEMA))
    )


def refund_totals(refunds: pl.DataFrame) -> dict[str, float]:
    """Refundable dollars by status, every status present (zero where no line has it)."""
    sums = refunds.group_by("status").agg(pl.col("amount").sum())
    found = {str(k): float(v) for k, v in sums.iter_rows()}
    return {s: round(found.get(s, 0.0), 2) for s in STATUSES}


def cape_frame(refunds: pl.DataFrame) -> pl.DataFrame:
    """The refundable lines with the CAPE-ready column names (see :data:`CAPE_COLUMNS`)."""
    return refunds.select([pl.col(k).alias(v) for k, v in CAPE_COLUMNS.items()])


def cape_csv(refunds: pl.DataFrame) -> str:
    """The CAPE-ready CSV of refundable lines: entry number, line, HTS, Chapter 99 heading, amount, status,
    protest deadline (text cells made safe for spreadsheet programs)."""
    return csv_text(cape_frame(refunds))


def cape_entries(refunds: pl.DataFrame) -> list[str]:
    """Entry numbers a CAPE declaration would list now: those with a line unliquidated or within its
    protest window (CBP's upload is a CSV of entry numbers, up to :data:`CAPE_ENTRY_LIMIT` per
    declaration)."""
    chosen = refunds.filter(pl.col("status").is_in(CAPE_ELIGIBLE)).get_column("entry_number")
    return sorted(chosen.unique().to_list())


__all__ = [
    "CAPE_COLUMNS",
    "CAPE_ELIGIBLE",
    "CAPE_ENTRY_LIMIT",
    "ENTRY_DEADLINE_SCHEMA",
    "PROTEST_DAYS",
    "REFUND_SCHEMA",
    "cape_csv",
    "cape_entries",
    "cape_frame",
    "entry_deadlines",
    "refund_lines",
    "refund_totals",
]
