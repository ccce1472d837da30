"""Report downloads: the report worker's writers over the cached analysis, written to a private temp dir.

The sections are built once per selection and reused, so the HTML, the workbook and the PDF of one
selection show the same tables as each other and as the pages.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from critmin.web import queries
from critmin.web.queries import Selection
from critmin.web.state import Dashboard


def report_bytes(dash: Dashboard, sel: Selection, fmt: str) -> bytes:
    """The report file's bytes: ``html``, ``xlsx`` or ``pdf`` (the PDF is the HTML printed by Chromium)."""
    return dash.reports.get_or_compute(("report", *sel.key, fmt), lambda: _write(dash, sel, fmt))


def _write(dash: Dashboard, sel: Selection, fmt: str) -> bytes:
    import critmin.views as v
    from critmin.report import write_html, write_pdf, write_xlsx

    a = queries.analysis(dash, sel)
    parts = queries.view(dash, sel, "sections", v.sections)
    with tempfile.TemporaryDirectory(prefix="critmin-report-") as tmp:
        folder = Path(tmp)
        if fmt == "xlsx":
            path = write_xlsx(a, folder / "report.xlsx", parts=parts)
        else:
            path = write_html(a, folder / "report.html", parts=parts)
            if fmt == "pdf":
                path = write_pdf(path, folder / "report.pdf")
        return path.read_bytes()
