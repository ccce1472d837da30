"""`critmin reconcile`: an ACE entry-summary export's duty paid next to the duty owed, fees and refunds.

The command only reads options, calls :func:`critmin.reconcile.reconcile_file` and renders its tables.
"""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from critmin.cli.command import CritminCommand
from critmin.cli.output import Format as TableFormat
from critmin.cli.output import console, err_console, print_frame
from critmin.policy.currency import law_currency
from critmin.reconcile.api import reconcile_file
from critmin.reconcile.result import Reconciliation
from critmin.reconcile.text import money
from critmin.spreadsheet import csv_text


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class View(StrEnum):
    """The table ``--format csv`` writes (and the table output shows first)."""

    variances = "variances"
    slots = "slots"
    lines = "lines"
    fees = "fees"
    refunds = "refunds"
    cape = "cape"
    quarantine = "quarantine"


class DateOrderOption(StrEnum):
    mdy = "mdy"
    dmy = "dmy"
    ymd = "ymd"


TOP = 30
"""Rows of each detail table in the table output (--format csv or xlsx gives them all)."""


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2026-12-05.") from exc


def _view_frame(result: Reconciliation, view: View) -> pl.DataFrame:
    frames = {
        View.variances: result.variances,
        View.slots: result.slots,
        View.lines: result.lines.with_columns(pl.col("causes").list.join(", ")),
        View.fees: result.fees,
        View.refunds: result.refunds,
        View.cape: result.sheets()["CAPE"],
        View.quarantine: result.export.quarantine,
    }
    return frames[view]


