"""The public surface: what ``critmin`` and each capability package promise in ``__all__`` exists, is
documented, and the package is marked as typed for the users' type checkers."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import critmin

PACKAGES = [
    "critmin",
    "critmin.duty",
    "critmin.invest",
    "critmin.ledger",
    "critmin.monitor",
    "critmin.optimize",
    "critmin.policy",
    "critmin.refdata",
    "critmin.report",
    "critmin.risk",
    "critmin.simulate",
    "critmin.views",
    "critmin.workspace",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_name_in_all_exists_and_callables_say_why(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} declares no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    undocumented = []
    for attr in exported:
        value = getattr(module, attr)  # raises if the name is promised but missing
        if (inspect.isfunction(value) or inspect.isclass(value)) and not inspect.getdoc(value):
            undocumented.append(attr)
    assert not undocumented, f"{name}: public names without a docstring: {undocumented}"


def test_the_notebook_names_are_at_the_top() -> None:
    for attr in ("evaluate", "load_scenario", "ingest", "CritminError", "Workspace", "analyse_file"):
        assert attr in critmin.__all__
    assert issubclass(critmin.InputError, critmin.CritminError)
    assert set(critmin.__all__) - {"__version__"} == set(critmin._EXPORTS)  # every lazy name is promised


def test_importing_critmin_loads_no_engine() -> None:
    """``import critmin`` is cheap: the names load on first use."""
    code = "import sys, critmin; print(sorted(m for m in ('polars', 'critmin.duty') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_package_is_marked_typed() -> None:
    assert (Path(critmin.__file__).parent / "py.typed").is_file()
