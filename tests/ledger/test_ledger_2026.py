"""What 2026 law asks of a ledger: steel content, quantities in watts, liquidation dates and the U.S. share
of Section 232 metal — read, checked, quarantined with a fix, and counted."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.ledger.headers import MappingSpec, match_header, parse_header
from critmin.ledger.ingest import ingest
from critmin.ledger.minerals import content_ids, mineral_from_text
from critmin.ledger.numbers import parse_share
from critmin.ledger.schema import LEDGER_COLUMNS, LEDGER_SCHEMA
from critmin.ledger.units import canonical_unit, resolve_units, to_kg_factor, unit_scale, unit_table
from critmin.ledger.validate import CODES

HEADER = ["Line ID", "Entry Date", "HTS Number", "COO", "Quantity", "UOM", "Entered Value"]
STEEL = ["S1", "03/14/2026", "7208.10.15.00", "KR", "1000", "kg", "5000"]
SOLAR = ["P1", "03/14/2026", "8541.42.00.10", "MY", "2.5", "kW", "1000"]


# ----------------------------------------------------------------------------------------------------------
# steel as a content mineral


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steel", "steel"),
        ("Steel", "steel"),
        ("STEEL", "steel"),
        ("iron and steel", "steel"),
        ("Iron & Steel", "steel"),
        ("iron/steel", "steel"),
        ("stainless steel", "steel"),
        ("carbon steel", "steel"),
        ("aluminium", "aluminum"),
        ("Cu", "copper"),
        ("fe", None),  # iron content is not steel content: not guessed
        ("iron", None),
    ],
)
def test_steel_is_a_content_id(text: str, expected: str | None) -> None:
    assert mineral_from_text(text) == expected


def test_content_ids_are_the_minerals_and_steel() -> None:
    ids = content_ids()
    assert {"steel", "aluminum", "copper", "neodymium"} <= ids


def test_a_steel_content_line_loads_and_keeps_steel(tmp_path: Path, csv_file: Any) -> None:
    header = [*HEADER, "Content Mineral", "Content Value"]
    other = ["S2", *STEEL[1:]]
    path = csv_file(
        tmp_path / "steel.csv", header, [[*STEEL, "steel", "400"], [*other, "Iron and Steel", "250"]]
    )
    result = ingest(path)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    got = {r["line_id"]: r for r in result.lines.iter_rows(named=True)}
    assert (got["S1"]["content_mineral"], got["S1"]["content_value_usd"]) == ("steel", 400.0)
    assert got["S2"]["content_mineral"] == "steel"


def test_steel_named_in_a_content_header() -> None:
    hint = parse_header("Steel content (kg)")
    assert (hint.base, hint.unit, hint.mineral) == ("content", "kg", "steel")


# ----------------------------------------------------------------------------------------------------------
# watts


@pytest.mark.parametrize(
    ("spelling", "scale"),
    [
        ("W", 1.0),
        ("w", 1.0),
        ("watt", 1.0),
        ("Watts", 1.0),
        ("Wp", 1.0),
        ("WTT", 1.0),
        ("kW", 1_000.0),
        ("KW", 1_000.0),
        ("kWp", 1_000.0),
        ("kilowatts", 1_000.0),
        ("MW", 1_000_000.0),
        ("MWp", 1_000_000.0),
        ("GW", 1_000_000_000.0),
    ],
)
def test_watt_spellings(spelling: str, scale: float) -> None:
    assert canonical_unit(spelling) == "W"
    assert unit_scale(spelling) == scale


def test_watts_are_power_not_mass() -> None:
    row = unit_table().filter(pl.col("unit") == "W").row(0, named=True)
    assert row == {"unit": "W", "dimension": "power", "to_base": 1.0}
    assert to_kg_factor("W") is None
    assert unit_scale("kg") == 1.0 and unit_scale("t") == 1.0  # other units keep their own quantity


def test_resolved_units_carry_their_scale() -> None:
    looked = resolve_units(pl.Series(["2.5 kW", "kW", "Wp", "kg", "BOX"]))
    got = {raw: (unit, scale) for raw, unit, scale, _ in looked.iter_rows()}
    assert got["kW"] == ("W", 1_000.0)
    assert got["Wp"] == ("W", 1.0)
    assert got["kg"] == ("kg", 1.0)
    assert got["BOX"] == (None, None)


def test_quantities_in_kw_and_mw_are_stored_in_watts(tmp_path: Path, csv_file: Any) -> None:
    rows = [
        SOLAR,
        ["P2", "03/14/2026", "8541.43.00.10", "VN", "3 MWp", "", "900000"],
        ["P3", "03/14/2026", "8541.42.00.10", "MY", "400", "Wp", "120"],
        ["P4", "03/14/2026", "8541.42.00.10", "MY", "1,5", "kWp", "700"],
    ]
    result = ingest(csv_file(tmp_path / "solar.csv", HEADER, rows))
    assert result.rows_quarantined == 0
    got = {r["line_id"]: r for r in result.lines.iter_rows(named=True)}
    assert (got["P1"]["quantity"], got["P1"]["unit"]) == (2_500.0, "W")  # 2.5 kW -> 2500 W
    assert (got["P2"]["quantity"], got["P2"]["unit"]) == (3_000_000.0, "W")
    assert (got["P3"]["quantity"], got["P3"]["unit"]) == (400.0, "W")
    assert got["P4"]["quantity"] == pytest.approx(1_500.0)
    assert all(r["quantity_kg"] is None for r in got.values())  # a power is no mass
    # 8541.42.00.10 reports No. and W: a line in watts is in an HTS unit, so no unit_mismatch
    assert "unit_mismatch" not in result.warnings.get_column("code").to_list()


def test_kw_named_in_the_quantity_header(tmp_path: Path, csv_file: Any) -> None:
    assert parse_header("Quantity (kW)").unit == "kW"  # the spelling keeps its scale
    assert parse_header("Quantity (W)").unit == "W"
    header = ["Line ID", "Entry Date", "HTS Number", "COO", "Quantity (kW)", "Entered Value"]
    row = ["P1", "03/14/2026", "8541.42.00.10", "MY", "2.5", "1000"]
    result = ingest(csv_file(tmp_path / "kw.csv", header, [row]))
    line = result.lines.row(0, named=True)
    assert (line["quantity"], line["unit"]) == (2_500.0, "W")


def test_mapping_file_unit_alias_may_name_a_scaled_spelling(tmp_path: Path, csv_file: Any) -> None:
    spec = MappingSpec(units={"KWT-X": "kW"})
    row = [*SOLAR[:5], "KWT-X", SOLAR[6]]
    result = ingest(csv_file(tmp_path / "alias.csv", HEADER, [row]), mapping=spec)
    line = result.lines.row(0, named=True)
    assert (line["quantity"], line["unit"]) == (2_500.0, "W")
    with pytest.raises(ValueError, match="not a canonical unit"):
        MappingSpec(units={"CTN": "carton"})


# ----------------------------------------------------------------------------------------------------------
# liquidation date and U.S. metal content share


def test_schema_has_the_new_columns_after_content_value() -> None:
    position = LEDGER_COLUMNS.index("content_value_usd")
    assert LEDGER_COLUMNS[position + 1 : position + 3] == ("liquidation_date", "us_metal_content_share")
    assert LEDGER_SCHEMA["liquidation_date"] == pl.Date()
    assert LEDGER_SCHEMA["us_metal_content_share"] == pl.Float64()


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Liquidation Date", "liquidation_date"),
        ("Liq Date", "liquidation_date"),
        ("Liq. Date", "liquidation_date"),
        ("Date of Liquidation", "liquidation_date"),
        ("Date Liquidated", "liquidation_date"),
        ("Entry Summary Liquidation Date", "liquidation_date"),
        ("CBP Liquidation Date (ACE)", "liquidation_date"),
        ("US content %", "us_metal_content_share"),
        ("US Content (%)", "us_metal_content_share"),
        ("U.S. metal content", "us_metal_content_share"),
        ("U.S. Metal Content Share", "us_metal_content_share"),
        ("US Metal Content", "us_metal_content_share"),
        ("% US content", "us_metal_content_share"),
        ("US Melted and Poured", "us_metal_content_share"),
        ("Share smelted and cast in US", "us_metal_content_share"),
        ("Domestic metal content", "us_metal_content_share"),
    ],
)
def test_new_headers_are_recognised(header: str, field: str) -> None:
    matched = match_header(header)
    assert matched is not None and matched[0] == field, matched


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Metal Content", "content_kg"),
        ("Content Value", "content_value_usd"),
        ("Country of Smelt/Cast", "country_smelt_cast"),
        ("Entry Date", "entry_date"),
    ],
)
def test_existing_headers_keep_their_field(header: str, field: str) -> None:
    matched = match_header(header)
    assert matched is not None and matched[0] == field


@pytest.mark.parametrize("header", ["Liquidation Status", "Liquidation Type", "US Customs Value"])
def test_lookalike_headers_are_not_taken(header: str) -> None:
    matched = match_header(header)
    assert matched is None or matched[0] not in {"liquidation_date", "us_metal_content_share"}


def test_parse_share() -> None:
    values = pl.Series(["0.9", "90%", "90 %", " 12.5% ", "1", "0", "90", "abc", None])
    got = parse_share(values).to_list()
    assert got[:7] == pytest.approx([0.9, 0.9, 0.9, 0.125, 1.0, 0.0, 90.0])
    assert got[7:] == [None, None]
    assert parse_share(pl.Series(["0,9", "90,5%"]), decimal_comma=True).to_list() == pytest.approx(
        [0.9, 0.905]
    )


NEW_HEADER = [*HEADER, "Liquidation Date", "US content %"]


def _row(line_id: str, liquidated: str, share: str) -> list[str]:
    return [line_id, *STEEL[1:], liquidated, share]


def test_liquidation_dates_and_shares_load(tmp_path: Path, csv_file: Any) -> None:
    rows = [
        _row("A", "2027-01-22", "0.9"),
        _row("B", "01/22/2027", "90%"),
        _row("C", "22-Jan-2027", "90 %"),
        _row("D", "", "100%"),
        _row("E", "Unliquidated", "0"),
        _row("F", "pending", ""),
        _row("G", "46044", "1"),  # an Excel serial number: 2026-01-22
    ]
    rows[6][1] = "01/02/2026"  # entered 2 January 2026, so the liquidation comes after it
    result = ingest(csv_file(tmp_path / "new.csv", NEW_HEADER, rows))
    assert result.rows_quarantined == 0, result.quarantine
    got = {r["line_id"]: r for r in result.lines.iter_rows(named=True)}
    for line_id in "ABC":
        assert got[line_id]["liquidation_date"] == date(2027, 1, 22), line_id
        assert got[line_id]["us_metal_content_share"] == pytest.approx(0.9), line_id
    assert (got["D"]["liquidation_date"], got["D"]["us_metal_content_share"]) == (None, 1.0)
    assert (got["E"]["liquidation_date"], got["E"]["us_metal_content_share"]) == (None, 0.0)
    assert (got["F"]["liquidation_date"], got["F"]["us_metal_content_share"]) == (None, None)
    assert got["G"]["liquidation_date"] == date(2026, 1, 22)
    assert result.mapping.fields["liquidation_date"] == "Liquidation Date"
    assert result.mapping.fields["us_metal_content_share"] == "US content %"


def test_liquidation_dates_follow_the_files_day_first_order(tmp_path: Path, csv_file: Any) -> None:
    rows = [_row("A", "05/02/2027", "0.5")]
    rows[0][1] = "14/03/2026"  # proves day-first
    result = ingest(csv_file(tmp_path / "dmy.csv", NEW_HEADER, rows))
    assert result.date_order == "dmy"
    assert result.lines.item(0, "liquidation_date") == date(2027, 2, 5)


def test_excel_cells_date_and_percent(tmp_path: Path, xlsx_file: Any) -> None:
    # a date cell, and a percent-formatted cell (the workbook holds 0.9 for "90%")
    row = ["S1", datetime(2026, 3, 14), "7208.10.15.00", "KR", 1000, "kg", 5000, datetime(2027, 1, 22), 0.9]
    path = xlsx_file(tmp_path / "new.xlsx", {"Entries": [NEW_HEADER, row]})
    result = ingest(path)
    line = result.lines.row(0, named=True)
    assert (line["liquidation_date"], line["us_metal_content_share"]) == (date(2027, 1, 22), 0.9)


@pytest.mark.parametrize(
    ("liquidated", "share", "column", "code", "said"),
    [
        ("2027-01-22", "90", "US content %", "us_content_share_out_of_range", "'90' was read as 90.0"),
        ("2027-01-22", "120%", "US content %", "us_content_share_out_of_range", "'120%' was read as 1.2"),
        ("2027-01-22", "-0.1", "US content %", "us_content_share_out_of_range", "outside 0 to 1"),
        ("2027-01-22", "most", "US content %", "us_content_share_invalid", "'most' is not a number"),
        ("soon", "0.5", "Liquidation Date", "liquidation_date_invalid", "'soon' is not a date"),
        ("2227-01-22", "0.5", "Liquidation Date", "liquidation_date_invalid", "outside 1980-2099"),
        ("2025-12-01", "0.5", "Liquidation Date", "liquidation_before_entry", "before the entry date"),
    ],
)
def test_bad_values_are_quarantined_with_row_column_and_fix(
    tmp_path: Path, csv_file: Any, liquidated: str, share: str, column: str, code: str, said: str
) -> None:
    rows = [_row("A", "2027-01-22", "0.9"), _row("B", liquidated, share), _row("C", "", "")]
    result = ingest(csv_file(tmp_path / "bad.csv", NEW_HEADER, rows))
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    issue = result.quarantine.row(0, named=True)
    assert (issue["source_file"], issue["source_row"], issue["column"], issue["code"]) == (
        "bad.csv",
        3,
        column,
        code,
    )
    assert said in issue["message"]
    assert issue["message"].endswith("Fix: " + CODES[code].fix)
    assert result.quarantined_by_code == {code: 1}
    assert "B" not in result.lines.get_column("line_id").to_list()


def test_quarantined_rows_are_counted_by_code(tmp_path: Path, csv_file: Any) -> None:
    two_problems = _row("B", "soon", "90")
    unknown = _row("C", "", "")
    unknown[3] = "Narnia"
    repeat = _row("A", "2027-01-22", "0.9")
    rows = [_row("A", "2027-01-22", "0.9"), two_problems, unknown, repeat]
    result = ingest(csv_file(tmp_path / "count.csv", NEW_HEADER, rows))
    assert result.rows_quarantined == 3
    assert result.quarantined_by_code == {
        "country_unknown": 1,
        "duplicate_line": 1,
        "liquidation_date_invalid": 1,
        "us_content_share_out_of_range": 1,
    }
    assert result.summary()["quarantined_by_code"] == result.quarantined_by_code
