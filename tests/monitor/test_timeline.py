"""The shipped legal calendar: every required date present, sourced and tagged; countdowns; user events.

The 2026 actions and open questions of the policy reference are checked in ``test_events_2026.py``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from critmin.monitor.errors import EventsFileError
from critmin.monitor.timeline import (
    TIMELINE_SCHEMA,
    Event,
    all_events,
    load_events_file,
    shipped_events,
    timeline,
)
from critmin.yamlfile import load as load_yaml

# (event id, date, end date) the policy reference dates and the monitor must ship
REQUIRED = [
    ("eo-14272-signed", date(2025, 4, 15), None),
    ("pcmdp-232-comments-due", date(2025, 5, 16), None),
    ("pcmdp-232-report-submitted", date(2025, 10, 24), None),
    ("proclamation-11001", date(2026, 1, 14), None),
    ("pcmdp-negotiation-window", date(2026, 1, 14), date(2026, 7, 13)),
    ("pcmdp-window-end", date(2026, 7, 13), None),
    ("critical-minerals-ministerial", date(2026, 2, 4), None),
    ("ustr-plurilateral-notice", date(2026, 2, 26), None),
    ("ustr-plurilateral-comments-due", date(2026, 3, 19), None),
    ("scotus-ieepa-decision", date(2026, 2, 20), None),
    ("cbp-ieepa-stop", date(2026, 2, 24), None),
    ("section-122-window", date(2026, 2, 24), date(2026, 7, 23)),  # July 23 is the last covered day
    ("section-122-expiry", date(2026, 7, 23), None),
    ("china-suspension-no-70", date(2025, 11, 7), date(2027, 1, 10)),  # extended with the KL arrangement
    ("china-suspension-no-70-ends", date(2027, 1, 10), None),
    ("china-suspension-no-72-ends", date(2026, 11, 27), None),
    ("s301-exclusions-expire", date(2026, 11, 10), None),
    ("dfars-7052-widening", date(2027, 1, 1), None),
    ("refined-copper-phase-1", date(2027, 1, 1), None),
    ("copper-report-due", date(2026, 6, 30), None),
    ("s232-copper-effective", date(2025, 8, 1), None),
    ("usgs-2025-final-list", date(2025, 11, 7), None),
]


def test_required_events_are_shipped_with_dates() -> None:
    events = {e.id: e for e in shipped_events()}
    for event_id, day, end in REQUIRED:
        assert event_id in events, event_id
        assert (events[event_id].date, events[event_id].end_date) == (day, end), event_id


def test_every_shipped_event_cites_a_source() -> None:
    for event in shipped_events():
        assert event.sources, event.id
        for source in event.sources:
            assert source.url is not None or source.citation, event.id
            assert source.url is None or source.url.startswith("https://"), event.id
        assert event.origin == "shipped"
        if event.date_basis == "computed":
            assert event.note, f"{event.id}: a computed date must say how it was computed"


def test_every_shipped_event_states_its_verification() -> None:
    """No shipped event relies on the default: each says verified or reported, and verified means a primary
    text (or a verbatim copy of one) was read."""
    from importlib import resources

    raw = load_yaml(resources.files("critmin.monitor").joinpath("events.yaml").read_text("utf-8"))
    for entry in raw["events"]:
        assert entry.get("verification") in ("verified", "reported"), entry["id"]
    for event in shipped_events():
        if event.verification == "verified":
            assert any(s.reliability in ("P", "P-copy") for s in event.sources), event.id


def test_180_day_window_arithmetic() -> None:
    events = {e.id: e for e in shipped_events()}
    window = events["pcmdp-negotiation-window"]
    assert window.end_date is not None
    assert (window.end_date - window.date).days == 180  # January 14 + 180 days = July 13, 2026


def test_countdown_states() -> None:
    frame = timeline(shipped_events(), today=date(2026, 7, 13))
    rows = {r["id"]: r for r in frame.to_dicts()}
    assert rows["pcmdp-window-end"]["status"] == "today" and rows["pcmdp-window-end"]["countdown"] == "today"
    assert rows["pcmdp-negotiation-window"]["status"] == "ongoing"
    assert rows["pcmdp-negotiation-window"]["countdown"] == "ongoing, 0 days left"
    assert rows["proclamation-11001"]["countdown"] == "180 days ago"
    assert rows["section-122-expiry"]["countdown"] == "in 10 days"  # 2026-07-23, the last covered day
    assert rows["s232-copper-effective"]["status"] == "past"
    upcoming = timeline(shipped_events(), today=date(2026, 7, 13), upcoming=True)
    assert "past" not in set(upcoming.get_column("status"))
    assert frame.get_column("date").is_sorted()
    assert frame.columns == list(TIMELINE_SCHEMA)


def test_frame_shows_verification_citation_and_primary_url() -> None:
    rows = {r["id"]: r for r in timeline(shipped_events(), today=date(2026, 12, 5)).to_dicts()}
    dfars = rows["dfars-7052-widening"]
    assert dfars["verification"] == "verified"
    assert dfars["reliability"] == "P"
    assert dfars["source_url"] == "https://www.federalregister.gov/d/2024-11513"
    assert dfars["citation"].startswith("DFARS Case 2021-D015 final rule, FR Doc 2024-11513")
    forced_labor = rows["s301-forced-labor"]
    assert forced_labor["verification"] == "reported"
    assert forced_labor["citation"] == "91 FR 47318 (FR Doc 2026-15181); CBP CSMS #69326983"
    # a citation-only source (a CSMS number) does not hide the URL of the next source
    cbp = rows["cbp-ieepa-stop"]
    assert cbp["citation"].startswith("CBP CSMS #67834313")
    assert cbp["source_url"] == "https://www.federalregister.gov/d/2026-03832"


def test_source_needs_url_or_citation_and_user_events_default_to_reported() -> None:
    event = Event.model_validate(
        {
            "id": "a",
            "date": "2026-05-01",
            "title": "t",
            "sources": [{"citation": "CSMS #1", "reliability": "P"}],
        }
    )
    assert event.verification == "reported"
    assert event.best_url is None and event.citation == "CSMS #1"
    row = timeline([event], today=date(2026, 5, 1)).row(0, named=True)
    assert (row["verification"], row["citation"], row["source_url"]) == ("reported", "CSMS #1", None)


def test_user_event_overrides_shipped(tmp_path: Path) -> None:
    mine = tmp_path / "events.yaml"
    mine.write_text(
        "events:\n"
        "  - id: pcmdp-window-end\n    date: 2026-09-11\n    kind: deadline\n"
        "    title: Window extended (our counsel's reading)\n"
        "    sources: [{url: 'https://example.com/memo', reliability: user}]\n",
        encoding="utf-8",
    )
    merged = {e.id: e for e in all_events([mine])}
    assert merged["pcmdp-window-end"].date == date(2026, 9, 11)
    assert merged["pcmdp-window-end"].origin == "user"
    assert len(merged) == len(shipped_events())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("events:\n  - id: a\n    title: t\n", "events[0] (id 'a').date: Field required"),
        (
            "events:\n  - {id: a, date: 2026-05-01, end_date: 2026-04-01, title: t}\n",
            "end_date 2026-04-01 is before",
        ),
        (
            "events:\n  - {id: a, date: 2026-05-01, title: t, sources: [{url: 'ftp://x', reliability: P}]}\n",
            "must start with http",
        ),
        (
            "events:\n  - {id: a, date: 2026-05-01, title: t}\n  - {id: a, date: 2026-05-02, title: u}\n",
            "repeated: a",
        ),
        ("- just a list\n", "mapping with an 'events' list"),
        (
            "events:\n  - {id: a, date: 2026-05-01, title: t, sources: [{reliability: P}]}\n",
            "a source needs a url or a citation",
        ),
        (
            "events:\n  - {id: a, date: 2026-05-01, title: t, verification: confirmed}\n",
            "events[0] (id 'a').verification: Input should be 'verified' or 'reported'",
        ),
    ],
)
def test_bad_events_files(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(
        EventsFileError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        load_events_file(path)
