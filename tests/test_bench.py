"""Every benchmark runs at small size as part of the suite, so none of them rots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))


def test_there_are_benchmarks() -> None:
    assert BENCHES, "bench/ holds no bench_*.py modules"


@pytest.mark.parametrize("name", BENCHES)
def test_benchmark_runs_small(name: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "small", "--only", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ratio" in proc.stdout.lower(), f"{name} printed no ratio to its baseline:\n{proc.stdout}"
