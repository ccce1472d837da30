"""The command line as a user meets it: --version, --help, python -m critmin."""

from __future__ import annotations

import subprocess
import sys

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
