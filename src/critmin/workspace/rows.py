"""Bulk writes of Arrow data into workspace tables: append, and atomic replace of a subset.

The frame is registered with DuckDB as an Arrow view and copied with one ``INSERT ... BY NAME SELECT``,
so the cost is a columnar scan, never a Python loop over rows. These functions expect a connection that
is inside a transaction; :class:`critmin.workspace.Workspace` checks that before calling them.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import duckdb

from critmin.errors import WorkspaceError

if TYPE_CHECKING:  # polars and pyarrow load lazily: a process that only opens a workspace starts faster
    import polars as pl
    import pyarrow as pa

    Frame: TypeAlias = pl.DataFrame | pa.Table


@dataclass(frozen=True)
class ReplaceResult:
    """What an atomic replace did, so a caller can report "replaced N rows with M"."""

    table: str
    deleted: int
    inserted: int


def quote_ident(name: str) -> str:
    """``name`` as a DuckDB identifier: table and column names come from frames, not from literals."""
    return '"' + name.replace('"', '""') + '"'


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of ``table`` in order; a clear error when the table does not exist."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    if not rows:
        raise WorkspaceError(
            f"Workspace has no table {table!r}; is the migration that creates it missing or not yet applied "
            "(`critmin workspace migrate`)?"
        )
    return [row[0] for row in rows]


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: Frame,
    *,
    match: Mapping[str, Any] | None = None,
    where: str | None = None,
    params: Sequence[Any] = (),
) -> ReplaceResult:
    """Delete the subset of ``table`` selected by ``match`` and ``where``, then insert ``frame``.

    See :meth:`critmin.workspace.Workspace.replace_rows` for the contract.
    """
    data = as_arrow(frame)
    keys = dict(match or {})
    _check_columns(table, table_columns(con, table), [*data.column_names, *keys])
    predicates = [f"{quote_ident(k)} IS NOT DISTINCT FROM ?" for k in keys]
    values: list[Any] = list(keys.values())
    if where:
        predicates.append(f"({where})")
        values.extend(params)
    view = _register(con, data)
    try:
        for key, value in keys.items():
            if key in data.column_names:
                _check_constant(con, view, table, key, value)
        sql = f"DELETE FROM {quote_ident(table)}"
        if predicates:
            sql += " WHERE " + " AND ".join(predicates)
        deleted = _count(con.execute(sql, values))
        fills = [k for k in keys if k not in data.column_names]
        inserted = _insert(con, table, view, data.num_rows, fills, [keys[k] for k in fills])
    finally:
        con.unregister(view)
    return ReplaceResult(table, deleted, inserted)


def append_rows(con: duckdb.DuckDBPyConnection, table: str, frame: Frame) -> int:
    """Insert ``frame`` into ``table`` by column name; returns the number of rows added."""
    data = as_arrow(frame)
    _check_columns(table, table_columns(con, table), data.column_names)
    view = _register(con, _stream(data))
    try:
        return _insert(con, table, view, data.num_rows, [], [])
    finally:
        con.unregister(view)


def _stream(data: pa.Table) -> pa.RecordBatchReader:
    """The table as a stream of its record batches, for a statement that reads it once.

    DuckDB scans a registered table through a ``pyarrow.dataset`` scanner, whose read-ahead buffers stay
    with the process after the scan (importing a 1,000,000-line ledger chunk by chunk held about 275 MB
    more at its peak); a stream is read batch by batch, in place.
    """
    import pyarrow as pa

    return pa.RecordBatchReader.from_batches(data.schema, data.to_batches())


def as_arrow(frame: Frame) -> pa.Table:
    import pyarrow as pa

    if isinstance(frame, pa.Table):
        return frame
    polars = sys.modules.get("polars")  # a polars frame implies polars is loaded; never import it here
    if polars is not None and isinstance(frame, polars.DataFrame):
        return frame.to_arrow()
    raise TypeError(f"Expected a polars DataFrame or a pyarrow Table, got {type(frame).__name__}.")


def _check_columns(table: str, columns: Sequence[str], given: Sequence[str]) -> None:
    unknown = [c for c in given if c not in columns]
    if unknown:
        raise WorkspaceError(
            f"Table {table!r} has no column(s) {', '.join(map(repr, unknown))}; its columns are "
            f"{', '.join(columns)}."
        )


def _register(con: duckdb.DuckDBPyConnection, data: pa.Table | pa.RecordBatchReader) -> str:
    view = f"_critmin_rows_{uuid.uuid4().hex}"
    con.register(view, data)
    return view


def _check_constant(con: duckdb.DuckDBPyConnection, view: str, table: str, key: str, value: Any) -> None:
    """A replace keyed on ``key = value`` must only write rows with that value, or the next replace of
    the same subset would leave them behind."""
    bad = _count(
        con.execute(f"SELECT count(*) FROM {view} WHERE {quote_ident(key)} IS DISTINCT FROM ?", [value])
    )
    if bad:
        raise WorkspaceError(
            f"Replacing rows of {table!r} where {key} = {value!r}, but {bad} new row(s) have another {key}; "
            f"set {key} to {value!r} on every row, or drop the column to have it filled."
        )


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, view: str, expected: int, fills: list[str], values: list[Any]
) -> int:
    extra = "".join(f", ? AS {quote_ident(k)}" for k in fills)
    try:
        return _count(
            con.execute(f"INSERT INTO {quote_ident(table)} BY NAME SELECT *{extra} FROM {view}", values)
        )
    except duckdb.Error as exc:
        raise WorkspaceError(
            f"Could not write {expected:,} row(s) into {table!r}; the transaction is rolled back: {exc}"
        ) from exc


def _count(result: duckdb.DuckDBPyConnection) -> int:
    row = result.fetchone()
    return int(row[0]) if row else 0
