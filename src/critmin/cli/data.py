"""`critmin data ...`: list, show and verify the shipped reference data."""

from __future__ import annotations

import typer

from critmin import refdata
from critmin.cli.output import Format, console, err_console, print_frame, print_json
from critmin.errors import ReferenceDataError

app = typer.Typer(help="Shipped reference data: list, show, verify, coverage.", no_args_is_help=True)

LIST_KEYS = ("id", "title", "source", "licence", "vintage", "retrieved", "sha256", "rows")


@app.command("list")
def list_datasets(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json"),
) -> None:
    """Every shipped dataset with its source, licence, vintage, checksum and size."""
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
    print_frame(frame.select("id", "rows", "columns", "sha256", "title"), fmt)
    console.print("Licences, sources, vintages: `critmin data list --format json` or `critmin data show ID`.")


@app.command("show")
def show_dataset(
    dataset_id: str = typer.Argument(..., metavar="ID"),
    head: int = typer.Option(20, "--head", "-n", min=0, help="rows to show (0 = all)"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json"),
) -> None:
    """A dataset's provenance and its first rows."""
    try:
        record = refdata.get_record(dataset_id)
        frame = refdata.load(dataset_id)
    except ReferenceDataError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if head:
        frame = frame.head(head)
    if fmt is Format.table:
        console.print(f"[bold]{record.title}[/bold] ({record.id})")
        console.print(f"source: {record.source}\nlicence: {record.licence}\nvintage: {record.vintage}")
        console.print(f"rows: {record.rows:,}  sha256: {record.sha256}")
    print_frame(frame, fmt)


@app.command("verify")
def verify_datasets() -> None:
    """Recompute checksums and row counts; exit 1 naming each file that does not match."""
    try:
        problems = refdata.verify()
        count = len(refdata.read_manifest())
    except ReferenceDataError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
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
    """Which critical minerals have an oxide/salt or metal HTS code in the PCMDP scope map."""
    from critmin.errors import CritminError
    from critmin.refdata.scope import coverage

    try:
        frame = coverage(list_id)
    except CritminError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if fmt is Format.json:
        print_frame(frame, fmt)
        return
    flat = frame.with_columns(
        frame["processed_prefixes"].list.join(" ").alias("processed_prefixes"),
        frame["stages"].list.join(" ").alias("stages"),
    )
    print_frame(flat, fmt, title=f"Processed-stage HTS coverage ({list_id})")
    if fmt is Format.table:
        covered = int(frame["has_processed_code"].sum())
        console.print(f"{covered} of {frame.height} minerals have an oxide/salt or metal code of their own.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="data")
