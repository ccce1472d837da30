"""Reading a user's file as chunks of text columns, whatever its format or encoding.

Every reader yields the same thing: Polars frames of String columns named after the user's headers, plus a
``__row`` column holding the row number the user sees (the spreadsheet row; for CSV the record number
with the header counted, so a multi-line quoted cell is still one row). Rows the parser cannot split into
the header's columns are handed back as *bad rows* with their text, never dropped. Values stay text here;
parsing belongs to the normalisers, so one bad cell costs one quarantined row, not the file.

CSV/TSV streams through pyarrow's incremental reader (single-threaded so that every bad row knows its
number); Excel through openpyxl in read-only mode, rows batched into column lists; Parquet by record batch.

Which reader opens a file is decided by its content (:mod:`critmin.ledger.sniff`), not its name: a workbook
saved as ``.csv`` is read as a workbook, a PDF or an archive is refused with what it is and the fix, and
what was decided is said in the file's :attr:`SourceInfo.notes`. A cell longer than
:data:`MAX_CELL_BYTES` is cut in the chunk and its row quarantined (``cell_too_large``): no ledger value is
that long, and one such cell must cost one row, not the import.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from critmin.errors import InputError
from critmin.ledger.fields import LEDGER_FIELDS, FieldSet
from critmin.ledger.headers import (
    HEADER_SCAN_ROWS,
    ColumnMapping,
    MappingSpec,
    column_letter,
    column_names,
    detect_header_row,
    duplicate_headers,
    score_header_row,
)
from critmin.ledger.sniff import FileKind, Sniffed, sniff

ROW = "__row"
"""Column holding the user's row number in every raw chunk."""

CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ".psv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}

_SNIFF_BYTES = 256 * 1024
_BLOCK = 1 << 20
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")

BAD_ROW_SCHEMA: dict[str, pl.DataType] = {
    ROW: pl.Int64(),
    "text": pl.String(),
    "fields": pl.Int64(),
    "expected": pl.Int64(),
}

MAX_CELL_BYTES = 128 * 1024
"""Longest cell read as a value (131,072 bytes, also the limit of Python's csv module). A description runs to
a few hundred characters; a cell this long is a broken export (an unclosed quote swallowing the lines after
it) or not a ledger at all."""

KEPT_CHARS = 1024
"""Characters of an over-long cell kept in the quarantine copy of its row."""

OVERSIZE_SCHEMA: dict[str, pl.DataType] = {ROW: pl.Int64(), "column": pl.String(), "bytes": pl.Int64()}
"""One row per over-long cell: the row, the user's column and the cell's length in bytes."""


@dataclass(frozen=True)
class SourceNote:
    """Something about how the whole file was read that the user must be told: the sheet or column that
    was used when there was a choice, or what the file turned out to be. Reported with the issues as a
    warning (``row``: the header row when the note is about a header, else None)."""

    code: str
    message: str
    column: str = "(file)"
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "row": self.row, "column": self.column, "message": self.message}


@dataclass
class SourceInfo:
    """What was read and how: shown with every import and stored in the workspace."""

    path: Path
    format: str
    sha256: str
    size_bytes: int
    columns: list[str]
    header_row: int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    rows_estimate: int | None = None
    notes: list[SourceNote] = field(default_factory=list)
    duplicate_headers: dict[str, list[str]] = field(default_factory=dict)
    """header text written more than once -> the column names given to its columns, left to right"""

    @property
    def name(self) -> str:
        return self.path.name

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "format": self.format,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "columns": list(self.columns),
            "header_row": self.header_row,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheet": self.sheet,
            "sheets": list(self.sheets),
            "notes": [note.as_dict() for note in self.notes],
        }


@dataclass
class RawChunk:
    """A slice of the file: parsed rows, rows that could not be split, and the blank rows skipped."""

    frame: pl.DataFrame
    bad_rows: pl.DataFrame
    blank: int
    consumed: int
    """rows of the file this chunk covers (loaded candidates + bad + blank), for progress"""
    oversize: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=OVERSIZE_SCHEMA))
    """cells longer than MAX_CELL_BYTES (cut in ``frame``): their rows are quarantined"""
    ascii_columns: frozenset[str] = frozenset()
    """user columns known to hold only ASCII in this chunk (the normalisers skip Unicode folding there);
    empty when the reader does not know"""


