"""docs/reconcile.md keeps up with the code: every quarantine code, cause, fee cause and option is there."""

from __future__ import annotations

from pathlib import Path

from critmin.reconcile import Cause
from critmin.reconcile.issues import ACE_ISSUES
from critmin.reconcile.layout import ACE_NAMES, ASSUMED_NAMES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "reconcile.md").read_text(encoding="utf-8")
FEE_CAUSES = (
    "fee_fiscal_year",
    "fee_not_paid",
    "fee_not_owed",
    "fee_differs",
    "fee_unknown",
    "fee_not_exported",
)


def test_every_code_and_cause_is_documented() -> None:
    missing = [i.code for i in ACE_ISSUES if f"`{i.code}`" not in DOC]
    missing += [c.value for c in Cause if f"`{c.value}`" not in DOC]
    missing += [c for c in FEE_CAUSES if f"`{c}`" not in DOC]
    assert not missing, missing


def test_the_layout_names_and_options_are_documented() -> None:
    for name in (*ACE_NAMES, *ASSUMED_NAMES):
        assert name in DOC, name
    for option in (
        "--format",
        "--out",
        "--view",
        "--today",
        "--cape",
        "--cape-entries",
        "--sheet",
        "--date-order",
    ):
        assert f"`{option}" in DOC, option
    for citation in (
        "19 U.S.C. 1514(c)(3)",
        "19 CFR 24.23",
        "19 CFR 24.24",
        "FR Doc 2024-15990",
        "90 FR 34665",
    ):
        assert citation in DOC, citation
