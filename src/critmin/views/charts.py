"""Shared look of every chart, so the report, the PDF and the dashboard show the same figure the same way."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

PALETTE: tuple[str, ...] = (
    "#1f4e79",
    "#c55a11",
    "#548235",
    "#7f6000",
    "#7030a0",
    "#2e75b6",
    "#bf9000",
    "#a5a5a5",
    "#833c0b",
    "#375623",
)
BASELINE_COLOUR = "#7f7f7f"
FEOC_COLOUR = "#c00000"
PARTNER_COLOUR = "#2e75b6"
OTHER_COLOUR = "#bfbfbf"
FONT = "Helvetica, Arial, sans-serif"


def style(fig: go.Figure, *, title: str | None = None, height: int = 420, **layout: Any) -> go.Figure:
    """Apply the house layout: white background, compact margins, readable font, fixed height."""
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 12, "color": "#222222"},
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}} if title else None,
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 50},
        height=height,
        colorway=list(PALETTE),
        **layout,
    )
    return fig


def empty_figure(message: str, *, title: str | None = None) -> go.Figure:
    """A figure that says why there is nothing to plot, rather than a blank frame."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 13, "color": "#555555"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, title=title, height=200)
