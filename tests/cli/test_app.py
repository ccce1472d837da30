"""The command line as a user meets it: --version, --help, python -m critmin."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from critmin import __version__
from critmin.cli.app import COMMAND_MODULES, app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"critmin {__version__}"
    assert __version__ == "0.1.0"


def test_python_dash_m_runs_the_same_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "critmin", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"critmin {__version__}"


def test_help_lists_every_command_group() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("init", "data", "demo"):
        assert name in result.stdout


def test_every_declared_command_module_exists() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"critmin.cli.{name}")


def test_init_takes_the_workspace_as_path_or_option(tmp_path: Path) -> None:
    by_option = runner.invoke(app, ["init", "--workspace", str(tmp_path / "a.duckdb")])
    assert by_option.exit_code == 0, by_option.output
    assert (tmp_path / "a.duckdb").is_file()
    by_path = runner.invoke(app, ["init", str(tmp_path / "b.duckdb")])
    assert by_path.exit_code == 0 and (tmp_path / "b.duckdb").is_file()
    both = runner.invoke(app, ["init", str(tmp_path / "c.duckdb"), "--workspace", str(tmp_path / "d.duckdb")])
    assert both.exit_code == 2 and not (tmp_path / "c.duckdb").exists()


def test_exposure_help_shows_how_the_group_is_called() -> None:
    result = runner.invoke(app, ["exposure", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    said = " ".join(result.stdout.split())
    assert "critmin exposure FILE [OPTIONS] is short for critmin exposure run FILE [OPTIONS]" in said
    assert "Example: critmin exposure entries.csv --scenario" in said


def test_sample_commands_write_the_files_the_readme_uses(tmp_path: Path) -> None:
    for args, name in (
        (["sample", "bom"], "bom.csv"),
        (["sample", "sourcing"], "sourcing.yaml"),
        (["sample", "project", "--name", "lioh_refinery"], "project.yaml"),
    ):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 100
    unknown = runner.invoke(app, ["sample", "project", "--name", "moon_base", "--out", str(tmp_path / "x")])
    assert unknown.exit_code == 2 and "lioh_refinery" in unknown.stderr


def test_table_or_json_commands_refuse_csv() -> None:
    result = runner.invoke(app, ["optimize", "problem.yaml", "--format", "csv"])
    assert result.exit_code == 2  # rejected as an option, not answered with a table


def _examples(command: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every ``Example: critmin ...`` in the help of ``command`` and the commands under it."""
    out = [
        (path, example.strip())
        for text in re.findall(r"Example: (critmin [^\n]+)", getattr(command, "help", None) or "")
        for example in text.split("&&")
    ]
    for name, sub in getattr(command, "commands", {}).items():
        out += _examples(sub, (*path, name))
    return out


def test_every_help_example_names_real_commands_and_options(tmp_path: Path, monkeypatch: Any) -> None:
    import typer

    monkeypatch.chdir(tmp_path)
    (tmp_path / "entries.csv").write_text("x\n", encoding="utf-8")  # for arguments that must exist
    root = typer.main.get_command(app)
    examples = _examples(root)
    assert len(examples) > 30
    for _, example in examples:
        command, args = root, shlex.split(example)[1:]
        while isinstance(getattr(command, "commands", None), dict):  # down the groups, as Click goes
            commands = command.commands  # type: ignore[attr-defined]
            name = args[0] if args and args[0] in commands else "run"  # `exposure FILE` is `exposure run`
            assert name in commands, example
            command, args = commands[name], args[1:] if args and args[0] == name else args
        command.make_context(command.name or "", list(args))  # unknown options and bad values raise
