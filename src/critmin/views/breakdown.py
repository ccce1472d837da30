"""Where the duty falls: by mineral, origin, supplier, HTS code and measure; flows; the world map of sources.

Every amount is a sum of the duty engine's per-line totals (``DutyResult.lines``) or, by measure, of its
components, so each table adds up to the run's total. ``annual_duty`` scales a ledger total to a year with
the ledger period's factor (see :class:`~critmin.views.analysis.LedgerPeriod`).
"""

from __future__ import annotations

from typing import Literal

import plotly.graph_objects as go
import polars as pl

from critmin.errors import InputError
from critmin.views import labels
from critmin.views.analysis import Analysis, ScenarioRun
from critmin.views.charts import BASELINE_COLOUR, PALETTE, empty_figure, style

By = Literal["mineral", "origin", "supplier", "hts", "measure"]

_LINE_DIMENSIONS: dict[str, tuple[str, str | None, str]] = {
    # by -> (result column, label kind, fill for nulls)
    "mineral": ("mineral_id", "mineral", labels.UNMAPPED),
    "origin": ("country_origin", "country", labels.UNKNOWN),
    "supplier": ("supplier", None, labels.UNKNOWN),
    "hts": ("hts", "hts", labels.UNKNOWN),
}

EXPOSURE_COLUMNS = (
    "key",
    "label",
    "lines",
    "customs_value_usd",
    "duty",
    "duty_low",
    "duty_high",
    "annual_duty",
    "share_of_duty",
    "effective_rate",
)


def _check_by(by: str) -> None:
    if by not in (*_LINE_DIMENSIONS, "measure"):
        raise InputError(f"exposure by {by!r} is not offered; use mineral, origin, supplier, hts or measure.")


def exposure(a: Analysis, by: By, scenario: str | None = None) -> pl.DataFrame:
    """Duty of one run (default: in force on the report date) grouped by a dimension, largest first.

    Columns: key, label, lines, customs_value_usd, duty (on the whole ledger), duty_low/duty_high (content
    factor range), annual_duty, share_of_duty (of the run's total) and effective_rate (duty / value).
    """
    _check_by(by)
    run = a.run(scenario)
    if by == "measure":
        return _by_measure(a, run)
    column, kind, fill = _LINE_DIMENSIONS[by]
    grouped = (
        run.result.lines.with_columns(pl.col(column).cast(pl.String).fill_null(fill).alias("key"))
        .group_by("key")
        .agg(
            pl.len().cast(pl.Int64).alias("lines"),
            pl.col("customs_value_usd").sum(),
            pl.col("duty").sum(),
            pl.col("duty_low").sum(),
            pl.col("duty_high").sum(),
        )
    )
    grouped = (
        labels.with_label(grouped, "key", kind)
        if kind
        else grouped.with_columns(pl.col("key").alias("label"))
    )
    return _finish(grouped, a.period.annual_factor, run.duty)


def _by_measure(a: Analysis, run: ScenarioRun) -> pl.DataFrame:
    comps = run.result.components.filter((pl.col("payer") == "customs") & ~pl.col("refund_eligible"))
    titles = pl.DataFrame(
        {
            "key": [m.id for m in run.result.measure_set.measures],
            "label": [m.title for m in run.result.measure_set.measures],
        },
        schema={"key": pl.String, "label": pl.String},
    )
    comps = comps.with_columns(pl.col("measure_id").cast(pl.String).alias("key"))
    grouped = comps.group_by("key").agg(
        pl.col("line_id").n_unique().cast(pl.Int64).alias("lines"),
        pl.col("amount").sum().alias("duty"),
        pl.col("amount_low").sum().alias("duty_low"),
        pl.col("amount_high").sum().alias("duty_high"),
    )
    values = (  # the value of the lines a measure charged, each line once
        comps.select("key", "line_id")
        .unique()
        .join(run.result.lines.select("line_id", "customs_value_usd"), on="line_id", how="left")
        .group_by("key")
        .agg(pl.col("customs_value_usd").sum())
    )
    grouped = grouped.join(values, on="key", how="left").join(titles, on="key", how="left")
    return _finish(grouped, a.period.annual_factor, run.duty)


