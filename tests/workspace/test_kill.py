"""Crash safety: a writer killed with SIGKILL mid-transaction leaves the previous state intact.

The child is a real process writing a real DuckDB file; nothing is simulated. DuckDB replays only committed
transactions from its write-ahead log, so after the kill the workspace must hold exactly what was
committed before, and accept new writes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from critmin.workspace import Workspace, discover

from .conftest import Child, write_migrations

ITEMS = "CREATE TABLE items (import_id VARCHAR NOT NULL, k BIGINT NOT NULL, value DOUBLE NOT NULL)"


def item_totals(ws: Workspace) -> list[tuple[str, int, int, float]]:
    with ws.connect() as con:
        return con.execute(
            "SELECT import_id, count(*), sum(k), sum(value) FROM items GROUP BY import_id ORDER BY import_id"
        ).fetchall()


def test_killed_import_leaves_previous_rows_intact(ws_path: Path, spawn: Callable[..., Child]) -> None:
    with Workspace.open(ws_path, create=True) as ws:
        with ws.transaction() as con:
            con.execute(ITEMS)
        ws.append_rows(
            "items",
            pl.DataFrame({"import_id": "A", "k": [1, 2, 3, 4], "value": [10.0, 20.0, 30.0, 40.0]}),
        )
    size_before = ws_path.stat().st_size

    child = spawn("import", ws_path)
    child.expect("committed")  # import "B" (3 rows) committed: it lives only in the WAL until a checkpoint
    child.expect("batch 3")  # inside the open transaction: import "A" deleted, 750,000 new rows written
    child.sigkill()
    # DuckDB wrote the uncommitted batches into the file itself (not only the WAL) before the kill, so
    # recovery had to ignore blocks that are on disk: the case where a naive store would show partial rows.
    assert ws_path.stat().st_size > size_before + 3_000_000

    with Workspace.open(ws_path) as ws:
        # A: the original 4 rows, k = 1+2+3+4 = 10, value = 10+20+30+40 = 100; none of the 750,000 new rows.
        # B: k = 1000+1001+1002 = 3003, value = 0.5 * 3003 = 1501.5 (committed before the kill, so kept).
        assert item_totals(ws) == [("A", 4, 10, 100.0), ("B", 3, 3003, 1501.5)]
        with ws.connect() as con:
            assert con.execute("SELECT k, value FROM items WHERE import_id = 'A' ORDER BY k").fetchall() == [
                (1, 10.0),
                (2, 20.0),
                (3, 30.0),
                (4, 40.0),
            ]
        result = ws.replace_rows("items", pl.DataFrame({"k": [7], "value": [70.0]}), match={"import_id": "A"})
        assert (result.deleted, result.inserted) == (4, 1)

    with Workspace.open(ws_path, read_only=True) as ws:
        assert item_totals(ws) == [("A", 1, 7, 70.0), ("B", 3, 3003, 1501.5)]


def test_killed_migration_is_rolled_back_and_can_be_retried(
    tmp_path: Path, ws_path: Path, spawn: Callable[..., Child]
) -> None:
    directory = write_migrations(
        tmp_path / "migrations",
        {"0001_first.sql": "CREATE TABLE first (i INTEGER); INSERT INTO first VALUES (1), (2);"},
    )
    Workspace.open(ws_path, create=True, migrations=discover(directory)).close()

    marker = tmp_path / "marker.csv"
    write_migrations(
        directory,
        {
            "0002_slow.sql": f"""
                CREATE TABLE second (i BIGINT);
                INSERT INTO second SELECT range FROM range(300000);
                ALTER TABLE first ADD COLUMN j INTEGER;
                UPDATE first SET i = i + 100, j = 1;
                COPY (SELECT 'started' AS state) TO '{marker}' (HEADER false);
                -- 40 billion row pairs: this statement runs until the test kills the process
                CREATE TABLE never AS SELECT count(*) AS n FROM range(200000) AS a, range(200000) AS b;
            """
        },
    )
    child = spawn("migrate", ws_path, directory)
    child.wait_for_file(marker)  # every statement before the slow one has run inside the transaction
    child.sigkill()

    with Workspace.open(ws_path, migrate=False, migrations=discover(directory)) as ws:
        assert ws.schema_version == 1
        assert [m.label for m in ws.pending_migrations()] == ["0002_slow"]
        assert "second" not in ws.tables()
        with ws.connect() as con:
            assert con.execute("SELECT * FROM first ORDER BY i").fetchall() == [(1,), (2,)]

    write_migrations(directory, {"0002_slow.sql": "CREATE TABLE second (i BIGINT);"})
    with Workspace.open(ws_path, migrations=discover(directory)) as ws:
        assert [m.label for m in ws.applied_now] == ["0002_slow"]
        assert ws.schema_version == 2
        assert ws.tables() == ["first", "schema_migrations", "second"]
