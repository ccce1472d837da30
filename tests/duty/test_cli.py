"""`critmin exposure`, `critmin exposure compare` and `critmin explain` on a small ledger file."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.workspace import Workspace

runner = CliRunner()

LEDGER = """\
line_id,entry_date,hts,country_origin,customs_value_usd,quantity,unit,supplier,content_mineral,content_value_usd,preference_program
L1,2026-03-10,8505.11.00.70,CN,100000,2000,kg,Ningbo Magnets,,,
L2,2026-09-01,2846.90.20.40,AU,60000,1000,kg,Lynas,,,
L3,2026-09-01,2846.90.20.40,CN,70000,1000,kg,Shenghe,,,
L4,2025-09-01,7408.11.60.00,CL,80000,9000,kg,Codelco,copper,70000,CL
"""


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "entries.csv"
    path.write_text(LEDGER, encoding="utf-8")
    return path


def test_exposure_json_shape(ledger_file: Path) -> None:
    result = runner.invoke(
        app, ["exposure", str(ledger_file), "--scenario", "status_quo", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"scenario", "as_of", "totals", "lines"} <= doc.keys()
    assert doc["scenario"] == "status_quo" and doc["as_of"] is None
    totals = doc["totals"]
    assert {"customs_value", "duty", "by_measure", "by_mineral", "by_origin"} <= totals.keys()
    assert totals["customs_value"] == 310_000.0
    # L1: 2,100 MFN + 25,000 Section 301; L4: 35,000 Section 232 copper (Chile FTA replaces MFN); L2, L3: Free
    assert totals["duty"] == pytest.approx(62_100.0)
    assert totals["by_origin"]["CHN"] == pytest.approx(27_100.0)
    line = next(x for x in doc["lines"] if x["line_id"] == "L1")
    assert {"line_id", "duty", "components"} <= line.keys()
    comp = line["components"][0]
    assert {"measure_id", "basis", "base_amount", "rate", "amount", "citation"} <= comp.keys()
    assert comp["measure_id"] == "mfn_general" and comp["amount"] == pytest.approx(2_100.0)
    assert "https://" in comp["citation"]


def test_exposure_scenario_with_set_and_as_of(ledger_file: Path) -> None:
    result = runner.invoke(
        app,
        [
            "exposure",
            str(ledger_file),
            "-s",
            "s232_tariff_non_partners",
            "--set",
            "rate=0.5",
            "--set",
            "start_date=2026-07-14",
            "--as-of",
            "2026-09-01",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2026-09-01"
    assert doc["totals"]["by_measure"]["pcmdp_s232_processed_non_partners"] == pytest.approx(
        35_000.0
    )  # 50% x 70k
    assert doc["provenance"]["parameters"]["rate"]["overridden"] is True


def test_bad_set_fails_with_file_field_and_fix(ledger_file: Path) -> None:
    result = runner.invoke(app, ["exposure", str(ledger_file), "-s", "trq", "--set", "quota_kg=lots"])
    assert result.exit_code == 2  # bad user input
    err = result.stderr.replace("\n", " ")
    assert "trq.yaml" in err and "quota.volume" in err and "Fix:" in err


def test_exposure_table_csv_and_xlsx(ledger_file: Path, tmp_path: Path) -> None:
    table = runner.invoke(app, ["exposure", str(ledger_file)])
    assert table.exit_code == 0 and "Duty by measure" in table.stdout
    csv = runner.invoke(app, ["exposure", str(ledger_file), "--format", "csv"])
    assert csv.stdout.splitlines()[0].startswith("line_id,entry_date,eval_date")
    out = tmp_path / "exposure.xlsx"
    xlsx = runner.invoke(app, ["exposure", str(ledger_file), "--format", "xlsx", "--out", str(out)])
    assert xlsx.exit_code == 0, xlsx.output
    book = openpyxl.load_workbook(out)
    assert {"Totals", "Lines", "Components", "Measures"} <= set(book.sheetnames)


def test_compare_by_line_mineral_origin_supplier(ledger_file: Path) -> None:
    result = runner.invoke(
        app,
        [
            "exposure",
            "compare",
            str(ledger_file),
            "-s",
            "status_quo",
            "-s",
            "price_floor_partners_tariff_others",
            "--set",
            "start_date=2026-07-14",
            "--as-of",
            "2026-09-01",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["scenarios"] == ["status_quo", "price_floor_partners_tariff_others"]
    by_origin = {r["country_origin"]: r["difference"] for r in doc["by_origin"]}
    assert by_origin["AUS"] == pytest.approx(50_000.0)  # levy (110 - 60) x 1,000 kg
    by_supplier = {r["supplier"]: r["difference"] for r in doc["by_supplier"]}
    assert by_supplier["Shenghe"] == pytest.approx(17_500.0)  # 25% x 70,000
    assert {"by_line", "by_mineral"} <= doc.keys()


def test_explain_lists_steps_in_order_with_sources(ledger_file: Path) -> None:
    result = runner.invoke(app, ["explain", str(ledger_file), "--line", "L1"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("1. mfn_general") < text.index("s301_2026_graphite_magnets_batteries")
    assert "2.1% x $100,000.00 customs value = $2,100.00" in text
    assert "Duty owed: $27,100.00" in text
    assert "source:" in text
    assert "s122_surcharge: the HTS code is excluded from its products (s122_exempt_products)" in text
    unknown = runner.invoke(app, ["explain", str(ledger_file), "--line", "nope"])
    assert unknown.exit_code == 2 and "No line 'nope'" in unknown.stderr


def test_runs_are_recorded_in_the_workspace(ledger_file: Path, tmp_path: Path) -> None:
    ws_path = tmp_path / "ws.duckdb"
    Workspace.open(ws_path, create=True).close()
    result = runner.invoke(
        app, ["exposure", str(ledger_file), "--workspace", str(ws_path), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    with Workspace.open(ws_path, read_only=True) as ws, ws.connect() as con:
        row = con.execute(
            "SELECT scenario, lines, duty, measures::VARCHAR, datasets::VARCHAR FROM runs"
        ).fetchone()
    assert row is not None
    scenario, lines, duty, measures, datasets = row
    assert scenario == "status_quo" and lines == 4 and duty == pytest.approx(62_100.0)
    assert "https://" in measures and "hts_schedule" in datasets
