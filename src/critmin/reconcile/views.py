"""A reconciliation as the dashboard page and the JSON API show it: two views of one result.

* :func:`reconciliation_view` - duty paid next to the duty engine's, per entry line and heading, to the
  cent; the differences with their cause and measure; MPF and HMF per entry; the headline totals;
* :func:`refunds_view` - the IEEPA duty that can come back, by status (unliquidated, within the 180-day
  protest window with its deadline, finally liquidated and contested), per entry and line, and the
  CAPE-ready rows;
* :func:`issue_table` and :func:`usable` - every problem of the export placed by file, row and column,
  and the refusal of an export that has no loadable line at all.

Nothing here computes a figure. Every number is one of the :class:`~critmin.reconcile.result.Reconciliation`'s
own (its frames, :meth:`~critmin.reconcile.result.Reconciliation.totals`), selected and ordered for reading,
so the page, the API and ``critmin reconcile`` cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from critmin.duty.refunds import STATUS_TEXT
from critmin.errors import InputError
from critmin.policy.currency import law_currency
from critmin.reconcile.ace import AceExport, require_lines
from critmin.reconcile.issues import ISSUES_BY_CODE
from critmin.reconcile.refunds import CAPE_ELIGIBLE, cape_frame
from critmin.reconcile.result import Reconciliation

AMOUNT_COLUMNS = frozenset(
    {
        "paid",
        "expected",
        "variance",
        "amount",
        "amount_usd",
        "duty_paid",
        "duty_expected",
        "customs_value_usd",
        "base_value",
        "computed",
        "minimum",
        "maximum",
        "refundable_usd",
    }
)
"""Columns of the views holding dollars, which are compared to the cent and so are shown with cents."""

LINE_COLUMNS = (
    "entry_number",
    "line_number",
    "entry_date",
    "hts",
    "country_origin",
    "preference_program",
    "customs_value_usd",
    "duty_paid",
    "duty_expected",
    "variance",
    "causes",
)
DIFFERENCE_COLUMNS = (
    "entry_number",
    "line_number",
    "slot",
    "measure_id",
    "paid",
    "expected",
    "variance",
    "cause",
    "explanation",
    "citation",
)
FEE_COLUMNS = (
    "entry_number",
    "entry_date",
    "fiscal_year",
    "fee",
    "base_value",
    "expected",
    "paid",
    "variance",
    "cause",
    "explanation",
)
REFUND_COLUMNS = (
    "entry_number",
    "line_number",
    "entry_date",
    "hts",
    "heading",
    "measure_id",
    "amount",
    "liquidation_date",
    "liquidation_status",
    "status",
    "protest_deadline",
    "days_left",
)
ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "column": pl.String(),
    "code": pl.String(),
    "severity": pl.String(),
    "problem": pl.String(),
    "fix": pl.String(),
}


@dataclass(frozen=True)
class ReconciliationView:
    """What was paid against what was owed (see the module docstring)."""

    file: dict[str, Any]
    """the export read: its name, checksum and how its rows were accounted for"""
    today: str
    law: str
    totals: dict[str, Any]
    by_cause: pl.DataFrame
    by_measure: pl.DataFrame
    differences: pl.DataFrame
    lines: pl.DataFrame
    fees: pl.DataFrame
    issues: pl.DataFrame
    measures: pl.DataFrame


@dataclass(frozen=True)
class RefundsView:
    """What can come back, by status, entry and line (see the module docstring)."""

    file: dict[str, Any]
    today: str
    law: str
    by_status: dict[str, float]
    """refundable dollars per status, every status present (the totals' ``refund_by_status``)"""
    refundable: float
    statuses: pl.DataFrame
    deadlines: pl.DataFrame
    refunds: pl.DataFrame
    cape: pl.DataFrame
    cape_entries: list[str]


class UnusableExportError(InputError):
    """An export of which no entry line could be loaded: the message says why and how to export it,
    ``issues`` holds every row's problems (:func:`issue_table`) so each can be shown where it is."""

    def __init__(self, message: str, issues: pl.DataFrame) -> None:
        super().__init__(message)
        self.issues = issues


def usable(export: AceExport) -> AceExport:
    """The export, or :class:`UnusableExportError` when it has no loadable line (nothing to reconcile).

    A file with some good lines is reconciled and its other rows listed; only an export with none is
    refused, so that an upload form can answer "this is not an ES-003 export" before any work.
    """
    try:
        require_lines(export)
    except InputError as exc:
        raise UnusableExportError(str(exc), issue_table(export)) from None
    return export


def issue_table(export: AceExport) -> pl.DataFrame:
    """Every problem of the export, one row per file, row and column (errors quarantined the row, warnings
    loaded it), with the problem and the fix apart so a page can place them (:data:`ISSUE_SCHEMA`)."""
    issues = export.issues
    if issues.height == 0:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    fixes = pl.DataFrame({"code": list(ISSUES_BY_CODE), "fix": [i.fix for i in ISSUES_BY_CODE.values()]})
    where = (
        pl.col("source_file")
        + pl.lit(", row ")
        + pl.col("source_row").cast(pl.String)
        + pl.lit(", column '")
        + pl.col("column")
        + pl.lit("': ")
    )
    return (
        issues.join(fixes, on="code", how="left")
        .with_columns(
            pl.col("message").str.strip_prefix(where).str.strip_suffix(pl.lit(" Fix: ") + pl.col("fix"))
        )
        .select(
            "source_file",
            "source_row",
            "column",
            "code",
            "severity",
            pl.col("message").alias("problem"),
            pl.col("fix").fill_null(""),
        )
        .sort("source_row", "column", "code", nulls_last=False)
        .cast(pl.Schema(ISSUE_SCHEMA))
    )


def file_facts(result: Reconciliation) -> dict[str, Any]:
    """The export as read: its name, checksum and counts (they always add up)."""
    return {**result.export.counts(), "sha256": result.export.source.sha256}


def reconciliation_view(result: Reconciliation) -> ReconciliationView:
    """Duty paid against owed per line and heading, the differences by cause and measure, fees, totals."""
    largest_first = [pl.col("variance").abs(), pl.col("entry_number"), pl.col("line_number")]
    differences = result.variances.sort(largest_first, descending=[True, False, False], nulls_last=True)
    by_cause = result.by_cause().select("cause", "slots", "lines", "paid", "expected", "variance", "meaning")
    return ReconciliationView(
        file=file_facts(result),
        today=result.today.isoformat(),
        law=law_currency().line(),
        totals=result.totals(),
        by_cause=by_cause,
        by_measure=result.by_measure(),
        differences=differences.select(DIFFERENCE_COLUMNS),
        lines=result.lines.select(LINE_COLUMNS),
        fees=result.fees.select(FEE_COLUMNS),
        issues=issue_table(result.export),
        measures=_measures(result),
    )


def refunds_view(result: Reconciliation) -> RefundsView:
    """The refundable IEEPA duty by status, the entries in their protest window with the deadline, every
    refundable line, and the rows of the CAPE-ready CSV."""
    totals = result.totals()
    refunds = result.refunds
    counted = refunds.group_by("status").agg(
        pl.len().cast(pl.Int64).alias("lines"),
        pl.col("entry_number").n_unique().cast(pl.Int64).alias("entries"),
        pl.col("protest_deadline").min().alias("first_deadline"),
    )
    by_status: dict[str, float] = totals["refund_by_status"]
    statuses = (
        pl.DataFrame(
            {
                "status": list(by_status),
                "refundable_usd": list(by_status.values()),
                "through_cape": [s in CAPE_ELIGIBLE for s in by_status],
                "meaning": [STATUS_TEXT[s] for s in by_status],
            }
        )
        .join(counted, on="status", how="left")
        .with_columns(pl.col("lines").fill_null(0), pl.col("entries").fill_null(0))
        .select("status", "refundable_usd", "lines", "entries", "first_deadline", "through_cape", "meaning")
    )
    return RefundsView(
        file=file_facts(result),
        today=result.today.isoformat(),
        law=law_currency().line(),
        by_status=by_status,
        refundable=float(totals["refundable"]),
        statuses=statuses,
        deadlines=result.entry_deadlines(),
        refunds=refunds.select(REFUND_COLUMNS),
        cape=cape_frame(refunds),
        cape_entries=result.cape_entries(),
    )


def _measures(result: Reconciliation) -> pl.DataFrame:
    """The library measures behind the compared amounts, each with its first citation."""
    rows = [
        {
            "measure_id": m["measure_id"],
            "title": m["title"],
            "status": m["status"],
            "headings": ", ".join(m["headings"]),
            "verification": m["verification"],
            "citation": m["citations"][0]["document"] if m["citations"] else None,
            "source_url": m["citations"][0]["url"] if m["citations"] else None,
        }
        for m in result.provenance()["measures"]
    ]
    schema = dict.fromkeys(
        ("measure_id", "title", "status", "headings", "verification", "citation", "source_url"), pl.String
    )
    return pl.DataFrame(rows, schema=schema).sort("measure_id")


__all__ = [
    "AMOUNT_COLUMNS",
    "ISSUE_SCHEMA",
    "ReconciliationView",
    "RefundsView",
    "UnusableExportError",
    "file_facts",
    "issue_table",
    "reconciliation_view",
    "refunds_view",
    "usable",
]
