"""`critmin data ...`: list, show and verify the shipped reference data."""

from __future__ import annotations

import typer

from critmin import refdata
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
)

app = command_group("Shipped reference data: list, show, verify, coverage.")

LIST_KEYS = ("id", "title", "source", "licence", "vintage", "retrieved", "sha256", "rows")


@app.command("list")
def list_datasets(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json"),
) -> None:
    """Every shipped dataset with its source, licence, vintage, checksum and size.

    Example: critmin data list --format json
    """
    records = refdata.read_manifest()
    rows = [{key: getattr(r, key) for key in LIST_KEYS} | {"columns": len(r.columns)} for r in records]
    if fmt is Format.json:
        print_json([r.as_dict() for r in records])
        return
    import polars as pl

    frame = pl.DataFrame(rows).with_columns(
        pl.col("sha256").str.slice(0, 12),
        pl.when(pl.col("title").str.len_chars() > 60)
        .then(pl.col("title").str.slice(0, 59) + "…")
        .otherwise(pl.col("title"))
        .alias("title"),
    )
    print_frame(frame.select("id", "rows", "columns", "sha256", "title"), fmt, keys=("id",))
    if fmt is Format.table:
        console.print("Licences, sources, vintages: `critmin data list -f json` or `critmin data show ID`.")


@app.command("show")
def show_dataset(
    dataset_id: str = typer.Argument(..., metavar="ID"),
    head: int = typer.Option(20, "--head", "-n", min=0, help="rows to show (0 = all)"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json"),
    columns: ColumnsOption = None,
    wide: WideOption = False,
) -> None:
    """A dataset's provenance and its first rows (nested values are JSON text in CSV).

    Example: critmin data show hts_schedule --head 5 --columns hts,description,general_text
    """
    record = refdata.get_record(dataset_id)
    frame = refdata.load(dataset_id)
    if head:
        frame = frame.head(head)
    if fmt is Format.table:
        console.print(f"[bold]{record.title}[/bold] ({record.id})")
        console.print(f"source: {record.source}\nlicence: {record.licence}\nvintage: {record.vintage}")
        console.print(f"rows: {record.rows:,}  sha256: {record.sha256}")
    print_frame(frame, fmt, keys=frame.columns[:1], view=TableView.of(columns, wide))


@app.command("verify")
def verify_datasets() -> None:
    """Recompute checksums and row counts; exit 1 naming each file that does not match."""
    problems = refdata.verify()
    count = len(refdata.read_manifest())
    for problem in problems:
        err_console.print(f"[red]FAIL[/red] {problem.dataset_id}: {problem.file}: {problem.message}")
    if problems:
        err_console.print(f"{len(problems)} of {count} datasets failed verification.")
        raise typer.Exit(1)
    console.print(f"[green]OK[/green] all {count} datasets match their manifest checksums.")


@app.command("coverage")
def coverage_command(
    list_id: str = typer.Option("usgs_2025_final", "--list", help="critical-mineral list id"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json"),
) -> None:
    """Which critical minerals have an oxide/salt or metal HTS code in the PCMDP scope map.

    Example: critmin data coverage --format csv
    """
    from critmin.refdata.scope import coverage

    frame = coverage(list_id)
    print_frame(frame, fmt, title=f"Processed-stage HTS coverage ({list_id})", keys=frame.columns[:1])
    if fmt is Format.table:
        covered = int(frame["has_processed_code"].sum())
        console.print(f"{covered} of {frame.height} minerals have an oxide/salt or metal code of their own.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="data")
