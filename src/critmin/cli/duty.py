"""`critmin exposure` (and `exposure compare`) and `critmin explain`: duty on a ledger, per line and measure.

``critmin exposure FILE ...`` runs the default ``run`` command, so ``critmin exposure FILE``,
``critmin exposure run FILE`` and ``critmin exposure compare FILE --scenario A --scenario B`` all work.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from critmin.cli.command import CritminCommand, CritminGroup, command_group
from critmin.cli.output import Format as TableFormat
from critmin.cli.output import console, err_console, print_frame, print_json
from critmin.cli.policy import parse_date
from critmin.cli.workspace import WorkspaceOption
from critmin.duty import api
from critmin.duty.result import DutyResult
from critmin.errors import InputError, WorkspaceError
from critmin.policy.currency import law_currency
from critmin.spreadsheet import csv_text
from critmin.workspace import Workspace


class DefaultRun(CritminGroup):
    """A group whose first argument, when it is not a subcommand, goes to the ``run`` subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in {"--help", "-h"}:
            args = ["run", *args]
        return super().parse_args(ctx, args)


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class Content(StrEnum):
    low = "low"
    central = "central"
    high = "high"


exposure_app = command_group(
    "Duty and price-floor cost of a ledger under the law in force or a PCMDP scenario.\n\n"
    "critmin exposure FILE [OPTIONS] is short for critmin exposure run FILE [OPTIONS].\n\n"
    "Example: critmin exposure entries.csv --scenario s232_tariff_non_partners --as-of 2027-03-01",
    cls=DefaultRun,
)

FileArg = Annotated[Path, typer.Argument(help="Ledger file: CSV, TSV, Excel or Parquet.", show_default=False)]
ScenarioOption = Annotated[
    str,
    typer.Option(
        "--scenario", "-s", help="Shipped scenario id (see `critmin policy scenarios`) or a YAML file."
    ),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Re-date every line to this day (YYYY-MM-DD).")
]
SetOption = Annotated[
    list[str] | None, typer.Option("--set", help="Override a scenario parameter: key=value.")
]
ContentOption = Annotated[
    Content, typer.Option("--content", help="Content-factor case for the headline figures.")
]
MapOption = Annotated[Path | None, typer.Option("--map", help="Header mapping file for the ledger (YAML).")]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="Excel sheet name or 1-based number.")]


def _sheet(value: str | None) -> str | int | None:
    return int(value) if value is not None and value.strip().isdigit() else value


def _load(file: Path, mapping: Path | None, sheet: str | None) -> api.LoadedLedger:
    ledger = api.load_ledger(file, mapping=mapping, sheet=_sheet(sheet))
    if ledger.rows_quarantined:
        err_console.print(
            f"{ledger.rows_quarantined} of {ledger.rows_in} rows were quarantined and are not evaluated; "
            f"see `critmin ledger validate {file}`."
        )
    if ledger.lines.is_empty():
        raise InputError(
            f"{file} has no valid ledger lines to evaluate; see `critmin ledger validate {file}`."
        )
    return ledger


def _record(result: DutyResult, ledger: api.LoadedLedger, workspace: Path | None, quiet: bool) -> None:
    try:
        ws = Workspace.open(workspace)
    except WorkspaceError:
        if workspace is not None:
            raise
        return  # no workspace: nothing to record into
    with ws:
        run_id = api.record(ws, result, ledger)
    if not quiet:
        err_console.print(f"Recorded as run {run_id} in {ws.path}.")


def _notes(result: DutyResult) -> None:
    err_console.print(law_currency().line(), highlight=False)
    for note in result.notes:
        err_console.print(f"note: {note}", highlight=False)
    if result.issues.height:
        err_console.print(
            f"{result.issues.height} component(s) need attention (missing inputs or assumed content); "
            "see `critmin explain FILE --line ID` for a line, or the issues in --format json.",
            highlight=False,
        )


def _money_table(mapping: dict[str, float], key: str) -> pl.DataFrame:
    return pl.DataFrame(
        {key: list(mapping), "duty_usd": list(mapping.values())},
        schema={key: pl.String, "duty_usd": pl.Float64},
    ).sort("duty_usd", descending=True)


def _print_tables(result: DutyResult) -> None:
    t = result.totals()
    examples = result.measure_set.example_parameters()
    head = (
        f"Scenario [bold]{result.measure_set.id}[/bold] - {result.measure_set.title}; "
        f"{'lines re-dated to ' + result.as_of.isoformat() if result.as_of else 'lines on their entry dates'}"
    )
    console.print(head)
    if examples:
        console.print("Example parameter values: " + ", ".join(f"{p.name}={p.value}" for p in examples))
    if (reach := result.reach()) is not None:
        console.print(reach.text(), highlight=False)
    summary = pl.DataFrame(
        {
            "item": [
                "lines",
                "customs value",
                "duty owed",
                "duty (low content)",
                "duty (high content)",
                "refund-eligible (invalidated)",
                *(f"  refund: {k.replace('_', ' ')}" for k in t["refund_by_status"]),
                "paid to exporters",
                "value beyond hard quotas",
            ],
            "usd": [
                float(t["lines"]),
                t["customs_value"],
                t["duty"],
                t["duty_low"],
                t["duty_high"],
                t["refund_eligible"],
                *t["refund_by_status"].values(),
                t["paid_to_exporter"],
                t["unavailable_value"],
            ],
        }
    )
    print_frame(summary, TableFormat.table, title="Totals")
    print_frame(_money_table(t["by_measure"], "measure_id"), TableFormat.table, title="Duty by measure")
    print_frame(_money_table(t["by_mineral"], "mineral_id"), TableFormat.table, title="Duty by mineral")
    print_frame(_money_table(t["by_origin"], "country_origin"), TableFormat.table, title="Duty by origin")


