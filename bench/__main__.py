"""Run every benchmark: ``python -m bench [--size small|full] [--only NAME ...]``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path


def discover() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=["small", "full"], default="full")
    parser.add_argument("--only", nargs="+", default=None)
    args = parser.parse_args(argv)
    failed = 0
    for name in discover():
        if args.only and name not in args.only and name.removeprefix("bench_") not in args.only:
            continue
        print(f"\n=== {name} ({args.size}) ===", flush=True)
        module = importlib.import_module(f"bench.{name}")
        failed += module.main(["--size", args.size]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
