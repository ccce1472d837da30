"""Monte Carlo of scenario trees on a ledger: expected cost, its distribution, what drives it.

Entry point: :func:`critmin.simulate.run.simulate` (method and outputs in docs/simulate.md).
"""

from critmin.simulate.montecarlo import build
from critmin.simulate.results import SimulationResult
from critmin.simulate.run import simulate
from critmin.simulate.switching import Switch

__all__ = ["SimulationResult", "Switch", "build", "simulate"]
