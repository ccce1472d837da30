"""Alerts priced by the real duty engine (critmin.duty.engine.evaluate) and the shipped policy library."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

from critmin.monitor.alerts import LedgerContext, build_alerts, payloads
from critmin.monitor.impact import EngineDutyModel
from critmin.monitor.watchlist import parse_watchlist

TODAY = date(2026, 11, 28)


def trailing_year(kit: Any) -> pl.DataFrame:
    return kit.small_ledger().filter(pl.col("line_id") != "L5")  # L5 (Jan 2025) is outside the 12 months


def test_current_duty_on_entry_dates(kit: Any) -> None:
    duty = dict(EngineDutyModel(today=TODAY).current(kit.small_ledger()).iter_rows())
    # L1 magnets from China, entered 2026-03-02: MFN 2.1% x 100,000 = 2,100 plus Section 301 (magnets 25%
    # from 2026-01-01) 25% x 100,000 = 25,000 -> 27,100.  L2 the same magnets from Japan: MFN only, 840.
    assert duty["L1"] == 27_100.0
    assert duty["L2"] == 840.0


def test_library_measure_cost(kit: Any) -> None:
    change = EngineDutyModel(today=TODAY).change(trailing_year(kit), "s301_2026_graphite_magnets_batteries")
    assert change.as_of == TODAY and change.note is None
    lines = {row[0]: (row[1], row[2]) for row in change.lines.iter_rows()}
    assert lines["L1"] == (2_100.0, 27_100.0)  # the 25% Section 301 increase on Chinese magnets: +25,000
    assert lines["L2"][0] == lines["L2"][1]  # Japanese magnets: the China-only measure changes nothing


def test_scenario_dollar_change_in_an_alert(kit: Any) -> None:
    watch = parse_watchlist(
        {
            "entries": [
                {"id": "pcmdp", "terms": ["critical minerals"], "hts": ["8505.11"], "minerals": ["gallium"]}
            ],
            "documents": {"2026-90000": "s232_tariff_non_partners"},
        }
    )
    docs = pl.DataFrame(
        {
            "document_number": ["2026-90000"],
            "title": [
                "Section 232 National Security Investigation of Imports of Processed Critical Minerals"
            ],
            "publication_date": [date(2026, 1, 5)],
        }
    )
    duty = EngineDutyModel(today=TODAY)
    context = LedgerContext.build(kit.small_ledger(), duty, classify=False)
    alert = payloads(
        build_alerts(
            pl.DataFrame({"entry_id": ["pcmdp"], "document_number": ["2026-90000"]}),
            docs,
            watch,
            context,
            run_id="r",
            now=datetime(2026, 11, 28),
            duty=duty,
        )
    )[0]
    impact = alert["impact"]
    # Scenario: 25% Section 232 on processed minerals and on derivatives' mineral content from non-partner
    # countries. China is not a partner: L1 magnets +25% x 100,000 = +25,000; L3 unwrought gallium
    # +25% x 25,000 = +6,250. Japan (L2) and Malaysia (L4) are framework partners: unchanged.
    assert impact["change_usd"] == 31_250.0
    assert impact["lines_affected"] == 2
    assert [(t["line_id"], t["change_usd"]) for t in impact["top_lines"]] == [
        ("L1", 25_000.0),
        ("L3", 6_250.0),
    ]
    assert impact["as_of"] == "2027-01-01"  # the scenario's start_date, after today
    assert impact["title"].startswith("Section 232 PCMDP tariff")
    # current duty on the lines the document's scope touches (L1, L2, L3): 27,100 + 840 + 7,000 = 34,940
    assert alert["exposure"]["annual_duty_usd"] == 34_940.0


def test_future_scenario_is_dated_to_its_start(kit: Any) -> None:
    change = EngineDutyModel(today=date(2026, 3, 1)).change(trailing_year(kit), "s232_tariff_non_partners")
    assert change.as_of == date(2027, 1, 1)  # the scenario's start_date (default 2027-01-01)


def test_unknown_measure_is_a_note_not_a_crash(kit: Any) -> None:
    change = EngineDutyModel(today=TODAY).change(trailing_year(kit), "no_such_scenario")
    assert change.note is not None and "neither a shipped scenario nor a YAML file" in change.note
