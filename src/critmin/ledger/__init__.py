"""Import ledger and bill-of-materials ingestion, validation and classification.

The public entry points are loaded on first use, so that ``critmin.ledger.schema`` (the contract every
engine imports) stays cheap to import:

* :func:`ingest` / :class:`ImportResult` — read, normalise and validate a ledger file (``ingest.py``);
* :func:`read_bom` / :class:`BomResult` — read and explode a bill of materials (``bom.py``);
* :func:`classify_lines`, :func:`line_content`, :func:`classified_lines` — minerals, stages and content;
* :func:`import_ledger`, :func:`import_bom` — the same into the workspace, atomically (``store.py``);
* :func:`generate_ledger` — deterministic synthetic ledgers of the sample companies (``samples.py``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ingest": "critmin.ledger.ingest",
    "ImportResult": "critmin.ledger.ingest",
    "read_bom": "critmin.ledger.bom",
    "BomResult": "critmin.ledger.bom",
    "classify_lines": "critmin.ledger.classify",
    "line_content": "critmin.ledger.classify",
    "classified_lines": "critmin.ledger.classify",
    "import_ledger": "critmin.ledger.store",
    "import_bom": "critmin.ledger.store",
    "generate_ledger": "critmin.ledger.samples",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'critmin.ledger' has no attribute {name!r}")
