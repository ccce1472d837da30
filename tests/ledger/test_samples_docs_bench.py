"""Shipped samples are reproducible, the docs cover every field and issue code, the benchmark runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from critmin.ledger.bom import BOM_FIELDS
from critmin.ledger.fields import INPUT_FIELDS
from critmin.ledger.samples import LEDGER_SAMPLES_DIR, generate_frame, generate_ledger, write_ledger
from critmin.ledger.validate import ISSUE_CODES

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("company", "rows", "seed", "name"),
    [
        ("defense-prime", 200, 7, "defense_prime_ledger.csv"),
        ("battery-maker", 200, 11, "battery_maker_ledger.csv"),
        ("magnet-maker", 150, 5, "magnet_maker_ledger.csv"),
    ],
)
def test_shipped_samples_regenerate_exactly(
    tmp_path: Path, company: str, rows: int, seed: int, name: str
) -> None:
    out = write_ledger(generate_ledger(company, rows, seed, with_errors=True), tmp_path / name)
    assert out.read_bytes() == (LEDGER_SAMPLES_DIR / name).read_bytes()


def test_generator_values_are_plausible() -> None:
    frame = generate_frame("battery-maker", 5000, seed=2)
    assert frame.height == 5000
    lioh = frame.filter(pl.col("part") == "CHM-LIOH")
    per_kg = lioh.get_column("value") / lioh.get_column("quantity")
    assert per_kg.min() >= 8.9 and per_kg.max() <= 13.6  # profile: 9-13.5 USD/kg
    assert set(lioh.get_column("origin")) == {"CHN", "CHL", "KOR", "ARG"}
    assert frame.get_column("entry_date").is_sorted()
    # Chile claims its FTA on dutiable lithium hydroxide (3.7 % general) most of the time
    chile = lioh.filter(pl.col("origin") == "CHL")
    assert (chile.get_column("program") == "CL").mean() > 0.8  # type: ignore[operator]


def test_docs_list_every_field_and_code() -> None:
    text = (REPO / "docs" / "ledger.md").read_text(encoding="utf-8")
    for item in INPUT_FIELDS:
        assert f"`{item.name}`" in text, item.name
    for item in BOM_FIELDS.fields:
        assert f"`{item.name}`" in text, item.name
    for issue in ISSUE_CODES:
        assert f"`{issue.code}`" in text, issue.code


def test_benchmark_small_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_ledger_ingest.py"), "--size", "small"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "polars.read_csv" in done.stdout
    assert "loaded + quarantined == rows_in: True" in done.stdout
