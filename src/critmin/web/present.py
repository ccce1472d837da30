"""Turning view results into what HTTP carries: JSON tables, Plotly figure JSON, CSV text.

Formatting only; no number is computed here. NaN and infinities become null (JSON has no spelling for
them), dates become ISO strings, and nested values are kept as lists of scalars.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import plotly.graph_objects as go
import polars as pl

from critmin.web.models import Column, Table

Scalar = str | int | float | bool | None


def scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def cell(value: Any) -> Scalar | list[Scalar]:
    if isinstance(value, list | tuple):
        return [scalar(v) for v in value]
    if isinstance(value, dict):
        return json.dumps({str(k): scalar(v) for k, v in value.items()})
    return scalar(value)


def table(frame: pl.DataFrame, *, limit: int | None = None) -> Table:
    """A frame as ``{columns: [{name, type}], rows: [{column: value}], total_rows}``."""
    shown = frame if limit is None else frame.head(limit)
    rows = [{k: cell(v) for k, v in row.items()} for row in shown.iter_rows(named=True)]
    columns = [Column(name=name, type=str(dtype)) for name, dtype in frame.schema.items()]
    return Table(columns=columns, rows=rows, total_rows=frame.height)


def figure_dict(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data (arrays as lists), the shape ``Plotly.newPlot`` takes."""
    parsed: dict[str, Any] = json.loads(fig.to_json())
    return {"data": parsed.get("data", []), "layout": parsed.get("layout", {})}


def figure_script_json(fig: go.Figure) -> str:
    """Figure JSON safe to place inside ``<script type="application/json">``: no ``<`` can end the element."""
    return json.dumps(figure_dict(fig), separators=(",", ":")).replace("<", "\\u003c")


# ---------------------------------------------------------------------------------------------------------
# HTML tables: the report's column formats (critmin.views.sections.column_format), applied once per view


@dataclass(frozen=True)
class HtmlColumn:
    name: str
    label: str
    numeric: bool
    fmt: str


@dataclass(frozen=True)
class HtmlCell:
    text: str
    raw: Scalar
    href: str | None = None


@dataclass(frozen=True)
class HtmlTable:
    id: str
    title: str
    columns: list[HtmlColumn]
    rows: list[list[HtmlCell]]
    total_rows: int
    api: str | None = None

    @property
    def truncated(self) -> bool:
        return self.total_rows > len(self.rows)


def format_value(value: Any, fmt: str) -> str:
    from critmin.views import formatting as f

    if fmt == "usd" and isinstance(value, int | float) and not isinstance(value, bool):
        return f.usd(value)
    if fmt == "usd2" and isinstance(value, int | float) and not isinstance(value, bool):
        return f.usd(value, digits=2)
    if fmt == "pct" and isinstance(value, int | float) and not isinstance(value, bool):
        return f.pct(value)
    if fmt == "int" and isinstance(value, int | float) and not isinstance(value, bool):
        return f.number(value)
    return f.cell(value)


def html_table(
    frame: pl.DataFrame,
    id: str,
    title: str,
    *,
    limit: int = 200,
    api: str | None = None,
    formats: Mapping[str, str] | None = None,
) -> HtmlTable:
    """A frame as formatted cells, at most ``limit`` rows (the API serves the whole table).

    ``formats`` overrides the format a column's name and type imply (``usd2`` for amounts compared to the
    cent, which the name alone cannot tell).
    """
    from critmin.views import column_format

    chosen: dict[str, str] = {name: column_format(name, dtype) for name, dtype in frame.schema.items()}
    chosen.update({k: v for k, v in (formats or {}).items() if k in chosen})
    columns = [
        HtmlColumn(name, name.replace("_", " "), fmt in ("usd", "usd2", "pct", "int", "float"), fmt)
        for name, fmt in chosen.items()
    ]
    rows = []
    for row in frame.head(limit).iter_rows():
        cells = []
        for column, value in zip(columns, row, strict=True):
            href = value if column.fmt == "url" and isinstance(value, str) and _is_web_url(value) else None
            cells.append(HtmlCell(format_value(value, column.fmt), scalar(value), href))
        rows.append(cells)
    return HtmlTable(id, title, columns, rows, frame.height, api)


def _is_web_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))
