"""Builders for the U.S. side of USGS MCS 2026: salient statistics, NIR, prices and import sources.

USGS prints net import reliance as a number, as a bound (">50" when data are withheld) or as "E" (the
United States is a net exporter, NIR < 0). The raw text is kept and interpreted into three explicit columns,
so a bound is never mistaken for a point value and a net exporter is never read as 0 % reliance by accident.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.refdata.builders._supply_common import (
    USGS_DIR,
    check_stage_values,
    check_unique,
    curated,
    raw_path,
    read_text_csv,
    require_columns,
    to_float,
)
from critmin.refdata.builders.supply_production import usgs_commodity_columns, usgs_country_columns

USGS_SALIENT = f"{USGS_DIR}/mcs2026_us_salient_subset.csv"
USGS_IMPORT_SOURCES = f"{USGS_DIR}/mcs2026_us_import_sources.csv"

NIR_SECTION = "NIR"
PRICE_SECTION = "Price"
KG_PER_UNIT = {"USD/kg": 1.0, "USD/t": 1000.0, "USD/lb": 0.45359237}
RAW_PATTERN = r"^(?<bound>[<>]?)(?<number>\d+(?:\.\d+)?)$"
BOUNDS = {"": "exact", ">": "greater_than", "<": "less_than"}


def build_usgs_salient(raw_dir: Path) -> pl.DataFrame:
    path = raw_path(raw_dir, USGS_SALIENT)
    raw = read_text_csv(path)
    require_columns(raw, ["commodity", "section", "label", "unit", "year", "value", "raw"], path)
    frame = to_float(raw, "value", path)
    year = pl.col("year").str.extract(r"^(\d{4})e?$")
    bad_year = frame.with_row_index("__row").filter(year.is_null())
    if bad_year.height:
        first = bad_year.row(0, named=True)
        raise ReferenceDataError(
            f"{path}, line {first['__row'] + 2}, column 'year': {first['year']!r} is not YYYY or YYYYe."
        )
    raw_text = pl.col("raw").str.strip_chars()
    parts = raw_text.str.extract_groups(RAW_PATTERN)
    frame = frame.with_columns(
        year.cast(pl.Int64).alias("year"),
        pl.col("year").str.ends_with("e").alias("estimated"),
        raw_text.alias("raw"),
        parts.struct.field("bound").alias("__bound"),
        parts.struct.field("number").cast(pl.Float64).alias("__number"),
    )
    net_exporter = pl.col("raw") == "E"
    unreadable = frame.with_row_index("__row").filter(pl.col("__number").is_null() & ~net_exporter)
    if unreadable.height:
        first = unreadable.row(0, named=True)
        raise ReferenceDataError(
            f"{path}, line {first['__row'] + 2}, column 'raw': {first['raw']!r} is neither a number, a bound "
            "('>50', '<25') nor 'E' (net exporter)."
        )
    disagree = frame.with_row_index("__row").filter(
        (pl.col("__number") != pl.col("value")) | (net_exporter & pl.col("value").is_not_null())
    )
    if disagree.height:
        first = disagree.row(0, named=True)
        raise ReferenceDataError(
            f"{path}, line {first['__row'] + 2}: value {first['value']} does not match the USGS text "
            f"{first['raw']!r}. Re-check the transcription."
        )
    stray = frame.filter((pl.col("section") != NIR_SECTION) & ((pl.col("__bound") != "") | net_exporter))
    if stray.height:
        raise ReferenceDataError(
            f"{path}: bounds or 'E' outside the NIR section: {stray.row(0, named=True)}."
        )
    is_nir = pl.col("section") == NIR_SECTION
    out = usgs_commodity_columns(frame, path).select(
        "mineral_id",
        "commodity",
        "section",
        "label",
        "unit",
        "year",
        "estimated",
        "value",
        "raw",
        pl.when(is_nir).then(pl.col("__number")).alias("nir_pct"),
        pl.when(is_nir & ~net_exporter).then(pl.col("__bound").replace_strict(BOUNDS)).alias("nir_bound"),
        pl.when(is_nir).then(net_exporter).alias("net_exporter"),
        "source",
    )
    out = out.sort("mineral_id", "section", "label", "year")
    check_unique(out, ["commodity", "section", "label", "year"], str(path))
    return out


def build_net_import_reliance(raw_dir: Path) -> pl.DataFrame:
    salient = build_usgs_salient(raw_dir)
    return (
        salient.filter(pl.col("section") == NIR_SECTION)
        .select(
            "mineral_id",
            "year",
            "estimated",
            pl.col("label").alias("basis"),
            "nir_pct",
            pl.col("nir_bound").alias("bound"),
            "net_exporter",
            "raw",
            "source",
        )
        .sort("mineral_id", "basis", "year")
    )


SERIES_ID = r"^[a-z0-9]+(_[a-z0-9]+)*$"


def _price_series() -> pl.DataFrame:
    """The curated series table; the series id is the key a price history is asked for by.

    One mineral can have several series at very different levels (rare earths: mischmetal and NdPr oxide),
    so the id names the mineral and the product form, and it must be unique and snake_case.
    """
    where = "curated/usgs_mcs2026.yaml (price_series)"
    entries = curated("usgs_mcs2026.yaml")["price_series"]
    frame = pl.DataFrame(
        entries,
        schema={
            "series": pl.String,
            "commodity": pl.String,
            "label": pl.String,
            "mineral_id": pl.String,
            "stage": pl.String,
        },
    )
    check_unique(frame, ["commodity", "label"], where)
    check_unique(frame, ["series"], where)
    bad = frame.filter(pl.col("series").is_null() | ~pl.col("series").str.contains(SERIES_ID))
    if bad.height:
        where_bad = bad.select("commodity", "label").rows()
        raise ReferenceDataError(f"{where}: every entry needs a snake_case `series` id; check {where_bad}.")
    check_stage_values(frame["stage"], where)
    return frame.rename({"mineral_id": "series_mineral_id", "series": "series_id"})


def build_mineral_prices(raw_dir: Path) -> pl.DataFrame:
    salient = build_usgs_salient(raw_dir).filter(pl.col("section") == PRICE_SECTION)
    series = _price_series()
    joined = salient.join(series, on=["commodity", "label"], how="left")
    unmapped = joined.filter(pl.col("series_mineral_id").is_null()).select("commodity", "label").unique()
    if unmapped.height:
        raise ReferenceDataError(
            f"USGS price lines without an entry in curated/usgs_mcs2026.yaml (price_series): "
            f"{unmapped.rows()}."
        )
    unknown_units = sorted(set(joined["unit"].unique().to_list()) - set(KG_PER_UNIT))
    if unknown_units:
        raise ReferenceDataError(f"USGS price units {unknown_units} have no conversion to USD/kg.")
    check_unique(joined, ["series_id", "year"], "USGS price lines (one price per series and year)")
    return joined.select(
        pl.col("series_mineral_id").alias("mineral_id"),
        "series_id",
        "year",
        "estimated",
        pl.col("value").alias("price"),
        "unit",
        (pl.col("value") / pl.col("unit").replace_strict(KG_PER_UNIT, return_dtype=pl.Float64)).alias(
            "price_usd_per_kg"
        ),
        pl.col("label").alias("basis"),
        "stage",
        "source",
    ).sort("mineral_id", "basis", "year")


def build_usgs_import_sources(raw_dir: Path) -> pl.DataFrame:
    path = raw_path(raw_dir, USGS_IMPORT_SOURCES)
    raw = read_text_csv(path)
    require_columns(raw, ["commodity", "category", "period", "country", "share_pct"], path)
    frame = to_float(raw, "share_pct", path)
    period = pl.col("period").str.extract_groups(r"^(?<start>\d{4})-(?<end>\d{2}|\d{4})$")
    frame = frame.with_columns(
        period.struct.field("start").cast(pl.Int64).alias("year_from"),
        period.struct.field("end").alias("__end"),
    )
    bad = frame.with_row_index("__row").filter(pl.col("year_from").is_null())
    if bad.height:
        first = bad.row(0, named=True)
        raise ReferenceDataError(
            f"{path}, line {first['__row'] + 2}, column 'period': {first['period']!r} is not YYYY-YY or "
            "YYYY-YYYY."
        )
    frame = frame.with_columns(
        pl.when(pl.col("__end").str.len_chars() == 2)
        .then((pl.col("year_from") // 100) * 100 + pl.col("__end").cast(pl.Int64))
        .otherwise(pl.col("__end").cast(pl.Int64))
        .alias("year_to")
    )
    out = usgs_country_columns(usgs_commodity_columns(frame, path), path).select(
        "mineral_id",
        "commodity",
        "category",
        "period",
        "year_from",
        "year_to",
        "country",
        "iso3",
        "row_kind",
        "share_pct",
        "source",
    )
    totals = out.group_by("commodity", "category").agg(pl.col("share_pct").sum().alias("total"))
    off = totals.filter((pl.col("total") - 100).abs() > 1)
    if off.height:
        raise ReferenceDataError(f"{path}: import shares do not add up to 100 %: {off.rows()}.")
    out = out.sort(
        "mineral_id", "category", pl.col("share_pct"), "country", descending=[False, False, True, False]
    )
    check_unique(out, ["commodity", "category", "country"], str(path))
    return out