class Reader(ABC):
    """A file opened for chunked reading."""

    info: SourceInfo

    @abstractmethod
    def chunks(self, chunk_rows: int) -> Iterator[RawChunk]:
        """Yield the data rows in file order."""

    def close(self) -> None:  # noqa: B027 - a no-op default that Excel overrides
        """Release file handles (a no-op for readers that hold none between chunks)."""

    def column_values(self, column: str) -> pl.Series | None:
        """Every value of one column, read ahead of the chunks (to decide something for the whole file
        before the first chunk is processed), or None where a quick look-ahead is not possible."""
        return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def open_source(
    path: Path,
    spec: MappingSpec | None = None,
    sheet: str | int | None = None,
    fieldset: FieldSet = LEDGER_FIELDS,
) -> Reader:
    """Open a ledger or BOM file by its content; the error for anything else says what it is and the fix.

    The extension is only a claim: a workbook or Parquet file is read as such whatever its name, and text
    is read as delimited text under any of the names critmin accepts (a CSV saved as ``.xls`` is common).
    When content and name disagree, a ``format_mismatch`` note says so.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a CSV, TSV, Excel (.xlsx) or Parquet file.")
    suffix = path.suffix.lower()
    sniffed = sniff(path)
    if sniffed.kind is FileKind.refused:
        raise InputError(sniffed.refusal(path))
    reader: Reader
    if sniffed.kind is FileKind.xlsx:
        reader, named = ExcelReader(path, spec, sheet, fieldset), suffix in EXCEL_SUFFIXES
    elif sniffed.kind is FileKind.parquet:
        reader, named = ParquetReader(path), suffix in PARQUET_SUFFIXES
    elif suffix in CSV_SUFFIXES or suffix in _BINARY_SUFFIXES or suffix == "":
        reader = CsvReader(path, spec, fieldset, encoding=sniffed.encoding)
        named = suffix not in _BINARY_SUFFIXES
    else:
        raise InputError(
            f"{path}: unknown file type {suffix!r}. critmin reads CSV/TSV (.csv, .tsv, .txt), Excel (.xlsx) "
            "and Parquet (.parquet)."
        )
    if not named:
        reader.info.notes.insert(0, _mismatch_note(path, sniffed, reader.info.format))
    return reader


_BINARY_SUFFIXES = EXCEL_SUFFIXES | PARQUET_SUFFIXES | {".xls"}
"""Names of binary formats: text under one of them is still read, with a note."""

_PROPER_SUFFIX = {"xlsx": ".xlsx", "parquet": ".parquet", "csv": ".csv", "tsv": ".tsv"}


def _mismatch_note(path: Path, sniffed: Sniffed, read_as: str) -> SourceNote:
    named = f"named {path.suffix}" if path.suffix else "named without an extension"
    proper = _PROPER_SUFFIX.get(read_as, "." + read_as)
    return SourceNote(
        "format_mismatch",
        f"{path.name} is {named} but holds {sniffed.what}; it was read as {read_as.upper()} by its content. "
        f"Fix: rename it to {path.stem}{proper} so other programs open it correctly.",
    )


def duplicate_header_notes(info: SourceInfo, mapping: ColumnMapping) -> list[SourceNote]:
    """One note per header written more than once: which of its columns was used, for which field.

    The leftmost column that names a field feeds it (recognition ranks equal synonyms by position); the
    others are renamed ``<header> (2)``, ``(3)`` ... and listed as unused unless a mapping file picks one.
    """
    feeds = {column: name for name, column in mapping.fields.items()}
    notes: list[SourceNote] = []
    for header, columns in info.duplicate_headers.items():
        letters = [column_letter(info.columns.index(column)) for column in columns]
        used = [(column, feeds[column]) for column in columns if column in feeds]
        where = ", ".join(f"{letter} ({column!r})" for letter, column in zip(letters, columns, strict=True))
        if used:
            what = "; ".join(f"{column!r} feeds {name}" for column, name in used)
            rest = [column for column in columns if column not in feeds]
            what += f"; {', '.join(repr(c) for c in rest)} not used" if rest else ""
        else:
            what = "none of them feeds a ledger field"
        notes.append(
            SourceNote(
                "header_duplicate",
                f"{len(columns)} columns are headed {header!r}: columns {where}. {what}. Fix: rename or "
                "delete the extra column, or name the one to use in a mapping file (`columns:`).",
                column=header,
                row=info.header_row,
            )
        )
    return notes


def _empty_bad_rows() -> pl.DataFrame:
    return pl.DataFrame(schema=BAD_ROW_SCHEMA)


def _cut_bad_text(bad_rows: pl.DataFrame) -> pl.DataFrame:
    """The text of an unsplittable row as kept in quarantine: cut like an over-long cell (an unclosed
    quote can make one "row" of a whole megabyte)."""
    text = pl.col("text")
    return bad_rows.with_columns(
        pl.when(text.str.len_bytes() > MAX_CELL_BYTES)
        .then(text.str.slice(0, KEPT_CHARS) + pl.lit("…"))
        .otherwise(text)
        .alias("text")
    )


def _blank_to_null(
    frame: pl.DataFrame, columns: Sequence[str], padded: dict[str, np.ndarray] | None = None
) -> pl.DataFrame:
    """Trim every text cell and turn empty cells into nulls, so "absent" has one spelling.

    ``padded``, when the caller knows it (:func:`_survey`), gives per column the positions of the
    only cells that can begin or end with whitespace: just those are trimmed, and a column not in it is
    left as it is (a trim would copy every string of the column to change none).
    """
    if padded is None:
        frame = frame.with_columns([pl.col(c).str.strip_chars() for c in columns])
    elif padded:
        frame = frame.with_columns(
            frame.get_column(c).scatter(where, frame.get_column(c).gather(where).str.strip_chars())
            for c, where in padded.items()
        )
    return frame.with_columns(
        pl.when(pl.col(c).str.len_bytes() > 0).then(pl.col(c)).alias(c) for c in columns
    )


_EDGE_BYTES = np.zeros(256, dtype=bool)
_EDGE_BYTES[[9, 10, 11, 12, 13, 32]] = True  # ASCII whitespace
_EDGE_BYTES[0x80:] = True  # any byte of a multi-byte character: it may be Unicode whitespace (U+00A0 ...)


@dataclass(frozen=True)
class _Survey:
    padded: dict[str, np.ndarray] | None
    """per column, the positions of the cells whose first or last byte may be whitespace (None: unknown)"""
    ascii_columns: frozenset[str]
    """columns whose every byte is ASCII"""


def _survey(table: pa.Table, columns: Sequence[str]) -> _Survey:
    """What the Arrow buffers of a parsed chunk tell without a pass over its text.

    Each string's first and last byte (through its offsets) say whether it may begin or end with
    whitespace, so a column of clean cells costs two gathers instead of a trim that copies every string;
    the largest byte of a column's data says whether it is all ASCII. A column that is not a plain Arrow
    string array makes the padding unknown (the caller then trims every cell) and is not called ASCII.
    """
    padded: dict[str, np.ndarray] | None = {}
    ascii_columns: set[str] = set()
    for name in columns:
        parts: list[np.ndarray] = []
        ascii_only = True
        for chunk in table.column(name).chunks:
            if chunk.type == pa.string():
                offset_type: type[np.integer[Any]] = np.int32
            elif chunk.type == pa.large_string():
                offset_type = np.int64
            else:
                padded, ascii_only = None, False
                break
            n = len(chunk)
            _, offsets_buffer, data_buffer = chunk.buffers()
            if n == 0 or offsets_buffer is None:
                continue
            offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[chunk.offset : chunk.offset + n + 1]
            data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
            if data is None or offsets[-1] <= offsets[0]:  # only empty strings
                parts.append(np.zeros(n, dtype=bool))
                continue
            used = data[offsets[0] : offsets[-1]]
            ascii_only = ascii_only and int(used.max()) < 0x80
            starts, ends = offsets[:-1], offsets[1:]
            first = data.take(starts, mode="clip")
            last = data.take(ends - 1, mode="clip")  # an empty string's -1 is masked out below
            parts.append((_EDGE_BYTES[first] | _EDGE_BYTES[last]) & (ends > starts))
        if ascii_only:
            ascii_columns.add(name)
        if padded is None:
            continue
        if parts:
            mask = np.concatenate(parts) if len(parts) > 1 else parts[0]
            if mask.any():
                padded[name] = np.flatnonzero(mask)
    return _Survey(padded, frozenset(ascii_columns))


def _cut_oversize(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cells over MAX_CELL_BYTES cut to their first KEPT_CHARS characters, and one OVERSIZE_SCHEMA row per
    such cell so its row is quarantined. Lengths in bytes are read from the string headers: no scan."""
    if not columns or frame.height == 0:
        return frame, pl.DataFrame(schema=OVERSIZE_SCHEMA)
    too_long = [pl.col(c).str.len_bytes() > MAX_CELL_BYTES for c in columns]
    if not frame.select(pl.any_horizontal(too_long).any()).item():
        return frame, pl.DataFrame(schema=OVERSIZE_SCHEMA)
    found = (
        frame.select(ROW, *[pl.col(c).str.len_bytes().cast(pl.Int64).alias(c) for c in columns])
        .unpivot(index=ROW, variable_name="column", value_name="bytes")
        .filter(pl.col("bytes") > MAX_CELL_BYTES)
        .sort(ROW, maintain_order=True)
        .select(list(OVERSIZE_SCHEMA))
    )
    cut = frame.with_columns(
        pl.when(long).then(pl.col(c).str.slice(0, KEPT_CHARS) + pl.lit("…")).otherwise(pl.col(c)).alias(c)
        for c, long in zip(columns, too_long, strict=True)
    )
    return cut, found


