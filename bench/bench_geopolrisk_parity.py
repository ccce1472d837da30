"""GeoPolRisk for U.S. imports: critmin's time and values next to geopolrisk-py 2.0.1's recorded ones.

``python -m bench --size small|full --only geopolrisk_parity``, or run this file directly.

geopolrisk-py is GPL and is never installed in critmin's environment: its values and timings were recorded
by ``scripts/geopolrisk_parity.py`` in a separate venv and are read from ``tests/risk/data/``. critmin is
timed here, in this run, on the same (material, year) pairs:

- one complete call: geopolrisk-py's ``gprs_calc([year], ["USA"], [material])`` (it rebuilds its BACI table
  each call) against ``critmin.risk.geopolrisk.assess("USA", material, year)`` (shipped data cached after the
  first call, whose load is timed on its own);
- per (material, year) inside a batch: geopolrisk-py's loop over one prepared BACI table against critmin's
  ``national(year=..., regions={"USA": ...})``, every material of a year in one vectorised pass.

The recorded timings carry the machine's load average; on a shared machine the ratio moves with it.
``--size small`` times the sampled calls and one year; ``full`` times every one of the 371 pairs.
``--write-docs`` rewrites the side-by-side table in docs/risk.md (tests/risk/test_geopolrisk_parity.py
fails while it is stale).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "risk" / "data"
DOC = ROOT / "docs" / "risk.md"
BEGIN = "<!-- geopolrisk-parity-table:begin (python bench/bench_geopolrisk_parity.py --write-docs) -->"
END = "<!-- geopolrisk-parity-table:end -->"
SAME = 1e-10  # relative; see tests/risk/test_geopolrisk_parity.py for why
READ_DIFFERENTLY = {"TWN": "Taiwan", "GUY": "Guyana"}
SMALL_YEAR = 2022


def read_cached(name: str) -> pl.DataFrame:
    """A CSV written by scripts/geopolrisk_parity.py (first line: its '# source:' comment)."""
    return pl.read_csv(DATA / name, skip_rows=1, infer_schema_length=10_000)


def reference() -> pl.DataFrame:
    """geopolrisk-py's values per (material, year), keyed by critmin material id."""
    from critmin.refdata import load
    from critmin.risk.sources import gpr_materials

    ids = (
        load("wmd_hs_map")
        .select("commodity", "reference_id")
        .join(gpr_materials().select("commodity", "material"), on="commodity")
    )
    return read_cached("geopolrisk_py_usa.csv").join(
        ids.select("reference_id", "material"), left_on="raw_material", right_on="reference_id", how="left"
    )


def comparison() -> pl.DataFrame:
    """Every (material, year) side by side, with the reason wherever the two differ."""
    from critmin.risk.geopolrisk import national
    from critmin.risk.sources import load_trade

    ref = reference()
    years = sorted(ref["year"].unique().to_list())
    ours = pl.concat([national(year=y, regions={"USA": ("USA",)}) for y in years])
    partners = (
        load_trade()
        .filter(
            pl.col("importer") == "USA",
            pl.col("exporter").is_in(list(READ_DIFFERENTLY)),
            pl.col("quantity_t") > 0,
        )
        .group_by("material", "year")
        .agg(pl.col("exporter").unique().sort().replace_strict(READ_DIFFERENTLY).str.join(", ").alias("via"))
    )
    rel = lambda a, b: ((pl.col(a) - pl.col(b)).abs() / pl.col(b).abs()).fill_nan(0.0)  # noqa: E731
    table = (
        ref.join(ours, on=["material", "year"], how="left", suffix="_critmin")
        .join(partners, on=["material", "year"], how="left")
        .with_columns(
            (pl.col("import_risk_critmin") / pl.col("import_risk") - 1).alias("import_risk_diff"),
            (rel("hhi_critmin", "hhi") > SAME).alias("_hhi_off"),
            (rel("import_risk_critmin", "import_risk") > SAME).alias("_ir_off"),
        )
    )
    reason = (
        pl.when(pl.col("material") == "natural_gas")
        .then(pl.lit("own production: t (critmin) vs million m³ (geopolrisk-py)"))
        .when(pl.col("total_trade_t") == 0)
        .then(pl.lit("no imports: price and CF blank (critmin) vs 0"))
        .when(pl.col("_ir_off") & pl.col("_hhi_off"))
        .then(pl.concat_str(pl.lit("g of "), pl.col("via"), pl.lit("; HHI: fractional tonnes")))
        .when(pl.col("_ir_off"))
        .then(pl.concat_str(pl.lit("g of "), pl.col("via")))
        .when(pl.col("_hhi_off"))
        .then(pl.lit("HHI: fractional tonnes"))
        .otherwise(pl.lit(""))
    )
    return table.with_columns(reason.alias("why")).sort("material", "year")


