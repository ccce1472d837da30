"""`critmin reconcile` as a user meets it: the formats, the CAPE files, and errors that name the fix."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from critmin.cli.app import app

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[2] / "src" / "critmin" / "samples" / "ace"
AEGIS = str(SAMPLES / "aegis_defense_es003.csv")


def test_help_names_the_options() -> None:
    result = runner.invoke(app, ["reconcile", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--format", "--out", "--today", "--cape", "--cape-entries", "--view", "--sheet"):
        assert option in result.stdout


def test_table_output(tmp_path: Path) -> None:
    result = runner.invoke(app, ["reconcile", AEGIS, "--today", "2026-12-05"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "country_group" in result.stdout and "programme_claimed" in result.stdout
    assert "$12,554.38" in result.stdout
    assert "2026-12-23" in result.stdout  # the protest deadline of the capacitors
    assert "duplicate_row" in result.stderr


def test_json_output() -> None:
    result = runner.invoke(app, ["reconcile", AEGIS, "--today", "2026-12-05", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (
        payload["input"]["rows_in"] == payload["input"]["rows_loaded"] + payload["input"]["rows_quarantined"]
    )
    assert payload["totals"]["duty"]["variance"] == 12083.98
    assert payload["totals"]["refund_by_status"]["protest_window"] == 9000.0
    assert {s["cause"] for s in payload["slots"]} >= {"match", "country_group", "programme_claimed"}
    assert payload["provenance"]["today"] == "2026-12-05"
    assert "ES-003" in payload["provenance"]["layout"]["document"]


def test_csv_views_and_cape_files(tmp_path: Path) -> None:
    cape, entries = tmp_path / "cape.csv", tmp_path / "entries.csv"
    result = runner.invoke(
        app,
        ["reconcile", AEGIS, "--today", "2026-12-05", "--format", "csv", "--cape", str(cape),
         "--cape-entries", str(entries)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["cause"] for r in rows} == {"country_group", "programme_claimed"}
    lines = list(csv.DictReader(cape.open(encoding="utf-8")))
    assert [r["chapter99_heading"] for r in lines] == ["9903.01.24", "9903.01.25"]
    assert {r["protest_deadline"] for r in lines} == {"2026-12-23"}
    assert entries.read_text(encoding="utf-8") == "entry_number\nAX710000497\n"
    fees = runner.invoke(
        app, ["reconcile", AEGIS, "--today", "2026-12-05", "--format", "csv", "--view", "fees"]
    )
    assert "fee_fiscal_year" in fees.stdout


def test_xlsx_workbook(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    result = runner.invoke(
        app,
        [
            "reconcile",
            str(SAMPLES / "voltaris_cells_es003.xlsx"),
            "--today",
            "2026-12-05",
            "-f",
            "xlsx",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    sheets = load_workbook(out, read_only=True).sheetnames
    assert sheets[:4] == ["Summary", "By cause", "By measure", "Variances"]
    assert "CAPE" in sheets and "Quarantine" in sheets


def test_errors_name_the_fix(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["reconcile", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    bad_day = runner.invoke(app, ["reconcile", AEGIS, "--today", "5 Dec"])
    assert bad_day.exit_code == 2 and "YYYY-MM-DD" in bad_day.output
    no_out = runner.invoke(app, ["reconcile", AEGIS, "--format", "xlsx"])
    assert no_out.exit_code == 2 and "--out" in no_out.output
    empty = tmp_path / "empty.csv"
    empty.write_text("Entry Summary Number,HTS Number - Full\nX,8505110070\n", encoding="utf-8")
    nothing = runner.invoke(app, ["reconcile", str(empty)])
    assert nothing.exit_code == 2 and "no entry line could be loaded" in nothing.stderr
