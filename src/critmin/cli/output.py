"""Shared output so every command renders tables, JSON, CSV and progress the same way.

Tables are fitted to the terminal rather than squeezed into it: a number or a name is never split across
lines. The columns that matter most (``keys``, then the frame's order) are chosen while they fit at their
narrowest readable width; long text is cut with an ellipsis; the columns left out are named under the table
with the ways to see them (``--wide``, ``--columns``, ``--format csv``). CSV holds every column, with
nested values written as JSON so any CSV reader can load them.

Progress bars go to stderr and only when it is a terminal, so piped output stays clean.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import polars as pl
import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from critmin.errors import InputError
from critmin.spreadsheet import csv_text

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # paths in errors stay whole and copyable


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class TableOrJson(StrEnum):
    """For commands whose result is not one table, so CSV would have nothing sensible to hold."""

    table = "table"
    json = "json"


ColumnsOption = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="A,B,C",
        help="Table columns to show, in this order (names as in --format csv).",
        show_default=False,
    ),
]
WideOption = Annotated[
    bool, typer.Option("--wide", help="Show every table column, however wide the table gets.")
]


@dataclass(frozen=True)
class TableView:
    """What the user asked of a table: particular columns, or all of them. ``ways`` is how the note under
    a cut table says to see the rest, naming only the options the command has."""

    columns: tuple[str, ...] | None = None
    wide: bool = False
    ways: str = "a wider terminal"

    @classmethod
    def of(cls, columns: str | None, wide: bool) -> TableView:
        """The view of a command with both ``--columns`` and ``--wide``."""
        names = tuple(c.strip() for c in columns.split(",") if c.strip()) if columns else None
        return cls(names, wide, ways="--wide or --columns")


FIT = TableView()

NAME_MAX = 24
"""Text no longer than this is taken for a name or a code (HTS numbers, ids, countries) and never cut."""
TEXT_MIN = 16
"""Narrowest longer text (descriptions, titles, notes) is cut to, with an ellipsis, unless its header is
wider."""
KEY_MAX = 40
"""Widest a key column is kept whole at; longer keys are cut too rather than crowd every other column out."""
HIDDEN_LISTED = 10
"""How many left-out columns the note under a table names."""
_EDGE = 1  # the table's left border
_GAP = 3  # per column: one space of padding each side and the border on its right


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with nested columns (lists, structs, arrays, objects) as JSON text, which CSV can hold.

    Polars cannot write nested columns to CSV at all; JSON keeps their structure for whoever reads the file.
    """
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested() or dtype == pl.Object]
    if not nested:
        return frame
    return frame.with_columns(
        pl.Series(
            name,
            [None if v is None else json.dumps(v, default=str) for v in frame.get_column(name).to_list()],
            dtype=pl.String,
        )
        for name in nested
    )


def print_frame(
    frame: pl.DataFrame,
    fmt: Format | TableOrJson,
    title: str | None = None,
    *,
    keys: Sequence[str] = (),
    view: TableView = FIT,
) -> None:
    """Print ``frame`` as a fitted table, JSON records or CSV (see the module docstring)."""
    if fmt == Format.json:
        print_json(frame.to_dicts())
    elif fmt == Format.csv:
        sys.stdout.write(csv_text(csv_ready(frame)))
    else:
        print_table(frame, title, keys=keys, view=view)


def print_rows(rows: Sequence[dict[str, Any]], fmt: Format, title: str | None = None) -> None:
    print_frame(pl.DataFrame(list(rows)), fmt, title)


def print_table(
    frame: pl.DataFrame, title: str | None = None, *, keys: Sequence[str] = (), view: TableView = FIT
) -> None:
    """Print ``frame`` as a table that fits the terminal, and name the columns it had to leave out."""
    width = console.width
    table, hidden = fitted_table(frame, title, keys=keys, view=view, width=width)
    needed = table_width(table)
    if needed <= width:
        console.print(table)
    else:  # only when asked (--wide, --columns): drawn whole, the terminal wraps the long lines
        Console(
            file=console.file,
            width=needed,
            color_system="auto" if console.color_system else None,
            force_terminal=console.is_terminal,
        ).print(table, crop=False)
    if hidden:
        listed = ", ".join(hidden[:HIDDEN_LISTED]) + (", …" if len(hidden) > HIDDEN_LISTED else "")
        console.print(
            f"[dim]{len(hidden)} more column(s) at {width} characters ({escape(listed)}); "
            f"see them with {view.ways}, or --format csv.[/dim]"
        )


def frame_table(frame: pl.DataFrame, title: str | None = None, *, keys: Sequence[str] = ()) -> Table:
    """A fitted table for commands that lay out several renderables themselves."""
    return fitted_table(frame, title, keys=keys, view=FIT, width=console.width)[0]


def table_width(table: Table) -> int:
    return _EDGE + sum((column.width or 0) + _GAP for column in table.columns)