def _split_blank(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[pl.DataFrame, int]:
    if not columns:
        return frame, 0
    blank = frame.select(pl.all_horizontal([pl.col(c).is_null() for c in columns])).to_series()
    count = int(blank.sum())
    if not count:
        return frame, 0
    # a filter leaves one piece per thread; later string expressions are much slower on pieces
    return frame.filter(~blank).rechunk(), count


# ----------------------------------------------------------------------------------------------------------
# CSV / TSV
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepass:
    sha256: str
    size: int
    encoding: str
    lines: int


def _prepass(path: Path) -> _Prepass:
    """One pass over the bytes: checksum, encoding (BOM, valid UTF-8, else CP1252/Latin-1) and line count.

    The file is read once; each block is hashed on a second thread (hashing releases the GIL) while this
    one checks the encoding.
    """
    digest = hashlib.sha256()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="critmin-sha256") as pool:
        encoding, size, lines = _scan_encoding(path, digest, pool)
    return _Prepass(digest.hexdigest(), size, encoding, lines)


_HASH_AHEAD = 8
"""Blocks read ahead of the checksum thread, at most (bounded memory)."""


def _scan_encoding(
    path: Path, digest: Any = None, pool: ThreadPoolExecutor | None = None
) -> tuple[str, int, int]:
    """Encoding, size in bytes and line count. UTF-8 is checked over the whole file (a file may only
    prove itself non-UTF-8 at its last byte), and so are the bytes CP1252 leaves undefined; blocks of
    plain ASCII need neither check. With ``digest`` and ``pool``, every block is also fed to the digest,
    in order, on the pool's one thread."""
    utf8 = True
    undefined_cp1252 = False
    pending = b""  # the start of a UTF-8 sequence cut by the block boundary
    lines = 0
    size = 0
    first = b""
    hashing: deque[Future[None]] = deque()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            if digest is not None and pool is not None:
                if len(hashing) >= _HASH_AHEAD:
                    hashing.popleft().result()
                hashing.append(pool.submit(digest.update, block))
            if not first:
                first = block[:4]
            size += len(block)
            lines += block.count(b"\n")
            if not pending and block.isascii():
                continue
            if not undefined_cp1252:
                undefined_cp1252 = any(byte in block for byte in _CP1252_UNDEFINED)
            if not utf8:
                continue
            data = pending + block if pending else block
            cut = len(data) - _incomplete_utf8_tail(data)
            utf8 = _is_utf8(data[:cut])
            pending = data[cut:]
    for hashed in hashing:
        hashed.result()
    if first.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif first.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE 00 00
        encoding = "utf-32"
    elif first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif utf8 and not pending:
        encoding = "utf-8"
    elif undefined_cp1252:
        encoding = "latin-1"
    else:
        encoding = "cp1252"
    if size and not first.endswith(b"\n") and lines == 0:
        lines = 1
    return encoding, size, lines


