"""The monitor commands as a user runs them, including a `critmin monitor run` process killed mid-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.workspace import Workspace

runner = CliRunner()

WATCH = """\
name: cli test
since: 2026-01-01
public_inspection: false
page_size: 4
entries:
  - id: doe
    title: Energy Department documents
    agencies: [energy-department]
    hts: ["8505.11"]
    minerals: [gallium]
"""


@pytest.fixture
def watch_file(tmp_path: Path) -> Path:
    path = tmp_path / "watch.yaml"
    path.write_text(WATCH, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRITMIN_WORKSPACE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env)


def test_watchlist_validate_ok_and_bad(watch_file: Path, tmp_path: Path) -> None:
    ok = invoke("monitor", "watchlist", "validate", str(watch_file), "--format", "json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["queries"] == [
        {"entry": "doe", "endpoint": "documents", "query": "doe [documents]: agencies energy-department"}
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "entries:\n  - id: magnets\n    terms: [magnets]\n    hts: ['8505.1']\n    minerals: [unobtainium]\n"
        "    document_types: [RULES]\n    colour: red\n  - id: BAD ID\n    hts: ['8505.11']\n",
        encoding="utf-8",
    )
    result = invoke("monitor", "watchlist", "validate", str(bad))
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "problem(s) in the watchlist" in message
    assert "entries[0] (id 'magnets').hts: '8505.1' is not an HTS code or prefix" in message
    assert "unknown mineral id(s) unobtainium" in message
    assert "'RULES' is not one of RULE, PRORULE, NOTICE, PRESDOCU" in message
    assert "unknown field 'colour'" in message
    assert "entries[1] (id 'BAD ID').id" in message


def test_watchlist_with_unknown_measure(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "entries:\n  - id: a\n    terms: [x]\n    measure: s232_tariff_non_partner\n", encoding="utf-8"
    )
    result = invoke("monitor", "watchlist", "validate", str(path))
    assert (
        result.exit_code == 2
        and "unknown measure or scenario id(s): s232_tariff_non_partner" in result.output
    )


def test_run_digest_documents_feed(server: Any, kit: Any, watch_file: Path, tmp_path: Path) -> None:
    kit.FederalRegisterMirror(kit.derived_documents(9)).install(server)
    ws = tmp_path / "ws.duckdb"
    env = {"CRITMIN_FEDREG_URL": f"{server.url}/api/v1"}
    result = invoke(
        "monitor",
        "run",
        "--watchlist",
        str(watch_file),
        "--workspace",
        str(ws),
        "--no-duty",
        "--format",
        "json",
        env=env,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "complete" and report["alerts_new"] == 9
    assert report["queries"][0]["pages"] == 3 and report["queries"][0]["new_documents"] == 9

    docs = invoke("monitor", "documents", "--workspace", str(ws), "--format", "json")
    assert [d["document_number"] for d in json.loads(docs.stdout)][:2] == ["2026-90006", "2026-90007"]

    digest = invoke("monitor", "digest", "--workspace", str(ws), "--format", "json", "--since", "2026-01-01")
    assert json.loads(digest.stdout)["count"] == 9
    html = tmp_path / "digest.html"
    assert (
        invoke("monitor", "digest", "--workspace", str(ws), "--format", "html", "--out", str(html)).exit_code
        == 0
    )
    assert html.read_text().count("<article") == 9
    atom = tmp_path / "alerts.atom"
    assert invoke("monitor", "feed", "--workspace", str(ws), "--out", str(atom)).exit_code == 0
    assert atom.read_text().count("<entry>") == 9

    runs = invoke("monitor", "runs", "--workspace", str(ws), "--format", "json")
    assert json.loads(runs.stdout)["cursors"][0]["passes_completed"] == 1


def test_run_reports_failure_with_exit_code_1(
    server: Any, kit: Any, watch_file: Path, tmp_path: Path
) -> None:
    mirror = kit.FederalRegisterMirror(kit.derived_documents(9))
    mirror.page_faults = {2: [kit.Reply(404, b'{"errors": "gone"}')]}
    mirror.install(server)
    result = invoke(
        "monitor",
        "run",
        "--watchlist",
        str(watch_file),
        "--workspace",
        str(tmp_path / "w.duckdb"),
        "--no-duty",
        env={"CRITMIN_FEDREG_URL": f"{server.url}/api/v1"},
    )
    assert result.exit_code == 1
    assert "HTTP 404" in " ".join(result.output.split())


def test_timeline_countdowns() -> None:
    result = invoke("timeline", "--upcoming", "--today", "2026-06-01", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["pcmdp-window-end"]["countdown"] == "in 42 days"  # 2026-06-01 -> 2026-07-13
    assert rows["pcmdp-negotiation-window"]["countdown"] == "ongoing, 42 days left"
    assert rows["section-122-window"]["countdown"] == "ongoing, 52 days left"  # to 2026-07-23
    assert rows["dfars-7052-widening"]["days"] == 214  # 2026-06-01 -> 2027-01-01
    assert "proclamation-11001" not in rows  # past


def test_timeline_user_events(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "events:\n  - id: supplier-contract-renewal\n    date: 2026-09-30\n    kind: deadline\n"
        "    title: Magnet supply contract renewal\n",
        encoding="utf-8",
    )
    result = invoke(
        "timeline", "--today", "2026-09-01", "--events", str(mine), "--format", "json", "--upcoming"
    )
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["supplier-contract-renewal"]["countdown"] == "in 29 days"
    assert rows["supplier-contract-renewal"]["origin"] == "user"
    bad = tmp_path / "bad.yaml"
    bad.write_text("events:\n  - id: x\n    date: 2026-13-01\n    title: Bad date\n", encoding="utf-8")
    failed = invoke("timeline", "--events", str(bad))
    assert failed.exit_code == 2 and "events[0] (id 'x').date" in " ".join(failed.output.split())


def _wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the monitor process")
        time.sleep(0.05)


def test_killed_process_resumes_without_duplicates(
    server: Any, kit: Any, watch_file: Path, tmp_path: Path
) -> None:
    """A real `critmin monitor run` process is killed (SIGKILL) while waiting for page 3; the next run
    resumes at page 3 and ends with every document and alert exactly once, and the dead run is marked
    interrupted."""
    mirror = kit.FederalRegisterMirror(kit.derived_documents(14))  # 4 pages of 4
    mirror.page_faults = {3: [kit.Reply(200, b"{}", delay=15.0)]}  # hangs until the process is gone
    mirror.install(server)
    ws = tmp_path / "ws.duckdb"
    env = dict(os.environ, CRITMIN_FEDREG_URL=f"{server.url}/api/v1", COLUMNS="200")
    env.pop("CRITMIN_WORKSPACE", None)
    cmd = [
        sys.executable,
        "-m",
        "critmin",
        "monitor",
        "run",
        "--watchlist",
        str(watch_file),
        "--workspace",
        str(ws),
        "--no-duty",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: any(r.param("page") == "3" for r in server.requests))
        # while the run waits on the network it has let go of the workspace: another process reads it
        with Workspace.open(ws, read_only=True, wait=5) as workspace, workspace.connect() as con:
            assert con.execute("SELECT count(*) FROM monitor_documents").fetchone()[0] == 8
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode != 0

    with Workspace.open(ws) as workspace, workspace.connect() as con:
        assert con.execute("SELECT count(*) FROM monitor_documents").fetchone()[0] == 8  # pages 1-2 committed
        assert con.execute("SELECT next_page FROM monitor_cursors").fetchone()[0] == 3
        assert (
            con.execute("SELECT status FROM monitor_runs").fetchone()[0] == "running"
        )  # died, never finished

    server.requests.clear()
    again = invoke(*cmd[3:], env={"CRITMIN_FEDREG_URL": f"{server.url}/api/v1"})  # the rerun, in-process
    assert again.exit_code == 0, again.output
    assert [r.param("page") for r in server.requests] == ["3", "4"]
    with Workspace.open(ws) as workspace, workspace.connect() as con:
        documents, distinct = con.execute(
            "SELECT count(*), count(DISTINCT document_number) FROM monitor_documents"
        ).fetchone()
        alerts = con.execute("SELECT count(*), count(DISTINCT alert_id) FROM monitor_alerts").fetchone()
        statuses = [
            row[0] for row in con.execute("SELECT status FROM monitor_runs ORDER BY started_at").fetchall()
        ]
    assert (documents, distinct) == (14, 14)
    assert alerts == (14, 14)
    assert statuses == ["interrupted", "complete"]


def test_run_with_a_ledger_file_prices_the_alert(server: Any, kit: Any, tmp_path: Path) -> None:
    """`--ledger` reads a ledger file through the ledger ingester (ISO2 codes, names and dotted HTS codes are
    normalised) and the duty engine prices the scenario the document is tied to."""
    kit.FederalRegisterMirror(kit.derived_documents(1)).install(server)
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "line_id,entry_date,hts,country_origin,customs_value_usd,description,supplier\n"
        "L1,2026-03-02,8505.11.0070,CN,100000,NdFeB magnets,Ningbo Magnet Co\n"
        "L2,2026-04-10,8505.11.0070,Japan,40000,NdFeB magnets,Shin Magnetics\n"
        "L3,2026-05-15,8112.92.1000,CHN,25000,Unwrought gallium,Yunnan Ga\n",
        encoding="utf-8",
    )
    watch = tmp_path / "watch.yaml"
    watch.write_text(WATCH + "documents:\n  '2026-90000': s232_tariff_non_partners\n", encoding="utf-8")
    ws = str(tmp_path / "ws.duckdb")
    result = invoke(
        "monitor",
        "run",
        "--watchlist",
        str(watch),
        "--workspace",
        ws,
        "--ledger",
        str(ledger),
        "--today",
        "2026-11-28",
        env={"CRITMIN_FEDREG_URL": f"{server.url}/api/v1"},
    )
    assert result.exit_code == 0, result.output
    digest = json.loads(invoke("monitor", "digest", "--workspace", ws, "--format", "json").stdout)
    impact = digest["alerts"][0]["impact"]
    # China is outside the partner groups: L1 +25% x $100,000 = $25,000 (no quantity is given, so the magnets'
    # content value falls back to the scenario's content_fallback_share of 1.0 x customs value) and L3
    # (unwrought gallium, a processed mineral) +25% x $25,000 = $6,250.
    assert impact["change_usd"] == 31_250.0 and impact["lines_affected"] == 2
    md = invoke("monitor", "digest", "--workspace", ws).stdout
    assert "(+$31,250) on 2 line(s)" in md
