"""Builders for trade flows (CEPII BACI, HS 1992) and governance (WGI political stability).

BACI values are kept in BACI's own units and the column names say so: value_kusd (thousand U.S. dollars,
CIF-adjusted) and qty_t (metric tonnes). Partners carry both BACI's numeric code, which is what BACI users
cross-check against, and ISO alpha-3, which is what the rest of critmin joins on.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.refdata.builders._supply_common import (
    GEOPOLRISK_DIR,
    check_stage_values,
    check_unique,
    curated,
    raw_path,
    read_text_csv,
    require_columns,
    to_float,
    to_int,
)

BACI_COUNTRIES = f"{GEOPOLRISK_DIR}/baci_country_codes_V202401b.csv"
BACI_PRODUCTS = f"{GEOPOLRISK_DIR}/baci_product_codes_hs92_subset.csv"
BACI_US_IMPORTS = f"{GEOPOLRISK_DIR}/baci_us_imports_hs92_1995_2024.csv"
BACI_BILATERAL = f"{GEOPOLRISK_DIR}/baci_bilateral_hs92_2024.csv"
BACI_EXPORTER_TOTALS = f"{GEOPOLRISK_DIR}/baci_exporter_totals_hs92_2005_2024.csv"
WGI_LONG = f"{GEOPOLRISK_DIR}/wgi_pv_long.csv"

# GeoPolRisk's rescaling of the PV estimate: g = (2.5 - PV) / 5, clipped to [0, 1]; 1 = least stable.
WGI_TOLERANCE = 1e-9


def baci_country_codes(raw_dir: Path) -> pl.DataFrame:
    """BACI numeric code -> ISO3, with the corrections in curated/supply_countries.yaml applied."""
    path = raw_path(raw_dir, BACI_COUNTRIES)
    raw = read_text_csv(path)  # text, so Namibia's alpha-2 'NA' stays a code
    require_columns(raw, ["country_code", "country_name", "country_iso3"], path)
    fixes: dict[str, dict[str, str | None]] = curated("supply_countries.yaml")["baci_iso3"]
    codes = to_int(raw, "country_code", path)
    fixed = codes.with_columns(
        pl.when(pl.col("country_code").cast(pl.String).is_in(list(fixes)))
        .then(
            pl.col("country_code")
            .cast(pl.String)
            .replace_strict({code: fix["iso3"] for code, fix in fixes.items()}, default=None)
        )
        .otherwise(pl.col("country_iso3"))
        .alias("iso3")
    )
    bad = fixed.filter(pl.col("iso3").is_not_null() & ~pl.col("iso3").str.contains(r"^[A-Z]{3}$"))
    if bad.height:
        raise ReferenceDataError(
            f"{path}: codes {bad['country_code'].to_list()} carry non-ISO alpha-3 values "
            f"{bad['country_iso3'].to_list()}; add them under baci_iso3 in curated/supply_countries.yaml."
        )
    check_unique(fixed, ["country_code"], str(path))
    return fixed.select("country_code", "country_name", "iso3")


def _baci_flows(
    raw_dir: Path, relative: str, *, with_importer: bool, extra: tuple[str, ...] = ()
) -> pl.DataFrame:
    path = raw_path(raw_dir, relative)
    raw = read_text_csv(path)
    partners = ["exporter_code", "importer_code"] if with_importer else ["exporter_code"]
    require_columns(raw, ["year", *partners, "hs92_code", "value_kusd", "qty_tonnes", *extra], path)
    frame = raw
    for column in ("year", *partners, *extra):
        frame = to_int(frame, column, path)
    frame = to_float(frame, "value_kusd", path)
    frame = to_float(frame, "qty_tonnes", path, out="qty_t")
    bad_hs = frame.filter(~pl.col("hs92_code").str.contains(r"^\d{6}$"))
    if bad_hs.height:
        raise ReferenceDataError(
            f"{path}: HS92 codes {bad_hs['hs92_code'].unique().to_list()} are not 6 digits."
        )
    countries = baci_country_codes(raw_dir)
    known = set(countries["country_code"].to_list())
    for column in partners:
        unknown = sorted(set(frame[column].to_list()) - known)
        if unknown:
            raise ReferenceDataError(
                f"{path}, column {column!r}: codes {unknown} are not in {BACI_COUNTRIES}."
            )
    iso = dict(zip(countries["country_code"].to_list(), countries["iso3"].to_list(), strict=True))
    named = frame.with_columns(
        pl.col(column).replace_strict(iso, return_dtype=pl.String).alias(column.replace("_code", "_iso3"))
        for column in partners
    )
    columns: list[str] = ["year"]
    for column in partners:
        columns += [column, column.replace("_code", "_iso3")]
    columns += ["hs92", "value_kusd", "qty_t", *extra]
    out = named.rename({"hs92_code": "hs92"}).select(columns)
    key = ["hs92", *partners, "year"]
    check_unique(out, key, str(path))
    return out.sort(key)


def build_baci_us_imports(raw_dir: Path) -> pl.DataFrame:
    out = _baci_flows(raw_dir, BACI_US_IMPORTS, with_importer=True)
    others = out.filter(pl.col("importer_iso3") != "USA")
    if others.height:
        raise ReferenceDataError(
            f"{BACI_US_IMPORTS}: {others.height} rows have an importer other than USA (842)."
        )
    return out


def build_baci_bilateral_2024(raw_dir: Path) -> pl.DataFrame:
    out = _baci_flows(raw_dir, BACI_BILATERAL, with_importer=True)
    years = out["year"].unique().to_list()
    if years != [2024]:
        raise ReferenceDataError(f"{BACI_BILATERAL}: expected only 2024, found years {sorted(years)}.")
    return out


def build_baci_exporter_totals(raw_dir: Path) -> pl.DataFrame:
    return _baci_flows(raw_dir, BACI_EXPORTER_TOTALS, with_importer=False, extra=("n_partners",))


def build_baci_products(raw_dir: Path) -> pl.DataFrame:
    path = raw_path(raw_dir, BACI_PRODUCTS)
    raw = read_text_csv(path)
    require_columns(raw, ["code", "description"], path)
    products: dict[str, dict[str, str | None]] = curated("hs92_minerals.yaml")["products"]
    mapping = pl.DataFrame(
        [{"hs92": code, **entry} for code, entry in products.items()],
        schema={"hs92": pl.String, "mineral_id": pl.String, "stage": pl.String, "note": pl.String},
    )
    check_stage_values(mapping["stage"], "curated/hs92_minerals.yaml")
    in_baci = set(raw["code"].to_list())
    unmapped, stale = sorted(in_baci - set(products)), sorted(set(products) - in_baci)
    if unmapped or stale:
        raise ReferenceDataError(
            f"curated/hs92_minerals.yaml and {path} disagree: codes without an entry {unmapped}, "
            f"entries for codes BACI lacks {stale}."
        )
    out = raw.rename({"code": "hs92"}).join(mapping, on="hs92", how="left")
    check_unique(out, ["hs92"], str(path))
    return out.select("hs92", "description", "mineral_id", "stage", "note").sort("hs92")


def build_wgi_political_stability(raw_dir: Path) -> pl.DataFrame:
    path = raw_path(raw_dir, WGI_LONG)
    raw = read_text_csv(path)
    numbers = ["estimate", "stderr", "rank", "lower", "upper", "normalized"]
    require_columns(raw, ["country", "iso3", "year", "numsrc", *numbers], path)
    frame = to_int(raw, "year", path)
    frame = to_int(frame, "numsrc", path)
    for column in numbers:
        frame = to_float(frame, column, path)
    fixes: dict[str, dict[str, str]] = curated("supply_countries.yaml")["wgi_iso3"]
    frame = frame.with_columns(
        pl.col("iso3").replace({code: fix["iso3"] for code, fix in fixes.items()}),
        pl.when(pl.col("iso3").is_in(list(fixes)))
        .then(pl.col("iso3").replace_strict({code: fix["name"] for code, fix in fixes.items()}, default=None))
        .otherwise(pl.col("country"))
        .alias("country"),
    )
    bad = frame.filter(~pl.col("iso3").str.contains(r"^[A-Z]{3}$"))
    if bad.height:
        raise ReferenceDataError(
            f"{path}: iso3 values {bad['iso3'].unique().to_list()} are not alpha-3 codes."
        )
    rescaled = ((2.5 - pl.col("estimate")) / 5).clip(0.0, 1.0)
    off = frame.filter(
        pl.col("estimate").is_not_null() & ((pl.col("normalized") - rescaled).abs() > WGI_TOLERANCE)
    )
    if off.height:
        raise ReferenceDataError(
            f"{path}: 'normalized' is not clip((2.5 - estimate)/5, 0, 1) for {off.height} rows, "
            f"e.g. {off.row(0, named=True)}; the rescaling changed upstream."
        )
    out = frame.select(
        "iso3",
        "country",
        "year",
        "estimate",
        "stderr",
        "numsrc",
        "rank",
        pl.col("lower").alias("rank_lower"),
        pl.col("upper").alias("rank_upper"),
        # The extract writes 0.0 ('most stable') where the estimate is missing; missing must stay missing.
        pl.when(pl.col("estimate").is_null()).then(None).otherwise(pl.col("normalized")).alias("normalized"),
    )
    check_unique(out, ["iso3", "year"], str(path))
    return out.sort("iso3", "year")