def _incomplete_utf8_tail(data: bytes) -> int:
    """How many bytes at the end of ``data`` begin a multi-byte UTF-8 sequence that the block cut short."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:  # a lead byte: 110xxxxx, 1110xxxx or 11110xxx announce 2, 3 or 4 bytes
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if needed > back else 0
    return 0


def _is_utf8(data: bytes) -> bool:
    """Arrow's vectorised validation: ``data`` viewed, without a copy, as one string value and checked."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    value = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        value.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _sniff_text(path: Path, encoding: str) -> str:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=False)


def _guess_delimiter(text: str, suffix: str, spec: MappingSpec, fieldset: FieldSet) -> str:
    """The delimiter under which some early line reads as a header naming the most fields; failing that,
    the one that splits the first lines into the most consistent number of fields (>1)."""
    if suffix in {".tsv", ".tab"}:
        return "\t"
    if suffix == ".psv":
        return "|"
    candidates = (",", "\t", ";", "|")
    lines = [line for line in text.splitlines()[:40] if line.strip()]
    sample = "\n".join(lines)
    best, best_score = ",", 1
    for candidate in candidates:
        rows = _sample_rows(sample, candidate)
        score = max((score_header_row(row, spec, fieldset) for row in rows[:HEADER_SCAN_ROWS]), default=0)
        if score > best_score:
            best, best_score = candidate, score
    if best_score > 1:
        return best
    best, best_consistency = ",", 0
    for candidate in candidates:
        counts = [len(row) for row in _sample_rows(sample, candidate)]
        multi = [count for count in counts if count > 1]
        if not multi:
            continue
        mode = max(set(multi), key=multi.count)
        consistency = multi.count(mode) * 1000 + mode
        if consistency > best_consistency:
            best, best_consistency = candidate, consistency
    return best


