"""Benchmark: dashboard pages and JSON API under concurrent clients, on a generated import ledger.

A real server (``critmin serve`` in its own process, default settings: 2,000 Monte Carlo draws, the shipped
sourcing problem and projects) gets a generated ledger through the upload endpoint. The first view of the
ledger runs the whole analysis (reported as "cold"); after that every view is served from the cache, and
each page and API endpoint is requested by ``clients`` concurrent clients. The baseline, measured in the
same run under the same load, is ``/api/v1/health`` (routing, middleware and JSON, no work), so the ratio
column is what a cached view costs over an empty request.

Usage: ``python -m bench --only bench_web --size small`` (seconds: 2,000 lines, 4 clients, 200 draws) or
``--size full`` (100,000 lines, 20 clients; target p95 < 300 ms for cached views).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from critmin.ledger.samples import generate_ledger, write_ledger


@dataclass(frozen=True)
class Size:
    rows: int
    clients: int
    requests: int  # per endpoint, across all clients
    draws: int


SIZES = {"small": Size(2_000, 4, 40, 200), "full": Size(100_000, 20, 400, 2000)}
AS_OF = "2026-09-01"
TARGET_P95_MS = 300.0
BASELINE = "/api/v1/health"
PAGES = [
    "/",
    "/ledger",
    "/exposure",
    "/exposure?by=origin&scenario=combined",
    "/scenarios",
    "/risk",
    "/monitor",
    "/sourcing",
    "/investment",
]
API = [
    "/api/v1/scenarios",
    "/api/v1/scenarios/comparison",
    "/api/v1/exposure?by=mineral",
    "/api/v1/exposure?by=supplier&scenario=trq",
    "/api/v1/flows",
    "/api/v1/import-sources",
    "/api/v1/risk",
    "/api/v1/monitor",
    "/api/v1/sourcing",
    "/api/v1/investment",
    "/api/v1/figures/sankey",
    "/api/v1/figures/world_map",
    "/api/v1/ledgers/1/lines?limit=100",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workspace: Path, port: int, draws: int) -> subprocess.Popen[bytes]:
    """``critmin serve`` with a workspace of its own; the draws are the only setting changed (small size)."""
    code = (
        "import sys, uvicorn; from pathlib import Path; from critmin.web.app import create_app; "
        "from critmin.web.settings import WebSettings; "
        f"uvicorn.run(create_app(WebSettings(workspace=Path({str(workspace)!r}), draws={draws})), "
        f"host='127.0.0.1', port={port}, log_level='warning')"
    )
    env = {**os.environ, "CRITMIN_WORKSPACE": str(workspace)}
    return subprocess.Popen([sys.executable, "-c", code], env=env)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(base + BASELINE, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer within 60 s")


def with_selection(path: str) -> str:
    joiner = "&" if "?" in path else "?"
    return f"{path}{joiner}ledger=1&as_of={AS_OF}"


def hammer(base: str, path: str, clients: int, requests: int) -> tuple[list[float], int]:
    """``requests`` GETs of ``path`` spread over ``clients`` threads; latencies in ms and failures."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    per_client = max(1, requests // clients)
    barrier = threading.Barrier(clients)

    def client() -> None:
        nonlocal failures
        mine: list[float] = []
        bad = 0
        with httpx.Client(base_url=base, timeout=120) as http:
            barrier.wait()
            for _ in range(per_client):
                started = time.perf_counter()
                response = http.get(path)
                mine.append((time.perf_counter() - started) * 1000)
                bad += response.status_code != 200
        with lock:
            latencies.extend(mine)
            failures += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="full")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    with tempfile.TemporaryDirectory(prefix="critmin-bench-web-") as tmp:
        folder = Path(tmp)
        ledger = write_ledger(generate_ledger("defense-prime", size.rows, seed=3), folder / "ledger.csv")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(folder / "ws.duckdb", port, size.draws)
        try:
            wait_ready(base, proc)
            with httpx.Client(base_url=base, timeout=1800) as http:
                started = time.perf_counter()
                with ledger.open("rb") as handle:
                    upload = http.post(
                        "/api/v1/ledgers",
                        files={"file": ("ledger.csv", handle, "text/csv")},
                        headers={"Authorization": "Bearer bench"},
                    )
                upload_s = time.perf_counter() - started
                upload.raise_for_status()
                loaded = upload.json()["ledger"]["rows_loaded"]
                started = time.perf_counter()
                http.get(with_selection("/api/v1/scenarios")).raise_for_status()
                cold_s = time.perf_counter() - started
                for path in PAGES + API:  # every view once: fills the cache
                    http.get(with_selection(path)).raise_for_status()
            rows: list[tuple[str, list[float], int]] = []
            base_lat, base_fail = hammer(base, BASELINE, size.clients, size.requests)
            rows.append((f"{BASELINE} (baseline)", base_lat, base_fail))
            for path in PAGES + API:
                latencies, failures = hammer(base, with_selection(path), size.clients, size.requests)
                rows.append((path, latencies, failures))
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    base_p95 = percentile(base_lat, 0.95)
    print(
        f"{size.rows:,}-line ledger ({loaded:,} loaded), {size.clients} concurrent clients, "
        f"{size.requests} requests per endpoint, {size.draws} draws; report date {AS_OF}"
    )
    print(f"upload + import: {upload_s:.2f} s; first view (whole analysis, cold): {cold_s:.2f} s")
    print(f"{'endpoint (cached)':<44} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'ratio p95':>10} {'fail':>5}")
    worst = 0.0
    failed = 0
    for path, latencies, failures in rows:
        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        if not path.startswith(BASELINE):
            worst = max(worst, p95)
        failed += failures
        print(f"{path:<44} {len(latencies):>5} {p50:>8.1f} {p95:>8.1f} {p95 / base_p95:>10.2f} {failures:>5}")
    verdict = "met" if worst < TARGET_P95_MS else "NOT met"
    print(f"slowest cached p95: {worst:.1f} ms; target p95 < {TARGET_P95_MS:.0f} ms: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
