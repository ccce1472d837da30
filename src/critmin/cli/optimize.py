"""`critmin optimize`: the supply mix minimising expected landed cost plus a price on risk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import typer

from critmin.cli.command import CritminCommand
from critmin.cli.output import TableOrJson, console, err_console, print_json, print_table

if TYPE_CHECKING:
    from critmin.optimize.solve import Solution


def optimize(
    problem_file: Path = typer.Argument(
        ..., metavar="PROBLEM.yaml", help="sourcing problem (docs/optimize.md)"
    ),
    frontier_points: int = typer.Option(
        0, "--frontier", min=0, help="also sweep the risk price over N points"
    ),
    risk_price: float | None = typer.Option(
        None, "--risk-price", min=0, help="override the file's risk price"
    ),
    fmt: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f", help="table or json"),
) -> None:
    """Optimal supply mix, its expected landed cost and risk, binding constraints and their shadow prices.

    Exit code 1 when the problem has no feasible mix (the conflicting constraints are listed).
    Example: critmin optimize src/critmin/samples/sourcing/ndfeb_magnets.yaml --frontier 5
    """
    from critmin.optimize import frontier, load_problem, solve

    problem = load_problem(problem_file)
    with err_console.status("solving with HiGHS"):
        solution = solve(problem, risk_price=risk_price)
        if frontier_points and solution.status == "optimal":
            solution.frontier = frontier(problem, max(frontier_points, 2))
    if fmt is TableOrJson.json:
        print_json(solution.as_dict())
    else:
        _print(solution)
    if solution.status != "optimal":
        raise typer.Exit(1)


def _print(solution: Solution) -> None:
    if solution.status != "optimal":
        err_console.print(f"[red]Infeasible:[/red] {solution.message}", highlight=False)
        for line in solution.conflicts:
            err_console.print(f"  - {line}", highlight=False)
        return
    console.print(
        f"[bold]Expected landed cost[/bold] ${solution.expected_cost:,.0f}   "
        f"[bold]risk[/bold] {solution.risk:,.0f}   [bold]objective[/bold] {solution.objective:,.0f}"
    )
    mix = pl.DataFrame(
        [
            {"option": k, "product": v["product"], "quantity": v["quantity"], "share": v["share"]}
            for k, v in solution.mix.items()
        ]
    )
    print_table(mix, "Supply mix", keys=("option",))
    if solution.binding:
        binding = pl.DataFrame(
            [
                {
                    "constraint": k,
                    "shadow_price": v["shadow_price"],
                    "per_point_of_share": v.get("change_per_point"),
                }
                for k, v in solution.binding.items()
            ]
        )
        print_table(
            binding, "Binding constraints (objective change per unit / per point)", keys=("constraint",)
        )
    if solution.frontier:
        print_table(pl.DataFrame(solution.frontier), "Efficient frontier")


def register(app: typer.Typer) -> None:
    app.command("optimize", cls=CritminCommand)(optimize)
