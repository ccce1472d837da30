"""The ingest pipeline: file -> chunks -> canonical lines + quarantine, with counts that always add up.

``ingest`` streams the file in chunks (``chunk_rows`` rows at a time), so memory follows the chunk size,
not the file size. Each chunk is normalised, every issue recorded, error rows quarantined with their
original cells, repeats of earlier rows caught across chunks, and the results handed to a *sink*: kept in
memory by default, or written straight to the workspace by :mod:`critmin.ledger.store`. The invariant
``rows_in == rows_loaded + rows_quarantined`` is checked on every chunk; ``rows_blank`` counts wholly
empty rows, which are skipped and not part of ``rows_in``.

What concerns the whole file rather than a row — which sheet or which of two same-named columns was used,
what the file turned out to be — is a :class:`~critmin.ledger.readers.SourceNote`: listed in
:attr:`ImportResult.notes`, counted in ``issue_counts`` and reported by :meth:`ImportResult.issues` as a
warning, on the header row when it is about a header.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from critmin.errors import CritminError
from critmin.ledger import validate as v
from critmin.ledger.codes import LookupCache, hts_unit_table
from critmin.ledger.dates import infer_order
from critmin.ledger.headers import ColumnMapping, DateOrder, MappingSpec, map_headers, resolve_spec
from critmin.ledger.normalise import NormaliseContext, normalise_chunk
from critmin.ledger.prefetch import Prefetched
from critmin.ledger.readers import (
    ROW,
    RawChunk,
    Reader,
    SourceInfo,
    SourceNote,
    duplicate_header_notes,
    open_source,
)
from critmin.ledger.schema import LEDGER_SCHEMA, QUARANTINE_SCHEMA, conform
from critmin.ledger.units import scale_table, unit_table

DEFAULT_CHUNK_ROWS = 100_000

WARNING_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "line_id": pl.String(),
    "column": pl.String(),
    "code": pl.String(),
    "message": pl.String(),
}

Progress = Callable[[int, int | None], None]
"""Called after each chunk with (rows read so far, estimated total rows or None)."""


class CountMismatchError(CritminError):
    """Internal invariant broken: a row was neither loaded nor quarantined. Never expected to be raised."""


class LineSink(Protocol):
    """Where each chunk's results go."""

    def write(self, lines: pl.DataFrame, quarantine: pl.DataFrame, warnings: pl.DataFrame) -> None: ...

    def close(self) -> None:
        """Called once after the last chunk (also after a failure): finish or abandon pending work."""


class MemorySink:
    """Keeps everything in memory (the default; fine for ledgers up to a few million lines).

    ``keep_lines=False`` keeps only quarantine and warnings, for validation: memory then stays at a
    chunk whatever the file's length.
    """

    def __init__(self, *, keep_lines: bool = True) -> None:
        self.keep_lines = keep_lines
        self._lines: list[pl.DataFrame] = []
        self._quarantine: list[pl.DataFrame] = []
        self._warnings: list[pl.DataFrame] = []

    def write(self, lines: pl.DataFrame, quarantine: pl.DataFrame, warnings: pl.DataFrame) -> None:
        if self.keep_lines:
            self._lines.append(lines)
        self._quarantine.append(quarantine)
        self._warnings.append(warnings)

    def close(self) -> None:
        pass

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        lines = pl.concat(self._lines, how="vertical") if self._lines else pl.DataFrame(schema=LEDGER_SCHEMA)
        quarantine = (
            pl.concat(self._quarantine, how="vertical")
            if self._quarantine
            else pl.DataFrame(schema=QUARANTINE_SCHEMA)
        )
        warnings = (
            pl.concat(self._warnings, how="vertical")
            if self._warnings
            else pl.DataFrame(schema=WARNING_SCHEMA)
        )
        return lines, quarantine, warnings


