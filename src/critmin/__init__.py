"""critmin: U.S. trade policy on processed critical minerals, in dollars and with sources.

What a notebook needs is importable from here; each name is loaded on first use, so ``import critmin``
stays cheap (the CLI imports it on every start)::

    import critmin
    ledger = critmin.ingest("entries.csv").lines
    result = critmin.evaluate(ledger, critmin.load_scenario("status_quo"))
    result.totals()

The rest of the library is in its capability packages (``critmin.duty``, ``critmin.policy``,
``critmin.ledger``, ``critmin.simulate``, ``critmin.optimize``, ``critmin.invest``, ``critmin.risk``,
``critmin.monitor``, ``critmin.views``, ``critmin.workspace``), each with its own ``__all__``.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("critmin")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from critmin.duty import DutyResult, evaluate, evaluate_batches
    from critmin.errors import CritminError, InputError
    from critmin.ledger import ImportResult, ingest
    from critmin.policy import MeasureSet, in_force_set, load_scenario
    from critmin.simulate import simulate
    from critmin.views import Analysis, analyse, analyse_file
    from critmin.workspace import Workspace

_EXPORTS = {
    "evaluate": "critmin.duty",
    "evaluate_batches": "critmin.duty",
    "DutyResult": "critmin.duty",
    "load_scenario": "critmin.policy",
    "in_force_set": "critmin.policy",
    "MeasureSet": "critmin.policy",
    "ingest": "critmin.ledger",
    "ImportResult": "critmin.ledger",
    "simulate": "critmin.simulate",
    "analyse": "critmin.views",
    "analyse_file": "critmin.views",
    "Analysis": "critmin.views",
    "Workspace": "critmin.workspace",
    "CritminError": "critmin.errors",
    "InputError": "critmin.errors",
}

__all__ = [
    "Analysis",
    "CritminError",
    "DutyResult",
    "ImportResult",
    "InputError",
    "MeasureSet",
    "Workspace",
    "__version__",
    "analyse",
    "analyse_file",
    "evaluate",
    "evaluate_batches",
    "in_force_set",
    "ingest",
    "load_scenario",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'critmin' has no attribute {name!r}")
