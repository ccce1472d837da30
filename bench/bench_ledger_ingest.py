"""Benchmark: ingest and validate a generated import ledger, next to plain CSV readers of the same file.

Every case runs in its own fresh Python process, so its peak resident memory (``VmHWM``) is its own.
Baselines, measured in the same run on the same file:

* ``pandas.read_csv`` — the plain read the issue sets the target against (ratios are to this case);
* ``polars.read_csv`` — a plain typed read of the whole file into memory (no validation);
* ``pyarrow.csv.read_csv`` — the same with pyarrow;
* ``python + imports`` — an interpreter that only imports polars, pyarrow and critmin (the memory floor
  every case pays; imports are outside the timed part of every case).

critmin cases: ``ingest -> parquet`` streams chunks to Parquet parts (constant memory); ``validate`` keeps
only the issues (what ``critmin ledger validate`` does, constant memory); ``ingest -> memory``
keeps the canonical ledger as one in-memory frame; ``import -> workspace`` writes into a DuckDB workspace
in one transaction (what ``critmin ledger import`` does: lines, quarantine and warnings, plus the scope-map
classification and content factors of each HTS code and the content stated on lines). Each validates
every row (HTS against the schedule, countries, units, dates, values, duplicates).

The workspace import is checked against its targets (at most ``TARGET_RATIO`` times ``pandas.read_csv``,
peak under ``TARGET_PEAK_MB``), and the rows it wrote are printed per table.

Usage: ``python bench/bench_ledger_ingest.py --size small`` (seconds; run by the test suite) or
``--size full`` (1,000,000 lines).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {"small": 20_000, "full": 1_000_000}
REPEATS = {"small": 1, "full": 3}
TARGET_RATIO = 4.0
TARGET_PEAK_MB = 1000.0

_CASES: dict[str, tuple[str, str]] = {
    # name: (setup, not timed; work, timed)
    "python + imports": ("import polars, pyarrow, critmin.ledger.ingest", "pass"),
    "pandas.read_csv": ("import pandas as pd", "pd.read_csv(PATH, low_memory=False)"),
    "polars.read_csv": ("import polars as pl", "pl.read_csv(PATH)"),
    "pyarrow.csv.read_csv": ("import pyarrow.csv as pc", "pc.read_csv(PATH)"),
    "critmin ingest -> parquet": (
        "from critmin.ledger.ingest import ingest, ParquetSink",
        "r = ingest(PATH, sink=ParquetSink(OUT / 'parts')); COUNTS.update(r.summary())",
    ),
    "critmin validate (issues only)": (
        "from critmin.ledger.ingest import ingest, MemorySink",
        "r = ingest(PATH, sink=MemorySink(keep_lines=False)); COUNTS.update(r.summary())",
    ),
    "critmin ingest -> memory": (
        "from critmin.ledger.ingest import ingest",
        "r = ingest(PATH); COUNTS.update(r.summary())",
    ),
    "critmin import -> workspace": (
        # DuckDB imports its optional modules (pandas, numpy) on the first query: an import, so untimed
        "from critmin.workspace import Workspace; from critmin.ledger.store import import_ledger; "
        "import duckdb; duckdb.connect().execute('SELECT ?', [1]).fetchall()",
        "ws = Workspace.open(OUT / 'ws.duckdb', create=True); s = import_ledger(ws, PATH); "
        "COUNTS.update(s.summary()); COUNTS['tables'] = dict(ws.table_counts().iter_rows()); ws.close()",
    ),
}

_RUNNER = """
import json, resource, sys, time
from pathlib import Path
PATH = Path(sys.argv[1]); OUT = Path(sys.argv[2]); COUNTS = {{}}
{setup}
start = time.perf_counter()
{work}
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:  # ru_maxrss survives exec on Linux (it would report the parent's peak); VmHWM is this process's own
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
except OSError:
    pass
