"""The Monte Carlo over a scenario tree, as the views need it: draws, percentiles, branches, paths, tornado.

:func:`run_simulation` calls :mod:`critmin.simulate` and keeps its result (``raw``) next to the frames the
views read, so every figure in the report can be checked against the simulation's own output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from critmin.policy.trees import Tree


@dataclass(frozen=True)
class SimulationOutcome:
    """Annual duty over the tree's simulated year: one value per draw and its summaries.

    ``by_branch``: branch, title, probability, mean (annual duty given the branch), draws.
    ``by_mineral``: mineral_id, mean. ``monthly``: month, mean, p5, p25, p50, p75, p95.
    ``tornado``: input, low, high, range (annual duty at the input's low and high settings).
    """

    tree_id: str
    tree_title: str
    tree_note: str
    start: date
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
    raw: Any = None


def run_simulation(lines: pl.DataFrame, tree: Tree, *, draws: int, seed: int) -> SimulationOutcome:
    """Simulate the tree over the ledger's lines (``draws`` paths, reproducible with ``seed``)."""
    from critmin.simulate import simulate  # type: ignore[import-not-found]

    raw = simulate(lines, tree, draws=draws, seed=seed)
    return _outcome(raw, tree, draws, seed)


def _outcome(raw: Any, tree: Tree, draws: int, seed: int) -> SimulationOutcome:
    raise NotImplementedError