def fitted_table(
    frame: pl.DataFrame,
    title: str | None,
    *,
    keys: Sequence[str] = (),
    view: TableView = FIT,
    width: int,
) -> tuple[Table, list[str]]:
    """The table for ``frame`` at ``width`` characters and the columns left out of it.

    Every cell is one line. Numbers, dates, flags and key columns are never cut; text columns are cut with an
    ellipsis, to no less than ``TEXT_MIN`` characters or their header, then widened again with whatever room
    is left over.
    """
    names = _column_order(frame, keys, view)
    cells = {name: [_cell(value) for value in frame.get_column(name).to_list()] for name in names}
    natural = {name: max([cell_len(name), *(cell_len(c) for c in cells[name])]) for name in names}
    cuttable = {name: _is_text(frame.schema[name]) for name in names}
    key_set = set(keys)
    floor = {
        name: (
            natural[name]
            if not cuttable[name] or natural[name] <= NAME_MAX
            else min(natural[name], max(KEY_MAX if name in key_set else TEXT_MIN, cell_len(name)))
        )
        for name in names
    }
    hidden: list[str] = []
    if view.wide or view.columns is not None:
        shown = names
        widths = dict(natural) if view.wide else _spread(names, floor, natural, cuttable, width)
    else:
        shown, hidden = _choose(names, floor, width)
        widths = _spread(shown, floor, natural, cuttable, width)
    table = Table(title=title, show_lines=False)
    for name in shown:
        numeric = frame.schema[name].is_numeric()
        table.add_column(
            escape(name),
            justify="right" if numeric else "left",
            no_wrap=True,
            overflow="ellipsis",
            width=widths[name],
            min_width=widths[name],
        )
    for i in range(frame.height):
        table.add_row(*[escape(cells[name][i]) for name in shown])
    return table, hidden


def _column_order(frame: pl.DataFrame, keys: Sequence[str], view: TableView) -> list[str]:
    if view.columns is None:
        first = [k for k in keys if k in frame.columns]
        return first + [c for c in frame.columns if c not in first]
    unknown = [c for c in view.columns if c not in frame.columns]
    if unknown:
        raise InputError(
            f"--columns: no column {', '.join(map(repr, unknown))} in this table; "
            f"it has: {', '.join(frame.columns)}."
        )
    return list(dict.fromkeys(view.columns))


def _choose(names: list[str], floor: dict[str, int], width: int) -> tuple[list[str], list[str]]:
    """Columns in priority order while they fit at their floor width; the first always shows."""
    used = _EDGE
    shown: list[str] = []
    hidden: list[str] = []
    for name in names:
        need = floor[name] + _GAP
        if not shown or used + need <= width:
            shown.append(name)
            used += need
        else:
            hidden.append(name)
    return shown, hidden


def _spread(
    shown: list[str], floor: dict[str, int], natural: dict[str, int], cuttable: dict[str, bool], width: int
) -> dict[str, int]:
    """Floor widths, then the room left handed to cut text columns in order, up to their natural width."""
    widths = {name: floor[name] for name in shown}
    room = width - _EDGE - sum(widths[name] + _GAP for name in shown)
    for name in shown:
        if room <= 0:
            break
        if cuttable[name]:
            grow = min(room, natural[name] - widths[name])
            widths[name] += grow
            room -= grow
    return widths


def _is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or dtype.is_nested() or isinstance(dtype, pl.Categorical | pl.Enum | pl.Object)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return " ".join(str(value).split())  # one line per cell: newlines and tabs become spaces


# ---------------------------------------------------------------------------------------------- progress

Advance = Callable[[int, int | None], None]
"""Progress callback of counted work: (units done so far, total units or None while unknown)."""
Step = Callable[[str], None]
"""Progress callback of named steps: called as each step starts."""


@contextmanager
def progress_bar(label: str) -> Iterator[Advance]:
    """A bar with counts, elapsed time and time left while the work reports ``(done, total)``; on a pipe or a
    file, nothing."""
    if not err_console.is_terminal:
        yield _ignore_count
        return
    columns = (
        TextColumn(f"[bold]{escape(label)}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=max(total, done) if total is not None else None)

        yield advance


@contextmanager
def step_progress(label: str) -> Iterator[Step]:
    """A spinner naming the current step, with the number of steps done and the time so far; on a pipe or a
    file, nothing."""
    if not err_console.is_terminal:
        yield _ignore_step
        return
    columns = (
        SpinnerColumn(),
        TextColumn(f"[bold]{escape(label)}[/bold] step {{task.fields[number]}}: {{task.description}}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("starting", total=None, number=0)
        count = 0

        def step(name: str) -> None:
            nonlocal count
            count += 1
            bar.update(task, description=escape(name), number=count, refresh=True)  # each step is shown

        yield step


def _ignore_count(_done: int, _total: int | None) -> None:
    return None


def _ignore_step(_name: str) -> None:
    return None
