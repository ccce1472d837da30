"""The HTML report: one file that opens anywhere, offline, with interactive charts, and prints on paper.

Plotly's JavaScript and the world-map topology are embedded in the page, so nothing is fetched from the
network; each chart's data travels as JSON in a ``<script type="application/json">`` block and is drawn on
load. Tables are formatted from each column's declared format; long tables show their first rows and say
how many the workbook holds (the sources appendix is never cut).

On screen a table wider than the window scrolls sideways inside its own box, its first column held in
place. On paper nothing may be wider than the page, or Chromium shrinks the whole page (and every letter)
to fit, so each table is measured here, column by column, against the width between the margins
(:mod:`critmin.report.paper`): one that does not fit is printed as several narrower tables, each repeating
the first column. Text columns get a minimum width from their longest value, so a long title wraps over a
few lines instead of into a tall, one-word-wide cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import plotly.io as pio
from markupsafe import Markup, escape

from critmin import __version__
from critmin.policy.currency import law_currency
from critmin.report.paper import DEFAULT_PAPER, Paper, geometry
from critmin.views import Analysis, Section, TableView, geo_assets_script, sections
from critmin.views.formatting import FILTERS, cell, number, pct, usd

HTML_TABLE_ROWS = 60
"""Rows shown per table in the HTML (all of them are in the workbook); the sources appendix shows all."""

UNCUT_SECTIONS = frozenset({"sources"})
NUMERIC = frozenset({"usd", "usd2", "pct", "int", "float"})

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}

# Printed table geometry, in CSS pixels (96 per inch). The stylesheet sets tables in 8 pt and gives text
# columns the minimum widths below (in em of the table's font); the estimates are generous, so a table
# judged to fit does fit and Chromium never has to shrink the page.
PRINT_TABLE_FONT_PX = 8 * 96 / 72
CHAR_EM = 0.58
"""Average advance of a digit or letter in Helvetica/Arial/Liberation Sans, with a margin."""
HEADER_CHAR_EM = 0.64
CELL_PADDING_PX = 12
SHORT_TEXT = 16
"""Text columns whose values are all this short (in characters) never wrap."""
LONG_TEXT = 48
TEXT_MIN_EM = {"w-m": 9.0, "w-l": 15.0}
"""Minimum widths of medium (up to LONG_TEXT characters) and long text columns; keep in step with
report.css."""


@dataclass(frozen=True)
class PrintPart:
    """Columns of a table printed together (indexes into :attr:`HtmlTable.columns`, the first column in
    each) and the caption that says which part of the table this is (empty when the table is whole)."""

    columns: list[int]
    caption: str


@dataclass(frozen=True)
class HtmlTable:
    id: str
    title: str
    note: str | None
    columns: list[str]
    headers: list[str]
    classes: list[str]
    rows: list[list[str]]
    links: list[list[str | None]]
    total_rows: int
    parts: list[PrintPart]

    @property
    def all_columns(self) -> list[int]:
        return list(range(len(self.columns)))

    @property
    def split_for_print(self) -> bool:
        return len(self.parts) > 1


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


def _column_class(kind: str, values: list[str]) -> str:
    """The CSS classes of a column: alignment (num, date, text) and, for text, how it may wrap."""
    if kind in NUMERIC:
        return "num"
    if kind == "date":
        return "date"
    longest = max((len(v) for v in values), default=0)
    width = "w-s" if longest <= SHORT_TEXT else "w-m" if longest <= LONG_TEXT else "w-l"
    return f"text {width}"


def _print_width_px(css_class: str, header: str, values: list[str]) -> float:
    """The narrowest a column can print: numbers and short text on one line, other text at its minimum
    width; never narrower than the longest word of its header (headers wrap between words)."""
    word = max((len(w) for w in header.split()), default=0) * HEADER_CHAR_EM
    width_class = css_class.split()[-1]
    if width_class in TEXT_MIN_EM:
        content = TEXT_MIN_EM[width_class]
    else:
        content = max((len(v) for v in values), default=1) * CHAR_EM
    return max(content, word) * PRINT_TABLE_FONT_PX + CELL_PADDING_PX


def _pack(widths: list[float], budget: float) -> list[list[int]]:
    """Greedy column groups within ``budget``, each starting with column 0 (the row's key)."""
    parts: list[list[int]] = []
    current, used = [0], widths[0]
    for i in range(1, len(widths)):
        if len(current) > 1 and used + widths[i] > budget:
            parts.append(current)
            current, used = [0], widths[0]
        current.append(i)
        used += widths[i]
    parts.append(current)
    return parts


def print_parts(widths: list[float], budget: float) -> list[list[int]]:
    """Split columns into as few groups as fit ``budget``, of similar widths (19 columns in three parts
    print as 7 + 6 + 6, not 9 + 8 + 2)."""
    if len(widths) <= 1 or sum(widths) <= budget:
        return [list(range(len(widths)))]
    parts = _pack(widths, budget)
    target = widths[0] + sum(widths[1:]) / len(parts)
    while target < budget:
        even = _pack(widths, target)
        if len(even) == len(parts):
            return even
        target += 0.02 * budget
    return parts


def _table(view: TableView, limit: int | None, print_width: float) -> HtmlTable:
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
    headers = [c.replace("_", " ") for c in frame.columns]
    values = [[row[i] for row in rows] for i in range(len(frame.columns))]
    classes = [_column_class(k, v) for k, v in zip(kinds, values, strict=True)]
    widths = [_print_width_px(c, h, v) for c, h, v in zip(classes, headers, values, strict=True)]
    groups = print_parts(widths, print_width) if frame.width else [[]]
    parts = [
        PrintPart(
            group,
            ""
            if len(groups) == 1
            else f"Part {n} of {len(groups)}: columns {group[1] + 1}–{group[-1] + 1} of {len(headers)}, "
            f"each row led by its {headers[0]}",
        )
        for n, group in enumerate(groups, start=1)
    ]
    return HtmlTable(
        view.id,
        view.title,
        view.note,
        list(frame.columns),
        headers,
        classes,
        rows,
        links,
        frame.height,
        parts,
    )


def _figure_json(figure: Any) -> str:
    text = pio.to_json(figure, validate=False, remove_uids=True, engine="json")
    return text.replace("</", "<\\/")


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")


_LONG_WORD = re.compile(rf"\S{{{SHORT_TEXT + 1},}}")
_JOINT = re.compile(r"([_/])(?=[^\s/])")


def breakable(value: Any) -> Markup:
    """Escaped text with a line-break opportunity after each underscore and slash of its long words, so
    identifiers such as ``price_floor_partners_tariff_others`` and URLs wrap at their joints rather than
    mid-word (short words such as ``in_force`` stay whole)."""
    text = str(escape(value))
    return Markup(_LONG_WORD.sub(lambda m: _JOINT.sub(r"\1<wbr>", m.group(0)), text))


def css_string(value: Any) -> Markup:
    """A CSS string literal holding ``value`` (for the printed page's running header): every character
    other than letters, digits, spaces and a few punctuation marks is written as a CSS escape, so a ledger
    named ``a"b</style>`` can neither end the string nor the style sheet."""
    out = []
    for ch in str(value):
        out.append(ch if (ch.isalnum() and ch.isascii()) or ch in " .,-:" else f"\\{ord(ch):06x}")
    return Markup('"' + "".join(out) + '"')


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
    env.filters["breakable"] = breakable
    env.filters["css_string"] = css_string
    return env


def _section_context(section: Section, print_width: float) -> dict[str, Any]:
    limit = None if section.id in UNCUT_SECTIONS else HTML_TABLE_ROWS
    return {
        "id": section.id,
        "title": section.title,
        "text": section.text,
        "bullets": section.items,
        "tables": [_table(t, limit, print_width) for t in section.tables],
        "figures": [
            {"id": f.id, "json": _figure_json(f.figure), "caption": f.caption} for f in section.figures
        ],
    }


def render_html(
    a: Analysis, *, parts: list[Section] | None = None, paper: Paper | str = DEFAULT_PAPER
) -> str:
    """The report as one HTML document (pass ``parts`` to reuse sections already built); ``paper``
    ("letter" or "a4") is the page its print style sheet lays the report out for."""
    page = geometry(paper)
    built = parts if parts is not None else sections(a)
    context = {
        "title": f"critmin report — {a.ledger_name}",
        "ledger_name": a.ledger_name,
        "as_of": a.as_of,
        "law_as_of": law_currency().as_of,
        "generated": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "version": __version__,
        "sections": [_section_context(s, page.content_width_px) for s in built],
        "plotly_js": _plotly_js(),
        "geo_assets": geo_assets_script().replace("</script", "<\\/script"),
        "plotly_config": PLOTLY_CONFIG,
        "row_limit": HTML_TABLE_ROWS,
        "page": page,
    }
    return _environment().get_template("report.html.j2").render(context)


def write_html(
    a: Analysis, path: Path, *, parts: list[Section] | None = None, paper: Paper | str = DEFAULT_PAPER
) -> Path:
    """Write the report as one self-contained HTML file (every section, or ``parts``), laid out for
    printing on ``paper``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(a, parts=parts, paper=paper), encoding="utf-8")
    return path
