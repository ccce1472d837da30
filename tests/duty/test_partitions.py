"""Quotas over partitions evaluated in parallel: usage, openings, then evaluation give what filling the
partitions one after another gives, to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from critmin.duty import (
    USAGE_COLUMNS,
    evaluate,
    evaluate_batches,
    next_opening,
    quota_openings,
    quota_usage,
)
from critmin.policy import loader


@pytest.fixture(scope="module")
def partitions(helpers: Any) -> list[pl.DataFrame]:
    """60 lines of rare-earth oxide (2846.90.20.05), 100 kg each, one every 3 days from 2026-07-20 (in
    the quota's window), alternating Australia (a partner: U.S. FTA) and China, split into three."""
    rows = [
        {
            "line_id": f"L{i:02d}",
            "entry_date": date(2026, 7, 20) + timedelta(days=3 * i),
            "hts": "2846902005",
            "country_origin": "AUS" if i % 2 == 0 else "CHN",
            "customs_value_usd": 5_000.0,
            "quantity_kg": 100.0,
        }
        for i in range(60)
    ]
    frame = helpers.ledger(rows)
    return [frame.slice(0, 20), frame.slice(20, 20), frame.slice(40, 20)]


def test_parallel_partitions_equal_sequential_filling(partitions: list[pl.DataFrame]) -> None:
    # quota 3,000 kg a year: partners 80% = 2,400 kg, others 20% = 600 kg
    scenario = loader.load_scenario("trq", ["quota_kg=3000", "start_date=2026-07-14"])
    sequential = list(evaluate_batches(partitions, scenario))
    usages = [quota_usage(p, scenario) for p in partitions]
    openings = quota_openings(usages)
    parallel = [evaluate(p, scenario, quota_opening=o) for p, o in zip(partitions, openings, strict=True)]

    # each partition draws 1,000 kg from each allocation (10 lines x 100 kg)
    first = usages[0].sort("allocation")
    assert first.get_column("used").to_list() == [1000.0, 1000.0]
    assert openings[0].is_empty()
    assert openings[2].sort("allocation").get_column("used").to_list() == [2000.0, 2000.0]

    seq_lines = pl.concat([r.lines for r in sequential]).select("line_id", "duty")
    par_lines = pl.concat([r.lines for r in parallel]).select("line_id", "duty")
    assert seq_lines.equals(par_lines)
    assert sequential[-1].quota_fill.equals(parallel[-1].quota_fill)

    # Chinese lines: 600 kg in quota = the first 6 lines (L01..L11); L13 onward pay the 50% over-quota
    # rate on top of the in-force duties, so L13 pays 2,500 more than L11 (50% of 5,000)
    duty = dict(zip(par_lines["line_id"], par_lines["duty"], strict=True))
    assert duty["L13"] - duty["L11"] == pytest.approx(2_500.0)
    # Australian lines: 2,400 kg = the first 24 partner lines (L00..L46); L48 is the first over the quota
    assert duty["L48"] - duty["L46"] == pytest.approx(2_500.0)


def test_no_quota_means_no_usage(partitions: list[pl.DataFrame]) -> None:
    assert quota_usage(partitions[0], loader.load_scenario("status_quo")).is_empty()


def test_usage_reads_only_usage_columns(partitions: list[pl.DataFrame]) -> None:
    # a quota pass may read just USAGE_COLUMNS (no line ids): the draws are the same
    scenario = loader.load_scenario("trq", ["quota_kg=3000", "start_date=2026-07-14"])
    narrow = [p.select([c for c in USAGE_COLUMNS if c in p.columns]) for p in partitions]
    assert "line_id" not in narrow[0].columns
    for full, part in zip(partitions, narrow, strict=True):
        assert quota_usage(part, scenario).equals(quota_usage(full, scenario))


def test_next_opening_chains_to_the_same_openings(partitions: list[pl.DataFrame]) -> None:
    # a scheduler can start partition k+1 as soon as usage k is in: the chained openings are the prefix sums
    scenario = loader.load_scenario("trq", ["quota_kg=3000", "start_date=2026-07-14"])
    usages = [quota_usage(p, scenario) for p in partitions]
    chained = [quota_openings(usages)[0]]
    for usage in usages[:-1]:
        chained.append(next_opening(chained[-1], usage))
    assert all(a.equals(b) for a, b in zip(chained, quota_openings(usages), strict=True))
    assert chained[1].sort("allocation").get_column("used").to_list() == [1000.0, 1000.0]


def test_lines_out_of_every_quota_scope_draw_nothing(partitions: list[pl.DataFrame], helpers: Any) -> None:
    # copper wire interleaved with the rare-earth lines: the quota pass skips it, the draws are unchanged,
    # and the parallel result still equals sequential filling
    scenario = loader.load_scenario("trq", ["quota_kg=3000", "start_date=2026-07-14"])
    wire = helpers.ledger(
        [
            {
                "line_id": f"W{i:02d}",
                "entry_date": date(2026, 7, 20) + timedelta(days=3 * i),
                "hts": "7408116000",
                "country_origin": "CHN",
                "customs_value_usd": 5_000.0,
                "quantity_kg": 100.0,
            }
            for i in range(60)
        ]
    )
    mixed = [
        pl.concat([p, wire.slice(20 * k, 20)]).sort("entry_date", "line_id") for k, p in enumerate(partitions)
    ]
    usages = [quota_usage(p, scenario) for p in mixed]
    for usage, alone in zip(usages, [quota_usage(p, scenario) for p in partitions], strict=True):
        assert usage.equals(alone)
    parallel = [
        evaluate(p, scenario, quota_opening=o) for p, o in zip(mixed, quota_openings(usages), strict=True)
    ]
    sequential = list(evaluate_batches(mixed, scenario))
    seq = pl.concat([r.lines for r in sequential]).select("line_id", "duty")
    par = pl.concat([r.lines for r in parallel]).select("line_id", "duty")
    assert seq.equals(par)
