"""The migration runner: discovery, ordering, checksums, newer workspaces and failed migrations."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from critmin.workspace import MigrationError, Workspace, WorkspaceError, discover
from critmin.workspace.migrations import checksum

from .conftest import write_migrations


def test_shipped_migrations_are_every_sql_file_in_the_package_in_order() -> None:
    # Other capabilities add 0002_ledger.sql, 0003_monitor.sql, ...: the runner must see each one.
    directory = resources.files("critmin.workspace") / "migrations"
    files = sorted(entry.name for entry in directory.iterdir() if entry.name.endswith(".sql"))
    shipped = discover()
    assert [f"{m.label}.sql" for m in shipped] == files
    assert shipped[0].label == "0001_core"
    assert [m.version for m in shipped] == sorted({m.version for m in shipped})


def test_new_workspace_has_every_shipped_migration_and_the_core_tables(workspace: Workspace) -> None:
    shipped = discover()
    assert workspace.schema_version == shipped[-1].version
    assert [a.label for a in workspace.applied_migrations()] == [m.label for m in shipped]
    assert [a.sha256 for a in workspace.applied_migrations()] == [m.sha256 for m in shipped]
    assert {"schema_migrations", "settings", "events_log"} <= set(workspace.tables())
    assert workspace.pending_migrations() == []


def test_migrations_apply_in_version_order_not_file_listing_order(tmp_path: Path, ws_path: Path) -> None:
    # 0010 reads the table 0002 creates, which reads the one 0001 creates: any other order fails.
    directory = write_migrations(
        tmp_path / "m",
        {
            "0010_c.sql": "CREATE TABLE c AS SELECT n * 10 AS n FROM b;",
            "0002_b.sql": "CREATE TABLE b AS SELECT n + 1 AS n FROM a;",
            "0001_a.sql": "CREATE TABLE a (n INTEGER); INSERT INTO a VALUES (1);",
        },
    )
    with Workspace.open(ws_path, create=True, migrations=discover(directory)) as ws:
        assert [m.label for m in ws.applied_now] == ["0001_a", "0002_b", "0010_c"]
        assert ws.schema_version == 10
        with ws.connect() as con:
            assert con.execute("SELECT n FROM c").fetchall() == [(20,)]  # (1 + 1) * 10


def test_reopening_applies_only_new_migrations(tmp_path: Path, ws_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (n INTEGER);"})
    Workspace.open(ws_path, create=True, migrations=discover(directory)).close()
    with Workspace.open(ws_path, migrations=discover(directory)) as ws:
        assert ws.applied_now == ()
        assert ws.created is False

    # A later release ships two more; one numbered below an already-applied sibling is still applied
    # (capabilities own disjoint tables, so numbering is not a dependency order between them).
    write_migrations(directory, {"0003_c.sql": "CREATE TABLE c (n INTEGER);"})
    Workspace.open(ws_path, migrations=discover(directory)).close()
    write_migrations(directory, {"0002_b.sql": "CREATE TABLE b (n INTEGER);"})
    with Workspace.open(ws_path, migrations=discover(directory)) as ws:
        assert [m.label for m in ws.applied_now] == ["0002_b"]
        assert [a.version for a in ws.applied_migrations()] == [1, 2, 3]


def test_open_without_migrate_leaves_pending_until_migrate(tmp_path: Path, ws_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (n INTEGER);"})
    Workspace.open(ws_path, create=True, migrations=discover(directory)).close()
    write_migrations(directory, {"0002_b.sql": "CREATE TABLE b (n INTEGER);"})
    with Workspace.open(ws_path, migrate=False, migrations=discover(directory)) as ws:
        assert [m.label for m in ws.pending_migrations()] == ["0002_b"]
        assert ws.schema_version == 1
        assert [m.label for m in ws.migrate()] == ["0002_b"]
        assert ws.schema_version == 2
        assert ws.migrate() == []


def test_read_only_open_reports_pending_but_never_migrates(tmp_path: Path, ws_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (n INTEGER);"})
    Workspace.open(ws_path, create=True, migrations=discover(directory)).close()
    write_migrations(directory, {"0002_b.sql": "CREATE TABLE b (n INTEGER);"})
    with Workspace.open(ws_path, read_only=True, migrations=discover(directory)) as ws:
        assert [m.label for m in ws.pending_migrations()] == ["0002_b"]
        with pytest.raises(WorkspaceError, match="read-only"):
            ws.migrate()


def test_edited_migration_is_refused(tmp_path: Path, ws_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (n INTEGER);"})
    Workspace.open(ws_path, create=True, migrations=discover(directory)).close()
    write_migrations(directory, {"0001_a.sql": "CREATE TABLE a (n BIGINT);"})
    with pytest.raises(MigrationError, match=r"0001_a changed after it was applied") as info:
        Workspace.open(ws_path, migrations=discover(directory))
    assert "append-only" in str(info.value)
    assert checksum("CREATE TABLE a (n INTEGER);")[:12] in str(info.value)
    # Read-only opens refuse too: the tables no longer match what the code expects.
    with pytest.raises(MigrationError, match="changed after it was applied"):
        Workspace.open(ws_path, read_only=True, migrations=discover(directory))


def test_line_endings_alone_are_not_an_edit(tmp_path: Path, ws_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (n INTEGER);\nSELECT 1;\n"})
    Workspace.open(ws_path, create=True, migrations=discover(directory)).close()
    (directory / "0001_a.sql").write_bytes(b"CREATE TABLE a (n INTEGER);\r\nSELECT 1;\r\n")  # a CRLF checkout
    with Workspace.open(ws_path, migrations=discover(directory)) as ws:
        assert ws.schema_version == 1


def test_workspace_newer_than_the_code_is_refused(tmp_path: Path, ws_path: Path) -> None:
    newer = write_migrations(
        tmp_path / "newer",
        {"0001_a.sql": "CREATE TABLE a (n INTEGER);", "0002_b.sql": "CREATE TABLE b (n INTEGER);"},
    )
    Workspace.open(ws_path, create=True, migrations=discover(newer)).close()
    older = write_migrations(tmp_path / "older", {"0001_a.sql": "CREATE TABLE a (n INTEGER);"})
    with pytest.raises(MigrationError, match=r"newer critmin.*0002_b.*Upgrade critmin"):
        Workspace.open(ws_path, migrations=discover(older))
    with pytest.raises(MigrationError, match="newer critmin"):
        Workspace.open(ws_path, read_only=True, migrations=discover(older))


def test_failed_migration_is_rolled_back_and_earlier_ones_kept(tmp_path: Path, ws_path: Path) -> None:
    directory = write_migrations(
        tmp_path / "m",
        {
            "0001_a.sql": "CREATE TABLE a (n INTEGER);",
            "0002_b.sql": "CREATE TABLE b (n INT); INSERT INTO b VALUES (1); INSERT INTO nope VALUES (1);",
        },
    )
    kept = r"0002_b .*failed and was rolled back \(0001_a applied and kept\).*nope"
    with pytest.raises(MigrationError, match=kept):
        Workspace.open(ws_path, create=True, migrations=discover(directory))
    with Workspace.open(ws_path, migrate=False, migrations=discover(directory)) as ws:
        assert ws.schema_version == 1
        assert "b" not in ws.tables()
        assert [m.label for m in ws.pending_migrations()] == ["0002_b"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"2_ledger.sql": "SELECT 1;"}, r"2_ledger.sql is misnamed: expected NNNN_<name>.sql"),
        ({"0002-ledger.sql": "SELECT 1;"}, r"misnamed"),
        ({"0000_zero.sql": "SELECT 1;"}, r"0000 is reserved"),
        ({"0002_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 2;"}, r"share version 0002; renumber one"),
        ({"0001_a.sql": "BEGIN; CREATE TABLE a (n INTEGER); COMMIT;"}, r"0001_a.sql contains BEGIN/COMMIT"),
        ({"0001_a.sql": "CREATE TABLE a (n INTEGER"}, r"0001_a.sql does not parse"),
        ({"0001_a.sql": "-- nothing yet\n"}, r"0001_a.sql contains no SQL statement"),
    ],
)
def test_bad_migration_files_are_refused_before_touching_a_database(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    directory = write_migrations(tmp_path / "m", files)
    with pytest.raises(MigrationError, match=message):
        discover(directory)


def test_files_that_are_not_sql_are_ignored(tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"0001_a.sql": "SELECT 1;", "README.md": "notes"})
    assert [m.label for m in discover(directory)] == ["0001_a"]
