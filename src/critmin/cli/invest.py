"""`critmin invest`: appraise a domestic processing project."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer

from critmin.cli.command import CritminCommand, plain_errors_are_input
from critmin.cli.output import TableOrJson, console, print_json, print_table
from critmin.cli.params import parse_sets


def invest(
    project_file: Path = typer.Argument(..., metavar="PROJECT.yaml", help="project file (docs/invest.md)"),
    tree: str | None = typer.Option(None, "--tree", help="scenario tree id or file: NPV by branch"),
    draws: int = typer.Option(2000, "--draws", "-n", min=0, help="Monte Carlo price paths (0 = none)"),
    seed: int = typer.Option(0, "--seed", help="random seed; the same seed gives the same result"),
    sets: list[str] = typer.Option(None, "--set", help="override a field, e.g. --set floor.level=90"),
    fmt: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f", help="table or json"),
) -> None:
    """NPV, IRR, payback, LCOP, floor value and break-even floor of a project, with price risk.

    Example: critmin invest src/critmin/samples/projects/ndpr_separation.yaml --tree pcmdp_after_window
    """
    from critmin.invest import appraise, load_project

    with plain_errors_are_input(ValueError):  # critmin.invest reports a bad project value as ValueError
        project = load_project(project_file, parse_sets(sets))
        branches = None
        if tree is not None:
            from critmin.invest.branches import branches_from_tree
            from critmin.policy.trees import load_tree

            branches = branches_from_tree(project, load_tree(tree))
        result = appraise(project, branches=branches, draws=draws, seed=seed)
    if fmt is TableOrJson.json:
        print_json(result.as_dict())
        return
    console.print(f"[bold]{project.name}[/bold] — {project.label}")
    money = [
        ("NPV (deterministic)", f"${result.npv:,.0f}"),
        ("IRR", "n/a" if result.irr is None else f"{result.irr:.1%}"),
        ("Payback", "never" if result.payback_years is None else f"{result.payback_years:.1f} years"),
        ("LCOP", f"${result.lcop:,.2f} per {project.unit}"),
        ("Floor value", "n/a" if result.floor_value is None else f"${result.floor_value:,.0f}"),
        ("Break-even floor", "—" if result.breakeven_floor is None else f"${result.breakeven_floor:,.2f}"),
        ("", result.breakeven_note),
        ("Price volatility", f"{result.volatility:.1%} ({result.volatility_source})"),
    ]
    if result.npv_p50 is not None:
        money += [
            (
                "NPV p5 / p50 / p95",
                f"${result.npv_p5:,.0f} / ${result.npv_p50:,.0f} / ${result.npv_p95:,.0f}",
            ),
            ("P(NPV < 0)", f"{result.prob_npv_negative:.1%}"),
        ]
    print_table(pl.DataFrame(money, schema=["measure", "value"], orient="row"), keys=("measure",))
    if result.npv_by_branch:
        branch_rows = [{"branch": k, "npv": v} for k, v in result.npv_by_branch.items()]
        print_table(
            pl.DataFrame(branch_rows),
            f"NPV by policy branch (expected ${result.expected_npv:,.0f})",
            keys=("branch",),
        )
    tornado = pl.DataFrame(result.tornado).select("input", "low", "high", "range")
    print_table(tornado, "NPV sensitivity (each input -20% / +20%)", keys=("input",))


def register(app: typer.Typer) -> None:
    app.command("invest", cls=CritminCommand)(invest)
