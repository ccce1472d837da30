"""The U.S. risk table: one row per critical mineral, every indicator critmin can compute for it.

A blank cell is never silent. Each indicator that cannot be computed for a mineral is listed in the
``missing`` column with the reason (no World Mining Data table, rare earths reported only as a REO total,
not in the shipped USGS subset, not assessed by the EU, ...), so the table doubles as a data-coverage map.
"""

from __future__ import annotations

import polars as pl

from critmin.refdata import load
from critmin.risk.concentration import concentration, export_concentration
from critmin.risk.eu_sr import criticality_expr
from critmin.risk.geopolrisk import national

DEFAULT_YEAR = 2024
REFINED_STAGES = ("oxide_salt_compound", "metal_powder_alloy")

TABLE_COLUMNS: tuple[str, ...] = (
    "mineral_id",
    "name",
    "hhi_mine",
    "top_producer_mine",
    "top_share_mine",
    "hhi_refined",
    "top_producer_refined",
    "top_share_refined",
    "production_year",
    "hhi_exports",
    "top_exporter",
    "nir_pct",
    "nir_bound",
    "nir_basis",
    "nir_year",
    "top_import_source",
    "gpr_score",
    "gpr_cf",
    "gpr_year",
    "eu_sr_2017",
    "eu_sr_2023",
    "eu_critical_2023",
    "missing",
)


def _critical_minerals() -> pl.DataFrame:
    minerals = load("minerals")
    return minerals.filter(pl.col("on_usgs_2025") | pl.col("is_aggregate")).select("mineral_id", "name")


def _production(year: int) -> pl.DataFrame:
    from critmin.risk.sources import load_production

    data = load_production().filter(pl.col("mineral_id").is_not_null() & (pl.col("year") <= year))
    latest = data.filter(pl.col("quantity_t") > 0).group_by("mineral_id", "stage").agg(pl.col("year").max())
    data = data.join(latest, on=["mineral_id", "stage", "year"], how="inner")
    conc = concentration(data, value_col="quantity_t", by=["mineral_id", "stage", "year"])
    mine = conc.filter(pl.col("stage") == "ore_concentrate").select(
        "mineral_id",
        pl.col("hhi").alias("hhi_mine"),
        pl.col("top1_country").alias("top_producer_mine"),
        pl.col("top1_share").alias("top_share_mine"),
        pl.col("year").alias("_year_mine"),
    )
    refined = (
        conc.filter(pl.col("stage").is_in(REFINED_STAGES))
        .sort("hhi", descending=True)
        .unique("mineral_id", keep="first")
        .select(
            "mineral_id",
            pl.col("hhi").alias("hhi_refined"),
            pl.col("top1_country").alias("top_producer_refined"),
            pl.col("top1_share").alias("top_share_refined"),
            pl.col("year").alias("_year_refined"),
        )
    )
    return (
        mine.join(refined, on="mineral_id", how="full", coalesce=True)
        .with_columns(pl.max_horizontal("_year_mine", "_year_refined").alias("production_year"))
        .drop("_year_mine", "_year_refined")
    )


def _exports(year: int) -> pl.DataFrame:
    exports = export_concentration(year=year)
    total = exports.group_by("mineral_id").agg(pl.col("total").sum().alias("_all"))
    # One figure per mineral: the stage with the largest traded value speaks for the mineral.
    return (
        exports.join(total, on="mineral_id")
        .sort("total", descending=True)
        .unique("mineral_id", keep="first")
        .select(
            "mineral_id", pl.col("hhi").alias("hhi_exports"), pl.col("top1_country").alias("top_exporter")
        )
    )


def _nir(year: int) -> pl.DataFrame:
    """Latest NIR per mineral; where USGS gives several (rare earths: compounds and metals vs concentrates),
    the highest, since that is the form the U.S. depends on most, with its basis named."""
    nir = load("usgs_net_import_reliance").filter(pl.col("year") <= year)
    latest = nir.group_by("mineral_id").agg(pl.col("year").max())
    rows = nir.join(latest, on=["mineral_id", "year"]).with_columns(
        pl.when(pl.col("net_exporter")).then(pl.lit(0.0)).otherwise(pl.col("nir_pct")).alias("nir_pct"),
        pl.when(pl.col("net_exporter"))
        .then(pl.lit("net_exporter"))
        .otherwise(pl.col("bound"))
        .alias("nir_bound"),
    )
    return (
        rows.sort(["mineral_id", "nir_pct"], descending=[False, True], nulls_last=True)
        .unique("mineral_id", keep="first")
        .select(
            "mineral_id",
            "nir_pct",
            "nir_bound",
            pl.col("basis").str.replace(r"^Net import reliance,?\s*", "").alias("nir_basis"),
            pl.col("year").alias("nir_year"),
        )
    )


def _import_sources() -> pl.DataFrame:
    sources = load("usgs_mcs2026_import_sources").filter(pl.col("row_kind") == "country")
    return (
        sources.sort("share_pct", descending=True)
        .unique(["mineral_id"], keep="first")
        .select(
            "mineral_id",
            (
                pl.col("iso3")
                + pl.lit(" ")
                + pl.col("share_pct").round(0).cast(pl.Int64).cast(pl.String)
                + "%"
            ).alias("top_import_source"),
        )
    )


