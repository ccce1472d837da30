"""Every format and encoding, read from real files: the values a user would check come out right."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.errors import InputError
from critmin.ledger.ingest import ingest
from critmin.ledger.readers import open_source


def _by_entry(lines: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["entry_number"]: row for row in lines.to_dicts()}


def _check_good(lines: pl.DataFrame) -> None:
    got = _by_entry(lines)
    assert got["E-1"]["hts"] == "8505110070"
    assert got["E-1"]["entry_date"] == date(2025, 3, 14)
    assert got["E-1"]["country_origin"] == "CHN"
    assert got["E-1"]["customs_value_usd"] == 6500.0
    assert got["E-1"]["quantity_kg"] == 100.0
    assert got["E-2"]["hts"] == "8112921000"  # 8112.92.10.00
    assert got["E-2"]["country_origin"] == "JPN"
    assert got["E-2"]["customs_value_usd"] == 4250.5
    # 2,000 lb x 0.45359237 kg/lb = 907.18474 kg
    assert got["E-3"]["quantity_kg"] == pytest.approx(907.18474)
    assert got["E-3"]["unit"] == "lb"
    assert got["E-3"]["customs_value_usd"] == 150000.0
    assert got["E-3"]["entry_date"] == date(2025, 3, 14)
    assert got["E-3"]["supplier"] == "Goslar Refraktär"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_csv_encodings(
    tmp_path: Path, csv_file: Any, header: list[str], rows: list[list[str]], encoding: str
) -> None:
    path = csv_file(tmp_path / f"ledger-{encoding}.csv", header, rows, encoding=encoding)
    result = ingest(path)
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp1252": "cp1252", "utf-16": "utf-16"}[encoding]
    assert result.source.encoding == expected
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    _check_good(result.lines)


def test_latin1_bytes_undefined_in_cp1252(
    tmp_path: Path, csv_file: Any, header: list[str], rows: list[list[str]]
) -> None:
    """Byte 0x81 has no Windows-1252 character, so the file is read as Latin-1 and nothing is lost."""
    rows[0][5] = "Ningbo\x81Eastmag"
    path = csv_file(tmp_path / "latin1.csv", header, rows, encoding="latin-1")
    result = ingest(path)
    assert result.source.encoding == "latin-1"
    assert _by_entry(result.lines)["E-1"]["supplier"] == "Ningbo\x81Eastmag"


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("\u20ac".encode(), "utf-8"),  # a 3-byte euro sign cut by the 1 MiB block boundary
        (b"\xe2\x82", "cp1252"),  # the same sequence left unfinished at the end of the file
        (b"\xe9", "cp1252"),  # a lone Latin-1 e-acute after a megabyte of ASCII
        (b"\x8d", "latin-1"),  # a byte CP1252 leaves undefined
    ],
)
def test_encoding_decided_across_block_boundaries(tmp_path: Path, tail: bytes, expected: str) -> None:
    from critmin.ledger.readers import _BLOCK, _prepass

    head = b"a,b\n" + b"x,1\n" * ((_BLOCK - 5) // 4)
    head += b"y" * (_BLOCK - 2 - len(head)) + b","  # the tail's first byte is the block's last byte
    path = tmp_path / "edge.csv"
    path.write_bytes(head + tail + b"\n" + b"z,2\n" * 10)
    scanned = _prepass(path)
    assert scanned.encoding == expected
    assert scanned.lines == head.count(b"\n") + 11


@pytest.mark.parametrize(
    ("delimiter", "suffix"), [("\t", ".tsv"), ("\t", ".txt"), (";", ".csv"), ("|", ".csv")]
)
def test_delimiters(
    tmp_path: Path, csv_file: Any, header: list[str], rows: list[list[str]], delimiter: str, suffix: str
) -> None:
    path = csv_file(tmp_path / f"ledger{suffix}", header, rows, delimiter=delimiter)
    result = ingest(path)
    assert result.source.delimiter == delimiter
    _check_good(result.lines)


def test_header_below_a_report_banner(
    tmp_path: Path, csv_file: Any, header: list[str], rows: list[list[str]]
) -> None:
    preamble = ["ACME Customs Brokerage - Entry Line Report", "Generated 2026-01-05,,,", ""]
    path = csv_file(tmp_path / "banner.csv", header, rows, preamble=preamble)
    result = ingest(path)
    assert result.source.header_row == 4
    assert result.lines.get_column("source_row").to_list() == [5, 6, 7]
    _check_good(result.lines)


def test_multiline_cell_is_one_row_and_numbering_continues(
    tmp_path: Path, csv_file: Any, header: list[str], rows: list[list[str]]
) -> None:
    rows[0][3] = "NdFeB magnets\nN52, nickel coated"
    rows.insert(1, ["E-9", "03/15/2025", "8505.11.00.70", "too", "many", "fields", "here", "x", "1", "2"])
    path = csv_file(tmp_path / "multi.csv", header, rows)
    result = ingest(path)
    assert result.rows_in == 4
    assert _by_entry(result.lines)["E-1"]["description"] == "NdFeB magnets\nN52, nickel coated"
    assert result.lines.get_column("source_row").to_list() == [2, 4, 5]
    bad = result.quarantine.filter(pl.col("code") == "field_count")
    assert bad.get_column("source_row").to_list() == [3]
    assert "10 fields but the header has 9" in bad.item(0, "message")


def test_excel_sheet_by_detection_name_and_number(
    tmp_path: Path, xlsx_file: Any, header: list[str], xl_rows: list[list[Any]]
) -> None:
    notes = [["Import ledger workbook"], ["prepared by trade compliance"]]
    data = [["Q1 2025 entries"], [], header, *xl_rows, ["  ", ""], [" "]]
    path = xlsx_file(tmp_path / "book.xlsx", {"Notes": notes, "Entries": data})
    auto = ingest(path)
    assert auto.source.sheet == "Entries"
    assert auto.source.header_row == 3
    assert auto.rows_blank == 2
    assert auto.lines.get_column("source_row").to_list() == [4, 5, 6]
    _check_good(auto.lines)
    assert ingest(path, sheet="entries").source.sheet == "Entries"
    assert ingest(path, sheet=2).source.sheet == "Entries"
    with pytest.raises(InputError, match="no sheet named 'Ledger'; sheets are Notes, Entries"):
        ingest(path, sheet="Ledger")


def test_excel_cell_beyond_header_is_quarantined(
    tmp_path: Path, xlsx_file: Any, header: list[str], xl_rows: list[list[Any]]
) -> None:
    xl_rows[1] = [*xl_rows[1], "stray note"]
    path = xlsx_file(tmp_path / "stray.xlsx", {"Sheet1": [header, *xl_rows]})
    result = ingest(path)
    assert result.rows_in == 3
    assert result.quarantine.get_column("code").to_list() == ["field_count"]
    assert result.quarantine.item(0, "source_row") == 3


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "HTS": ["8505110070", "8112921000"],
            "Entry Date": [date(2025, 3, 14), date(2025, 4, 1)],
            "Country of Origin": ["CHN", "JPN"],
            "Customs Value": [6500.0, 4250.5],
            "Qty": [100.0, 5.5],
            "Unit": ["kg", "kg"],
        }
    )
    path = tmp_path / "ledger.parquet"
    frame.write_parquet(path)
    result = ingest(path)
    assert result.source.format == "parquet"
    assert result.lines.get_column("entry_date").to_list() == [date(2025, 3, 14), date(2025, 4, 1)]
    assert result.lines.get_column("customs_value_usd").to_list() == [6500.0, 4250.5]
    assert result.lines.get_column("quantity").to_list() == [100.0, 5.5]
    assert result.lines.get_column("source_row").to_list() == [1, 2]


def test_files_that_cannot_be_read(tmp_path: Path, xlsx_file: Any) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="is empty"):
        open_source(empty)
    old = tmp_path / "ledger.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"save it as \.xlsx or CSV"):
        open_source(old)
    with pytest.raises(InputError, match="no such file"):
        open_source(tmp_path / "missing.csv")
    workbook = xlsx_file(tmp_path / "whole.xlsx", {"Entries": [["HTS", "COO"], ["8505110070", "CN"]]})
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(workbook.read_bytes()[:300])  # a download cut short
    with pytest.raises(InputError, match=r"damaged ZIP file \(an \.xlsx workbook is a ZIP file"):
        open_source(broken)


def test_padded_cells_are_trimmed_like_every_cell(tmp_path: Path) -> None:
    """The CSV reader trims only the cells whose first or last byte can be whitespace (read from the Arrow
    buffers); the result is the same as trimming every cell, Unicode spaces included."""
    from critmin.ledger.readers import _blank_to_null

    spaces = ["", " ", "\t", "\u00a0", "\u3000", "\u2003"]
    texts = [*spaces, "é", "x y"]
    rows = ["Entry No.,Entry Date,HTS Number,Country of Origin,Entered Value (USD),Supplier"]
    for i in range(300):
        pad, tail = spaces[i % len(spaces)], spaces[(i * 5) % len(spaces)]
        lead, end = texts[i % len(texts)], texts[(i * 3) % len(texts)]
        supplier = f'"{lead}Acme {i}{end}"' if i % 5 else f'"{pad}{tail}"'
        rows.append(f'E-{i},{pad}2025-03-14{tail},8505.11.00.70," {pad}CN",{tail}100,{supplier}')
    path = tmp_path / "padded.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    reader = open_source(path)
    try:
        chunks = [chunk for chunk in reader.chunks(100) if chunk.frame.height]
    finally:
        reader.close()
    columns = reader.info.columns
    assert len(chunks) == 3
    for chunk in chunks:
        trimmed_everywhere = _blank_to_null(chunk.frame, columns)
        assert chunk.frame.equals(trimmed_everywhere)
        assert {"Entry No.", "HTS Number"} <= chunk.ascii_columns
        assert "Supplier" not in chunk.ascii_columns
    lines = ingest(path).lines
    assert lines.height == 300
    assert set(lines.get_column("country_origin")) == {"CHN"}
    supplier = dict(lines.select("entry_number", "supplier").iter_rows())
    assert supplier["E-6"] == "éAcme 6"  # "é" + ... + tab
    assert supplier["E-7"] == "x yAcme 7"  # ... + em space
    assert supplier["E-5"] is None  # only spaces
