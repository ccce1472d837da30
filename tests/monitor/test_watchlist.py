"""Watchlist files: what they accept, the queries they produce, and errors that name the place and the fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from critmin.monitor.errors import WatchlistError
from critmin.monitor.fedreg import Endpoint
from critmin.monitor.watchlist import load_watchlist, parse_watchlist

FULL = """\
name: Magnets and rare earths
since: 2025-04-01
page_size: 50
entries:
  - id: pcmdp-232
    terms: ["processed critical minerals", "rare earth magnets"]
    agencies: [industry-and-security-bureau, executive-office-of-the-president]
    document_types: [presdocu, RULE]
    hts: ["8505.11", "2805.30.00", "8112.92.10.00", "2846"]
    minerals: [Neodymium, rare earths, platinum-group-metals]
    countries: [China, JPN, "People's Republic of China"]
    measure: s232_tariff_non_partners
documents:
  "2026-01234": s301_2026_graphite_magnets_batteries
deliver:
  atom: feeds/alerts.atom
  webhook: {url: "https://hooks.example.com/x", headers: {Authorization: "env:HOOK_TOKEN"}}
  email: {host: smtp.example.com, port: 587, starttls: true, sender: a@example.com, to: [b@example.com],
          username_env: SMTP_USER, password_env: SMTP_PASSWORD}
"""


def test_full_watchlist(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text(FULL, encoding="utf-8")
    watch = load_watchlist(path)
    entry = watch.entries[0]
    assert entry.hts == ["850511", "28053000", "8112921000", "2846"]
    assert entry.minerals == ["neodymium", "rare_earths", "platinum_group_metals"]
    assert entry.countries == ["CHN", "JPN", "CHN"]
    assert [str(t) for t in entry.document_types] == ["PRESDOCU", "RULE"]
    assert watch.since == date(2025, 4, 1)
    assert watch.deliver.atom == tmp_path / "feeds" / "alerts.atom"  # relative to the watchlist file
    queries = watch.queries()
    # two terms x (documents + public inspection)
    assert [(q.term, q.endpoint) for q in queries] == [
        ("processed critical minerals", Endpoint.documents),
        ("rare earth magnets", Endpoint.documents),
        ("processed critical minerals", Endpoint.public_inspection),
        ("rare earth magnets", Endpoint.public_inspection),
    ]
    assert len({q.key for q in queries}) == 4
    params = queries[0].document_query(date(2025, 4, 1)).params()
    assert ("per_page", "50") in params and ("conditions[type][]", "PRESDOCU") in params


def test_query_key_does_not_move_with_the_start_date() -> None:
    a = parse_watchlist({"since": "2025-01-01", "entries": [{"id": "x", "terms": ["gallium"]}]}).queries()[0]
    b = parse_watchlist({"since": "2026-06-01", "entries": [{"id": "x", "terms": ["gallium"]}]}).queries()[0]
    assert a.key == b.key


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "entries: field 'entries' is required"),
        ({"entries": []}, "entries: List should have at least 1 item"),
        ({"entries": [{"id": "a"}]}, "needs at least one of terms, agencies or document_types"),
        ({"entries": [{"id": "a", "terms": ["x"], "require_mention": True}]}, "require_mention needs hts"),
        ({"entries": [{"id": "a", "terms": ["x"], "countries": ["Atlantis"]}]}, "Atlantis"),
        ({"entries": [{"id": "a", "agencies": ["Bureau of Industry"]}]}, "not slugs: Bureau of Industry"),
        ({"entries": [{"id": "a", "terms": ["x"]}, {"id": "a", "terms": ["y"]}]}, "repeated: a"),
        ({"entries": [{"id": "a", "terms": ["x"]}], "page_size": 5000}, "page_size"),
        (
            {"entries": [{"id": "a", "terms": ["x"]}], "deliver": {"webhook": {"url": "hooks.example.com"}}},
            "must start with http",
        ),
        (
            {
                "entries": [{"id": "a", "terms": ["x"]}],
                "deliver": {"email": {"host": "h", "sender": "s@x", "to": ["nobody"]}},
            },
            "not e-mail addresses: nobody",
        ),
    ],
)
def test_invalid_watchlists(data: dict[str, object], message: str) -> None:
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(data, source="w.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("w.yaml")


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("entries:\n  - id: a\n    terms: [x\n", encoding="utf-8")
    with pytest.raises(WatchlistError, match=r"w\.yaml:\d+: is not valid YAML"):
        load_watchlist(path)


def test_missing_file() -> None:
    with pytest.raises(WatchlistError, match="Cannot read watchlist"):
        load_watchlist(Path("/nonexistent/watch.yaml"))
