"""`critmin demo` end to end in a temporary directory, checked the way a user would check its output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from critmin.duty.engine import evaluate
from critmin.ledger.ingest import ingest
from critmin.policy import load_scenario
from critmin.views.formatting import usd

AS_OF = "2026-12-05"  # the day the law in the library was last reviewed
LEDGER = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "critmin"
    / "samples"
    / "ledger"
    / "defense_prime_ledger.csv"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the demo once, as `make demo` does, through the installed command line."""
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    proc = subprocess.run(
        [sys.executable, "-m", "critmin", "demo", "--out", str(out), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"out": out, "stdout": proc.stdout, "summary": summary}


def test_demo_writes_every_output(demo: dict[str, Any]) -> None:
    out: Path = demo["out"]
    for name in ("report.html", "report.xlsx", "report.pdf", "summary.json", "critmin.duckdb"):
        assert (out / name).is_file(), name
    assert str(out.resolve()) in demo["stdout"].replace("\n", "")
    assert "annual duty" in demo["stdout"]


def test_annual_duty_is_the_duty_engines_total(demo: dict[str, Any]) -> None:
    # The same ledger and scenario through the engine directly: the report must show the same dollars.
    lines = ingest(LEDGER).lines
    numbers = demo["summary"]["numbers"]
    html = (demo["out"] / "report.html").read_text(encoding="utf-8")
    today = evaluate(lines, load_scenario("status_quo"), as_of=date.fromisoformat(AS_OF)).totals()["duty"]
    assert numbers["today"]["duty"] == pytest.approx(today, rel=1e-12)
    # the sample spans Jan 2025 .. Dec 2026 = 24 months, so a year is half the ledger's duty
    assert numbers["ledger"]["months"] == 24
    assert numbers["today"]["annual_duty"] == pytest.approx(today / 2, rel=1e-12)
    assert usd(today / 2) in html and usd(today) in html
    for scenario in numbers["scenarios"]:
        engine = evaluate(
            lines, load_scenario(scenario["scenario"]), as_of=date.fromisoformat(scenario["eval_date"])
        )
        assert scenario["duty"] == pytest.approx(engine.totals()["duty"], rel=1e-12)
        assert usd(scenario["annual_duty"]) in html
    assert numbers["simulation"] is not None
    assert usd(numbers["simulation"]["mean"]) in html and usd(numbers["simulation"]["p95"]) in html


def test_demo_shows_todays_law_and_the_scenarios_after_the_window(demo: dict[str, Any]) -> None:
    numbers = demo["summary"]["numbers"]
    assert numbers["as_of"] == AS_OF
    assert numbers["simulation"]["tree"] == "pcmdp_after_window"
    assert numbers["simulation"]["start"] == "2027-01-01"
    scenarios = {s["scenario"]: s for s in numbers["scenarios"]}
    assert "polysilicon_template_pcmdp" in scenarios and "status_quo" not in scenarios
    for scenario in scenarios.values():
        # every scenario starts on 2027-01-01 (its start_date), later than the report date: evaluated then
        assert scenario["eval_date"] == "2027-01-01", scenario["scenario"]
        assert scenario["lines_reached"] > 0, scenario["scenario"]
    html = " ".join((demo["out"] / "report.html").read_text(encoding="utf-8").split())
    assert "Scenario polysilicon_template_pcmdp reaches" in html
    assert "pcmdp_after_window" in html and "pcmdp_window_2026" not in html
    stdout = " ".join(demo["stdout"].split())
    assert "scenario tree: pcmdp_after_window" in stdout and "lines_reached" in stdout


def test_import_counts_add_up(demo: dict[str, Any]) -> None:
    imported = demo["summary"]["import"]
    assert imported["rows_in"] == imported["rows_loaded"] + imported["rows_quarantined"]
    assert (imported["rows_in"], imported["rows_loaded"], imported["rows_quarantined"]) == (201, 192, 9)


def test_runs_are_recorded_in_the_workspace(demo: dict[str, Any]) -> None:
    from critmin.duty.runs import runs
    from critmin.workspace import Workspace

    numbers = demo["summary"]["numbers"]
    with Workspace.open(demo["out"] / "critmin.duckdb") as ws:
        recorded = runs(ws)
    by_scenario = {r["scenario"]: r["duty"] for r in recorded.iter_rows(named=True)}
    assert by_scenario["status_quo"] == pytest.approx(numbers["today"]["duty"])
    for scenario in numbers["scenarios"]:
        assert by_scenario[scenario["scenario"]] == pytest.approx(scenario["duty"])
    assert set(demo["summary"]["workspace_runs"]) == set(by_scenario)


def test_every_cited_measure_is_in_the_sources_appendix(demo: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(demo["out"] / "report.xlsx", read_only=True)
    rows = list(book["measure_sources"].iter_rows(min_row=3, values_only=True))
    header, body = rows[0], rows[1:]
    appendix = {row[header.index("measure_id")] for row in body}
    urls = [row[header.index("url")] for row in body]
    assert all(str(u).startswith(("http://", "https://")) for u in urls)
    measures = list(book["exposure_measure"].iter_rows(min_row=4, values_only=True))
    charged = {row[0] for row in measures}
    assert charged and charged <= appendix
    for sheet in (
        "scenario_comparison",
        "exposure_mineral",
        "simulation_summary",
        "dfars_flags",
        "deadlines",
        "sourcing_mix",
        "investment",
        "dataset_sources",
    ):
        assert sheet in book.sheetnames
    datasets = list(book["dataset_sources"].iter_rows(min_row=4, values_only=True))
    assert all(row[3] for row in datasets if row[0] == "reference data")  # every dataset has its vintage


def test_html_is_self_contained(demo: dict[str, Any]) -> None:
    html = (demo["out"] / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//", html, re.IGNORECASE)


def test_pdf_is_a_pdf(demo: dict[str, Any]) -> None:
    assert (demo["out"] / "report.pdf").read_bytes().startswith(b"%PDF-")
