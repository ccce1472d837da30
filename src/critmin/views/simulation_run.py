"""The Monte Carlo over a scenario tree, as the views need it: draws, percentiles, branches, paths, tornado.

:func:`run_simulation` calls :mod:`critmin.simulate` and keeps its result (``raw``) next to the frames the
views read, so every figure in the report can be checked against the simulation's own output.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from critmin.policy.trees import Tree

if TYPE_CHECKING:
    from critmin.simulate import SimulationResult


@dataclass(frozen=True)
class SimulationOutcome:
    """Policy cost of the tree's simulated year (duties plus price-undertaking payments): one value per draw.

    ``var95`` is the cost exceeded in one draw in twenty (the 95th percentile), ``cvar95`` the mean of the
    costliest 5% of draws, as :mod:`critmin.simulate.results` defines them.
    ``by_branch``: branch, probability, draws, scenarios, central (at central settings), mean, p5, p95.
    ``by_mineral``: mineral_id, mean, p5, p95, share. ``monthly``: month, mean, p5, p25, p50, p75, p95.
    ``tornado``: input, kind, low_setting, high_setting, low, high (annual cost at each), range, central.
    """

    tree_id: str
    tree_title: str
    tree_note: str
    start: dt.date
    months: int
    draws: int
    seed: int
    annual: NDArray[np.float64]
    mean: float
    p5: float
    p50: float
    p95: float
    var95: float
    cvar95: float
    by_branch: pl.DataFrame
    by_mineral: pl.DataFrame
    monthly: pl.DataFrame
    tornado: pl.DataFrame
    notes: tuple[str, ...] = ()
    raw: Any = None


def run_simulation(lines: pl.DataFrame, tree: Tree, *, draws: int, seed: int) -> SimulationOutcome:
    """Simulate the tree over the ledger's lines (``draws`` draws, reproducible with ``seed``)."""
    from critmin.simulate import simulate

    raw = simulate(tree, lines, draws=draws, seed=seed)
    return outcome_of(raw, tree)


def outcome_of(raw: SimulationResult, tree: Tree) -> SimulationOutcome:
    """The views' shape of a :class:`~critmin.simulate.SimulationResult` (numbers unchanged)."""
    summary = raw.summary
    branches = pl.DataFrame(
        [
            {
                "branch": b["branch"],
                "probability": b["probability"],
                "draws": b["draws"],
                "scenarios": " → ".join(
                    f"{seg['scenario']} from {seg['from']}" for seg in b.get("segments", [])
                ),
                "central": b["central"],
                "mean": b["mean"],
                "p5": b["p5"],
                "p95": b["p95"],
            }
            for b in raw.by_branch
        ],
        schema={
            "branch": pl.String,
            "probability": pl.Float64,
            "draws": pl.Int64,
            "scenarios": pl.String,
            "central": pl.Float64,
            "mean": pl.Float64,
            "p5": pl.Float64,
            "p95": pl.Float64,
        },
    )
    minerals = pl.DataFrame(
        [{"mineral_id": k, **v} for k, v in raw.by_mineral.items()],
        schema={
            "mineral_id": pl.String,
            "mean": pl.Float64,
            "p5": pl.Float64,
            "p95": pl.Float64,
            "share": pl.Float64,
        },
    )
    monthly = pl.DataFrame(
        [{**m, "month": dt.date(int(m["month"][:4]), int(m["month"][5:7]), 1)} for m in raw.monthly],
        schema={
            "month": pl.Date,
            "mean": pl.Float64,
            "p5": pl.Float64,
            "p25": pl.Float64,
            "p50": pl.Float64,
            "p75": pl.Float64,
            "p95": pl.Float64,
        },
    )
    tornado = pl.DataFrame(
        [
            {
                "input": bar["input"],
                "kind": bar["kind"],
                "low_setting": str(bar["low"]),
                "high_setting": str(bar["high"]),
                "low": bar["cost_low"],
                "high": bar["cost_high"],
                "range": bar["swing"],
                "central": bar["base"],
            }
            for bar in raw.tornado.get("one_at_a_time", [])
        ],
        schema={
            "input": pl.String,
            "kind": pl.String,
            "low_setting": pl.String,
            "high_setting": pl.String,
            "low": pl.Float64,
            "high": pl.Float64,
            "range": pl.Float64,
            "central": pl.Float64,
        },
    )
    horizon = raw.settings["horizon"]
    return SimulationOutcome(
        tree_id=tree.id,
        tree_title=tree.title,
        tree_note=tree.note,
        start=dt.date.fromisoformat(horizon["start"]),
        months=len(horizon["months"]),
        draws=int(raw.settings["draws"]),
        seed=int(raw.settings["seed"]),
        annual=np.asarray(raw.cost, dtype=np.float64),
        mean=summary["mean"],
        p5=summary["p5"],
        p50=summary["p50"],
        p95=summary["p95"],
        var95=summary["var95"],
        cvar95=summary["cvar95"],
        by_branch=branches,
        by_mineral=minerals,
        monthly=monthly,
        tornado=tornado,
        notes=tuple(raw.notes),
        raw=raw,
    )
