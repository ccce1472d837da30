"""The library side of the Reconcile page: deadlines per entry, the problems of an export placed by row and
column, and the refusal of an export with no loadable line (named as the user named the file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from critmin.reconcile import (
    SAMPLE_EXPORTS,
    UnusableExportError,
    issue_table,
    reconcile_file,
    reconciliation_view,
    refunds_view,
    usable,
)
from critmin.reconcile.ace import read_ace

TODAY = date(2026, 12, 5)


def test_one_deadline_per_entry_over_its_headings() -> None:
    """Aegis AX7-1000049-7 paid 9903.01.24 and 9903.01.25 on its line: one entry, one deadline, $9,000.00."""
    result = reconcile_file(SAMPLE_EXPORTS["aegis_defense"].path, today=TODAY)
    assert result.refunds.filter(result.refunds["entry_number"] == "AX710000497").height == 2
    (row,) = result.entry_deadlines(within_days=30).to_dicts()
    assert (row["entry_number"], row["protest_deadline"], row["days_left"], row["amount"]) == (
        "AX710000497",
        date(2026, 12, 23),
        18,
        9000.0,
    )
    assert row["headings"] == "9903.01.24, 9903.01.25" and row["lines"] == 1
    assert result.entry_deadlines(within_days=17).is_empty()


def test_the_views_repeat_the_results_numbers() -> None:
    result = reconcile_file(SAMPLE_EXPORTS["northstar_magnetics"].path, today=TODAY)
    view, refunds = reconciliation_view(result), refunds_view(result)
    assert view.totals == result.totals()
    assert view.differences["variance"].to_list() == [-12000.0, -2790.0]  # largest first
    assert refunds.by_status == result.totals()["refund_by_status"]
    statuses = {r["status"]: r for r in refunds.statuses.to_dicts()}
    assert statuses["protest_window"]["first_deadline"] == date(2027, 2, 17)
    assert refunds.cape.columns == [
        "entry_number",
        "line_number",
        "hts",
        "chapter99_heading",
        "amount_usd",
        "status",
        "protest_deadline",
    ]


def test_problems_are_placed_and_the_file_keeps_its_given_name(tmp_path: Path) -> None:
    saved = tmp_path / "upload-0123.csv"
    saved.write_text("colour\nred\n", encoding="utf-8")
    export = read_ace(saved, label="My export.csv")
    issues = issue_table(export)
    entry = issues.filter(issues["column"] == "entry_number").row(0, named=True)
    assert entry == {
        "source_file": "My export.csv",
        "source_row": 2,
        "column": "entry_number",
        "code": "column_missing",
        "severity": "error",
        "problem": "the export has no column for entry_number (e.g. 'Entry Summary Number').",
        "fix": "Add the column to the report before exporting it (in ACE Reports: the report's data "
        "objects).",
    }
    with pytest.raises(UnusableExportError) as refused:
        usable(export)
    assert str(refused.value).startswith("My export.csv: no entry line could be loaded from 1 rows")
    assert "upload-0123" not in str(refused.value)
    assert refused.value.issues.height == issues.height
