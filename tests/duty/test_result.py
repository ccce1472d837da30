"""The compact result: components built on first read agree with every summary computed without them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import pytest

from critmin.duty import evaluate
from critmin.duty.result import DutyResult
from critmin.policy import loader


@pytest.fixture(scope="module")
def result(helpers: Any) -> DutyResult:
    """A Chinese NdFeB magnet and copper wire (2026, under the Section 122 window), a Mexican claim, a
    Chilean copper line with stated content and an IEEPA-era Chinese line (refund-eligible)."""
    rows = [
        ("magnet", date(2026, 3, 2), "8505111000", "CHN", None, None),
        ("wire", date(2026, 3, 2), "7408116000", "CHN", None, None),
        ("mx", date(2026, 9, 1), "2805300020", "MEX", "S", None),
        ("cl", date(2026, 3, 2), "7408116000", "CHL", "CL", 6_000.0),  # copper on content until 2026-04-05
        ("ieepa", date(2025, 6, 2), "8505111000", "CHN", None, None),
    ]
    frame = helpers.ledger(
        [
            {
                "line_id": lid,
                "entry_date": day,
                "hts": hts,
                "country_origin": origin,
                "customs_value_usd": 10_000.0,
                "quantity_kg": 100.0,
                "preference_program": program,
                "content_mineral": "copper" if content else None,
                "content_value_usd": content,
            }
            for lid, day, hts, origin, program, content in rows
        ]
    )
    return evaluate(frame, loader.load_scenario("status_quo"))


def test_components_table_matches_the_count_and_schema(result: DutyResult) -> None:
    comps = result.components
    assert comps.height == result.component_count > 0
    assert comps.columns[0] == "line_id"
    assert comps.schema["measure_id"] == result.component_schema["measure_id"]
    assert isinstance(comps.schema["content_source"], pl.Enum)
    assert comps is result.components  # built once


def test_line_duty_is_the_sum_of_its_customs_components(result: DutyResult) -> None:
    owed = (
        result.components.filter((pl.col("payer") == "customs") & ~pl.col("refund_eligible"))
        .group_by("line_id")
        .agg(pl.col("amount").sum().alias("from_components"))
    )
    joined = result.lines.select("line_id", "duty").join(owed, on="line_id", how="left").fill_null(0.0)
    for row in joined.iter_rows(named=True):
        assert row["duty"] == pytest.approx(row["from_components"]), row["line_id"]


def test_summaries_without_the_table_agree_with_it(result: DutyResult) -> None:
    comps = result.components
    for refund in (False, True):
        grouped = (
            comps.filter((pl.col("payer") == "customs") & (pl.col("refund_eligible") == refund))
            .group_by(pl.col("measure_id").cast(pl.String))
            .agg(pl.col("amount").sum())
        )
        expected = {str(k): float(v) for k, v in grouped.iter_rows()}
        got = result.by_measure(refund_eligible=refund)
        assert got.keys() == expected.keys()
        assert all(got[k] == pytest.approx(v) for k, v in expected.items())
    assert result.by_measure(refund_eligible=True)  # the IEEPA-era line
    applied = {m["measure_id"] for m in result.measures_used() if m["applied"]}
    assert applied == set(comps.get_column("measure_id").cast(pl.String).unique())


def test_amounts_equal_across_cases_where_content_does_not_enter(result: DutyResult) -> None:
    mfn = result.components.filter(pl.col("measure_id") == "mfn_general")
    assert mfn.get_column("amount").equals(mfn.get_column("amount_low"), check_names=False)
    assert mfn.get_column("amount").equals(mfn.get_column("amount_high"), check_names=False)
    comps = result.components
    copper = comps.filter(pl.col("line_id") == "cl", pl.col("measure_id") == "s232_copper_content")
    # 50% of the stated 6,000 of copper content, whatever the factor case
    assert copper.row(0, named=True)["amount"] == pytest.approx(3_000.0)
    assert copper.row(0, named=True)["content_source"] == "ledger"


def test_json_text_is_the_payload(result: DutyResult) -> None:
    # the CLI writes payload_json(); it must say exactly what payload() says
    expected = json.loads(json.dumps(result.payload(), default=str))
    assert json.loads(result.payload_json()) == expected
    magnet = next(line for line in expected["lines"] if line["line_id"] == "magnet")
    assert magnet["components"][0]["measure_id"] == "mfn_general"  # stacking order: MFN first
    assert magnet["duty"] == pytest.approx(
        sum(c["amount"] or 0.0 for c in magnet["components"] if c["status"] != "invalidated")
    )