def _finish(grouped: pl.DataFrame, factor: float, total: float) -> pl.DataFrame:
    return (
        grouped.with_columns(
            (pl.col("duty") * factor).alias("annual_duty"),
            (pl.col("duty") / total if total else pl.lit(None, dtype=pl.Float64)).alias("share_of_duty"),
            pl.when(pl.col("customs_value_usd") > 0)
            .then(pl.col("duty") / pl.col("customs_value_usd"))
            .otherwise(None)
            .alias("effective_rate"),
        )
        .sort(["duty", "customs_value_usd", "key"], descending=[True, True, False])
        .select(EXPOSURE_COLUMNS)
    )


def exposure_matrix(a: Analysis, by: By) -> pl.DataFrame:
    """Annual duty of each dimension value under every run: key, label, then one column per scenario id."""
    _check_by(by)
    base = exposure(a, by).select("key", "label", "customs_value_usd")
    for run in a.runs:
        annual = exposure(a, by, run.id).select("key", pl.col("annual_duty").alias(run.id))
        base = base.join(annual, on="key", how="full", coalesce=True)
    return base.with_columns(pl.col(r.id).fill_null(0.0) for r in a.runs).sort(
        a.runs[-1].id, descending=True, nulls_last=True
    )


def exposure_figure(a: Analysis, by: By, scenario: str | None = None, top: int = 12) -> go.Figure:
    """Annual duty of the largest ``top`` values of a dimension, today and under each scenario (or one)."""
    matrix = exposure_matrix(a, by)
    runs = a.runs if scenario is None else (a.baseline, a.run(scenario))
    if matrix.is_empty():
        return empty_figure("No ledger lines to show.")
    order = (
        matrix.with_columns(pl.max_horizontal([pl.col(r.id) for r in runs]).alias("_max"))
        .sort("_max", descending=True)
        .head(top)
    )
    names = [
        f"{row[0]}" if by in ("supplier", "measure", "hts") else str(row[1])
        for row in order.select("key", "label").iter_rows()
    ]
    if by == "hts":
        names = [labels.hts_display(k) for k in order.get_column("key").to_list()]
    fig = go.Figure()
    # Horizontal groups draw their first trace at the bottom: add the runs last-first so that "in force
    # today" sits on top of each group, and reverse the legend to match.
    for i, run in reversed(list(enumerate(runs))):
        fig.add_trace(
            go.Bar(
                y=names[::-1],
                x=order.get_column(run.id).to_list()[::-1],
                orientation="h",
                name="in force today" if run.baseline else run.id,
                marker_color=BASELINE_COLOUR if run.baseline else PALETTE[i % len(PALETTE)],
                hovertemplate="%{y}<br>%{x:$,.0f} a year<extra>" + run.id + "</extra>",
            )
        )
    title = {
        "mineral": "mineral",
        "origin": "country of origin",
        "supplier": "supplier",
        "hts": "HTS code",
        "measure": "measure",
    }[by]
    return style(
        fig,
        title=f"Annual duty by {title}",
        height=max(320, 60 + 26 * len(names) * (1 + len(runs) // 3)),
        barmode="group",
        xaxis={"title": "USD per year", "tickformat": "$,.0f"},
        legend={"orientation": "h", "y": -0.15, "traceorder": "reversed"},
    )


# ---------------------------------------------------------------------------------------------------------
# flows and sources


def flows(a: Analysis, scenario: str | None = None) -> pl.DataFrame:
    """Customs value and duty from each origin through each mineral to each product (HTS heading).

    Columns: origin, origin_label, mineral_id, mineral_label, heading, product, lines, customs_value_usd,
    duty. One row per (origin, mineral, heading).
    """
    lines = a.run(scenario).result.lines.with_columns(
        pl.col("country_origin").fill_null(labels.UNKNOWN).alias("origin"),
        pl.col("mineral_id").fill_null(labels.UNMAPPED),
        pl.col("hts").str.slice(0, 4).fill_null(labels.UNKNOWN).alias("heading"),
    )
    grouped = lines.group_by("origin", "mineral_id", "heading").agg(
        pl.len().cast(pl.Int64).alias("lines"), pl.col("customs_value_usd").sum(), pl.col("duty").sum()
    )
    grouped = labels.with_label(grouped, "origin", "country", "origin_label")
    grouped = labels.with_label(grouped, "mineral_id", "mineral", "mineral_label")
    grouped = labels.with_label(grouped, "heading", "heading", "product")
    return grouped.select(
        "origin",
        "origin_label",
        "mineral_id",
        "mineral_label",
        "heading",
        "product",
        "lines",
        "customs_value_usd",
        "duty",
    ).sort(["customs_value_usd", "origin", "mineral_id", "heading"], descending=[True, False, False, False])


def sankey_figure(a: Analysis, scenario: str | None = None, weight: str = "customs_value_usd") -> go.Figure:
    """Sankey of origin -> mineral -> product, link width = customs value (or ``weight='duty'``)."""
    frame = flows(a, scenario)
    if frame.is_empty() or float(frame.get_column(weight).sum()) <= 0:
        return empty_figure("Nothing flows: no value (or no duty) on the ledger.")
    origins = frame.group_by("origin", "origin_label").agg(pl.col(weight).sum()).sort(weight, descending=True)
    minerals = (
        frame.group_by("mineral_id", "mineral_label").agg(pl.col(weight).sum()).sort(weight, descending=True)
    )
    products = frame.group_by("heading", "product").agg(pl.col(weight).sum()).sort(weight, descending=True)
    node_labels = [
        *origins.get_column("origin_label").to_list(),
        *minerals.get_column("mineral_label").to_list(),
        *products.get_column("product").to_list(),
    ]
    index_origin = {k: i for i, k in enumerate(origins.get_column("origin").to_list())}
    offset = len(index_origin)
    index_mineral = {k: offset + i for i, k in enumerate(minerals.get_column("mineral_id").to_list())}
    offset += len(index_mineral)
    index_product = {k: offset + i for i, k in enumerate(products.get_column("heading").to_list())}
    first = frame.group_by("origin", "mineral_id").agg(pl.col(weight).sum()).filter(pl.col(weight) > 0)
    second = frame.group_by("mineral_id", "heading").agg(pl.col(weight).sum()).filter(pl.col(weight) > 0)
    source = [index_origin[o] for o in first.get_column("origin")] + [
        index_mineral[m] for m in second.get_column("mineral_id")
    ]
    target = [index_mineral[m] for m in first.get_column("mineral_id")] + [
        index_product[h] for h in second.get_column("heading")
    ]
    value = first.get_column(weight).to_list() + second.get_column(weight).to_list()
    colours = (
        [PALETTE[0]] * len(index_origin)
        + [PALETTE[1]] * len(index_mineral)
        + [PALETTE[2]] * len(index_product)
    )
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat="$,.0f",
            node={"label": node_labels, "pad": 8, "thickness": 14, "color": colours},
            link={"source": source, "target": target, "value": value, "color": "rgba(31,78,121,0.25)"},
        )
    )
    what = "customs value" if weight == "customs_value_usd" else "duty"
    return style(
        fig,
        title=f"Origin → mineral → product ({what} on the ledger)",
        height=max(480, 18 * max(len(index_origin), len(index_mineral), len(index_product))),
    )


