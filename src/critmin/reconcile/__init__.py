"""Reconcile an ACE entry-summary export: what you paid, what you owed, what you can get back.

* :func:`read_ace` / :class:`AceExport` - read an ACE export (ES-003 layout, CSV or .xlsx) into entry
  lines with their Chapter 99 rows attached, every row loaded or quarantined with its reason;
* :func:`reconcile` / :func:`reconcile_file` / :class:`Reconciliation` - the duty engine's duty per line
  and Chapter 99 heading next to the duty paid, to the cent, each difference with a :class:`Cause` and a
  sentence; MPF and HMF per entry; IEEPA refunds with their status and protest deadline, and a CAPE-ready
  CSV;
* :func:`reconciliation_view` / :func:`refunds_view` - the two views the dashboard and the API show, and
  :func:`entry_deadlines` - refundable duty per entry and protest deadline, for the monitor's alerts.

See ``docs/reconcile.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AceExport": "critmin.reconcile.ace",
    "read_ace": "critmin.reconcile.ace",
    "Cause": "critmin.reconcile.variance",
    "CAUSE_TEXT": "critmin.reconcile.variance",
    "Reconciliation": "critmin.reconcile.result",
    "reconcile": "critmin.reconcile.api",
    "reconcile_file": "critmin.reconcile.api",
    "entry_fees": "critmin.reconcile.fees",
    "mpf_for": "critmin.reconcile.fees",
    "MPF_YEARS": "critmin.reconcile.fees",
    "refund_lines": "critmin.reconcile.refunds",
    "cape_csv": "critmin.reconcile.refunds",
    "entry_deadlines": "critmin.reconcile.refunds",
    "SAMPLE_EXPORTS": "critmin.reconcile.samples",
    "sample_export": "critmin.reconcile.samples",
    "reconciliation_view": "critmin.reconcile.views",
    "refunds_view": "critmin.reconcile.views",
    "issue_table": "critmin.reconcile.views",
    "usable": "critmin.reconcile.views",
    "UnusableExportError": "critmin.reconcile.views",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'critmin.reconcile' has no attribute {name!r}")
