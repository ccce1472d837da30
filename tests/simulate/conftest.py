"""Helpers for the simulation tests: small ledgers, tree files, and the engine run directly per branch.

``engine_cost`` is the reference the simulation must reproduce: for one path of a tree, the duty engine run
on the placed lines of each segment's window under that segment's scenario (fixed parameters), summed.
Test modules cannot import this file (importlib mode), so they use the ``kit`` fixture.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.duty.engine import evaluate
from critmin.policy import load_scenario
from critmin.policy.params import Override
from critmin.policy.trees import PriceUncertainty, TreePath, Uncertainty, VolumeUncertainty

SCHEMA: dict[str, Any] = {
    "line_id": pl.String,
    "entry_date": pl.Date,
    "hts": pl.String,
    "country_origin": pl.String,
    "country_export": pl.String,
    "country_smelt_cast": pl.String,
    "supplier": pl.String,
    "quantity": pl.Float64,
    "unit": pl.String,
    "quantity_kg": pl.Float64,
    "customs_value_usd": pl.Float64,
    "preference_program": pl.String,
    "content_mineral": pl.String,
    "content_kg": pl.Float64,
    "content_value_usd": pl.Float64,
}
FIXED = Uncertainty(prices=PriceUncertainty(scale=0.0), volumes=VolumeUncertainty(sd=0.0))

# HTS codes whose classification and in-force treatment the hand-worked cases rely on:
OXIDE = "2846902040"  # rare-earth oxide: classified rare_earths / oxide_salt_compound; MFN free
ND_METAL = "2805300020"  # neodymium metal: neodymium / metal_powder_alloy; MFN 5%
MAGNET = "8505110070"  # NdFeB magnet: a derivative product


def line(i: int, day: dt.date, hts: str, origin: str, supplier: str, kg: float, usd: float) -> dict[str, Any]:
    return {
        "line_id": f"L{i}",
        "entry_date": day,
        "hts": hts,
        "country_origin": origin,
        "supplier": supplier,
        "quantity": kg,
        "unit": "kg",
        "quantity_kg": kg,
        "customs_value_usd": usd,
    }


def ledger(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in SCHEMA} for r in rows], schema=SCHEMA)


def write_tree(tmp_path: Path, body: str, name: str = "tree.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def engine_cost(
    placed: pl.DataFrame, path: TreePath, values: dict[str, dict[str, Any]] | None = None
) -> float:
    """Duties plus exporter payments of one path, straight from the engine (parameters fixed: ``values`` by
    node id override the tree's)."""
    total = 0.0
    frame = placed.drop("source_line_id", "weight", "month")
    for segment in path.segments:
        declared = load_scenario(segment.scenario).parameters
        params = {k: v for k, v in segment.params.items() if k != "start_date" or "start_date" in declared}
        params.update((values or {}).get(segment.node_id, {}))
        measures = load_scenario(segment.scenario, [Override(k, v, f"{k}={v}") for k, v in params.items()])
        dates = frame.get_column("entry_date")
        inside = (dates >= segment.start) & ((dates < segment.end) if segment.end is not None else True)
        result = evaluate(frame.filter(inside), measures)
        totals = result.totals()
        total += totals["duty"] + totals["paid_to_exporter"]
    return total


@pytest.fixture()
def hand_ledger() -> pl.DataFrame:
    """Five entries in November 2025 (placed in November 2026 by a tree starting 2026-07-01)."""
    day = dt.date(2025, 11, 5)
    return ledger(
        [
            line(1, day, OXIDE, "AUS", "Lynas", 1000.0, 80_000.0),  # 80 USD/kg, a partner origin
            line(2, day + dt.timedelta(days=1), OXIDE, "CHN", "Baotou", 600.0, 36_000.0),  # 60 USD/kg
            line(3, day + dt.timedelta(days=2), ND_METAL, "CHN", "Baotou", 500.0, 50_000.0),
            line(4, day + dt.timedelta(days=3), ND_METAL, "VNM", "Hanoi", 500.0, 45_000.0),
        ]
    )


@dataclass(frozen=True)
class Kit:
    line: Callable[..., dict[str, Any]]
    ledger: Callable[[list[dict[str, Any]]], pl.DataFrame]
    write_tree: Callable[..., Path]
    engine_cost: Callable[..., float]
    fixed: Uncertainty
    oxide: str = OXIDE
    nd_metal: str = ND_METAL
    magnet: str = MAGNET


@pytest.fixture(scope="session")
def kit() -> Kit:
    return Kit(line, ledger, write_tree, engine_cost, FIXED)
