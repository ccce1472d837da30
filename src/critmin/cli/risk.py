"""`critmin risk ...`: concentration, EU supply risk, GeoPolRisk, the U.S. risk table and a ledger's risk."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import polars as pl
import typer

from critmin.cli.command import command_group
from critmin.cli.output import (
    ColumnsOption,
    Format,
    TableView,
    WideOption,
    console,
    csv_ready,
    print_frame,
    print_json,
)
from critmin.cli.policy import parse_date
from critmin.errors import NotFoundError

app = command_group(
    "Supply risk: concentration (HHI), EU supply risk, GeoPolRisk, U.S. exposure, your ledger."
)

FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="table, csv or json")


class RegionProduction(StrEnum):
    none = "none"
    sum = "sum"


class Source(StrEnum):
    all = "all"
    wmd = "wmd"
    usgs = "usgs"
    baci = "baci"


RISK_TABLE_KEYS = ("mineral_id", "hhi_mine", "hhi_refined", "nir_pct", "gpr_score", "eu_sr_2023")
"""The columns a narrow terminal shows first: one indicator of each kind."""

LEDGER_SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "by_mineral": (
        "Shares by mineral (FEOC: China, Russia, Iran, North Korea; partners: FTA, frameworks)",
        ("mineral_id", "value_usd", "feoc_share_value", "partner_share_value", "dfars_prohibited_lines"),
    ),
    "origin_concentration": (
        "Concentration of your purchases by origin (customs value)",
        ("mineral_id", "hhi_10000", "top1_country", "top1_share", "total"),
    ),
    "dfars": (
        "DFARS 252.225-7052 lines",
        ("line_id", "flag", "material", "country_origin", "customs_value_usd", "hts"),
    ),
    "geopolrisk": ("Company-mode GeoPolRisk", ("mineral_id", "score", "cf", "hhi", "import_risk")),
}
"""Title and first columns of each table of `critmin risk ledger`."""


def _show(frame: pl.DataFrame, fmt: Format, title: str | None = None, **table: Any) -> None:
    """Print a frame; one row in table format is shown as field/value pairs, which fits any terminal."""
    if fmt is Format.table and frame.height == 1:
        row = frame.row(0, named=True)
        pairs = pl.DataFrame(
            {"field": list(row), "value": [_text(v) for v in row.values()]},
            schema={"field": pl.String, "value": pl.String},
        )
        print_frame(pairs, fmt, title, keys=("field",))
        return
    print_frame(frame, fmt, title, **table)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
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
    region_production: RegionProduction = typer.Option(
        RegionProduction.none,
        "--region-production",
        help="own production of a multi-country region: none (as geopolrisk-py) or sum",
    ),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """GeoPolRisk score and characterisation factor for an importer, material and year.

    Example: critmin risk geopolrisk --importer USA --material cobalt --year 2022 --format json
    """
    from critmin.risk import geopolrisk

    mode: geopolrisk.RegionProduction = "sum" if region_production is RegionProduction.sum else "none"
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
    _show(frame, fmt, title="GeoPolRisk (price in USD/kg; CF in kg Cu-eq/kg)", keys=("material",))


@app.command("concentration")
def concentration_command(
    material: str = typer.Option(..., "--material", "-m", help="mineral id, e.g. graphite"),
    stage: str | None = typer.Option(None, "--stage", "-s", help="ore_concentrate, metal_powder_alloy, ..."),
    year: int | None = typer.Option(None, "--year", "-y"),
    source: Source = typer.Option(Source.all, "--source", help="wmd, usgs, baci or all"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """HHI (0-1 and 0-10,000) and top-1/top-3 shares of world production and exports.

    Example: critmin risk concentration --material graphite --year 2024
    """
    from critmin.risk import concentration

    if source is Source.all:
        frame = concentration.supply_concentration(material, stage=stage, year=year)
    elif source is Source.baci:
        frame = concentration.export_concentration(material, stage=stage, year=year)
    else:
        frame = concentration.production_concentration(material, stage=stage, year=year, source=source.value)
    if frame.is_empty():
        raise NotFoundError(f"No production or trade data for {material!r} with these filters.")
    _show(frame, fmt, title=f"Concentration of {material} supply", keys=("basis",))


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

    if year == 2017:
        frame = eu_sr.eu_crm_2017()
        if material is not None:
            needle = material.lower()
            frame = frame.filter(
                (pl.col("mineral_id") == needle) | (pl.col("material").str.to_lowercase() == needle)
            )
    else:
        frame = eu_sr.eu_sr_history(material).filter(pl.col("year") == year)
    if critical_only:
        frame = frame.filter(pl.col("critical"))
    if frame.is_empty():
        raise NotFoundError(f"The EU did not assess {material!r} in {year}.")
    _show(frame, fmt, title=f"EU supply risk, {year} assessment", keys=("material",))


@app.command("table")
def table_command(
    year: int = typer.Option(2024, "--year", "-y", help="data year (production, trade, NIR up to it)"),
    fmt: Format = FORMAT_OPTION,
    columns: ColumnsOption = None,
    wide: WideOption = False,
) -> None:
    """The U.S. risk table: every critical mineral with concentration, NIR, GeoPolRisk and EU SR.

    Blank cells are explained in the 'missing' column. A narrow terminal shows one indicator of each kind
    first; --wide shows them all.
    Example: critmin risk table --columns mineral_id,nir_pct,top_import_source,missing
    """
    from critmin.risk.table import us_risk_table

    frame = us_risk_table(year)
    _show(
        frame,
        fmt,
        title=f"U.S. critical-mineral risk table ({year})",
        keys=RISK_TABLE_KEYS,
        view=TableView.of(columns, wide),
    )


@app.command("ledger")
def ledger_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="import ledger (CSV, TSV, Excel, Parquet)"
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="read every rule and group as of this date"),
    fmt: Format = FORMAT_OPTION,
    wide: WideOption = False,
) -> None:
    """Your ledger's supply risk: FEOC and partner shares, origin concentration, DFARS flags, GeoPolRisk.

    CSV gives every ledger line with its mineral, shares and DFARS flag.
    Example: critmin risk ledger entries.csv --format json
    """
    from critmin.ledger.ingest import ingest
    from critmin.risk.company import ledger_risk
    from critmin.views.risk import ledger_dfars_flags

    ingested = ingest(file)
    result = ledger_risk(ingested.lines, as_of=parse_date(as_of))
    exposure = result.exposure
    sections: dict[str, pl.DataFrame] = {
        "by_mineral": exposure.by_mineral,
        "origin_concentration": exposure.origin_concentration,
        "dfars": ledger_dfars_flags(result),
        "geopolrisk": result.geopolrisk,
    }
    if fmt is Format.json:
        payload: dict[str, Any] = {
            "file": str(file),
            "lines": result.n_lines,
            "rows_quarantined": ingested.rows_quarantined,
            "lines_classified": result.n_classified,
            **{name: frame.to_dicts() for name, frame in sections.items()},
            "assumptions": list(result.assumptions),
        }
        print_json(payload)
        return
    if fmt is Format.csv:
        print_frame(csv_ready(exposure.lines), fmt)
        return
    console.print(
        f"[bold]{file}[/bold]: {result.n_lines:,} lines, {result.n_classified:,} classified to a mineral"
    )
    view = TableView(wide=wide, ways="--wide")
    for name, frame in sections.items():
        if not frame.is_empty():
            title, keys = LEDGER_SECTIONS[name]
            _show(frame, fmt, title=title, keys=keys, view=view)
    for note in result.assumptions:
        console.print(f"[dim]assumption: {note}[/dim]", highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="risk")
