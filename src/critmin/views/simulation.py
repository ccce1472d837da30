"""The Monte Carlo's answers: expected annual cost, how bad it can get, over time, and what drives it.

Numbers are :mod:`critmin.simulate`'s (kept in ``Analysis.simulation``); these views only label and draw
them. The simulated cost is duty plus payments to exporters under price undertakings.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from critmin.views.analysis import Analysis
from critmin.views.charts import BASELINE_COLOUR, PALETTE, empty_figure, style

NO_SIMULATION = "No simulation in this analysis (no scenario tree, or zero draws)."

TORNADO_SCHEMA: dict[str, pl.DataType] = {
    "input": pl.String(),
    "kind": pl.String(),
    "low_setting": pl.String(),
    "high_setting": pl.String(),
    "low": pl.Float64(),
    "high": pl.Float64(),
    "range": pl.Float64(),
    "central": pl.Float64(),
}


def simulation_summary(a: Analysis) -> pl.DataFrame:
    """Statistic, value (USD per simulated year) and what it means; empty without a simulation."""
    schema = {"statistic": pl.String, "value": pl.Float64, "meaning": pl.String}
    sim = a.simulation
    if sim is None:
        return pl.DataFrame(schema=schema)
    today = a.baseline.duty * a.period.annual_factor
    rows = [
        ("mean", sim.mean, "expected cost of the simulated year over branches, parameters and prices"),
        ("p5", sim.p5, "5th percentile: 1 draw in 20 costs less"),
        ("p50", sim.p50, "median"),
        ("p95", sim.p95, "95th percentile: 1 draw in 20 costs more"),
        ("var95", sim.var95, "value at risk (95%): the annual cost exceeded in 1 draw in 20 (= p95)"),
        ("cvar95", sim.cvar95, "conditional value at risk (95%): mean of the costliest 5% of draws"),
        (
            "in_force_today",
            today,
            "for comparison: annual duty under the measures in force on the report date",
        ),
    ]
    return pl.DataFrame(rows, schema=schema, orient="row")


def simulation_branches(a: Analysis) -> pl.DataFrame:
    """Expected annual cost given each branch (path) of the tree, with its probability and scenarios."""
    if a.simulation is None:
        return pl.DataFrame(schema={"branch": pl.String, "probability": pl.Float64, "mean": pl.Float64})
    return a.simulation.by_branch


def simulation_by_mineral(a: Analysis) -> pl.DataFrame:
    """Expected annual cost by mineral (mean, p5, p95, share of the total)."""
    if a.simulation is None:
        return pl.DataFrame(schema={"mineral_id": pl.String, "mean": pl.Float64})
    return a.simulation.by_mineral


def distribution_figure(a: Analysis, bins: int = 60) -> go.Figure:
    """Histogram of the simulated annual cost with the mean, the 95th percentile and today's duty marked."""
    sim = a.simulation
    if sim is None:
        return empty_figure(NO_SIMULATION)
    values = np.asarray(sim.annual, dtype=np.float64)
    fig = go.Figure(
        go.Histogram(
            x=values,
            nbinsx=bins,
            marker_color=PALETTE[0],
            opacity=0.85,
            hovertemplate="%{x:$,.0f}: %{y} draws<extra></extra>",
        )
    )
    marks = (
        (sim.mean, "mean", PALETTE[1], "solid"),
        (sim.p95, "95th percentile", "#c00000", "dash"),
        (a.baseline.duty * a.period.annual_factor, "in force today", BASELINE_COLOUR, "dot"),
    )
    for x, text, colour, dash in marks:
        fig.add_vline(
            x=x, line_color=colour, line_dash=dash, annotation_text=text, annotation_position="top right"
        )
    return style(
        fig,
        title=f"Simulated annual cost ({sim.draws:,} draws, seed {sim.seed})",
        xaxis={"title": "USD per simulated year", "tickformat": "$,.0f"},
        yaxis={"title": "draws"},
        showlegend=False,
        bargap=0.02,
    )


def fan_chart_figure(a: Analysis) -> go.Figure:
    """Monthly cost over the simulated year: median and mean with 50% and 90% bands."""
    sim = a.simulation
    if sim is None or sim.monthly.is_empty():
        return empty_figure(NO_SIMULATION)
    m = sim.monthly
    months = m.get_column("month").to_list()
    fig = go.Figure()
    for low, high, name, alpha in (("p5", "p95", "5–95%", 0.18), ("p25", "p75", "25–75%", 0.35)):
        fig.add_trace(
            go.Scatter(
                x=months,
                y=m.get_column(high).to_list(),
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=m.get_column(low).to_list(),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=f"rgba(31,78,121,{alpha})",
                name=name,
                hoverinfo="skip",
            )
        )
    for column, colour, dash in (("p50", PALETTE[0], "solid"), ("mean", PALETTE[1], "dash")):
        fig.add_trace(
            go.Scatter(
                x=months,
                y=m.get_column(column).to_list(),
                mode="lines+markers",
                name=column,
                line={"color": colour, "dash": dash},
                hovertemplate="%{x|%b %Y}: %{y:$,.0f}<extra>" + column + "</extra>",
            )
        )
    return style(
        fig,
        title="Monthly cost over the simulated year (fan: 50% and 90% bands)",
        yaxis={"title": "USD per month", "tickformat": "$,.0f"},
        legend={"orientation": "h", "y": -0.2},
    )


def tornado(a: Analysis) -> pl.DataFrame:
    """Inputs ranked by how far they move the annual cost, one at a time, the others at central settings.

    Columns: input, kind, low_setting, high_setting, low, high (annual cost at each), range, central.
    """
    if a.simulation is None:
        return pl.DataFrame(schema=TORNADO_SCHEMA)
    return a.simulation.tornado.sort("range", descending=True, maintain_order=True)


def tornado_figure(a: Analysis, top: int = 12) -> go.Figure:
    """Horizontal bars from each input's low to its high setting, around the cost at central settings."""
    frame = tornado(a).head(top)
    if a.simulation is None or frame.is_empty():
        return empty_figure(NO_SIMULATION if a.simulation is None else "No uncertain input in the tree.")
    centre = float(frame.get_column("central")[0])
    names = frame.get_column("input").to_list()[::-1]
    fig = go.Figure()
    for column, setting, colour in (("low", "low_setting", PALETTE[2]), ("high", "high_setting", PALETTE[1])):
        values = frame.get_column(column).to_list()[::-1]
        fig.add_trace(
            go.Bar(
                y=names,
                x=[v - centre for v in values],
                base=centre,
                orientation="h",
                name=f"{column} setting",
                marker_color=colour,
                customdata=list(zip(values, frame.get_column(setting).to_list()[::-1], strict=True)),
                hovertemplate="%{y} = %{customdata[1]}: %{customdata[0]:$,.0f}<extra></extra>",
            )
        )
    fig.add_vline(x=centre, line_color="#333333", annotation_text="central", annotation_position="top")
    return style(
        fig,
        title="What moves the annual cost (one input at a time, at its low and high setting)",
        barmode="overlay",
        xaxis={"title": "USD per year", "tickformat": "$,.0f"},
        height=max(300, 80 + 30 * len(names)),
        legend={"orientation": "h", "y": -0.2},
    )
