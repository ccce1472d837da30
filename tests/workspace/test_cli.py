"""`critmin init`, `critmin workspace info|migrate` and the shared --workspace option, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from critmin.cli import output
from critmin.cli.workspace import WorkspaceOption, open_workspace, register
from critmin.workspace import ENV_VAR, Workspace, discover

runner = CliRunner()


def make_app() -> typer.Typer:
    """Only this module's commands, plus one command that uses the shared option like other modules will."""
    app = typer.Typer()
    register(app)

    @app.command("count-settings")
    def count_settings(workspace: WorkspaceOption = None) -> None:
        with open_workspace(workspace, read_only=True) as ws, ws.connect() as con:
            row = con.execute("SELECT count(*) FROM settings").fetchone()
        typer.echo(f"settings={row[0] if row else 0}")

    return app


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns when not on a terminal, which would split the long tmp paths."""
    monkeypatch.setattr(output.console, "width", 400)
    monkeypatch.setattr(output.err_console, "width", 400)


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(make_app(), [str(a) for a in args])
    return result.exit_code, result.output


def test_init_creates_then_reports_up_to_date(ws_path: Path) -> None:
    version = discover()[-1].version
    code, out = invoke("init", ws_path)
    assert code == 0, out
    assert f"Created workspace {ws_path} (schema version {version}; applied 0001_core" in out
    code, out = invoke("init", ws_path)
    assert code == 0, out
    assert f"Workspace {ws_path} already exists and is up to date (schema version {version})." in out


def test_init_on_an_older_workspace_applies_pending_and_says_so(ws_path: Path) -> None:
    Workspace.open(ws_path, create=True, migrations=[]).close()  # a workspace from before any migration
    shipped = discover()
    code, out = invoke("init", ws_path)
    assert code == 0, out
    labels = ", ".join(m.label for m in shipped)
    assert f"already exists; applied {len(shipped)} pending migration(s): {labels}." in out
    assert f"Schema version is now {shipped[-1].version}." in out


def test_init_without_a_path_uses_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env.duckdb"))
    code, out = invoke("init")
    assert code == 0, out
    assert (tmp_path / "from-env.duckdb").exists()


def test_info_json_lists_migrations_and_row_counts(workspace: Workspace, ws_path: Path) -> None:
    workspace.set_setting("report.currency", "USD")
    workspace.close()
    code, out = invoke("workspace", "info", "--workspace", ws_path, "--format", "json")
    assert code == 0, out
    payload = json.loads(out)
    shipped = discover()
    assert payload["path"] == str(ws_path)
    assert payload["schema_version"] == shipped[-1].version
    assert [a["name"] for a in payload["applied"]] == [m.name for m in shipped]
    assert [a["sha256"] for a in payload["applied"]] == [m.sha256 for m in shipped]
    assert payload["pending"] == []
    counts = {t["table"]: t["rows"] for t in payload["tables"]}
    assert counts["settings"] == 1
    assert counts["schema_migrations"] == len(shipped)


def test_info_table_shows_path_and_version(workspace: Workspace, ws_path: Path) -> None:
    workspace.close()
    code, out = invoke("workspace", "info", "--workspace", ws_path)
    assert code == 0, out
    assert str(ws_path) in out
    assert f"schema version {discover()[-1].version}" in out
    assert "Applied migrations" in out and "core" in out and "events_log" in out


def test_missing_workspace_exits_2_and_says_run_init(tmp_path: Path) -> None:
    code, out = invoke("workspace", "info", "--workspace", tmp_path / "none.duckdb")
    assert code == 2
    assert f"No critmin workspace at {tmp_path / 'none.duckdb'}" in out
    assert "critmin init" in out


def test_migrate_dry_run_then_apply(ws_path: Path) -> None:
    Workspace.open(ws_path, create=True, migrations=[]).close()
    code, out = invoke("workspace", "migrate", "--workspace", ws_path, "--dry-run")
    assert code == 0, out
    assert "pending  0001_core" in out
    with Workspace.open(ws_path, read_only=True) as ws:
        assert ws.schema_version == 0
    code, out = invoke("workspace", "migrate", "--workspace", ws_path)
    assert code == 0, out
    assert "applied  0001_core" in out
    code, out = invoke("workspace", "migrate", "--workspace", ws_path)
    assert "is up to date" in out


def test_shared_workspace_option(workspace: Workspace, ws_path: Path) -> None:
    workspace.set_setting("a", 1)
    workspace.set_setting("b", 2)
    workspace.close()
    code, out = invoke("count-settings", "--workspace", ws_path)
    assert (code, out.strip()) == (0, "settings=2")
