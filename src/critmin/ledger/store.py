"""Ledgers and BOMs in the workspace: transactional, idempotent imports and the queries over them.

Rules (tested in ``tests/ledger/test_store.py``):

1. Importing a file whose SHA-256 is already recorded (and not since replaced by another version of that
   file) changes nothing and says so.
2. An import runs in one transaction: lines, quarantine, warnings, classification, content and the import
   record commit together, or — on any error, including an interrupt — nothing does.
3. A new version of a file (same file name, different checksum) replaces the lines, quarantine and warnings
   of the earlier version. A line id that already exists is replaced by the newer line, so re-importing a
   fixed quarantine export (which keeps the original file and row) fills the gap without duplicates, and
   the quarantine rows it fixes are removed.
4. Classification and reference-factor content depend only on the HTS code (and the reference data in
   use, :func:`critmin.ledger.classify.scope_version`), so they are stored once per code and read back per
   line through the views ``ledger_classification`` and ``ledger_line_content``; only content stated on a
   line (or through its part number's BOM) is stored per line, in ``ledger_stated_content``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from critmin import __version__
from critmin.ledger.bom import BomResult, read_bom
from critmin.ledger.classify import (
    LINE_CONTENT_SCHEMA,
    code_classification,
    code_content,
    line_content,
    scope_version,
    stated_content,
)
from critmin.ledger.headers import MappingSpec
from critmin.ledger.ingest import (
    DEFAULT_CHUNK_ROWS,
    ImportResult,
    Progress,
    prepare,
    run,
)
from critmin.ledger.readers import file_sha256
from critmin.ledger.schema import LEDGER_SCHEMA
from critmin.refdata.scope import CLASSIFICATION_SCHEMA
from critmin.workspace import Workspace

LINE_TABLE = "ledger_lines"
STATED_CONTENT_TABLE = "ledger_stated_content"
WORKSPACE_CHUNK_ROWS = DEFAULT_CHUNK_ROWS
"""Rows per chunk of an import into the workspace, as for any ingest: each chunk costs a fixed number of
Polars operations, so 50,000-line chunks took a tenth more CPU time; on a 1,000,000-line file the peak stays
near 850 MB (DuckDB reads each chunk as a stream, see :func:`critmin.workspace.rows.append_rows`)."""
CODE_TABLES = ("ledger_code_classification", "ledger_code_content")
_WRITES_IN_FLIGHT = 2
"""Chunks handed to the workspace writer thread and not yet written."""
_HELD_ROWS = 20_000
"""Quarantine and warning rows held by the workspace sink before they are appended."""


@dataclass
class StoredImport:
    """Outcome of :func:`import_ledger`."""

    import_id: int
    status: str  # "imported" | "unchanged"
    result: ImportResult | None
    lines_replaced: int = 0
    record: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        base: dict[str, Any] = {"import_id": self.import_id, "status": self.status}
        if self.result is not None:
            base |= self.result.summary()
            base["lines_replaced"] = self.lines_replaced
        elif self.record is not None:
            base |= {k: self.record[k] for k in ("source_file", "rows_in", "rows_loaded", "rows_quarantined")}
            base["imported_at"] = str(self.record["imported_at"])
        return base


class _WorkspaceSink:
    """Writes each chunk into the workspace inside the import's transaction.

    The writes run on a thread of their own, in file order, with up to :data:`_WRITES_IN_FLIGHT` chunks
    handed over: DuckDB appends a chunk (releasing the GIL) while the next chunks are read, checked and
    settled, and a chunk that fills a DuckDB row group (and so costs three times the others to append)
    does not hold up the checks. Only that thread uses the connection until :meth:`close` has waited for
    it; an error it raised surfaces at a later write or at close. Quarantine and warning rows, a few per
    chunk, are held and appended :data:`_HELD_ROWS` at a time (each append has a fixed cost of a few
    milliseconds).
    """

    def __init__(
        self, ws: Workspace, con: duckdb.DuckDBPyConnection, import_id: int, *, classify: bool
    ) -> None:
        self.ws = ws
        self.con = con
        self.import_id = import_id
        self.classify = classify
        self.replaced = 0
        self.bom_content = _bom_item_content(con)
        self.codes: list[pl.Series] = []
        # Line ids are unique within one import (repeats are quarantined), so a line can only replace a
        # line of another import, and a fixed row can only clear quarantine of another import: with none
        # there, the per-chunk lookups are skipped.
        self.other_lines = _has_rows(con, LINE_TABLE)
        self.quarantined = _has_rows(con, "ledger_quarantine")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="critmin-workspace")
        self._pending: deque[Future[None]] = deque()
        self._held: dict[str, list[pl.DataFrame]] = {"ledger_quarantine": [], "ledger_warnings": []}
        self._held_rows = 0

    def close(self) -> None:
        """Wait for the last write and append the rows held (the import's transaction then commits or rolls
        back everything)."""
        try:
            self._wait(0)
            self._append_held()  # the writer thread is idle now
        finally:
            for pending in self._pending:
                pending.cancel()
            self._writer.shutdown(wait=True)

    def _wait(self, at_most: int) -> None:
        """Wait until at most ``at_most`` writes are pending, surfacing the first error."""
        while len(self._pending) > at_most:
            self._pending[0].result()
            self._pending.popleft()

    def write(self, lines: pl.DataFrame, quarantine: pl.DataFrame, warnings: pl.DataFrame) -> None:
        """Prepare the chunk's rows here and hand them to the writer thread, which only runs DuckDB."""
        arrow: pa.Table | None = None
        stated: pl.DataFrame | None = None
        if lines.height:
            # Columns empty on every line are left to the table's default (NULL): DuckDB need not read
            # them. Arrow string views: DuckDB reads Polars' strings where they are, with no copy.
            filled = [c for c in lines.columns if lines.get_column(c).null_count() < lines.height]
            tagged = lines.select(*filled, pl.lit(self.import_id).alias("import_id"))
            arrow = tagged.to_arrow(compat_level=pl.CompatLevel.newest())
            if self.classify:
                self.codes.append(lines.get_column("hts").unique())
                stated = stated_content(lines, self.bom_content)
        held = [
            (table, rows.with_columns(pl.lit(self.import_id).alias("import_id")))
            for table, rows in (("ledger_quarantine", quarantine), ("ledger_warnings", warnings))
            if rows.height
        ]
        self._wait(_WRITES_IN_FLIGHT - 1)
        self._pending.append(self._writer.submit(self._write, lines, arrow, stated, held))

    def _write(
        self,
        lines: pl.DataFrame,
        arrow: pa.Table | None,
        stated: pl.DataFrame | None,
        held: list[tuple[str, pl.DataFrame]],
    ) -> None:
        if arrow is not None:
            if self.other_lines:
                self.replaced += _delete_lines(self.con, lines.select("line_id"))
            if self.quarantined:
                self._resolve_quarantine(lines)
            self.ws.append_rows(LINE_TABLE, arrow, con=self.con)
            if stated is not None and stated.height:
                self.ws.append_rows(STATED_CONTENT_TABLE, stated, con=self.con)
        for table, rows in held:
            self._held[table].append(rows)
            self._held_rows += rows.height
        if self._held_rows >= _HELD_ROWS:
            self._append_held()

    def _append_held(self) -> None:
        for table, frames in self._held.items():
            if frames:
                self.ws.append_rows(table, pl.concat(frames, how="vertical"), con=self.con)
                frames.clear()
        self._held_rows = 0

    def _resolve_quarantine(self, lines: pl.DataFrame) -> None:
        """A loaded line that carries an earlier file's name and row fixes that row's quarantine entries."""
        keys = lines.select("source_file", "source_row").unique().to_arrow()
        self.con.register("__fixed_rows", keys)
        try:
            self.con.execute(
                "DELETE FROM ledger_quarantine q USING __fixed_rows f "
                "WHERE q.source_file = f.source_file AND q.source_row = f.source_row AND q.import_id <> ?",
                [self.import_id],
            )
        finally:
            self.con.unregister("__fixed_rows")


