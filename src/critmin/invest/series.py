"""The shipped price series a project's volatility can be estimated from, keyed by series id.

A series is one product form of one mineral as USGS prices it (``rare_earths_ndpr_oxide``,
``rare_earths_mischmetal``, ``cobalt_lme_cash``): the ``series_id`` column of the ``mineral_prices``
dataset. A mineral id alone is not a key: rare earths carry mischmetal at about 6 USD/kg and NdPr oxide at
55–124 USD/kg, and a volatility read across both measures the jump between the two products (281 %), not
price risk. Project files therefore name a series, and this module is what their validation consults.
"""

from __future__ import annotations

from functools import cache

import polars as pl

ORDER_OF_MAGNITUDE = 10.0
"""Two price levels this many times apart are different products (or a unit error), not one price."""


def series_summary(prices: pl.DataFrame) -> pl.DataFrame:
    """Per series of a price frame (series_id, year, price_usd_per_kg; mineral_id, basis, stage if present).

    Columns: series_id, mineral_id, basis, stage, first_year, last_year, low, high (USD/kg over the years),
    level (geometric mean, USD/kg: the typical level, which a single spike does not move much), latest
    (USD/kg in last_year).
    """
    optional = [
        pl.col(c).first() if c in prices.columns else pl.lit(None, dtype=pl.String).alias(c)
        for c in ("mineral_id", "basis", "stage")
    ]
    return (
        prices.sort("series_id", "year")
        .group_by("series_id", maintain_order=True)
        .agg(
            *optional,
            pl.col("year").min().alias("first_year"),
            pl.col("year").max().alias("last_year"),
            pl.col("price_usd_per_kg").min().alias("low"),
            pl.col("price_usd_per_kg").max().alias("high"),
            pl.col("price_usd_per_kg").log().mean().exp().alias("level"),
            pl.col("price_usd_per_kg").last().alias("latest"),
        )
        .sort("mineral_id", "series_id", nulls_last=True)
    )


@cache
def price_series_catalogue() -> pl.DataFrame:
    """``series_summary`` of the shipped ``mineral_prices`` dataset: one row per series a project can name."""
    from critmin.refdata import load

    return series_summary(load("mineral_prices"))


def series_ids() -> list[str]:
    """Every shipped series id, sorted."""
    return sorted(price_series_catalogue()["series_id"].to_list())


def describe_series(summary: pl.DataFrame) -> str:
    """``id (basis, low–high USD/kg, first–last)`` for each row of a series summary, for messages."""
    return "; ".join(
        f"{r['series_id']} ({r['basis']}, {r['low']:,.4g}–{r['high']:,.4g} USD/kg, "
        f"{r['first_year']}–{r['last_year']})"
        for r in summary.iter_rows(named=True)
    )


def level_ratio(summary: pl.DataFrame) -> float:
    """Highest over lowest typical level (``level``) among the series of a summary."""
    return float(summary["level"].max()) / float(summary["level"].min())  # type: ignore[arg-type]


def series_of_mineral(mineral_id: str) -> list[str]:
    """The series ids shipped for a mineral id (empty when it has none)."""
    catalogue = price_series_catalogue()
    return sorted(catalogue.filter(pl.col("mineral_id") == mineral_id)["series_id"].to_list())


def check_series(series_id: str) -> str:
    """The id itself when it is shipped; otherwise a ValueError that lists the shipped series."""
    if series_id in set(price_series_catalogue()["series_id"].to_list()):
        return series_id
    raise ValueError(f"unknown price series {series_id!r}; the shipped series are: {', '.join(series_ids())}")


def one_series_of_mineral(mineral_id: str) -> str:
    """The only series of a mineral, or a ValueError saying why the mineral id is not enough."""
    ids = series_of_mineral(mineral_id)
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise ValueError(
            f"no shipped price series for mineral {mineral_id!r}; name one of the shipped series in "
            f"`price.series` ({', '.join(series_ids())}) or give `price.volatility`"
        )
    summary = price_series_catalogue().filter(pl.col("series_id").is_in(ids))
    ratio = level_ratio(summary)
    why = (
        f"their levels differ by an order of magnitude ({ratio:.0f}x), so log returns across them would "
        "measure the jump between products, not price risk"
        if ratio >= ORDER_OF_MAGNITUDE
        else "a volatility is estimated from the log returns of one series"
    )
    raise ValueError(
        f"mineral {mineral_id!r} has {len(ids)} shipped price series and {why}; name one in "
        f"`price.series`: {describe_series(summary)}"
    )
