"""`critmin report`: the HTML report, the Excel workbook and the PDF for one ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from critmin.cli.command import CritminCommand, plain_errors_are_input
from critmin.cli.output import console, print_table, step_progress
from critmin.cli.policy import parse_date
from critmin.report.paper import DEFAULT_PAPER, Paper
from critmin.views import DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_TREE


def report(
    file: Annotated[
        Path, typer.Argument(help="Ledger file: CSV, TSV, Excel or Parquet.", show_default=False)
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for report.html, report.xlsx, report.pdf.")
    ],
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            "-s",
            help="Scenario id or file to compare with today (repeat; default: all shipped).",
        ),
    ] = None,
    tree: Annotated[
        str, typer.Option("--tree", help="Scenario tree id or file for the Monte Carlo; 'none' to skip.")
    ] = DEFAULT_TREE,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Report date, YYYY-MM-DD (default: today).")
    ] = None,
    draws: Annotated[
        int, typer.Option("--draws", "-n", min=0, help="Monte Carlo draws (0 = no simulation).")
    ] = (DEFAULT_DRAWS),
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same report.")] = (
        DEFAULT_SEED
    ),
    sourcing: Annotated[
        Path | None, typer.Option("--sourcing", help="Sourcing problem file to optimise (docs/optimize.md).")
    ] = None,
    project: Annotated[
        list[Path] | None,
        typer.Option("--project", help="Project file to appraise (docs/invest.md; repeat)."),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print report.pdf with headless Chromium.")
    ] = True,
    paper: Annotated[
        Paper, typer.Option("--paper", case_sensitive=False, help="Paper of report.pdf: letter or a4.")
    ] = DEFAULT_PAPER,
) -> None:
    """Write a self-contained HTML report, an Excel workbook and a PDF of a ledger's exposure and risk.

    The PDF needs headless Chromium (exit code 3 without it, before any work); --no-pdf does without.
    Example: critmin report entries.csv --scenario s232_tariff_non_partners --as-of 2027-03-01 --out report/
    """
    from critmin.invest import load_project
    from critmin.optimize import load_problem
    from critmin.report import find_chromium, write_report
    from critmin.views import analyse_file, headline_table

    when = parse_date(as_of)
    if pdf:
        find_chromium()  # say so now rather than after the analysis
    with plain_errors_are_input(ValueError):  # critmin.invest reports a bad project value as ValueError
        problem = load_problem(sourcing) if sourcing is not None else None
        projects = [load_project(p) for p in project or []]
    with step_progress("report") as step:
        analysis = analyse_file(
            file,
            as_of=when,
            scenarios=scenario or None,
            tree=None if tree.lower() == "none" else tree,
            draws=draws,
            seed=seed,
            sourcing=problem,
            sourcing_name=sourcing.name if sourcing else None,
            projects=projects,
            progress=step,
        )
        formats = ("html", "xlsx", "pdf") if pdf else ("html", "xlsx")
        files = write_report(analysis, out, formats=formats, progress=step, paper=paper)
    print_table(headline_table(analysis), f"{analysis.ledger_name}: annual duty (USD)")
    for path in files.paths():
        console.print(f"  {path}")


def register(app: typer.Typer) -> None:
    app.command("report", cls=CritminCommand)(report)