def _geopolrisk(year: int) -> pl.DataFrame:
    table = national(year=year, regions={"USA": ("USA",)}, complete=True)
    from critmin.risk.sources import gpr_materials

    ids = gpr_materials().filter(pl.col("mineral_id").is_not_null()).select("material", "mineral_id")
    return (
        table.join(ids, on="material", how="inner")
        .filter(pl.col("material") == pl.col("mineral_id"))
        .select(
            "mineral_id",
            pl.col("score").alias("gpr_score"),
            pl.col("cf").alias("gpr_cf"),
            pl.lit(year).alias("gpr_year"),
            pl.col("note").alias("_gpr_note"),
        )
    )


def _eu() -> pl.DataFrame:
    sr2017 = (
        load("eu_crm2017")
        .filter(pl.col("mineral_id").is_not_null())
        .group_by("mineral_id")
        .agg(pl.col("sr").max().alias("eu_sr_2017"))
    )
    history = load("eu_crm_sr_ei_history").filter(
        (pl.col("year") == 2023) & pl.col("mineral_id").is_not_null()
    )
    sr2023 = history.group_by("mineral_id").agg(
        pl.col("sr").max().alias("eu_sr_2023"),
        criticality_expr(pl.col("sr"), pl.col("ei")).any().alias("eu_critical_2023"),
    )
    return sr2017.join(sr2023, on="mineral_id", how="full", coalesce=True)


def _unstaged_minerals() -> list[str]:
    wmd = load("wmd_production").filter(pl.col("mineral_id").is_not_null())
    staged = wmd.filter(pl.col("stage").is_not_null())["mineral_id"].unique().to_list()
    return sorted(set(wmd["mineral_id"].unique().to_list()) - set(staged))


def _missing_reasons() -> pl.Expr:
    """A readable list of what is blank and why, built from the blanks themselves."""
    from critmin.risk.sources import gpr_materials

    wmd = load("wmd_production").filter(pl.col("mineral_id").is_not_null())["mineral_id"].unique().to_list()
    gpr = gpr_materials()["mineral_id"].drop_nulls().unique().to_list()
    ree = (
        load("minerals")
        .filter(pl.col("group").is_in(["light_ree", "heavy_ree", "other_ree"]))["mineral_id"]
        .to_list()
    )
    traded = load("baci_products")["mineral_id"].drop_nulls().unique().to_list()
    in_wmd = pl.col("mineral_id").is_in(wmd)
    is_ree = pl.col("mineral_id").is_in(ree)
    unstaged = pl.col("mineral_id").is_in(_unstaged_minerals())
    reasons = [
        pl.when(pl.col("hhi_mine").is_null() & pl.col("hhi_refined").is_null()).then(
            pl.when(is_ree)
            .then(
                pl.lit(
                    "production: World Mining Data reports rare earths only as a REO total (row rare_earths)"
                )
            )
            .when(~in_wmd)
            .then(pl.lit("production: no World Mining Data table"))
            .when(unstaged)
            .then(
                pl.lit(
                    "production: World Mining Data does not say whether its table is mine or refinery output"
                )
            )
            .otherwise(pl.lit("production: no reported production up to the table year"))
        ),
        pl.when(pl.col("hhi_exports").is_null()).then(
            pl.when(pl.col("mineral_id").is_in(traded))
            .then(pl.lit("exports: BACI records no flows under its HS 1992 codes in the table year"))
            .otherwise(pl.lit("exports: no BACI HS 1992 code carries this mineral alone"))
        ),
        pl.when(pl.col("nir_pct").is_null()).then(
            pl.lit("NIR: not in the shipped USGS MCS 2026 subset (7 commodities)")
        ),
        pl.when(pl.col("gpr_cf").is_null()).then(
            pl.when(~pl.col("mineral_id").is_in(gpr))
            .then(pl.lit("GeoPolRisk: no WMD production table with an HS code"))
            .otherwise(pl.lit("GeoPolRisk: ") + pl.col("_gpr_note").fill_null("not computable"))
        ),
        pl.when(pl.col("eu_sr_2017").is_null() & pl.col("eu_sr_2023").is_null()).then(
            pl.lit("EU SR: not assessed by the EU under this name")
        ),
    ]
    return pl.concat_str(reasons, separator="; ", ignore_nulls=True)


def us_risk_table(year: int = DEFAULT_YEAR) -> pl.DataFrame:
    """Every USGS 2025 critical mineral (and the aggregates) with concentration, NIR, GeoPolRisk and EU SR.

    Production concentration uses the latest World Mining Data year up to ``year`` per mineral and stage;
    exports and U.S. GeoPolRisk use BACI for ``year``; NIR the latest USGS year up to ``year``.
    """
    base = _critical_minerals()
    table = (
        base.join(_production(year), on="mineral_id", how="left")
        .join(_exports(year), on="mineral_id", how="left")
        .join(_nir(year), on="mineral_id", how="left")
        .join(_import_sources(), on="mineral_id", how="left")
        .join(_geopolrisk(year), on="mineral_id", how="left")
        .join(_eu(), on="mineral_id", how="left")
    )
    missing = _missing_reasons()
    table = table.with_columns(pl.when(missing == "").then(None).otherwise(missing).alias("missing"))
    return table.select(TABLE_COLUMNS).sort("mineral_id")