def import_sources(a: Analysis) -> pl.DataFrame:
    """Value and duty by country of origin with its FEOC / agreement-partner standing on the report date.

    Columns: iso3, country, lines, customs_value_usd, share_of_value, duty, annual_duty, feoc, partner.
    """
    from critmin.refdata.groups import members
    from critmin.risk.exposure import FEOC_GROUP, PARTNER_GROUPS

    feoc = members(FEOC_GROUP, a.as_of)
    partners: frozenset[str] = frozenset().union(*(members(g, a.as_of) for g in PARTNER_GROUPS))
    by_origin = exposure(a, "origin")
    total = float(by_origin.get_column("customs_value_usd").sum()) or 1.0
    return by_origin.select(
        pl.col("key").alias("iso3"),
        pl.col("label").alias("country"),
        "lines",
        "customs_value_usd",
        (pl.col("customs_value_usd") / total).alias("share_of_value"),
        "duty",
        "annual_duty",
        pl.col("key").is_in(list(feoc)).alias("feoc"),
        pl.col("key").is_in(list(partners)).alias("partner"),
    ).sort("customs_value_usd", descending=True)


def world_map_figure(a: Analysis) -> go.Figure:
    """Choropleth of customs value by origin (hover: duty today, FEOC / partner standing).

    The world outline is drawn from the topology shipped with critmin (``views/assets``); the report embeds
    it, so the map needs no network.
    """
    frame = import_sources(a).filter(pl.col("iso3") != labels.UNKNOWN)
    if frame.is_empty():
        return empty_figure("No countries of origin on the ledger.")
    standing = [
        "foreign entity of concern" if f else ("agreement partner" if p else "other")
        for f, p in frame.select("feoc", "partner").iter_rows()
    ]
    fig = go.Figure(
        go.Choropleth(
            locations=frame.get_column("iso3").to_list(),
            locationmode="ISO-3",
            z=frame.get_column("customs_value_usd").to_list(),
            text=frame.get_column("country").to_list(),
            customdata=list(zip(frame.get_column("annual_duty").to_list(), standing, strict=True)),
            colorscale="Blues",
            marker_line_color="#ffffff",
            marker_line_width=0.5,
            colorbar={"title": "USD", "tickformat": "$,.2s"},
            hovertemplate="%{text}<br>value %{z:$,.0f}<br>duty today %{customdata[0]:$,.0f} a year"
            "<br>%{customdata[1]}<extra></extra>",
        )
    )
    fig.update_geos(
        projection_type="natural earth",
        showcountries=True,
        countrycolor="#d9d9d9",
        showcoastlines=False,
        showframe=False,
        showland=True,
        landcolor="#f2f2f2",
        resolution=110,
    )
    return style(fig, title="Where the ledger's imports come from (customs value)", height=440)


