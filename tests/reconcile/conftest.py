"""Builders of small ACE exports in the ES-003 layout, one tariff row per list item."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

ES003_COLUMNS = (
    "Entry Summary Number",
    "Entry Type Code",
    "Entry Date",
    "Mode of Transportation Code",
    "Liquidation Date",
    "Liquidation Status",
    "Entry Summary Line Number",
    "Country of Origin Code",
    "Line SPI Code",
    "Tariff Ordinal Number",
    "HTS Number - Full",
    "Line Tariff Quantity (1)",
    "Line Tariff UOM (1) Code",
    "Line Tariff Goods Value Amount",
    "Line Tariff Duty Amount",
    "Line MPF Amount",
    "Line HMF Amount",
)

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "critmin" / "samples" / "ace"
TODAY = "2026-12-05"


def goods(
    entry: str,
    line: int,
    hts: str,
    value: float,
    duty: float,
    *,
    date: str = "06/10/2025",
    origin: str = "CN",
    spi: str = "",
    ordinal: int = 9,
    mot: str = "11",
    liq: str = "",
    status: str = "",
    mpf: str = "",
    hmf: str = "",
    qty: str = "",
    uom: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """A goods (chapters 1-97) row."""
    return {
        "Entry Summary Number": entry,
        "Entry Type Code": "01",
        "Entry Date": date,
        "Mode of Transportation Code": mot,
        "Liquidation Date": liq,
        "Liquidation Status": status,
        "Entry Summary Line Number": line,
        "Country of Origin Code": origin,
        "Line SPI Code": spi,
        "Tariff Ordinal Number": ordinal,
        "HTS Number - Full": hts,
        "Line Tariff Quantity (1)": qty,
        "Line Tariff UOM (1) Code": uom,
        "Line Tariff Goods Value Amount": value,
        "Line Tariff Duty Amount": duty,
        "Line MPF Amount": mpf,
        "Line HMF Amount": hmf,
        **extra,
    }


def ch99(
    entry: str, line: int, heading: str, duty: float, *, ordinal: int = 1, **same: Any
) -> dict[str, Any]:
    """A Chapter 99 row of a line (value 0, as ACE reports it)."""
    row = goods(entry, line, heading, 0, duty, ordinal=ordinal, **same)
    return row


def write_rows(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Path:
    names = list(columns or ES003_COLUMNS)
    if columns is None:  # extra keys become extra columns; with columns given, exactly those are written
        for row in rows:
            names += [k for k in row if k not in names]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in names})
    return path


class Ace:
    """The row builders, handed to tests as the ``ace`` fixture (test modules cannot import conftest)."""

    goods = staticmethod(goods)
    ch99 = staticmethod(ch99)
    columns = ES003_COLUMNS
    samples = SAMPLES
    today = TODAY

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(
        self, rows: Sequence[dict[str, Any]], name: str = "es003.csv", columns: Sequence[str] | None = None
    ) -> Path:
        """The path of a CSV export holding ``rows``."""
        return write_rows(self.directory / name, rows, columns)


@pytest.fixture
def ace(tmp_path: Path) -> Ace:
    return Ace(tmp_path)
