"""The report: one analysis written as a self-contained HTML file, an Excel workbook and a PDF.

``write_report(analysis, out_dir)`` writes ``report.html``, ``report.xlsx`` and ``report.pdf`` (the PDF by
printing the HTML with headless Chromium, on US Letter or, with ``paper="a4"``, A4). Every number comes
from :mod:`critmin.views`.

Each name is loaded on first use, so the command line can name a :class:`Paper` without loading the
writers (and Plotly, Jinja and the views behind them).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from critmin.report.files import ReportFiles, write_report
    from critmin.report.html import render_html, write_html
    from critmin.report.paper import DEFAULT_PAPER, Paper
    from critmin.report.pdf import ChromiumNotFoundError, find_chromium, write_pdf
    from critmin.report.xlsx import write_xlsx

_EXPORTS = {
    "ChromiumNotFoundError": "critmin.report.pdf",
    "DEFAULT_PAPER": "critmin.report.paper",
    "Paper": "critmin.report.paper",
    "ReportFiles": "critmin.report.files",
    "find_chromium": "critmin.report.pdf",
    "render_html": "critmin.report.html",
    "write_html": "critmin.report.html",
    "write_pdf": "critmin.report.pdf",
    "write_report": "critmin.report.files",
    "write_xlsx": "critmin.report.xlsx",
}

__all__ = [
    "DEFAULT_PAPER",
    "ChromiumNotFoundError",
    "Paper",
    "ReportFiles",
    "find_chromium",
    "render_html",
    "write_html",
    "write_pdf",
    "write_report",
    "write_xlsx",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'critmin.report' has no attribute {name!r}")
