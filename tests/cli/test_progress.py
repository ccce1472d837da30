"""Long steps show counts and the time left on a terminal, and nothing at all when output is piped."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from critmin.cli import output

from .conftest import Invoke

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """stderr as a terminal: what the progress bars draw there, without control codes."""
    screen = io.StringIO()
    monkeypatch.setattr(output, "err_console", Console(file=screen, force_terminal=True, width=120))
    return screen


def _seen(screen: io.StringIO) -> str:
    return ANSI.sub("", screen.getvalue())


def test_simulate_counts_its_steps_with_time_left_on_a_terminal(
    invoke: Invoke, entries: Path, terminal: io.StringIO
) -> None:
    result = invoke("simulate", "pcmdp_window_2026", "--ledger", entries, "--draws", "200", "-f", "json")
    assert result.exit_code == 0, result.output
    seen = _seen(terminal)
    assert "Simulating" in seen
    done = re.findall(r"(\d+)/(\d+)", seen)
    assert done and done[-1][0] == done[-1][1]  # the last frame drawn is the last step
    assert "left" in seen
    assert result.stdout.lstrip().startswith("{")  # the bar never mixes into the JSON


def test_ledger_import_counts_rows_on_a_terminal(
    invoke: Invoke, entries: Path, tmp_path: Path, terminal: io.StringIO
) -> None:
    result = invoke("ledger", "import", entries, "--workspace", tmp_path / "ws.duckdb")
    assert result.exit_code == 0, result.output
    seen = _seen(terminal)
    assert "Importing entries.csv" in seen and "200/200" in seen


def test_report_names_its_steps_on_a_terminal(
    invoke: Invoke, entries: Path, tmp_path: Path, terminal: io.StringIO
) -> None:
    result = invoke("report", entries, "--out", tmp_path / "r", "--no-pdf", "--tree", "none")
    assert result.exit_code == 0, result.output
    seen = _seen(terminal)
    assert "report step 1: reading the ledger" in seen and "writing report.xlsx" in seen


def test_nothing_is_drawn_when_output_is_piped(invoke: Invoke, entries: Path, tmp_path: Path) -> None:
    imported = invoke("ledger", "import", entries, "--workspace", tmp_path / "ws.duckdb")
    simulated = invoke("simulate", "pcmdp_window_2026", "--ledger", entries, "--draws", "100", "-f", "json")
    for result in (imported, simulated):
        assert result.exit_code == 0, result.output
        assert "Importing" not in result.stderr and "Simulating" not in result.stderr
        assert "\x1b[" not in result.output and "━" not in result.stderr


def test_progress_bar_reports_counts(terminal: io.StringIO) -> None:
    with output.progress_bar("Reading big.csv") as advance:
        advance(250_000, 1_000_000)
        advance(1_000_000, 1_000_000)
    seen = _seen(terminal)
    assert "Reading big.csv" in seen and "1000000/1000000" in seen
