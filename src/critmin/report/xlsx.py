"""The workbook: a summary sheet, then one sheet per table of the report, with every row.

Numbers stay numbers (formatted as dollars, percentages, counts or dates, never text), headers are frozen
and filterable, and URLs are links, so analysts can pivot and check the figures directly.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from critmin import __version__
from critmin.spreadsheet import WORKBOOK_OPTIONS
from critmin.views import Analysis, Section, TableView, sections
from critmin.views.layout import line_duty_table
from critmin.views.summary import executive_summary, headline_table

NUMBER_FORMATS = {
    "usd": '"$"#,##0;[Red]-"$"#,##0',
    "usd2": '"$"#,##0.00;[Red]-"$"#,##0.00',
    "pct": "0.0%",
    "int": "#,##0",
    "float": "#,##0.0###",
    "date": "yyyy-mm-dd",
}
MAX_WIDTH = 60
SUMMARY_SHEET = "summary"


def sheet_names(parts: list[Section]) -> list[str]:
    """The workbook's sheets in order: the summary, then each table's id (ids are unique and short)."""
    names = [SUMMARY_SHEET] + [t.id for s in parts for t in s.tables]
    if len(set(names)) != len(names) or any(len(n) > 31 for n in names):
        raise ValueError(f"table ids must be unique and at most 31 characters for sheet names: {names}")
    return names


def _cell_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _write_table(
    book: xlsxwriter.Workbook,
    sheet: Worksheet,
    view: TableView,
    formats: dict[str, Format],
    header: Format,
    title: Format,
) -> None:
    frame = view.frame
    sheet.write_string(0, 0, view.title, title)
    if view.note:
        sheet.write_string(1, 0, view.note)
    top = 2
    kinds = [view.format_of(c) for c in frame.columns]
    widths = [len(c) + 2 for c in frame.columns]
    for col, name in enumerate(frame.columns):
        sheet.write_string(top, col, name, header)
    for r, raw in enumerate(frame.iter_rows(), start=top + 1):
        for c, (value, kind) in enumerate(zip(raw, kinds, strict=True)):
            value = _cell_value(value)
            if value is None:
                continue
            if kind == "url" and isinstance(value, str) and value.startswith(("http://", "https://")):
                if len(value) <= 2079:
                    sheet.write_url(r, c, value, string=value)
                else:
                    sheet.write_string(r, c, value)
                widths[c] = max(widths[c], min(len(value), MAX_WIDTH))
                continue
            if isinstance(value, datetime | date):
                sheet.write_datetime(
                    r,
                    c,
                    value if isinstance(value, datetime) else datetime(value.year, value.month, value.day),
                    formats["date"],
                )
                widths[c] = max(widths[c], 11)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value, formats.get(kind, formats["float"]))
                widths[c] = max(widths[c], 14)
            else:
                text = str(value)
                sheet.write_string(r, c, text)
                widths[c] = max(widths[c], min(len(text) + 1, MAX_WIDTH))
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    sheet.freeze_panes(top + 1, 0)
    if frame.width:
        sheet.autofilter(top, 0, top + max(frame.height, 1), frame.width - 1)


def _write_summary(
    sheet: Worksheet, a: Analysis, formats: dict[str, Format], header: Format, title: Format
) -> None:
    """The executive summary's sentences, then the headline numbers (the same table as the HTML's)."""
    sheet.write_string(0, 0, f"critmin report — {a.ledger_name}", title)
    sheet.write_string(1, 0, f"Report date {a.as_of.isoformat()}; critmin {__version__}")
    row = 3
    for sentence in executive_summary(a)["sentences"]:
        sheet.write_string(row, 0, sentence)
        row += 1
    row += 1
    table = headline_table(a)
    for col, name in enumerate(table.columns):
        sheet.write_string(row, col, name, header)
    for values in table.iter_rows():
        row += 1
        sheet.write_string(row, 0, str(values[0]))
        for col, value in enumerate(values[1:], start=1):
            if value is not None:
                sheet.write_number(row, col, value, formats["usd"])
    sheet.set_column(0, 0, 60)
    sheet.set_column(1, 2, 18)


def write_xlsx(a: Analysis, path: Path, *, parts: list[Section] | None = None) -> Path:
    """Write the workbook; ``parts`` reuses sections already built for the HTML."""
    built = parts if parts is not None else sections(a)
    names = sheet_names(built)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Strings stay strings (a ledger cell "=HYPERLINK(...)" is text, not a formula) and links are written
    # only by write_url below, for http(s) addresses.
    with xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "remove_timezone": True}) as book:
        book.set_properties(
            {"title": f"critmin report — {a.ledger_name}", "comments": f"critmin {__version__}"}
        )
        formats = {kind: book.add_format({"num_format": spec}) for kind, spec in NUMBER_FORMATS.items()}
        header = book.add_format({"bold": True, "bg_color": "#DDE6F0", "bottom": 1, "text_wrap": True})
        title = book.add_format({"bold": True, "font_size": 13})
        _write_summary(book.add_worksheet(names[0]), a, formats, header, title)
        tables = [t for s in built for t in s.tables]
        for name, view in zip(names[1:], tables, strict=True):
            _write_table(book, book.add_worksheet(name), view, formats, header, title)
        lines = line_duty_table(a)  # line by line: in the workbook only, too long for the HTML and PDF
        _write_table(book, book.add_worksheet(lines.id), lines, formats, header, title)
    return path
