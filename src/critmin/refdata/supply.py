"""Supply data at run time: production by country, governance, U.S. imports, reliance and prices.

Small typed views over the shipped datasets (see docs/data-sources.md for where each comes from). They read
only the built Parquet files, never raw data, and return Polars frames sorted in a stable order.

Absence is explicit: a mineral the data do not cover gives an empty frame with the documented columns,
while a mineral id critmin does not know at all, a malformed HS code or a year outside a dataset raises
:class:`SupplyQueryError` naming what is available.
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import Literal

import polars as pl

from critmin.errors import InputError
from critmin.refdata.registry import dataset_ids, load

__all__ = [
    "PRODUCTION_COLUMNS",
    "STAGES",
    "ProductionSource",
    "SupplyQueryError",
    "coverage",
    "import_sources",
    "known_mineral_ids",
    "net_import_reliance",
    "prices",
    "production",
    "us_imports",
    "wgi",
]

ProductionSource = Literal["auto", "wmd", "usgs"]

PRODUCTION_COLUMNS = pl.Schema(
    {
        "source": pl.String(),
        "mineral_id": pl.String(),
        "commodity": pl.String(),
        "stage": pl.String(),
        "iso3": pl.String(),
        "country": pl.String(),
        "year": pl.Int64(),
        "value": pl.Float64(),
        "unit": pl.String(),
        "data_status": pl.String(),
    }
)
WMD = "wmd"
USGS = "usgs_mcs2026"
# critmin's processing stages (DESIGN.md), used to validate curated mappings and queries.
STAGES = frozenset(
    {"ore_concentrate", "oxide_salt_compound", "metal_powder_alloy", "semi_finished", "derivative"}
)
# Ids used by the supply datasets for aggregates that are not single list entries.
AGGREGATE_IDS = frozenset({"rare_earths", "platinum_group_metals"})


class SupplyQueryError(InputError, ValueError):
    """A supply query names a mineral, HS code or year the shipped data cannot answer; says what can."""


@cache
def known_mineral_ids() -> frozenset[str]:
    """Mineral ids any supply dataset uses, plus the shipped minerals list when it is built."""
    ids: set[str] = set(AGGREGATE_IDS)
    for dataset in ("wmd_production", "usgs_mcs2026_production", "mineral_prices", "baci_products"):
        ids.update(load(dataset)["mineral_id"].drop_nulls().to_list())
    if "minerals" in dataset_ids():
        minerals = load("minerals")
        column = "mineral_id" if "mineral_id" in minerals.columns else "id"
        if column in minerals.columns:
            ids.update(minerals[column].drop_nulls().cast(pl.String).to_list())
    return frozenset(ids)


def _check_mineral(mineral_id: str) -> str:
    key = mineral_id.strip().lower().replace(" ", "_").replace("-", "_")
    known = known_mineral_ids()
    if key not in known:
        close = difflib.get_close_matches(key, sorted(known), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise SupplyQueryError(
            f"Unknown mineral id {mineral_id!r}: use critmin's lowercase ids (e.g. lithium, rare_earths, "
            f"metallurgical_coal).{hint}"
        )
    return key


def _wmd_production(mineral_id: str) -> pl.DataFrame:
    return (
        load("wmd_production")
        .filter(pl.col("mineral_id") == mineral_id)
        .select(
            pl.lit(WMD).alias("source"),
            "mineral_id",
            "commodity",
            "stage",
            "iso3",
            "country",
            "year",
            "value",
            "unit",
            pl.col("data_source").alias("data_status"),
        )
    )


def _usgs_production(mineral_id: str) -> pl.DataFrame:
    return (
        load("usgs_mcs2026_production")
        .filter(
            (pl.col("mineral_id") == mineral_id)
            & (pl.col("measure") == "production")
            & (pl.col("row_kind") == "country")
        )
        .select(
            pl.lit(USGS).alias("source"),
            "mineral_id",
            "commodity",
            "stage",
            "iso3",
            "country",
            "year",
            "value",
            "unit",
            pl.when(pl.col("flag") == "withheld")
            .then(pl.lit("withheld"))
            .when(pl.col("estimated"))
            .then(pl.lit("estimated"))
            .otherwise(pl.lit("reported"))
            .alias("data_status"),
        )
    )


def production(
    mineral_id: str,
    year: int | None = None,
    *,
    source: ProductionSource = "auto",
    stage: str | None = None,
) -> pl.DataFrame:
    """Production by country for one mineral, one row per (source, commodity, country, year).

    Precedence with ``source="auto"``: World Mining Data for every year it covers the mineral (2018–2024),
    USGS MCS 2026 for the years it does not (2025 estimates, or minerals absent from WMD). The two differ in
    basis (WMD lithium is Li2O content, USGS lithium is Li content), so compare shares within one source, not
    totals across sources. Only country rows are returned: USGS's "other countries" remainder and world total
    stay in the ``usgs_mcs2026_production`` dataset. Where WMD has two tables for one mineral (bauxite and
    aluminium), both come back; ``stage`` picks one (it filters USGS rows too). ``value`` is null where the
    source has no figure (an empty WMD cell, a USGS withheld value).
    """
    key = _check_mineral(mineral_id)
    if source not in ("auto", "wmd", "usgs"):
        raise SupplyQueryError(f"source must be 'auto', 'wmd' or 'usgs', not {source!r}.")
    if stage is not None and stage not in STAGES:
        raise SupplyQueryError(f"Unknown processing stage {stage!r}; use one of {', '.join(sorted(STAGES))}.")
    wmd = _wmd_production(key)
    usgs = _usgs_production(key)
    if stage is not None:
        wmd = wmd.filter(pl.col("stage") == stage)
        usgs = usgs.filter(pl.col("stage") == stage)
    if source == "wmd":
        frame = wmd
    elif source == "usgs":
        frame = usgs
    else:
        covered = wmd.filter(pl.col("value").is_not_null()).select("year").unique()
        frame = pl.concat([wmd, usgs.join(covered, on="year", how="anti")])
    if year is not None:
        frame = frame.filter(pl.col("year") == year)
    return frame.cast(PRODUCTION_COLUMNS).sort("source", "commodity", "year", "iso3")


def wgi(year: int) -> pl.DataFrame:
    """WGI political stability for every economy in one year; missing estimates are null, never 0."""
    frame = load("wgi_political_stability")
    years = sorted(frame["year"].unique().to_list())
    if year not in years:
        raise SupplyQueryError(
            f"WGI has no {year}: published years are {', '.join(map(str, years))} "
            "(1997, 1999 and 2001 were never surveyed)."
        )
    return frame.filter(pl.col("year") == year).select(
        "iso3", "country", "year", "estimate", "stderr", "rank", "normalized"
    )


def _normalise_hs92(code: str) -> str:
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        raise SupplyQueryError(f"HS92 code {code!r} must have 6 digits (e.g. '2504.10' or '250410').")
    shipped = set(load("baci_products")["hs92"].to_list())
    if digits not in shipped:
        near = difflib.get_close_matches(digits, sorted(shipped), n=3)
        raise SupplyQueryError(
            f"HS92 {digits} is not among the {len(shipped)} mineral codes shipped from BACI "
            f"(see `critmin data show baci_products`). Closest: {', '.join(near) or 'none'}."
        )
    return digits


def us_imports(hs92: str, year: int | None = None) -> pl.DataFrame:
    """U.S. imports of one HS 1992 subheading by partner (BACI; value in thousand USD, quantity in t)."""
    code = _normalise_hs92(hs92)
    frame = load("baci_us_imports").filter(pl.col("hs92") == code)
    if year is not None:
        years = load("baci_us_imports")["year"]
        first, last = int(years.min()), int(years.max())  # type: ignore[arg-type]
        if not first <= year <= last:
            raise SupplyQueryError(f"BACI U.S. imports cover {first}–{last}; {year} is outside.")
        frame = frame.filter(pl.col("year") == year)
    return frame.sort(
        "year", pl.col("value_kusd"), "exporter_code", descending=[False, True, False], nulls_last=True
    )


def net_import_reliance(mineral_id: str) -> pl.DataFrame:
    """U.S. net import reliance by year as USGS publishes it (bound and net-exporter flag kept)."""
    key = _check_mineral(mineral_id)
    return load("usgs_net_import_reliance").filter(pl.col("mineral_id") == key)


def prices(mineral_id: str) -> pl.DataFrame:
    """Annual price series for one mineral (one series per basis), with a USD/kg column for comparison."""
    key = _check_mineral(mineral_id)
    return load("mineral_prices").filter(pl.col("mineral_id") == key)


def import_sources(mineral_id: str) -> pl.DataFrame:
    """USGS's shares of U.S. imports by country, per product category, 2021–24."""
    key = _check_mineral(mineral_id)
    return load("usgs_mcs2026_import_sources").filter(pl.col("mineral_id") == key)


