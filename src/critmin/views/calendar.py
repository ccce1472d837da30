"""What is coming: the dated events and deadlines still ahead on the report date (monitor timeline)."""

from __future__ import annotations

import polars as pl

from critmin.views.analysis import Analysis


def deadlines(a: Analysis, limit: int | None = 15) -> pl.DataFrame:
    """Upcoming and ongoing events from the shipped legal calendar, soonest first, with countdowns.

    Columns: date, end_date, countdown, status, kind, topic, title, reliability, source_url, id.
    """
    frame = a.timeline.select(
        "date", "end_date", "countdown", "status", "kind", "topic", "title", "reliability", "source_url", "id"
    )
    return frame.head(limit) if limit is not None else frame
