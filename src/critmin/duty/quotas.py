"""Tariff-rate quotas and hard quotas, filled in entry-date order across the whole ledger.

For each allocation bucket (per-origin share of the quota) and period, lines are ordered by evaluation
date, then entry date, then ledger order; with v the line's volume and C its running total in that order,

    room before the line = quota volume - opening fill - (C - v)
    in-quota volume      = clip(room, 0, v)

and the line's in-quota share pays the in-quota rate, the rest the over-quota rate (or, under a hard cap,
is reported as unavailable with its value; it is never dropped). This is one cumulative sum over a sorted
frame. Lines from origins with no allocation have no quota access. The fill after a batch is returned so
the next batch (the next partition of a ledger in date order) can start from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from critmin.duty.charge import PerCase
from critmin.duty.content import CASES
from critmin.duty.lines import DATE, ROW, country_column, flag_column, to_literal_list
from critmin.policy.models import Measure, Quota

QUOTA_FILL_SCHEMA: dict[str, pl.DataType] = {
    "measure_id": pl.String(),
    "allocation": pl.String(),
    "period": pl.String(),
    "volume": pl.Float64(),
    "used": pl.Float64(),
    "unit": pl.String(),
}


def empty_fill() -> pl.DataFrame:
    return pl.DataFrame(schema=QUOTA_FILL_SCHEMA)


def period_expr(period: str) -> pl.Expr:
    d = pl.col(DATE)
    year = d.dt.year().cast(pl.String)
    if period == "year":
        return year
    if period == "half_year":
        return year + pl.lit("-H") + ((d.dt.month() - 1) // 6 + 1).cast(pl.String)
    if period == "quarter":
        return year + pl.lit("-Q") + d.dt.quarter().cast(pl.String)
    if period == "month":
        return d.dt.strftime("%Y-%m")
    return pl.lit("window")


def bucket_volumes(quota: Quota) -> dict[str, float]:
    if not quota.allocations:
        return {"all": quota.volume}
    return {
        a.name: (a.volume if a.volume is not None else quota.volume * (a.share or 0.0))
        for a in quota.allocations
    }


def bucket_expr(measure: Measure) -> pl.Expr:
    """The allocation each line draws on (null: no quota access for its origin)."""
    quota = measure.quota
    assert quota is not None
    if not quota.allocations:
        return pl.lit("all")
    name, _ = country_column(measure.origin.country_field, measure.origin.fallback_to_origin)
    country = pl.col(name)
    chain: Any = None
    rest: str | None = None
    for allocation in quota.allocations:
        if allocation.rest:
            rest = allocation.name
            continue
        cond = pl.lit(False)
        if allocation.countries:
            cond = country.is_in(to_literal_list(allocation.countries)).fill_null(False)
        for group in allocation.groups:
            cond = cond | pl.col(flag_column(name, group))
        chain = (
            pl.when(cond).then(pl.lit(allocation.name))
            if chain is None
            else chain.when(cond).then(pl.lit(allocation.name))
        )
    fallback = pl.lit(rest) if rest is not None else pl.lit(None, dtype=pl.String)
    return chain.otherwise(fallback) if chain is not None else fallback


@dataclass(frozen=True)
class QuotaFill:
    share_in: PerCase  # share of each line's volume inside the quota
    fill: pl.DataFrame  # closing fill per allocation and period (central case)


def fill_quota(
    frame: pl.DataFrame,
    measure: Measure,
    applies: pl.Expr,
    volume: PerCase,
    opening: pl.DataFrame,
    tag: str,
) -> tuple[pl.DataFrame, QuotaFill]:
    """Add in-quota share columns ``{tag}_in_{case}``; return them and the closing fill."""
    quota = measure.quota
    assert quota is not None
    volumes = bucket_volumes(quota)
    bucket = f"{tag}_bucket"
    period = f"{tag}_period"
    frame = frame.with_columns(
        pl.when(applies).then(bucket_expr(measure)).alias(bucket),
        pl.when(applies).then(period_expr(quota.period)).alias(period),
    )
    opened = opening.filter(pl.col("measure_id") == measure.id).select(
        pl.col("allocation").alias(bucket),
        pl.col("period").alias(period),
        pl.col("used").alias(f"{tag}_open"),
    )
    frame = frame.join(opened, on=[bucket, period], how="left", nulls_equal=False).with_columns(
        pl.col(f"{tag}_open").fill_null(0.0)
    )
    cap = pl.col(bucket).replace_strict(volumes, default=None, return_dtype=pl.Float64)
    order = [DATE, "entry_date", ROW]
    distinct = {id(volume[c]) for c in CASES}
    cases = CASES if len(distinct) > 1 else ("central",)
    new_cols: list[pl.Expr] = []
    for case in cases:
        v = pl.when(applies).then(volume[case].fill_null(0.0)).otherwise(0.0)
        running = v.cum_sum().over([bucket, period], order_by=order)
        room = cap - pl.col(f"{tag}_open") - (running - v)
        inside = pl.min_horizontal(pl.max_horizontal(room, pl.lit(0.0)), v)
        share = pl.when(pl.col(bucket).is_null()).then(0.0).when(v > 0).then(inside / v).otherwise(1.0)
        new_cols.append(pl.when(applies & volume[case].is_not_null()).then(share).alias(f"{tag}_in_{case}"))
        if case == "central":
            new_cols.append(v.alias(f"{tag}_v"))
    frame = frame.with_columns(new_cols)
    share_in = {c: pl.col(f"{tag}_in_{c if c in cases else 'central'}") for c in CASES}
    fill = (
        frame.filter(pl.col(bucket).is_not_null())
        .group_by(bucket, period)
        .agg(pl.col(f"{tag}_v").sum().alias("added"), pl.col(f"{tag}_open").first().alias("open"))
        .select(
            pl.lit(measure.id).alias("measure_id"),
            pl.col(bucket).alias("allocation"),
            pl.col(period).alias("period"),
            pl.col(bucket).replace_strict(volumes, default=None, return_dtype=pl.Float64).alias("volume"),
            (pl.col("open") + pl.col("added")).alias("used"),
            pl.lit(quota.unit).alias("unit"),
        )
    )
    carried = opening.filter(pl.col("measure_id") == measure.id).join(
        fill.select("allocation", "period"), on=["allocation", "period"], how="anti"
    )
    typed = fill.select([pl.col(name).cast(dtype) for name, dtype in QUOTA_FILL_SCHEMA.items()])
    fill = pl.concat([carried.select(list(QUOTA_FILL_SCHEMA)), typed]).sort(["allocation", "period"])
    frame = frame.drop(f"{tag}_open", f"{tag}_v", bucket, period)
    return frame, QuotaFill(share_in, fill)


def quota_volume(measure: Measure, content_mass: PerCase | None) -> PerCase:
    quota = measure.quota
    assert quota is not None
    if quota.unit == "kg":
        return dict.fromkeys(CASES, pl.col("quantity_kg"))
    if quota.unit == "usd":
        return dict.fromkeys(CASES, pl.col("customs_value_usd"))
    assert content_mass is not None
    return content_mass
