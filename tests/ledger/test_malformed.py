"""Malformed ledgers: every kind of broken file is loaded row by row or refused with one clear line.

The corpus below builds each kind of damage from a seeded random generator (truncated rows, wrong
encodings, byte-order marks, random bytes, over-long cells, non-finite numbers, files that are not ledgers
at all ...). The invariants hold for all of them: no traceback (a refused file raises an ``InputError``,
a :class:`~critmin.errors.CritminError`), ``rows_in == rows_loaded + rows_quarantined``, and totals that
stay finite.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import math
import random
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.errors import CritminError, InputError
from critmin.ledger.bom import read_bom
from critmin.ledger.ingest import ImportResult, ingest
from critmin.ledger.numbers import parse_number
from critmin.ledger.readers import KEPT_CHARS, MAX_CELL_BYTES
from critmin.ledger.sniff import FileKind, sniff
from critmin.ledger.validate import CODES

HEADER = ["Entry Date", "HTS", "COO", "Value", "Qty", "UOM", "Description"]
HTS = ["8505.11.00.70", "8112.92.10.00", "8101.10.00.00"]
COUNTRIES = ["CN", "JP", "DEU", "Korea", "CL", "MX"]


def _row(rng: random.Random) -> list[str]:
    return [
        f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        rng.choice(HTS),
        rng.choice(COUNTRIES),
        f"{rng.uniform(1, 90_000):.2f}",
        str(rng.randint(1, 500)),
        rng.choice(["kg", "KGS", "lb"]),
        rng.choice(["magnets", "gallium 6N", "tungsten powder", "rare earth oxide"]),
    ]


def _rows(rng: random.Random, n: int | None = None) -> list[list[str]]:
    return [_row(rng) for _ in range(n if n is not None else rng.randint(3, 12))]


def _csv(rows: list[list[str]], *, header: list[str] = HEADER, sep: str = ",", eol: str = "\n") -> str:
    def cell(value: str) -> str:
        if any(ch in value for ch in (sep, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(sep.join(cell(c) for c in line) + eol for line in [header, *rows])


def _good(rng: random.Random) -> str:
    return _csv(_rows(rng))


def _with_cell(rng: random.Random, column: int, values: list[str]) -> str:
    rows = _rows(rng, max(len(values), 3))
    for row, value in zip(rows, values, strict=False):
        row[column] = value
    return _csv(rows)


def _xlsx(sheets: dict[str, list[list[object]]], hidden: tuple[str, ...] = ()) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    for index, (name, rows) in enumerate(sheets.items()):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        assert sheet is not None
        sheet.title = name
        if name in hidden:
            sheet.sheet_state = "hidden"
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _parquet(rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame([dict(zip(HEADER, row, strict=True)) for row in _rows(rng)]).write_parquet(buffer)
    return buffer.getvalue()


def _text(build: Callable[[random.Random], str], encoding: str = "utf-8") -> Callable[[random.Random], bytes]:
    return lambda rng: build(rng).encode(encoding)


def _random_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def _truncate(rng: random.Random) -> bytes:
    data = _good(rng).encode()
    return data[: rng.randint(len(data) // 2, len(data) - 2)]


def _truncated_in_quote(rng: random.Random) -> bytes:
    rows = _rows(rng)
    rows[-1][6] = "a long, quoted description"
    text = _csv(rows)
    return text[: text.rindex('"') - 5].encode()


def _mixed_delimiters(rng: random.Random) -> bytes:
    lines = _good(rng).splitlines()
    return "\n".join(line.replace(",", ";") if i % 2 else line for i, line in enumerate(lines)).encode()


def _unbalanced_quote(rng: random.Random) -> bytes:
    rows = _rows(rng)
    rows[1][6] = '"opened and never closed'
    return (",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def _extra_columns(rng: random.Random) -> bytes:
    rows = _rows(rng)
    for row in rows[::2]:
        row.extend(["extra", str(rng.random())])
    return (",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def _missing_columns(rng: random.Random) -> bytes:
    rows = _rows(rng)
    for row in rows[::2]:
        del row[rng.randint(1, len(row) - 1) :]
    return (",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def _huge_cell(rng: random.Random, *, quoted: bool) -> bytes:
    rows = _rows(rng)
    big = "x" * (MAX_CELL_BYTES + rng.randint(1, 70_000))
    text = _csv(rows)
    line = ",".join(_row(rng)[:6]) + "," + (f'"{big}"' if quoted else big) + "\n"
    return (text + line).encode()


def _nul_cells(rng: random.Random) -> bytes:
    rows = _rows(rng)
    rows[0][6] = "ab\x00cd"
    rows[-1][2] = "C\x00N"
    return _csv(rows).encode()


def _control_cells(rng: random.Random) -> bytes:
    rows = _rows(rng)
    for row in rows:
        row[6] = "".join(chr(rng.randint(1, 31)) for _ in range(6)).replace("\r", "").replace("\n", "")
    return _csv(rows).encode()


def _duplicate_headers(rng: random.Random) -> bytes:
    header = [*HEADER, "Value", "COO"]
    rows = [[*row, "1.00", "DE"] for row in _rows(rng)]
    return _csv(rows, header=header).encode()


def _very_wide(rng: random.Random) -> bytes:
    header = HEADER + [f"extra {i}" for i in range(1000)]
    rows = [row + [str(rng.random()) for _ in range(1000)] for row in _rows(rng, 3)]
    return _csv(rows, header=header).encode()


def _zero_width(rng: random.Random) -> bytes:
    return _with_cell(rng, 1, ["8505\u200b.11.00.70", "\ufeff8112.92.10.00", "8101.10.00.00\u200e"]).encode()


def _xlsx_hidden(rng: random.Random) -> bytes:
    rows: list[list[object]] = [HEADER, *_rows(rng)]
    return _xlsx({"Entries": rows, "Old": [HEADER, *_rows(rng)], "Notes": [["read me"]]}, hidden=("Old",))


def _xlsx_damaged(rng: random.Random) -> bytes:
    data = _xlsx({"Entries": [HEADER, *_rows(rng)]})
    return data[: rng.randint(30, len(data) // 2)]


KINDS: dict[str, tuple[str, Callable[[random.Random], bytes]]] = {
    # the file as a whole
    "empty": ("ledger.csv", lambda rng: b""),
    "nul_only": ("ledger.csv", lambda rng: b"\x00" * rng.randint(1, 5000)),
    "whitespace_only": ("ledger.csv", lambda rng: b" \r\n\t\n" * rng.randint(1, 50)),
    "header_only": ("ledger.csv", _text(lambda rng: _csv([]))),
    "header_only_no_newline": ("ledger.csv", _text(lambda rng: ",".join(HEADER))),
    "good": ("ledger.csv", _text(_good)),
    "banner_above_header": (
        "ledger.csv",
        _text(lambda rng: "Broker report\nRun 2025-06-01\n\n" + _good(rng)),
    ),
    "no_header_at_all": ("ledger.csv", _text(lambda rng: "\n".join(",".join(r) for r in _rows(rng)) + "\n")),
    "blank_lines_between": ("ledger.csv", _text(lambda rng: _good(rng).replace("\n", "\n\n,,,,,,\n"))),
    # rows
    "truncated_last_row": ("ledger.csv", _truncate),
    "truncated_inside_quote": ("ledger.csv", _truncated_in_quote),
    "extra_columns": ("ledger.csv", _extra_columns),
    "missing_columns": ("ledger.csv", _missing_columns),
    "unbalanced_quote": ("ledger.csv", _unbalanced_quote),
    "stray_quote_mid_cell": ("ledger.csv", _text(lambda rng: _with_cell(rng, 6, ['12" pipe', 'a"b"c']))),
    "trailing_delimiter": ("ledger.csv", _text(lambda rng: _good(rng).replace("\n", ",\n"))),
    "commas_only_line": ("ledger.csv", _text(lambda rng: _good(rng) + "," * 5000 + "\n")),
    "multiline_cells": (
        "ledger.csv",
        _text(lambda rng: _with_cell(rng, 6, ["line one\nline two", "a\r\nb"])),
    ),
    "duplicate_rows": (
        "ledger.csv",
        _text(lambda rng: _good(rng) + _good(random.Random(0)).split("\n", 1)[1]),
    ),
    # delimiters and line ends
    "semicolons": ("ledger.csv", _text(lambda rng: _csv(_rows(rng), sep=";"))),
    "tabs": ("ledger.tsv", _text(lambda rng: _csv(_rows(rng), sep="\t"))),
    "pipes": ("ledger.psv", _text(lambda rng: _csv(_rows(rng), sep="|"))),
    "mixed_delimiters": ("ledger.csv", _mixed_delimiters),
    "crlf": ("ledger.csv", _text(lambda rng: _csv(_rows(rng), eol="\r\n"))),
    "cr_only": ("ledger.csv", _text(lambda rng: _csv(_rows(rng), eol="\r"))),
    "mixed_line_ends": ("ledger.csv", _text(lambda rng: _good(rng).replace("\n", "\r\n", 2))),
    # encodings
    "utf8_bom": ("ledger.csv", lambda rng: codecs.BOM_UTF8 + _good(rng).encode()),
    "utf16_le_bom": ("ledger.csv", _text(_good, "utf-16")),
    "utf16_be_bom": ("ledger.csv", lambda rng: codecs.BOM_UTF16_BE + _good(rng).encode("utf-16-be")),
    "utf16_le_no_bom": ("ledger.csv", _text(_good, "utf-16-le")),
    "utf16_be_no_bom": ("ledger.csv", _text(_good, "utf-16-be")),
    "utf16_odd_byte": ("ledger.csv", lambda rng: _good(rng).encode("utf-16") + b"\x41"),
    "utf32_bom": ("ledger.csv", _text(_good, "utf-32")),
    "cp1252": (
        "ledger.csv",
        _text(lambda rng: _with_cell(rng, 6, ["Goslar Refraktär €", "façade"]), "cp1252"),
    ),
    "latin1_undefined_cp1252": (
        "ledger.csv",
        lambda rng: _good(rng).encode() + b"2025-01-02,8505110070,CN,1,1,kg,\x81\x8d\n",
    ),
    "invalid_utf8_scattered": (
        "ledger.csv",
        lambda rng: _good(rng).encode().replace(b"kg", b"k\xc3\x28g", 2),
    ),
    # bytes
    "random_bytes": ("ledger.csv", lambda rng: _random_bytes(rng, rng.randint(64, 4000))),
    "random_bytes_after_header": ("ledger.csv", lambda rng: _csv([]).encode() + _random_bytes(rng, 600)),
    "nul_in_cells": ("ledger.csv", _nul_cells),
    "control_chars_in_cells": ("ledger.csv", _control_cells),
    # cells
    "huge_cell_quoted": ("ledger.csv", lambda rng: _huge_cell(rng, quoted=True)),
    "huge_cell_unquoted": ("ledger.csv", lambda rng: _huge_cell(rng, quoted=False)),
    "huge_header_cell": ("ledger.csv", _text(lambda rng: "x" * (MAX_CELL_BYTES + 10) + "," + _good(rng))),
    "row_over_one_mib": (
        "ledger.csv",
        _text(
            lambda rng: _good(rng) + "2025-01-02,8505110070,CN,1,1,kg," + "y" * (2 << 20) + "\n" + _good(rng)
        ),
    ),
    "very_wide_rows": ("ledger.csv", _very_wide),
    "duplicate_headers": ("ledger.csv", _duplicate_headers),
    "blank_headers": (
        "ledger.csv",
        _text(lambda rng: _csv(_rows(rng), header=[*HEADER[:3], "", *HEADER[3:], ""])),
    ),
    # numbers
    "non_finite_values": (
        "ledger.csv",
        _text(lambda rng: _with_cell(rng, 3, ["inf", "-inf", "nan", "1e309", "Infinity", "NaN"])),
    ),
    "non_finite_quantities": (
        "ledger.csv",
        _text(lambda rng: _with_cell(rng, 4, ["1e309", "inf", "-1e400", "nan"])),
    ),
    "huge_finite_values": (
        "ledger.csv",
        _text(lambda rng: _with_cell(rng, 3, ["1e300", "1.7e308", "9" * 300, "1e15"])),
    ),
    "grouped_overflow": ("ledger.csv", _text(lambda rng: _with_cell(rng, 3, ["1" + ",000" * 120]))),
    "excel_errors": (
        "ledger.csv",
        _text(lambda rng: _with_cell(rng, 3, ["#NUM!", "#DIV/0!", "#N/A", "#VALUE!"])),
    ),
    "negative_zero": ("ledger.csv", _text(lambda rng: _with_cell(rng, 3, ["-0", "-0.0", "(0)"]))),
    # characters
    "arabic_indic_digits": (
        "ledger.csv",
        _text(lambda rng: _with_cell(rng, 1, ["٨٥٠٥.١١.٠٠.٧٠", "٨١١٢٩٢١٠٠٠"])),
    ),
    "arabic_indic_values": ("ledger.csv", _text(lambda rng: _with_cell(rng, 3, ["١٠٠", "٢٥٠٫٥"]))),
    "fullwidth_digits": (
        "ledger.csv",
        _text(lambda rng: _with_cell(rng, 1, ["８５０５．１１．００．７０", "８１１２９２１０００"])),
    ),
    "devanagari_dates": ("ledger.csv", _text(lambda rng: _with_cell(rng, 0, ["२०२५-०३-१४"]))),
    "zero_width_and_marks": ("ledger.csv", _zero_width),
    "emoji_and_bidi": ("ledger.csv", _text(lambda rng: _with_cell(rng, 2, ["CN🙂", "\u202eNC", "ＣＮ"]))),
    # not ledgers
    "pdf_named_csv": ("ledger.csv", lambda rng: b"%PDF-1.7\n" + _random_bytes(rng, 3000)),
    "xlsx_named_csv": ("ledger.csv", lambda rng: _xlsx({"Entries": [HEADER, *_rows(rng)]})),
    "parquet_named_csv": ("ledger.csv", _parquet),
    "csv_named_xlsx": ("ledger.xlsx", _text(_good)),
    "xlsx_damaged": ("ledger.xlsx", _xlsx_damaged),
    "xlsx_hidden_sheet": ("ledger.xlsx", _xlsx_hidden),
    "gzip_csv": ("ledger.csv", lambda rng: gzip.compress(_good(rng).encode())),
    "zip_of_csv": ("ledger.csv", lambda rng: _zip({"entries.csv": _good(rng).encode()})),
    "docx": ("ledger.csv", lambda rng: _zip({"word/document.xml": b"<w:document/>"})),
    "png": ("ledger.csv", lambda rng: b"\x89PNG\r\n\x1a\n" + _random_bytes(rng, 500)),
    "ole2_xls": ("ledger.xls", lambda rng: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
    "html_export": (
        "ledger.xls",
        _text(lambda rng: "<html><body><table><tr><td>HTS</td></tr></table></body></html>"),
    ),
    "json_named_csv": (
        "ledger.csv",
        _text(lambda rng: json.dumps([dict(zip(HEADER, r, strict=True)) for r in _rows(rng)])),
    ),
}
"""Every kind of damage: file name (its extension is what the user claims) and a seeded builder."""

REFUSED = {
    "empty": "is empty",
    "nul_only": r"only NUL \(zero\) bytes",
    "whitespace_only": "blank",
    "random_bytes": "binary data",
    "random_bytes_after_header": "binary data",
    "huge_header_cell": "cannot be read as a header",
    "row_over_one_mib": "longer than 1 MiB",
    "utf16_odd_byte": "not valid utf-16",
    "pdf_named_csv": "a PDF document",
    "xlsx_damaged": "damaged ZIP file",
    "gzip_csv": "gzip-compressed",
    "zip_of_csv": r"a ZIP archive \(entries.csv\)",
    "docx": "a Word document",
    "png": "a PNG image",
    "ole2_xls": "Excel 97-2003",
    "html_export": "an HTML page",
}
"""Kinds refused as a whole, with a fragment of the one line the user sees."""


def _write(directory: Path, kind: str, seed: int) -> Path:
    name, build = KINDS[kind]
    path = directory / f"{kind}-{name}"
    path.write_bytes(build(random.Random(seed)))
    return path


def _check_invariants(result: ImportResult, chunk_rows: int | None = None) -> None:
    assert result.rows_in == result.rows_loaded + result.rows_quarantined
    assert result.rows_loaded == result.lines.height
    assert result.quarantine.get_column("source_row").n_unique() == result.rows_quarantined
    for column in ("customs_value_usd", "quantity", "quantity_kg", "content_kg", "content_value_usd"):
        total = result.lines.get_column(column).sum()
        assert math.isfinite(total), (column, total)
    issues = result.issues()
    assert set(issues.get_column("code")) <= set(CODES), set(issues.get_column("code")) - set(CODES)
    assert issues.get_column("message").str.contains("Fix: ").all()
    assert sum(result.issue_counts.values()) >= issues.height - len(result.notes)
    json.dumps(result.summary())  # what `--format json` prints


def test_the_corpus_has_every_kind_the_issue_asks_for() -> None:
    assert len(KINDS) >= 51


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_is_loaded_row_by_row_or_refused_clearly(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path, kind, seed=0)
    if kind in REFUSED:
        with pytest.raises(InputError, match=REFUSED[kind]) as caught:
            ingest(path, chunk_rows=3)
        assert str(path) in str(caught.value)  # names the file
        assert "\n" not in str(caught.value)  # one line
        return
    _check_invariants(ingest(path, chunk_rows=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(KINDS)), seed=st.integers(0, 2**32 - 1), chunk=st.sampled_from([2, 5, 1000])
)
def test_no_malformed_file_ends_in_a_traceback(kind: str, seed: int, chunk: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), kind, seed)
        try:
            result = ingest(path, chunk_rows=chunk)
        except CritminError:
            assert kind in REFUSED or kind in {"truncated_inside_quote", "unbalanced_quote"}
            return
        _check_invariants(result, chunk)


# ----------------------------------------------------------------------------------------------------------
# What each fix does, row by row
# ----------------------------------------------------------------------------------------------------------


def _codes(result: ImportResult, row: int) -> set[str]:
    return set(result.quarantine.filter(pl.col("source_row") == row).get_column("code"))


def test_non_finite_numbers_are_quarantined_with_their_own_code(tmp_path: Path) -> None:
    rows = [_row(random.Random(i)) for i in range(7)]
    for row, value in zip(
        rows, ["inf", "-inf", "nan", "1e309", "1" + "0" * 400, "1e15", "999999.5"], strict=True
    ):
        row[3] = value
    rows[6][4] = "1e309"
    path = tmp_path / "numbers.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    result = ingest(path)
    assert result.rows_loaded == 0 and result.rows_quarantined == 7
    for row in range(2, 9):
        assert _codes(result, row) == {"number_not_finite"}, row  # not also value_invalid
    message = result.quarantine.filter(pl.col("source_row") == 5).get_column("message").item()
    assert message.startswith(
        "Customs value '1e309' is infinite, not a number, or 10^15 or more (read as inf)."
    )
    assert result.quarantine.filter(pl.col("source_row") == 8).get_column("column").item() == "Qty"


def test_parsers_never_return_a_non_finite_number() -> None:
    cells = pl.Series(["inf", "1e309", "nan", "1" + ",000" * 120, "$1e309", "12", "1e15", "9.9e14"])
    assert parse_number(cells).to_list() == [None, None, None, None, None, 12.0, None, 9.9e14]
    raw = parse_number(cells, finite=False).to_list()
    assert math.isinf(raw[0]) and math.isinf(raw[1]) and math.isnan(raw[2]) and math.isinf(raw[3])


def test_full_width_digits_are_read_and_other_scripts_are_quarantined(tmp_path: Path) -> None:
    rows = _rows(random.Random(1), 4)
    rows[0][1], rows[0][3] = "８５０５．１１．００．７０", "１，２００．５０"
    rows[1][1] = "٨٥٠٥.١١.٠٠.٧٠"
    rows[2][3] = "١٠٠"
    rows[3][0] = "２０２５－０３－１４"
    path = tmp_path / "digits.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    result = ingest(path)
    first = result.lines.filter(pl.col("source_row") == 2)
    assert first.get_column("hts").item() == "8505110070"
    assert first.get_column("customs_value_usd").item() == 1200.5
    assert (
        result.lines.filter(pl.col("source_row") == 5).get_column("entry_date").item().isoformat()
        == "2025-03-14"
    )
    assert _codes(result, 3) == {"digits_not_ascii"}  # not also hts_malformed
    assert _codes(result, 4) == {"digits_not_ascii"}
    message = result.quarantine.filter(pl.col("source_row") == 3).get_column("message").item()
    assert "'٨٥٠٥.١١.٠٠.٧٠' has digits other than 0-9" in message


def test_an_over_long_cell_costs_its_row_and_is_kept_cut(tmp_path: Path) -> None:
    path = _write(tmp_path, "huge_cell_quoted", seed=3)
    result = ingest(path)
    last = result.rows_in + 1  # header is row 1
    assert _codes(result, last) == {"cell_too_large"}
    assert result.rows_loaded == result.rows_in - 1
    entry = result.quarantine.filter(pl.col("source_row") == last)
    assert entry.get_column("column").item() == "Description"
    cell = json.loads(entry.get_column("raw").item())["Description"]
    assert len(cell) == KEPT_CHARS + 1 and cell.endswith("…")


def test_utf16_without_a_byte_order_mark_is_decoded_and_said(tmp_path: Path) -> None:
    for encoding in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(_good(random.Random(5)).encode(encoding))
        assert sniff(path).encoding == encoding
        result = ingest(path)
        assert result.rows_loaded == result.rows_in > 0
        assert result.source.encoding == encoding
        assert [note.code for note in result.notes] == ["encoding_detected"]


def test_a_workbook_named_csv_is_read_as_a_workbook_and_said(tmp_path: Path) -> None:
    path = _write(tmp_path, "xlsx_named_csv", seed=2)
    assert sniff(path).kind is FileKind.xlsx
    result = ingest(path)
    assert result.source.format == "xlsx"
    assert result.rows_loaded == result.rows_in > 0
    note = result.notes[0]
    assert note.code == "format_mismatch"
    assert "is named .csv but holds an XLSX workbook; it was read as XLSX by its content" in note.message
    assert "rename it to xlsx_named_csv-ledger.xlsx" in note.message
    first = result.issues().row(0, named=True)
    assert (first["code"], first["severity"], first["row"]) == ("format_mismatch", "warning", None)
    assert result.issue_counts["format_mismatch"] == 1


def test_text_named_xlsx_and_parquet_named_csv_are_read_by_content(tmp_path: Path) -> None:
    text = ingest(_write(tmp_path, "csv_named_xlsx", seed=1))
    assert text.source.format == "csv" and text.rows_loaded > 0
    assert "holds text; it was read as CSV" in text.notes[0].message
    parquet = ingest(_write(tmp_path, "parquet_named_csv", seed=1))
    assert parquet.source.format == "parquet" and parquet.rows_loaded > 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
            "is a PDF document, not a ledger: a PDF cannot be read as a table",
        ),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "is a gzip-compressed file, not a ledger: decompress it"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "is a JPEG image"),
        (b"SQLite format 3\x00" + b"\x00" * 80, "is an SQLite database"),
        (b"\x00" * 4096, r"is only NUL \(zero\) bytes, not a ledger: the file was not written completely"),
        (b"<!DOCTYPE html><html><table>", "is an HTML page"),
        (b"HTS,COO\n8505110070,CN\n" + b"\x00" * 600, "is text followed by 600 NUL"),
    ],
)
def test_files_that_are_not_ledgers_say_what_they_are(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "entries.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected):
        ingest(path)


def test_text_that_merely_starts_like_a_signature_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text("PK ID,BZh,MM\n" + _good(random.Random(1)), encoding="utf-8")
    assert sniff(path).kind is FileKind.text


def test_duplicate_headers_say_which_column_was_used(tmp_path: Path) -> None:
    result = ingest(_write(tmp_path, "duplicate_headers", seed=4))
    notes = {note.column: note for note in result.notes}
    assert set(notes) == {"Value", "COO"}
    value = notes["Value"]
    assert value.code == "header_duplicate" and value.row == 1
    assert "2 columns are headed 'Value': columns D ('Value'), H ('Value (2)')." in value.message
    assert "'Value' feeds customs_value_usd; 'Value (2)' not used." in value.message
    assert result.mapping.fields["customs_value_usd"] == "Value"
    issues = result.issues().filter(pl.col("code") == "header_duplicate")
    assert issues.height == 2 and issues.get_column("row").to_list() == [1, 1]


def test_hidden_sheets_are_skipped_and_said(tmp_path: Path) -> None:
    path = _write(tmp_path, "xlsx_hidden_sheet", seed=6)
    result = ingest(path)
    assert result.source.sheet == "Entries"
    codes = [note.code for note in result.notes]
    assert codes == ["sheet_chosen", "sheet_hidden"]
    assert "Hidden sheets were not read: 'Old'" in result.notes[1].message
    assert "Sheet 'Entries' was read: its header names the most ledger fields" in result.notes[0].message
    named = ingest(path, sheet="Old")
    assert named.source.sheet == "Old"
    assert [note.code for note in named.notes] == ["sheet_hidden"]
    assert "it was read because it was named" in named.notes[0].message


def test_a_hidden_sheet_is_read_when_no_visible_sheet_has_a_header(tmp_path: Path) -> None:
    rows: list[list[object]] = [HEADER, *_rows(random.Random(2))]
    path = tmp_path / "book.xlsx"
    path.write_bytes(_xlsx({"Cover": [["Quarterly import report"]], "Data": rows}, hidden=("Data",)))
    result = ingest(path)
    assert result.source.sheet == "Data" and result.rows_loaded > 0
    assert "Sheet 'Data' is hidden in the workbook but was read" in result.notes[-1].message


def test_bom_files_get_the_same_protection(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    big = "z" * (MAX_CELL_BYTES + 1)
    path.write_text(
        "Parent,Component,Qty per,UOM,Description,Qty per\n"
        "GMA-200,MTR-1,1e309,EA,motor,1\n"
        f"GMA-200,MTR-2,2,EA,{big},1\n"
        "GMA-200,MTR-3,2,EA,fine,1\n",
        encoding="utf-8",
    )
    result = read_bom(path)
    assert result.rows_in == 3 and result.rows_quarantined == 2
    codes = set(result.issues.get_column("code"))
    assert {"bom_qty_invalid", "cell_too_large", "header_duplicate"} <= codes
    pdf = tmp_path / "bom-pdf.csv"
    pdf.write_bytes(b"%PDF-1.7\n")
    with pytest.raises(InputError, match="is a PDF document"):
        read_bom(pdf)


# ----------------------------------------------------------------------------------------------------------
# The command line: one clear line and exit code 2
# ----------------------------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize("kind", ["pdf_named_csv", "nul_only", "gzip_csv", "row_over_one_mib", "empty"])
def test_cli_refuses_with_exit_2_and_no_traceback(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path, kind, seed=0)
    for args in (
        ["ledger", "validate", str(path)],
        ["ledger", "import", str(path), "--workspace", str(tmp_path / "ws.duckdb")],
        ["exposure", "run", str(path)],
    ):
        result = runner.invoke(app, args, env={"COLUMNS": "400"})
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)
        assert result.output.count("\n") == 1 and str(path) in result.output  # one line, naming the file


def test_cli_validate_shows_file_notes(tmp_path: Path) -> None:
    path = _write(tmp_path, "duplicate_headers", seed=0)
    result = runner.invoke(app, ["ledger", "validate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [issue["code"] for issue in payload["issues"][:2]] == ["header_duplicate", "header_duplicate"]