def coverage() -> pl.DataFrame:
    """Which supply data exist for each mineral: the table of gaps a risk report must show as missing."""
    ids = pl.DataFrame({"mineral_id": sorted(known_mineral_ids())})

    def has(dataset: str, name: str) -> pl.DataFrame:
        present = load(dataset).select(pl.col("mineral_id").drop_nulls().unique())
        return present.with_columns(pl.lit(True).alias(name))

    wmd = (
        load("wmd_production")
        .filter(pl.col("mineral_id").is_not_null())
        .group_by("mineral_id")
        .agg(pl.col("commodity").unique().sort().alias("wmd_commodities"))
    )
    baci = (
        load("baci_products")
        .filter(pl.col("mineral_id").is_not_null())
        .group_by("mineral_id")
        .agg(pl.col("hs92").sort().alias("baci_hs92"))
    )
    frame = ids.join(wmd, on="mineral_id", how="left")
    for dataset, name in (
        ("usgs_mcs2026_production", "usgs_production"),
        ("usgs_net_import_reliance", "net_import_reliance"),
        ("mineral_prices", "prices"),
        ("usgs_mcs2026_import_sources", "import_sources"),
    ):
        frame = frame.join(has(dataset, name), on="mineral_id", how="left")
    frame = frame.join(baci, on="mineral_id", how="left")
    flags = ["usgs_production", "net_import_reliance", "prices", "import_sources"]
    return frame.with_columns(pl.col(flags).fill_null(False)).sort("mineral_id")