class ParquetSink:
    """Streams each chunk to numbered Parquet parts in a directory: memory stays at one chunk.

    Parts are LZ4-compressed: a working copy favours write speed over size (zstd is a third smaller and
    a quarter slower to write).

    ``lines-*.parquet``, ``quarantine-*.parquet`` and ``warnings-*.parquet``; read them back with
    ``pl.scan_parquet(directory / "lines-*.parquet")``.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._part = 0
        # one writer thread, one part in flight: the next chunk is normalised while this one is written
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="critmin-parquet")
        self._pending: Future[None] | None = None

    def write(self, lines: pl.DataFrame, quarantine: pl.DataFrame, warnings: pl.DataFrame) -> None:
        self._wait()
        self._part += 1
        self._pending = self._writer.submit(self._write_part, self._part, lines, quarantine, warnings)

    def _write_part(
        self, part: int, lines: pl.DataFrame, quarantine: pl.DataFrame, warnings: pl.DataFrame
    ) -> None:
        for name, frame in (("lines", lines), ("quarantine", quarantine), ("warnings", warnings)):
            frame.write_parquet(self.directory / f"{name}-{part:05d}.parquet", compression="lz4")

    def _wait(self) -> None:
        """Surface the previous part's write error, if any, before going on."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._writer.shutdown(wait=True)


@dataclass
class ImportResult:
    """What an import did: counts, the mapping used, and (with the default sink) the frames."""

    source: SourceInfo
    mapping: ColumnMapping
    date_order: DateOrder
    date_order_basis: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_blank: int = 0
    duplicates: int = 0
    elapsed_s: float = 0.0
    lines: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LEDGER_SCHEMA))
    quarantine: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=WARNING_SCHEMA))
    issue_counts: dict[str, int] = field(default_factory=dict)
    """issues per code (errors and warnings; a row can have several)"""
    quarantined_by_code: dict[str, int] = field(default_factory=dict)
    """quarantined rows per error code: why rows were left out (a row with two errors counts under both)"""

    @property
    def notes(self) -> list[SourceNote]:
        """What concerns the whole file: the sheet or column used when there was a choice, and so on."""
        return self.source.notes

    def issues(self) -> pl.DataFrame:
        """Every issue (file notes, quarantine reasons and warnings), by row: ``row, column, code, severity,
        message``. File notes come first (their row is the header row, or empty)."""
        errors = self.quarantine.select(
            pl.col("source_row").alias("row"), "column", "code", "message"
        ).with_columns(
            pl.col("code")
            .replace_strict({c.code: c.severity.value for c in v.ISSUE_CODES}, default="error")
            .alias("severity")
        )
        warnings = self.warnings.select(
            pl.col("source_row").alias("row"),
            "column",
            "code",
            "message",
            pl.lit("warning").alias("severity"),
        )
        return (
            pl.concat(
                [
                    v.note_issues(self.notes).select(pl.col("source_row").alias("row"), *errors.columns[1:]),
                    errors,
                    warnings,
                ],
                how="vertical",
            )
            .unique(maintain_order=True)
            .sort("row", maintain_order=True, nulls_last=False)
        )

    def summary(self) -> dict[str, Any]:
        return {
            "file": str(self.source.path),
            "sha256": self.source.sha256,
            "format": self.source.format,
            "encoding": self.source.encoding,
            "sheet": self.source.sheet,
            "header_row": self.source.header_row,
            "date_order": self.date_order,
            "date_order_basis": self.date_order_basis,
            "rows_in": self.rows_in,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "rows_blank": self.rows_blank,
            "duplicates": self.duplicates,
            "issue_counts": dict(sorted(self.issue_counts.items())),
            "quarantined_by_code": dict(sorted(self.quarantined_by_code.items())),
            "notes": [note.as_dict() for note in self.notes],
            "elapsed_s": round(self.elapsed_s, 3),
        }


def prepare(
    path: Path, mapping: MappingSpec | Path | None = None, sheet: str | int | None = None
) -> tuple[Reader, MappingSpec, ColumnMapping]:
    """Open the file and decide the column mapping, without reading the rows (``critmin ledger mapping``)."""
    spec, origin = resolve_spec(mapping)
    reader = open_source(path, spec, sheet)
    try:
        columns = map_headers(reader.info.columns, spec, origin=origin)
    except BaseException:
        reader.close()
        raise
    reader.info.notes.extend(duplicate_header_notes(reader.info, columns))
    return reader, spec, columns


