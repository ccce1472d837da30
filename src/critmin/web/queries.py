"""The one road from a request to a number: selection -> cached analysis -> cached view.

Pages and the JSON API both call :func:`view`, so a page and its API endpoint show the same figures, and a
repeat request for the same (ledger import, as-of date, scenario, view) is served from memory. The views
themselves (``critmin.views``) hold all the logic; this module only decides what to compute once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import plotly.graph_objects as go
import polars as pl

from critmin.web.present import HtmlTable, figure_script_json, html_table
from critmin.web.state import Dashboard, LedgerRecord

if TYPE_CHECKING:
    from critmin.views.analysis import Analysis

T = TypeVar("T")


@dataclass(frozen=True)
class Selection:
    """What the user chose: a ledger import, a report date and (for scenario views) a scenario."""

    record: LedgerRecord
    as_of: date
    scenario: str | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.record.import_id, self.as_of.isoformat())


def analysis(dash: Dashboard, sel: Selection) -> Analysis:
    """Every engine run for this ledger and date, computed once and kept (a few at a time)."""
    return dash.analyses.get_or_compute(("analysis", *sel.key), lambda: build_analysis(dash, sel))


def build_analysis(dash: Dashboard, sel: Selection) -> Analysis:
    """The analysis of the selected ledger with the dashboard's inputs (:mod:`critmin.web.inputs`)."""
    from critmin.views.analysis import analyse

    inputs = dash.inputs
    problem, problem_name = inputs.sourcing()
    record = sel.record
    return analyse(
        dash.lines(record.import_id),
        ledger_name=record.label,
        ledger_sha256=record.sha256,
        rows_in=record.rows_in,
        rows_quarantined=record.rows_quarantined,
        as_of=sel.as_of,
        parameters=inputs.parameters,
        tree=inputs.analysis_tree(),
        draws=inputs.draws,
        sourcing=problem,
        sourcing_name=problem_name,
        projects=inputs.projects(),
    )


def view(dash: Dashboard, sel: Selection, name: str, fn: Callable[..., T], *args: Hashable) -> T:
    """``fn(analysis, *args)``, cached under the selection, the view's name and its arguments."""
    return dash.cached(("view", *sel.key, name, args), lambda: fn(analysis(dash, sel), *args))


def figure(
    dash: Dashboard, sel: Selection, name: str, fn: Callable[..., go.Figure | None], *args: Any
) -> str | None:
    """A view's figure as JSON ready for the page (serialising a figure costs as much as drawing it)."""

    def compute() -> str | None:
        fig = fn(analysis(dash, sel), *args)
        return None if fig is None else figure_script_json(fig)

    return dash.cached(("figure", *sel.key, name, args), compute)


def html(
    dash: Dashboard,
    sel: Selection,
    name: str,
    fn: Callable[..., pl.DataFrame | None],
    *args: Hashable,
    title: str,
    limit: int = 200,
    api: str | None = None,
) -> HtmlTable | None:
    """A view's table formatted for the page (None when the view has nothing, e.g. no sourcing problem)."""

    def compute() -> HtmlTable | None:
        frame = view(dash, sel, name, fn, *args)
        return None if frame is None else html_table(frame, name, title, limit=limit, api=api)

    return dash.cached(("html", *sel.key, name, args, limit), compute)
