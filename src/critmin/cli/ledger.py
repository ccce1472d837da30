"""`critmin ledger ...` and `critmin sample ...`: import, validate and classify ledgers and BOMs.

Commands parse options, call :mod:`critmin.ledger` and render; exit codes: 0 when the file was read (even
with quarantined rows), 2 when it could not be read at all or the workspace could not be opened (the codes
of :mod:`critmin.errors`, applied by the command group).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from critmin.cli.command import command_group
from critmin.cli.output import (
    ColumnsOption,
    Format,
    TableView,
    WideOption,
    console,
    err_console,
    print_frame,
    print_json,
    progress_bar,
)
from critmin.cli.workspace import WorkspaceOption, open_workspace
from critmin.errors import InputError

app = command_group("Import, validate and classify import ledgers and bills of materials.")
sample_app = command_group("Synthetic sample data (illustrative companies).")

FileArg = Annotated[
    Path, typer.Argument(help="Ledger file: CSV, TSV, Excel (.xlsx) or Parquet.", show_default=False)
]
MapOption = Annotated[
    Path | None, typer.Option("--map", help="Mapping file (YAML) for headers critmin does not recognise.")
]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="Excel sheet name or 1-based number.")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table, json or csv.")]


@contextmanager
def _errors() -> Iterator[None]:
    """Nothing to do: the command group turns a CritminError into its message and exit code
    (critmin.cli.command). Kept so that commands written against it keep working."""
    yield


def _sheet(value: str | None) -> str | int | None:
    return int(value) if value is not None and value.strip().isdigit() else value


def _issues_payload(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.select("row", "column", "code", "severity", "message").to_dicts()


@app.command("validate")
def validate(
    file: FileArg,
    mapping: MapOption = None,
    sheet: SheetOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Read and check a ledger without storing it: counts, and every problem with its row and fix.

    Example: critmin ledger validate entries.csv --format json
    """
    from critmin.ledger.ingest import MemorySink, ingest

    # lines are checked and dropped: memory stays at a chunk for any length of file
    with progress_bar(f"Reading {file.name}") as advance:
        result = ingest(
            file, mapping=mapping, sheet=_sheet(sheet), sink=MemorySink(keep_lines=False), progress=advance
        )
    issues = result.issues()
    if fmt is Format.json:
        print_json(
            {
                "rows_in": result.rows_in,
                "rows_loaded": result.rows_loaded,
                "rows_quarantined": result.rows_quarantined,
                "rows_blank": result.rows_blank,
                "issues": _issues_payload(issues),
            }
        )
        return
    if fmt is Format.csv:
        print_frame(issues, fmt)
        return
    _print_counts(result.summary())
    if issues.height:
        print_frame(issues.select("row", "column", "code", "message").head(200), Format.table, title="Issues")
        if issues.height > 200:
            console.print(f"... {issues.height - 200} more; use --format csv for all of them.")


def _print_counts(summary: dict[str, Any]) -> None:
    console.print(
        f"[bold]{summary['file']}[/bold]: {summary['rows_in']} rows read, {summary['rows_loaded']} loaded, "
        f"{summary['rows_quarantined']} quarantined, {summary['rows_blank']} blank rows skipped "
        f"({summary['format']}, encoding {summary['encoding'] or '-'}, "
        f"header on row {summary['header_row'] or '-'}"
        f"{', sheet ' + summary['sheet'] if summary.get('sheet') else ''}; "
        f"slash dates read as {summary['date_order']}, "
        f"{summary['date_order_basis']})."
    )
    for note in summary.get("notes", []):  # which sheet or column was used when there was a choice
        console.print(f"Note ({note['code']}): {note['message']}", markup=False)
    if summary["issue_counts"]:
        counts = ", ".join(f"{code}: {n}" for code, n in summary["issue_counts"].items())
        console.print(f"Issues by code: {counts}")


