"""`critmin demo`: the main job end to end on the shipped sample defense prime."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer
from rich.text import Text

from critmin.cli.command import CritminCommand
from critmin.cli.output import console, print_table, step_progress
from critmin.cli.policy import parse_date
from critmin.report.paper import DEFAULT_PAPER, Paper


def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="directory for the demo's outputs"),
    as_of: str | None = typer.Option(None, "--as-of", help="report date, YYYY-MM-DD (default: today)"),
    draws: int = typer.Option(2000, "--draws", "-n", min=0, help="Monte Carlo draws (0 = no simulation)"),
    pdf: bool = typer.Option(
        True, "--pdf/--no-pdf", help="also print report.pdf with headless Chromium (skipped if none is found)"
    ),
    paper: Paper = typer.Option(DEFAULT_PAPER, "--paper", case_sensitive=False, help="paper of report.pdf"),
) -> None:
    """Run the main job end to end on the sample defense prime and write the report to --out.

    Imports the sample ledger into a workspace in --out, evaluates duty in force and under every PCMDP
    scenario, assesses supply risk, simulates the shipped scenario tree, optimises the magnet sourcing
    sample, appraises the NdPr plant sample, and writes report.html, report.xlsx, report.pdf, summary.json.
    Without Chromium the PDF is skipped with a note saying how to get it; the rest is written.

    Example: critmin demo --out demo-output
    """
    from critmin.demo import run_demo

    when = parse_date(as_of)
    with step_progress("demo") as step:
        result = run_demo(out, progress=step, as_of=when, draws=draws, pdf=pdf, paper=paper)
    for title, frame in result.tables:
        print_table(frame, title)
    console.print(
        f"\n[bold green]Demo written to {result.out_dir.resolve()}[/bold green] in {result.seconds:.0f} s"
    )
    for path in result.files:
        console.print(f"  {path}")
    if result.pdf_skipped is not None:
        console.print(Text(result.pdf_skipped, style="yellow"), soft_wrap=True)
    if result.report.html is not None:
        console.print(f"\nOpen the report: {result.report.html.resolve().as_uri()}")
    # `critmin serve` alone opens ./critmin.duckdb (or $CRITMIN_WORKSPACE), not the demo's workspace
    serve = shlex.join(["critmin", "serve", "--workspace", str(result.workspace)])
    console.print(Text(f"Browse it in the dashboard: {serve}"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo", cls=CritminCommand)(demo)
