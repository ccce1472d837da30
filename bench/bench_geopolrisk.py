"""GeoPolRisk for every material x every importer country x one year, vectorised vs a per-pair loop.

``python -m bench --size small|full --only geopolrisk`` (or ``python bench/bench_geopolrisk.py``).

The baseline is the straightforward reading of the method, written the way the reference implementation
is organised: a Python loop over (importer, material) pairs that, for each pair, scans that importer's
trade rows and the material's production rows and sums in Python. (Trade rows are grouped by importer once
beforehand, which is kinder to the baseline than a full scan per pair.) geopolrisk-py itself is GPL and never
a critmin dependency: its recorded timings are compared in bench_geopolrisk_parity.py.
Both implementations must agree on every value (max |difference| is printed and checked).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import polars as pl

from critmin.risk.geopolrisk import CU_MIDPOINT, MISSING_G, geopolrisk
from critmin.risk.sources import load_governance, load_gpr_production, load_trade

YEAR = 2024
SMALL_MATERIALS = ("cobalt", "graphite", "lithium", "nickel", "rare_earths", "tungsten")
SMALL_IMPORTERS = 25
COMPARED = ("hhi", "import_risk", "score", "price", "cf")


def naive_geopolrisk(
    trade: pl.DataFrame, production: pl.DataFrame, governance: pl.DataFrame, year: int
) -> list[dict[str, Any]]:
    """The per-pair loop baseline: one Python iteration per (importer, material), sums in Python."""
    gov_rows = governance.filter(pl.col("estimate").is_not_null()).iter_rows(named=True)
    latest: dict[str, tuple[int, float]] = {}
    for row in gov_rows:
        if row["year"] <= year and (row["country"] not in latest or row["year"] > latest[row["country"]][0]):
            latest[row["country"]] = (row["year"], row["estimate"])
    g_of = {country: min(1.0, max(0.0, (2.5 - pv) / 5.0)) for country, (_, pv) in latest.items()}

    prod_rows = [r for r in production.iter_rows(named=True) if r["year"] == year]
    by_importer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in trade.iter_rows(named=True):
        if row["year"] == year:
            by_importer[row["importer"]].append(row)
    materials = sorted({r["material"] for r in prod_rows if (r["quantity_t"] or 0) > 0})

    out = []
    for importer in sorted(by_importer):
        for material in materials:
            produced = [r for r in prod_rows if r["material"] == material and r["country"] is not None]
            per_country: dict[str, float] = defaultdict(float)
            for r in produced:
                per_country[r["country"]] += r["quantity_t"] or 0.0
            total = sum(per_country.values())
            if total <= 0:
                continue
            hhi = sum(q * q for q in per_country.values()) / (total * total)
            own = per_country.get(importer, 0.0)
            numerator = qty = value = 0.0
            for flow in by_importer[importer]:
                if flow["material"] != material:
                    continue
                q = flow["quantity_t"] or 0.0
                g = g_of.get(flow["exporter"], MISSING_G) if flow["exporter"] is not None else MISSING_G
                numerator += q * g
                qty += q
                value += flow["value_kusd"] or 0.0
            denominator = qty + own
            import_risk = numerator / denominator if denominator > 0 else None
            price = value / qty if qty > 0 else None
            score = hhi * import_risk if import_risk is not None else None
            cf = score * price / CU_MIDPOINT if score is not None and price is not None else None
            out.append(
                {
                    "importer": importer,
                    "material": material,
                    "hhi": hhi,
                    "import_risk": import_risk,
                    "score": score,
                    "price": price,
                    "cf": cf,
                }
            )
    return out


def _max_difference(fast: pl.DataFrame, slow: list[dict[str, Any]]) -> tuple[float, int]:
    """Largest relative difference over compared columns, and the number of rows compared."""
    slow_frame = pl.DataFrame(slow, schema_overrides={c: pl.Float64 for c in COMPARED})
    joined = fast.join(slow_frame, on=["importer", "material"], how="inner", suffix="_naive")
    if joined.height != len(slow):
        raise AssertionError(f"row sets differ: {joined.height} matched of {len(slow)} baseline rows")
    worst = 0.0
    for column in COMPARED:
        a, b = joined[column].to_list(), joined[f"{column}_naive"].to_list()
        for x, y in zip(a, b, strict=True):
            if (x is None) != (y is None):
                raise AssertionError(f"{column}: one side null, the other {x if x is not None else y}")
            if x is not None and y is not None:
                worst = max(worst, abs(x - y) / max(1.0, abs(y)))
    return worst, joined.height


def _table(rows: Sequence[tuple[str, int, float, str]]) -> str:
    lines = [f"{'implementation':<34} {'pairs':>8} {'seconds':>9} {'ratio':>9}"]
    for name, pairs, seconds, ratio in rows:
        lines.append(f"{name:<34} {pairs:>8,} {seconds:>9.3f} {ratio:>9}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=["small", "full"], default="full")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    trade = load_trade().filter(pl.col("year") == YEAR)
    production = load_gpr_production().filter(pl.col("year") == YEAR)
    governance = load_governance()
    load_seconds = time.perf_counter() - start
    if args.size == "small":
        importers = sorted(trade.get_column("importer").unique().to_list())[:SMALL_IMPORTERS]
        trade = trade.filter(pl.col("importer").is_in(importers) & pl.col("material").is_in(SMALL_MATERIALS))
        production = production.filter(pl.col("material").is_in(SMALL_MATERIALS))

    start = time.perf_counter()
    fast = geopolrisk(trade, production, governance, years=[YEAR])
    fast_seconds = time.perf_counter() - start

    start = time.perf_counter()
    slow = naive_geopolrisk(trade, production, governance, YEAR)
    slow_seconds = time.perf_counter() - start

    worst, compared = _max_difference(fast, slow)
    print(
        f"GeoPolRisk, year {YEAR}, size {args.size}: {fast['importer'].n_unique()} importers x "
        f"{fast['material'].n_unique()} materials from {trade.height:,} BACI flows "
        f"(shipped data loaded in {load_seconds:.2f} s, not timed below)"
    )
    print(
        _table(
            [
                ("naive per-pair Python loop", len(slow), slow_seconds, "1.0x"),
                (
                    "critmin vectorised (Polars)",
                    fast.height,
                    fast_seconds,
                    f"{slow_seconds / fast_seconds:.1f}x",
                ),
            ]
        )
    )
    print(f"values compared on {compared:,} pairs: max relative difference {worst:.2e}")
    print("ratio is against the per-pair loop; geopolrisk-py's own timings: bench_geopolrisk_parity.py")
    ok = worst < 1e-9 and not math.isnan(worst)
    if args.size == "full" and fast_seconds >= 5.0:
        print(f"FAIL: full table took {fast_seconds:.2f} s (target < 5 s)")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
