"""The simulation's entry point: build the model of a tree on a ledger, draw, and summarise.

Kept apart from :mod:`critmin.simulate.montecarlo` (the model) and :mod:`critmin.simulate.results` (the
summary) so that each of those imports only what lies below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import polars as pl

from critmin.policy.trees import Tree, Uncertainty
from critmin.simulate.cells import Annualise
from critmin.simulate.draws import sample_draws
from critmin.simulate.montecarlo import Progress, Steps, build
from critmin.simulate.results import SimulationResult, summarise
from critmin.simulate.switching import Switch


def simulate(
    tree: Tree | str | Path,
    ledger: pl.DataFrame,
    *,
    draws: int = 10_000,
    seed: int = 0,
    annualise: Annualise = "average",
    uncertainty: Uncertainty | None = None,
    switches: Sequence[Switch] | Literal["auto"] | None = None,
    sensitivity: bool = True,
    progress: Progress | None = None,
) -> SimulationResult:
    """Monte Carlo of ``tree`` on ``ledger``; see docs/simulate.md for the method and the outputs.

    ``progress`` is called with (steps done, steps in all) as the engine runs, the draws and the summary
    finish (see :class:`critmin.simulate.montecarlo.Steps`), for a caller that shows how far it is.
    """
    steps = Steps(progress)
    built = build(tree, ledger, annualise=annualise, uncertainty=uncertainty, switches=switches, steps=steps)
    sample = sample_draws(built.plan, built.prices, built.uncertainty.volumes, draws, seed)
    steps.advance()
    result = summarise(built, sample, seed=seed, sensitivity_on=sensitivity)
    steps.advance()
    return result
