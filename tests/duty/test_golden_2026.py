"""Hand-worked duty cases for the law of 2026, with the arithmetic written next to each assertion.

Rates, dates and headings are those of the shipped in-force library (docs/measures.md); general (column 1)
rates come from the HTS 2025 schedule shipped as ``hts_schedule``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from critmin.duty import evaluate
from critmin.duty.refunds import refund_status
from critmin.duty.result import DutyResult
from critmin.policy import loader
from critmin.policy.loader import MeasureSet

COLUMNS: dict[str, Any] = {
    "line_id": pl.String,
    "entry_date": pl.Date,
    "hts": pl.String,
    "country_origin": pl.String,
    "quantity": pl.Float64,
    "unit": pl.String,
    "quantity_kg": pl.Float64,
    "customs_value_usd": pl.Float64,
    "preference_program": pl.String,
    "content_mineral": pl.String,
    "content_kg": pl.Float64,
    "content_value_usd": pl.Float64,
    "liquidation_date": pl.Date,
    "us_metal_content_share": pl.Float64,
}


def ledger(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in COLUMNS} for r in rows], schema=COLUMNS)


def amounts(result: DutyResult, line_id: str) -> dict[str, float]:
    comps = result.components.filter(pl.col("line_id") == line_id).with_columns(
        pl.col(pl.Enum).cast(pl.String)
    )
    return {r["measure_id"]: r["amount"] for r in comps.iter_rows(named=True)}


def issues(result: DutyResult, line_id: str) -> set[tuple[str, str]]:
    found = result.issues.filter(pl.col("line_id") == line_id)
    return set(zip(found.get_column("measure_id").to_list(), found.get_column("code").to_list(), strict=True))


def duty(result: DutyResult, line_id: str) -> float:
    return float(result.lines.filter(pl.col("line_id") == line_id).get_column("duty")[0])


@pytest.fixture(scope="module")
def law() -> MeasureSet:
    return loader.load_scenario("status_quo")


# ---------------------------------------------------------------------------------------------------------
# Section 301 forced labor: the EU cap, net of the column-1 rate


def test_eu_forced_labor_cap_below_and_above_the_column_1_rate(law: MeasureSet) -> None:
    frame = ledger(
        # 2841.69.00 other manganites etc., general 5.0%, from Germany, on no exemption list
        {"line_id": "low", "entry_date": date(2026, 9, 1), "hts": "2841690000", "country_origin": "DEU",
         "customs_value_usd": 20_000.0, "quantity_kg": 1_000.0},
        # 6103.42.10 cotton trousers, general 16.1%, from Italy: already above the 10% cap
        {"line_id": "high", "entry_date": date(2026, 9, 1), "hts": "6103421000", "country_origin": "ITA",
         "customs_value_usd": 20_000.0, "quantity_kg": 100.0},
    )  # fmt: skip
    result = evaluate(frame, law)
    low = amounts(result, "low")
    assert low["mfn_general"] == pytest.approx(1_000.0)  # 5.0% x 20,000
    assert low["s301_fl_eu_cap"] == pytest.approx(1_000.0)  # (10% cap - 5.0%) x 20,000 = 1,000
    assert duty(result, "low") == pytest.approx(2_000.0)  # the line totals the cap: 10% x 20,000
    high = amounts(result, "high")
    assert high["mfn_general"] == pytest.approx(3_220.0)  # 16.1% x 20,000
    assert high["s301_fl_eu_cap"] == pytest.approx(0.0)  # 16.1% >= 10%: no additional duty (9903.05.38)
    assert duty(result, "high") == pytest.approx(3_220.0)


def test_forced_labor_exemption_list_and_stacking_on_china_301(law: MeasureSet) -> None:
    frame = ledger(
        # 8505.11.00.70 sintered NdFeB magnets: on the note 52(b) list (9903.05.86), exempt from forced labor
        {"line_id": "mag", "entry_date": date(2026, 9, 1), "hts": "8505110070", "country_origin": "CHN",
         "customs_value_usd": 100_000.0, "quantity_kg": 2_000.0},
        # 8532.21.00.50 tantalum capacitors: China lists 1 and 3 (one list governs) plus forced labor 12.5%
        {"line_id": "cap", "entry_date": date(2026, 9, 1), "hts": "8532210050", "country_origin": "CHN",
         "customs_value_usd": 10_000.0, "quantity_kg": 10.0},
    )  # fmt: skip
    result = evaluate(frame, law)
    mag = amounts(result, "mag")
    assert "s301_fl_12_5pct" not in mag
    assert mag["s301_2026_graphite_magnets_batteries"] == pytest.approx(25_000.0)  # 25% x 100,000
    cap = amounts(result, "cap")
    assert "s301_list1" not in cap  # List 1 and List 3 both list 8532.21.00: the later list governs
    assert cap["s301_list3"] == pytest.approx(2_500.0)  # 25% x 10,000, once (not 50%)
    assert cap["s301_fl_12_5pct"] == pytest.approx(1_250.0)  # 12.5% x 10,000, stacked on List 3
    assert cap["mfn_general"] == pytest.approx(0.0)  # 8532.21.00 is free
    assert duty(result, "cap") == pytest.approx(3_750.0)  # 2,500 + 1,250


def test_usmca_goods_of_canada_are_outside_forced_labor_and_section_122(law: MeasureSet) -> None:
    frame = ledger(
        # 2841.69.00 from Canada claiming USMCA (S): Section 122 (9903.03.07) and forced labor (9903.05.93)
        # exempt; the special rate of 2841.69.00 for S is free
        {"line_id": "s122", "entry_date": date(2026, 5, 1), "hts": "2841690000", "country_origin": "CAN",
         "customs_value_usd": 50_000.0, "preference_program": "S"},
        {"line_id": "fl", "entry_date": date(2026, 9, 1), "hts": "2841690000", "country_origin": "CAN",
         "customs_value_usd": 50_000.0, "preference_program": "S"},
        # the same good without a claim pays both
        {"line_id": "s122_no_claim", "entry_date": date(2026, 5, 1), "hts": "2841690000",
         "country_origin": "CAN", "customs_value_usd": 50_000.0},
        {"line_id": "fl_no_claim", "entry_date": date(2026, 9, 1), "hts": "2841690000",
         "country_origin": "CAN", "customs_value_usd": 50_000.0},
    )  # fmt: skip
    result = evaluate(frame, law)
    assert "s122_surcharge" not in amounts(result, "s122")
    assert "s301_fl_canada_mexico" not in amounts(result, "fl")
    assert duty(result, "s122") == pytest.approx(0.0)  # USMCA special rate Free, nothing else
    assert amounts(result, "s122_no_claim")["s122_surcharge"] == pytest.approx(5_000.0)  # 10% x 50,000
    assert amounts(result, "fl_no_claim")["s301_fl_canada_mexico"] == pytest.approx(5_000.0)  # 10% x 50,000


# ---------------------------------------------------------------------------------------------------------
# Section 232 metals


def test_copper_wire_in_september_2026_pays_on_its_full_value(law: MeasureSet) -> None:
    frame = ledger(
        # 7408.11.30 refined copper wire, Chile, entered 2026-09-01, $80,000 of which $60,000 is copper
        {"line_id": "wire", "entry_date": date(2026, 9, 1), "hts": "7408113000", "country_origin": "CHL",
         "customs_value_usd": 80_000.0, "quantity_kg": 8_000.0, "content_mineral": "copper",
         "content_kg": 7_900.0, "content_value_usd": 60_000.0},
        # the same line entered 2025-12-01 paid 50% on the copper content only
        {"line_id": "wire_2025", "entry_date": date(2025, 12, 1), "hts": "7408113000",
         "country_origin": "CHL",
         "customs_value_usd": 80_000.0, "quantity_kg": 8_000.0, "content_mineral": "copper",
         "content_kg": 7_900.0, "content_value_usd": 60_000.0},
    )  # fmt: skip
    result = evaluate(frame, law)
    now = amounts(result, "wire")
    assert now["s232_metals_annex_1a"] == pytest.approx(40_000.0)  # Annex I-A: 50% x 80,000 (full value)
    assert "s232_copper_content" not in now  # the content basis ended on 2026-04-05
    assert "s301_fl_12_5pct" not in now  # Section 232 goods owe no forced-labor duty (note 52(f))
    before = amounts(result, "wire_2025")
    assert before["s232_copper_content"] == pytest.approx(30_000.0)  # 50% x 60,000 of copper content
    assert before["s232_copper_non_content"] == 0.0  # 0% on the other 20,000


def test_uk_and_us_content_tiers(law: MeasureSet) -> None:
    frame = ledger(
        {"line_id": "uk", "entry_date": date(2026, 9, 1), "hts": "7408113000", "country_origin": "GBR",
         "customs_value_usd": 10_000.0, "quantity_kg": 1_000.0},
        # 90% U.S. copper: below 95% before 2026-06-08, at or above 85% after
        {"line_id": "us_may", "entry_date": date(2026, 5, 1), "hts": "7408113000", "country_origin": "CHL",
         "customs_value_usd": 10_000.0, "quantity_kg": 1_000.0, "us_metal_content_share": 0.90},
        {"line_id": "us_sep", "entry_date": date(2026, 9, 1), "hts": "7408113000", "country_origin": "CHL",
         "customs_value_usd": 10_000.0, "quantity_kg": 1_000.0, "us_metal_content_share": 0.90},
    )  # fmt: skip
    result = evaluate(frame, law)
    assert amounts(result, "uk")["s232_metals_annex_1a_uk"] == pytest.approx(2_500.0)  # UK 25% x 10,000
    may = amounts(result, "us_may")
    assert may["s232_metals_annex_1a"] == pytest.approx(5_000.0)  # 90% < 95%: standard 50% x 10,000
    sep = amounts(result, "us_sep")
    assert sep["s232_metals_us_content_85"] == pytest.approx(1_000.0)  # 90% >= 85%: 10% x 10,000
    assert "s232_metals_annex_1a" not in sep


def test_the_15_percent_weight_rule_outside_the_metal_chapters(law: MeasureSet) -> None:
    frame = ledger(
        # 8544.42.90 insulated conductors (Annex I-B), Vietnam: 10% copper by weight -> outside Section 232
        {"line_id": "light", "entry_date": date(2026, 9, 1), "hts": "8544429090", "country_origin": "VNM",
         "customs_value_usd": 10_000.0, "quantity_kg": 1_000.0, "content_mineral": "copper",
         "content_kg": 100.0},
        # 40% copper by weight -> Annex I-B, 25% of the full value
        {"line_id": "heavy", "entry_date": date(2026, 9, 1), "hts": "8544429090", "country_origin": "VNM",
         "customs_value_usd": 10_000.0, "quantity_kg": 1_000.0, "content_mineral": "copper",
         "content_kg": 400.0},
        # weight not stated -> counted as covered, flagged
        {"line_id": "unknown", "entry_date": date(2026, 9, 1), "hts": "8544429090", "country_origin": "VNM",
         "customs_value_usd": 10_000.0, "quantity_kg": 1_000.0},
    )  # fmt: skip
    result = evaluate(frame, law)
    light = amounts(result, "light")
    assert "s232_metals_annex_1b" not in light  # 100 / 1,000 = 10% < 15% (9903.82.03)
    assert light["s301_fl_12_5pct"] == pytest.approx(1_250.0)  # not a 232 good: forced labor 12.5% applies
    assert amounts(result, "heavy")["s232_metals_annex_1b"] == pytest.approx(2_500.0)  # 25% x 10,000
    assert amounts(result, "unknown")["s232_metals_annex_1b"] == pytest.approx(2_500.0)
    assert ("s232_metals_annex_1b", "weight_share_unknown") in issues(result, "unknown")


def test_chapter_76_article_with_stated_content_in_december_2025(law: MeasureSet) -> None:
    frame = ledger(
        # 7616.99.51.90 other aluminium articles, China, 2025-12-01: $10,000 with $4,000 of aluminium stated
        {"line_id": "al", "entry_date": date(2025, 12, 1), "hts": "7616995190", "country_origin": "CHN",
         "customs_value_usd": 10_000.0, "quantity_kg": 500.0, "content_mineral": "aluminum",
         "content_value_usd": 4_000.0},
    )  # fmt: skip
    result = evaluate(frame, law)
    got = amounts(result, "al")
    assert got["s232_aluminum_ch76_content"] == pytest.approx(2_000.0)  # 50% x 4,000 of aluminium content
    assert got["mfn_general"] == pytest.approx(250.0)  # 2.5% x 10,000
    # the rest of the value (6,000) pays the invalidated IEEPA duties, reported as refundable:
    assert got["ieepa_reciprocal_baseline"] == pytest.approx(600.0)  # 10% x (10,000 - 4,000)
    assert got["ieepa_fentanyl_china_10pct_busan"] == pytest.approx(1_000.0)  # 10% x 10,000 (stacks on 232)
    assert got["s301_list3"] == pytest.approx(2_500.0)  # China List 3: 25% x 10,000
    # owed: 2,000 + 250 + 2,500; the IEEPA amounts are refundable, not owed
    assert duty(result, "al") == pytest.approx(4_750.0)


def test_steel_derivative_with_unknown_content_counts_the_whole_value(law: MeasureSet) -> None:
    frame = ledger(
        # 7318.15.20 steel bolts, Vietnam, 2025-12-01, no steel content stated: CBP takes the whole value
        {"line_id": "bolt", "entry_date": date(2025, 12, 1), "hts": "7318152030", "country_origin": "VNM",
         "customs_value_usd": 10_000.0, "quantity_kg": 2_000.0},
        # the same line stating 7,000 of steel content, with content_mineral `steel`
        {"line_id": "bolt_stated", "entry_date": date(2025, 12, 1), "hts": "7318152030",
         "country_origin": "VNM", "customs_value_usd": 10_000.0, "quantity_kg": 2_000.0,
         "content_mineral": "steel", "content_value_usd": 7_000.0},
    )  # fmt: skip
    result = evaluate(frame, law)
    unknown = amounts(result, "bolt")
    assert unknown["s232_steel_ch73_content"] == pytest.approx(5_000.0)  # 50% x 10,000 (whole value)
    assert ("s232_steel_ch73_content", "content_assumed") in issues(result, "bolt")
    assert unknown["ieepa_reciprocal_baseline"] == pytest.approx(0.0)  # nothing left outside the 232 portion
    stated = amounts(result, "bolt_stated")
    assert stated["s232_steel_ch73_content"] == pytest.approx(3_500.0)  # 50% x 7,000
    assert stated["ieepa_reciprocal_baseline"] == pytest.approx(300.0)  # 10% x (10,000 - 7,000)


# ---------------------------------------------------------------------------------------------------------
# Section 232 polysilicon: minimum import prices as a backstop


def test_wafer_under_its_minimum_import_price(law: MeasureSet) -> None:
    frame = ledger(
        # 3818.00.00 wafers, China, 2026-12-04: 1,000 kg at $50/kg, under the $100/kg minimum
        {"line_id": "wafer", "entry_date": date(2026, 12, 4), "hts": "3818000010", "country_origin": "CHN",
         "customs_value_usd": 50_000.0, "quantity_kg": 1_000.0},
        # at $150/kg the minimum does not bind: the 15% ad valorem duty is the larger
        {"line_id": "dear", "entry_date": date(2026, 12, 4), "hts": "3818000010", "country_origin": "CHN",
         "customs_value_usd": 150_000.0, "quantity_kg": 1_000.0},
    )  # fmt: skip
    result = evaluate(frame, law)
    cheap = amounts(result, "wafer")
    # max(15% x 50,000 = 7,500; 100 x 1,000 - 50,000 = 50,000) = 50,000
    assert cheap["s232_polysilicon_wafers"] == pytest.approx(50_000.0)
    # Section 301 wafers: 50% x 50,000
    assert cheap["s301_2025_polysilicon_wafers_semiconductors"] == pytest.approx(25_000.0)
    assert "s301_fl_12_5pct" not in cheap  # 3818.00 is on the note 52(b) list
    # max(15% x 150,000 = 22,500; 100 x 1,000 - 150,000 < 0) = 22,500
    assert amounts(result, "dear")["s232_polysilicon_wafers"] == pytest.approx(22_500.0)


def test_solar_modules_need_watts_for_the_minimum_price(law: MeasureSet) -> None:
    frame = ledger(
        # 8541.43 modules, Vietnam: 100,000 W for $20,000 ($0.20/W, under $0.38/W)
        {"line_id": "watts", "entry_date": date(2026, 12, 4), "hts": "8541430010", "country_origin": "VNM",
         "customs_value_usd": 20_000.0, "quantity": 100_000.0, "unit": "W"},
        # no watt quantity: only the ad valorem part can be charged, flagged as a lower bound
        {"line_id": "no_watts", "entry_date": date(2026, 12, 4), "hts": "8541430010", "country_origin": "VNM",
         "customs_value_usd": 20_000.0, "quantity_kg": 400.0},
        # Japan: a 15% line total, module general rate free -> 15% x 20,000
        {"line_id": "japan", "entry_date": date(2026, 12, 4), "hts": "8541430010", "country_origin": "JPN",
         "customs_value_usd": 20_000.0, "quantity": 100_000.0, "unit": "W"},
    )  # fmt: skip
    result = evaluate(frame, law)
    # max(15% x 20,000 = 3,000; 0.38 x 100,000 - 20,000 = 18,000) = 18,000
    assert amounts(result, "watts")["s232_polysilicon_modules"] == pytest.approx(18_000.0)
    assert amounts(result, "no_watts")["s232_polysilicon_modules"] == pytest.approx(3_000.0)  # 15% x 20,000
    assert ("s232_polysilicon_modules", "assumption") in issues(result, "no_watts")
    # (15% cap - 0% general) x 20,000
    assert amounts(result, "japan")["s232_polysilicon_allies"] == pytest.approx(3_000.0)


# ---------------------------------------------------------------------------------------------------------
# Brazil, IEEPA Canada and refund status


def test_brazil_301_stacks_with_forced_labor(law: MeasureSet) -> None:
    frame = ledger(
        {"line_id": "br", "entry_date": date(2026, 9, 1), "hts": "2841690000", "country_origin": "BRA",
         "customs_value_usd": 10_000.0},
    )  # fmt: skip
    got = amounts(evaluate(frame, law), "br")
    assert got["s301_brazil"] == pytest.approx(2_500.0)  # 25% x 10,000
    assert got["s301_fl_12_5pct"] == pytest.approx(1_250.0)  # 12.5% x 10,000 (9903.05.27)


def test_ieepa_canada_refund_status_by_liquidation(law: MeasureSet) -> None:
    frame = ledger(
        # 2025 Canadian goods without a USMCA claim: 35% IEEPA from 2025-08-01, invalidated and refundable
        {"line_id": "open", "entry_date": date(2025, 10, 1), "hts": "2841690000", "country_origin": "CAN",
         "customs_value_usd": 10_000.0, "liquidation_date": date(2026, 8, 28)},
        {"line_id": "final", "entry_date": date(2025, 9, 1), "hts": "2841690000", "country_origin": "CAN",
         "customs_value_usd": 10_000.0, "liquidation_date": date(2026, 5, 29)},
        {"line_id": "unknown", "entry_date": date(2025, 9, 1), "hts": "2841690000", "country_origin": "CAN",
         "customs_value_usd": 10_000.0},
        {"line_id": "usmca", "entry_date": date(2025, 9, 1), "hts": "2841690000", "country_origin": "CAN",
         "customs_value_usd": 10_000.0, "preference_program": "S"},
    )  # fmt: skip
    result = evaluate(frame, law)
    assert amounts(result, "open")["ieepa_canada_35pct"] == pytest.approx(3_500.0)  # 35% x 10,000
    assert "ieepa_canada_35pct" not in amounts(result, "usmca")
    status = {
        r["line_id"]: (r["refund_status"], r["protest_deadline"])
        for r in refund_status(result.lines, date(2026, 12, 5)).iter_rows(named=True)
    }
    # liquidated 2026-08-28: 180 days later is 2027-02-24 (3 days of Aug + 30 Sep + 31 Oct + 30 Nov + 31 Dec
    # + 31 Jan + 24 Feb = 180), still open on 2026-12-05
    assert status["open"] == ("protest_window", date(2027, 2, 24))
    # liquidated 2026-05-29: the window closed on 2026-11-25 (2 + 30 + 31 + 31 + 30 + 31 + 25 = 180)
    assert status["final"] == ("finally_liquidated", date(2026, 11, 25))
    assert status["unknown"] == ("depends_on_liquidation", None)
    assert duty(result, "open") == pytest.approx(500.0)  # owed: general 5.0% x 10,000; IEEPA is refundable
    result.refund_today = date(2026, 12, 5)
    assert result.totals()["refund_by_status"] == {
        "unliquidated": 0.0,
        "protest_window": pytest.approx(3_500.0),
        "finally_liquidated": pytest.approx(3_500.0),
        "depends_on_liquidation": pytest.approx(3_500.0),
    }