def _sample_rows(sample: str, delimiter: str) -> list[list[str]]:
    """The rows of a sample up to the first one Python's csv module refuses (a cell over its 128 KiB
    limit): guessing goes on with the rows before it, and the streaming reader reports the row itself."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    try:
        for row in reader:
            rows.append(row)
    except csv.Error:
        pass
    return rows


_ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8"}

_CSV_BLOCK = 1 << 20
"""Bytes pyarrow parses at a time: 1 MiB is as fast as larger blocks, with less read ahead in memory. A row
must fit in one block."""


class CsvReader(Reader):
    """Delimited text, streamed through pyarrow in blocks."""

    def __init__(
        self,
        path: Path,
        spec: MappingSpec | None = None,
        fieldset: FieldSet = LEDGER_FIELDS,
        *,
        encoding: str | None = None,
    ) -> None:
        """``encoding``: one the bytes proved to the sniffer (UTF-16 without a byte-order mark, whose NUL
        bytes the encoding scan would take for valid UTF-8); the mapping file's ``encoding:`` still wins."""
        spec = spec or MappingSpec()
        pre = _prepass(path)
        if pre.size == 0:
            raise InputError(f"{path} is empty (0 bytes); export the ledger again.")
        encoding = spec.encoding or encoding or pre.encoding
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise InputError(f"Unknown encoding {encoding!r} (mapping file `encoding:`).") from exc
        text = _sniff_text(path, encoding)
        if encoding == "utf-8-sig" or text.startswith("\ufeff"):
            text = text.lstrip("\ufeff")
        delimiter = spec.delimiter or _guess_delimiter(text, path.suffix.lower(), spec, fieldset)
        rows = _leading_rows(text, delimiter, path)
        if not rows:
            raise InputError(f"{path} holds no rows.")
        header_index = detect_header_row(rows, spec, fieldset)
        if header_index >= len(rows):
            raise InputError(
                f"{path}: header_row {header_index + 1} is past the rows read ({len(rows)}); check the "
                "mapping file."
            )
        columns = column_names(rows[header_index])
        duplicates = duplicate_headers(rows[header_index], columns)
        self.info = SourceInfo(
            path=path,
            format="tsv" if delimiter == "\t" else "csv",
            sha256=pre.sha256,
            size_bytes=pre.size,
            columns=columns,
            header_row=header_index + 1,
            encoding=encoding,
            delimiter=delimiter,
            rows_estimate=max(pre.lines - header_index - 1, 0),
            duplicate_headers=duplicates,
        )
        if encoding.startswith(("utf-16-", "utf-32")) and not spec.encoding:
            self.info.notes.append(
                SourceNote(
                    "encoding_detected",
                    f"{path.name} is {encoding.upper()} text"
                    + (" without a byte-order mark" if encoding.startswith("utf-16-") else "")
                    + "; it was decoded as such. Fix: save it as CSV (UTF-8) so every program reads it "
                    "the same way.",
                )
            )
        self._header_index = header_index

    def column_values(self, column: str) -> pl.Series | None:
        """One column of the whole file through Polars' multi-threaded reader (a few hundred milliseconds
        for a million lines). Ragged rows are tolerated here: the chunked reader reports them."""
        info = self.info
        if column not in info.columns or (info.encoding or "").startswith(("utf-16", "utf-32")):
            return None  # Polars reads UTF-8 (and 8-bit text, lossily: enough for dates) only
        try:
            frame = (
                pl.scan_csv(
                    info.path,
                    has_header=False,
                    skip_rows=self._header_index + 1,
                    separator=info.delimiter or ",",
                    infer_schema=False,
                    truncate_ragged_lines=True,
                    encoding="utf8-lossy",
                )
                .select(pl.nth(info.columns.index(column)))
                .collect()
            )
        except (pl.exceptions.PolarsError, OSError):
            return None
        return frame.to_series().str.strip_chars()

    def chunks(self, chunk_rows: int) -> Iterator[RawChunk]:
        info = self.info
        columns = info.columns
        bad: list[tuple[int, str, int, int]] = []

        delimiter = info.delimiter or ","

        def handler(row: Any) -> str:
            """Called by pyarrow for each row it cannot split; a row whose cells are all blank is blank."""
            text = str(row.text)
            try:
                cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
            except csv.Error:  # a cell over the csv module's limit: not blank, whatever else it is
                cells = [text]
            fields = int(row.actual_columns) if any(cell.strip() for cell in cells) else 0
            bad.append((int(row.number), text, fields, int(row.expected_columns)))
            return "skip"

        encoding = info.encoding or "utf-8"
        read = 0
        try:
            reader = pacsv.open_csv(
                info.path,
                read_options=pacsv.ReadOptions(
                    use_threads=False,
                    block_size=_CSV_BLOCK,
                    skip_rows=self._header_index + 1,
                    column_names=columns,
                    encoding=_ARROW_ENCODINGS.get(encoding, encoding),
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=info.delimiter or ",",
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=handler,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in columns},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if "skip initial" in str(exc) and info.size_bytes < _CSV_BLOCK:  # the header ends the file
                yield self._emit(None, [], 0, 0, self._header_index + 2, final=True)[0]
                return
            raise InputError(_parse_failure(info.path, exc, self._header_index + 1)) from exc
        first_data_row = self._header_index + 2
        valid_seen = 0
        bad_used = 0
        pending: pa.Table | None = None
        try:
            for batch in reader:
                read += batch.num_rows
                table = pa.Table.from_batches([batch])
                pending = table if pending is None else pa.concat_tables([pending, table])
                while pending.num_rows >= chunk_rows:
                    head, pending = pending.slice(0, chunk_rows), pending.slice(chunk_rows)
                    chunk, valid_seen, bad_used = self._emit(head, bad, valid_seen, bad_used, first_data_row)
                    yield chunk
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise InputError(_parse_failure(info.path, exc, first_data_row + read + len(bad) - 1)) from exc
        chunk, valid_seen, bad_used = self._emit(
            pending, bad, valid_seen, bad_used, first_data_row, final=True
        )
        yield chunk

    def _emit(
        self,
        table: pa.Table | None,
        bad: list[tuple[int, str, int, int]],
        valid_seen: int,
        bad_used: int,
        first_data_row: int,
        *,
        final: bool = False,
    ) -> tuple[RawChunk, int, int]:
        """Number the valid rows of ``batches`` around the bad rows reported so far.

        A valid row that is the i-th valid row of the file sits at data position i + (number of bad rows
        whose position minus their own index is <= i): vectorised with one ``searchsorted``. Bad rows
        reported so far that lie before this chunk's last row belong to this chunk.
        """
        columns = self.info.columns
        n = table.num_rows if table is not None else 0
        bad_positions = np.array([number - first_data_row for number, *_ in bad], dtype=np.int64)
        bad_positions.sort()
        shifted = bad_positions - np.arange(len(bad_positions), dtype=np.int64)
        valid_index = np.arange(valid_seen, valid_seen + n, dtype=np.int64)
        positions = valid_index + np.searchsorted(shifted, valid_index, side="right")
        survey = _Survey({}, frozenset(columns))
        if table is not None and n:
            survey = _survey(table, columns)
            frame = pl.from_arrow(table, rechunk=False)  # one piece per parsed block: no copy
            assert isinstance(frame, pl.DataFrame)
        else:
            frame = pl.DataFrame(schema={name: pl.String for name in columns})
        frame = frame.with_columns(pl.Series(ROW, positions + first_data_row, dtype=pl.Int64))
        frame = _blank_to_null(frame, columns, survey.padded)
        frame, blank = _split_blank(frame, columns)
        frame, oversize = _cut_oversize(frame, columns)
        last_row = int(positions[-1]) + first_data_row if n else None
        take = [b for b in bad[bad_used:] if final or last_row is None or b[0] <= last_row]
        if not final and last_row is None:
            take = []
        bad_frame = (
            pl.DataFrame(
                {
                    ROW: [b[0] for b in take],
                    "text": [b[1] for b in take],
                    "fields": [b[2] for b in take],
                    "expected": [b[3] for b in take],
                },
                schema=BAD_ROW_SCHEMA,
            )
            if take
            else _empty_bad_rows()
        )
        blank_bad = bad_frame.filter(pl.col("fields") == 0).height
        bad_frame = bad_frame.filter(pl.col("fields") > 0)
        chunk = RawChunk(
            frame=frame.select(ROW, *columns),
            bad_rows=_cut_bad_text(bad_frame),
            blank=blank + blank_bad,
            consumed=n + len(take),
            oversize=oversize,
            ascii_columns=survey.ascii_columns - set(oversize.get_column("column")),  # a cut cell ends in …
        )
        return chunk, valid_seen + n, bad_used + len(take)


def _leading_rows(text: str, delimiter: str, path: Path) -> list[list[str | None]]:
    """The first records of the file, parsed like the streaming reader will parse them.

    Parsing stops at the first record Python's csv module refuses (a cell over its 128 KiB limit): header
    detection works on the records before it, and the streaming reader quarantines that row. When the
    very first record is refused there is no header to find, and the file is refused.
    """
    if not text.endswith("\n"):
        cut = text.rfind("\n")
        text = text[: cut + 1] if cut >= 0 else text
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str | None]] = []
    try:
        for row in reader:
            if len(rows) >= 200:
                break
            rows.append(list(row))
    except csv.Error as exc:
        if not rows:
            raise InputError(
                f"{path}: row 1 cannot be read as a header ({exc}). Fix: check that this is the ledger "
                f"itself, saved as CSV (UTF-8), with one column name per header cell."
            ) from exc
    return rows


