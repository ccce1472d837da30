"""The ledger package imports in one direction: no cycles, nothing from a higher layer, imports at the top.

Two checks. The static one reads every ``import`` of ``critmin.ledger`` (and of
``critmin.refdata.scope``, which the ledger's classification sits on) with ``ast``, including imports
inside functions, and looks for cycles and upward imports. The dynamic one imports each module on its own,
in a fresh interpreter whose ``critmin`` modules are all unloaded between modules, so an import that only
works because another module happened to be loaded first fails here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import critmin.ledger

LEDGER_DIR = Path(critmin.ledger.__file__).parent
SRC = LEDGER_DIR.parents[1]
MODULES = sorted(f"critmin.ledger.{path.stem}" for path in LEDGER_DIR.glob("*.py") if path.stem != "__init__")
LOWER = (
    "critmin.refdata.scope",
    "critmin.refdata.hts",
    "critmin.refdata.countries",
    "critmin.refdata.content",
)

DEFERRED: dict[tuple[str, str], str] = {
    ("critmin.ledger.readers", "openpyxl"): "openpyxl costs ~0.3 s to import; only workbooks need it",
}
"""Imports allowed inside a function, each with its measured reason."""


def _path(module: str) -> Path:
    return SRC / (module.replace(".", "/") + ".py")


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(modules imported at the top, modules imported inside functions), critmin or not."""
    tree = ast.parse(_path(module).read_text(encoding="utf-8"))
    top: set[str] = set()
    nested: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        else:
            continue
        (top if node in tree.body else nested).update(names)
    return top, nested


def _internal(names: set[str], known: set[str]) -> set[str]:
    return {name for name in names if name in known}


def test_no_import_cycles_and_no_upward_imports() -> None:
    known = set(MODULES) | set(LOWER)
    graph = {module: _internal(set().union(*_imports(module)), known) for module in known}
    for lower in LOWER:
        upward = {name for name in set().union(*_imports(lower)) if name.startswith("critmin.ledger")}
        assert not upward, f"{lower} imports the ledger layer above it: {upward}"

    def cycle_from(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                return (*seen, nxt)
            if nxt not in seen:
                found = cycle_from(start, nxt, (*seen, nxt))
                if found:
                    return found
        return None

    for module in sorted(graph):
        cycle = cycle_from(module, module, (module,))
        assert cycle is None, " -> ".join(cycle or ())


def test_imports_are_at_the_top_unless_a_measured_reason_is_recorded() -> None:
    for module in [*MODULES, "critmin.refdata.scope"]:
        _, nested = _imports(module)
        for name in sorted(nested):
            assert (module, name) in DEFERRED, f"{module} imports {name} inside a function"


def test_every_module_imports_on_its_own() -> None:
    script = (
        "import importlib, sys\n"
        f"for name in {[*MODULES, 'critmin.refdata.scope']!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'critmin' or m.startswith('critmin.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
