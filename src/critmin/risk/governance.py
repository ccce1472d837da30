"""Governance-weighted concentration as the EU criticality method defines it (HHI_WGI,t).

``HHI_WGI,t = Σ_c s_c² · WGI_c · t_c`` with ``s_c`` the share of country c as a fraction, ``WGI_c`` the
Worldwide Governance Indicators rescaled to 0–10 (10 = worst governed) and ``t_c`` the trade-related
variable: 0.8 with a trade agreement in force, 1 by default, above 1 where the country restricts exports.
Source: European Commission (2017), *Methodology for establishing the EU list of critical raw materials*,
https://op.europa.eu/en/publication-detail/-/publication/2d43b7e2-66ac-11e7-b2f2-01aa75ed71a1.

The EU averages all six WGI dimensions. critmin ships the Political Stability (PV) dimension only, so when
this module computes from shipped data the governance input is PV rescaled the EU way; every result says
which basis it used (``wgi_basis``). Callers with the six-dimension average can pass it instead.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date

import polars as pl

from critmin.risk.concentration import is_aggregate

WGI_MIN, WGI_MAX = -2.5, 2.5
EU_WGI_SCALE_MAX = 10.0
AGREEMENT_T = 0.8
DEFAULT_T = 1.0


def eu_scaled_wgi(estimate: pl.Expr) -> pl.Expr:
    """WGI estimate (−2.5 weak … +2.5 strong) to the EU 0–10 scale, where 10 is the worst governed.

    ``(2.5 − WGI) × 2``, clipped to [0, 10]. Check: an average WGI of −0.96 gives 6.92, the value the 2017
    EU report quotes for Nigeria.
    """
    return ((WGI_MAX - estimate) * 2.0).clip(0.0, EU_WGI_SCALE_MAX)


def trade_variable(
    country: pl.Expr,
    *,
    agreement_partners: Collection[str] = (),
    export_restriction_t: Mapping[str, float] | None = None,
) -> pl.Expr:
    """The EU trade-related variable t per country.

    A country with export restrictions takes the t given for it (the EU's published values run 1.1–1.5);
    otherwise an agreement partner takes 0.8 and every other country 1.0.
    """
    restricted = dict(export_restriction_t or {})
    base = (
        pl.when(country.is_in(list(agreement_partners)))
        .then(pl.lit(AGREEMENT_T))
        .otherwise(pl.lit(DEFAULT_T))
    )
    if not restricted:
        return base
    return country.replace_strict(restricted, default=None, return_dtype=pl.Float64).fill_null(base)


def hhi_wgi_t(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    share_col: str = "share",
    wgi_col: str = "wgi_scaled",
    t_col: str = "t",
    country_col: str = "country",
    by: Iterable[str] = (),
) -> pl.DataFrame:
    """Σ s² · WGI · t per group. Shares must be fractions; a missing WGI makes that group's value null.

    The EU does not renormalise shares that do not sum to one (e.g. a table listing only shares >= 1%), and
    neither does this function; ``share_sum`` is returned so the caller can see the coverage.
    """
    keys = list(by)
    lazy = frame.lazy().filter(~is_aggregate(pl.col(country_col)))
    term = pl.col(share_col) ** 2 * pl.col(wgi_col) * pl.col(t_col)
    grouped = lazy.group_by(keys or [pl.lit(1).alias("_all")]).agg(
        term.sum().alias("hhi_wgi_t"),
        (pl.col(share_col) ** 2).sum().alias("hhi"),
        pl.col(share_col).sum().alias("share_sum"),
        pl.col(wgi_col).null_count().alias("_missing_wgi"),
        pl.len().alias("n_countries"),
    )
    out = grouped.with_columns(
        pl.when(pl.col("_missing_wgi") > 0).then(None).otherwise(pl.col("hhi_wgi_t")).alias("hhi_wgi_t")
    ).drop("_missing_wgi", *([] if keys else ["_all"]))
    return out.sort(keys or "hhi").collect()


def governance_table(year: int | None = None) -> pl.DataFrame:
    """Shipped WGI Political Stability with both rescalings, one row per country and year.

    Columns: country, year, estimate, g (GeoPolRisk 0–1, 1 worst) and wgi_scaled (EU 0–10, 10 worst).
    Missing estimates stay null: the methods disagree on how to fill them, so each fills its own way.
    """
    from critmin.risk.sources import load_governance

    frame = load_governance()
    if year is not None:
        frame = frame.filter(pl.col("year") == year)
    return frame.with_columns(eu_scaled_wgi(pl.col("estimate")).alias("wgi_scaled"))


def governance_weighted_concentration(
    production: pl.DataFrame,
    *,
    value_col: str = "quantity_t",
    country_col: str = "country",
    by: Iterable[str] = ("material", "year"),
    agreement_partners: Collection[str] = (),
    export_restriction_t: Mapping[str, float] | None = None,
    governance_year: int | None = None,
) -> pl.DataFrame:
    """HHI_WGI,t of a production (or sourcing) table using shipped WGI-PV, EU-scaled.

    ``governance_year`` fixes the WGI year; by default each row uses the WGI of its own ``year`` column
    (falling back to the latest earlier year the WGI covers). Countries with no WGI estimate make the result
    null for their group (``missing_wgi`` lists them) rather than silently counting them as well governed.
    """
    from critmin.risk.sources import governance_asof

    keys = list(by)
    lazy = production.lazy().filter(~is_aggregate(pl.col(country_col)) & (pl.col(value_col) > 0))
    per_country = lazy.group_by([*keys, country_col]).agg(pl.col(value_col).sum())
    share = pl.col(value_col) / pl.col(value_col).sum().over(keys)
    shared = per_country.with_columns(share.alias("share")).collect()
    year_col = "year" if governance_year is None and "year" in shared.columns else None
    with_g = governance_asof(
        shared, country_col=country_col, year_col=year_col, year=governance_year, out="estimate"
    )
    enriched = with_g.with_columns(
        eu_scaled_wgi(pl.col("estimate")).alias("wgi_scaled"),
        trade_variable(
            pl.col(country_col),
            agreement_partners=agreement_partners,
            export_restriction_t=export_restriction_t,
        ).alias("t"),
    )
    result = hhi_wgi_t(enriched, country_col=country_col, by=keys)
    missing = (
        enriched.filter(pl.col("estimate").is_null())
        .group_by(keys)
        .agg(pl.col(country_col).sort().alias("missing_wgi"))
    )
    out = result.join(missing, on=keys, how="left") if keys else result
    return out.with_columns(pl.lit("wgi_pv").alias("wgi_basis")).sort(keys)


def partners_as_of(group_ids: Iterable[str], as_of: date) -> frozenset[str]:
    """Union of dated country groups (e.g. ``us_fta`` and ``us_cm_frameworks``) on a date."""
    from critmin.refdata.groups import members as group_members

    members: set[str] = set()
    for group_id in group_ids:
        members |= group_members(group_id, as_of)
    return frozenset(members)