def _parse_failure(path: Path, exc: Exception, near_row: int) -> str:
    """The one line for a delimited file the streaming reader gives up on, with the fix."""
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in text:
        encoding = exc.encoding if isinstance(exc, UnicodeDecodeError) else "UTF-8"
        return (
            f"{path}: the bytes after row {near_row} are not valid {encoding} text. Fix: save the file as "
            "CSV (UTF-8), or set `encoding:` in a mapping file to the one it was saved in."
        )
    if "straddl" in text or "block size" in text:
        return (
            f"{path}: a row after row {near_row} is longer than 1 MiB. No ledger row is that long: a quote "
            "is opened and never closed (the rest of the file then reads as one cell), or a cell holds "
            "something that is not a value. Fix: close the quote or shorten the cell, and import again."
        )
    return f"{path}: cannot be parsed as delimited text after row {near_row}: {text}"


# ----------------------------------------------------------------------------------------------------------
# Excel
# ----------------------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """An Excel cell as the text a user would read in it.

    Whole numbers lose the ``.0`` Excel's float storage adds (so an HTS code typed as a number stays
    8505110070); dates keep ISO form so the date parser reads them without guessing the order.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class ExcelReader(Reader):
    """An .xlsx workbook read with openpyxl in read-only mode (constant memory per row)."""

    def __init__(
        self,
        path: Path,
        spec: MappingSpec | None = None,
        sheet: str | int | None = None,
        fieldset: FieldSet = LEDGER_FIELDS,
    ) -> None:
        import openpyxl

        spec = spec or MappingSpec()
        # a handle, not the path: openpyxl refuses paths not ending in .xlsx, and the content decides here
        self._handle = path.open("rb")
        try:
            workbook = openpyxl.load_workbook(self._handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for broken files
            self._handle.close()
            raise InputError(f"{path} is not a readable .xlsx workbook: {exc}") from exc
        self._workbook = workbook
        self._fieldset = fieldset
        self._path = path
        try:
            # chart sheets have no cells; hidden sheets are read only when named or when nothing else fits
            names = [name for name in workbook.sheetnames if hasattr(workbook[name], "iter_rows")]
            if not names:
                raise InputError(f"{path}: the workbook has no worksheet with cells (only charts).")
            self._states = {name: str(getattr(workbook[name], "sheet_state", "visible")) for name in names}
            wanted = sheet if sheet is not None else spec.sheet
            chosen, notes = self._choose_sheet(names, wanted, spec, path)
            head = self._head(chosen)
            if not head:
                raise InputError(f"{path}: sheet {chosen!r} is empty.")
            header_index = detect_header_row(head, spec, fieldset)
            if header_index >= len(head):
                raise InputError(
                    f"{path}: header_row {header_index + 1} is below the rows read on sheet {chosen!r}."
                )
            cells = _trim_trailing_none(head[header_index])
            columns = column_names(cells)
            max_row = workbook[chosen].max_row
            self.info = SourceInfo(
                path=path,
                format="xlsx",
                sha256=file_sha256(path),
                size_bytes=path.stat().st_size,
                columns=columns,
                header_row=header_index + 1,
                sheet=chosen,
                sheets=names,
                rows_estimate=(max_row - header_index - 1) if max_row else None,
                notes=notes,
                duplicate_headers=duplicate_headers(cells, columns),
            )
            self._sheet = chosen
        except BaseException:
            self.close()  # the workbook holds the file open
            raise

    def _head(self, name: str) -> list[list[str | None]]:
        """The first 40 rows of a sheet as text, where header rows are looked for."""
        try:
            rows = self._workbook[name].iter_rows(max_row=40, values_only=True)
            return [[cell_text(v) for v in row] for row in rows]
        except Exception as exc:  # broken sheet XML: openpyxl raises whatever its parser does
            raise InputError(f"{self._path}: sheet {name!r} cannot be read: {exc}") from exc

    def _choose_sheet(
        self, names: list[str], wanted: str | int | None, spec: MappingSpec, path: Path
    ) -> tuple[str, list[SourceNote]]:
        """The sheet to read, and the notes that say why when there was a choice.

        A named sheet is read even when hidden (and the note says it is hidden). Otherwise the visible
        sheet whose header names the most fields wins; hidden sheets are left out (Excel does not show
        them: they tend to hold lookups or old data), unless no visible sheet names two fields and a hidden
        one does.
        """
        if wanted is not None:
            chosen = self._named_sheet(names, wanted, path)
            state = self._states[chosen]
            if state == "visible":
                return chosen, []
            named = SourceNote(
                "sheet_hidden",
                f"Sheet {chosen!r} is {state} in the workbook (Excel does not show it); it was read because "
                "it was named.",
            )
            return chosen, [named]
        visible = [name for name in names if self._states[name] == "visible"]
        hidden = [name for name in names if self._states[name] != "visible"]
        scores = {name: self._score(name, spec) for name in names} if len(names) > 1 else {names[0]: 0}
        pool = visible or hidden
        chosen = max(pool, key=lambda name: scores[name])  # first of equals: the leftmost tab
        if hidden and scores[chosen] <= 1:
            best_hidden = max(hidden, key=lambda name: scores[name])
            if scores[best_hidden] > 1:
                chosen = best_hidden
        notes: list[SourceNote] = []
        fields = f"{self._fieldset.kind} fields"
        if len(visible) > 1 and self._states[chosen] == "visible":
            others = ", ".join(repr(name) for name in visible if name != chosen)
            notes.append(
                SourceNote(
                    "sheet_chosen",
                    f"Sheet {chosen!r} was read: its header names the most {fields} ({scores[chosen]}) of "
                    f"the visible sheets (also {others}). Fix: name another with --sheet (or `sheet:` in a "
                    "mapping file).",
                )
            )
        if hidden:
            listed = ", ".join(repr(name) for name in hidden)
            if self._states[chosen] != "visible":
                why = (
                    "the workbook has no visible sheet"
                    if not visible
                    else f"no visible sheet has a header naming two {fields}, and it has"
                )
                text = f"Sheet {chosen!r} is hidden in the workbook but was read: {why}."
            else:
                text = (
                    f"Hidden sheets were not read: {listed} (Excel does not show them). Fix: name one with "
                    "--sheet (or `sheet:` in a mapping file) to read it instead."
                )
            notes.append(SourceNote("sheet_hidden", text))
        return chosen, notes

    def _named_sheet(self, names: list[str], wanted: str | int, path: Path) -> str:
        if isinstance(wanted, int) or wanted.strip().isdigit():
            index = int(wanted)
            if 1 <= index <= len(names):
                return names[index - 1]
            raise InputError(f"{path}: sheet number {index} does not exist; sheets are {', '.join(names)}.")
        for name in names:
            if name.strip().lower() == wanted.strip().lower():
                return name
        raise InputError(f"{path}: no sheet named {wanted!r}; sheets are {', '.join(names)}.")

    def _score(self, name: str, spec: MappingSpec) -> int:
        """How many fields the best header candidate among a sheet's first rows names."""
        return max((score_header_row(row, spec, self._fieldset) for row in self._head(name)), default=0)

    def close(self) -> None:
        self._workbook.close()
        self._handle.close()

    def chunks(self, chunk_rows: int) -> Iterator[RawChunk]:
        columns = self.info.columns
        width = len(columns)
        worksheet = self._workbook[self._sheet]
        header_row = self.info.header_row or 1
        buffer: list[tuple[Any, ...]] = []
        numbers: list[int] = []
        number = header_row
        rows = worksheet.iter_rows(min_row=header_row + 1, values_only=True)
        while True:
            try:
                values = next(rows, None)
            except Exception as exc:  # broken sheet XML: openpyxl raises whatever its parser does
                raise InputError(
                    f"{self.info.path}: sheet {self._sheet!r} cannot be read after row {number}: {exc}. Fix: "
                    "open the workbook in Excel and save it again (or as CSV)."
                ) from exc
            if values is None:
                break
            number += 1
            buffer.append(values)
            numbers.append(number)
            if len(buffer) >= chunk_rows:
                yield self._chunk(buffer, numbers, width)
                buffer, numbers = [], []
        yield self._chunk(buffer, numbers, width)

    def _chunk(self, rows: list[tuple[Any, ...]], numbers: list[int], width: int) -> RawChunk:
        """Turn a batch of openpyxl row tuples into text columns; cells right of the header are bad rows."""
        columns = self.info.columns
        texts: list[list[str | None]] = [[] for _ in range(width)]
        bad: list[tuple[int, str, int, int]] = []
        kept: list[int] = []
        for number, values in zip(numbers, rows, strict=True):
            cells = [cell_text(v) for v in values]
            extra = [c for c in cells[width:] if c is not None and c.strip()]
            if extra:
                filled = len(_trim_trailing_none(cells))
                text = "\t".join("" if c is None else c for c in cells[:filled])
                bad.append((number, text, filled, width))
                continue
            cells = (cells + [None] * width)[:width]
            for position in range(width):
                texts[position].append(cells[position])
            kept.append(number)
        frame = pl.DataFrame(
            {ROW: pl.Series(ROW, kept, dtype=pl.Int64)}
            | {name: pl.Series(name, texts[i], dtype=pl.String) for i, name in enumerate(columns)}
        )
        frame = _blank_to_null(frame, columns)
        frame, blank = _split_blank(frame, columns)
        frame, oversize = _cut_oversize(frame, columns)
        bad_frame = (
            pl.DataFrame(
                {
                    ROW: [b[0] for b in bad],
                    "text": [b[1] for b in bad],
                    "fields": [b[2] for b in bad],
                    "expected": [b[3] for b in bad],
                },
                schema=BAD_ROW_SCHEMA,
            )
            if bad
            else _empty_bad_rows()
        )
        return RawChunk(
            frame=frame, bad_rows=_cut_bad_text(bad_frame), blank=blank, consumed=len(rows), oversize=oversize
        )


def _trim_trailing_none(cells: Sequence[str | None]) -> list[str | None]:
    out = list(cells)
    while out and (out[-1] is None or not str(out[-1]).strip()):
        out.pop()
    return out


# ----------------------------------------------------------------------------------------------------------
# Parquet
# ----------------------------------------------------------------------------------------------------------


class ParquetReader(Reader):
    """A Parquet file read by record batch; typed columns are turned into text the normalisers read."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for non-Parquet files
            raise InputError(f"{path} is not a readable Parquet file: {exc}") from exc
        names = list(self._file.schema_arrow.names)
        columns = column_names(names)
        self.info = SourceInfo(
            path=path,
            format="parquet",
            sha256=file_sha256(path),
            size_bytes=path.stat().st_size,
            columns=columns,
            rows_estimate=self._file.metadata.num_rows,
            duplicate_headers=duplicate_headers(names, columns),
        )

    def chunks(self, chunk_rows: int) -> Iterator[RawChunk]:
        columns = self.info.columns
        offset = 0
        for batch in self._batches(chunk_rows):
            table = pa.Table.from_batches([batch])
            table = table.rename_columns(columns)
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.with_columns([_as_text(name, frame.schema[name]) for name in columns])
            frame = frame.with_columns(
                pl.int_range(offset + 1, offset + 1 + frame.height, dtype=pl.Int64).alias(ROW)
            )
            offset += batch.num_rows
            frame = _blank_to_null(frame, columns)
            frame, blank = _split_blank(frame, columns)
            frame, oversize = _cut_oversize(frame, columns)
            yield RawChunk(
                frame=frame.select(ROW, *columns),
                bad_rows=_empty_bad_rows(),
                blank=blank,
                consumed=batch.num_rows,
                oversize=oversize,
            )
        if offset == 0:
            empty = pl.DataFrame(schema={ROW: pl.Int64, **{name: pl.String for name in columns}})
            yield RawChunk(frame=empty, bad_rows=_empty_bad_rows(), blank=0, consumed=0)

    def _batches(self, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        """Record batches; a damaged page is a clear error naming the row it follows, not a traceback."""
        batches = self._file.iter_batches(batch_size=chunk_rows)
        read = 0
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise InputError(
                    f"{self.info.path}: the Parquet data after row {read} cannot be read: {exc}. Fix: write "
                    "the file again."
                ) from exc
            if batch is None:
                return
            read += batch.num_rows
            yield batch


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if dtype == pl.String:
        return column
    if dtype == pl.Date:
        return column.dt.strftime("%Y-%m-%d").alias(name)
    if isinstance(dtype, pl.Datetime):
        return column.dt.strftime("%Y-%m-%d %H:%M:%S").alias(name)
    if dtype.is_float():
        return (
            pl.when(column.is_finite() & (column == column.round(0)) & (column.abs() < 1e15))
            .then(column.cast(pl.Int64).cast(pl.String))
            .otherwise(column.cast(pl.String))
            .alias(name)
        )
    if dtype.is_nested() or isinstance(dtype, pl.Object):
        return pl.struct(column).struct.json_encode().alias(name)
    return column.cast(pl.String).alias(name)
