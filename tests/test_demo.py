"""`critmin demo` end to end in a temporary directory, checked the way a user would check its output."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmin.cli.app import app
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


def run_demo_command(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`critmin demo --out demo-output ...` run from ``cwd``, as `make demo` runs it from the checkout."""
    return subprocess.run(
        [sys.executable, "-m", "critmin", "demo", "--out", "demo-output", "--as-of", AS_OF, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**(os.environ if env is None else env), "COLUMNS": "160"},
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the demo once, as `make demo` does, through the installed command line."""
    cwd = tmp_path_factory.mktemp("demo")
    proc = run_demo_command(cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = cwd / "demo-output"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"cwd": cwd, "out": out, "stdout": proc.stdout, "summary": summary}


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


def test_pdf_is_printed_on_us_letter(demo: dict[str, Any]) -> None:
    data = (demo["out"] / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = set(re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data))
    assert boxes == {(b"612", b"792")}  # 8.5 x 11 in


def test_printed_serve_command_opens_the_demo_workspace(
    demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`critmin serve` alone would open an empty ./critmin.duckdb; the command the demo prints, run where
    the demo ran, serves the demo's ledger."""
    line = next(x for x in demo["stdout"].splitlines() if "critmin serve" in x)
    command = shlex.split(line[line.index("critmin serve") :])
    assert command == ["critmin", "serve", "--workspace", "demo-output/critmin.duckdb"]
    served: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda asgi, **_options: served.update(app=asgi))
    monkeypatch.chdir(demo["cwd"])
    monkeypatch.delenv("CRITMIN_TOKEN", raising=False)
    monkeypatch.delenv("CRITMIN_WORKSPACE", raising=False)
    result = CliRunner().invoke(app, command[1:])
    assert result.exit_code == 0, result.output
    with TestClient(served["app"], base_url="http://127.0.0.1:8000") as client:
        ledgers = client.get("/api/v1/ledgers").json()
    assert [(x["source_file"], x["rows_loaded"]) for x in ledgers] == [(LEDGER.name, 192)]


def test_demo_without_chromium_writes_everything_else(tmp_path: Path) -> None:
    """A machine with Python and make but no Chromium: the demo succeeds without the PDF and says, in one
    line, how to get it."""
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CRITMIN_CHROMIUM"}
    proc = run_demo_command(tmp_path, "--draws", "100", env={**env, "PATH": str(empty_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / "demo-output"
    for name in ("report.html", "report.xlsx", "summary.json", "critmin.duckdb"):
        assert (out / name).is_file(), name
    assert not (out / "report.pdf").exists()
    notes = [x for x in proc.stdout.splitlines() if "PDF skipped" in x]
    assert notes == [
        "PDF skipped: no Chromium on the PATH; install chromium (Debian: apt-get install chromium) or set "
        f"CRITMIN_CHROMIUM=/path/to/chromium, then run: critmin demo --out demo-output --as-of {AS_OF} "
        "--draws 100"
    ]
    assert "report.pdf" not in proc.stdout
