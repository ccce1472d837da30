"""Duty engine throughput: generated ledgers x (the law in force + 4 PCMDP scenarios).

``--size small`` (200k lines, seconds) runs in the test suite; ``--size full`` is 10M lines. The ledger is
generated deterministically (real HTS codes from the shipped schedule, half of them in the PCMDP scope map;
origins, preference claims, copper content, dates over 2026-2027 in entry order, so that the 2026 law in force
and the scenarios, which start on 2027-01-01, each reach about half of the lines) and written to Parquet, one
row group per partition. Partitions are mapped over worker processes, as a distributed engine would map
them: ``critmin.duty.evaluate`` per partition. For scenarios with quotas, ``critmin.duty.quota_usage`` runs
per partition (reading only ``USAGE_COLUMNS``), and each partition is evaluated from the opening that
``next_opening`` chains from the usages before it, pipelined so that no core waits for a whole pass: the
same result as filling the partitions one after another (tests/duty/test_partitions.py). Without a pool
(``--workers 1``) the partitions run through ``critmin.duty.evaluate_batches``.

Printed per scenario: lines/second, and two ratios measured in the same run - to the row-by-row reference
implementation of the test suite (timed on a sample, extrapolated), and to a bare scan-and-sum of the same
columns from the same file. Peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from critmin import refdata
from critmin.duty import (
    USAGE_COLUMNS,
    evaluate,
    evaluate_batches,
    next_opening,
    quota_usage,
)
from critmin.duty.dimension import DimensionCache
from critmin.duty.quotas import empty_fill
from critmin.duty.references import References
from critmin.policy import loader
from critmin.policy.loader import MeasureSet
from critmin.runtime import keep_polars_memory, reuse_freed_memory

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"small": 200_000, "full": 10_000_000}
BATCH = {"small": 100_000, "full": 1_000_000}
"""Lines per partition: per-call work is amortised over a million lines, and with the allocator settings
of critmin.runtime the memory of one partition is reused by the next (500,000 took 15-20% more CPU time
and 2,000,000 more still, faulting fresh pages)."""
SAMPLE = {"small": 300, "full": 1_000}
SCENARIOS = [
    "status_quo",
    "s232_tariff_non_partners",
    "price_floor_partners_tariff_others",
    "minimum_import_price",
    "trq",
]
COLUMNS = [
    "line_id",
    "entry_date",
    "hts",
    "country_origin",
    "supplier",
    "quantity",
    "unit",
    "quantity_kg",
    "customs_value_usd",
    "preference_program",
    "content_mineral",
    "content_value_usd",
]
COUNTRIES = [
    "CHN",
    "CAN",
    "MEX",
    "JPN",
    "KOR",
    "DEU",
    "AUS",
    "CHL",
    "VNM",
    "IND",
    "BRA",
    "ZAF",
    "RUS",
    "GBR",
    "MYS",
    "THA",
    "IDN",
    "PER",
    "COD",
    "ARG",
]
WEIGHTS = np.array([30, 8, 8, 6, 5, 5, 5, 4, 4, 4, 3, 3, 2, 3, 2, 2, 2, 2, 1, 1], dtype=float)
PROGRAM = {"CAN": "S", "MEX": "S", "KOR": "KR", "AUS": "AU", "CHL": "CL", "PER": "PE"}
START = date(2026, 1, 1).toordinal() - date(1970, 1, 1).toordinal()
DAYS = 730


def code_pool() -> tuple[np.ndarray, int]:
    """Real 10-digit HTS codes: those in the PCMDP scope map, and a sample of all others."""
    schedule = refdata.load("hts_schedule").filter(pl.col("is_leaf") & (pl.col("hts").str.len_chars() == 10))
    codes = schedule.select("hts")
    prefixes = refdata.load("pcmdp_scope").get_column("hts_prefix").unique().to_list()
    scoped = codes.with_columns(
        pl.any_horizontal([pl.col("hts").str.starts_with(p) for p in prefixes]).alias("s")
    )
    in_scope = scoped.filter(pl.col("s")).get_column("hts").sort()
    others = scoped.filter(~pl.col("s")).get_column("hts").sort().sample(3000, seed=7)
    return np.array(in_scope.to_list() + others.to_list()), in_scope.len()


def generate(path: Path, n: int, chunk: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    codes, n_scope = code_pool()
    p_code = np.where(np.arange(codes.size) < n_scope, 0.5 / n_scope, 0.5 / (codes.size - n_scope))
    p_country = WEIGHTS / WEIGHTS.sum()
    writer: pq.ParquetWriter | None = None
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        # dates increase through the file (a ledger exported in entry order): each chunk covers its slice
        day0 = START + DAYS * start // n
        day1 = START + DAYS * (start + m) // n
        days = np.sort(rng.integers(day0, max(day1, day0 + 1), m)).astype(np.int32)
        which = rng.choice(len(COUNTRIES), m, p=p_country)
        country = np.array(COUNTRIES)[which]
        hts = codes[rng.choice(codes.size, m, p=p_code)]
        value = np.round(rng.lognormal(9.0, 1.4, m), 2)
        kg = np.round(rng.lognormal(5.0, 1.5, m), 3)
        claims = rng.random(m) < 0.5
        copper = np.char.startswith(hts.astype(str), "74") & (rng.random(m) < 0.5)
        share = rng.uniform(0.6, 0.95, m)
        frame = pl.DataFrame(
            {
                "line_id": pl.int_range(start, start + m, eager=True).cast(pl.String).str.zfill(9),
                "entry_date": pl.Series(days).cast(pl.Date),
                "hts": hts,
                "country_origin": country,
                "supplier": rng.integers(0, 500, m),
                "quantity": kg,
                "unit": np.full(m, "kg"),
                "quantity_kg": kg,
                "customs_value_usd": value,
                "_claims": claims,
                "_copper": copper,
                "_share": share,
            }
        ).select(
            ("L" + pl.col("line_id")).alias("line_id"),
            "entry_date",
            "hts",
            "country_origin",
            ("S" + pl.col("supplier").cast(pl.String)).alias("supplier"),
            "quantity",
            "unit",
            "quantity_kg",
            "customs_value_usd",
            pl.when(pl.col("_claims"))
            .then(pl.col("country_origin").replace_strict(PROGRAM, default=None, return_dtype=pl.String))
            .alias("preference_program"),
            pl.when(pl.col("_copper")).then(pl.lit("copper")).alias("content_mineral"),
            pl.when(pl.col("_copper"))
            .then(pl.col("customs_value_usd") * pl.col("_share"))
            .alias("content_value_usd"),
        )
        table = frame.to_arrow()
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=chunk)
    assert writer is not None
    writer.close()


def bare_scan(path: Path) -> float:
    """Read the same columns from the same file and sum/count them: the floor any engine pays."""
    started = time.perf_counter()
    pl.scan_parquet(path).select(
        pl.col("customs_value_usd").sum(),
        pl.col("quantity_kg").sum(),
        pl.col("quantity").sum(),
        pl.col("content_value_usd").sum(),
        pl.col("entry_date").max(),
        pl.col("line_id").count(),
        pl.col("hts").count(),
        pl.col("country_origin").count(),
        pl.col("supplier").count(),
        pl.col("unit").count(),
        pl.col("preference_program").count(),
        pl.col("content_mineral").count(),
    ).collect(engine="streaming")
    return time.perf_counter() - started


_WORKER_SETS: dict[str, object] = {}


def _warm(_: int) -> int:
    """Worker start-up outside the timings: import critmin and read the shipped reference data once."""

    line = pl.DataFrame(
        {
            "line_id": ["w"],
            "entry_date": [date(2026, 3, 1)],
            "hts": ["8505110070"],
            "country_origin": ["CHN"],
            "customs_value_usd": [1.0],
            "quantity_kg": [1.0],
        }
    )
    return evaluate(line, loader.load_scenario("price_floor_partners_tariff_others")).lines.height


def _read(path: str, offset: int, length: int, columns: list[str] = COLUMNS) -> pl.DataFrame:
    """One partition, read straight into Polars (the file has one row group per partition)."""
    return pl.scan_parquet(path).select(columns).slice(offset, length).collect()


def _worker_state(scenario: str) -> tuple[MeasureSet, DimensionCache]:
    """The scenario and its per-HTS-code cache, kept between tasks as a long-lived executor would."""
    if scenario not in _WORKER_SETS:
        _WORKER_SETS[scenario] = (loader.load_scenario(scenario), DimensionCache())
    return _WORKER_SETS[scenario]  # type: ignore[return-value]


def _usage_slice(task: tuple[str, str, int, int]) -> tuple[pl.DataFrame, float]:
    """Worker, quota pass one: what one partition draws on each quota (and CPU seconds spent). Reads only
    the columns the pass uses, as an engine pushing the projection down would."""
    cpu = time.process_time()
    path, scenario, offset, length = task
    measure_set, cache = _worker_state(scenario)
    frame = _read(path, offset, length, [c for c in COLUMNS if c in USAGE_COLUMNS])
    return quota_usage(frame, measure_set, cache=cache), time.process_time() - cpu


def _evaluate_slice(task: tuple[str, str, int, int, pl.DataFrame | None]) -> tuple[int, float, int, float]:
    """Worker: evaluate one partition under a scenario, from its quota opening if it has one.

    Returns (lines, duty, component rows, CPU seconds spent here).
    """
    cpu = time.process_time()
    path, scenario, offset, length, opening = task
    measure_set, cache = _worker_state(scenario)
    frame = _read(path, offset, length)
    result = evaluate(frame, measure_set, cache=cache, quota_opening=opening)
    duty = float(result.lines.get_column("duty").sum())
    return frame.height, duty, result.component_count, time.process_time() - cpu


def run_engine(
    path: Path, n: int, scenario: str, batch: int, pool: ProcessPoolExecutor | None
) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (this process and its workers), total duty and component rows for one
    scenario over the whole file."""
    measure_set = loader.load_scenario(scenario)
    slices = [(offset, min(batch, n - offset)) for offset in range(0, n, batch)]
    started = time.perf_counter()
    cpu = time.process_time()
    duty = 0.0
    components = 0
    if pool is None:
        batches = (_read(str(path), offset, length) for offset, length in slices)
        for result in evaluate_batches(batches, measure_set):
            duty += float(result.lines.get_column("duty").sum())
            components += result.component_count
            del result
        return time.perf_counter() - started, time.process_time() - cpu, duty, components
    worker_cpu = 0.0
    if has_quota(measure_set):
        # Pipelined: partition 0 opens empty and starts at once; partition k+1 starts as soon as the usage
        # of partition k is in (the last partition's usage opens nothing, so it is not computed).
        evaluations = [pool.submit(_evaluate_slice, (str(path), scenario, *slices[0], None))]
        usages = [pool.submit(_usage_slice, (str(path), scenario, o, k)) for o, k in slices[:-1]]
        opening = empty_fill()
        for usage_future, (offset, length) in zip(usages, slices[1:], strict=True):
            usage, part_cpu = usage_future.result()
            worker_cpu += part_cpu
            opening = next_opening(opening, usage)
            evaluations.append(pool.submit(_evaluate_slice, (str(path), scenario, offset, length, opening)))
        results = [future.result() for future in evaluations]
    else:
        results = list(pool.map(_evaluate_slice, [(str(path), scenario, o, k, None) for o, k in slices]))
    for _, part_duty, part_components, part_cpu in results:
        duty += part_duty
        components += part_components
        worker_cpu += part_cpu
    return time.perf_counter() - started, time.process_time() - cpu + worker_cpu, duty, components


