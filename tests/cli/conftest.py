"""Fixtures for the command-line tests: the app as users run it and a sample ledger written by it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from critmin.cli import output
from critmin.cli.app import app

Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    """Run ``critmin ARGS...`` in this process, as the console script would."""
    runner = CliRunner()

    def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=env)

    return run


@pytest.fixture(scope="session")
def entries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's ``entries.csv``: the sample defense prime's ledger, written by `critmin sample ledger`."""
    path = tmp_path_factory.mktemp("ledger") / "entries.csv"
    result = CliRunner().invoke(app, ["sample", "ledger", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def terminal_width(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set the width the tables are fitted to, as COLUMNS does for the console script."""

    def set_width(columns: int) -> None:
        monkeypatch.setattr(output.console, "width", columns)
        monkeypatch.setenv("COLUMNS", str(columns))

    return set_width
