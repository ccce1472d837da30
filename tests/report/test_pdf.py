"""The PDF is the HTML printed by headless Chromium; without Chromium the error says how to get it."""

from __future__ import annotations

from pathlib import Path

import pytest

from critmin.report import ChromiumNotFoundError, ReportFiles, find_chromium
from critmin.report.pdf import ENV_VAR, write_pdf


def test_pdf_is_printed(report_files: ReportFiles) -> None:
    assert report_files.pdf is not None
    data = Path(report_files.pdf).read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 5  # a multi-page report


def test_missing_chromium_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-such-browser"))
    with pytest.raises(ChromiumNotFoundError, match="apt-get install -y chromium"):
        find_chromium()
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on the PATH
    with pytest.raises(ChromiumNotFoundError, match="--no-pdf"):
        write_pdf(tmp_path / "report.html", tmp_path / "report.pdf")
