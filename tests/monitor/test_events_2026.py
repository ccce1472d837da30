"""The 2026 actions of the policy reference (policy_facts_2026.md, section A) in the shipped legal calendar.

Each one is checked for the values a user would check: its date (and end date), the primary reference it
cites (FR citation and federalregister.gov document URL, proclamation, CBP CSMS number, docket), and whether
it is verified or only reported. Plus the corrections (Section 122 lapse, the Kuala Lumpur arrangement, the
end of the Proclamation 11001 window) and what `critmin timeline --upcoming` shows on 2026-12-05.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.monitor.timeline import Event, shipped_events, timeline

TODAY = date(2026, 12, 5)

# (id, date, end date, substrings the event's citation must contain, primary URL or None, verification)
SECTION_A = [
    ("s232-semiconductors", date(2026, 1, 15), None, ["91 FR 2443", "CSMS #67400472"], None, "reported"),
    (
        "section-122-window",
        date(2026, 2, 24),
        date(2026, 7, 23),
        ["Proclamation 11012, 91 FR 9339 (FR Doc 2026-03824)", "CSMS #67844987"],
        "https://www.federalregister.gov/d/2026-03824",
        "reported",
    ),
    (
        "s232-metals-proc-11021",
        date(2026, 4, 6),
        None,
        ["Proclamation 11021, 91 FR 18201 (FR Doc 2026-06960)", "91 FR 23056"],
        "https://www.federalregister.gov/d/2026-06960",
        "reported",
    ),
    ("ieepa-refunds-cape", date(2026, 4, 20), None, ["CSMS #68396594"], None, "verified"),
    ("taiwan-agreement", date(2026, 5, 1), None, ["91 FR 31818"], None, "reported"),
    ("ieepa-refunds-doj-appeal", date(2026, 5, 29), None, ["CIT No. 25-00066"], None, "reported"),
    (
        "s232-metals-proc-11032",
        date(2026, 6, 8),
        None,
        ["Proclamation 11032, 91 FR 34085", "CSMS #68855869"],
        None,
        "reported",
    ),
    (
        "pcmdp-window-end",
        date(2026, 7, 13),
        None,
        ["Proclamation 11001"],
        "https://www.whitehouse.gov/presidential-actions/2026/01/"
        "adjusting-imports-of-processed-critical-minerals-and-their-derivative-products-into-the-united-states/",
        "verified",
    ),
    (
        "s301-brazil",
        date(2026, 7, 22),
        None,
        ["91 FR 45516 (FR Doc 2026-14542)", "CSMS #69302472"],
        "https://www.federalregister.gov/d/2026-14542",
        "reported",
    ),
    (
        "section-122-expiry",
        date(2026, 7, 23),
        None,
        ["FR Doc 2026-03824"],
        "https://www.federalregister.gov/d/2026-03824",
        "reported",
    ),
    (
        "s301-forced-labor",
        date(2026, 7, 24),
        None,
        ["91 FR 47318 (FR Doc 2026-15181)", "CSMS #69326983"],
        "https://www.federalregister.gov/d/2026-15181",
        "reported",
    ),
    (
        "s338-canada",
        date(2026, 8, 22),
        None,
        ["Proclamations 11046, 11047 and 11048", "CSMS #69606660"],
        None,
        "reported",
    ),
    (
        "bis-black-mass-rule",
        date(2026, 8, 27),
        date(2027, 8, 27),
        ["FR Doc 2026-15859"],
        "https://www.federalregister.gov/d/2026-15859",
        "reported",
    ),
    ("kl-arrangement-extended", date(2026, 9, 28), None, ["MOFCOM readout, 2026-09-28"], None, "reported"),
    ("s232-polysilicon-proclaimed", date(2026, 8, 6), None, ["Proclamation 11052"], None, "reported"),
    ("s232-polysilicon-effective", date(2026, 12, 4), None, ["Proclamation 11052"], None, "reported"),
    (
        "dfars-7052-widening",
        date(2027, 1, 1),
        None,
        ["FR Doc 2024-11513", "DFARS 252.225-7052"],
        "https://www.federalregister.gov/d/2024-11513",
        "verified",
    ),
    ("kl-arrangement-ends", date(2027, 1, 10), None, ["MOFCOM readout, 2026-09-28"], None, "reported"),
    (
        "s301-china-semiconductors-increase",
        date(2027, 6, 23),
        None,
        ["FR Doc 2025-23912"],
        "https://www.federalregister.gov/d/2025-23912",
        "reported",
    ),
    (
        "s232-annex-iii-15-tier-ends",
        date(2027, 12, 31),
        None,
        ["Proclamation 11021"],
        "https://www.federalregister.gov/d/2026-06960",
        "reported",
    ),
]

# Citations that must not be in the shipped calendar: forums, bulletin boards, student papers, newsletters,
# and a university library proxy.
NOT_CITABLE = re.compile(
    r"/bbs/|wenxuecity|technews\.iit\.edu|newsletter|libproxy|market-update|forum|reddit\.com|blogspot\.",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def events() -> dict[str, Event]:
    return {e.id: e for e in shipped_events()}


@pytest.fixture(scope="module")
def rows() -> dict[str, dict[str, object]]:
    return {r["id"]: r for r in timeline(shipped_events(), today=TODAY).to_dicts()}


@pytest.mark.parametrize(("event_id", "day", "end", "cited", "url", "verification"), SECTION_A)
def test_section_a_action_is_dated_cited_and_tagged(
    rows: dict[str, dict[str, object]],
    event_id: str,
    day: date,
    end: date | None,
    cited: list[str],
    url: str | None,
    verification: str,
) -> None:
    row = rows[event_id]
    assert (row["date"], row["end_date"]) == (day, end)
    citation = str(row["citation"])
    for text in cited:
        assert text in citation, f"{event_id}: {text!r} not in {citation!r}"
    if url is not None:
        assert row["source_url"] == url
    assert row["reliability"] == "P"  # a primary reference is always cited
    assert row["verification"] == verification


def test_reported_facts_are_marked_reported(events: dict[str, Event]) -> None:
    """Facts the reference has only via a repository's primary citation ([P via R]) or a law firm ([L])."""
    for event_id in [
        "s301-forced-labor",
        "s301-brazil",
        "section-122-expiry",
        "s338-canada",
        "bis-black-mass-rule",
        "kl-arrangement-extended",
        "kl-arrangement-ends",
        "s232-polysilicon-effective",
        "s232-semiconductors",
        "s232-metals-proc-11021",
        "s301-china-semiconductors-increase",
        "s232-annex-iii-15-tier-ends",
    ]:
        assert events[event_id].verification == "reported", event_id
        # the primary reference the fact rests on is cited, and marked as not opened
        assert any(
            s.reliability == "P" and s.note and "not opened" in s.note for s in events[event_id].sources
        ), event_id


