"""`critmin ledger ...` and `critmin sample ledger`, end to end through Typer."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from critmin.cli import output
from critmin.cli.ledger import register
from critmin.ledger.samples import LEDGER_SAMPLES_DIR

runner = CliRunner()
DEFENSE = LEDGER_SAMPLES_DIR / "defense_prime_ledger.csv"


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output.console, "width", 400)
    monkeypatch.setattr(output.err_console, "width", 400)


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(_app(), [str(a) for a in args])
    return result.exit_code, result.output


def test_validate_json_contract() -> None:
    code, out = invoke("ledger", "validate", DEFENSE, "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert (payload["rows_in"], payload["rows_loaded"], payload["rows_quarantined"]) == (201, 192, 9)
    assert payload["rows_in"] == payload["rows_loaded"] + payload["rows_quarantined"]
    first = payload["issues"][0]
    assert set(first) >= {"row", "column", "code", "message"}
    assert {i["code"] for i in payload["issues"]} >= {"hts_unknown", "duplicate_line", "hts_repaired"}


def test_validate_unreadable_file_exits_2(tmp_path: Path) -> None:
    code, out = invoke("ledger", "validate", tmp_path / "missing.csv", "--format", "json")
    assert code == 2
    assert "no such file" in out
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert invoke("ledger", "validate", empty)[0] == 2


def test_import_quarantine_fix_cycle(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    code, out = invoke("ledger", "import", DEFENSE, "--workspace", ws)
    assert code == 0, out
    assert "201 rows read, 192 loaded, 9 quarantined" in out
    code, out = invoke("ledger", "import", DEFENSE, "--workspace", ws)
    assert code == 0 and "already in the workspace" in out
    code, out = invoke("ledger", "import", DEFENSE, "--workspace", ws, "--format", "json")
    assert json.loads(out)["status"] == "unchanged"
    fix = tmp_path / "fix.csv"
    code, out = invoke("ledger", "quarantine", "--workspace", ws, "--out", fix)
    assert code == 0 and "Wrote 9 quarantined rows" in out
    assert pl.read_csv(fix, infer_schema=False).height == 9
    code, out = invoke("ledger", "show", "--workspace", ws, "--format", "json", "--limit", "5")
    assert code == 0 and len(json.loads(out)) == 5


def test_mapping_and_classify_and_bom(tmp_path: Path) -> None:
    code, out = invoke(
        "ledger", "mapping", LEDGER_SAMPLES_DIR / "magnet_maker_ledger.csv", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["mapping"]["fields"]["hts"] == "Tariff Code"
    code, out = invoke(
        "ledger",
        "classify",
        DEFENSE,
        "--bom",
        LEDGER_SAMPLES_DIR / "defense_prime_bom.csv",
        "--format",
        "csv",
    )
    assert code == 0
    table = pl.read_csv(out.encode(), infer_schema=False)
    assert {"line_id", "mineral_id", "stage", "confidence", "content_kg_central", "content_source"} <= set(
        table.columns
    )
    assert {"bom", "factor", "none"} <= set(table.get_column("content_source"))
    code, out = invoke("ledger", "bom", LEDGER_SAMPLES_DIR / "defense_prime_bom.csv", "--format", "json")
    assert code == 0
    totals = {row["mineral_id"]: row["kg_central"] for row in json.loads(out)}
    assert totals["tungsten"] == pytest.approx(2.976)


def test_sample_ledger_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (a, b):
        code, text = invoke(
            "sample", "ledger", "--company", "battery-maker", "--rows", "500", "--seed", "3", "--out", out
        )
        assert code == 0, text
    assert a.read_bytes() == b.read_bytes()
    assert pl.read_csv(a).height == 500
    code, text = invoke("sample", "ledger", "--company", "nobody", "--out", tmp_path / "x.csv")
    assert code == 2 and "Unknown sample company" in text


def test_import_prints_which_column_was_used_for_a_duplicate_header(tmp_path: Path) -> None:
    source = pl.read_csv(DEFENSE, infer_schema=False).head(5)
    value = next(c for c in source.columns if "value" in c.lower())
    text = source.write_csv()
    header, *rows = text.splitlines()
    # a second column headed like the value column, at the end: the first one is used, and the output says so
    path = tmp_path / "twice.csv"
    path.write_text("\n".join([f"{header},{value}", *(f"{r},999" for r in rows)]) + "\n", encoding="utf-8")
    code, out = invoke("ledger", "import", path, "--workspace", tmp_path / "ws.duckdb")
    assert code == 0, out
    assert f"Note (header_duplicate): 2 columns are headed '{value}'" in out
    assert f"'{value} (2)' not used." in out
