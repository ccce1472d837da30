"""The duty engine: what each ledger line pays under the measures in force or a scenario, and why."""

from critmin.duty.classification import classify_codes
from critmin.duty.engine import ContentCase, evaluate
from critmin.duty.lines import USAGE_COLUMNS
from critmin.duty.partitions import evaluate_batches, next_opening, quota_openings, quota_usage
from critmin.duty.references import References
from critmin.duty.result import DutyResult

__all__ = [
    "USAGE_COLUMNS",
    "ContentCase",
    "DutyResult",
    "References",
    "classify_codes",
    "evaluate",
    "evaluate_batches",
    "next_opening",
    "quota_openings",
    "quota_usage",
]
