"""The pipeline: every validation rule gives its code, row, column and a fix; counts always add up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.ledger.ingest import ParquetSink, ingest
from critmin.ledger.samples import LEDGER_SAMPLES_DIR
from critmin.ledger.validate import CODES

BASE = ["E-1", "03/14/2025", "8505.11.00.70", "NdFeB magnets", "CN", "Ningbo Eastmag", "100", "KG", "6500"]
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
COLUMN = {name: i for i, name in enumerate(HEADER)}

# (header to change, bad value, expected code)
RULES = [
    ("HTS Number", "", "hts_missing"),
    ("HTS Number", "85-05", "hts_malformed"),
    ("HTS Number", "8505.11.00.80", "hts_unknown"),
    ("COO", "", "country_missing"),
    ("COO", "Narnia", "country_unknown"),
    ("Entry Date", "", "date_missing"),
    ("Entry Date", "soon", "date_invalid"),
    ("Entry Date", "03/14/1925", "date_out_of_range"),
    ("Entered Value", "", "value_missing"),
    ("Entered Value", "n/a", "value_invalid"),
    ("Entered Value", "-6500", "value_negative"),
    ("Entered Value", "EUR 6500", "currency_not_usd"),
    ("Quantity", "lots", "quantity_invalid"),
    ("Quantity", "-3", "quantity_negative"),
    ("UOM", "", "unit_missing"),
    ("UOM", "BOX", "unit_unknown"),
]


def _one_bad_row(tmp_path: Path, csv_file: Any, header: str, value: str) -> Path:
    bad = list(BASE)
    bad[COLUMN[header]] = value
    bad[0] = "E-2"
    other = list(BASE)
    other[0] = "E-3"
    return csv_file(tmp_path / "rule.csv", HEADER, [BASE, bad, other])


@pytest.mark.parametrize(("header", "value", "code"), RULES)
def test_each_rule(tmp_path: Path, csv_file: Any, header: str, value: str, code: str) -> None:
    result = ingest(_one_bad_row(tmp_path, csv_file, header, value))
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    issue = result.quarantine.filter(pl.col("code") == code).row(0, named=True)
    assert issue["source_row"] == 3
    assert issue["column"] == header
    assert "Fix: " + CODES[code].fix in issue["message"]
    assert issue["source_file"] == "rule.csv"
    # the original cells travel with the quarantined row, for fixing and re-import
    assert '"Entry No.":"E-2"' in issue["raw"]


def test_messages_carry_suggestions(tmp_path: Path, csv_file: Any) -> None:
    result = ingest(_one_bad_row(tmp_path, csv_file, "COO", "Chinaa"))
    assert "Did you mean: China?" in result.quarantine.item(0, "message")
    result = ingest(_one_bad_row(tmp_path, csv_file, "HTS Number", "8505.11.00.80"))
    assert "Nearest valid codes: 8505.11.00.70" in result.quarantine.item(0, "message")


def test_warnings_leave_the_line_loaded(tmp_path: Path, csv_file: Any) -> None:
    zero = list(BASE)
    zero[8] = "0"
    mangled = list(BASE)
    mangled[0], mangled[2], mangled[3] = "E-2", "8112.921", "Gallium"
    counted = list(BASE)
    counted[0], counted[2], counted[7] = "E-3", "8112.92.10.00", "PCS"
    result = ingest(csv_file(tmp_path / "warn.csv", HEADER, [zero, mangled, counted]))
    assert result.rows_loaded == 3
    codes = dict(
        zip(result.warnings.get_column("source_row"), result.warnings.get_column("code"), strict=True)
    )
    assert codes == {2: "value_zero", 3: "hts_repaired", 4: "unit_mismatch"}
    assert "HTS 8112.92.10.00 is reported in kg; this line gives no." in result.warnings.filter(
        pl.col("code") == "unit_mismatch"
    ).item(0, "message")


def test_required_column_missing_quarantines_every_row(tmp_path: Path, csv_file: Any) -> None:
    header = [h for h in HEADER if h != "COO"]
    rows = [[v for h, v in zip(HEADER, BASE, strict=True) if h != "COO"]]
    result = ingest(csv_file(tmp_path / "nocoo.csv", header, rows))
    assert result.mapping.missing_required == ["country_origin"]
    assert result.quarantine.get_column("code").to_list() == ["column_missing"]


def test_duplicates_within_and_across_chunks(tmp_path: Path, csv_file: Any) -> None:
    rows = [
        [f"E-{i}", "03/14/2025", "8505.11.00.70", "m", "CN", "S", str(10 + i), "KG", str(100 + i)]
        for i in range(9)
    ]
    rows.append(list(rows[1]))  # row 11 repeats row 3 (in another chunk with chunk_rows=4)
    rows.append(list(rows[9]))  # row 12 repeats row 11, itself a repeat
    result = ingest(csv_file(tmp_path / "dups.csv", HEADER, rows), chunk_rows=4)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.duplicates) == (11, 9, 2, 2)
    messages = result.quarantine.sort("source_row").get_column("message").to_list()
    assert messages[0].startswith("Row 11 repeats row 3 ")
    assert messages[1].startswith("Row 12 repeats row 3 ")


def test_line_id_reused_for_different_data(tmp_path: Path, csv_file: Any) -> None:
    header = ["Line ID", *HEADER]
    first = ["L-1", *BASE]
    same_id = ["L-1", *BASE]
    same_id[7] = "99"
    result = ingest(csv_file(tmp_path / "ids.csv", header, [first, same_id]))
    assert result.quarantine.get_column("code").to_list() == ["line_id_duplicate"]
    assert "Line id 'L-1' was already used on row 2 for different data." in result.quarantine.item(
        0, "message"
    )


def test_lines_from_entry_and_line_numbers(tmp_path: Path, csv_file: Any) -> None:
    header = ["Entry Summary Number", "Entry Summary Line Number", *HEADER[1:]]
    rows = [["ABC1234567", "001", *BASE[1:]], ["ABC1234567", "002", *BASE[1:]]]
    result = ingest(csv_file(tmp_path / "ace.csv", header, rows))
    assert result.lines.get_column("line_id").to_list() == ["ABC1234567/001", "ABC1234567/002"]


def test_day_first_dates_are_inferred_and_shown(tmp_path: Path, csv_file: Any) -> None:
    rows = [list(BASE), list(BASE)]
    rows[0][1], rows[1][1] = "14/03/2025", "02/04/2025"
    rows[1][0] = "E-2"
    result = ingest(csv_file(tmp_path / "dmy.csv", HEADER, rows))
    assert result.date_order == "dmy"
    assert result.date_order_basis == "inferred from the values in the file"
    assert [str(d) for d in result.lines.get_column("entry_date")] == ["2025-03-14", "2025-04-02"]


def test_day_first_proven_only_after_the_first_chunk_applies_to_the_whole_file(
    tmp_path: Path, csv_file: Any
) -> None:
    """A date-sorted day-first file whose first chunk only holds days 1-12: the whole column is read
    ahead, so 06/01/2025 on row 3 is 6 January, like the 13/01/2025 that proves the order on row 7."""
    rows = []
    for number, day in enumerate(["05/01/2025", "06/01/2025", "07/01/2025", "08/01/2025", "09/01/2025"]):
        row = list(BASE)
        row[0], row[1] = f"E-{number}", day
        rows.append(row)
    proof = list(BASE)
    proof[0], proof[1] = "E-9", "13/01/2025"
    path = csv_file(tmp_path / "dmy-late.csv", HEADER, [*rows, proof])
    result = ingest(path, chunk_rows=3)
    assert result.date_order == "dmy"
    dates = dict(zip(result.lines["entry_number"], result.lines["entry_date"].cast(str), strict=True))
    assert dates["E-1"] == "2025-01-06"
    assert dates["E-9"] == "2025-01-13"


def test_content_columns(tmp_path: Path, csv_file: Any) -> None:
    header = [*HEADER, "Copper content (kg)", "Content Value"]
    wire = list(BASE)
    wire[2], wire[3] = "7408.19.00.30", "Copper wire"
    heavy = list(wire)
    heavy[0] = "E-2"
    result = ingest(
        csv_file(tmp_path / "cu.csv", header, [[*wire, "99.5", "1,094.50"], [*heavy, "150", "10"]])
    )
    line = result.lines.row(0, named=True)
    assert (line["content_mineral"], line["content_kg"], line["content_value_usd"]) == (
        "copper",
        99.5,
        1094.5,
    )
    assert result.quarantine.get_column("code").to_list() == ["content_exceeds_quantity"]


def test_counts_add_up_on_every_sample_and_planted_errors_are_found() -> None:
    expected = {
        "hts_unknown",
        "country_unknown",
        "value_invalid",
        "date_missing",
        "duplicate_line",
        "unit_unknown",
        "value_negative",
        "preference_unknown",
        "date_invalid",
    }
    for name, rows_in in [
        ("defense_prime_ledger.csv", 201),
        ("battery_maker_ledger.csv", 201),
        ("magnet_maker_ledger.csv", 151),
    ]:
        result = ingest(LEDGER_SAMPLES_DIR / name)
        assert result.rows_in == rows_in
        assert result.rows_quarantined == 9
        assert result.rows_loaded + result.rows_quarantined == result.rows_in
        assert set(result.quarantine.get_column("code")) == expected, name
        assert result.warnings.get_column("code").to_list() == ["hts_repaired"]
        assert result.lines.get_column("line_id").n_unique() == result.rows_loaded


def test_defense_sample_values_a_user_would_check() -> None:
    result = ingest(LEDGER_SAMPLES_DIR / "defense_prime_ledger.csv")
    lines = result.lines
    magnets = lines.filter(pl.col("hts") == "8505110070")
    assert set(magnets.get_column("country_origin")) <= {"CHN", "JPN", "DEU"}
    assert set(magnets.get_column("unit")) == {"no"}
    assert magnets.get_column("quantity_kg").null_count() == 0  # from the Net Wt (kg) column
    per_kg = (magnets.get_column("customs_value_usd") / magnets.get_column("quantity_kg")).to_list()
    assert all(50 <= p <= 165 for p in per_kg)  # profile: 55-160 USD/kg
    assert lines.get_column("entry_date").min().year == 2025  # type: ignore[union-attr]
    assert lines.get_column("entry_date").max().year == 2026  # type: ignore[union-attr]
    copper = lines.filter(pl.col("hts") == "7408190030")
    assert (copper.get_column("country_smelt_cast") == copper.get_column("country_origin")).all()


def test_parquet_sink_streams_the_same_lines(tmp_path: Path) -> None:
    path = LEDGER_SAMPLES_DIR / "battery_maker_ledger.csv"
    in_memory = ingest(path)
    streamed = ingest(path, sink=ParquetSink(tmp_path / "parts"), chunk_rows=50)
    assert streamed.lines.height == 0  # went to the sink
    parts = pl.read_parquet(tmp_path / "parts" / "lines-*.parquet")
    assert parts.height == in_memory.rows_loaded == streamed.rows_loaded
    assert parts.sort("line_id").equals(in_memory.lines.sort("line_id"))
