"""Deleting a ledger import: the rules in critmin.workspace.imports, on real imports of the sample ledgers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from critmin.cli.app import app as cli
from critmin.ledger.samples import sample_path
from critmin.ledger.store import import_ledger
from critmin.workspace import UnknownImportError, Workspace, delete_import, import_label_key

DEFENSE = sample_path("defense_prime_ledger.csv")
BATTERY = sample_path("battery_maker_ledger.csv")
PER_IMPORT = ("ledger_lines", "ledger_quarantine", "ledger_warnings")


def counts(ws: Workspace, import_id: int) -> dict[str, int]:
    """Rows of one import in each table that holds them (classification and content by line id)."""
    with ws.connect() as con:
        found = {
            table: con.execute(f"SELECT count(*) FROM {table} WHERE import_id = ?", [import_id]).fetchone()[0]  # type: ignore[index]
            for table in PER_IMPORT
        }
        for table in ("ledger_classification", "ledger_line_content"):
            found[table] = con.execute(  # type: ignore[index]
                f"SELECT count(*) FROM {table} WHERE line_id IN "
                "(SELECT line_id FROM ledger_lines WHERE import_id = ?)",
                [import_id],
            ).fetchone()[0]
        found["ledger_imports"] = con.execute(  # type: ignore[index]
            "SELECT count(*) FROM ledger_imports WHERE import_id = ?", [import_id]
        ).fetchone()[0]
    return found


def table_sizes(ws: Workspace) -> dict[str, int]:
    return dict(ws.table_counts().iter_rows())


def add_run(ws: Workspace, import_id: int) -> None:
    """A recorded exposure run that points at the import, as `critmin exposure` records one."""
    with ws.transaction() as con:
        con.execute(
            "INSERT INTO runs (scenario, scenario_title, parameters, content_case, ledger_source, "
            "ledger_import_id, lines, customs_value, duty, totals, measures, datasets, sources, "
            "critmin_version) VALUES "
            "('status_quo', 'In force', '{}', 'central', 'x.csv', ?, 1, 1, 1, '{}', '[]', '{}', '{}', 't')",
            [import_id],
        )


@pytest.fixture
def two_imports(workspace: Workspace) -> tuple[Workspace, int, int]:
    first = import_ledger(workspace, DEFENSE).import_id
    second = import_ledger(workspace, BATTERY).import_id
    return workspace, first, second


def test_delete_removes_the_import_and_everything_derived(two_imports: tuple[Workspace, int, int]) -> None:
    ws, first, second = two_imports
    ws.set_setting(import_label_key(first), "Aegis entries.csv")
    add_run(ws, first)
    before = counts(ws, first)
    assert before["ledger_lines"] > 100 and before["ledger_quarantine"] > 0
    assert before["ledger_classification"] > 0 and before["ledger_line_content"] > 0
    other = counts(ws, second)

    deleted = delete_import(ws, first)

    assert deleted.lines == before["ledger_lines"]
    assert deleted.quarantined == before["ledger_quarantine"]
    assert deleted.warnings == before["ledger_warnings"]
    assert deleted.classification == before["ledger_classification"]
    assert deleted.content == before["ledger_line_content"]
    assert deleted.source_file == DEFENSE.name and deleted.runs_unlinked == 1
    assert set(counts(ws, first).values()) == {0}
    assert counts(ws, second) == other  # the other import is untouched
    assert ws.get_setting(import_label_key(first)) is None
    with ws.connect() as con:
        runs = con.execute("SELECT count(*), count(ledger_import_id) FROM runs").fetchone()
    assert runs == (1, 0)  # the run stays, as history, but points at nothing
    event = ws.events("ledger.deleted", limit=1)
    assert json.loads(event["detail"][0])["lines"] == deleted.lines


def test_the_same_file_can_be_imported_again_after_deletion(workspace: Workspace) -> None:
    first = import_ledger(workspace, DEFENSE)
    delete_import(workspace, first.import_id)
    again = import_ledger(workspace, DEFENSE)
    assert again.status == "imported" and again.import_id != first.import_id
    assert counts(workspace, again.import_id)["ledger_lines"] == first.result.rows_loaded  # type: ignore[union-attr]


def test_a_failure_inside_deletes_nothing(
    two_imports: tuple[Workspace, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, first, _second = two_imports
    before = table_sizes(ws)

    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("disk full while logging")

    monkeypatch.setattr(ws, "log_event", broken)  # the last step of the transaction
    with pytest.raises(RuntimeError, match="disk full"):
        delete_import(ws, first)
    assert table_sizes(ws) == before


def test_unknown_import_names_the_known_ones(two_imports: tuple[Workspace, int, int]) -> None:
    ws, first, second = two_imports
    with pytest.raises(UnknownImportError, match=f"No ledger import 99 .*imports: {first}, {second}"):
        delete_import(ws, 99)


def test_superseded_versions_of_the_file_go_with_it(workspace: Workspace, tmp_path: Path) -> None:
    """Version 2 of entries.csv replaced version 1's lines; deleting version 2 lets version 1 come back."""
    folder = tmp_path / "v1"
    folder.mkdir()
    v1 = folder / "entries.csv"
    shutil.copy(DEFENSE, v1)
    old = import_ledger(workspace, v1)
    v2 = tmp_path / "entries.csv"
    text = DEFENSE.read_text(encoding="utf-8").splitlines(keepends=True)
    v2.write_text("".join(text[:50]), encoding="utf-8")  # a shorter second version, same file name
    new = import_ledger(workspace, v2)
    assert counts(workspace, old.import_id)["ledger_lines"] == 0  # replaced by version 2

    deleted = delete_import(workspace, new.import_id)

    assert deleted.superseded_imports == [old.import_id]
    assert table_sizes(workspace)["ledger_imports"] == 0
    back = import_ledger(workspace, v1)
    assert back.status == "imported"
    assert counts(workspace, back.import_id)["ledger_lines"] == old.result.rows_loaded  # type: ignore[union-attr]


def test_cli_delete(ws_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    with Workspace.open(ws_path, create=True) as ws:
        first = import_ledger(ws, DEFENSE).import_id
        second = import_ledger(ws, BATTERY).import_id
    declined = runner.invoke(cli, ["ledger", "delete", str(first), "--workspace", str(ws_path)], input="n\n")
    assert declined.exit_code == 1 and "Nothing deleted" in declined.output
    assert f"Delete import {first} ({DEFENSE.name}" in declined.output
    done = runner.invoke(
        cli, ["ledger", "delete", str(first), "--yes", "--workspace", str(ws_path), "--format", "json"]
    )
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["import_id"] == first and body["lines"] > 100
    missing = runner.invoke(cli, ["ledger", "delete", str(first), "--yes", "--workspace", str(ws_path)])
    assert missing.exit_code == 2
    assert f"No ledger import {first}" in " ".join(missing.output.split())
    with Workspace.open(ws_path) as ws:
        left = ws.table_counts()
        assert counts(ws, second)["ledger_lines"] > 0
    assert dict(left.iter_rows())["ledger_imports"] == 1
