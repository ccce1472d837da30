"""The Monitor page's data beyond the views: the whole legal calendar and what the monitor stored.

The dashboard never fetches feeds itself (it works offline); it shows what ``critmin monitor run`` saved in
the workspace.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from critmin.web.state import Dashboard

DOCUMENT_COLUMNS = ("document_number", "publication_date", "doc_type", "title", "agencies", "html_url")
ALERT_COLUMNS = (
    "publication_date",
    "title",
    "measure_id",
    "lines_touched",
    "annual_value_usd",
    "duty_before_usd",
    "duty_after_usd",
    "document_number",
)


def full_timeline(dash: Dashboard, today: date) -> pl.DataFrame:
    """Every shipped event, past and future, with its status and countdown relative to ``today``."""
    from critmin.monitor.timeline import all_events, timeline

    return dash.cached(("timeline", today.isoformat()), lambda: timeline(all_events(), today=today))


def alerts(dash: Dashboard) -> pl.DataFrame:
    from critmin.monitor.store import MonitorStore

    with dash.workspace() as ws:
        frame = MonitorStore(ws).alerts()
    return frame.select(ALERT_COLUMNS).sort("publication_date", descending=True, nulls_last=True)


def documents(dash: Dashboard, limit: int = 50) -> pl.DataFrame:
    from critmin.monitor.store import MonitorStore

    with dash.workspace() as ws:
        frame = MonitorStore(ws).documents()
    return frame.select(DOCUMENT_COLUMNS).head(limit)