@app.command("import")
def import_(
    file: FileArg,
    mapping: MapOption = None,
    sheet: SheetOption = None,
    workspace: WorkspaceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Import a ledger into the workspace (atomic; importing the same file again changes nothing).

    Example: critmin ledger import entries.xlsx --sheet Entries --map broker.yaml
    """
    from critmin.ledger.store import import_ledger

    with open_workspace(workspace, create=True) as ws, progress_bar(f"Importing {file.name}") as advance:
        stored = import_ledger(ws, file, mapping=mapping, sheet=_sheet(sheet), progress=advance)
    summary = stored.summary()
    if fmt is Format.json:
        print_json(summary)
        return
    if stored.status == "unchanged":
        console.print(
            f"{file.name} is already in the workspace (import {stored.import_id}, {summary['imported_at']}); "
            "nothing changed."
        )
        return
    _print_counts(summary)
    console.print(
        f"Stored as import {stored.import_id}; {stored.lines_replaced} earlier lines replaced. "
        "See problems with `critmin ledger quarantine`."
    )


@app.command("show")
def show(
    workspace: WorkspaceOption = None,
    limit: int = typer.Option(50, "--limit", help="Rows to show (0 = all)."),
    fmt: FormatOption = Format.table,
    columns: ColumnsOption = None,
    wide: WideOption = False,
) -> None:
    """The imports and the canonical ledger lines in the workspace.

    Example: critmin ledger show --columns line_id,hts,quantity_kg,customs_value_usd,supplier
    """
    from critmin.ledger import store

    with open_workspace(workspace, read_only=True) as ws:
        frame = store.lines(ws, limit=limit or None)
        imports = store.imports(ws)
    if fmt is Format.table:
        print_frame(imports.drop("file_sha256"), fmt, title="Imports", keys=("import_id",))
        print_frame(
            frame
            if columns or wide
            else frame.select(
                "line_id",
                "entry_date",
                "hts",
                "country_origin",
                "quantity",
                "unit",
                "customs_value_usd",
                "supplier",
            ),
            fmt,
            title="Ledger lines",
            keys=("line_id",),
            view=TableView.of(columns, wide),
        )
    else:
        print_frame(frame, fmt)


@app.command("delete")
def delete(
    import_id: Annotated[
        int, typer.Argument(help="The import to delete (see `critmin ledger show`).", min=1)
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    workspace: WorkspaceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Delete an import with its lines, quarantined rows, warnings, classification and content (atomic).

    Example: critmin ledger delete 3 --yes
    """
    from critmin.ledger import store
    from critmin.workspace import delete_import

    with open_workspace(workspace) as ws, _errors():
        if not yes:
            found = store.imports(ws).filter(pl.col("import_id") == import_id)
            if found.height:
                record = found.row(0, named=True)
                question = (
                    f"Delete import {import_id} ({record['source_file']}, {record['rows_loaded']:,} lines, "
                    f"imported {record['imported_at']})? This cannot be undone."
                )
                if not typer.confirm(question):
                    err_console.print("Nothing deleted.")
                    raise typer.Exit(1)
        deleted = delete_import(ws, import_id)
    if fmt is Format.json:
        print_json(deleted.as_dict())
        return
    console.print(
        f"Deleted import {deleted.import_id} ({deleted.source_file}): {deleted.lines:,} lines, "
        f"{deleted.quarantined:,} quarantined rows, {deleted.warnings:,} warnings, "
        f"{deleted.classification:,} classification and {deleted.content:,} content rows."
    )
    if deleted.superseded_imports:
        earlier = ", ".join(str(i) for i in deleted.superseded_imports)
        console.print(f"Also removed earlier version(s) of that file without lines: import {earlier}.")
    if deleted.runs_unlinked:
        console.print(f"{deleted.runs_unlinked} recorded run(s) kept; they no longer point at this import.")


@app.command("quarantine")
def quarantine(
    workspace: WorkspaceOption = None,
    out: Path | None = typer.Option(
        None, "--out", help="Write the quarantined rows here (.csv, .xlsx, .parquet)."
    ),
    source_file: str | None = typer.Option(None, "--file", help="Only rows from this source file name."),
    fmt: FormatOption = Format.table,
) -> None:
    """Rows that were not loaded, with every reason; --out writes them for fixing and re-importing.

    Fix the rows in that file, then import it again.
    Example: critmin ledger quarantine --out fix-me.csv && critmin ledger import fix-me.csv
    """
    from critmin.ledger import store

    with open_workspace(workspace, read_only=True) as ws:
        frame = store.quarantine(ws, source_file=source_file)
    if out is not None:
        written = store.export_quarantine(frame, out)
        console.print(
            f"Wrote {written} quarantined rows to {out}. Fix them there and import the file again; "
            "each row keeps its original file and row number."
        )
        return
    print_frame(frame.drop("raw"), fmt, title="Quarantined rows")


@app.command("mapping")
def mapping_(
    file: FileArg, mapping: MapOption = None, sheet: SheetOption = None, fmt: FormatOption = Format.table
) -> None:
    """Show which of the file's columns feeds which ledger field (and what is unused or missing)."""
    from critmin.ledger.ingest import prepare

    reader, _, columns = prepare(file, mapping, _sheet(sheet))
    reader.close()
    rows = pl.DataFrame(columns.rows(), schema={"field": pl.String, "column": pl.String, "how": pl.String})
    if fmt is Format.json:
        print_json({"source": reader.info.as_dict(), "mapping": columns.as_dict()})
        return
    print_frame(rows, fmt, title=f"{file.name}: header on row {reader.info.header_row or '-'}")
    if columns.missing_required:
        err_console.print(
            "[yellow]Missing required fields: "
            + ", ".join(columns.missing_required)
            + ". Add them under `columns:` in a mapping file (--map).[/yellow]"
        )


@app.command("classify")
def classify(
    file: Annotated[
        Path | None, typer.Argument(help="Ledger file; omit to classify the workspace ledger.")
    ] = None,
    mapping: MapOption = None,
    sheet: SheetOption = None,
    bom: Path | None = typer.Option(None, "--bom", help="A BOM file whose part numbers give line content."),
    workspace: WorkspaceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Minerals, processing stage, confidence and content (with its source) for every line.

    Example: critmin ledger classify entries.csv --bom bom.csv --format csv
    """
    from critmin.ledger.bom import read_bom
    from critmin.ledger.classify import classified_lines, classify_lines
    from critmin.ledger.ingest import ingest

    per_unit = read_bom(bom).per_unit if bom is not None else None
    if file is not None:
        lines = ingest(file, mapping=mapping, sheet=_sheet(sheet)).lines
    else:
        from critmin.ledger import store

        with open_workspace(workspace, read_only=True) as ws:
            lines = store.lines(ws)
            if per_unit is None:
                per_unit = store.bom_item_content(ws)
    table = classified_lines(lines, per_unit)
    report = classify_lines(lines)
    if fmt is not Format.table:
        print_frame(table, fmt)
        return
    print_frame(report.summary, fmt, title="Lines by classification confidence")
    print_frame(
        table.select(
            "line_id", "hts", "mineral_id", "stage", "confidence", "content_kg_central", "content_source"
        ).head(200),
        fmt,
        title="Lines x minerals (first 200)",
    )
    if report.baskets.height:
        print_frame(
            report.baskets.head(50), fmt, title="Basket codes (several minerals possible; not guessed)"
        )
    if report.unmapped.height:
        print_frame(report.unmapped.head(50), fmt, title="Unmapped lines (no scope-map prefix)")


@app.command("bom")
def bom_(
    file: Annotated[
        Path, typer.Argument(help="BOM file (parent/component rows or an indented level column).")
    ],
    mapping: MapOption = None,
    sheet: SheetOption = None,
    store_it: bool = typer.Option(False, "--store", help="Also store it in the workspace."),
    workspace: WorkspaceOption = None,
    view: str = typer.Option("totals", "--view", help="totals, explosion, per-unit or issues."),
    fmt: FormatOption = Format.table,
) -> None:
    """Explode a bill of materials to mineral mass per finished good (low/central/high, with sources).

    Example: critmin ledger bom pack-bom.csv --view explosion --format csv
    """
    from critmin.ledger.bom import read_bom

    if store_it:
        from critmin.ledger.store import import_bom

        with open_workspace(workspace, create=True) as ws:
            stored = import_bom(ws, file, mapping=mapping, sheet=_sheet(sheet))
        result = (
            stored.result
            if stored.result is not None
            else read_bom(file, mapping=mapping, sheet=_sheet(sheet))
        )
        err_console.print(
            f"BOM {stored.status} (bom {stored.bom_id}); "
            f"content of {stored.lines_updated} ledger lines updated."
        )
    else:
        result = read_bom(file, mapping=mapping, sheet=_sheet(sheet))
    views = {
        "totals": result.totals,
        "explosion": lambda: result.explosion,
        "per-unit": lambda: result.per_unit,
        "issues": lambda: result.issues,
    }
    if view not in views:
        raise InputError(f"--view must be one of {', '.join(views)}.")
    frame = views[view]()
    if fmt is Format.table:
        s = result.summary()
        console.print(
            f"[bold]{file.name}[/bold]: {s['rows_in']} rows, {s['rows_quarantined']} not used; "
            "finished goods: "
            f"{', '.join(s['finished_goods']) or '-'}."
        )
        unresolved = result.unresolved()
        if unresolved.height and view == "totals":
            console.print(
                f"[yellow]{unresolved.height} leaf parts have no content source "
                "(see --view explosion).[/yellow]"
            )
    print_frame(frame, fmt, title=f"BOM {view}")


@sample_app.command("ledger")
def sample_ledger(
    company: str = typer.Option(
        "defense-prime", "--company", help="defense-prime, battery-maker or magnet-maker."
    ),
    rows: int = typer.Option(200, "--rows", help="Number of ledger lines."),
    seed: int = typer.Option(1, "--seed", help="Random seed (same seed, same file)."),
    with_errors: bool = typer.Option(
        False, "--with-errors", help="Plant the ten typical mistakes (see README)."
    ),
    out: Path = typer.Option(
        Path("sample-ledger.csv"), "--out", help="Output file (.csv, .tsv, .xlsx, .parquet)."
    ),
) -> None:
    """Write a synthetic, deterministic import ledger of any size.

    Example: critmin sample ledger --company defense-prime --rows 1000000 --seed 1 --out big.csv
    """
    from critmin.ledger.samples import generate_ledger, write_ledger

    frame = generate_ledger(company, rows, seed, with_errors=with_errors)
    write_ledger(frame, out)
    console.print(f"Wrote {frame.height} lines for {company} to {out}.")


@sample_app.command("bom")
def sample_bom(
    company: str = typer.Option(
        "defense-prime", "--company", help="defense-prime, battery-maker or magnet-maker."
    ),
    out: Path = typer.Option(Path("sample-bom.csv"), "--out", help="Output file (CSV)."),
) -> None:
    """Write the bill of materials of a sample company (part numbers of its sample ledger's products).

    Example: critmin sample bom --company defense-prime --out bom.csv
    """
    import shutil

    from critmin.ledger.samples import sample_path

    source = sample_path(f"{company.replace('-', '_')}_bom.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, out)
    console.print(f"Wrote the bill of materials of {company} to {out}.")


@sample_app.command("sourcing")
def sample_sourcing(
    name: str = typer.Option("ndfeb_magnets", "--name", help="Which sample sourcing problem."),
    out: Path = typer.Option(Path("sourcing.yaml"), "--out", help="Output file (YAML)."),
) -> None:
    """Write a sample sourcing problem to edit and solve with `critmin optimize` (docs/optimize.md).

    Example: critmin sample sourcing --out sourcing.yaml && critmin optimize sourcing.yaml
    """
    _copy_sample("sourcing", name, out)


@sample_app.command("project")
def sample_project(
    name: str = typer.Option("ndpr_separation", "--name", help="ndpr_separation or lioh_refinery."),
    out: Path = typer.Option(Path("project.yaml"), "--out", help="Output file (YAML)."),
) -> None:
    """Write a sample processing project to edit and appraise with `critmin invest` (docs/invest.md).

    Example: critmin sample project --name lioh_refinery --out project.yaml
    """
    _copy_sample("projects", name, out)


@sample_app.command("ace")
def sample_ace(
    company: str = typer.Option(
        "northstar-magnetics",
        "--company",
        help="northstar-magnetics, voltaris-cells (a workbook) or aegis-defense.",
    ),
    out: Path = typer.Option(
        Path("es003.csv"), "--out", help="Output file (.csv; .xlsx for voltaris-cells)."
    ),
) -> None:
    """Write a sample ACE entry-summary export (ES-003) with planted differences, for `critmin reconcile`.

    Example: critmin sample ace --company aegis-defense --out es003.csv && critmin reconcile es003.csv
    """
    import shutil

    from critmin.reconcile.samples import sample_export

    sample = sample_export(company.replace("-", "_"))
    suffix = sample.path.suffix
    if out.suffix.lower() != suffix:
        raise InputError(f"The {company} sample is a {suffix} file: give --out a name ending in {suffix}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample.path, out)
    console.print(f"Wrote the ACE export of {sample.company} to {out} ({sample.description}).")


def _copy_sample(folder: str, name: str, out: Path) -> None:
    import shutil

    from critmin.errors import NotFoundError
    from critmin.paths import SAMPLES_DIR

    shipped = {path.stem: path for path in sorted((SAMPLES_DIR / folder).glob("*.yaml"))}
    if name not in shipped:
        raise NotFoundError(f"No sample {name!r}; the shipped ones are {', '.join(shipped)}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shipped[name], out)
    console.print(f"Wrote {name} to {out}.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="ledger")
    root.add_typer(sample_app, name="sample")
