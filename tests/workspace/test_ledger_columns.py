"""Migration 0005: a workspace made before it gains the liquidation date and the U.S. metal content share
of each ledger line; its lines keep NULL there, and new imports fill them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from critmin.ledger import store
from critmin.ledger.schema import LEDGER_SCHEMA
from critmin.workspace import Workspace, discover
from critmin.workspace.rows import table_columns

NEW = ("liquidation_date", "us_metal_content_share")

LEDGER = """\
Line ID,Entry Date,HTS Number,COO,Quantity,UOM,Entered Value,Content Mineral,Content Value,Liq Date,US Content
S1,2026-03-14,7208.10.15.00,KR,1000,kg,5000,steel,400,2027-01-22,90%
P1,2026-03-14,8541.42.00.10,MY,2.5,kW,1000,,,,
"""


def test_an_older_workspace_gains_the_columns(ws_path: Path) -> None:
    before = [m for m in discover() if m.version < 5]
    with Workspace.open(ws_path, create=True, migrations=before) as ws, ws.transaction() as con:
        con.execute(
            "INSERT INTO ledger_lines (line_id, import_id, source_file, source_row, entry_date, hts, "
            "country_origin, customs_value_usd) VALUES ('old', 1, 'old.csv', 2, DATE '2025-06-02', "
            "'8505110070', 'CHN', 100.0)"
        )
    with Workspace.open(ws_path, migrations=[m for m in discover() if m.version <= 5]) as ws:
        assert [m.label for m in ws.applied_now] == ["0005_ledger_refunds_232"]
        with ws.connect() as con:
            columns = table_columns(con, "ledger_lines")
            row = con.execute(
                "SELECT liquidation_date, us_metal_content_share FROM ledger_lines WHERE line_id = 'old'"
            ).fetchone()
        assert set(LEDGER_SCHEMA) <= set(columns)
        assert row == (None, None)
        assert store.lines(ws).select(NEW).row(0) == (None, None)


def test_imported_lines_keep_the_new_columns(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "entries.csv"
    path.write_text(LEDGER, encoding="utf-8")
    stored = store.import_ledger(workspace, path)
    assert stored.result is not None and stored.result.rows_quarantined == 0
    lines = {r["line_id"]: r for r in store.lines(workspace).iter_rows(named=True)}
    assert lines["S1"]["liquidation_date"] == date(2027, 1, 22)
    assert lines["S1"]["us_metal_content_share"] == 0.9
    assert lines["S1"]["content_mineral"] == "steel"
    assert (lines["P1"]["quantity"], lines["P1"]["unit"], lines["P1"]["quantity_kg"]) == (2500.0, "W", None)
    assert (lines["P1"]["liquidation_date"], lines["P1"]["us_metal_content_share"]) == (None, None)
    assert store.lines(workspace).schema == LEDGER_SCHEMA