def ingest(
    path: Path,
    *,
    mapping: MappingSpec | Path | None = None,
    sheet: str | int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    sink: LineSink | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Read, normalise and validate a ledger file; every row ends up loaded or quarantined."""
    prepared = prepare(path, mapping, sheet)
    return run(prepared, chunk_rows=chunk_rows, sink=sink, progress=progress)


def run(
    prepared: tuple[Reader, MappingSpec, ColumnMapping],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    sink: LineSink | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """The pipeline over a file already opened by :func:`prepare`.

    Three stages overlap: a thread parses the next chunk, two threads normalise and check chunks, and
    this thread settles them in file order (repeats across chunks, counts, the sink).
    """
    started = time.perf_counter()
    reader, spec, columns = prepared
    sink = sink if sink is not None else MemorySink()
    try:
        with Prefetched(reader.chunks(chunk_rows)) as chunks:  # reading starts while the context is built
            ctx = NormaliseContext(
                mapping=columns,
                source_name=reader.info.name,
                date_order=spec.date_order or "mdy",
                decimal_comma=spec.decimal_comma,
                cache=LookupCache(spec.units),
                hts_units=hts_unit_table(),
            )
            result = ImportResult(
                source=reader.info,
                mapping=columns,
                date_order=ctx.date_order,
                date_order_basis="mapping file" if spec.date_order else "default (U.S. month/day/year)",
            )
            for note in reader.info.notes:
                result.issue_counts[note.code] = result.issue_counts.get(note.code, 0) + 1
            tracker = v.DuplicateTracker()
            unit_table()  # built here once (pint), not raced by the two checker threads
            scale_table()

            def settle(future: Future[_Checked]) -> None:
                checked = future.result()
                sink.write(*_settle(checked, ctx, tracker, result))
                if progress is not None:
                    progress(checked.consumed, reader.info.rows_estimate)

            with ThreadPoolExecutor(_CHECKERS, thread_name_prefix="critmin-check") as checkers:
                in_flight: deque[Future[_Checked]] = deque()
                consumed = 0
                for index, chunk in enumerate(chunks):
                    if index == 0 and spec.date_order is None and "entry_date" in columns.fields:
                        _decide_date_order(reader, chunk, chunk_rows, ctx, result)
                    consumed += chunk.consumed
                    in_flight.append(checkers.submit(_check, chunk, ctx, consumed))
                    while len(in_flight) >= _CHECKERS or (in_flight and in_flight[0].done()):
                        settle(in_flight.popleft())
                for future in in_flight:
                    settle(future)
    finally:
        reader.close()
        sink.close()
    result.duplicates = tracker.duplicates
    if isinstance(sink, MemorySink):
        result.lines, result.quarantine, result.warnings = sink.frames()
    result.elapsed_s = time.perf_counter() - started
    return result


def _decide_date_order(
    reader: Reader, first: RawChunk, chunk_rows: int, ctx: NormaliseContext, result: ImportResult
) -> None:
    """One order for the whole file, decided before any row is parsed.

    The first chunk usually settles it (a ``14/03/2025`` proves day-first). When every slash date there
    is ambiguous and the file goes on, the whole date column is read ahead, so a file sorted by date
    whose first 100,000 lines all fall on days 1-12 is still read consistently.
    """
    column = ctx.mapping.fields["entry_date"]
    inferred = infer_order(first.frame.get_column(column))
    if inferred is None and (reader.info.rows_estimate or 0) > chunk_rows:
        values = reader.column_values(column)
        inferred = infer_order(values) if values is not None else None
    if inferred is not None:
        ctx.date_order = inferred
        result.date_order = inferred
        result.date_order_basis = "inferred from the values in the file"


_CHECKERS = 2
"""Chunks normalised at once. Polars releases the GIL, so two chunks keep two cores busy; duplicates
across chunks and the sink are then settled one chunk at a time, in file order."""


@dataclass
class _Checked:
    """One chunk normalised and checked on its own: everything that does not depend on other chunks."""

    chunk: RawChunk
    normal: pl.DataFrame
    issues: pl.DataFrame
    error_rows: pl.Series
    consumed: int
    """rows of the file read up to the end of this chunk, for progress"""


def _check(chunk: RawChunk, ctx: NormaliseContext, consumed: int) -> _Checked:
    normal, issues = normalise_chunk(chunk.frame, ctx, chunk.ascii_columns)
    issues = pl.concat([issues, _bad_row_issues(chunk.bad_rows)], how="vertical")
    if chunk.oversize.height:
        issues = v.precise_first(pl.concat([issues, v.oversize_issues(chunk.oversize)], how="vertical"))
    error_rows = issues.filter(pl.col("severity") == "error").get_column("source_row").unique()
    return _Checked(chunk, normal, issues, error_rows, consumed)


def _settle(
    checked: _Checked, ctx: NormaliseContext, tracker: v.DuplicateTracker, result: ImportResult
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Catch repeats of earlier rows and split the chunk into loaded lines, quarantine rows and warnings."""
    chunk, raw, issues, error_rows = checked.chunk, checked.chunk.frame, checked.issues, checked.error_rows
    candidates = _without_rows(checked.normal, error_rows)
    duplicate_issues = tracker.check(candidates, user_ids=candidates.get_column("__user_id"))
    issues = pl.concat([issues, duplicate_issues], how="vertical")
    loaded = _without_rows(candidates, duplicate_issues.get_column("source_row"))

    quarantined_rows = pl.concat(
        [error_rows, duplicate_issues.get_column("source_row"), chunk.bad_rows.get_column(ROW)]
    ).unique()
    quarantine = _quarantine_frame(issues, raw, chunk.bad_rows, quarantined_rows, ctx.source_name)
    warnings = _warning_frame(issues, loaded, ctx.source_name)
    lines = conform(loaded.drop(ROW, "__user_id"))

    rows_in = raw.height + chunk.bad_rows.height
    n_quarantined = quarantined_rows.len()
    if rows_in != lines.height + n_quarantined:
        raise CountMismatchError(
            f"{ctx.source_name}: {rows_in} rows read but {lines.height} loaded + {n_quarantined} quarantined."
        )
    result.rows_in += rows_in
    result.rows_loaded += lines.height
    result.rows_quarantined += n_quarantined
    result.rows_blank += chunk.blank
    for code, count in issues.group_by("code").len().iter_rows():
        result.issue_counts[code] = result.issue_counts.get(code, 0) + int(count)
    errors = issues.filter(pl.col("severity") == "error")  # only quarantined rows have errors
    for code, count in errors.group_by("code").agg(pl.col("source_row").n_unique()).iter_rows():
        result.quarantined_by_code[code] = result.quarantined_by_code.get(code, 0) + int(count)
    return lines, quarantine, warnings


def _without_rows(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """``frame`` less the given source rows (most chunks have none to drop: no copy then)."""
    if rows.len() == 0:
        return frame
    return frame.filter(~pl.col(ROW).is_in(rows.implode()))


def _bad_row_issues(bad_rows: pl.DataFrame) -> pl.DataFrame:
    """Rows the parser could not split into the header's columns."""
    unbalanced = pl.col("text").str.count_matches('"') % 2 == 1
    message = (
        pl.lit("Row has ")
        + pl.col("fields").cast(pl.String)
        + pl.lit(" fields but the header has ")
        + pl.col("expected").cast(pl.String)
        + pl.when(unbalanced).then(pl.lit(" (a quote is not closed)")).otherwise(pl.lit(""))
        + pl.lit(".")
    )
    return v.issues_where(bad_rows, pl.lit(True), column="(row)", code="field_count", message=message)


def _quarantine_frame(
    issues: pl.DataFrame,
    raw: pl.DataFrame,
    bad_rows: pl.DataFrame,
    rows: pl.Series,
    source_name: str,
) -> pl.DataFrame:
    """One quarantine row per issue of every quarantined row, with the row's original cells as JSON."""
    if rows.len() == 0:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    user_columns = [c for c in raw.columns if c != ROW]
    cells = raw.filter(pl.col(ROW).is_in(rows.implode())).select(
        pl.col(ROW).alias("source_row"),
        pl.struct(user_columns).struct.json_encode().alias("raw")
        if user_columns
        else pl.lit("{}").alias("raw"),
    )
    texts = bad_rows.select(
        pl.col(ROW).alias("source_row"),
        pl.struct(pl.col("text").alias("row_text")).struct.json_encode().alias("raw"),
    )
    originals = pl.concat([cells, texts], how="vertical")
    picked = issues.filter(pl.col("source_row").is_in(rows.implode()))
    return (
        picked.join(originals, on="source_row", how="left")
        .with_columns(pl.lit(source_name, dtype=pl.String).alias("source_file"))
        .sort("source_row", maintain_order=True)
        .select(list(QUARANTINE_SCHEMA))
    )


def _warning_frame(issues: pl.DataFrame, loaded: pl.DataFrame, source_name: str) -> pl.DataFrame:
    warnings = issues.filter(pl.col("severity") == "warning")
    if warnings.height == 0:
        return pl.DataFrame(schema=WARNING_SCHEMA)
    ids = loaded.select(pl.col(ROW).alias("source_row"), "line_id")
    return (
        warnings.join(ids, on="source_row", how="inner")
        .with_columns(pl.lit(source_name, dtype=pl.String).alias("source_file"))
        .sort("source_row", maintain_order=True)
        .select(list(WARNING_SCHEMA))
    )
