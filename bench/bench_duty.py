"""Duty engine throughput: generated ledgers x (the law in force + 4 PCMDP scenarios).

``--size small`` (200k lines, seconds) runs in the test suite; ``--size full`` is 10M lines. The ledger is
generated deterministically (real HTS codes from the shipped schedule, half of them in the PCMDP scope map;
origins, preference claims, copper content, dates over 2025-2026 in entry order) and written to Parquet. Each
scenario streams the file in batches through ``critmin.duty.evaluate_batches`` (quota fill carried across
batches), so this is also the partition-mapped path a distributed engine would take.

Printed per scenario: lines/second, and two ratios measured in the same run - to the row-by-row reference
implementation of the test suite (timed on a sample, extrapolated), and to a bare scan-and-sum of the same
columns from the same file. Peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from critmin import refdata
from critmin.duty import evaluate_batches
from critmin.duty.references import References
from critmin.policy import loader

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"small": 200_000, "full": 10_000_000}
BATCH = {"small": 200_000, "full": 2_000_000}
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
START = date(2025, 1, 1).toordinal() - date(1970, 1, 1).toordinal()
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


def generate(path: Path, n: int, chunk: int = 1_000_000, seed: int = 1) -> None:
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
    ).collect()
    return time.perf_counter() - started


def run_engine(path: Path, scenario: str, batch: int) -> tuple[float, float, int]:
    measure_set = loader.load_scenario(scenario)
    source = pq.ParquetFile(path)
    batches = (pa.Table.from_batches([b]) for b in source.iter_batches(batch_size=batch, columns=COLUMNS))
    started = time.perf_counter()
    duty = 0.0
    components = 0
    for result in evaluate_batches(batches, measure_set):
        duty += float(result.lines.get_column("duty").sum())
        components += result.components.height
    return time.perf_counter() - started, duty, components


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
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--batch", type=int, default=None, help="lines per batch (default by size)")
    args = parser.parse_args(argv)
    n = SIZES[args.size]
    batch = args.batch or BATCH[args.size]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.parquet"
        started = time.perf_counter()
        generate(path, n)
        print(
            f"generated {n:,} lines in {time.perf_counter() - started:.1f}s "
            f"({path.stat().st_size / 1e6:.0f} MB Parquet); batches of {batch:,}",
            flush=True,
        )
        scan = min(bare_scan(path) for _ in range(2))
        reference = load_reference()
        oracle = reference.Oracle(References.shipped())
        rows: list[dict[str, object]] = []
        for scenario in SCENARIOS:
            seconds, duty, components = run_engine(path, scenario, batch)
            per_line = run_rowwise(path, scenario, SAMPLE[args.size], reference, oracle)
            rows.append(
                {
                    "scenario": scenario,
                    "lines": n,
                    "components": components,
                    "seconds": round(seconds, 2),
                    "lines_per_s": round(n / seconds),
                    "ratio_vs_rowwise": round(per_line * n / seconds, 1),
                    "ratio_vs_bare_scan": round(seconds / scan, 1),
                    "duty_usd_m": round(duty / 1e6, 1),
                }
            )
            print(f"  {scenario:<36} {seconds:7.2f}s {n / seconds:>12,.0f} lines/s", flush=True)
    table = pl.DataFrame(rows)
    with pl.Config(tbl_rows=20, tbl_cols=20, tbl_width_chars=200):
        print(table)
    rate = min(n / float(r["seconds"]) for r in rows)  # type: ignore[arg-type]
    worst_scan = max(float(r["ratio_vs_bare_scan"]) for r in rows)  # type: ignore[arg-type]
    print(f"bare scan-and-sum of the same columns: {scan:.2f}s ({n / scan:,.0f} lines/s)")
    print(f"row-by-row reference: timed on {SAMPLE[args.size]:,} lines per scenario, extrapolated to {n:,}")
    print(
        f"ratio summary: slowest scenario {rate:,.0f} lines/s (target >= 2,000,000); "
        f"worst ratio to bare scan {worst_scan:.1f}x (target <= 10x); peak memory {peak_mb():,.0f} MB "
        f"(target < 6,144 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
