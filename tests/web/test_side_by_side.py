"""`critmin serve` and other critmin commands on one workspace at the same time, as separate processes.

The dashboard opens the workspace per operation and closes it, so a `critmin ledger import` run beside it
succeeds, and the dashboard shows the new import on its next request. When another process really holds
the file, a request that needs it waits briefly and then answers 503 naming that process, while pages
already computed keep being served.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from critmin.ledger.samples import sample_path
from critmin.workspace import ENV_VAR
from critmin.workspace.store import LOCK_WAIT_ENV

pytestmark = pytest.mark.slow

HOLDER = Path(__file__).resolve().parents[1] / "workspace" / "writer_process.py"
AUTH = {"Authorization": "Bearer local"}  # no token configured: any bearer marks an API client
STARTUP = 60.0


@dataclass
class Served:
    url: str
    workspace: Path
    proc: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "CRITMIN_TOKEN")}
    return {**env, **extra}


def critmin(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The critmin command in a process of its own, as a user would run it in another terminal."""
    return subprocess.run(
        [sys.executable, "-m", "critmin", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(),
        check=False,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`critmin serve` (uvicorn) in a subprocess on a free port; a short lock wait keeps the 503 quick."""
    folder = tmp_path_factory.mktemp("side-by-side")
    workspace = folder / "ws.duckdb"
    log = folder / "server.log"
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "critmin", "serve", "--port", str(port), "--workspace", str(workspace)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment(**{LOCK_WAIT_ENV: "1"}),
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"critmin serve did not start:\n{log.read_text()}")
        time.sleep(0.1)
    try:
        yield Served(url, workspace, proc, log)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cli_import_and_reads_while_the_dashboard_runs(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=120) as http:
        assert http.get("/ledger").status_code == 200  # the dashboard has used the workspace
        first = http.post("/api/v1/ledgers/samples/defense_prime", headers=AUTH)
        assert first.status_code == 200, first.text
        assert [r["import_id"] for r in http.get("/api/v1/ledgers").json()] == [1]

        imported = critmin(
            "ledger", "import", sample_path("battery_maker_ledger.csv"), "--workspace", served.workspace,
            "--format", "json",
        )  # fmt: skip
        assert imported.returncode == 0, imported.stderr
        assert json.loads(imported.stdout)["status"] == "imported"

        # the dashboard notices the other process's import on its next request
        ledgers = http.get("/api/v1/ledgers").json()
        assert [r["source_file"] for r in ledgers] == ["defense_prime_ledger.csv", "battery_maker_ledger.csv"]
        assert "battery_maker_ledger.csv" in http.get("/ledger").text

        info = critmin("workspace", "info", "--workspace", served.workspace, "--format", "json")
        assert info.returncode == 0, info.stderr
        tables = {t["table"]: t["rows"] for t in json.loads(info.stdout)["tables"]}
        assert tables["ledger_imports"] == 2

        # and the other way round: a deletion through the dashboard is what the command line sees next
        assert http.delete("/api/v1/ledgers/1", headers=AUTH).status_code == 200
        shown = critmin("ledger", "show", "--workspace", served.workspace, "--format", "json", "--limit", "1")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)[0]["source_file"] == "battery_maker_ledger.csv"


def test_a_process_holding_the_workspace_is_named_and_cached_pages_still_work(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=120) as http:
        assert http.get("/api/v1/ledgers").status_code == 200  # computed now, kept in memory
        holder = subprocess.Popen(
            [sys.executable, str(HOLDER), "hold", str(served.workspace)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
            busy = http.post("/api/v1/ledgers/samples/magnet_maker", headers=AUTH)
            assert busy.status_code == 503, busy.text
            assert busy.headers["retry-after"] == "5"
            detail = busy.json()["detail"]
            assert f"in use by another critmin process (PID {holder.pid}: " in detail
            assert "writer_process.py hold" in detail
            assert http.get("/api/v1/ledgers").status_code == 200  # served from memory meanwhile
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(timeout=30)
        done = http.post("/api/v1/ledgers/samples/magnet_maker", headers=AUTH)
        assert done.status_code == 200, done.text
    assert served.proc.poll() is None, served.log.read_text()
