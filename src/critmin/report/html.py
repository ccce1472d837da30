"""The HTML report: one file that opens anywhere, offline, with interactive charts.

Plotly's JavaScript and the world-map topology are embedded in the page, so nothing is fetched from the
network; each chart's data travels as JSON in a ``<script type="application/json">`` block and is drawn on
load. Tables are formatted from each column's declared format; long tables show their first rows and say
how many the workbook holds (the sources appendix is never cut).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import plotly.io as pio

from critmin import __version__
from critmin.views import Analysis, Section, TableView, geo_assets_script, sections
from critmin.views.formatting import FILTERS, cell, number, pct, usd

HTML_TABLE_ROWS = 60
"""Rows shown per table in the HTML (all of them are in the workbook); the sources appendix shows all."""

UNCUT_SECTIONS = frozenset({"sources"})
NUMERIC = frozenset({"usd", "usd2", "pct", "int", "float"})

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}


@dataclass(frozen=True)
class HtmlTable:
    id: str
    title: str
    note: str | None
    columns: list[str]
    aligns: list[str]
    rows: list[list[str]]
    links: list[list[str | None]]
    total_rows: int


def format_value(value: Any, kind: str) -> str:
    """A value as the report prints it, by column format (usd, pct, int, float, date, text, url)."""
    if value is None:
        return "—"
    if kind == "usd" and isinstance(value, int | float):
        return usd(value)
    if kind == "usd2" and isinstance(value, int | float):
        return usd(value, digits=2)
    if kind == "pct" and isinstance(value, int | float):
        return pct(value)
    if kind == "int" and isinstance(value, int | float):
        return number(value)
    if kind == "text" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # years, row numbers and ids print without separators
    return cell(value)


def _table(view: TableView, limit: int | None) -> HtmlTable:
    frame = view.frame
    shown = frame if limit is None else frame.head(limit)
    kinds = [view.format_of(c) for c in frame.columns]
    rows: list[list[str]] = []
    links: list[list[str | None]] = []
    for raw in shown.iter_rows():
        rows.append([format_value(v, k) for v, k in zip(raw, kinds, strict=True)])
        links.append(
            [
                v if k == "url" and isinstance(v, str) and v.startswith(("http://", "https://")) else None
                for v, k in zip(raw, kinds, strict=True)
            ]
        )
    aligns = ["num" if k in NUMERIC else "date" if k == "date" else "text" for k in kinds]
    return HtmlTable(view.id, view.title, view.note, list(frame.columns), aligns, rows, links, frame.height)


def _figure_json(figure: Any) -> str:
    text = pio.to_json(figure, validate=False, remove_uids=True, engine="json")
    return text.replace("</", "<\\/")


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("critmin.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def _section_context(section: Section) -> dict[str, Any]:
    limit = None if section.id in UNCUT_SECTIONS else HTML_TABLE_ROWS
    return {
        "id": section.id,
        "title": section.title,
        "text": section.text,
        "tables": [_table(t, limit) for t in section.tables],
        "figures": [
            {"id": f.id, "json": _figure_json(f.figure), "caption": f.caption} for f in section.figures
        ],
    }


def render_html(a: Analysis, *, parts: list[Section] | None = None) -> str:
    """The report as one HTML document (pass ``parts`` to reuse sections already built)."""
    built = parts if parts is not None else sections(a)
    context = {
        "title": f"critmin report — {a.ledger_name}",
        "ledger_name": a.ledger_name,
        "as_of": a.as_of,
        "generated": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "version": __version__,
        "sections": [_section_context(s) for s in built],
        "plotly_js": _plotly_js(),
        "geo_assets": geo_assets_script().replace("</script", "<\\/script"),
        "plotly_config": PLOTLY_CONFIG,
        "row_limit": HTML_TABLE_ROWS,
    }
    return _environment().get_template("report.html.j2").render(context)


def write_html(a: Analysis, path: Path, *, parts: list[Section] | None = None) -> Path:
    """Write the report as one self-contained HTML file (every section, or ``parts``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(a, parts=parts), encoding="utf-8")
    return path