def _dollars(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Amount columns as ``$1,234.56`` text, so the table shows every cent (numbers stay numbers in CSV,
    JSON and the workbook)."""
    return frame.with_columns(money(pl.col(c)).alias(c) for c in columns)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"Wrote {out}")


def _print_tables(result: Reconciliation) -> None:
    counts = result.export.counts()
    t = result.totals()
    console.print(
        f"Reconciliation of [bold]{counts['file']}[/bold]: {counts['lines']} entry lines in "
        f"{counts['entries']} entries ({counts['rows_in']} rows: {counts['rows_loaded']} loaded, "
        f"{counts['rows_quarantined']} quarantined); lines evaluated on their entry dates under the law "
        f"in force; refund statuses as of {result.today.isoformat()}.",
        highlight=False,
    )
    console.print(law_currency().line(), highlight=False, markup=False)
    fees = t["fees"]
    totals = pl.DataFrame(
        {
            "item": ["duty", "duty where owed is unknown", "MPF", "HMF", "total"],
            "paid": [
                t["duty"]["paid"],
                t["duty"]["paid_not_compared"],
                fees["mpf"]["paid"],
                fees["hmf"]["paid"],
                t["paid_total"],
            ],
            "owed": [
                t["duty"]["expected"],
                None,
                fees["mpf"]["expected"],
                fees["hmf"]["expected"],
                t["expected_total"],
            ],
            "variance": [
                t["duty"]["variance"],
                None,
                fees["mpf"]["variance"],
                fees["hmf"]["variance"],
                t["variance_total"],
            ],
        },
        schema={"item": pl.String, "paid": pl.Float64, "owed": pl.Float64, "variance": pl.Float64},
    )
    print_frame(
        _dollars(totals, "paid", "owed", "variance"),
        TableFormat.table,
        title="Paid and owed (variance = paid - owed)",
    )
    print_frame(
        _dollars(result.by_cause().select("cause", "slots", "lines", "variance", "meaning"), "variance"),
        TableFormat.table,
        title="By cause",
        keys=("cause", "variance"),
    )
    by_measure = result.by_measure()
    if by_measure.height:
        print_frame(
            _dollars(by_measure, "paid", "expected", "variance"),
            TableFormat.table,
            title="Differences by measure",
            keys=("measure_id", "slot", "variance", "causes"),
        )
    variances = result.variances.sort(pl.col("variance").abs(), descending=True, nulls_last=True)
    if variances.height:
        print_frame(
            _dollars(
                variances.head(TOP).select(
                    "entry_number",
                    "line_number",
                    "slot",
                    "measure_id",
                    "paid",
                    "expected",
                    "variance",
                    "cause",
                    "explanation",
                ),
                "paid",
                "expected",
                "variance",
            ),
            TableFormat.table,
            title=f"Differences ({variances.height}; largest first)",
            keys=("entry_number", "line_number", "slot", "variance", "cause", "explanation"),
        )
    fee_rows = result.fees.filter(~pl.col("cause").is_in(["match", "rounding"]))
    if fee_rows.height:
        print_frame(
            _dollars(
                fee_rows.head(TOP).select(
                    "entry_number", "fee", "paid", "expected", "variance", "cause", "explanation"
                ),
                "paid",
                "expected",
                "variance",
            ),
            TableFormat.table,
            title="Fees that differ or are unknown",
            keys=("entry_number", "fee", "variance", "cause", "explanation"),
        )
    refunds = result.refunds
    by_status = pl.DataFrame(
        {"status": list(t["refund_by_status"]), "refundable_usd": list(t["refund_by_status"].values())}
    ).join(
        refunds.group_by("status").agg(
            pl.len().cast(pl.Int64).alias("lines"), pl.col("protest_deadline").min().alias("first_deadline")
        ),
        on="status",
        how="left",
    )
    print_frame(
        _dollars(by_status, "refundable_usd"),
        TableFormat.table,
        title="IEEPA duty paid and refundable, by status",
    )
    if refunds.height:
        print_frame(
            _dollars(
                refunds.head(TOP).select(
                    "entry_number",
                    "line_number",
                    "heading",
                    "amount",
                    "status",
                    "protest_deadline",
                    "days_left",
                ),
                "amount",
            ),
            TableFormat.table,
            title="Refundable lines (soonest deadline first)",
        )
    if counts["rows_quarantined"]:
        err_console.print(
            f"{counts['rows_quarantined']} row(s) quarantined and not reconciled "
            f"({', '.join(f'{k}: {v}' for k, v in counts['quarantined_by_code'].items())}); "
            "see them with --view quarantine --format csv.",
            highlight=False,
        )


def reconcile_cmd(
    entries: Annotated[
        Path,
        typer.Argument(help="ACE entry-summary export (ES-003 layout), CSV or .xlsx.", show_default=False),
    ],
    fmt: Annotated[
        OutFormat, typer.Option("--format", "-f", help="table, json, csv or xlsx.")
    ] = OutFormat.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (required for xlsx).")] = None,
    view: Annotated[View, typer.Option("--view", help="The table --format csv writes.")] = View.variances,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Judge protest windows on this day (YYYY-MM-DD; default today)."),
    ] = None,
    cape: Annotated[
        Path | None,
        typer.Option("--cape", help="Also write the CAPE-ready CSV of refundable lines to this file."),
    ] = None,
    cape_entries: Annotated[
        Path | None,
        typer.Option(
            "--cape-entries", help="Also write the entry numbers refundable through CAPE now, one per line."
        ),
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Excel sheet name or 1-based number.")] = None,
    date_order: Annotated[
        DateOrderOption | None, typer.Option("--date-order", help="How to read 03/04/2025 (default: mdy).")
    ] = None,
) -> None:
    """What each entry line paid next to what it owed, to the cent, with the cause of every difference;
    MPF and HMF per entry; IEEPA duty refundable, with its status and protest deadline.

    Example: critmin reconcile es003.csv --today 2026-12-05 --cape cape.csv
    """
    if fmt is OutFormat.xlsx and out is None:
        raise typer.BadParameter("--format xlsx writes a workbook: give --out PATH.xlsx")
    chosen_sheet: str | int | None = int(sheet) if sheet is not None and sheet.strip().isdigit() else sheet
    result = reconcile_file(
        entries,
        today=_day(today),
        sheet=chosen_sheet,
        date_order=date_order.value if date_order is not None else None,
    )
    if cape is not None:
        cape.write_text(result.cape_csv(), encoding="utf-8")
        err_console.print(f"Wrote {cape}")
    if cape_entries is not None:
        listed = result.cape_entries()
        cape_entries.write_text("entry_number\n" + "".join(f"{e}\n" for e in listed), encoding="utf-8")
        err_console.print(f"Wrote {cape_entries} ({len(listed)} entries)")
    if fmt is OutFormat.xlsx:
        assert out is not None
        result.write_xlsx(out)
        err_console.print(f"Wrote {out}")
    elif fmt is OutFormat.json:
        _emit(result.payload_json(), out)
    elif fmt is OutFormat.csv:
        _emit(csv_text(_view_frame(result, view)), out)
    else:
        _print_tables(result)


def register(root: typer.Typer) -> None:
    root.command("reconcile", cls=CritminCommand)(reconcile_cmd)
