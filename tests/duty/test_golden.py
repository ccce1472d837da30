"""Hand-worked duty cases: each mechanism and each stacking rule, with the arithmetic written out.

Rates and dates come from the shipped library (reference/policy_facts.md) and the HTS 2025 schedule; the
expected amounts are computed by hand in the comments next to each assertion.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from critmin.duty import evaluate
from critmin.duty.result import DutyResult
from critmin.policy import loader
from critmin.policy.loader import MeasureSet


def amounts(result: DutyResult, line_id: str) -> dict[str, float]:
    """measure_id (with ':tranche' for quota tranches) -> amount for one line."""
    comps = result.components.filter(pl.col("line_id") == line_id).with_columns(
        pl.col(pl.Enum).cast(pl.String)
    )
    return {
        (r["measure_id"] + (f":{r['tranche']}" if r["tranche"] else "")): r["amount"]
        for r in comps.iter_rows(named=True)
    }


def line(result: DutyResult, line_id: str) -> dict[str, Any]:
    return result.lines.filter(pl.col("line_id") == line_id).row(0, named=True)


def custom(*measures: Any) -> MeasureSet:
    return MeasureSet("test", "Hand-built measures", "test", tuple(measures))


# ---------------------------------------------------------------------------------------------------------
# a Chinese NdFeB magnet line in 2026


@pytest.fixture(scope="module")
def status_quo() -> MeasureSet:
    return loader.load_scenario("status_quo")


def test_chinese_ndfeb_magnet_march_2026(helpers: Any, status_quo: MeasureSet) -> None:
    # 8505.11.00.70 sintered NdFeB magnets from China, $100,000, 2,000 kg, entered 2026-03-10.
    frame = helpers.ledger(
        [
            {
                "line_id": "mag",
                "entry_date": date(2026, 3, 10),
                "hts": "8505110070",
                "country_origin": "CHN",
                "customs_value_usd": 100_000.0,
                "quantity_kg": 2000.0,
            }
        ]
    )
    result = evaluate(frame, status_quo)
    got = amounts(result, "mag")
    assert got["mfn_general"] == pytest.approx(2_100.0)  # HTS general 2.1% x 100,000
    assert got["s301_2026_graphite_magnets_batteries"] == pytest.approx(
        25_000.0
    )  # 301 magnets 25% from 2026-01-01
    assert got["s232_pcmdp_proclamation_11001"] == 0.0  # Proclamation 11001: no tariff
    assert "s122_surcharge" not in got  # 8505.11.00.70 is on the Section 122 Annex II exemption list
    assert "ieepa_reciprocal_baseline" not in got  # IEEPA ended for entries from 2026-02-24
    assert line(result, "mag")["duty"] == pytest.approx(27_100.0)  # 2,100 + 25,000
    assert line(result, "mag")["mineral_id"] == "neodymium"


def test_chinese_ndfeb_magnet_january_2026_has_refundable_ieepa(helpers: Any, status_quo: MeasureSet) -> None:
    frame = helpers.ledger(
        [
            {
                "line_id": "mag",
                "entry_date": date(2026, 1, 10),
                "hts": "8505110070",
                "country_origin": "CHN",
                "customs_value_usd": 100_000.0,
                "quantity_kg": 2000.0,
            }
        ]
    )
    result = evaluate(frame, status_quo)
    got = amounts(result, "mag")
    # IEEPA fentanyl tariff on China, 10% since 2025-11-10: 10% x 100,000 = 10,000, invalidated, so
    # refund-eligible.
    assert got["ieepa_fentanyl_china_10pct_busan"] == pytest.approx(10_000.0)
    assert "ieepa_reciprocal_baseline" not in got  # magnets are on the IEEPA Annex II exemption list
    assert line(result, "mag")["duty"] == pytest.approx(27_100.0)  # 2,100 MFN + 25,000 Section 301
    assert line(result, "mag")["refund_eligible"] == pytest.approx(10_000.0)


def test_ndfeb_magnet_under_pcmdp_tariff_uses_content_value_low_central_high(helpers: Any) -> None:
    frame = helpers.ledger(
        [
            {
                "line_id": "mag",
                "entry_date": date(2026, 9, 1),
                "hts": "8505110070",
                "country_origin": "CHN",
                "customs_value_usd": 100_000.0,
                "quantity_kg": 2000.0,
            }
        ]
    )
    result = evaluate(frame, loader.load_scenario("s232_tariff_non_partners", ["start_date=2026-07-14"]))
    comp = result.components.filter(pl.col("measure_id") == "pcmdp_s232_derivatives_non_partners").row(
        0, named=True
    )
    # Content value = kg content x shipped price (USGS MCS 2026, 2025 oxide prices: Nd 73, Pr 74 USD/kg);
    # boron, dysprosium and terbium have no shipped price and are left out (a lower bound).
    # central: Nd 0.238 x 2,000 x 73 = 34,748 ; Pr 0.0595 x 2,000 x 74 = 8,806 ; 43,554 ; x 25% = 10,888.50
    # low:     Nd 0.135 x 2,000 x 73 = 19,710 ; Pr 0                         ; sum 19,710 ; x 25% =  4,927.50
    # high:    Nd 0.325 x 2,000 x 73 = 47,450 ; Pr 0.08125 x 2,000 x 74 = 12,025 ; 59,475 ; x 25% = 14,868.75
    assert comp["base_amount"] == pytest.approx(43_554.0)
    assert comp["amount"] == pytest.approx(10_888.5)
    assert comp["amount_low"] == pytest.approx(4_927.5)
    assert comp["amount_high"] == pytest.approx(14_868.75)
    assert str(comp["content_source"]) == "factor"
    row = line(result, "mag")
    # 2,100 MFN + 25,000 Section 301 + the PCMDP tariff in each content case
    assert row["duty"] == pytest.approx(27_100.0 + 10_888.5)
    assert row["duty_low"] == pytest.approx(27_100.0 + 4_927.5)
    assert row["duty_high"] == pytest.approx(27_100.0 + 14_868.75)


# ---------------------------------------------------------------------------------------------------------
# copper content under Section 232


def test_copper_content_under_232_with_fta_claim(helpers: Any, status_quo: MeasureSet) -> None:
    # 7408.11.60 copper wire from Chile claiming the U.S.-Chile FTA, $80,000 with $70,000 copper, 2025-09-01.
    frame = helpers.ledger(
        [
            {
                "line_id": "cu",
                "entry_date": date(2025, 9, 1),
                "hts": "7408116000",
                "country_origin": "CHL",
                "customs_value_usd": 80_000.0,
                "quantity_kg": 9000.0,
                "content_mineral": "copper",
                "content_value_usd": 70_000.0,
                "preference_program": "CL",
            }
        ]
    )
    result = evaluate(frame, status_quo)
    got = amounts(result, "cu")
    assert got["preference_fta"] == 0.0  # special rate Free (CL) replaces the 3% MFN
    assert "mfn_general" not in got
    assert got["s232_copper_content"] == pytest.approx(35_000.0)  # 50% x 70,000 copper content
    assert got["s232_copper_non_content"] == 0.0  # 0% x 10,000 (9903.78.02)
    # IEEPA reciprocal 10% on the value not under Section 232: 10% x (80,000 - 70,000) = 1,000,
    # refund-eligible
    assert got["ieepa_reciprocal_baseline"] == pytest.approx(1_000.0)
    assert line(result, "cu")["duty"] == pytest.approx(35_000.0)


def test_copper_from_china_301_stacks_on_232_and_122_does_not(helpers: Any, status_quo: MeasureSet) -> None:
    frame = helpers.ledger(
        [
            {
                "line_id": "cu",
                "entry_date": date(2026, 3, 10),
                "hts": "7408116000",
                "country_origin": "CHN",
                "customs_value_usd": 80_000.0,
                "quantity_kg": 9000.0,
                "content_mineral": "copper",
                "content_value_usd": 70_000.0,
            }
        ]
    )
    result = evaluate(frame, status_quo)
    got = amounts(result, "cu")
    assert got["mfn_general"] == pytest.approx(2_400.0)  # 3% x 80,000
    assert got["s232_copper_content"] == pytest.approx(35_000.0)  # 50% x 70,000
    assert got["s301_list3"] == pytest.approx(20_000.0)  # 301 stacks on 232: 25% x the full 80,000
    assert got["s122_surcharge"] == pytest.approx(1_000.0)  # 122 not on the 232 portion: 10% x 10,000
    assert line(result, "cu")["duty"] == pytest.approx(58_400.0)  # 2,400 + 35,000 + 20,000 + 1,000


def test_copper_content_unknown_assumes_full_value_and_flags(helpers: Any, status_quo: MeasureSet) -> None:
    frame = helpers.ledger(
        [
            {
                "line_id": "cu",
                "entry_date": date(2025, 9, 1),
                "hts": "7408116000",
                "country_origin": "CAN",
                "customs_value_usd": 10_000.0,
                "quantity_kg": 1000.0,
            }
        ]
    )
    result = evaluate(frame, status_quo)
    assert amounts(result, "cu")["s232_copper_content"] == pytest.approx(
        5_000.0
    )  # 50% x 10,000 (assumed all copper)
    issue = result.issues.filter(pl.col("measure_id") == "s232_copper_content").row(0, named=True)
    assert issue["code"] == "content_assumed"
    assert "100% of the customs value was assumed" in issue["message"]


def test_steel_article_leaves_no_base_for_section_122(helpers: Any, status_quo: MeasureSet) -> None:
    # 7318.15 steel screws (chapter 73, Section 232 steel at 50% on the steel content), Germany, 2026-03-10,
    # content not stated: CBP takes the whole value as steel content.
    frame = helpers.ledger(
        [
            {
                "line_id": "st",
                "entry_date": date(2026, 3, 10),
                "hts": "7318150000",
                "country_origin": "DEU",
                "customs_value_usd": 1_000.0,
                "quantity_kg": 100.0,
            }
        ]
    )
    got = amounts(evaluate(frame, status_quo), "st")
    assert got["s232_steel_ch73_content"] == pytest.approx(500.0)  # 50% x 1,000 (whole value as content)
    assert got["s122_surcharge"] == 0.0  # 10% x (1,000 - 1,000 under 232) = 0


# ---------------------------------------------------------------------------------------------------------
# partner vs non-partner under a price floor


def _oxide_lines(helpers: Any) -> pl.DataFrame:
    # 2846.90.20.40 rare-earth oxides, 1,000 kg each, entered 2026-09-01:
    # Australia at $60/kg (a partner: U.S.-Australia framework of 2025-10-20), China at $70/kg,
    # Australia at $120/kg.
    return helpers.ledger(
        [
            {
                "line_id": "au",
                "entry_date": date(2026, 9, 1),
                "hts": "2846902040",
                "country_origin": "AUS",
                "customs_value_usd": 60_000.0,
                "quantity_kg": 1000.0,
            },
            {
                "line_id": "cn",
                "entry_date": date(2026, 9, 1),
                "hts": "2846902040",
                "country_origin": "CHN",
                "customs_value_usd": 70_000.0,
                "quantity_kg": 1000.0,
            },
            {
                "line_id": "au_high",
                "entry_date": date(2026, 9, 1),
                "hts": "2846902040",
                "country_origin": "AUS",
                "customs_value_usd": 120_000.0,
                "quantity_kg": 1000.0,
            },
        ]
    )


def test_partner_pays_variable_levy_non_partner_pays_tariff(helpers: Any) -> None:
    result = evaluate(
        _oxide_lines(helpers),
        loader.load_scenario("price_floor_partners_tariff_others", ["start_date=2026-07-14"]),
    )
    au = amounts(result, "au")
    # variable levy: max(0, 110 - 60) x 1,000 kg = 50,000 (reference price: NdPr US$110/kg)
    assert au["pcmdp_floor_partners"] == pytest.approx(50_000.0)
    comp = (
        result.components.filter(pl.col("line_id") == "au")
        .filter(pl.col("measure_id") == "pcmdp_floor_partners")
        .row(0, named=True)
    )
    assert comp["reference_price"] == 110.0 and comp["unit_price"] == pytest.approx(60.0)
    assert (
        amounts(result, "au_high")["pcmdp_floor_partners"] == 0.0
    )  # 120/kg is above the floor: max(0, 110-120)
    cn = amounts(result, "cn")
    assert "pcmdp_floor_partners" not in cn
    assert cn["pcmdp_tariff_processed_non_partners"] == pytest.approx(17_500.0)  # 25% x 70,000


def test_minimum_import_price_is_an_adjustable_ad_valorem_rate(helpers: Any) -> None:
    result = evaluate(
        _oxide_lines(helpers), loader.load_scenario("minimum_import_price", ["start_date=2026-07-14"])
    )
    comp = result.components.filter(
        (pl.col("line_id") == "au") & (pl.col("measure_id") == "pcmdp_minimum_import_price")
    ).row(0, named=True)
    # rate = max(0, 110 / 60 - 1) = 0.8333...; duty = 0.8333 x 60,000 = 50,000 (the same dollars as the levy)
    assert comp["rate"] == pytest.approx(110 / 60 - 1)
    assert comp["amount"] == pytest.approx(50_000.0)
    # China at $70/kg: max(0, 110/70 - 1) x 70,000 = 40,000 (all origins under the MIP scenario)
    assert amounts(result, "cn")["pcmdp_minimum_import_price"] == pytest.approx(40_000.0)


def test_price_undertaking_is_paid_to_the_exporter_not_customs(helpers: Any) -> None:
    measure_set = loader.load_scenario(
        "price_floor_partners_tariff_others", ["floor_mechanism=price_undertaking", "start_date=2026-07-14"]
    )
    result = evaluate(_oxide_lines(helpers), measure_set)
    au = line(result, "au")
    assert au["paid_to_exporter"] == pytest.approx(50_000.0)  # (110 - 60) x 1,000 to the exporter
    assert au["duty"] == 0.0  # Free MFN, no duty revenue
    comp = (
        result.components.filter(pl.col("measure_id") == "pcmdp_floor_partners")
        .filter(pl.col("line_id") == "au")
        .row(0, named=True)
    )
    assert str(comp["payer"]) == "exporter"


# ---------------------------------------------------------------------------------------------------------
# a quota filled across three entries


def _quota_measure(helpers: Any, **quota: Any) -> Any:
    spec = {
        "volume": 1000.0,
        "unit": "kg",
        "period": "year",
        "in_quota": {"kind": "ad_valorem", "rate": 0.0},
        "over_quota": {"kind": "ad_valorem", "rate": 0.5},
    }
    spec.update(quota)
    return helpers.measure(id="trq", authority="section_232", products={"hts": ["2846"]}, quota=spec)


def _three_entries(helpers: Any) -> pl.DataFrame:
    # Listed out of date order; the quota fills by entry date: 400 kg (Aug 1), 500 kg (Aug 15), 300 kg
    # (Sep 1).
    return helpers.ledger(
        [
            {
                "line_id": "third",
                "entry_date": date(2026, 9, 1),
                "hts": "2846902040",
                "country_origin": "CHN",
                "customs_value_usd": 3_000.0,
                "quantity_kg": 300.0,
            },
            {
                "line_id": "first",
                "entry_date": date(2026, 8, 1),
                "hts": "2846902040",
                "country_origin": "AUS",
                "customs_value_usd": 4_000.0,
                "quantity_kg": 400.0,
            },
            {
                "line_id": "second",
                "entry_date": date(2026, 8, 15),
                "hts": "2846902040",
                "country_origin": "CHN",
                "customs_value_usd": 5_000.0,
                "quantity_kg": 500.0,
            },
        ]
    )


def test_quota_filled_in_entry_order_across_three_entries(helpers: Any) -> None:
    result = evaluate(_three_entries(helpers), custom(_quota_measure(helpers)))
    # 1,000 kg a year: first 400 (cum 400) and second 500 (cum 900) are inside; third has 100 kg of room,
    # so 100/300 of it is in quota (0%) and 200/300 over: 50% x 3,000 x 2/3 = 1,000.
    assert amounts(result, "first") == {"trq:in_quota": 0.0}
    assert amounts(result, "second") == {"trq:in_quota": 0.0}
    third = amounts(result, "third")
    assert third["trq:in_quota"] == 0.0
    assert third["trq:over_quota"] == pytest.approx(1_000.0)
    fill = result.quota_fill.row(0, named=True)
    assert fill["used"] == pytest.approx(1_200.0) and fill["volume"] == 1000.0


def test_hard_quota_reports_unavailable_value(helpers: Any) -> None:
    measure = _quota_measure(helpers, over_quota=None, hard_cap=True)
    result = evaluate(_three_entries(helpers), custom(measure))
    third = line(result, "third")
    assert third["unavailable_value"] == pytest.approx(2_000.0)  # 200 of 300 kg beyond the cap: 3,000 x 2/3
    assert third["duty"] == 0.0
    tranches = (
        result.components.filter(pl.col("line_id") == "third").get_column("tranche").cast(pl.String).to_list()
    )
    assert sorted(tranches) == ["in_quota", "unavailable"]  # reported, never dropped


def test_quota_allocations_per_origin(helpers: Any) -> None:
    allocations = [
        {"name": "partners", "groups": ["us_cm_frameworks"], "share": 0.8},
        {"name": "others", "rest": True, "share": 0.2},
    ]
    result = evaluate(_three_entries(helpers), custom(_quota_measure(helpers, allocations=allocations)))
    # partners (Australia) get 800 kg: its 400 kg fits. Others (China) get 200 kg: "second" (500 kg, Aug 15)
    # uses 200 in quota and 300 over -> 50% x 5,000 x 3/5 = 1,500; "third" (300 kg) is all over ->
    # 50% x 3,000.
    assert amounts(result, "first") == {"trq:in_quota": 0.0}
    assert amounts(result, "second")["trq:over_quota"] == pytest.approx(1_500.0)
    assert amounts(result, "third") == {"trq:over_quota": pytest.approx(1_500.0)}


def test_quota_carries_over_partitions(helpers: Any) -> None:
    from critmin.duty import evaluate_batches

    frame = _three_entries(helpers).sort("entry_date")
    measure_set = custom(_quota_measure(helpers))
    whole = evaluate(frame, measure_set)
    parts = list(evaluate_batches([frame.slice(0, 1), frame.slice(1, 1), frame.slice(2, 1)], measure_set))
    merged = pl.concat([p.lines for p in parts])
    assert merged.get_column("duty").to_list() == pytest.approx(whole.lines.get_column("duty").to_list())


# ---------------------------------------------------------------------------------------------------------
# ad valorem / specific / compound and the schedule's own rates


def test_specific_and_compound_rates(helpers: Any) -> None:
    frame = helpers.ledger(
        [
            {
                "line_id": "x",
                "entry_date": date(2026, 1, 1),
                "hts": "2846902040",
                "country_origin": "CHN",
                "customs_value_usd": 10_000.0,
                "quantity_kg": 500.0,
                "content_mineral": "neodymium",
                "content_kg": 400.0,
            }
        ]
    )
    specific = helpers.measure(
        id="spec",
        authority="other",
        products={"all": True},
        basis="quantity",
        rate={"kind": "specific", "amount": 2.0, "unit": "kg"},
    )
    compound = helpers.measure(
        id="comp",
        authority="other",
        products={"all": True},
        rate={"kind": "compound", "rate": "5%", "amount": 1.0, "unit": "kg"},
    )
    content = helpers.measure(
        id="perkg",
        authority="other",
        products={"all": True},
        basis="content_mass",
        content={"minerals": ["neodymium"]},
        rate={"kind": "specific", "amount": 3.0},
    )
    got = amounts(evaluate(frame, custom(specific, compound, content)), "x")
    assert got["spec"] == pytest.approx(1_000.0)  # $2/kg x 500 kg
    assert got["comp"] == pytest.approx(1_000.0)  # 5% x 10,000 + $1/kg x 500 kg = 500 + 500
    assert got["perkg"] == pytest.approx(1_200.0)  # $3 per kg of contained neodymium x 400 kg


def test_schedule_compound_rate_from_hts(helpers: Any, status_quo: MeasureSet) -> None:
    # 0402.29.50.00 milk powder: general rate "$1.104/kg + 14.9%"; 1,000 kg worth $5,000 from New Zealand.
    frame = helpers.ledger(
        [
            {
                "line_id": "milk",
                "entry_date": date(2026, 9, 1),
                "hts": "0402295000",
                "country_origin": "NZL",
                "customs_value_usd": 5_000.0,
                "quantity_kg": 1000.0,
            }
        ]
    )
    got = amounts(evaluate(frame, status_quo), "milk")
    assert got["mfn_general"] == pytest.approx(1_104.0 + 745.0)  # 1.104 x 1,000 + 14.9% x 5,000


def test_missing_quantity_is_an_issue_not_zero(helpers: Any, status_quo: MeasureSet) -> None:
    frame = helpers.ledger(
        [
            {
                "line_id": "milk",
                "entry_date": date(2026, 9, 1),
                "hts": "0402295000",
                "country_origin": "NZL",
                "customs_value_usd": 5_000.0,
            }
        ]
    )
    result = evaluate(frame, status_quo)
    assert amounts(result, "milk")["mfn_general"] is None
    assert line(result, "milk")["issues"] == 1
    assert "quantity" in result.issues.row(0, named=True)["message"]


# ---------------------------------------------------------------------------------------------------------
# stacking and dates


def test_preference_replaces_mfn_only_where_claimed_and_eligible(
    helpers: Any, status_quo: MeasureSet
) -> None:
    # 2805.30.00.20 neodymium metal, MFN 5%, special Free (S = USMCA), 2026-09-01, $10,000 each.
    # " s " is the same claim as "S": codes are compared trimmed and upper-cased.
    rows = [
        ("mx_claim", "MEX", "S"),
        ("mx_claim_loose", "MEX", " s "),
        ("mx_no_claim", "MEX", None),
        ("cn_claim", "CHN", "S"),
    ]
    frame = helpers.ledger(
        [
            {
                "line_id": lid,
                "entry_date": date(2026, 9, 1),
                "hts": "2805300020",
                "country_origin": c,
                "customs_value_usd": 10_000.0,
                "preference_program": p,
            }
            for lid, c, p in rows
        ]
    )
    result = evaluate(frame, status_quo)
    assert amounts(result, "mx_claim")["preference_fta"] == 0.0 and "mfn_general" not in amounts(
        result, "mx_claim"
    )
    assert amounts(result, "mx_claim_loose") == amounts(result, "mx_claim")
    assert amounts(result, "mx_no_claim")["mfn_general"] == pytest.approx(500.0)  # 5% x 10,000: not claimed
    assert amounts(result, "cn_claim")["mfn_general"] == pytest.approx(500.0)  # China cannot claim USMCA


def test_later_301_increase_replaces_the_earlier_list_rate(helpers: Any, status_quo: MeasureSet) -> None:
    # 8541.10.00.70 diodes: Section 301 List 3 (25%), raised to 50% from 2025-01-01 (heading 9903.91.05).
    frame = helpers.ledger(
        [
            {
                "line_id": "2024",
                "entry_date": date(2024, 12, 1),
                "hts": "8541100070",
                "country_origin": "CHN",
                "customs_value_usd": 1_000.0,
            },
            {
                "line_id": "2025",
                "entry_date": date(2025, 6, 1),
                "hts": "8541100070",
                "country_origin": "CHN",
                "customs_value_usd": 1_000.0,
            },
        ]
    )
    result = evaluate(frame, status_quo)
    assert amounts(result, "2024")["s301_list3"] == pytest.approx(250.0)  # 25% x 1,000
    later = amounts(result, "2025")
    assert later["s301_2025_polysilicon_wafers_semiconductors"] == pytest.approx(500.0)  # 50% x 1,000
    assert "s301_list3" not in later  # replaced, not stacked


def test_redating_applies_the_measures_of_the_new_date(helpers: Any, status_quo: MeasureSet) -> None:
    frame = helpers.ledger(
        [
            {
                "line_id": "mag",
                "entry_date": date(2026, 3, 10),
                "hts": "8505110070",
                "country_origin": "CHN",
                "customs_value_usd": 100_000.0,
            }
        ]
    )
    before = evaluate(frame, status_quo, as_of=date(2025, 6, 1))
    got = amounts(before, "mag")
    assert "s301_2026_graphite_magnets_batteries" not in got  # not yet in force on 2025-06-01
    assert got["ieepa_fentanyl_china_20pct"] == pytest.approx(
        20_000.0
    )  # 20% in force 2025-03-04 .. 2025-11-09
    assert line(before, "mag")["eval_date"] == date(2025, 6, 1)


def test_scenario_before_its_start_date_adds_nothing_and_says_so(helpers: Any) -> None:
    frame = helpers.ledger(
        [
            {
                "line_id": "ox",
                "entry_date": date(2026, 3, 1),
                "hts": "2846902040",
                "country_origin": "CHN",
                "customs_value_usd": 70_000.0,
                "quantity_kg": 1000.0,
            }
        ]
    )
    result = evaluate(frame, loader.load_scenario("s232_tariff_non_partners", ["start_date=2026-07-14"]))
    assert "pcmdp_s232_processed_non_partners" not in amounts(result, "ox")
    assert any("re-date them with --as-of" in note for note in result.notes)
    redated = evaluate(
        frame,
        loader.load_scenario("s232_tariff_non_partners", ["start_date=2026-07-14"]),
        as_of=date(2026, 9, 1),
    )
    assert amounts(redated, "ox")["pcmdp_s232_processed_non_partners"] == pytest.approx(
        17_500.0
    )  # 25% x 70,000


def test_dated_groups_partner_joins_on_its_signing_date(helpers: Any) -> None:
    # Australia joined the U.S. critical-minerals frameworks on 2025-10-20: before that it is a non-partner.
    frame = helpers.ledger(
        [
            {
                "line_id": "au",
                "entry_date": date(2025, 9, 1),
                "hts": "2846902040",
                "country_origin": "AUS",
                "customs_value_usd": 70_000.0,
                "quantity_kg": 1000.0,
            }
        ]
    )
    measure_set = loader.load_scenario(
        "s232_tariff_non_partners", ["start_date=2025-01-01", "partner_groups=[us_cm_frameworks]"]
    )
    assert amounts(evaluate(frame, measure_set), "au")["pcmdp_s232_processed_non_partners"] == pytest.approx(
        17_500.0
    )
    later = evaluate(frame, measure_set, as_of=date(2025, 11, 1))
    assert "pcmdp_s232_processed_non_partners" not in amounts(later, "au")


def test_arrow_input_and_partitions_give_the_same_result(helpers: Any, status_quo: MeasureSet) -> None:
    from critmin.duty import evaluate_batches

    frame = helpers.ledger(
        [
            {
                "line_id": f"l{i}",
                "entry_date": date(2026, 1 + i % 9, 1 + i),
                "hts": code,
                "country_origin": c,
                "customs_value_usd": 1000.0 * (i + 1),
                "quantity_kg": 10.0 * (i + 1),
            }
            for i, (code, c) in enumerate(
                [
                    ("8505110070", "CHN"),
                    ("7408116000", "CHL"),
                    ("2846902040", "AUS"),
                    ("8507600020", "CHN"),
                    ("7318150000", "DEU"),
                    ("2805300020", "VNM"),
                ]
            )
        ]
    )
    whole = evaluate(frame.to_arrow(), status_quo)
    parts = pl.concat([r.lines for r in evaluate_batches([frame.slice(0, 3), frame.slice(3)], status_quo)])
    assert parts.get_column("duty").to_list() == pytest.approx(whole.lines.get_column("duty").to_list())


def test_minimum_import_price_from_shipped_usgs_prices(helpers: Any) -> None:
    # Lithium carbonate 2836.91.00.10 from Chile, 1,000 kg at $8/kg, 2026-09-01. The MIP scenario takes the
    # shipped USGS MCS 2026 battery-grade Li2CO3 price for 2025 (US$9/kg) x 1.2 = US$10.8/kg.
    frame = helpers.ledger(
        [
            {
                "line_id": "li",
                "entry_date": date(2026, 9, 1),
                "hts": "2836910010",
                "country_origin": "CHL",
                "customs_value_usd": 8_000.0,
                "quantity_kg": 1000.0,
            }
        ]
    )
    result = evaluate(frame, loader.load_scenario("minimum_import_price", ["start_date=2026-07-14"]))
    comp = result.components.filter(pl.col("measure_id") == "pcmdp_minimum_import_price").row(0, named=True)
    assert comp["reference_price"] == pytest.approx(10.8)
    assert comp["rate"] == pytest.approx(0.35)  # 10.8 / 8 - 1
    assert comp["amount"] == pytest.approx(2_800.0)  # 0.35 x 8,000
    table = result.reference_prices["pcmdp_minimum_import_price"]
    lithium = next(p for p in table if p["mineral"] == "lithium")
    assert "USGS MCS 2026" in lithium["source"] and "x 1.2" in lithium["source"]
