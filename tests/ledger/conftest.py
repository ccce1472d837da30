"""Helpers for ledger tests: small real files in every format, written to tmp_path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

HEADER = [
    "Entry No.",
    "Entry Date",
    "HTS Number",
    "Description",
    "COO",
    "Supplier",
    "Quantity",
    "UOM",
    "Entered Value",
]

GOOD_ROWS: list[list[str]] = [
    [
        "E-1",
        "03/14/2025",
        "8505.11.00.70",
        "NdFeB magnets N52",
        "CN",
        "Ningbo Eastmag",
        "100",
        "KG",
        "6,500.00",
    ],
    ["E-2", "2025-04-01", "8112.92.10.00", "Gallium 6N", "Japan", "Toyama Materials", "5", "kg", "4250.50"],
    [
        "E-3",
        "14-Mar-2025",
        "8101.10.00.00",
        "Tungsten powder",
        "DEU",
        "Goslar Refraktär",
        "2,000",
        "lbs",
        "$150,000",
    ],
]


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    preamble: Sequence[str] = (),
) -> Path:
    """A delimited file; fields containing the delimiter or quotes are quoted the way Excel does."""

    def cell(value: str) -> str:
        if delimiter in value or '"' in value or "\n" in value:
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [*preamble, delimiter.join(cell(h) for h in header)]
    lines += [delimiter.join(cell(v) for v in row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[Any]]]) -> Path:
    """A workbook with one sheet per entry; cells keep their Python types (numbers, dates, text)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    first = True
    for name, rows in sheets.items():
        sheet = workbook.active if first else workbook.create_sheet()
        assert sheet is not None
        sheet.title = name
        first = False
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "good.csv", HEADER, GOOD_ROWS)


def excel_rows() -> list[list[Any]]:
    """The good rows as a spreadsheet holds them: numbers as numbers, dates as dates."""
    return [
        [
            "E-1",
            datetime(2025, 3, 14),
            8505110070,
            "NdFeB magnets N52",
            "CN",
            "Ningbo Eastmag",
            100,
            "KG",
            6500.0,
        ],
        [
            "E-2",
            date(2025, 4, 1),
            "8112.92.10.00",
            "Gallium 6N",
            "Japan",
            "Toyama Materials",
            5,
            "kg",
            4250.5,
        ],
        ["E-3", 45730, "8101.10.00.00", "Tungsten powder", "DEU", "Goslar Refraktär", 2000, "lbs", 150000],
    ]


@pytest.fixture
def csv_file() -> Any:
    """``csv_file(path, header, rows, delimiter=",", encoding="utf-8", preamble=())`` writes a CSV."""
    return write_csv


@pytest.fixture
def xlsx_file() -> Any:
    """``xlsx_file(path, {"Sheet": rows})`` writes a workbook."""
    return write_xlsx


@pytest.fixture
def header() -> list[str]:
    return list(HEADER)


@pytest.fixture
def rows() -> list[list[str]]:
    return [list(r) for r in GOOD_ROWS]


@pytest.fixture
def xl_rows() -> list[list[Any]]:
    return excel_rows()
