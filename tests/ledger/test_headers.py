"""Header recognition (a corpus of real spellings, positive and negative) and the mapping file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from critmin.errors import InputError
from critmin.ledger.bom import BOM_FIELDS
from critmin.ledger.headers import (
    MappingSpec,
    detect_header_row,
    load_mapping,
    map_headers,
    match_header,
    parse_header,
)
from critmin.ledger.ingest import ingest

RECOGNISED = [
    ("HTS Number", "hts"),
    ("HTS #", "hts"),
    ("Tariff No", "hts"),
    ("Tariff No.", "hts"),
    ("HTSUS Code", "hts"),
    ("HTS Number - Full", "hts"),
    ("Line Tariff Number", "hts"),
    ("HS Code", "hts"),
    ("Harmonized Tariff Number", "hts"),
    ("COO", "country_origin"),
    ("Country of Origin", "country_origin"),
    ("Country of Origin Code", "country_origin"),
    ("Ctry of Origin", "country_origin"),
    ("Origin", "country_origin"),
    ("Country of Export", "country_export"),
    ("Export Country", "country_export"),
    ("Country of Smelt/Cast", "country_smelt_cast"),
    ("Country of Melt and Pour", "country_smelt_cast"),
    ("Entered Value", "customs_value_usd"),
    ("Entered Value (USD)", "customs_value_usd"),
    ("Line Value", "customs_value_usd"),
    ("Line Goods Value Amount", "customs_value_usd"),
    ("Customs Value $", "customs_value_usd"),
    ("Entry No.", "entry_number"),
    ("Entry #", "entry_number"),
    ("Entry Summary Number", "entry_number"),
    ("Entry Summary Line Number", "line_number"),
    ("Entry Date", "entry_date"),
    ("Release Date", "entry_date"),
    ("UOM", "unit"),
    ("Line Tariff UOM Code", "unit"),
    ("Qty", "quantity"),
    ("Line Tariff Quantity", "quantity"),
    ("Net Wt (kg)", "weight"),
    ("SPI", "preference_program"),
    ("Special Program Indicator", "preference_program"),
    ("Manufacturer", "supplier"),
    ("MID", "supplier"),
    ("Part No.", "part_number"),
    ("Material No", "part_number"),
    ("Copper content (kg)", "content_kg"),
]

NOT_RECOGNISED = ["HTS Description", "Unit Price", "Invoice Date", "Broker Reference", "Duty Amount", "Notes"]


@pytest.mark.parametrize(("header", "field"), RECOGNISED)
def test_recognised_headers(header: str, field: str) -> None:
    matched = match_header(header)
    assert matched is not None and matched[0] == field


@pytest.mark.parametrize("header", NOT_RECOGNISED)
def test_headers_that_must_not_match(header: str) -> None:
    assert match_header(header) is None


def test_header_hints_units_currencies_minerals() -> None:
    assert parse_header("Net Weight (lb)").unit == "lb"
    assert parse_header("Entered Value USD").currency == "USD"
    assert parse_header("Value (EUR)").currency == "EUR"
    hint = parse_header("Copper content (kg)")
    assert (hint.base, hint.unit, hint.mineral) == ("content", "kg", "copper")


def test_mapping_prefers_best_synonym_and_reports_the_rest() -> None:
    columns = ["Invoice Value", "Entered Value", "COO", "HTS Number", "Date", "Broker Ref"]
    mapping = map_headers(columns)
    assert mapping.fields["customs_value_usd"] == "Entered Value"
    assert mapping.alternatives["customs_value_usd"] == ["Invoice Value"]
    assert mapping.unused == ["Invoice Value", "Broker Ref"]
    assert mapping.missing_required == []
    missing = map_headers(["HTS", "Value"])
    assert missing.missing_required == ["entry_date", "country_origin"]


def test_mapping_file_columns_constants_units(tmp_path: Path, csv_file: Any) -> None:
    spec_path = tmp_path / "map.yaml"
    spec_path.write_text(
        "columns:\n  hts: Tariff Item No\n  customs_value_usd: 'Val $'\n  country_origin: Ctry\n"
        "constants:\n  unit: CTN\n  entry_date: 2025-06-30\nunits:\n  CTN: no\nignore: [Broker Ref]\n",
        encoding="utf-8",
    )
    path = csv_file(
        tmp_path / "odd.csv",
        ["Tariff Item No", "Ctry", "Val $", "Pieces", "Broker Ref"],
        [["8532.21.00.50", "MX", "1200", "5000", "R-1"]],
    )
    spec = load_mapping(spec_path)
    mapping = map_headers(["Tariff Item No", "Ctry", "Val $", "Pieces", "Broker Ref"], spec)
    assert mapping.how["hts"] == "mapping file"
    assert mapping.constants["unit"] == "CTN"
    assert mapping.unused == ["Pieces"]
    result = ingest(path, mapping=spec_path)
    line = result.lines.row(0, named=True)
    assert (line["hts"], line["country_origin"], line["customs_value_usd"]) == ("8532210050", "MEX", 1200.0)
    assert str(line["entry_date"]) == "2025-06-30"


def test_mapping_file_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  htsnumber: Tariff\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown ledger field 'htsnumber'\. Did you mean 'hts'"):
        load_mapping(bad)
    bad.write_text("colums: {}\n", encoding="utf-8")
    with pytest.raises(InputError, match="colums"):
        load_mapping(bad)
    with pytest.raises(InputError, match="names the column 'Tariff'"):
        map_headers(["HTS", "COO"], MappingSpec(columns={"hts": "Tariff"}))
    with pytest.raises(InputError, match="'parent' is not a ledger field"):
        map_headers(["HTS"], MappingSpec(columns={"parent": "HTS"}))


def test_header_row_detection() -> None:
    rows = [
        ["Report"],
        [None],
        ["Entry Date", "HTS", "COO", "Value"],
        ["2025-01-01", "8505110070", "CN", "1"],
    ]
    assert detect_header_row(rows) == 2
    assert detect_header_row(rows, MappingSpec(header_row=1)) == 0


def test_bom_fields_recognised() -> None:
    assert map_headers(["Parent", "Component", "Qty per", "UOM"], fieldset=BOM_FIELDS).fields == {
        "parent": "Parent",
        "component": "Component",
        "qty_per_parent": "Qty per",
        "unit": "UOM",
    }