@exposure_app.command("run")
def run(
    file: FileArg,
    scenario: ScenarioOption = "status_quo",
    as_of: AsOfOption = None,
    sets: SetOption = None,
    fmt: Annotated[
        OutFormat, typer.Option("--format", "-f", help="table, json, csv or xlsx.")
    ] = OutFormat.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (required for xlsx).")] = None,
    content: ContentOption = Content.central,
    components: Annotated[
        bool, typer.Option("--components", help="CSV of components instead of lines.")
    ] = False,
    mapping: MapOption = None,
    sheet: SheetOption = None,
    workspace: WorkspaceOption = None,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the run in the workspace.")
    ] = True,
) -> None:
    """Duty of every line of FILE under a scenario, by measure, mineral and origin, with citations.

    Example: critmin exposure entries.csv --scenario s232_tariff_non_partners --as-of 2026-09-01 --format json
    """
    day = parse_date(as_of)
    if fmt is OutFormat.xlsx and out is None:
        raise typer.BadParameter("--format xlsx writes a workbook: give --out PATH.xlsx")
    ledger = _load(file, mapping, sheet)
    result = api.exposure(ledger, scenario, as_of=day, sets=sets or [], content=content.value)
    if record:
        _record(result, ledger, workspace, quiet=fmt is OutFormat.json and out is None)
    _notes(result)
    if fmt is OutFormat.xlsx:
        assert out is not None
        api.write_xlsx(result, out)
        console.print(f"Wrote {out}")
        return
    if fmt is OutFormat.json:
        _emit_text(result.payload_json(), out)
    elif fmt is OutFormat.csv:
        frame = (
            result.components.with_columns(pl.col(pl.Enum).cast(pl.String)) if components else result.lines
        )
        _emit_text(csv_text(frame), out)
    else:
        _print_tables(result)


def _emit_text(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"Wrote {out}")


@exposure_app.command("compare")
def compare_cmd(
    file: FileArg,
    scenarios: Annotated[list[str], typer.Option("--scenario", "-s", help="Give exactly two: A then B.")],
    as_of: AsOfOption = None,
    sets: SetOption = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = TableFormat.table,
    content: ContentOption = Content.central,
    mapping: MapOption = None,
    sheet: SheetOption = None,
) -> None:
    """The difference B - A by line, mineral, origin and supplier.

    Example: critmin exposure compare entries.csv -s status_quo -s trq --as-of 2026-09-01
    """
    if len(scenarios) != 2:
        raise typer.BadParameter(f"give --scenario exactly twice (A then B); got {len(scenarios)}.")
    day = parse_date(as_of)
    ledger = _load(file, mapping, sheet)
    comparison = api.exposure_compare(
        ledger, scenarios[0], scenarios[1], as_of=day, sets=sets or [], content=content.value
    )
    if fmt is TableFormat.json:
        print_json(comparison.payload())
        return
    if fmt is TableFormat.csv:
        sys.stdout.write(csv_text(comparison.tables["line"]))
        return
    t = comparison.totals()
    console.print(f"B - A: [bold]{scenarios[1]}[/bold] minus [bold]{scenarios[0]}[/bold]")
    for reach in (comparison.a.reach(), comparison.b.reach()):
        if reach is not None:
            console.print(reach.text(), highlight=False)
    print_frame(
        pl.DataFrame(
            {
                "item": list(t["a"]),
                "a": list(t["a"].values()),
                "b": list(t["b"].values()),
                "difference": list(t["difference"].values()),
            }
        ),
        TableFormat.table,
        title="Totals",
    )
    for name in ("mineral", "origin", "supplier"):
        print_frame(comparison.tables[name], TableFormat.table, title=f"By {name}")
    print_frame(
        comparison.tables["line"].head(20), TableFormat.table, title="Lines with the largest difference"
    )


def explain_cmd(
    file: FileArg,
    line: Annotated[str, typer.Option("--line", "-l", help="The line id to explain.")],
    scenario: ScenarioOption = "status_quo",
    as_of: AsOfOption = None,
    sets: SetOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    content: ContentOption = Content.central,
    mapping: MapOption = None,
    sheet: SheetOption = None,
) -> None:
    """The ordered computation of one line: each measure's basis, rate, amount and source, and why others
    did not apply.

    Example: critmin explain entries.csv --line L-0001 --scenario status_quo
    """
    day = parse_date(as_of)
    ledger = _load(file, mapping, sheet)
    explanation = api.explain(ledger, scenario, line, as_of=day, sets=sets or [], content=content.value)
    if fmt == "json":
        print_json(explanation.as_dict())
    else:
        console.print(explanation.text(), highlight=False, markup=False, soft_wrap=True)


def register(root: typer.Typer) -> None:
    root.add_typer(exposure_app, name="exposure")
    root.command("explain", cls=CritminCommand)(explain_cmd)
