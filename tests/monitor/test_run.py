"""Monitor runs end to end against the local Federal Register mirror, with faults: every document stored once,
none lost, one alert per (entry, document), and a run that dies part-way resumes where it stopped."""

from __future__ import annotations

from typing import Any

import pytest

from critmin.monitor.alerts import payloads
from critmin.monitor.runner import run_monitor
from critmin.monitor.store import MonitorStore
from critmin.monitor.watchlist import parse_watchlist

N_DOCS = 25
PER_PAGE = 4  # 25 documents -> 7 pages


def watchlist(**overrides: Any) -> Any:
    data = {
        "name": "test",
        "since": "2026-01-01",
        "public_inspection": False,
        "page_size": PER_PAGE,
        "entries": [
            {"id": "doe", "agencies": ["energy-department"], "hts": ["8505.11"], "minerals": ["gallium"]}
        ],
    }
    data.update(overrides)
    return parse_watchlist(data)


@pytest.fixture
def mirror(server: Any, kit: Any) -> Any:
    instance = kit.FederalRegisterMirror(kit.derived_documents(N_DOCS))
    instance.install(server)
    return instance


def counts(ws: Any) -> dict[str, int]:
    with ws.connect() as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM monitor_documents), (SELECT count(DISTINCT document_number) "
            "FROM monitor_documents), (SELECT count(*) FROM monitor_alerts), (SELECT count(DISTINCT "
            "document_number || entry_id) FROM monitor_alerts)"
        ).fetchone()
    return dict(zip(["documents", "distinct_documents", "alerts", "distinct_alerts"], row, strict=True))


def page_requests(server: Any) -> list[int]:
    return [int(r.param("page", "1")) for r in server.requests if r.path.startswith("/api/v1/documents")]


