"""`critmin demo`: the main job end to end on the shipped sample defense prime."""

from __future__ import annotations

from pathlib import Path

import typer

from critmin.cli.output import console, err_console, frame_table
from critmin.cli.policy import parse_date
from critmin.errors import CritminError


def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="directory for the demo's outputs"),
    as_of: str | None = typer.Option(None, "--as-of", help="report date, YYYY-MM-DD (default: today)"),
    draws: int = typer.Option(2000, "--draws", "-n", min=0, help="Monte Carlo draws (0 = no simulation)"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="also print report.pdf with headless Chromium"),
) -> None:
    """Run the main job end to end on the sample defense prime and write the report to --out.

    Imports the sample ledger into a workspace in --out, evaluates duty in force and under every PCMDP
    scenario, assesses supply risk, simulates the shipped scenario tree, optimises the magnet sourcing
    sample, appraises the NdPr plant sample, and writes report.html, report.xlsx, report.pdf, summary.json.

    Example: critmin demo --out demo-output
    """
    from critmin.demo import run_demo

    try:
        with console.status("running the demo") as status:
            result = run_demo(
                out, progress=lambda step: status.update(step), as_of=parse_date(as_of), draws=draws, pdf=pdf
            )
    except CritminError as exc:
        err_console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    for title, frame in result.tables:
        console.print(frame_table(frame, title))
    console.print(
        f"\n[bold green]Demo written to {result.out_dir.resolve()}[/bold green] in {result.seconds:.0f} s"
    )
    for path in result.files:
        console.print(f"  {path}")
    if result.report.html is not None:
        console.print(f"\nOpen the report: {result.report.html.resolve().as_uri()}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
