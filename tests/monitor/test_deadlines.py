"""Protest deadlines of ACE exports' entries as monitor alerts in dollars and as timeline events, offline.

The export is written out here, with two liquidated entries that paid IEEPA duty under 9903.01.24:

* ``ZZ1-0000001-1`` liquidated 2026-08-31: deadline 2027-02-27 (30 days left in September, then
  31 + 30 + 31 + 31 = 153 by 31 January, 27 more in February: day 180 is 27 February 2027);
* ``ZZ1-0000002-2`` liquidated 2026-10-15: deadline 2027-04-13 (16 + 30 + 31 + 31 + 28 + 31 = 167 by
  31 March, 13 more in April).

The arithmetic is critmin.reconcile's (liquidation date + 180 days, 19 U.S.C. 1514(c)(3)); these tests
only check that the monitor and the timeline carry it through, per entry, with the dollars.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.monitor.deadlines import deadline_alerts, deadline_events, protest_deadlines
from critmin.monitor.digest import DigestFormat, render
from critmin.monitor.errors import WatchlistError
from critmin.monitor.fedreg import FederalRegisterClient
from critmin.monitor.http import JsonClient, RetryPolicy
from critmin.monitor.runner import run_monitor
from critmin.monitor.store import MonitorStore
from critmin.monitor.timeline import all_events, timeline
from critmin.monitor.watchlist import load_watchlist, parse_watchlist

HEADER = (
    "Entry Summary Number,Entry Date,Mode of Transportation Code,Liquidation Date,Liquidation Status,"
    "Entry Summary Line Number,Country of Origin Code,Line SPI Code,Tariff Ordinal Number,HTS Number - Full,"
    "Line Tariff Goods Value Amount,Line Tariff Duty Amount,Line MPF Amount,Line HMF Amount"
)
ROWS = [
    # entry A: two lines, 9903.01.24 paid on each (20% fentanyl duty on China): 2,000.00 + 500.00
    'ZZ1-0000001-1,06/10/2025,11,08/31/2026,Liquidated,1,CN,,1,99030124,$0.00,"$2,000.00",,',
    'ZZ1-0000001-1,06/10/2025,11,08/31/2026,Liquidated,1,CN,,2,8505110070,"$10,000.00",$210.00,$34.64,$12.50',
    "ZZ1-0000001-1,06/10/2025,11,08/31/2026,Liquidated,2,CN,,1,99030124,$0.00,$500.00,,",
    'ZZ1-0000001-1,06/10/2025,11,08/31/2026,Liquidated,2,CN,,2,8505110070,"$2,500.00",$52.50,$8.66,$3.13',
    # entry B: one line, 1,000.00
    'ZZ1-0000002-2,07/15/2025,11,10/15/2026,Liquidated,1,CN,,1,99030124,$0.00,"$1,000.00",,',
    'ZZ1-0000002-2,07/15/2025,11,10/15/2026,Liquidated,1,CN,,2,8505110070,"$5,000.00",$105.00,$32.71,$6.25',
]
A, B = "ZZ100000011", "ZZ100000022"
TITLE_A = f"Protest window for entry {A} closes on 2027-02-27: $2,500.00"
TITLE_B = f"Protest window for entry {B} closes on 2027-04-13: $1,000.00"
NOW = datetime(2027, 2, 1, 9, 0)
runner = CliRunner()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "ace" / "es003.csv"
    path.parent.mkdir()
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def offline_client(no_sleep: Any) -> FederalRegisterClient:
    """A client of a Federal Register that cannot be reached (nothing listens on port 9), never waiting."""
    http = JsonClient(timeout=0.5, retry=RetryPolicy(attempts=1, base_delay=0.0), sleep=no_sleep)
    return FederalRegisterClient("http://127.0.0.1:9/api/v1", http=http)


def test_deadlines_per_entry_with_the_dollars(export: Path) -> None:
    found = protest_deadlines([export], today=date(2027, 2, 1))
    rows = {r["entry_number"]: r for r in found.to_dicts()}
    assert rows[A] == {
        "file": str(export),
        "entry_number": A,
        "liquidation_date": date(2026, 8, 31),
        "protest_deadline": date(2027, 2, 27),
        "days_left": 26,
        "status": "protest_window",
        "amount": 2500.0,
        "lines": 2,
        "headings": "9903.01.24",
        "hts": "8505110070",
    }
    assert (rows[B]["protest_deadline"], rows[B]["days_left"], rows[B]["amount"]) == (
        date(2027, 4, 13),
        71,
        1000.0,
    )
    assert found["entry_number"].to_list() == [A, B]  # soonest first


def test_one_alert_per_entry_closing_within_the_days(export: Path) -> None:
    found = protest_deadlines([export], today=date(2027, 2, 1))
    due = deadline_alerts(found, within_days=30, today=date(2027, 2, 1), run_id="r1", now=NOW)
    assert due["title"].to_list() == [TITLE_A]  # B closes in 71 days
    assert due["alert_id"].to_list() == [f"protest-window/{A}/2027-02-27"]
    payload = json.loads(due["payload"][0])
    assert payload["deadline"]["amount_usd"] == 2500.0
    assert payload["deadline"]["protest_deadline"] == "2027-02-27"
    assert payload["deadline"]["days_left"] == 26
    assert payload["deadline"]["summary"].startswith(
        f"$2,500.00 of IEEPA duty paid on entry {A} (2 line(s), 9903.01.24) is refundable through CAPE only "
        "until 2027-02-27 (in 26 days, as of 2027-02-01): liquidated 2026-08-31, plus 180 days"
    )
    wider = deadline_alerts(found, within_days=71, today=date(2027, 2, 1), run_id="r1", now=NOW)
    assert wider["title"].to_list() == [TITLE_A, TITLE_B]
    # on the deadline itself, still due ("today"); the day after, finally liquidated: no alert
    on_the_day = protest_deadlines([export], today=date(2027, 2, 27))
    last = deadline_alerts(on_the_day, within_days=0, today=date(2027, 2, 27), run_id="r", now=NOW)
    assert "(today, as of 2027-02-27)" in json.loads(last["payload"][0])["deadline"]["summary"]
    after = protest_deadlines([export], today=date(2027, 2, 28))
    assert after["entry_number"].to_list() == [B]


def test_the_digest_says_it_in_dollars(export: Path) -> None:
    found = protest_deadlines([export], today=date(2027, 2, 1))
    due = deadline_alerts(found, within_days=30, today=date(2027, 2, 1), run_id="r1", now=NOW)
    alerts = [json.loads(p) for p in due["payload"]]
    markdown = render(alerts, DigestFormat.md, since=None, generated=NOW)
    assert f"## {TITLE_A}" in markdown
    assert "is refundable through CAPE only until 2027-02-27" in markdown
    html = render(alerts, DigestFormat.html, since=None, generated=NOW)
    assert "$2,500.00 of IEEPA duty paid on entry" in html


def test_a_run_raises_them_offline_and_once(
    export: Path, workspace: Any, no_sleep: Any, tmp_path: Path
) -> None:
    watch = tmp_path / "watch.yaml"
    watch.write_text(
        "name: deadlines\nentries:\n  - id: doe\n    agencies: [energy-department]\n"
        "ace_exports: [ace/es003.csv]\nprotest_alert_days: 30\n",
        encoding="utf-8",
    )
    spec = load_watchlist(watch)
    assert spec.ace_exports == [export]  # relative to the watchlist's folder
    client = offline_client(no_sleep)
    report = run_monitor(workspace, spec, client=client, today=date(2027, 2, 1))
    assert report.status == "partial" and report.errors  # the Federal Register was not reached ...
    assert report.deadline_alerts_new == 1  # ... and the deadline was raised anyway
    stored = MonitorStore(workspace).alerts()
    assert stored["title"].to_list() == [TITLE_A]
    again = run_monitor(workspace, spec, client=client, today=date(2027, 2, 2))
    assert again.deadline_alerts_new == 0 and MonitorStore(workspace).alerts().height == 1
    wider = run_monitor(workspace, spec, client=client, today=date(2027, 2, 2), protest_days=80)
    assert wider.deadline_alerts_new == 1
    assert sorted(MonitorStore(workspace).alerts()["title"].to_list()) == [TITLE_A, TITLE_B]


def test_entry_files_given_to_the_run(export: Path, workspace: Any, no_sleep: Any) -> None:
    spec = parse_watchlist({"entries": [{"id": "doe", "agencies": ["energy-department"]}]})
    report = run_monitor(
        workspace, spec, client=offline_client(no_sleep), entry_files=[export], today=date(2027, 2, 1)
    )
    assert report.deadline_alerts_new == 1


def test_the_watchlist_checks_its_exports(tmp_path: Path) -> None:
    watch = tmp_path / "watch.yaml"
    watch.write_text(
        "entries:\n  - id: a\n    terms: [x]\nace_exports: [missing.csv, also/missing.xlsx]\n",
        encoding="utf-8",
    )
    with pytest.raises(WatchlistError) as missing:
        load_watchlist(watch)
    text = str(missing.value)
    assert "ace_exports[0]: no file" in text and "missing.csv" in text
    assert "ace_exports[1]: no file" in text and "relative to the watchlist's folder" in text
    with pytest.raises(WatchlistError, match=r"not an ACE export: notes\.pdf"):
        parse_watchlist({"entries": [{"id": "a", "terms": ["x"]}], "ace_exports": ["notes.pdf"]})
    with pytest.raises(WatchlistError, match="protest_alert_days"):
        parse_watchlist({"entries": [{"id": "a", "terms": ["x"]}], "protest_alert_days": 365})


def test_the_timeline_shows_every_deadline(export: Path) -> None:
    events = deadline_events(protest_deadlines([export], today=date(2027, 2, 1), statuses=None))
    frame = timeline([*all_events(), *events], today=date(2027, 2, 1), upcoming=True)
    rows = {r["id"]: r for r in frame.to_dicts()}
    mine = rows[f"protest-{A}-2027-02-27"]
    assert (mine["title"], mine["countdown"], mine["kind"], mine["date_basis"]) == (
        TITLE_A,
        "in 26 days",
        "deadline",
        "computed",
    )
    assert mine["citation"] == f"19 U.S.C. 1514(c)(3); es003.csv, entry {A}: liquidated 2026-08-31"
    assert rows[f"protest-{B}-2027-04-13"]["countdown"] == "in 71 days"


def test_timeline_entries_option(export: Path) -> None:
    result = runner.invoke(
        app,
        ["timeline", "--entries", str(export), "--today", "2027-03-01", "--format", "json"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    passed = rows[f"protest-{A}-2027-02-27"]
    assert passed["countdown"] == "2 days ago"
    assert (
        passed["title"] == f"Protest window for entry {A} closed on 2027-02-27: $2,500.00 (refund contested)"
    )
    assert rows[f"protest-{B}-2027-04-13"]["countdown"] == "in 43 days"
    upcoming = runner.invoke(
        app, ["timeline", "--entries", str(export), "--today", "2027-03-01", "--upcoming", "--format", "json"]
    )
    ids = [r["id"] for r in json.loads(upcoming.stdout)]
    assert f"protest-{B}-2027-04-13" in ids and f"protest-{A}-2027-02-27" not in ids
    bad = runner.invoke(app, ["timeline", "--entries", str(export.with_name("nope.csv"))])
    assert bad.exit_code == 2


def test_monitor_run_entries_option(
    export: Path, server: Any, kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`critmin monitor run --entries FILE --protest-days N` against a local, empty Federal Register."""
    monkeypatch.delenv("CRITMIN_WORKSPACE", raising=False)
    kit.FederalRegisterMirror([]).install(server)
    watch = tmp_path / "w.yaml"
    watch.write_text("name: t\npublic_inspection: false\nentries:\n  - id: a\n    terms: [magnets]\n")
    ws = tmp_path / "ws.duckdb"
    args = ["monitor", "run", "--watchlist", str(watch), "--workspace", str(ws), "--entries", str(export)]
    env = {"CRITMIN_FEDREG_URL": f"{server.url}/api/v1", "COLUMNS": "200"}
    first = runner.invoke(app, [*args, "--today", "2027-02-01", "--format", "json"], env=env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["deadline_alerts_new"] == 1
    table = runner.invoke(app, [*args, "--today", "2027-02-01", "--protest-days", "71"], env=env)
    assert table.exit_code == 0, table.output
    assert "1 new protest-deadline alert(s)" in " ".join(table.output.split())
    digest = runner.invoke(app, ["monitor", "digest", "--workspace", str(ws), "--format", "json"])
    titles = [a["document"]["title"] for a in json.loads(digest.stdout)["alerts"]]
    assert titles == [TITLE_A, TITLE_B]