print(json.dumps({{"seconds": elapsed, "peak_mb": peak, "counts": COUNTS}}, default=str))
"""


def make_ledger(path: Path, rows: int) -> float:
    """Write the benchmark ledger (defense-prime profile, seed 1, with the planted errors), in a child
    process so this one stays small."""
    code = (
        "import sys; from pathlib import Path; "
        "from critmin.ledger.samples import generate_ledger, write_ledger; "
        "frame = generate_ledger('defense-prime', int(sys.argv[2]), seed=1, with_errors=True); "
        "write_ledger(frame, Path(sys.argv[1]))"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path), str(rows)], check=True)
    return time.perf_counter() - started


def run_case(setup: str, timed: str, path: Path, work: Path, repeats: int) -> dict[str, object]:
    """The fastest of ``repeats`` runs, each in a fresh process (a shared machine's noise only ever adds
    time; every case, baseline included, gets the same number of tries), with the highest peak memory."""
    best: dict[str, object] | None = None
    peak = 0.0
    for attempt in range(repeats):
        out = work / f"run-{attempt}"
        out.mkdir()
        code = _RUNNER.format(setup=setup, work=timed)
        done = subprocess.run(
            [sys.executable, "-c", code, str(path), str(out)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"benchmark case failed:\n{done.stderr}")
        result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        peak = max(peak, float(result["peak_mb"]))  # type: ignore[arg-type]
        if best is None or float(result["seconds"]) < float(best["seconds"]):  # type: ignore[arg-type]
            best = result
    assert best is not None
    return {**best, "peak_mb": peak}


def report_workspace(result: dict[str, object], base: float, size: str) -> None:
    """The workspace import against its targets, and the rows it wrote (tables with any)."""
    seconds = float(result["seconds"])  # type: ignore[arg-type]
    peak = float(result["peak_mb"])  # type: ignore[arg-type]
    ratio = seconds / base if base > 0 else float("nan")
    counts = result["counts"]
    assert isinstance(counts, dict)
    written = {t: n for t, n in counts["tables"].items() if t.startswith("ledger_") and n}
    print()
    print(
        f"import -> workspace: {ratio:.2f}x pandas.read_csv (target <= {TARGET_RATIO:g}x: "
        f"{'met' if ratio <= TARGET_RATIO else 'not met'}), peak {peak:,.0f} MB (target < "
        f"{TARGET_PEAK_MB:,.0f} MB: {'met' if peak < TARGET_PEAK_MB else 'not met'})"
        + ("" if size == "full" else "; the targets are set for --size full (fixed costs weigh more here)")
    )
    print("workspace rows written: " + ", ".join(f"{t}={n:,}" for t, n in sorted(written.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    args = parser.parse_args(argv)
    rows = SIZES[args.size]
    with tempfile.TemporaryDirectory(prefix="critmin-bench-") as tmp:
        root = Path(tmp)
        path = root / "ledger.csv"
        made = make_ledger(path, rows)
        size_mb = path.stat().st_size / 1e6
        print(f"Ledger: {rows:,} lines + planted errors, {size_mb:.1f} MB CSV (generated in {made:.1f} s)")
        print(f"Each case: best of {REPEATS[args.size]} run(s), each in a fresh process.")
        results: dict[str, dict[str, object]] = {}
        for name, (setup, timed) in _CASES.items():
            work = root / name.replace(" ", "_").replace(">", "").replace(".", "_")
            work.mkdir()
            results[name] = run_case(setup, timed, path, work, REPEATS[args.size])
        base = float(results["pandas.read_csv"]["seconds"])  # type: ignore[arg-type]
        print()
        print(f"{'case':<30}{'seconds':>10}{'rows/s':>14}{'peak RSS MB':>14}{'ratio to pandas':>20}")
        for name, result in results.items():
            seconds = float(result["seconds"])  # type: ignore[arg-type]
            peak = float(result["peak_mb"])  # type: ignore[arg-type]
            if name == "python + imports":
                print(f"{name:<30}{'-':>10}{'-':>14}{peak:>14,.0f}{'-':>20}")
                continue
            rate = rows / seconds if seconds > 0 else float("nan")
            ratio = seconds / base if base > 0 else float("nan")
            print(f"{name:<30}{seconds:>10.2f}{rate:>14,.0f}{peak:>14,.0f}{ratio:>20.2f}")
        report_workspace(results["critmin import -> workspace"], base, args.size)
        counts = results["critmin ingest -> memory"]["counts"]
        assert isinstance(counts, dict)
        print()
        print(
            f"critmin counts: rows_in={counts['rows_in']:,} loaded={counts['rows_loaded']:,} "
            f"quarantined={counts['rows_quarantined']:,} (loaded + quarantined == rows_in: "
            f"{counts['rows_loaded'] + counts['rows_quarantined'] == counts['rows_in']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