def test_faults_on_every_page_lose_nothing_and_duplicate_nothing(
    server: Any, mirror: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    mirror.page_faults = {
        2: [kit.Reply(500, b"error"), kit.Reply(503, b"busy")],
        3: [kit.Reply(429, b"", {"Retry-After": "5"})],
        4: [kit.Reply(200, b'{"count": 25, "results": [{"document_number": "2026-9')],  # truncated
        5: [kit.Reply(200, b"{}", delay=0.5)],  # slower than the 0.2 s timeout
    }
    client = kit.make_client(server, no_sleep, timeout=0.2)
    report = run_monitor(workspace, watchlist(), client=client)
    assert report.status == "complete", report.errors
    assert report.pages == 7 and report.documents_new == N_DOCS
    assert 5.0 in no_sleep.calls  # Retry-After honoured
    assert counts(workspace) == {
        "documents": 25,
        "distinct_documents": 25,
        "alerts": 25,
        "distinct_alerts": 25,
    }
    assert report.alerts_new == 25

    # A second run reads from the last publication date again; everything is already known.
    again = run_monitor(workspace, watchlist(), client=client)
    assert again.documents_new == 0 and again.alerts_new == 0
    assert counts(workspace) == {
        "documents": 25,
        "distinct_documents": 25,
        "alerts": 25,
        "distinct_alerts": 25,
    }
    second_pass = server.requests[-1]
    assert (
        second_pass.param("conditions[publication_date][gte]") == "2026-01-13"
    )  # (25-1)//3 days after Jan 5


def test_repeated_page_is_deduplicated_and_the_gap_is_read_next_run(
    server: Any, mirror: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    mirror.repeat[3] = 2  # page 3 answers with page 2's documents; page 3's real ones never arrive
    client = kit.make_client(server, no_sleep)
    first = run_monitor(workspace, watchlist(), client=client)
    assert counts(workspace)["documents"] == N_DOCS - PER_PAGE
    assert any("announced 25 document(s) but 21 distinct" in w for w in first.warnings)
    cursor = MonitorStore(workspace).cursor(first.queries[0].key)
    assert cursor is not None and cursor.high_water is None  # the incomplete pass did not move high water

    mirror.repeat.clear()
    second = run_monitor(workspace, watchlist(), client=client)
    assert second.documents_new == PER_PAGE and second.warnings == []
    assert counts(workspace) == {
        "documents": 25,
        "distinct_documents": 25,
        "alerts": 25,
        "distinct_alerts": 25,
    }


def test_next_page_loop_stops_and_recovers(
    server: Any, mirror: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    mirror.loop_back[3] = 1  # page 3's next_page_url points back at page 1
    client = kit.make_client(server, no_sleep)
    first = run_monitor(workspace, watchlist(), client=client)
    assert page_requests(server) == [1, 2, 3]
    assert any("already read" in w for w in first.warnings)
    assert counts(workspace)["documents"] == 3 * PER_PAGE

    mirror.loop_back.clear()
    run_monitor(workspace, watchlist(), client=client)
    assert counts(workspace) == {
        "documents": 25,
        "distinct_documents": 25,
        "alerts": 25,
        "distinct_alerts": 25,
    }


def test_run_dying_mid_pass_resumes_at_the_cursor(
    server: Any, mirror: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    mirror.page_faults = {4: [kit.Reply(500, b"down")] * 4}  # more failures than attempts: page 4 is lost
    client = kit.make_client(server, no_sleep, attempts=4)
    first = run_monitor(workspace, watchlist(), client=client)
    assert first.status == "partial" and "HTTP 500" in first.errors[0]
    assert counts(workspace)["documents"] == 3 * PER_PAGE
    assert counts(workspace)["alerts"] == 3 * PER_PAGE  # alerts for what was stored
    cursor = MonitorStore(workspace).cursor(first.queries[0].key)
    assert cursor is not None and cursor.next_page == 4 and cursor.next_url is not None

    server.requests.clear()
    second = run_monitor(workspace, watchlist(), client=client)
    assert second.status == "complete" and second.queries[0].resumed
    assert page_requests(server) == [4, 5, 6, 7]  # nothing before page 4 is read again
    assert counts(workspace) == {
        "documents": 25,
        "distinct_documents": 25,
        "alerts": 25,
        "distinct_alerts": 25,
    }
    with workspace.connect() as con:
        statuses = con.execute("SELECT status FROM monitor_runs ORDER BY started_at").fetchall()
    assert [s[0] for s in statuses] == ["partial", "complete"]


def test_exception_inside_a_page_write_leaves_no_trace(
    server: Any, mirror: Any, workspace: Any, no_sleep: Any, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kill the run in the middle of storing page 3 (after its documents are inserted, before the cursor
    moves): the transaction rolls back, so the rerun stores page 3 exactly once."""
    import critmin.monitor.store as store_module

    real = store_module._advance_cursor
    calls = {"n": 0}

    def crash_on_third(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated crash")
        real(*args, **kwargs)

    monkeypatch.setattr(store_module, "_advance_cursor", crash_on_third)
    client = kit.make_client(server, no_sleep)
    with pytest.raises(KeyboardInterrupt):
        run_monitor(workspace, watchlist(), client=client)
    assert counts(workspace)["documents"] == 2 * PER_PAGE  # page 3's documents were rolled back
    with workspace.connect() as con:
        assert con.execute("SELECT status FROM monitor_runs").fetchone()[0] == "failed"

    monkeypatch.setattr(store_module, "_advance_cursor", real)
    server.requests.clear()
    run_monitor(workspace, watchlist(), client=client)
    assert page_requests(server)[0] == 3
    assert counts(workspace) == {
        "documents": 25,
        "distinct_documents": 25,
        "alerts": 25,
        "distinct_alerts": 25,
    }


def test_public_inspection_document_later_published_alerts_once(
    server: Any, mirror: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    import json

    pi = json.loads((kit.DATA / "public-inspection-handwritten.json").read_text())["results"]
    mirror.documents = []
    mirror.pi_documents = pi[:1]
    wl = watchlist(
        public_inspection=True, entries=[{"id": "magnets", "terms": ["magnets"], "hts": ["8505.11"]}]
    )
    client = kit.make_client(server, no_sleep)
    run_monitor(workspace, wl, client=client)
    store = MonitorStore(workspace)
    assert store.documents().get_column("endpoint").to_list() == ["public_inspection"]

    published = dict(
        pi[0], type="Presidential Document", citation="91 FR 99999", abstract="Published version."
    )
    mirror.documents = [published]
    mirror.pi_documents = []
    report = run_monitor(workspace, wl, client=client)
    docs = store.documents()
    assert docs.height == 1
    assert (
        docs.row(0, named=True)["endpoint"] == "documents"
        and docs.row(0, named=True)["citation"] == "91 FR 99999"
    )
    assert report.alerts_new == 0 and store.alerts().height == 1


def test_full_text_is_fetched_once_and_matched(server: Any, workspace: Any, no_sleep: Any, kit: Any) -> None:
    docs = kit.derived_documents(2)
    docs[0]["title"] = "Notice of inquiry"  # names nothing; its body names a code and a mineral
    docs[0]["raw_text_url"] = (
        "https://www.federalregister.gov/documents/full_text/text/2026/01/05/2026-90000.txt"
    )
    kit.FederalRegisterMirror(docs).install(server)
    text_path = "/documents/full_text/text/2026/01/05/2026-90000.txt"
    server.route(
        text_path,
        kit.Reply(
            200,
            b"... imports of unwrought gallium of subheading 8112.92.10 ...",
            {"Content-Type": "text/plain"},
        ),
    )
    wl = watchlist(full_text=True)
    client = kit.make_client(server, no_sleep)
    run_monitor(workspace, wl, client=client, ledger=kit.small_ledger(), classify=False)
    run_monitor(workspace, wl, client=client, ledger=kit.small_ledger(), classify=False)
    assert len(server.hits(text_path)) == 1  # stored with the document, not fetched again
    alert = next(
        a
        for a in payloads(MonitorStore(workspace).alerts())
        if a["document"]["document_number"] == "2026-90000"
    )
    assert alert["mentions"]["hts"] == ["81129210"] and alert["mentions"]["minerals"] == ["gallium"]
    assert [line["line_id"] for line in alert["exposure"]["top_lines"]] == ["L3"]
