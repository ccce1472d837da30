"""Monte Carlo of the shipped PCMDP tree: 100,000 draws over a ledger of about 10,000 cells (full).

The ledger is synthetic but made of real lines: the three sample ledgers' lines are repeated under new
suppliers and origins, every month, with jittered values, so the HTS codes, classifications and measures
are the shipped ones. Timed separately: building the structure (the duty-engine runs) and evaluating the
draws. Baselines measured in the same run: a bare NumPy operation of the same shape as the draws x cells
problem (gather each cell's multiplier per draw, multiply by a coefficient, sum over cells), and the naive
method - re-running the duty engine for every draw - timed on a few draws and extrapolated.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import polars as pl

from critmin.duty.engine import evaluate
from critmin.ledger.ingest import ingest
from critmin.policy.trees import load_tree
from critmin.simulate.draws import sample_draws
from critmin.simulate.montecarlo import Built, build
from critmin.simulate.results import summarise

SIZES = {"small": (300, 2_000), "full": (10_000, 100_000)}  # (target cells, draws)
SAMPLES = Path(__file__).resolve().parents[1] / "src" / "critmin" / "samples" / "ledger"
ORIGINS = ["CHN", "AUS", "JPN", "DEU", "KOR", "CAN", "MEX", "BRA", "ZAF", "IND", "VNM", "MYS", "CHL", "USA"]


def ledger(cells: int, seed: int = 0) -> pl.DataFrame:
    """About ``cells`` cells: (template line x origin x supplier) combinations, each imported every month."""
    templates = pl.concat(
        [ingest(path).lines for path in sorted(SAMPLES.glob("*_ledger.csv"))], how="vertical_relaxed"
    )
    rng = np.random.default_rng(seed)
    combos = max(1, cells // 12)
    pick = rng.integers(0, templates.height, combos)
    base = templates[pick].with_columns(
        pl.Series("country_origin", rng.choice(ORIGINS, combos)),
        pl.Series("supplier", [f"Supplier {i % max(1, combos // 3):04d}" for i in range(combos)]),
        pl.Series("_combo", np.arange(combos)),
    )
    months = pl.DataFrame({"_month": np.arange(1, 13, dtype=np.int32)})
    cell_rows = base.join(months, how="cross")
    repeat = rng.integers(1, 4, cell_rows.height)  # one to three entries per cell
    lines = cell_rows[np.repeat(np.arange(cell_rows.height), repeat)]
    n = lines.height
    scale = rng.lognormal(0.0, 0.25, n)
    day = rng.integers(1, 29, n)
    return lines.with_columns(
        pl.date(2025, pl.col("_month"), pl.Series(day)).alias("entry_date"),
        pl.format("B{}", pl.int_range(pl.len())).alias("line_id"),
        *[
            (pl.col(c) * pl.Series(scale)).alias(c)
            for c in ("quantity", "quantity_kg", "customs_value_usd", "content_kg", "content_value_usd")
        ],
    ).drop("_combo", "_month")


class Clock:
    """Wall-clock and CPU seconds of a block (the machine is shared, so both are shown)."""

    def __enter__(self) -> Clock:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def bare_numpy(draws: np.ndarray, cell_group: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """sum_c multiplier[d, group(c)] x coef[c] for every draw and cell, in blocks: the bare array work of a
    draws x cells evaluation, with no measure logic."""
    out = np.empty(draws.shape[0])
    block = max(1, 4_000_000 // cell_group.size)
    for lo in range(0, draws.shape[0], block):
        out[lo : lo + block] = draws[lo : lo + block][:, cell_group] @ coef
    return out


def naive_per_draw(frame: pl.DataFrame, built: Built, tries: int = 2) -> Clock:
    """The naive method: every draw re-runs the engine on each segment of its path (timed per draw)."""
    path = max(built.plan.paths, key=lambda p: len(p.segments))
    dates = frame.get_column("entry_date")
    with Clock() as clock:
        for _ in range(tries):
            for segment in path.segments:
                inside = (dates >= segment.start) & ((dates < segment.end) if segment.end else True)
                evaluate(frame.filter(inside), segment.variants[0].measure_set)
    clock.wall /= tries
    clock.cpu /= tries
    return clock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="full")
    args = parser.parse_args(argv)
    target_cells, n_draws = SIZES[args.size]
    frame = ledger(target_cells)
    tree = load_tree("pcmdp_window_2026")

    with Clock() as build_clock:
        built = build(tree, frame)
    cells = built.base.cells.size
    lines = int(built.base.mask.sum())

    tracemalloc.start()
    with Clock() as sample_clock:
        draws = sample_draws(built.plan, built.prices, built.uncertainty.volumes, n_draws, seed=0)
    with Clock() as draws_clock:
        result = summarise(built, draws, seed=0, sensitivity_on=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    multipliers = (draws.price * draws.volume[:, :, None]).reshape(n_draws, -1)
    coef = built.base.cells.table.get_column("customs_value_usd").to_numpy() * 0.1
    with Clock() as bare_clock:
        bare_numpy(multipliers, built.base.geo.cell_gt, coef)
    placed = built.base.placed.frame.drop("source_line_id", "weight", "month")
    naive = naive_per_draw(placed, built)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"ledger: {lines:,} placed lines in {cells:,} cells; {n_draws:,} draws; "
        f"{len(built.plan.variants)} engine variants; mean cost {result.summary['mean']:,.0f} USD"
    )
    print(f"peak traced NumPy memory during the draws {peak / 2**20:,.0f} MB; process peak RSS {rss:,.0f} MB")
    print(f"{'case':<42} {'wall s':>9} {'cpu s':>9} {'ratio (wall)':>13} {'ratio (cpu)':>12}")
    total = Clock()
    total.wall, total.cpu = sample_clock.wall + draws_clock.wall, sample_clock.cpu + draws_clock.cpu
    extrapolated = Clock()
    extrapolated.wall, extrapolated.cpu = naive.wall * n_draws, naive.cpu * n_draws
    rows = [
        ("bare NumPy draws x cells (baseline)", bare_clock),
        ("simulate: draw inputs", sample_clock),
        ("simulate: evaluate, summarise, tornado", draws_clock),
        ("simulate: draws total", total),
        ("structure build (engine runs, once)", build_clock),
        ("naive: engine per draw (extrapolated)", extrapolated),
    ]
    for label, clock in rows:
        print(
            f"{label:<42} {clock.wall:>9.2f} {clock.cpu:>9.2f} {clock.wall / bare_clock.wall:>13.2f} "
            f"{clock.cpu / max(bare_clock.cpu, 1e-9):>12.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
