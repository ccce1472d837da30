"""The Monte Carlo's answers: expected annual duty, how bad it can get, over time, and what drives it."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from critmin.views.analysis import Analysis
from critmin.views.charts import BASELINE_COLOUR, PALETTE, empty_figure, style

NO_SIMULATION = "No simulation in this analysis (no scenario tree, or zero draws)."


def simulation_summary(a: Analysis) -> pl.DataFrame:
    """Statistic, value (USD per simulated year) and what it means; empty without a simulation."""
    schema = {"statistic": pl.String, "value": pl.Float64, "meaning": pl.String}
    sim = a.simulation
    if sim is None:
        return pl.DataFrame(schema=schema)
    rows = [
        ("mean", sim.mean, "expected annual duty over the tree's branches, parameters and prices"),
        ("p5", sim.p5, "5th percentile: 1 draw in 20 is lower"),
        ("p50", sim.p50, "median"),
        ("p95", sim.p95, "95th percentile: 1 draw in 20 is higher"),
        ("var95", sim.var95, "value at risk (95%): p95 minus the mean"),
        ("cvar95", sim.cvar95, "conditional value at risk (95%): mean of the worst 5% of draws"),
        ("in_force_today", a.baseline.duty * a.period.annual_factor,
         "for comparison: annual duty under the measures in force on the report date"),
    ]
    return pl.DataFrame(rows, schema=schema, orient="row")


def simulation_branches(a: Analysis) -> pl.DataFrame:
    """Expected annual duty given each branch (path) of the tree, with its probability."""
    if a.simulation is None:
        return pl.DataFrame(schema={"branch": pl.String, "probability": pl.Float64, "mean": pl.Float64})
    return a.simulation.by_branch


def simulation_by_mineral(a: Analysis) -> pl.DataFrame:
    if a.simulation is None:
        return pl.DataFrame(schema={"mineral_id": pl.String, "mean": pl.Float64})
    return a.simulation.by_mineral


def distribution_figure(a: Analysis, bins: int = 60) -> go.Figure:
    """Histogram of simulated annual duty with the mean, the 95th percentile and today's duty marked."""
    sim = a.simulation
    if sim is None:
        return empty_figure(NO_SIMULATION)
    values = np.asarray(sim.annual, dtype=np.float64)
    fig = go.Figure(go.Histogram(x=values, nbinsx=bins, marker_color=PALETTE[0], opacity=0.85,
                                 hovertemplate="%{x:$,.0f}: %{y} draws<extra></extra>"))
    for x, text, colour, dash in (
        (sim.mean, "mean", PALETTE[1], "solid"),
        (sim.p95, "95th percentile", "#c00000", "dash"),
        (a.baseline.duty * a.period.annual_factor, "in force today", BASELINE_COLOUR, "dot"),
    ):
        fig.add_vline(x=x, line_color=colour, line_dash=dash, annotation_text=text,
                      annotation_position="top right")
    return style(fig, title=f"Simulated annual duty ({sim.draws:,} draws, seed {sim.seed})",
                 xaxis={"title": "USD per simulated year", "tickformat": "$,.0f"},
                 yaxis={"title": "draws"}, showlegend=False, bargap=0.02)


def fan_chart_figure(a: Analysis) -> go.Figure:
    """Monthly duty over the simulated year: median with 50% and 90% bands."""
    sim = a.simulation
    if sim is None or sim.monthly.is_empty():
        return empty_figure(NO_SIMULATION)
    m = sim.monthly
    months = m.get_column("month").to_list()
    fig = go.Figure()
    for low, high, name, alpha in (("p5", "p95", "5–95%", 0.18), ("p25", "p75", "25–75%", 0.35)):
        fig.add_trace(go.Scatter(x=months, y=m.get_column(high).to_list(), mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=months, y=m.get_column(low).to_list(), mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor=f"rgba(31,78,121,{alpha})", name=name,
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=months, y=m.get_column("p50").to_list(), mode="lines+markers", name="median",
                             line={"color": PALETTE[0]}, hovertemplate="%{x|%b %Y}: %{y:$,.0f}<extra>median</extra>"))
    fig.add_trace(go.Scatter(x=months, y=m.get_column("mean").to_list(), mode="lines", name="mean",
                             line={"color": PALETTE[1], "dash": "dash"},
                             hovertemplate="%{x|%b %Y}: %{y:$,.0f}<extra>mean</extra>"))
    return style(fig, title="Monthly duty over the simulated year (fan: 50% and 90% bands)",
                 yaxis={"title": "USD per month", "tickformat": "$,.0f"}, legend={"orientation": "h", "y": -0.2})


def tornado(a: Analysis) -> pl.DataFrame:
    """Inputs ranked by how far they move expected annual duty (input, low, high, range)."""
    if a.simulation is None:
        return pl.DataFrame(schema={"input": pl.String, "low": pl.Float64, "high": pl.Float64,
                                    "range": pl.Float64})
    return a.simulation.tornado.sort("range", descending=True)


def tornado_figure(a: Analysis, top: int = 12) -> go.Figure:
    """Horizontal bars from each input's low to its high setting, around the simulated mean."""
    frame = tornado(a).head(top)
    if a.simulation is None or frame.is_empty():
        return empty_figure(NO_SIMULATION if a.simulation is None else "No uncertain input in the tree.")
    centre = a.simulation.mean
    names = frame.get_column("input").to_list()[::-1]
    low = frame.get_column("low").to_list()[::-1]
    high = frame.get_column("high").to_list()[::-1]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=[v - centre for v in low], base=centre, orientation="h", name="low setting",
                         marker_color=PALETTE[2], hovertemplate="%{y}: %{x:$,.0f}<extra>low</extra>"))
    fig.add_trace(go.Bar(y=names, x=[v - centre for v in high], base=centre, orientation="h",
                         name="high setting", marker_color=PALETTE[1],
                         hovertemplate="%{y}: %{x:$,.0f}<extra>high</extra>"))
    fig.add_vline(x=centre, line_color="#333333", annotation_text="mean", annotation_position="top")
    return style(fig, title="What drives expected annual duty (each input at its low and high setting)",
                 barmode="overlay", xaxis={"title": "USD per year", "tickformat": "$,.0f"},
                 height=max(300, 80 + 30 * len(names)), legend={"orientation": "h", "y": -0.2})