def load_reference() -> ModuleType:
    """The row-by-row reference implementation lives with the tests (tests/duty/conftest.py)."""
    path = ROOT / "tests" / "duty" / "conftest.py"
    spec = importlib.util.spec_from_file_location("critmin_duty_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_rowwise(path: Path, scenario: str, sample: int, reference: ModuleType, oracle: object) -> float:
    frame = pl.read_parquet(path, columns=COLUMNS, n_rows=sample)
    measure_set = loader.load_scenario(scenario)
    reference.rowwise(frame, measure_set, oracle=oracle)  # warm its caches (classification, group members)
    started = time.perf_counter()
    reference.rowwise(frame, measure_set, oracle=oracle)
    return (time.perf_counter() - started) / sample


def peak_mb() -> float:
    """Maximum resident set size of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def children_peak_mb() -> float:
    """Largest maximum resident set size among finished worker processes, MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def has_quota(measure_set: MeasureSet) -> bool:
    return any(m.quota is not None for m in measure_set.measures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--batch", type=int, default=None, help="lines per batch (default by size)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    args = parser.parse_args(argv)
    n = SIZES[args.size]
    batch = args.batch or BATCH[args.size]
    workers = args.workers or (os.cpu_count() or 1 if args.size == "full" else 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.parquet"
        started = time.perf_counter()
        generate(path, n, chunk=batch)
        print(
            f"generated {n:,} lines in {time.perf_counter() - started:.1f}s "
            f"({path.stat().st_size / 1e6:.0f} MB Parquet); batches of {batch:,}",
            flush=True,
        )
        scan = min(bare_scan(path) for _ in range(2))
        print(f"bare scan done; peak so far {peak_mb():,.0f} MB", flush=True)
        reference = load_reference()
        oracle = reference.Oracle(References.shipped())
        rows: list[dict[str, object]] = []
        # Workers run Polars single-threaded (the processes are the parallelism), and they and this process
        # keep freed memory for the next partition (see critmin.runtime).
        saved = dict(os.environ)
        os.environ["POLARS_MAX_THREADS"] = "1"
        keep_polars_memory(os.environ)
        reuse_freed_memory()
        pool = (
            ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=reuse_freed_memory)
            if workers > 1
            else None
        )
        if pool is not None:
            list(pool.map(_warm, range(2 * workers)))
        os.environ.clear()
        os.environ.update(saved)
        parallel_peak = 0.0
        for scenario in SCENARIOS:
            mode = f"{workers} processes" if pool is not None else "sequential"
            if pool is not None and has_quota(loader.load_scenario(scenario)):
                mode += ", 2 passes"
            seconds, cpu, duty, components = run_engine(path, n, scenario, batch, pool)
            per_line = run_rowwise(path, scenario, SAMPLE[args.size], reference, oracle)
            rows.append(
                {
                    "scenario": scenario,
                    "mode": mode,
                    "lines": n,
                    "components": components,
                    "seconds": round(seconds, 2),
                    "lines_per_s": round(n / seconds),
                    "cpu_s": round(cpu, 2),
                    "lines_per_cpu_s": round(n / cpu),
                    "ratio_vs_rowwise": round(per_line * n / seconds, 1),
                    "ratio_vs_bare_scan": round(seconds / scan, 1),
                    "duty_usd_m": round(duty / 1e6, 1),
                }
            )
            print(
                f"  {scenario:<36} {seconds:7.2f}s {n / seconds:>12,.0f} lines/s  ({n / cpu:,.0f} lines per "
                f"CPU-second; {mode})",
                flush=True,
            )
        if pool is not None:
            pool.shutdown()
            parallel_peak = peak_mb() + workers * children_peak_mb()
    table = pl.DataFrame(rows)
    with pl.Config(tbl_rows=20, tbl_cols=20, tbl_width_chars=250):
        print(table)
    rate = min(n / float(r["seconds"]) for r in rows)  # type: ignore[arg-type]
    worst_scan = max(float(r["ratio_vs_bare_scan"]) for r in rows)  # type: ignore[arg-type]
    print(f"bare scan-and-sum of the same columns: {scan:.2f}s ({n / scan:,.0f} lines/s)")
    cpu_rate = min(float(r["lines_per_cpu_s"]) for r in rows)  # type: ignore[arg-type]
    cores = min(workers, os.cpu_count() or 1)
    print(
        f"CPU time (this process and its workers): slowest scenario {cpu_rate:,.0f} lines per CPU-second, "
        f"so {cpu_rate * cores:,.0f} lines/s on {cores} unshared core(s)"
    )
    print(f"row-by-row reference: timed on {SAMPLE[args.size]:,} lines per scenario, extrapolated to {n:,}")
    peak = max(peak_mb(), parallel_peak)
    print(
        f"ratio summary: slowest scenario {rate:,.0f} lines/s (target >= 2,000,000); "
        f"worst ratio to bare scan {worst_scan:.1f}x (target <= 10x); peak memory {peak:,.0f} MB "
        f"(this process {peak_mb():,.0f} MB; with {workers} workers at most {parallel_peak:,.0f} MB; "
        "target < 6,144 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
