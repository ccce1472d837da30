"""`critmin risk ...`: concentration, EU supply risk, GeoPolRisk, the U.S. risk table and a ledger's risk."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import typer

from critmin.cli.output import Format, console, err_console, print_frame, print_json
from critmin.errors import CritminError

app = typer.Typer(
    help="Supply risk: concentration (HHI), EU supply risk, GeoPolRisk, U.S. exposure, your ledger.",
    no_args_is_help=True,
)

FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="table, csv or json")


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]{exc}[/red]")
    return typer.Exit(2)


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns as comma-joined text, so CSV and tables can show them."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    return frame.with_columns(pl.col(name).list.join(", ") for name in lists) if lists else frame


def _show(frame: pl.DataFrame, fmt: Format, title: str | None = None) -> None:
    """Print a frame; one row in table format is shown as field/value pairs, which fits any terminal."""
    if fmt is Format.table and frame.height == 1:
        row = _flat(frame).row(0, named=True)
        pairs = pl.DataFrame({"field": list(row), "value": [_text(v) for v in row.values()]})
        print_frame(pairs, fmt, title)
        return
    print_frame(frame if fmt is Format.json else _flat(frame), fmt, title)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


@app.command("geopolrisk")
def geopolrisk_command(
    importer: str = typer.Option(
        "USA",
        "--importer",
        "-i",
        help="a country, a group id (eu27, usmca) or a comma list taken as one region",
    ),
    material: str | None = typer.Option(
        None, "--material", "-m", help="mineral id (cobalt, graphite, ...); omit for every material"
    ),
    year: int = typer.Option(
        2024, "--year", "-y", help="trade year: 2024 for any importer, 1995-2024 for USA"
    ),
    region_production: str = typer.Option(
        "none",
        "--region-production",
        help="own production of a multi-country region: none (as geopolrisk-py) or sum",
    ),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """GeoPolRisk score and characterisation factor for an importer, material and year.

    Example: critmin risk geopolrisk --importer USA --material cobalt --year 2022 --format json
    """
    from critmin.risk import geopolrisk

    if region_production not in ("none", "sum"):
        raise _fail(ValueError("--region-production must be 'none' or 'sum'."))
    mode: geopolrisk.RegionProduction = "sum" if region_production == "sum" else "none"
    try:
        if material is not None:
            record = geopolrisk.assess(importer, material, year, region_production=mode)
            if fmt is Format.json:
                print_json({key: record[key] for key in geopolrisk.JSON_KEYS})
                return
            frame = pl.DataFrame([{k: v for k, v in record.items() if k != "members"}])
        else:
            region_id, members = geopolrisk.parse_importer(importer, year)
            frame = geopolrisk.national(year=year, regions={region_id: members}, region_production=mode)
            if fmt is Format.json:
                print_json(frame.select(geopolrisk.JSON_KEYS).to_dicts())
                return
    except (CritminError, ValueError) as exc:
        raise _fail(exc) from exc
    _show(frame, fmt, title="GeoPolRisk (price in USD/kg; CF in kg Cu-eq/kg)")


@app.command("concentration")
def concentration_command(
    material: str = typer.Option(..., "--material", "-m", help="mineral id, e.g. graphite"),
    stage: str | None = typer.Option(None, "--stage", "-s", help="ore_concentrate, metal_powder_alloy, ..."),
    year: int | None = typer.Option(None, "--year", "-y"),
    source: str = typer.Option("all", "--source", help="wmd, usgs, baci or all"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """HHI (0-1 and 0-10,000) and top-1/top-3 shares of world production and exports.

    Example: critmin risk concentration --material graphite --year 2024
    """
    from critmin.risk import concentration

    try:
        if source == "all":
            frame = concentration.supply_concentration(material, stage=stage, year=year)
        elif source in ("wmd", "usgs"):
            frame = concentration.production_concentration(material, stage=stage, year=year, source=source)
        elif source == "baci":
            frame = concentration.export_concentration(material, stage=stage, year=year)
        else:
            raise ValueError("--source must be wmd, usgs, baci or all.")
    except (CritminError, ValueError) as exc:
        raise _fail(exc) from exc
    if frame.is_empty():
        raise _fail(CritminError(f"No production or trade data for {material!r} with these filters."))
    _show(frame, fmt, title=f"Concentration of {material} supply")


@app.command("eu-sr")
def eu_sr_command(
    material: str | None = typer.Option(None, "--material", "-m", help="EU material name or mineral id"),
    year: int = typer.Option(2017, "--year", "-y", help="2017 (inputs and recomputed SR) or 2011-2023"),
    critical_only: bool = typer.Option(False, "--critical", help="only materials meeting both thresholds"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """EU supply risk: the 2017 assessment recomputed from its published inputs, or SR/EI of any assessment.

    Thresholds: SR >= 1.0 and EI >= 2.8 (EI >= 5 in 2011 and 2014).
    Example: critmin risk eu-sr --material tungsten
    """
    from critmin.risk import eu_sr

    try:
        if year == 2017:
            frame = eu_sr.eu_crm_2017()
            if material is not None:
                needle = material.lower()
                frame = frame.filter(
                    (pl.col("mineral_id") == needle) | (pl.col("material").str.to_lowercase() == needle)
                )
        else:
            frame = eu_sr.eu_sr_history(material).filter(pl.col("year") == year)
    except CritminError as exc:
        raise _fail(exc) from exc
    if critical_only:
        frame = frame.filter(pl.col("critical"))
    if frame.is_empty():
        raise _fail(CritminError(f"The EU did not assess {material!r} in {year}."))
    _show(frame, fmt, title=f"EU supply risk, {year} assessment")


@app.command("table")
def table_command(
    year: int = typer.Option(2024, "--year", "-y", help="data year (production, trade, NIR up to it)"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """The U.S. risk table: every critical mineral with concentration, NIR, GeoPolRisk and EU SR.

    Blank cells are explained in the 'missing' column.
    """
    from critmin.risk.table import us_risk_table

    try:
        frame = us_risk_table(year)
    except CritminError as exc:
        raise _fail(exc) from exc
    _show(frame, fmt, title=f"U.S. critical-mineral risk table ({year})")


def _read_ledger(path: Path) -> tuple[pl.DataFrame, int]:
    """A user's ledger as canonical lines (via the ledger ingest) and the number of rows it quarantined."""
    from critmin.ledger.ingest import ingest

    result = ingest(path)
    return result.lines, result.rows_quarantined


