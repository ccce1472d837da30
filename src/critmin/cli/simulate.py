"""`critmin simulate TREE --ledger FILE`: Monte Carlo of a scenario tree on the user's ledger."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import typer

from critmin.cli.command import CritminCommand
from critmin.cli.output import Format as TableFormat
from critmin.cli.output import console, err_console, print_frame, print_json, progress_bar
from critmin.errors import InputError


class OutFormat(StrEnum):
    table = "table"
    json = "json"


class Basis(StrEnum):
    average = "average"
    latest = "latest"


TreeArg = Annotated[
    str,
    typer.Argument(
        help="Shipped tree id (e.g. pcmdp_after_window) or the path of a tree YAML file.", show_default=False
    ),
]
LedgerOption = Annotated[
    Path, typer.Option("--ledger", "-l", help="Ledger file: CSV, TSV, Excel or Parquet.", show_default=False)
]
DrawsOption = Annotated[int, typer.Option("--draws", "-n", min=1, help="Number of Monte Carlo draws.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same numbers.")]
FormatOption = Annotated[
    OutFormat, typer.Option("--format", "-f", help="Readable tables or one JSON document.")
]
SwitchOption = Annotated[
    list[str] | None,
    typer.Option(
        "--switch",
        help="Supplier switch to value, FROM=TO (repeatable). Default: up to three chosen automatically.",
    ),
]
NoSwitchOption = Annotated[bool, typer.Option("--no-switching", help="Do not value any supplier switch.")]
BasisOption = Annotated[
    Basis,
    typer.Option(
        "--basis",
        help="How a ledger longer than a year becomes one year: average over its "
        "years, or its latest twelve months.",
    ),
]
PriceScaleOption = Annotated[
    float | None,
    typer.Option("--price-scale", min=0.0, help="Multiply every price volatility (0 = fixed prices)."),
]
VolumeOption = Annotated[
    float | None, typer.Option("--volume-sd", min=0.0, help="Sd of log volume per mineral.")
]
MapOption = Annotated[Path | None, typer.Option("--map", help="Header mapping file for the ledger (YAML).")]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="Excel sheet name or 1-based number.")]


def register(app: typer.Typer) -> None:
    app.command(
        "simulate",
        cls=CritminCommand,
        help="Expected cost, its distribution (VaR/CVaR), monthly fan, drivers (tornado) and the value of "
        "switching suppliers, over a scenario tree's branches, prices and volumes.",
    )(simulate_command)


def simulate_command(
    tree: TreeArg,
    ledger: LedgerOption,
    draws: DrawsOption = 10_000,
    seed: SeedOption = 0,
    fmt: FormatOption = OutFormat.table,
    switch: SwitchOption = None,
    no_switching: NoSwitchOption = False,
    basis: BasisOption = Basis.average,
    price_scale: PriceScaleOption = None,
    volume_sd: VolumeOption = None,
    mapping: MapOption = None,
    sheet: SheetOption = None,
) -> None:
    from critmin.duty.api import load_ledger
    from critmin.policy.trees import load_tree
    from critmin.simulate import simulate
    from critmin.simulate.switching import Switch

    loaded = load_ledger(ledger, mapping=mapping, sheet=int(sheet) if sheet and sheet.isdigit() else sheet)
    if loaded.rows_quarantined:
        err_console.print(
            f"{loaded.rows_quarantined} of {loaded.rows_in} rows were quarantined and are not "
            f"simulated; see `critmin ledger validate {ledger}`."
        )
    if loaded.lines.is_empty():
        raise InputError(f"{ledger} has no valid ledger lines; see `critmin ledger validate {ledger}`.")
    parsed = load_tree(tree)
    uncertainty = parsed.uncertainty
    if price_scale is not None:
        uncertainty = uncertainty.model_copy(
            update={"prices": uncertainty.prices.model_copy(update={"scale": price_scale})}
        )
    if volume_sd is not None:
        uncertainty = uncertainty.model_copy(
            update={"volumes": uncertainty.volumes.model_copy(update={"sd": volume_sd})}
        )
    switches: list[Switch] | Literal["auto"] | None
    if no_switching:
        switches = None
    elif switch:
        switches = [Switch.parse(s) for s in switch]
    else:
        switches = "auto"
    with progress_bar("Simulating: engine runs, draws, summary") as advance:
        result = simulate(
            parsed,
            loaded.lines,
            draws=draws,
            seed=seed,
            annualise=basis.value,
            uncertainty=uncertainty,
            switches=switches,
            progress=advance,
        )
    payload = result.payload()
    if fmt is OutFormat.json:
        print_json(payload)
        return
    _tables(payload)
    for note in payload["notes"]:
        err_console.print(f"note: {note}", highlight=False)


def _usd(rows: dict[str, float], key: str, top: int = 10) -> pl.DataFrame:
    items = list(rows.items())[:top]
    return pl.DataFrame(
        {key: [k for k, _ in items], "expected_usd": [v for _, v in items]},
        schema={key: pl.String, "expected_usd": pl.Float64},
    )


def _tables(p: dict[str, Any]) -> None:
    s = p["settings"]
    console.print(
        f"Tree [bold]{s['tree']}[/bold]: {s['tree_note']}\n"
        f"{s['draws']:,} draws (seed {s['seed']}) over {s['horizon']['start']} .. {s['horizon']['end']}; "
        f"{s['lines']:,} ledger lines in {s['cells']:,} cells. Cost = duties + price-floor payments, USD."
    )
    labels = [
        ("mean", "mean"),
        ("p5", "5th percentile"),
        ("p50", "median"),
        ("p95", "95th percentile"),
        ("var95", "VaR 95% (cost percentile)"),
        ("cvar95", "CVaR 95% (mean of worst 5%)"),
        ("var99", "VaR 99%"),
        ("cvar99", "CVaR 99%"),
        ("mc_error", "Monte Carlo error of the mean"),
    ]
    print_frame(
        pl.DataFrame({"statistic": [b for _, b in labels], "usd": [float(p[a]) for a, _ in labels]}),
        TableFormat.table,
        title="Annual policy cost",
    )
    branches = pl.DataFrame(
        [
            {
                "branch": b["branch"],
                "probability": b["probability"],
                "draws": b["draws"],
                "central_usd": b["central"],
                "mean_usd": b["mean"],
                "p5_usd": b["p5"],
                "p95_usd": b["p95"],
            }
            for b in p["by_branch"]
        ]
    )
    print_frame(branches, TableFormat.table, title="By branch (probabilities are the tree's judgement)")
    print_frame(
        pl.DataFrame(p["monthly"]).select("month", "p5", "p25", "p50", "mean", "p75", "p95"),
        TableFormat.table,
        title="Monthly cost, fan bands (USD)",
    )
    minerals = pl.DataFrame([{"mineral_id": k, **v} for k, v in p["by_mineral"].items()])
    if minerals.height:
        print_frame(minerals, TableFormat.table, title="By mineral (USD; share of expected cost)")
    print_frame(
        _usd(p["by_origin"], "country_origin"), TableFormat.table, title="Expected cost by origin (top 10)"
    )
    print_frame(
        _usd(p["by_supplier"], "supplier"), TableFormat.table, title="Expected cost by supplier (top 10)"
    )
    oat = p["tornado"]["one_at_a_time"][:12]
    if oat:
        print_frame(
            pl.DataFrame(
                [
                    {
                        "input": b["input"],
                        "low": b["low"],
                        "high": b["high"],
                        "cost_low": b["cost_low"],
                        "cost_high": b["cost_high"],
                        "swing": b["swing"],
                    }
                    for b in oat
                ]
            ),
            TableFormat.table,
            title="Tornado: expected cost with one input at its 5th / 95th percentile",
        )
    rank = p["tornado"]["rank_correlation"][:10]
    if rank:
        print_frame(pl.DataFrame(rank), TableFormat.table, title="Rank correlation with the simulated cost")
    if p["switching"]:
        print_frame(
            pl.DataFrame(
                [
                    {
                        "from": x["from"],
                        "to": x["to"],
                        "lines": x["lines"],
                        "expected_saving": x["expected_saving"],
                        "p5": x["saving_p5"],
                        "p95": x["saving_p95"],
                        "P(saving)": x["probability_saving"],
                        "landed_saving": x["expected_landed_saving"],
                    }
                    for x in p["switching"]
                ]
            ),
            TableFormat.table,
            title="Expected value of switching supplier (policy cost; landed incl. price)",
        )
