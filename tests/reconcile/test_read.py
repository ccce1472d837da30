"""Reading ACE exports: headers, Chapter 99 rows attached to their goods line, and nothing lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.errors import InputError
from critmin.reconcile.ace import read_ace, require_lines
from critmin.reconcile.layout import ACE_FIELDS, wide_ch99_columns


def _accounted(export: Any) -> None:
    assert export.rows_in == export.rows_loaded + export.rows_quarantined
    loaded_rows = set(export.tariffs.get_column("source_row").to_list())
    quarantined = set(export.quarantine.get_column("source_row").to_list())
    assert not loaded_rows & quarantined


def test_ace_report_names_are_recognised(ace: Any) -> None:
    export = read_ace(ace.samples / "aegis_defense_es003.csv")
    fields = export.mapping.fields
    assert fields["entry_number"] == "Entry Summary Number"
    assert fields["line_number"] == "Entry Summary Line Number"
    assert fields["tariff_ordinal"] == "Tariff Ordinal Number"
    assert fields["hts"] == "HTS Number - Full"
    assert fields["goods_value"] == "Line Tariff Goods Value Amount"
    assert fields["duty_amount"] == "Line Tariff Duty Amount"
    assert fields["quantity"] == "Line Tariff Quantity (1)"
    assert fields["unit"] == "Line Tariff UOM (1) Code"
    assert fields["liquidation_date"] == "Liquidation Date"
    assert fields["mode_of_transport"] == "Mode of Transportation Code"
    assert fields["line_mpf"] == "Line MPF Amount"
    assert export.mapping.missing_required == []


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("entry_summary_number", "entry_number"),
        ("ENTRY SUMMARY NUMBER", "entry_number"),
        ("Entry No.", "entry_number"),
        ("Entry Summary Line Number", "line_number"),
        ("hts_number_full", "hts"),
        ("HTS Number", "hts"),
        ("Line Goods Value Amount", "goods_value"),
        ("Line Duty Amount", "duty_amount"),
        ("Total Paid MPF Amount", "entry_mpf"),
        ("Line HMF Amount", "line_hmf"),
        ("Country of Origin Code", "country_origin"),
        ("Line SPI Code", "preference_program"),
        ("Entry Summary Liquidation Date", "liquidation_date"),
        ("Liquidation Status", "liquidation_status"),
        ("Importation Date", "entry_date"),
        ("MOT", "mode_of_transport"),
        ("Copper Content Value (USD)", "content_value_usd"),
    ],
)
def test_header_variants(header: str, field: str) -> None:
    from critmin.ledger.headers import match_header

    matched = match_header(header, ACE_FIELDS)
    assert matched is not None and matched[0] == field


def test_chapter99_rows_attach_to_their_goods_line(ace: Any) -> None:
    rows = [
        ace.ch99("AAA-0000001-1", 1, "99030124", 2000, ordinal=1),
        ace.ch99("AAA-0000001-1", 1, "9903.88.03", 2500, ordinal=2),
        ace.goods("AAA-0000001-1", 1, "8505110070", "$10,000.00", "$210.00", ordinal=3),
        ace.goods("AAA-0000001-1", 2, "8505110070", 5000, 105, ordinal=1),
    ]
    export = read_ace(ace.write(rows))
    _accounted(export)
    assert export.lines.height == 2
    first = export.lines.filter(pl.col("line_id") == "AAA00000011/1").row(0, named=True)
    assert first["headings"] == ["9903.01.24", "9903.88.03"]
    assert first["paid_column1"] == 210.0
    assert first["paid_duty"] == 210.0 + 2000 + 2500
    assert first["customs_value_usd"] == 10000.0
    assert first["country_origin"] == "CHN"
    kinds = export.tariffs.filter(pl.col("line_id") == "AAA00000011/1").get_column("kind").to_list()
    assert sorted(kinds) == ["ch99", "ch99", "goods"]


def test_workbook_with_a_report_banner_is_read(ace: Any) -> None:
    export = read_ace(ace.samples / "voltaris_cells_es003.xlsx")
    assert export.source.sheet == "Main Report"
    assert export.source.header_row == 4  # two banner rows and a blank row above the header
    assert export.rows_quarantined == 0
    assert export.lines.height == 6
    assert export.mapping.fields["content_value_usd"] == "Copper Content Value (USD)"
    content = export.lines.filter(pl.col("content_value_usd").is_not_null())
    assert content.get_column("content_mineral").to_list() == ["copper"]  # named by the header


def test_every_row_is_loaded_or_quarantined_with_file_row_column_and_fix(ace: Any) -> None:
    rows = [
        ace.goods("AAA-0000001-1", 1, "8505110070", 10000, 210, ordinal=1),  # row 2: fine
        ace.goods("AAA-0000001-1", 2, "8505110070", 10000, 210, origin="Chinaa", ordinal=1),  # row 3
        ace.ch99("AAA-0000001-1", 3, "99038803", 100, ordinal=1),  # row 4: no goods row for line 3
        ace.goods(
            "AAA-0000001-1", 4, "8505110080", 10000, 210, ordinal=1
        ),  # row 5: suffix not in the schedule
        ace.goods("AAA-0000001-1", 5, "8505110070", 10000, "", ordinal=1),  # row 6: no duty
        ace.goods("AAA-0000001-1", 6, "8505110070", 10000, 210, date="02/30/2025", ordinal=1),  # row 7
        ace.goods("AAA-0000001-1", 1, "8505110070", 10000, 210, ordinal=1),  # row 8: repeats row 2
        ace.goods("AAA-0000001-1", 7, "8505110070", 10000, 210, ordinal=1),  # rows 9-10: two goods rows
        ace.goods("AAA-0000001-1", 7, "8505200000", 500, 0, ordinal=2),
        ace.ch99("AAA-0000001-1", 8, "9903.881", 100, ordinal=1),  # row 11: malformed heading
        ace.goods("AAA-0000001-1", 8, "8505110070", 10000, "-5", ordinal=2),  # row 12: negative duty
    ]
    export = read_ace(ace.write(rows, name="bad.csv"))
    _accounted(export)
    assert export.rows_in == 11
    assert export.rows_loaded == 1
    codes = {row: codes for row, codes in export.quarantine.select("source_row", "codes").iter_rows()}
    assert codes[3] == "country_unknown"
    assert codes[4] == "goods_row_missing"
    assert codes[5] == "hts_unknown"
    assert codes[6] == "duty_missing"
    assert codes[7] == "date_invalid"
    assert codes[8] == "duplicate_row"
    assert codes[9] == codes[10] == "line_ambiguous"
    assert "heading_malformed" in codes[11]
    assert codes[12] == "amount_invalid"
    message = export.quarantine.filter(pl.col("source_row") == 3).get_column("message").item()
    assert message.startswith("bad.csv, row 3, column 'Country of Origin Code': 'Chinaa' is not a country")
    assert "Fix:" in message
    assert "repeats row 2" in export.quarantine.filter(pl.col("source_row") == 8).get_column("message").item()
    assert (
        '"Country of Origin Code":"Chinaa"'
        in export.quarantine.filter(pl.col("source_row") == 3).get_column("raw").item()
    )
    assert export.quarantined_by_code()["line_ambiguous"] == 2


def test_a_missing_required_column_quarantines_every_row(ace: Any) -> None:
    columns = [c for c in ace.columns if c != "Line Tariff Duty Amount"]
    path = ace.write([ace.goods("AAA-0000001-1", 1, "8505110070", 10000, 210)], columns=columns)
    export = read_ace(path)
    assert export.rows_quarantined == 1
    assert export.quarantine.get_column("codes").item() == "column_missing"
    assert "duty_amount" in export.quarantine.get_column("message").item()
    with pytest.raises(InputError, match="no entry line could be loaded"):
        require_lines(export)


def test_chapter99_numbers_in_columns_of_their_own(ace: Any) -> None:
    columns = [
        "Entry Summary Number",
        "Entry Summary Line Number",
        "Entry Date",
        "Country of Origin Code",
        "HTS Number - Full",
        "Line Goods Value Amount",
        "Line Duty Amount",
        "Chapter 99 Number 1",
        "Chapter 99 Duty Amount 1",
        "Chapter 99 Number 2",
        "Chapter 99 Duty Amount 2",
    ]
    rows = [
        {
            "Entry Summary Number": "AAA-0000001-1",
            "Entry Summary Line Number": 1,
            "Entry Date": "2025-06-10",
            "Country of Origin Code": "CN",
            "HTS Number - Full": "7410.11.00.00",
            "Line Goods Value Amount": 20000,
            "Line Duty Amount": 200,
            "Chapter 99 Number 1": "9903.01.24",
            "Chapter 99 Duty Amount 1": 4000,
            "Chapter 99 Number 2": "9903.78.01",
            "Chapter 99 Duty Amount 2": 10000,
        }
    ]
    assert [w.index for w in wide_ch99_columns(columns)] == [1, 2]
    export = read_ace(ace.write(rows, columns=columns))
    _accounted(export)
    line = export.lines.row(0, named=True)
    assert line["headings"] == ["9903.01.24", "9903.78.01"]
    assert line["paid_duty"] == 200 + 4000 + 10000
    assert export.tariffs.height == 3


def test_chapter99_column_without_its_duty_is_refused_row_by_row(ace: Any) -> None:
    columns = ["Entry Summary Number", "Entry Date", "Country of Origin Code", "HTS Number", "Entered Value",
               "Duty Amount", "Chapter 99 Number"]  # fmt: skip
    rows = [
        {
            "Entry Summary Number": "AAA-0000001-1",
            "Entry Date": "2025-06-10",
            "Country of Origin Code": "CN",
            "HTS Number": "7410110000",
            "Entered Value": 20000,
            "Duty Amount": 14200,
            "Chapter 99 Number": "99030124",
        }
    ]
    export = read_ace(ace.write(rows, columns=columns))
    assert export.rows_quarantined == 1
    assert "has no duty column beside it" in export.quarantine.get_column("message").item()


def test_without_line_numbers_goods_rows_are_lines_in_file_order(ace: Any) -> None:
    columns = [c for c in ace.columns if c != "Entry Summary Line Number"]
    rows = [
        ace.goods("AAA-0000001-1", 0, "8505110070", 10000, 210),
        ace.goods("AAA-0000001-1", 0, "2805300020", 5000, 250),
        ace.ch99("AAA-0000001-1", 0, "99030124", 2000),
    ]
    export = read_ace(ace.write(rows, columns=columns))
    _accounted(export)
    assert export.lines.get_column("line_number").to_list() == [1, 2]
    assert export.quarantine.get_column("codes").to_list() == ["line_number_invalid"]
    warnings = export.issues.filter(pl.col("severity") == "warning").get_column("code").unique().to_list()
    assert warnings == ["line_number_assumed"]


def test_liquidation_dates_and_statuses(ace: Any) -> None:
    rows = [
        ace.goods("E1", 1, "8505110070", 100, 2.1, liq="", status="Unliquidated"),
        ace.goods("E2", 1, "8505110070", 100, 2.1, liq="", status="Extended"),
        ace.goods("E3", 1, "8505110070", 100, 2.1, liq="04/24/2026", status="Liquidated"),
        ace.goods("E4", 1, "8505110070", 100, 2.1, liq="pending", status="Under review"),
        ace.goods("E5", 1, "8505110070", 100, 2.1, liq="01/01/2025", status=""),  # before the entry date
    ]
    export = read_ace(ace.write(rows))
    statuses = dict(export.entries.select("entry_number", "liquidation_status").iter_rows())
    assert statuses == {"E1": "unliquidated", "E2": "unliquidated", "E3": "liquidated", "E4": None}
    e3 = export.lines.filter(pl.col("entry_number") == "E3").get_column("liquidation_date").item()
    assert e3.isoformat() == "2026-04-24"
    codes = export.issues.select("code").to_series().to_list()
    assert "liquidation_status_unknown" in codes
    assert export.quarantine.get_column("codes").to_list() == ["liquidation_date_invalid"]


def test_fees_are_read_once_per_line_and_once_per_entry(ace: Any) -> None:
    rows = [
        {**ace.ch99("E1", 1, "99030124", 2000), "Total Paid MPF Amount": "$40.00"},
        {**ace.goods("E1", 1, "8505110070", 10000, 210, hmf="12.50"), "Total Paid MPF Amount": "$40.00"},
        {**ace.goods("E1", 2, "8505110070", 1548, 32.51, hmf="1.94"), "Total Paid MPF Amount": "$40.00"},
    ]
    export = read_ace(ace.write(rows))
    entry = export.entries.row(0, named=True)
    assert entry["paid_mpf"] == 40.0  # the entry total, not 3 x 40
    assert entry["paid_hmf"] == pytest.approx(12.50 + 1.94)


def test_unreadable_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"%PDF-1.7\n" + b"\x00" * 100)
    with pytest.raises(InputError, match=r"report\.csv"):
        read_ace(path)
