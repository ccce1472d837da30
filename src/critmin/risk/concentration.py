"""Herfindahl–Hirschman index and top-k shares, on any grouping of a long table.

Two scales are reported side by side because the methods critmin reproduces disagree: GeoPolRisk and the EU
criticality method use shares as fractions (HHI 0–1), competition authorities use percentage points (HHI
0–10,000). Aggregate rows (``Total``, ``World``, unallocated ``Other``) are dropped before computing, since
counting them as a producer would inflate the index; the number of such rows dropped is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl

AGGREGATE_LABELS: frozenset[str] = frozenset(
    {
        "total",
        "world",
        "world total",
        "world total (rounded)",
        "other",
        "others",
        "other countries",
        "delete",
        "",
    }
)
"""Country labels that are sums or residuals, not producers (compared case-insensitively)."""

CONCENTRATION_COLUMNS: tuple[str, ...] = (
    "n_countries",
    "total",
    "hhi",
    "hhi_10000",
    "top1_country",
    "top1_share",
    "top3_countries",
    "top3_share",
    "n_aggregate_rows_dropped",
)

# Thresholds on the 0–10,000 scale: 2010 Horizontal Merger Guidelines (unconcentrated < 1,500, highly
# concentrated > 2,500) and 2023 Merger Guidelines (highly concentrated > 1,800),
# https://www.justice.gov/atr/merger-guidelines (retrieved 2026-11-28).
MERGER_2010_MODERATE = 1_500.0
MERGER_2010_HIGH = 2_500.0
MERGER_2023_HIGH = 1_800.0


def hhi(values: Sequence[float] | np.ndarray) -> float:
    """HHI (0–1) of quantities: Σ v² / (Σ v)², so the quantities need not be shares."""
    arr = np.asarray(values, dtype=float)
    arr = np.where(np.isnan(arr), 0.0, arr)
    total = arr.sum()
    if total <= 0:
        raise ValueError("HHI is undefined when the quantities sum to zero or less.")
    return float((arr * arr).sum() / (total * total))


def hhi_from_shares(shares: Sequence[float] | np.ndarray) -> float:
    """Σ s² over shares as given (fractions give 0–1, percentages give 0–10,000).

    Shares are not renormalised: published examples list only the firms they name and leave the rest as an
    atomistic fringe (e.g. 70/15/5 -> 5,150), and that is the number they print.
    """
    arr = np.asarray(shares, dtype=float)
    return float((arr * arr).sum())


def merger_guidelines_class(hhi_10000: float, edition: int = 2023) -> str:
    """The concentration class a value falls in under the 2010 or 2023 U.S. Merger Guidelines."""
    if edition == 2010:
        if hhi_10000 < MERGER_2010_MODERATE:
            return "unconcentrated"
        return "moderately concentrated" if hhi_10000 <= MERGER_2010_HIGH else "highly concentrated"
    if edition == 2023:
        return "highly concentrated" if hhi_10000 > MERGER_2023_HIGH else "not highly concentrated"
    raise ValueError(f"Merger Guidelines edition {edition} is not covered; use 2010 or 2023.")


def is_aggregate(country: pl.Expr) -> pl.Expr:
    """True where a country label is a total or residual row rather than a producer."""
    return country.is_null() | country.cast(pl.String).str.strip_chars().str.to_lowercase().is_in(
        AGGREGATE_LABELS
    )


def concentration(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    value_col: str,
    country_col: str = "country",
    by: Iterable[str] = (),
) -> pl.DataFrame:
    """HHI on both scales and top-1/top-3 shares for every group of ``by`` in one pass.

    Rows with an aggregate country label are dropped (and counted); non-positive and null values are not
    producers and are ignored. Ties for the top places are broken by country code so results are stable.
    """
    keys = list(by)
    lazy = frame.lazy()
    flagged = lazy.with_columns(is_aggregate(pl.col(country_col)).alias("_aggregate"))
    dropped = flagged.group_by(keys or [pl.lit(1).alias("_all")]).agg(
        pl.col("_aggregate").sum().cast(pl.Int64).alias("n_aggregate_rows_dropped")
    )
    producers = flagged.filter(~pl.col("_aggregate") & (pl.col(value_col) > 0))
    # Several rows for one country in a group (e.g. two HS codes) are one producer.
    per_country = producers.group_by([*keys, country_col]).agg(pl.col(value_col).sum())
    ordered = per_country.sort(
        [*keys, value_col, country_col], descending=[*[False] * len(keys), True, False]
    )
    stats = ordered.group_by(keys or [pl.lit(1).alias("_all")], maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("n_countries"),
        pl.col(value_col).sum().alias("total"),
        (pl.col(value_col) ** 2).sum().alias("_sumsq"),
        pl.col(country_col).first().alias("top1_country"),
        pl.col(value_col).first().alias("_top1"),
        pl.col(country_col).head(3).alias("top3_countries"),
        pl.col(value_col).head(3).sum().alias("_top3"),
    )
    result = stats.with_columns(
        (pl.col("_sumsq") / pl.col("total") ** 2).alias("hhi"),
        (pl.col("_top1") / pl.col("total")).alias("top1_share"),
        (pl.col("_top3") / pl.col("total")).alias("top3_share"),
    ).with_columns((pl.col("hhi") * 10_000).alias("hhi_10000"))
    join_keys = keys or ["_all"]
    out = result.join(dropped, on=join_keys, how="left").with_columns(
        pl.col("n_aggregate_rows_dropped").fill_null(0)
    )
    return out.select([*keys, *CONCENTRATION_COLUMNS]).sort(keys or "hhi").collect()


def shares(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    value_col: str,
    country_col: str = "country",
    by: Iterable[str] = (),
) -> pl.DataFrame:
    """Each country's share of its group's total (aggregate rows dropped), largest first."""
    keys = list(by)
    lazy = frame.lazy().filter(~is_aggregate(pl.col(country_col)) & (pl.col(value_col) > 0))
    per_country = lazy.group_by([*keys, country_col]).agg(pl.col(value_col).sum())
    total = pl.col(value_col).sum().over(keys) if keys else pl.col(value_col).sum()
    return (
        per_country.with_columns((pl.col(value_col) / total).alias("share"))
        .sort([*keys, "share", country_col], descending=[*[False] * len(keys), True, False])
        .collect()
    )


# ---------------------------------------------------------------------------------------------------------
# On shipped data
# ---------------------------------------------------------------------------------------------------------

USGS_TABLE_STAGE: dict[str, str] = {
    "World Mine Production and Reserves": "ore_concentrate",
    "World Low-Purity Production and Production Capacity": "metal_powder_alloy",
}

SUPPLY_COLUMNS: tuple[str, ...] = (
    "basis",
    "mineral_id",
    "material",
    "stage",
    "year",
    *CONCENTRATION_COLUMNS,
    "note",
)


def _matches(mineral: str | None, *columns: str) -> pl.Expr:
    if mineral is None:
        return pl.lit(True)
    needle = mineral.strip().lower().replace(" ", "_")
    return pl.any_horizontal(
        [pl.col(c).str.to_lowercase().str.replace_all(r"[^a-z0-9]+", "_") == needle for c in columns]
    ).fill_null(False)


def _filters(frame: pl.DataFrame, stage: str | None, year: int | None) -> pl.DataFrame:
    if stage is not None:
        frame = frame.filter(pl.col("stage") == stage)
    if year is not None:
        frame = frame.filter(pl.col("year") == year)
    return frame


def production_concentration(
    mineral: str | None = None,
    *,
    stage: str | None = None,
    year: int | None = None,
    source: str = "wmd",
) -> pl.DataFrame:
    """World production concentration per mineral, stage and year from World Mining Data or USGS MCS 2026.

    WMD covers 2018–2024 for about 60 commodities; the USGS subset covers 2024 and 2025 (estimated) for
    seven. USGS figures withheld for a country (the U.S. for lithium) cannot be counted, and the note says
    so; USGS's 'other countries' remainder is not a producer and is left out (a lower bound on HHI).
    """
    if source == "wmd":
        from critmin.risk.sources import load_production

        data = load_production().filter(_matches(mineral, "mineral_id", "material", "commodity"))
        data = _filters(data, stage, year).with_columns(pl.col("commodity").alias("material_label"))
        result = concentration(
            data, value_col="quantity_t", by=["mineral_id", "material_label", "stage", "year"]
        ).with_columns(
            pl.lit("world production (World Mining Data)").alias("basis"),
            pl.lit(None, dtype=pl.String).alias("note"),
        )
    elif source == "usgs":
        from critmin.refdata import load

        raw = load("usgs_mcs2026_production").filter(
            (pl.col("measure") == "production") & _matches(mineral, "mineral_id", "commodity")
        )
        data = _filters(
            raw.with_columns(
                pl.col("table").replace_strict(USGS_TABLE_STAGE, default=None).alias("stage"),
                pl.when(pl.col("row_kind") == "country").then(pl.col("iso3")).alias("country"),
                pl.col("table").alias("material_label"),
            ),
            stage,
            year,
        )
        withheld = (
            data.filter(pl.col("flag") == "withheld")
            .group_by("mineral_id", "year")
            .agg(pl.col("country").sort().str.join(", ").alias("_withheld"))
        )
        result = (
            concentration(data, value_col="value", by=["mineral_id", "material_label", "stage", "year"])
            .join(withheld, on=["mineral_id", "year"], how="left")
            .with_columns(
                pl.lit("world production (USGS MCS 2026)").alias("basis"),
                pl.when(pl.col("_withheld").is_not_null())
                .then(pl.lit("withheld by USGS, not counted: ") + pl.col("_withheld"))
                .alias("note"),
            )
        )
    else:
        raise ValueError(f"source must be 'wmd' or 'usgs', not {source!r}.")
    return (
        result.rename({"material_label": "material"})
        .select(SUPPLY_COLUMNS)
        .sort("mineral_id", "material", "year")
    )


def export_concentration(
    mineral: str | None = None,
    *,
    stage: str | None = None,
    year: int | None = None,
    basis: str = "value",
) -> pl.DataFrame:
    """Concentration of world exports (BACI exporter totals) per mineral, stage and year, 2005–2024.

    HS codes are grouped by the mineral and processing stage they carry (``baci_products``); ``basis`` is
    ``value`` (thousand USD) or ``qty`` (tonnes). Codes that mix several minerals are left out.
    """
    from critmin.refdata import load

    column = {"value": "value_kusd", "qty": "qty_t"}.get(basis)
    if column is None:
        raise ValueError(f"basis must be 'value' or 'qty', not {basis!r}.")
    products = (
        load("baci_products").filter(pl.col("mineral_id").is_not_null()).select("hs92", "mineral_id", "stage")
    )
    data = (
        load("baci_exporter_totals")
        .join(products, on="hs92", how="inner")
        .filter(_matches(mineral, "mineral_id"))
        .rename({"exporter_iso3": "country"})
    )
    data = _filters(data, stage, year)
    result = concentration(data, value_col=column, by=["mineral_id", "stage", "year"])
    return (
        result.with_columns(
            pl.lit(f"exports (BACI, {'value' if basis == 'value' else 'tonnes'})").alias("basis"),
            pl.lit("HS 1992 codes of this mineral and stage").alias("material"),
            pl.lit(None, dtype=pl.String).alias("note"),
        )
        .select(SUPPLY_COLUMNS)
        .sort("mineral_id", "stage", "year")
    )


def supply_concentration(
    mineral: str | None = None, *, stage: str | None = None, year: int | None = None
) -> pl.DataFrame:
    """Every concentration critmin can compute for a mineral: WMD and USGS production, BACI exports."""
    parts = [
        production_concentration(mineral, stage=stage, year=year, source="wmd"),
        production_concentration(mineral, stage=stage, year=year, source="usgs"),
        export_concentration(mineral, stage=stage, year=year),
    ]
    return pl.concat(parts, how="vertical_relaxed")
