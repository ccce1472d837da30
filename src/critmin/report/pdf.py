"""The PDF: the HTML report printed by headless Chromium, so the PDF shows exactly what the HTML shows.

Chromium is found on ``$CRITMIN_CHROMIUM``, else on the PATH (``chromium``, ``chromium-browser``,
``google-chrome``). It runs with networking and background services off and a throw-away profile, and is
given virtual time to draw every chart before printing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from critmin.errors import CritminError

ENV_VAR = "CRITMIN_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DEFAULT_TIMEOUT = 180.0
CHART_TIME_BUDGET_MS = 30_000
INSTALL_HINT = (
    "Install it with `apt-get install -y chromium` (Debian/Ubuntu) or point CRITMIN_CHROMIUM at a Chrome or "
    "Chromium binary; or write the report without a PDF (`--no-pdf`)."
)


class ChromiumNotFoundError(CritminError):
    """No Chromium or Chrome binary to print the PDF with."""


class PdfError(CritminError):
    """Chromium ran but did not produce a PDF."""


def find_chromium() -> Path:
    """The browser binary used for printing, or ChromiumNotFoundError saying how to get one."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise ChromiumNotFoundError(f"{ENV_VAR}={configured} is not an executable file. {INSTALL_HINT}")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ChromiumNotFoundError(
        f"No Chromium found to print the PDF (looked for {', '.join(CANDIDATES)}). {INSTALL_HINT}"
    )


def chromium_command(browser: Path, html: Path, pdf: Path, profile: Path) -> list[str]:
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
        "--window-size=1100,1400",
        "--run-all-compositor-stages-before-draw",
        f"--virtual-time-budget={CHART_TIME_BUDGET_MS}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.resolve().as_uri(),
    ]


def write_pdf(
    html: Path, pdf: Path, *, timeout: float = DEFAULT_TIMEOUT, browser: Path | None = None
) -> Path:
    """Print ``html`` to ``pdf`` with headless Chromium; raises with Chromium's own message on failure."""
    binary = browser or find_chromium()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    target = pdf.resolve()
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="critmin-chromium-") as profile:
        command = chromium_command(binary, html, target, Path(profile))
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
