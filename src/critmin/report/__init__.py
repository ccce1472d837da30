"""The report: one analysis written as a self-contained HTML file, an Excel workbook and a PDF.

``write_report(analysis, out_dir)`` writes ``report.html``, ``report.xlsx`` and ``report.pdf`` (the PDF by
printing the HTML with headless Chromium). Every number comes from :mod:`critmin.views`.
"""

from critmin.report.files import ReportFiles, write_report
from critmin.report.html import render_html, write_html
from critmin.report.pdf import ChromiumNotFoundError, find_chromium, write_pdf
from critmin.report.xlsx import write_xlsx

__all__ = [
    "ChromiumNotFoundError",
    "ReportFiles",
    "find_chromium",
    "render_html",
    "write_html",
    "write_pdf",
    "write_report",
    "write_xlsx",
]
