"""Write the three report files from one analysis (the sections are built once and shared)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from critmin.report.html import write_html
from critmin.report.paper import DEFAULT_PAPER, Paper, geometry
from critmin.report.pdf import find_chromium, write_pdf
from critmin.report.xlsx import write_xlsx
from critmin.views import Analysis, sections

FORMATS = ("html", "xlsx", "pdf")


@dataclass(frozen=True)
class ReportFiles:
    html: Path | None
    xlsx: Path | None
    pdf: Path | None

    def paths(self) -> list[Path]:
        return [p for p in (self.html, self.xlsx, self.pdf) if p is not None]


def write_report(
    a: Analysis,
    out_dir: Path,
    *,
    formats: Collection[str] = FORMATS,
    progress: Callable[[str], None] = lambda _step: None,
    paper: Paper | str = DEFAULT_PAPER,
    browser: Path | None = None,
) -> ReportFiles:
    """Write report.html, report.xlsx and report.pdf into ``out_dir`` (the PDF prints the HTML).

    ``paper`` ("letter", the default, or "a4") is the page the PDF is printed on and the HTML's print
    layout; ``browser`` is the Chromium to print with (default: :func:`find_chromium`, called before any
    work so a missing browser stops the run at once).
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown report format(s) {', '.join(sorted(unknown))}; use {', '.join(FORMATS)}")
    geometry(paper)  # an unknown paper stops the run before any work, too
    if "pdf" in formats and browser is None:
        browser = find_chromium()  # fail before any work, not after
    out_dir.mkdir(parents=True, exist_ok=True)
    progress("building views")
    parts = sections(a)
    html = xlsx = pdf = None
    if "html" in formats or "pdf" in formats:
        progress("writing report.html")
        html = write_html(a, out_dir / "report.html", parts=parts, paper=paper)
    if "xlsx" in formats:
        progress("writing report.xlsx")
        xlsx = write_xlsx(a, out_dir / "report.xlsx", parts=parts)
    if "pdf" in formats:
        assert html is not None
        progress("printing report.pdf")
        pdf = write_pdf(html, out_dir / "report.pdf", browser=browser, paper=paper)
    return ReportFiles(html if "html" in formats else None, xlsx, pdf)
