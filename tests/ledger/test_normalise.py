"""Value parsers: numbers and money, dates, units (pint), HTS repair, countries, programmes, minerals."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from critmin.ledger.codes import resolve_hts, resolve_programs
from critmin.ledger.dates import infer_order, parse_dates
from critmin.ledger.minerals import mineral_from_text
from critmin.ledger.numbers import parse_money, parse_number, split_quantity
from critmin.ledger.units import canonical_unit, resolve_units, to_kg_factor, unit_table

NUMBERS = [
    ("1234.5", 1234.5),
    ("1,234.56", 1234.56),
    ("$1,234.56", 1234.56),
    ("USD 1 234", 1234.0),
    ("(1,234.00)", -1234.0),
    ("-5", -5.0),
    ("5-", -5.0),
    ("1.234,56", 1234.56),
    ("12,5", 12.5),
    ("1,234", 1234.0),
    ("1,234,567", 1234567.0),
    ("1e3", 1000.0),
    ("€3,50", 3.5),
    ("abc", None),
    ("1,2,3", None),
    ("TBD", None),
    (".", None),
    ("nan", None),
    ("inf", None),
]


def test_numbers() -> None:
    parsed = parse_number(pl.Series([text for text, _ in NUMBERS])).to_list()
    assert parsed == [expected for _, expected in NUMBERS]


def test_decimal_comma_setting() -> None:
    assert parse_number(pl.Series(["1.234,5", "12,75", "1.5"]), decimal_comma=True).to_list() == [
        1234.5,
        12.75,
        15.0,
    ]


def test_currency_named_in_value() -> None:
    cells = pl.Series(["EUR 1,200", "$5", "12", "US$ 3", "¥300", "RMB 10", None, "1,234.50 USD", "inf"])
    amount, currency = parse_money(cells)
    assert currency.to_list() == ["EUR", "USD", None, "USD", "JPY", "CNY", None, "USD", None]
    assert amount.to_list() == [1200.0, 5.0, 12.0, 3.0, 300.0, 10.0, None, 1234.5, None]


def test_quantity_with_its_unit_in_the_cell() -> None:
    quantity, unit = split_quantity(pl.Series(["12.5 kg", "250", "1,000 LBS", "3 troy oz", "kg"]))
    assert quantity.to_list() == [12.5, 250.0, 1000.0, 3.0, None]
    assert unit.to_list() == ["kg", None, "LBS", "troy oz", None]


DATES = [
    ("2025-03-14", date(2025, 3, 14)),
    ("2025-3-4", date(2025, 3, 4)),
    ("2025-03-14 00:00:00", date(2025, 3, 14)),
    ("2025-03-14T10:30:00", date(2025, 3, 14)),
    ("03/14/2025", date(2025, 3, 14)),
    ("3/4/25", date(2025, 3, 4)),
    ("14-Mar-2025", date(2025, 3, 14)),
    ("14-MAR-25", date(2025, 3, 14)),
    ("Mar 14, 2025", date(2025, 3, 14)),
    ("14 March 2025", date(2025, 3, 14)),
    ("Sept 3, 2025", date(2025, 9, 3)),
    ("20250314", date(2025, 3, 14)),
    ("2025/03/14", date(2025, 3, 14)),
    # Excel serial: day 45730 after 1899-12-30 = 2025-03-14
    ("45730", date(2025, 3, 14)),
    ("45730.75", date(2025, 3, 14)),
    ("31/02/2025", None),
    ("02/30/2025", None),
    ("garbage", None),
]


def test_dates_us_order() -> None:
    frame = pl.DataFrame({"d": [text for text, _ in DATES]})
    got = frame.select(parse_dates(pl.col("d"))).to_series().to_list()
    assert got == [expected for _, expected in DATES]


def test_dates_day_first() -> None:
    frame = pl.DataFrame({"d": ["14/03/2025", "03/04/2025", "14.03.2025", "4/3/25"]})
    got = frame.select(parse_dates(pl.col("d"), "dmy")).to_series().to_list()
    assert got == [date(2025, 3, 14), date(2025, 4, 3), date(2025, 3, 14), date(2025, 3, 4)]


def test_date_order_inference() -> None:
    assert infer_order(pl.Series(["14/03/2025", "01/02/2025"])) == "dmy"
    assert infer_order(pl.Series(["03/14/2025", "01/02/2025"])) == "mdy"
    assert infer_order(pl.Series(["01/02/2025", "2025-05-06"])) is None


def test_units_through_pint() -> None:
    table = {row["unit"]: row for row in unit_table().to_dicts()}
    assert table["lb"]["to_base"] == 0.45359237
    assert table["troy_oz"]["to_base"] == 0.0311034768
    assert table["t"]["to_base"] == 1000.0
    assert table["g"]["to_base"] == 0.001
    assert table["doz"] == {"unit": "doz", "dimension": "count", "to_base": 12.0}
    assert to_kg_factor("no") is None
    for spelling, code in [
        ("KGS", "kg"),
        ("Kilograms", "kg"),
        ("KGM", "kg"),
        ("MT", "t"),
        ("LBS", "lb"),
        ("ozt", "troy_oz"),
        ("Troy Oz", "troy_oz"),
        ("No.", "no"),
        ("PCS", "no"),
        ("EA", "no"),
        ("m²", "m2"),
        ("CBM", "m3"),
    ]:
        assert canonical_unit(spelling) == code, spelling
    looked = resolve_units(pl.Series(["CTN", "kg"]), {"CTN": "no"}).sort("raw")
    assert looked.get_column("unit").to_list() == ["no", "kg"]


def test_hts_repair_and_schedule_status() -> None:
    got = {
        row["raw"]: row
        for row in resolve_hts(
            pl.Series(
                [
                    "8112.921",
                    "8505.11.00.70",
                    "8505.11.00.80",
                    "8505 11 00 70",
                    "85051100",
                    "8112.92.10",
                    "85-05",
                    "505110070",
                ]
            )
        ).to_dicts()
    }
    assert (got["8112.921"]["hts"], got["8112.921"]["status"], got["8112.921"]["repaired"]) == (
        "8112921000",
        "valid",
        True,
    )
    assert got["8505.11.00.70"]["status"] == "valid"
    assert got["8505 11 00 70"]["hts"] == "8505110070"
    assert got["8505.11.00.80"]["status"] == "unknown"
    assert got["8505.11.00.80"]["suggestions"].startswith("8505.11.00.70")
    assert got["85051100"]["status"] == "valid_prefix"  # an 8-digit line with several statistical suffixes
    assert got["8112.92.10"]["hts"] == "8112921000"  # its only suffix is 00: the same line
    assert got["85-05"]["status"] == "malformed"
    assert got["505110070"]["repaired"] is False  # 0505110070 is not in the schedule, so no repair


def test_preference_programmes() -> None:
    got = {
        row["raw"]: (row["program"], row["known"])
        for row in resolve_programs(
            pl.Series(["S", "USMCA", "korus", "AU FTA", "A+", "N/A", "none", "NAFTA", "ZZ"])
        ).to_dicts()
    }
    assert got["S"] == ("S", True)
    assert got["USMCA"] == ("S", True)
    assert got["korus"] == ("KR", True)
    assert got["AU FTA"] == ("AU", True)
    assert got["A+"] == ("A+", True)
    assert got["N/A"] == (None, True)
    assert got["none"] == (None, True)
    assert got["NAFTA"] == (None, False)
    assert got["ZZ"] == (None, False)


@pytest.mark.parametrize(
    ("text", "mineral"),
    [
        ("Cu", "copper"),
        ("Copper", "copper"),
        ("Aluminium", "aluminum"),
        ("W", "tungsten"),
        ("Wolfram", "tungsten"),
        ("rare earth oxides", "rare_earths"),
        ("PGMs", "platinum_group_metals"),
        ("Nd", "neodymium"),
        ("xyz", None),
    ],
)
def test_minerals(text: str, mineral: str | None) -> None:
    assert mineral_from_text(text) == mineral
