"""Migration 0006: classification and factor content are stored per HTS code, and read back per line.

The readers (``store.classification``, ``store.content``) must give the frames the per-line tables gave:
the oracle is the in-memory computation of the same rows (``classify`` and ``line_content``).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from critmin.errors import WorkspaceError
from critmin.ledger import store
from critmin.ledger.classify import line_content, scope_version
from critmin.ledger.ingest import ingest
from critmin.ledger.samples import sample_path
from critmin.refdata.scope import classify
from critmin.workspace import Workspace, delete_import, discover

DEFENSE = sample_path("defense_prime_ledger.csv")
BATTERY = sample_path("battery_maker_ledger.csv")
MAGNET = sample_path("magnet_maker_ledger.csv")
CODE_TABLES = ("ledger_code_classification", "ledger_code_content")


def in_memory(path: Path, import_id: int) -> pl.DataFrame:
    lines = ingest(path).lines
    return lines.with_columns(pl.lit(import_id).alias("import_id"))


def by_line(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("line_id", "mineral_id", nulls_last=True, maintain_order=True)


def sizes(ws: Workspace) -> dict[str, int]:
    return dict(ws.table_counts().iter_rows())


def record(con: duckdb.DuckDBPyConnection, import_id: int, name: str) -> None:
    """An import record as critmin wrote it before 0006 (ids from the sequence, as an import takes them)."""
    row = con.execute(
        "INSERT INTO ledger_imports (file_sha256, source_file, source_path, format, date_order, mapping, "
        "rows_in, rows_loaded, rows_quarantined, rows_blank, duplicates, lines_replaced, critmin_version) "
        "VALUES (?, ?, ?, 'csv', 'mdy', ?, 0, 0, 0, 0, 0, 0, 'old') RETURNING import_id",
        [f"sha-{import_id}", name, name, json.dumps({})],
    ).fetchone()
    assert row == (import_id,)


def test_an_older_workspace_reads_back_the_same_rows(ws_path: Path) -> None:
    """Before 0006 every line had its own classification and content rows; after it the same frames come
    back, an import made without classification still has none, and new imports work beside them."""
    classified = in_memory(DEFENSE, 1)
    unclassified = in_memory(MAGNET, 2)
    before = [m for m in discover() if m.version < 6]
    with Workspace.open(ws_path, create=True, migrations=before) as ws, ws.transaction() as con:
        record(con, 1, DEFENSE.name)
        record(con, 2, MAGNET.name)
        ws.append_rows("ledger_lines", classified, con=con)
        ws.append_rows("ledger_lines", unclassified, con=con)
        ws.append_rows("ledger_classification", classify(classified.select("line_id", "hts")), con=con)
        ws.append_rows("ledger_line_content", line_content(classified), con=con)
    with Workspace.open(ws_path) as ws:
        assert [m.label for m in ws.applied_now] == ["0006_ledger_per_code"]
        expected_classes = by_line(classify(classified.select("line_id", "hts")))
        expected_content = by_line(line_content(classified))
        assert_frame_equal(store.classification(ws), expected_classes)
        assert_frame_equal(store.content(ws), expected_content)
        assert sizes(ws)["ledger_code_classification"] < expected_classes.height
        # a new import is classified with the current reference data, the old one keeps its rows
        new = store.import_ledger(ws, BATTERY).import_id
        with ws.connect() as con:
            versions = con.execute(
                "SELECT import_id, scope_version FROM ledger_imports ORDER BY import_id"
            ).fetchall()
        assert versions == [(1, "before-0006:1"), (2, None), (new, scope_version())]
        assert store.classification(ws).height > expected_classes.height
        deleted = delete_import(ws, 1)
        assert (deleted.classification, deleted.content) == (expected_classes.height, expected_content.height)
        with ws.connect() as con:
            left = con.execute("SELECT DISTINCT scope_version FROM ledger_code_classification").fetchall()
        assert left == [(scope_version(),)]


def test_the_views_give_what_the_ledger_computes(workspace: Workspace) -> None:
    """Lines with ledger, BOM, factor and no content, and an import without classification."""
    store.import_ledger(workspace, DEFENSE)
    unclassified = store.import_ledger(workspace, MAGNET, classify=False).import_id
    store.import_ledger(workspace, BATTERY)
    store.import_bom(workspace, sample_path("battery_maker_bom.csv"))
    lines = store.lines(workspace)
    with workspace.connect() as con:
        ids = con.execute("SELECT line_id FROM ledger_lines WHERE import_id <> ?", [unclassified]).pl()
    classified = lines.join(ids, on="line_id")
    bom = store.bom_item_content(workspace)
    expected = by_line(line_content(classified, bom))
    assert_frame_equal(store.content(workspace), expected)
    assert set(expected.get_column("content_source")) == {"bom", "factor", "none"}
    assert_frame_equal(
        store.classification(workspace), by_line(classify(classified.select("line_id", "hts")))
    )
    # per line, only what the BOM states is stored
    with workspace.connect() as con:
        stored = con.execute("SELECT DISTINCT content_source FROM ledger_stated_content").fetchall()
    assert stored == [("bom",)]


def test_content_stated_on_the_line_is_kept_per_line(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "stated.csv"
    path.write_text(
        "Line ID,Entry Date,HTS Number,COO,Quantity,UOM,Entered Value,Content Mineral,Content KG\n"
        "A1,2026-03-14,8505.11.00.70,CN,100,kg,5000,neodymium,30\n"
        "A2,2026-03-14,8505.11.00.70,CN,100,kg,5000,,\n"
        "A3,2026-03-14,8505.11.00.70,CN,10,pcs,5000,,\n",
        encoding="utf-8",
    )
    store.import_ledger(workspace, path)
    content = store.content(workspace)
    sources = dict(content.group_by("line_id").agg(pl.col("content_source").first()).iter_rows())
    assert sources == {"A1": "ledger", "A2": "factor", "A3": "none"}
    assert content.filter(pl.col("line_id") == "A3").height == 1  # one row saying why, not one per mineral
    assert_frame_equal(content, by_line(line_content(store.lines(workspace))))
    assert sizes(workspace)["ledger_stated_content"] == 1


def test_delete_takes_the_codes_no_line_uses(workspace: Workspace) -> None:
    first = store.import_ledger(workspace, DEFENSE).import_id
    second = store.import_ledger(workspace, BATTERY).import_id
    delete_import(workspace, first)
    with workspace.connect() as con:
        codes = con.execute("SELECT DISTINCT hts FROM ledger_code_content ORDER BY 1").fetchall()
        used = con.execute("SELECT DISTINCT hts FROM ledger_lines ORDER BY 1").fetchall()
    assert codes == used
    delete_import(workspace, second)
    assert all(sizes(workspace)[t] == 0 for t in (*CODE_TABLES, "ledger_stated_content"))


def test_a_failed_write_fails_the_import_and_writes_nothing(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sizes(workspace)
    real = Workspace.append_rows

    def failing(self: Workspace, table: str, frame: object, **kwargs: object) -> int:
        if table == "ledger_lines":
            raise WorkspaceError("disk full")
        return real(self, table, frame, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Workspace, "append_rows", failing)
    with pytest.raises(WorkspaceError, match="disk full"):
        store.import_ledger(workspace, DEFENSE, chunk_rows=50)
    assert sizes(workspace) == before