def test_section_122_covered_150_days_to_july_23(rows: dict[str, dict[str, object]]) -> None:
    window = rows["section-122-window"]
    assert isinstance(window["date"], date) and isinstance(window["end_date"], date)
    assert (window["end_date"] - window["date"]).days + 1 == 150  # both days covered
    on_last_day = {r["id"]: r for r in timeline(shipped_events(), today=date(2026, 7, 23)).to_dicts()}
    assert on_last_day["section-122-window"]["countdown"] == "ongoing, 0 days left"
    assert on_last_day["section-122-expiry"]["countdown"] == "today"
    day_after = {r["id"]: r for r in timeline(shipped_events(), today=date(2026, 7, 24)).to_dicts()}
    assert day_after["section-122-window"]["status"] == "past"
    assert day_after["s301-forced-labor"]["status"] == "today"


def test_pcmdp_window_end_says_status_unknown_not_nothing_happened(events: dict[str, Event]) -> None:
    event = events["pcmdp-window-end"]
    assert event.date == date(2026, 7, 13)
    assert (
        "no later PCMDP tariff, quota, minimum import price, extension or agreement found as of 2026-12-05"
        in event.title
    )
    assert "status unknown" in event.title
    assert event.note is not None and "unknown" in event.note


def test_kuala_lumpur_arrangement_runs_to_january_10_2027(events: dict[str, Event]) -> None:
    assert events["kl-arrangement-extended"].date == date(2026, 9, 28)
    assert "2027-01-10" in events["kl-arrangement-extended"].title
    assert events["kl-arrangement-ends"].date == date(2027, 1, 10)
    suspension = events["china-suspension-no-70"]
    assert (suspension.date, suspension.end_date) == (date(2025, 11, 7), date(2027, 1, 10))
    assert events["china-suspension-no-70-ends"].date == date(2027, 1, 10)
    # the No. 72 suspension is not covered by the readout: its end stays an open question
    no_72 = events["china-suspension-no-72-ends"]
    assert no_72.date == date(2026, 11, 27) and "status unknown" in no_72.title


