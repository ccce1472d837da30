"""The shipped ACE samples: every planted difference is found and explained by the right measure, and
nothing else differs. Refund statuses are judged on 2026-12-05, the date the samples' README uses."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.reconcile import reconcile_file

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "critmin" / "samples" / "ace"
TODAY = date(2026, 12, 5)


@pytest.fixture(scope="module")
def northstar() -> Any:
    return reconcile_file(SAMPLES / "northstar_magnetics_es003.csv", today=TODAY)


@pytest.fixture(scope="module")
def voltaris() -> Any:
    return reconcile_file(SAMPLES / "voltaris_cells_es003.xlsx", today=TODAY)


@pytest.fixture(scope="module")
def aegis() -> Any:
    return reconcile_file(SAMPLES / "aegis_defense_es003.csv", today=TODAY)


def _differences(result: Any) -> set[tuple[str, int, str, str, str, float]]:
    return {
        (r["entry_number"], r["line_number"], r["slot"], r["measure_id"], r["cause"], r["variance"])
        for r in result.variances.to_dicts()
    }


def test_northstar_missing_301_heading_and_wrong_rate(northstar: Any) -> None:
    assert _differences(northstar) == {
        # magnets of 2026-01-15: the 2026 Section 301 increase, 25% x 48,000.00 = 12,000.00, not reported
        ("NS710000529", 1, "9903.91.06", "s301_2026_graphite_magnets_batteries", "heading_missing", -12000.0),
        # boron of 2025-06-10: List 3 paid at the 2018 rate, 10% x 18,600.00 = 1,860.00;
        # owed 25% x 18,600.00 = 4,650.00 -> -2,790.00
        ("NS710000452", 1, "9903.88.03", "s301_list3", "rate_differs", -2790.0),
    }
    fees = northstar.fees.filter(~pl.col("cause").is_in(["match"]))
    assert fees.is_empty()


def test_northstar_late_liquidation_is_inside_the_protest_window(northstar: Any) -> None:
    # entry of 2025-04-22, liquidation extended to 2026-08-21: deadline 2027-02-17, 74 days after 2026-12-05
    late = northstar.refunds.filter(pl.col("entry_number") == "NS710000246").row(0, named=True)
    assert (late["heading"], late["amount"], late["status"]) == ("9903.01.24", 8250.0, "protest_window")
    assert (late["liquidation_date"], late["protest_deadline"], late["days_left"]) == (
        date(2026, 8, 21),
        date(2027, 2, 17),
        74,
    )
    assert northstar.totals()["refund_by_status"] == {
        "unliquidated": 5787.5,
        "protest_window": 8250.0,
        "finally_liquidated": 53651.39,
        "depends_on_liquidation": 0.0,
    }


def test_voltaris_content_declared_differently(voltaris: Any) -> None:
    assert _differences(voltaris) == {
        # USMCA copper wire of 2025-10-15 declared all copper, 50% x 50,000.00 = 25,000.00; your records give
        # 35,000.00 of copper: 50% x 35,000.00 = 17,500.00 -> +7,500.00
        ("VC210003359", 1, "9903.78.01", "s232_copper_content", "basis_differs", 7500.0),
        # and the non-copper 15,000.00 at 0% is a heading the split line should report
        ("VC210003359", 1, "9903.78.02", "s232_copper_non_content", "heading_missing", 0.0),
    }
    # the extended liquidation reads as not yet liquidated
    extended = voltaris.refunds.filter(pl.col("entry_number") == "VC210003482")
    assert set(extended.get_column("status").to_list()) == {"unliquidated"}
    # 0.3464% x 250,000.00 = 866.00, capped at the FY2026 maximum 651.50
    cap = voltaris.fees.filter((pl.col("entry_number") == "VC210003482") & (pl.col("fee") == "MPF"))
    assert (cap.get_column("computed").item(), cap.get_column("expected").item()) == (866.0, 651.5)


def test_aegis_origin_claim_and_fees(aegis: Any) -> None:
    assert _differences(aegis) == {
        # Vietnamese tungsten powder with the China Section 301 heading: 25% x 50,217.50 = 12,554.38 paid
        ("AX710000238", 1, "9903.91.01", "s301_2024_increases_25pct", "country_group", 12554.38),
        # Japanese magnets claiming KORUS: MFN 2.1% x 22,400.00 = 470.40 owed, nothing paid
        ("AX710000312", 1, "column 1", "mfn_general", "programme_claimed", -470.4),
    }
    fees = {(r["entry_number"], r["fee"]): (r["variance"], r["cause"]) for r in aegis.fees.to_dicts()}
    # 2025-10-01 is FY2026: minimum 33.58 owed, the FY2025 minimum 32.71 paid
    assert fees[("AX710000155", "MPF")] == (-0.87, "fee_fiscal_year")
    # HMF on an air shipment: 0.125% x 30,000.00 = 37.50 paid, none owed
    assert fees[("AX710000497", "HMF")] == (37.5, "fee_not_owed")
    assert {k: v for k, v in fees.items() if v[1] != "match"} == {
        ("AX710000155", "MPF"): (-0.87, "fee_fiscal_year"),
        ("AX710000497", "HMF"): (37.5, "fee_not_owed"),
    }
    # the tungsten goods row exported twice is quarantined, naming the row it repeats
    quarantine = aegis.export.quarantine.row(0, named=True)
    assert quarantine["codes"] == "duplicate_row" and "repeats row 4" in quarantine["message"]
    # capacitors liquidated 2026-06-26: deadline 2026-12-23, 18 days left
    urgent = aegis.refunds.filter(pl.col("entry_number") == "AX710000497")
    assert set(urgent.get_column("days_left").to_list()) == {18}
    assert aegis.cape_entries() == ["AX710000497"]
    # the monitor's alert: protest windows closing within 30 days (but not within 10)
    assert aegis.deadlines(30).get_column("heading").to_list() == ["9903.01.24", "9903.01.25"]
    assert aegis.deadlines(10).is_empty()


def test_the_readme_documents_every_planted_difference() -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    assert "illustrative" in readme and "synthetic" in readme
    for text in (
        "9903.91.06",
        "9903.88.03",
        "9903.78.01",
        "NS7-1000024-6",
        "2027-02-17",
        "9903.91.01",
        "KR",
        "32.71",
        "37.50",
        "duplicate_row",
    ):
        assert text in readme, text
