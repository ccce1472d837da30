"""`critmin report`: writes the files and prints the headline numbers; bad input gets a clear message."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.duty.engine import evaluate
from critmin.ledger.ingest import ingest
from critmin.paths import SAMPLES_DIR
from critmin.policy import load_scenario

LEDGER = SAMPLES_DIR / "ledger" / "defense_prime_ledger.csv"


def test_report_command_writes_html_and_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(LEDGER),
            "--scenario",
            "s232_tariff_non_partners",
            "--tree",
            "none",
            "--as-of",
            "2026-11-28",
            "--out",
            str(out),
            "--no-pdf",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists() and (out / "report.xlsx").exists()
    assert not (out / "report.pdf").exists()
    # the printed annual duty is the engine's, for the same lines, scenario and date (24-month ledger: x 0.5)
    lines = ingest(LEDGER).lines
    annual = (
        evaluate(lines, load_scenario("s232_tariff_non_partners"), as_of=date(2026, 11, 28)).totals()["duty"]
        / 2
    )
    assert f"{annual:,.0f}" in result.output
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert "simulation_summary" not in book.sheetnames  # --tree none: no simulation
    assert "scenario_comparison" in book.sheetnames


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "28/11/2026"], "YYYY-MM-DD"),
        (["--scenario", "no_such_scenario"], "shipped scenarios"),
        (["--tree", "no_such_tree"], "shipped trees"),
    ],
)
def test_report_command_explains_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["report", str(LEDGER), "--out", str(tmp_path), "--no-pdf", *args])
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())


def test_missing_chromium_stops_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMIN_CHROMIUM", str(tmp_path / "no-browser"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", str(LEDGER), "--out", str(out), "--tree", "none"])
    assert result.exit_code == 3  # a missing program, not bad input
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "apt-get install -y chromium" in said and "--no-pdf" in said
    assert not out.exists()  # nothing half-written