LINE_COLUMNS = ("line_id", "entry_date", "hts", "country_origin", "supplier", "customs_value_usd")


def _measures_text(run: ScenarioRun) -> pl.DataFrame:
    """Per line, the customs-duty measures of one run with their amounts, largest first
    (``s301_list3 $1234.50; mfn_general $12.00``)."""
    cents = (pl.col("amount") * 100).round(0).cast(pl.Int64)
    return (
        run.result.components.filter((pl.col("payer") == "customs") & ~pl.col("refund_eligible"))
        .sort(["amount", "measure_id"], descending=[True, False])
        .with_columns(
            pl.format(
                "{} ${}.{}",
                pl.col("measure_id").cast(pl.String),
                cents // 100,
                (cents % 100).cast(pl.String).str.zfill(2),
            ).alias("_text")
        )
        .group_by("line_id", maintain_order=True)
        .agg(pl.col("_text").str.join("; ").alias(f"measures_{run.id}"))
    )


def line_duty(a: Analysis) -> pl.DataFrame:
    """One row per ledger line: its duty under the law in force and under each scenario, and the measures
    that make it up, so any total in the report can be traced to the lines and measures behind it.

    Columns: line_id, entry_date, hts, country_origin, supplier, customs_value_usd, then per run (the
    law in force first) ``duty_<run>`` (customs duty on the line, as the engine totals it) and
    ``measures_<run>`` (each customs measure charged with its amount; payments to exporters and duty
    refundable under invalidated measures are not in them). Each run re-dates the lines to its own
    evaluation date (``scenario_comparison``'s ``eval_date``), not to their entry dates.
    """
    frame = a.baseline.result.lines.select(LINE_COLUMNS)
    for run in a.runs:
        duty = run.result.lines.select("line_id", pl.col("duty").alias(f"duty_{run.id}"))
        frame = frame.join(duty, on="line_id", how="left", maintain_order="left").join(
            _measures_text(run), on="line_id", how="left", maintain_order="left"
        )
    return frame