def _has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()
    return bool(row and row[0])


def _store_codes(ws: Workspace, con: duckdb.DuckDBPyConnection, version: str, codes: list[pl.Series]) -> int:
    """Classify and give content factors to the codes not yet stored under ``version``; returns how many."""
    if not codes:
        return 0
    known = con.execute(
        "SELECT DISTINCT hts FROM ledger_code_classification WHERE scope_version = ?", [version]
    ).pl()
    new = pl.concat(codes).unique()
    new = new.filter(~new.is_in(known.get_column("hts").implode()))
    if new.len():
        tag = pl.lit(version).alias("scope_version")
        ws.append_rows(CODE_TABLES[0], code_classification(new).with_columns(tag), con=con)
        ws.append_rows(CODE_TABLES[1], code_content(new).with_columns(tag), con=con)
    return new.len()


def _delete_lines(con: duckdb.DuckDBPyConnection, ids: pl.DataFrame) -> int:
    """Remove lines (and their stated content) with these ids; returns how many lines went."""
    con.register("__ids", ids.to_arrow())
    try:
        row = con.execute(
            "SELECT count(*) FROM ledger_lines l SEMI JOIN __ids i ON l.line_id = i.line_id"
        ).fetchone()
        found = int(row[0]) if row else 0
        if found:
            for table in (STATED_CONTENT_TABLE, LINE_TABLE):
                con.execute(f"DELETE FROM {table} t USING __ids i WHERE t.line_id = i.line_id")
    finally:
        con.unregister("__ids")
    return found


