"""Every figure the dashboard draws, by name, so a page and ``/api/v1/figures/{name}`` give the same chart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import plotly.graph_objects as go

from critmin.web import queries
from critmin.web.queries import Selection
from critmin.web.state import Dashboard


class FigureName(StrEnum):
    exposure = "exposure"
    sankey = "sankey"
    world_map = "world_map"
    scenarios = "scenarios"
    shares = "shares"
    sourcing = "sourcing"
    investment = "investment"
    distribution = "distribution"
    fan_chart = "fan_chart"
    tornado = "tornado"


@dataclass(frozen=True)
class FigureSpec:
    title: str
    uses_scenario: bool
    uses_by: bool


SPECS: dict[FigureName, FigureSpec] = {
    FigureName.exposure: FigureSpec("Annual duty by a dimension, today and under the scenario", True, True),
    FigureName.sankey: FigureSpec("Origin → mineral → product", True, False),
    FigureName.world_map: FigureSpec("Where the imports come from", False, False),
    FigureName.scenarios: FigureSpec("Annual duty by scenario", False, False),
    FigureName.shares: FigureSpec("FEOC and partner shares by mineral", False, False),
    FigureName.sourcing: FigureSpec("Current and optimised supply mix", False, False),
    FigureName.investment: FigureSpec("Project NPV by policy branch", False, False),
    FigureName.distribution: FigureSpec("Simulated annual duty", False, False),
    FigureName.fan_chart: FigureSpec("Monthly duty over the simulated year", False, False),
    FigureName.tornado: FigureSpec("What drives expected annual duty", False, False),
}


def _function(name: FigureName) -> Callable[..., go.Figure | None]:
    import critmin.views as v

    table: dict[FigureName, Callable[..., go.Figure | None]] = {
        FigureName.exposure: v.exposure_figure,
        FigureName.sankey: v.sankey_figure,
        FigureName.world_map: v.world_map_figure,
        FigureName.scenarios: v.scenario_figure,
        FigureName.shares: v.shares_figure,
        FigureName.sourcing: v.sourcing_figure,
        FigureName.investment: v.investment_figure,
        FigureName.distribution: v.distribution_figure,
        FigureName.fan_chart: v.fan_chart_figure,
        FigureName.tornado: v.tornado_figure,
    }
    return table[name]


def figure_json(dash: Dashboard, sel: Selection, name: FigureName, by: str = "mineral") -> str | None:
    """The figure as page-ready JSON (None when the analysis has nothing to draw, e.g. no projects)."""
    spec = SPECS[name]
    args: list[Any] = []
    if spec.uses_by:
        args.append(by)
    if spec.uses_scenario:
        args.append(sel.scenario)
    return queries.figure(dash, sel, name.value, _function(name), *args)
