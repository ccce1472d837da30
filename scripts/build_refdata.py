"""Build the shipped reference data from ../shared/data/raw (or $CRITMIN_RAW_DIR).

Usage: python scripts/build_refdata.py [--raw DIR] [--out DIR] [--only ID ...]
Writes one Parquet file per dataset and manifest.json into src/critmin/refdata/data/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from critmin.paths import CURATED_DIR, REFDATA_DIR, raw_data_dir
from critmin.refdata.builders import all_specs
from critmin.refdata.registry import DatasetRecord, build_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, default=raw_data_dir())
    parser.add_argument("--out", type=Path, default=REFDATA_DIR)
    parser.add_argument("--only", nargs="+", metavar="ID", help="rebuild just these datasets")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    if not args.raw.is_dir():
        console.print(f"[red]Raw data directory {args.raw} not found (set CRITMIN_RAW_DIR).[/red]")
        return 2

    def report(record: DatasetRecord) -> None:
        console.print(f"built {record.id:<28} {record.rows:>8,} rows  {record.sha256[:12]}")

    only = set(args.only) if args.only else None
    build_all(all_specs(), args.raw, args.out, CURATED_DIR, on_built=report, only=only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