def test_polysilicon_minimum_import_prices_and_heading_conflict(events: dict[str, Event]) -> None:
    event = events["s232-polysilicon-effective"]
    assert event.note is not None
    for price in ("2804.61.00.00 $21/kg", "3818.00 $100/kg", "8541.42 $0.22/W", "8541.43 $0.38/W"):
        assert price in event.note
    assert "unconfirmed" in event.note  # 9903.45.30-.32 vs the quartz-surface safeguard headings


def test_open_questions_with_a_date_are_on_the_calendar(events: dict[str, Event]) -> None:
    assert "no decision found as of 2026-12-05" in events["refined-copper-phase-1"].title
    assert "status unknown" in events["s301-exclusions-expire"].title
    assert "outcome not found as of 2026-12-05" in events["ieepa-refunds-doj-appeal"].title
    assert "CIT challenge pending" in events["s301-forced-labor"].title
    assert "mineral coverage unknown" in events["s338-canada"].title


def test_no_forum_bulletin_board_student_paper_or_newsletter_citations(events: dict[str, Event]) -> None:
    for event in events.values():
        for source in event.sources:
            assert source.url is None or not NOT_CITABLE.search(source.url), (event.id, source.url)


def test_federal_register_urls_match_the_cited_document_numbers(events: dict[str, Event]) -> None:
    for event in events.values():
        for source in event.sources:
            match = re.fullmatch(r"https://www\.federalregister\.gov/d/(\d{4}-\d{5})", source.url or "")
            if match:
                assert source.citation and f"FR Doc {match.group(1)}" in source.citation, event.id


def test_upcoming_on_2026_12_05() -> None:
    frame = timeline(shipped_events(), today=TODAY, upcoming=True)
    rows = frame.to_dicts()
    ids = [r["id"] for r in rows]
    assert ids[:2] == ["dfars-7052-widening", "refined-copper-phase-1"]  # 2027-01-01, in 27 days
    assert ids.index("dfars-7052-widening") < ids.index("kl-arrangement-ends")
    by_id = {r["id"]: r for r in rows}
    assert by_id["dfars-7052-widening"]["countdown"] == "in 27 days"
    assert by_id["kl-arrangement-ends"]["countdown"] == "in 36 days"
    assert by_id["china-suspension-no-70"]["countdown"] == "ongoing, 36 days left"
    assert by_id["bis-black-mass-rule"]["countdown"] == "ongoing, 265 days left"
    assert by_id["s301-china-semiconductors-increase"]["countdown"] == "in 200 days"
    assert by_id["s232-annex-iii-15-tier-ends"]["countdown"] == "in 391 days"
    # in order of the date that matters next (a window's end, otherwise the event's date)
    next_dates = [r["end_date"] if r["status"] == "ongoing" else r["date"] for r in rows]
    assert next_dates == sorted(next_dates)
    assert all(r["citation"] for r in rows)  # every upcoming event cites a primary reference
    # already past on 2026-12-05
    for gone in ("s232-polysilicon-effective", "section-122-window", "china-suspension-no-72-ends"):
        assert gone not in by_id


def test_polysilicon_in_force_yesterday() -> None:
    rows = {r["id"]: r for r in timeline(shipped_events(), today=TODAY).to_dicts()}
    assert rows["s232-polysilicon-effective"]["countdown"] == "1 day ago"


def test_cli_json_shows_verification_and_citation() -> None:
    result = CliRunner().invoke(app, ["timeline", "--upcoming", "--today", "2026-12-05", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["kl-arrangement-ends"]["verification"] == "reported"
    assert rows["kl-arrangement-ends"]["citation"].startswith("MOFCOM readout, 2026-09-28")
    assert rows["dfars-7052-widening"]["verification"] == "verified"
