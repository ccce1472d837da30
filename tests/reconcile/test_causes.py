"""A difference of each cause, with its arithmetic written out (the in-force library, lines on their entry
dates; amounts to the cent). Each case is one entry line of a small ES-003 export."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

import polars as pl
import pytest

from critmin.reconcile import Cause, reconcile_file
from critmin.reconcile.variance import CAUSE_TEXT


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    rows: list[dict[str, Any]] = []

    def add(*items: dict[str, Any]) -> None:
        rows.extend(items)

    def line(
        entry: str, hts: str, value: float, duty: float, heads: list[tuple[str, float]], **kw: Any
    ) -> None:
        for i, (heading, paid) in enumerate(heads, 1):
            add(_row(entry, heading, 0, paid, ordinal=i, **kw))
        add(_row(entry, hts, value, duty, ordinal=len(heads) + 1, **kw))

    # MATCH: CN NdFeB magnets 2025-06-10, 10,000.00: MFN 2.1% = 210.00; IEEPA 9903.01.24 20% = 2,000.00
    line("MATCH", "8505110070", 10_000, 210, [("99030124", 2000)], date="06/10/2025", origin="CN")
    # ROUNDING: the same line paid 2,000.01 under 9903.01.24
    line("ROUND", "8505110070", 10_000, 210, [("99030124", 2000.01)], date="06/10/2025", origin="CN")
    # HEADING_MISSING: CN magnets 2026-01-15, 10,000.00: 9903.91.06 (2026 Section 301 increase) 25% =
    # 2,500.00 owed, not reported; 9903.01.24 (10% from 2025-11-10) = 1,000.00 paid and owed
    line("MISSING", "8505110070", 10_000, 210, [("99030124", 1000)], date="01/15/2026", origin="CN")
    # RATE_DIFFERS: CN copper foil 2025-09-01, 20,000.00: 9903.88.03 paid 1,500.00 = 7.5%;
    # owed 25% x 20,000.00 = 5,000.00 -> -3,500.00; copper 9903.78.01 50% = 10,000.00 and IEEPA 20% =
    # 4,000.00 paid as owed
    line(
        "RATE",
        "7410110000",
        20_000,
        200,
        [("99037801", 10_000), ("99038803", 1500), ("99030124", 4000)],
        date="09/01/2025",
        origin="CN",
    )
    # BASIS_DIFFERS: MX insulated copper wire, USMCA (S), 2025-10-15, 50,000.00, copper content per your
    # records 35,000.00; declared as all copper: 9903.78.01 paid 50% x 50,000.00 = 25,000.00;
    # owed 50% x 35,000.00 = 17,500.00 -> +7,500.00
    line(
        "BASIS",
        "8544491000",
        50_000,
        0,
        [("99037801", 25_000)],
        date="10/15/2025",
        origin="MX",
        spi="S",
        **{"Copper Content Value (USD)": 35_000},
    )
    # COUNTRY_GROUP: VN copper foil 2025-09-01, 10,000.00 with 9903.88.03 paid 25% = 2,500.00: the China
    # Section 301 lists cover origin CHN only -> +2,500.00 (copper 9903.78.01 50% = 5,000.00 as owed)
    line(
        "ORIGIN",
        "7410110000",
        10_000,
        100,
        [("99037801", 5000), ("99038803", 2500)],
        date="09/01/2025",
        origin="VN",
    )
    # PROGRAMME_CLAIMED (column 1): JP magnets claiming KR 2025-11-04, 10,000.00: KR is open to KOR only,
    # so MFN 2.1% = 210.00 is owed; 0.00 paid -> -210.00
    line("CLAIM1", "8505110070", 10_000, 0, [], date="11/04/2025", origin="JP", spi="KR")
    # PROGRAMME_CLAIMED (heading): CA cobalt claiming USMCA (S) 2025-05-13, 10,000.00: IEEPA Canada 25%
    # (9903.01.10) exempts USMCA goods of Canada; 2,500.00 paid under it -> +2,500.00
    line("CLAIM2", "8105206000", 10_000, 0, [("99030110", 2500)], date="05/13/2025", origin="CA", spi="S")
    # DATE_WINDOW: CN magnets 2026-03-02: IEEPA ended with entries of 2026-02-23; 9903.01.24 paid 10% =
    # 1,000.00 -> +1,000.00 (and 9903.91.06 25% = 2,500.00 owed, missing)
    line("WINDOW", "8505110070", 10_000, 210, [("99030124", 1000)], date="03/02/2026", origin="CN")
    # HEADING_NOT_OWED: VN magnets 2025-06-10 reporting 9903.88.03: 8505.11.00.70 is on no China list ->
    # the product is not covered; +2,500.00
    line("PRODUCT", "8505110070", 10_000, 210, [("99038803", 2500)], date="06/10/2025", origin="VN")
    # HEADING_NOT_MODELLED: 9903.01.33 (a Section 232 exemption from the reciprocal tariff) at 0.00
    line(
        "UNMODELLED",
        "8505110070",
        10_000,
        210,
        [("99030133", 0), ("99030124", 2000)],
        date="06/10/2025",
        origin="CN",
    )
    # EXPECTED_UNKNOWN: CN tungsten ore 2025-05-13 with no quantity: its MFN is a specific rate per kg
    line(
        "UNKNOWN",
        "2611006000",
        10_000,
        150,
        [("99039101", 2500), ("99030124", 2000)],
        date="05/13/2025",
        origin="CN",
    )

    path = tmp_path_factory.mktemp("causes") / "causes.csv"
    names = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    return reconcile_file(path, today=date(2026, 12, 5))


def _row(entry: str, hts: str, value: float, duty: float, *, ordinal: int, **kw: Any) -> dict[str, Any]:
    row = {
        "Entry Summary Number": entry,
        "Entry Type Code": "01",
        "Entry Date": kw.pop("date"),
        "Mode of Transportation Code": "40",
        "Entry Summary Line Number": 1,
        "Country of Origin Code": kw.pop("origin"),
        "Line SPI Code": kw.pop("spi", ""),
        "Tariff Ordinal Number": ordinal,
        "HTS Number - Full": hts,
        "Line Tariff Goods Value Amount": value,
        "Line Tariff Duty Amount": duty,
    }
    if not hts.startswith("99"):
        row |= kw
    return row


def _slot(result: Any, entry: str, slot: str) -> dict[str, Any]:
    rows = result.slots.filter((pl.col("entry_number") == entry) & (pl.col("slot") == slot))
    assert rows.height == 1, f"{entry} {slot}: {rows}"
    return rows.row(0, named=True)


def test_match(result: Any) -> None:
    s = _slot(result, "MATCH", "9903.01.24")
    assert (s["paid"], s["expected"], s["variance"], s["cause"]) == (2000.0, 2000.0, 0.0, "match")
    assert s["explanation"] == (
        "9903.01.24 (ieepa_fentanyl_china_20pct): paid $2,000.00, owed 20% x $10,000.00 = $2,000.00."
    )
    assert _slot(result, "MATCH", "column 1")["cause"] == "match"


def test_rounding(result: Any) -> None:
    s = _slot(result, "ROUND", "9903.01.24")
    assert (s["variance"], s["cause"]) == (0.01, "rounding")


def test_heading_missing(result: Any) -> None:
    s = _slot(result, "MISSING", "9903.91.06")
    assert (s["paid"], s["expected"], s["variance"]) == (0.0, 2500.0, -2500.0)
    assert (s["cause"], s["measure_id"]) == ("heading_missing", "s301_2026_graphite_magnets_batteries")
    assert "owed 25% x $10,000.00 = $2,500.00; the line does not report 9903.91.06" in s["explanation"]
    assert _slot(result, "MISSING", "9903.01.24")["cause"] == "match"


def test_rate_differs(result: Any) -> None:
    s = _slot(result, "RATE", "9903.88.03")
    assert (s["paid"], s["expected"], s["variance"], s["cause"]) == (1500.0, 5000.0, -3500.0, "rate_differs")
    assert s["paid_rate"] == pytest.approx(0.075)
    assert s["explanation"] == (
        "9903.88.03 (s301_list3): paid $1,500.00 = 7.5% of $20,000.00; owed 25% x $20,000.00 = $5,000.00."
    )
    for heading in ("9903.78.01", "9903.01.24", "column 1"):
        assert _slot(result, "RATE", heading)["cause"] == "match"


def test_basis_differs_content_declared_differently(result: Any) -> None:
    s = _slot(result, "BASIS", "9903.78.01")
    assert (s["paid"], s["expected"], s["variance"], s["cause"]) == (
        25000.0,
        17500.0,
        7500.0,
        "basis_differs",
    )
    assert s["measure_id"] == "s232_copper_content"
    assert (
        "50% of a basis of $50,000.00; owed 50% x $35,000.00 (the content value of your data)"
        in s["explanation"]
    )
    # the non-copper part (50,000.00 - 35,000.00 = 15,000.00 at 0%) is a heading the line should report
    rest = _slot(result, "BASIS", "9903.78.02")
    assert (rest["expected"], rest["variance"], rest["cause"]) == (0.0, 0.0, "heading_missing")


def test_country_group(result: Any) -> None:
    s = _slot(result, "ORIGIN", "9903.88.03")
    assert (s["paid"], s["expected"], s["variance"], s["cause"]) == (2500.0, 0.0, 2500.0, "country_group")
    assert s["measure_id"] == "s301_list3"
    assert "origin VNM is not covered on 2025-09-01" in s["explanation"]


def test_programme_claimed_on_column_1(result: Any) -> None:
    s = _slot(result, "CLAIM1", "column 1")
    assert (s["paid"], s["expected"], s["variance"], s["cause"]) == (0.0, 210.0, -210.0, "programme_claimed")
    assert "claims KR, but origin JPN is not eligible for KR" in s["explanation"]


def test_programme_claimed_exempts_a_heading(result: Any) -> None:
    s = _slot(result, "CLAIM2", "9903.01.10")
    assert (s["paid"], s["expected"], s["variance"], s["cause"]) == (2500.0, 0.0, 2500.0, "programme_claimed")
    assert s["measure_id"] == "ieepa_canada_25pct"
    assert "goods claiming S" in s["explanation"] and "the line claims S" in s["explanation"]


def test_date_window(result: Any) -> None:
    s = _slot(result, "WINDOW", "9903.01.24")
    assert (s["paid"], s["expected"], s["variance"], s["cause"]) == (1000.0, 0.0, 1000.0, "date_window")
    assert "applies to entries 2025-11-10 .. 2026-02-23; this line entered 2026-03-02" in s["explanation"]
    assert _slot(result, "WINDOW", "9903.91.06")["cause"] == "heading_missing"


def test_heading_not_owed(result: Any) -> None:
    s = _slot(result, "PRODUCT", "9903.88.03")
    assert (s["variance"], s["cause"]) == (2500.0, "heading_not_owed")
    assert "does not cover HTS 8505110070" in s["explanation"]


def test_heading_not_modelled(result: Any) -> None:
    s = _slot(result, "UNMODELLED", "9903.01.33")
    assert (s["paid"], s["expected"], s["variance"], s["cause"]) == (0.0, 0.0, 0.0, "heading_not_modelled")


def test_expected_unknown_is_not_compared(result: Any) -> None:
    s = _slot(result, "UNKNOWN", "column 1")
    assert s["cause"] == "expected_unknown" and s["variance"] is None
    assert "needs the quantity" in s["explanation"]
    totals = result.totals()["duty"]
    assert totals["paid_not_compared"] == 150.0
    assert totals["slots_not_compared"] == 1


def test_every_cause_is_exercised_and_described(result: Any) -> None:
    assert set(result.slots.get_column("cause").unique().to_list()) == {c.value for c in Cause}
    assert set(CAUSE_TEXT) == set(Cause)


def test_totals_add_up(result: Any) -> None:
    known = result.slots.filter(pl.col("variance").is_not_null())
    totals = result.totals()["duty"]
    assert totals["paid"] == pytest.approx(known.get_column("paid").sum())
    assert totals["variance"] == pytest.approx(totals["paid"] - totals["expected"])
    assert totals["variance"] == pytest.approx(totals["overpaid"] - totals["underpaid"])
    by_cause = result.by_cause()
    assert by_cause.get_column("variance").sum() == pytest.approx(totals["variance"])
