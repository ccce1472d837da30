"""The PDF: the HTML report printed by headless Chromium, so the PDF shows exactly what the HTML shows.

Chromium is found on ``$CRITMIN_CHROMIUM``, else on the PATH (``chromium``, ``chromium-browser``,
``google-chrome``). It runs with networking and background services off and a throw-away profile, and is
given virtual time to draw every chart before printing.

The paper, margins, running header (ledger, law as of) and page numbers come from the HTML's own ``@page``
rules (Chromium 131 or later prints page-margin boxes), so ``--print-to-pdf`` needs no DevTools session.
The window is as wide as the page's printable width, so the charts, drawn once at load, are drawn at the
width they print at; with tables split to fit (see :mod:`critmin.report.html`) nothing is wider than the
page and Chromium never shrinks it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from critmin.errors import CapabilityMissingError, CritminError
from critmin.report.paper import DEFAULT_PAPER, Paper, geometry

ENV_VAR = "CRITMIN_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DEFAULT_TIMEOUT = 180.0
CHART_TIME_BUDGET_MS = 30_000
INSTALL_HINT = (
    "Install it with `apt-get install -y chromium` (Debian/Ubuntu) or point CRITMIN_CHROMIUM at a Chrome or "
    "Chromium binary; or write the report without a PDF (`--no-pdf`)."
)


class ChromiumNotFoundError(CapabilityMissingError):
    """No Chromium or Chrome binary to print the PDF with.

    ``reason`` says what went wrong in a few words ("no Chromium on the PATH"), for callers that go
    on without the PDF and say so in one line (``critmin demo``) rather than stop with the full message.
    """

    def __init__(self, message: str, *, reason: str = "no Chromium found") -> None:
        super().__init__(message)
        self.reason = reason


class PdfError(CritminError):
    """Chromium ran but did not produce a PDF."""


def find_chromium() -> Path:
    """The browser binary used for printing, or ChromiumNotFoundError saying how to get one."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise ChromiumNotFoundError(
            f"{ENV_VAR}={configured} is not an executable file. {INSTALL_HINT}",
            reason=f"{ENV_VAR}={configured} is not an executable file",
        )
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ChromiumNotFoundError(
        f"No Chromium found to print the PDF (looked for {', '.join(CANDIDATES)}). {INSTALL_HINT}",
        reason="no Chromium on the PATH",
    )


def pdf_skipped_note(exc: ChromiumNotFoundError, rerun: str) -> str:
    """One line for a run that goes on without the PDF: why, how to get Chromium, and what to run then."""
    return (
        f"PDF skipped: {exc.reason}; install chromium (Debian: apt-get install chromium) or set "
        f"{ENV_VAR}=/path/to/chromium, then run: {rerun}"
    )


SCREEN_PADDING_PX = 2 * 32
"""The report's side padding on screen (report.css, ``main``), dropped in print."""


def chromium_command(
    browser: Path, html: Path, pdf: Path, profile: Path, *, paper: Paper | str = DEFAULT_PAPER
) -> list[str]:
    """The headless print command; the window leaves the charts exactly the printable width of ``paper``."""
    width = geometry(paper).content_width_px + SCREEN_PADDING_PX
    return [
        str(browser),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--no-first-run",
        "--no-default-browser-check",
        "--mute-audio",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},1400",
        "--run-all-compositor-stages-before-draw",
        f"--virtual-time-budget={CHART_TIME_BUDGET_MS}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.resolve().as_uri(),
    ]


def write_pdf(
    html: Path,
    pdf: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    browser: Path | None = None,
    paper: Paper | str = DEFAULT_PAPER,
) -> Path:
    """Print ``html`` to ``pdf`` with headless Chromium; raises with Chromium's own message on failure.

    ``paper`` must be the one the HTML was written for (:func:`critmin.report.write_html`): the HTML sets
    the page size, and the charts are drawn for that page's width.
    """
    binary = browser or find_chromium()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    target = pdf.resolve()
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="critmin-chromium-") as profile:
        command = chromium_command(binary, html, target, Path(profile), paper=paper)
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"Chromium did not finish printing {html} within {timeout:.0f} s.") from exc
    if not target.exists() or target.stat().st_size == 0 or target.read_bytes()[:5] != b"%PDF-":
        tail = "\n".join((done.stderr or "").strip().splitlines()[-8:])
        raise PdfError(f"Chromium (exit {done.returncode}) wrote no PDF for {html}.\n{tail}")
    return pdf