def _bom_item_content(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """Content per unit of every BOM item in the workspace (the newest BOM wins for an item)."""
    frame = con.execute(
        "SELECT item, item_unit, mineral_id, kg_low, kg_central, kg_high, content_source "
        "FROM bom_item_content "
        "QUALIFY bom_id = max(bom_id) OVER (PARTITION BY item)"
    ).pl()
    return frame if frame.height else None


@contextmanager
def _single_threaded(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run DuckDB on one thread while a file streams in: the ingest pipeline already keeps the cores busy,
    and a multi-threaded append of each chunk then costs about twice the CPU time for no gain in speed."""
    row = con.execute("SELECT current_setting('threads')").fetchone()
    threads = int(row[0]) if row else 1
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {threads}")


def find_import(ws: Workspace, sha256: str) -> dict[str, Any] | None:
    """The import record of a file with this checksum, if any."""
    with ws.connect() as con:
        frame = con.execute("SELECT * FROM ledger_imports WHERE file_sha256 = ?", [sha256]).pl()
    return frame.to_dicts()[0] if frame.height else None


def _is_current(ws: Workspace, record: dict[str, Any]) -> bool:
    """True unless a later import of the same file name replaced this one's lines."""
    with ws.connect() as con:
        row = con.execute(
            "SELECT max(import_id) FROM ledger_imports WHERE source_file = ?", [record["source_file"]]
        ).fetchone()
    return row is not None and row[0] == record["import_id"]


def import_ledger(
    ws: Workspace,
    path: Path,
    *,
    mapping: MappingSpec | Path | None = None,
    sheet: str | int | None = None,
    chunk_rows: int = WORKSPACE_CHUNK_ROWS,
    progress: Progress | None = None,
    classify: bool = True,
) -> StoredImport:
    """Import a ledger file into the workspace (idempotent by checksum, atomic).

    ``classify`` also stores the scope-map classification and reference content factors of each HTS code
    the ledger uses (read per line through :func:`classification` and :func:`content`), and the content
    stated on lines; without it only lines, quarantine and warnings are written, and classification is
    computed on demand (``critmin ledger classify``).
    """
    prepared = prepare(path, mapping, sheet)
    reader = prepared[0]
    existing = find_import(ws, reader.info.sha256)
    if existing is not None and _is_current(ws, existing):
        reader.close()
        return StoredImport(int(existing["import_id"]), "unchanged", None, record=existing)
    with ws.transaction() as con:
        row = con.execute("SELECT nextval('ledger_import_id')").fetchone()
        assert row is not None
        import_id = int(row[0])
        name = reader.info.name
        old = con.execute("SELECT line_id FROM ledger_lines WHERE source_file = ?", [name]).pl()
        replaced = _delete_lines(con, old) if old.height else 0
        con.execute("DELETE FROM ledger_quarantine WHERE source_file = ?", [name])
        con.execute("DELETE FROM ledger_warnings WHERE source_file = ?", [name])
        # the same content imported before and since replaced: this import supersedes that record
        con.execute("DELETE FROM ledger_imports WHERE file_sha256 = ?", [reader.info.sha256])
        sink = _WorkspaceSink(ws, con, import_id, classify=classify)
        with _single_threaded(con):
            result = run(prepared, chunk_rows=chunk_rows, sink=sink, progress=progress)
        replaced += sink.replaced
        version = scope_version() if classify else None
        if version is not None:
            _store_codes(ws, con, version, sink.codes)
        con.execute(
            "INSERT INTO ledger_imports (import_id, file_sha256, source_file, source_path, format, encoding, "
            "sheet, header_row, date_order, mapping, rows_in, rows_loaded, rows_quarantined, rows_blank, "
            "duplicates, lines_replaced, critmin_version, scope_version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                import_id,
                result.source.sha256,
                name,
                str(result.source.path),
                result.source.format,
                result.source.encoding,
                result.source.sheet,
                result.source.header_row,
                result.date_order,
                json.dumps(result.mapping.as_dict()),
                result.rows_in,
                result.rows_loaded,
                result.rows_quarantined,
                result.rows_blank,
                result.duplicates,
                replaced,
                __version__,
                version,
            ],
        )
        ws.log_event(
            "ledger.imported",
            {"import_id": import_id, "file": name, "sha256": result.source.sha256, **_counts(result)},
            con=con,
        )
    return StoredImport(import_id, "imported", result, lines_replaced=replaced)


def _counts(result: ImportResult) -> dict[str, int]:
    return {
        "rows_in": result.rows_in,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
    }


# ----------------------------------------------------------------------------------------------------------
# Queries
# ----------------------------------------------------------------------------------------------------------


def imports(ws: Workspace) -> pl.DataFrame:
    with ws.connect() as con:
        return con.execute(
            "SELECT import_id, source_file, format, rows_in, rows_loaded, rows_quarantined, rows_blank, "
            "duplicates, "
            "lines_replaced, imported_at, file_sha256 FROM ledger_imports ORDER BY import_id"
        ).pl()


def lines(ws: Workspace, *, import_id: int | None = None, limit: int | None = None) -> pl.DataFrame:
    """The canonical ledger stored in the workspace (LEDGER_SCHEMA columns), in import and row order."""
    columns = ", ".join(LEDGER_SCHEMA)
    sql = f"SELECT {columns} FROM ledger_lines"
    args: list[Any] = []
    if import_id is not None:
        sql += " WHERE import_id = ?"
        args.append(import_id)
    sql += " ORDER BY import_id, source_file, source_row"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with ws.connect() as con:
        frame = con.execute(sql, args).pl()
    return frame.select([pl.col(n).cast(t) for n, t in LEDGER_SCHEMA.items()])


def quarantine(ws: Workspace, *, source_file: str | None = None) -> pl.DataFrame:
    sql = (
        'SELECT source_file, source_row, "column", code, message, raw::VARCHAR AS raw FROM ledger_quarantine'
    )
    args: list[Any] = []
    if source_file is not None:
        sql += " WHERE source_file = ?"
        args.append(source_file)
    sql += " ORDER BY source_file, source_row"
    with ws.connect() as con:
        return con.execute(sql, args).pl()


def classification(ws: Workspace) -> pl.DataFrame:
    """CLASSIFICATION_SCHEMA rows of every classified line: each line joined to its code's rows."""
    with ws.connect() as con:
        frame = con.execute("SELECT * FROM ledger_classification ORDER BY line_id, mineral_id").pl()
    return frame.select([pl.col(n).cast(t) for n, t in CLASSIFICATION_SCHEMA.items()])


def content(ws: Workspace) -> pl.DataFrame:
    """LINE_CONTENT_SCHEMA rows of every classified line: stated content, or its code's factors x mass."""
    with ws.connect() as con:
        frame = con.execute("SELECT * FROM ledger_line_content ORDER BY line_id, mineral_id").pl()
    return frame.select([pl.col(n).cast(t) for n, t in LINE_CONTENT_SCHEMA.items()])


def bom_item_content(ws: Workspace) -> pl.DataFrame | None:
    with ws.connect() as con:
        return _bom_item_content(con)


# ----------------------------------------------------------------------------------------------------------
# Quarantine export
# ----------------------------------------------------------------------------------------------------------


def quarantine_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per quarantined source row: provenance, every problem, then the original cells.

    ``frame`` has the QUARANTINE_SCHEMA columns. The result can be edited and imported again: its
    ``source_file``/``source_row`` columns give each fixed row back its original identity.
    """
    if frame.height == 0:
        return pl.DataFrame(
            schema={"source_file": pl.String, "source_row": pl.Int64, "critmin_issues": pl.String}
        )
    grouped = (
        frame.group_by("source_file", "source_row", maintain_order=True)
        .agg(
            (pl.col("code") + pl.lit(" [") + pl.col("column") + pl.lit("]: ") + pl.col("message"))
            .str.join(" | ")
            .alias("critmin_issues"),
            pl.col("raw").first(),
        )
        .sort("source_file", "source_row")
    )
    parts: list[pl.DataFrame] = []
    for (source_file,), part in grouped.group_by("source_file", maintain_order=True):
        cells = part.get_column("raw").str.json_decode()
        if isinstance(cells.dtype, pl.Struct):
            decoded = cells.struct.unnest()
            decoded = decoded.select([pl.col(c).cast(pl.String) for c in decoded.columns])
        else:
            decoded = pl.DataFrame()
        clash = [c for c in decoded.columns if c in ("source_file", "source_row", "critmin_issues")]
        decoded = decoded.drop(clash)
        head = part.select(pl.lit(source_file).alias("source_file"), "source_row")
        parts.append(head.hstack(decoded.get_columns()).hstack(part.select("critmin_issues").get_columns()))
    return pl.concat(parts, how="diagonal")


def export_quarantine(frame: pl.DataFrame, out: Path) -> int:
    """Write :func:`quarantine_rows` to CSV (or .xlsx / .parquet by suffix); returns the number of rows."""
    rows = quarantine_rows(frame)
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        rows.write_excel(out, worksheet="quarantine")
    elif suffix in {".parquet", ".pq"}:
        rows.write_parquet(out)
    else:
        rows.write_csv(out)
    return rows.height


# ----------------------------------------------------------------------------------------------------------
# BOMs
# ----------------------------------------------------------------------------------------------------------


@dataclass
class StoredBom:
    bom_id: int
    status: str
    result: BomResult | None
    lines_updated: int = 0


def import_bom(
    ws: Workspace, path: Path, *, mapping: MappingSpec | Path | None = None, sheet: str | int | None = None
) -> StoredBom:
    """Store a BOM and its explosion; re-derive the content of ledger lines whose part numbers it covers."""
    sha = file_sha256(path)
    with ws.connect() as con:
        found = con.execute(
            "SELECT b.bom_id FROM bom_imports b WHERE b.file_sha256 = ? AND b.bom_id = "
            "(SELECT max(bom_id) FROM bom_imports o WHERE o.source_file = b.source_file)",
            [sha],
        ).fetchone()
    if found is not None:
        return StoredBom(int(found[0]), "unchanged", None)
    result = read_bom(path, mapping=mapping, sheet=sheet)
    with ws.transaction() as con:
        row = con.execute("SELECT nextval('bom_id')").fetchone()
        assert row is not None
        bom_id = int(row[0])
        name = result.source.name
        for table in ("bom_edges", "bom_explosion", "bom_item_content", "bom_issues"):
            con.execute(
                f"DELETE FROM {table} WHERE bom_id IN (SELECT bom_id FROM bom_imports WHERE source_file = ?)",
                [name],
            )
        con.execute("DELETE FROM bom_imports WHERE file_sha256 = ?", [sha])
        con.execute(
            "INSERT INTO bom_imports (bom_id, file_sha256, source_file, source_path, mapping, rows_in, "
            "rows_loaded, "
            "rows_quarantined, finished_goods, critmin_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                bom_id,
                sha,
                name,
                str(path),
                json.dumps(result.mapping.as_dict()),
                result.rows_in,
                result.rows_loaded,
                result.rows_quarantined,
                json.dumps(result.finished_goods),
                __version__,
            ],
        )
        tag = pl.lit(bom_id).alias("bom_id")
        ws.append_rows("bom_edges", result.edges.with_columns(tag), con=con)
        ws.append_rows("bom_explosion", result.explosion.with_columns(tag), con=con)
        ws.append_rows("bom_item_content", result.per_unit.with_columns(tag), con=con)
        if result.issues.height:
            ws.append_rows(
                "bom_issues",
                result.issues.with_columns(tag, pl.lit(name).alias("source_file")),
                con=con,
            )
        updated = _refresh_content(ws, con)
        ws.log_event("ledger.bom_imported", {"bom_id": bom_id, "file": name, **result.summary()}, con=con)
    return StoredBom(bom_id, "imported", result, lines_updated=updated)


def _refresh_content(ws: Workspace, con: duckdb.DuckDBPyConnection) -> int:
    """Recompute the content of lines whose part number is a BOM item (BOM content outranks factors)."""
    per_unit = _bom_item_content(con)
    if per_unit is None:
        return 0
    columns = ", ".join(f"l.{c}" for c in LEDGER_SCHEMA)
    # a line whose code has per-code content keeps only its BOM/ledger rows; other lines (imported before
    # per-code storage, or without classification) keep every row, as before
    per_code = (
        "EXISTS (SELECT 1 FROM ledger_imports i JOIN ledger_code_content f ON f.scope_version = "
        "i.scope_version WHERE i.import_id = l.import_id AND f.hts = l.hts) AS __per_code"
    )
    con.register("__items", per_unit.select("item").unique().to_arrow())
    try:
        linked = con.execute(
            f"SELECT {columns}, {per_code} FROM ledger_lines l "
            "WHERE l.part_number IN (SELECT item FROM __items)"
        ).pl()
    finally:
        con.unregister("__items")
    if linked.height == 0:
        return 0
    by_code = linked.filter(pl.col("__per_code")).select("line_id")
    linked = linked.select([pl.col(n).cast(t) for n, t in LEDGER_SCHEMA.items()])
    con.register("__ids", linked.select("line_id").to_arrow())
    try:
        con.execute(f"DELETE FROM {STATED_CONTENT_TABLE} t USING __ids i WHERE t.line_id = i.line_id")
    finally:
        con.unregister("__ids")
    rows = line_content(linked, per_unit)
    derived = pl.col("content_source").is_in(["factor", "none"]) & pl.col("line_id").is_in(
        by_code.get_column("line_id").implode()
    )
    ws.append_rows(STATED_CONTENT_TABLE, rows.filter(~derived), con=con)
    return linked.height