@app.command("ledger")
def ledger_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="import ledger (CSV, TSV, Excel, Parquet)"
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="read every rule and group as of this date"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Your ledger's supply risk: FEOC and partner shares, origin concentration, DFARS flags, GeoPolRisk.

    Example: critmin risk ledger entries.csv --format json
    """
    from critmin.risk.company import ledger_risk

    try:
        when = date.fromisoformat(as_of) if as_of else None
        ledger, quarantined = _read_ledger(file)
        result = ledger_risk(ledger, as_of=when)
    except (CritminError, ValueError) as exc:
        raise _fail(exc) from exc
    exposure = result.exposure
    flagged = (
        exposure.lines.filter(pl.col("dfars_flag").is_not_null())
        .drop("mineral_id", "stage", "mineral_kg", "mineral_kg_basis", "content_kg", "content_value_usd")
        .unique("line_id", keep="first")
        .sort("line_id")
    )
    sections: dict[str, pl.DataFrame] = {
        "by_mineral": exposure.by_mineral,
        "origin_concentration": exposure.origin_concentration,
        "dfars": flagged,
        "geopolrisk": result.geopolrisk,
    }
    if fmt is Format.json:
        payload: dict[str, Any] = {
            "file": str(file),
            "lines": result.n_lines,
            "rows_quarantined": quarantined,
            "lines_classified": result.n_classified,
            **{name: frame.to_dicts() for name, frame in sections.items()},
            "assumptions": list(result.assumptions),
        }
        print_json(payload)
        return
    if fmt is Format.csv:
        print_frame(_flat(exposure.lines), fmt)
        return
    console.print(
        f"[bold]{file}[/bold]: {result.n_lines:,} lines, {result.n_classified:,} classified to a mineral"
    )
    titles = {
        "by_mineral": "Shares by mineral (FEOC: China, Russia, Iran, North Korea; partners: FTA, frameworks)",
        "origin_concentration": "Concentration of your purchases by origin (customs value)",
        "dfars": "DFARS 252.225-7052 lines",
        "geopolrisk": "Company-mode GeoPolRisk",
    }
    for name, frame in sections.items():
        if not frame.is_empty():
            _show(frame, fmt, title=titles[name])
    for note in result.assumptions:
        console.print(f"[dim]assumption: {note}[/dim]")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="risk")
