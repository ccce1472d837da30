"""Tables as an 80-column terminal shows them: one line per row, no number or name split, the rest named.

And CSV as a spreadsheet reads it: every column, nested values as JSON text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from critmin.cli.output import FIT, TableView, fitted_table

from .conftest import Invoke

Width = Callable[[int], None]


def _table_rows(text: str) -> list[str]:
    """Body lines of the tables in ``text`` (the lines between a header rule and a bottom rule)."""
    return [line for line in text.splitlines() if line.startswith("│")]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_risk_table_at_80_columns_has_one_line_per_mineral(invoke: Invoke, terminal_width: Width) -> None:
    minerals = json.loads(invoke("risk", "table", "--format", "json").stdout)
    terminal_width(80)
    result = invoke("risk", "table")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = _table_rows(result.stdout)
    assert len(rows) == len(minerals)  # no row wraps onto a second line
    header = next(line for line in lines if line.startswith("┃"))
    names = [cell.strip() for cell in header.strip("┃").split("┃")]
    assert names[:5] == ["mineral_id", "hhi_mine", "hhi_refined", "nir_pct", "gpr_score"]
    assert all(len(cell) > 1 for cell in names)  # no one-character columns
    assert [_cells(row)[0] for row in rows] == [m["mineral_id"] for m in minerals]
    assert "more column(s) at 80 characters" in result.stdout and "--wide" in result.stdout


def test_risk_ledger_at_80_columns_never_splits_a_number(
    invoke: Invoke, entries: Path, terminal_width: Width
) -> None:
    payload = json.loads(invoke("risk", "ledger", entries, "--format", "json").stdout)
    terminal_width(80)
    result = invoke("risk", "ledger", entries)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert not re.search(r"\d,\s*│", result.stdout)  # the old "395," / "549" split
    cells = {cell for row in _table_rows(result.stdout) for cell in _cells(row)}
    for mineral in payload["by_mineral"]:
        assert f"{mineral['value_usd']:,.0f}" in cells, mineral["mineral_id"]
    for line in payload["dfars"]:
        assert line["line_id"] in cells


def test_wide_shows_every_column_and_columns_picks_them(invoke: Invoke, terminal_width: Width) -> None:
    terminal_width(80)
    wide = invoke("risk", "table", "--wide")
    assert wide.exit_code == 0
    header = next(line for line in wide.stdout.splitlines() if line.startswith("┃"))
    assert "missing" in header and "eu_critical_2023" in header and len(header) > 80
    assert "more column(s)" not in wide.stdout
    picked = invoke("risk", "table", "--columns", "name,nir_pct")
    header = next(line for line in picked.stdout.splitlines() if line.startswith("┃"))
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == ["name", "nir_pct"]


def test_data_show_is_never_blank(invoke: Invoke, terminal_width: Width) -> None:
    for columns in (80, 200):
        terminal_width(columns)
        result = invoke("data", "show", "hts_schedule", "--head", "5")
        assert result.exit_code == 0, result.output
        rows = _table_rows(result.stdout)
        assert len(rows) == 5
        assert _cells(rows[2])[:2] == ["0101210010", "0101.21.00.10"]


def test_data_show_csv_writes_nested_columns_as_json(invoke: Invoke) -> None:
    result = invoke("data", "show", "hts_schedule", "--head", "40", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 40
    units = [json.loads(row["units"]) for row in rows]
    assert ["No."] in units and all(isinstance(u, list) for u in units)


def test_text_is_cut_with_an_ellipsis_and_numbers_never() -> None:
    frame = pl.DataFrame(
        {
            "code": ["8505.11.00.70", "2846.90.80.90"],
            "value_usd": [1_234_567.0, 89_012.5],
            "description": ["Sintered neodymium-iron-boron permanent magnets, grade N48H, " * 2] * 2,
        }
    )
    table, hidden = fitted_table(frame, None, keys=("code",), view=FIT, width=50)
    assert hidden == []
    widths = {column.header: column.width for column in table.columns}
    assert widths["code"] == len("8505.11.00.70") and widths["value_usd"] == len("1,234,567")
    assert sum(w or 0 for w in widths.values()) + 3 * 3 + 1 <= 50
    assert all(column.no_wrap and column.overflow == "ellipsis" for column in table.columns)


def test_columns_that_do_not_fit_are_left_out_not_squeezed() -> None:
    frame = pl.DataFrame({f"indicator_{i}": [0.123456 * i] for i in range(12)})
    table, hidden = fitted_table(frame, None, view=FIT, width=60)
    shown = [column.header for column in table.columns]
    assert shown[0] == "indicator_0" and hidden and set(shown).isdisjoint(hidden)
    assert all((column.width or 0) >= len("indicator_0") for column in table.columns)


def test_unknown_column_names_the_ones_there_are() -> None:
    from critmin.errors import InputError

    with pytest.raises(InputError, match="it has: a, b"):
        fitted_table(pl.DataFrame({"a": [1], "b": [2]}), None, view=TableView(("c",)), width=80)
