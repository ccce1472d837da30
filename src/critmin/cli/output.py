"""Shared output helpers so every command renders tables, JSON and CSV the same way."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # paths in errors stay whole and copyable


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def frame_table(frame: pl.DataFrame, title: str | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    for name in frame.columns:
        numeric = frame.schema[name].is_numeric()
        table.add_column(escape(name), justify="right" if numeric else "left", overflow="fold")
    for row in frame.iter_rows():
        table.add_row(*[_cell(value) for value in row])
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return escape(str(value))  # user data such as "demand[x,2026]" is text, not Rich markup


def print_frame(frame: pl.DataFrame, fmt: Format, title: str | None = None) -> None:
    if fmt is Format.json:
        print_json(frame.to_dicts())
    elif fmt is Format.csv:
        sys.stdout.write(frame.write_csv())
    else:
        console.print(frame_table(frame, title))


def print_rows(rows: Sequence[dict[str, Any]], fmt: Format, title: str | None = None) -> None:
    print_frame(pl.DataFrame(list(rows)), fmt, title)
