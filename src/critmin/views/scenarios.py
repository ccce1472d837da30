"""The scenarios side by side: what the same ledger pays in a year under each, against duty in force today."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from critmin.views.analysis import Analysis, ScenarioRun
from critmin.views.charts import BASELINE_COLOUR, PALETTE, style


def _row(run: ScenarioRun, factor: float, baseline_duty: float) -> dict[str, object]:
    totals = run.result.totals()
    duty = float(totals["duty"])
    value = float(totals["customs_value"])
    applied = [m["measure_id"] for m in run.result.measures_used() if m["applied"]]
    reach = run.result.reach()
    return {
        "scenario": run.id,
        "title": run.title,
        "baseline": run.baseline,
        "eval_date": run.eval_date,
        "customs_value_usd": value,
        "duty": duty,
        "annual_duty": duty * factor,
        "annual_change": (duty - baseline_duty) * factor,
        "change_pct": (duty / baseline_duty - 1.0) if baseline_duty else None,
        "effective_rate": duty / value if value else None,
        "annual_low": float(totals["duty_low"]) * factor,
        "annual_high": float(totals["duty_high"]) * factor,
        "annual_paid_to_exporter": float(totals["paid_to_exporter"]) * factor,
        "refund_eligible": float(totals["refund_eligible"]),
        "unavailable_value": float(totals["unavailable_value"]),
        "measures_applied": len(applied),
        "lines_reached": reach.reached if reach is not None else None,
        "lines_paying": reach.paying if reach is not None else None,
        "issues": int(totals["issues"]),
    }


def scenario_comparison(a: Analysis) -> pl.DataFrame:
    """One row per run (in force today first): duty on the ledger, per year, change against today.

    ``annual_paid_to_exporter`` is what price undertakings make the importer pay its suppliers (a cost,
    not a duty); ``unavailable_value`` is value a hard quota would shut out; ``refund_eligible`` is duty
    already paid under invalidated measures. ``lines_reached`` / ``lines_paying``: ledger lines one of the
    scenario's own measures applies to / charges a non-zero amount on (null for the law in force; see
    :func:`reach_sentences` for why the others are not reached).
    """
    factor = a.period.annual_factor
    rows = [_row(run, factor, a.baseline.duty) for run in a.runs]
    return pl.DataFrame(
        rows,
        schema={
            "scenario": pl.String,
            "title": pl.String,
            "baseline": pl.Boolean,
            "eval_date": pl.Date,
            "customs_value_usd": pl.Float64,
            "duty": pl.Float64,
            "annual_duty": pl.Float64,
            "annual_change": pl.Float64,
            "change_pct": pl.Float64,
            "effective_rate": pl.Float64,
            "annual_low": pl.Float64,
            "annual_high": pl.Float64,
            "annual_paid_to_exporter": pl.Float64,
            "refund_eligible": pl.Float64,
            "unavailable_value": pl.Float64,
            "measures_applied": pl.Int64,
            "lines_reached": pl.Int64,
            "lines_paying": pl.Int64,
            "issues": pl.Int64,
        },
    )


def reach_sentences(a: Analysis) -> list[str]:
    """Per scenario, how many ledger lines its own measures reach and why the others are not reached."""
    out = []
    for run in a.scenarios:
        reach = run.result.reach()
        if reach is not None:
            out.append(reach.text())
    return out


def scenario_figure(a: Analysis) -> go.Figure:
    """Annual duty per scenario with the content-factor range as error bars; the baseline as a line."""
    frame = scenario_comparison(a)
    names = frame.get_column("scenario").to_list()
    annual = frame.get_column("annual_duty").to_list()
    low = frame.get_column("annual_low").to_list()
    high = frame.get_column("annual_high").to_list()
    colours = [
        BASELINE_COLOUR if b else PALETTE[i % len(PALETTE)]
        for i, b in enumerate(frame.get_column("baseline").to_list())
    ]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=annual,
            marker_color=colours,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [h - v for h, v in zip(high, annual, strict=True)],
                "arrayminus": [v - lo for lo, v in zip(low, annual, strict=True)],
                "color": "#444444",
            },
            customdata=frame.select("title", "annual_change").rows(),
            hovertemplate="%{customdata[0]}<br>%{y:$,.0f} a year (%{customdata[1]:+$,.0f} vs today)"
            "<extra></extra>",
        )
    )
    fig.add_hline(
        y=a.period.annual_factor * a.baseline.duty,
        line_dash="dot",
        line_color=BASELINE_COLOUR,
        annotation_text="in force today",
        annotation_position="top left",
    )
    return style(
        fig,
        title="Annual duty by scenario (error bars: low/high content factors)",
        yaxis={"title": "USD per year", "tickformat": "$,.0f"},
        height=420,
    )