def _num(value: float | None, digits: int = 6) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def markdown_table(frame: pl.DataFrame) -> str:
    """The docs table: geopolrisk-py (py) and critmin side by side, one row per material and year."""
    lines = [
        BEGIN,
        "",
        "| material | year | HHI py | HHI critmin | import risk py | import risk critmin | Δ import risk "
        "| score py | score critmin | price USD/kg | CF py | CF critmin | why |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in frame.iter_rows(named=True):
        diff = r["import_risk_diff"]
        delta = "" if diff is None or abs(diff) <= SAME else f"{diff:+.3%}"
        lines.append(
            f"| {r['material']} | {r['year']} | {_num(r['hhi'])} | {_num(r['hhi_critmin'])} "
            f"| {_num(r['import_risk'])} | {_num(r['import_risk_critmin'])} | {delta} "
            f"| {_num(r['score'])} | {_num(r['score_critmin'])} | {_num(r['price_critmin'])} "
            f"| {_num(r['cf'])} | {_num(r['cf_critmin'])} | {r['why']} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Pairs and the largest import-risk difference per reason (an empty reason: the two agree)."""
    return (
        frame.group_by("why")
        .agg(
            pl.len().alias("pairs"),
            pl.col("import_risk_diff").abs().max().alias("max_abs_import_risk_diff"),
        )
        .sort("pairs", descending=True)
    )


def write_docs() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    DOC.write_text(text[:start] + markdown_table(comparison()) + text[end:], encoding="utf-8")


COLD = (
    "import time; started = time.perf_counter(); from critmin.risk.geopolrisk import assess; "
    "assess('USA', {material!r}, {year}); print(time.perf_counter() - started)"
)


def _cold_seconds(material: str, year: int) -> float:
    """critmin imported and its first call made in a fresh interpreter (shipped data read from disk), like
    geopolrisk-py's import, which loads its databases (interpreter start-up excluded on both sides)."""
    out = subprocess.run(
        [sys.executable, "-c", COLD.format(material=material, year=year)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _timed_calls(pairs: list[tuple[str, int]]) -> list[float]:
    """critmin's seconds per complete call, after a first call has loaded the shipped data."""
    from critmin.risk.geopolrisk import assess

    assess("USA", *pairs[0])
    seconds = []
    for material, year in pairs:
        started = time.perf_counter()
        assess("USA", material, year)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--size", choices=["small", "full"], default="full")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the table in docs/risk.md")
    args = parser.parse_args(argv)
    import os

    from critmin.risk.geopolrisk import national

    timings = read_cached("geopolrisk_py_timings.csv")
    ref = reference()
    calls = timings.filter(pl.col("what") == "gprs_calc")
    sampled = [(m.lower(), int(y)) for m, y in calls.select("raw_material", "year").iter_rows()]
    every = [(str(m), int(y)) for m, y in ref.select("material", "year").iter_rows()]
    pairs = sampled if args.size == "small" else every
    first = _cold_seconds(*sampled[0])
    later = _timed_calls(pairs)
    years = [SMALL_YEAR] if args.size == "small" else sorted(ref["year"].unique().to_list())
    started = time.perf_counter()
    batches = [national(year=y, regions={"USA": ("USA",)}) for y in years]
    batch_seconds = time.perf_counter() - started
    batch_pairs = sum(b.height for b in batches)

    def py(what: str) -> float:
        return float(timings.filter(pl.col("what") == what)["seconds"].mean())  # type: ignore[arg-type]

    py_call = float(calls["seconds"].mean())  # type: ignore[arg-type]
    py_pair = float(ref["seconds"].mean())  # type: ignore[arg-type]
    ours_call = sum(later) / len(later)
    ours_pair = batch_seconds / batch_pairs
    rows = [
        ("import + data load (+ critmin's 1st call)", py("import and database load"), first, "fresh process"),
        ("one complete call (USA, 1 material, 1 year)", py_call, ours_call, f"{len(later)} calls"),
        ("per (material, year) in a batch", py_pair, ours_pair, f"{batch_pairs} pairs"),
    ]
    load_py = float(timings["load_1min"].mean()) if "load_1min" in timings.columns else float("nan")  # type: ignore[arg-type]
    print(
        f"GeoPolRisk, USA, size {args.size}: geopolrisk-py 2.0.1 recorded by scripts/geopolrisk_parity.py "
        f"(load average {load_py:.1f}); critmin measured now (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"{'what':<46} {'geopolrisk-py s':>16} {'critmin s':>11} {'ratio':>9}  note")
    for what, theirs, ours, note in rows:
        print(f"{what:<46} {theirs:>16.4f} {ours:>11.4f} {theirs / ours:>8.0f}x  {note}")

    table = comparison()
    print("\nvalues, all 371 (material, year) pairs; reasons for every difference:")
    for r in summary(table).iter_rows(named=True):
        worst = r["max_abs_import_risk_diff"]
        shown = "—" if worst is None or math.isnan(worst) else f"{worst:.3%}"
        print(f"  {r['pairs']:>4} pairs  max |Δ import risk| {shown:>8}  {r['why'] or 'agree'}")
    unexplained = table.filter(pl.col("why").is_null() | (pl.col("why") == "")).filter(
        ((pl.col("import_risk_critmin") / pl.col("import_risk") - 1).abs() > SAME)
        | ((pl.col("hhi_critmin") / pl.col("hhi") - 1).abs() > SAME)
    )
    if args.write_docs:
        write_docs()
        print(f"wrote the table into {DOC}")
    if unexplained.height:
        print(f"FAIL: {unexplained.height} pairs differ without a known reason")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
