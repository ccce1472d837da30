"""Reconcile an ACE export: the engine's duty on the entry lines next to what was paid, fees, refunds.

One call for every shell (command line, dashboard, API, monitor)::

    from critmin.reconcile import reconcile_file
    result = reconcile_file(Path("es003.csv"), today=date(2026, 12, 5))
    result.totals(), result.variances, result.fees, result.refunds, result.cape_csv()
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from critmin.duty import evaluate
from critmin.ledger.headers import DateOrder
from critmin.ledger.schema import conform
from critmin.policy.loader import MeasureSet, in_force_set
from critmin.reconcile.ace import AceExport, read_ace, require_lines
from critmin.reconcile.fees import entry_fees
from critmin.reconcile.measures import claim_eligible, declared_content, measure_table
from critmin.reconcile.refunds import refund_lines
from critmin.reconcile.result import Reconciliation
from critmin.reconcile.variance import compare, line_totals


def reconcile(
    export: AceExport, *, today: date | None = None, measure_set: MeasureSet | None = None
) -> Reconciliation:
    """Evaluate the export's entry lines under the in-force library (each on its entry date) and compare
    with what they paid, slot by slot; compute MPF and HMF per entry; list the refundable IEEPA duties.

    ``today`` is the day protest windows are judged on (default: today). ``measure_set`` replaces the
    in-force library (a test's, or a corrected one); scenarios do not belong here - what was owed is what
    the law said on the entry date.
    """
    require_lines(export)
    day = today or date.today()
    measures_in = measure_set or in_force_set()
    measures = measure_table(measures_in)
    lines = claim_eligible(declared_content(export.lines, export.tariffs, measures_in), measures_in)
    result = evaluate(conform(lines), measures_in)
    slots = compare(result, lines, export.tariffs, measures, measures_in)
    fees = entry_fees(lines, export.entries)
    refunds = refund_lines(export.tariffs, lines, measures, slots, day)
    return Reconciliation(
        export=export,
        measure_set=measures_in,
        today=day,
        slots=slots,
        lines=line_totals(slots, lines),
        fees=fees,
        refunds=refunds,
    )


def reconcile_file(
    path: Path,
    *,
    today: date | None = None,
    sheet: str | int | None = None,
    date_order: DateOrder | None = None,
    measure_set: MeasureSet | None = None,
    label: str | None = None,
) -> Reconciliation:
    """:func:`read_ace` then :func:`reconcile`; ``label`` names the file in messages (:func:`read_ace`)."""
    export = read_ace(path, sheet=sheet, date_order=date_order, label=label)
    return reconcile(export, today=today, measure_set=measure_set)


__all__ = ["reconcile", "reconcile_file"]
