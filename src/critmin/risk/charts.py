"""Plotly figures for the report and the dashboard: who supplies a mineral at each stage, and how
concentrated supply has been over time. Builders return ``plotly.graph_objects.Figure``; rendering (HTML,
static image) is the caller's business."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from critmin.risk.concentration import (
    MERGER_2010_HIGH,
    MERGER_2010_MODERATE,
    MERGER_2023_HIGH,
    export_concentration,
    production_concentration,
    shares,
)

STAGE_LABELS: dict[str, str] = {
    "ore_concentrate": "Mining (ore, concentrate)",
    "oxide_salt_compound": "Refining (oxide, salt, compound)",
    "metal_powder_alloy": "Refining (metal, powder, alloy)",
    "semi_finished": "Semi-finished",
    "derivative": "Derivative products",
}
REST_LABEL = "Rest of world"


def stage_shares(mineral: str, *, year: int | None = None, top: int = 6) -> pl.DataFrame:
    """Country shares of world production per stage (World Mining Data), the top countries and the rest.

    The latest year with data is used for each stage unless ``year`` is given.
    """
    from critmin.risk.sources import load_production

    data = (
        load_production()
        .filter((pl.col("mineral_id") == mineral) | (pl.col("material") == mineral))
        .filter(pl.col("quantity_t") > 0)
    )
    if year is not None:
        data = data.filter(pl.col("year") == year)
    else:
        latest = data.group_by("stage", "commodity").agg(pl.col("year").max())
        data = data.join(latest, on=["stage", "commodity", "year"], how="inner")
    data = data.with_columns(pl.col("stage").fill_null("unstated stage"))
    ranked = shares(data, value_col="quantity_t", by=["stage", "commodity", "year"]).with_columns(
        pl.col("share").rank("ordinal", descending=True).over("stage", "commodity").alias("_rank")
    )
    top_rows = ranked.filter(pl.col("_rank") <= top).select("stage", "commodity", "year", "country", "share")
    rest = (
        ranked.filter(pl.col("_rank") > top)
        .group_by("stage", "commodity", "year")
        .agg(pl.col("share").sum())
        .with_columns(pl.lit(REST_LABEL).alias("country"))
        .select("stage", "commodity", "year", "country", "share")
    )
    return (
        pl.concat([top_rows, rest])
        .with_columns((pl.col("country") == REST_LABEL).alias("_rest"))
        .sort("stage", "commodity", "_rest", "share", descending=[False, False, False, True])
        .drop("_rest")
    )


def supply_shares_figure(mineral: str, *, year: int | None = None, top: int = 6) -> go.Figure:
    """Stacked horizontal bars: one bar per stage (and production table), segments are country shares."""
    data = stage_shares(mineral, year=year, top=top)
    figure = go.Figure()
    if data.is_empty():
        figure.update_layout(title=f"{mineral}: no world production data shipped")
        return figure
    data = data.with_columns(
        (
            pl.col("stage").replace_strict(STAGE_LABELS, default=pl.col("stage"))
            + pl.lit(" — ")
            + pl.col("commodity")
            + pl.lit(" (")
            + pl.col("year").cast(pl.String)
            + pl.lit(")")
        ).alias("bar")
    )
    countries = data.filter(pl.col("country") != REST_LABEL).get_column("country").unique(maintain_order=True)
    for country in [*countries.to_list(), REST_LABEL]:
        part = data.filter(pl.col("country") == country)
        figure.add_trace(
            go.Bar(
                name=country,
                y=part["bar"].to_list(),
                x=(part["share"] * 100).to_list(),
                orientation="h",
                hovertemplate="%{y}<br>" + country + ": %{x:.1f}%<extra></extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        title=f"World supply of {mineral} by country and stage",
        xaxis={"title": "share of world production (%)", "range": [0, 100]},
        yaxis={"title": None},
        legend={"title": "country"},
        template="plotly_white",
    )
    return figure


def concentration_history(mineral: str) -> pl.DataFrame:
    """HHI (0–10,000) per year for every series critmin has: production by stage and exports by stage."""
    production = production_concentration(mineral, source="wmd")
    exports = export_concentration(mineral)
    production = production.with_columns(
        (pl.lit("production, ") + pl.col("material") + pl.lit(" (WMD)")).alias("series")
    )
    exports = exports.with_columns(
        (pl.lit("exports, ") + pl.col("stage").fill_null("mixed") + pl.lit(" (BACI value)")).alias("series")
    )
    columns = ["series", "year", "hhi_10000", "top1_country", "top1_share"]
    return pl.concat([production.select(columns), exports.select(columns)]).sort("series", "year")


def concentration_over_time_figure(mineral: str) -> go.Figure:
    """HHI lines over the years with the U.S. Merger Guidelines thresholds as reference lines."""
    data = concentration_history(mineral)
    figure = go.Figure()
    for series in data.get_column("series").unique(maintain_order=True).to_list():
        part = data.filter(pl.col("series") == series)
        figure.add_trace(
            go.Scatter(
                name=series,
                x=part["year"].to_list(),
                y=part["hhi_10000"].to_list(),
                mode="lines+markers",
                customdata=list(
                    zip(part["top1_country"].to_list(), (part["top1_share"] * 100).to_list(), strict=True)
                ),
                hovertemplate=(
                    "%{x}: HHI %{y:,.0f}<br>top: %{customdata[0]} %{customdata[1]:.0f}%<extra></extra>"
                ),
            )
        )
    for level, label in (
        (MERGER_2010_MODERATE, "1,500: moderately concentrated (2010 guidelines)"),
        (MERGER_2023_HIGH, "1,800: highly concentrated (2023 guidelines)"),
        (MERGER_2010_HIGH, "2,500: highly concentrated (2010 guidelines)"),
    ):
        figure.add_hline(y=level, line_dash="dot", line_color="grey", annotation_text=label)
    figure.update_layout(
        title=f"Concentration of {mineral} supply over time",
        xaxis={"title": "year", "dtick": 1},
        yaxis={"title": "HHI (0–10,000)", "range": [0, 10_000]},
        template="plotly_white",
    )
    return figure
