"""Why a row of an ACE export was quarantined or loaded with a warning, and how to fix it.

Every row of the export is either loaded or quarantined with at least one of these codes, naming the file,
the row as the user sees it (the spreadsheet row, or the CSV record with the header counted), the column
(the user's header) and the fix. Codes shared with the ledger ingest mean the same thing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from critmin.ledger.readers import ROW


class Severity(StrEnum):
    """An error quarantines the row; a warning loads it and says what was assumed."""

    error = "error"
    warning = "warning"


@dataclass(frozen=True)
class AceIssue:
    """One quarantine or warning code: what it means and the fix the message ends with."""

    code: str
    severity: Severity
    meaning: str
    fix: str


ACE_ISSUES: tuple[AceIssue, ...] = (
    AceIssue(
        "field_count",
        Severity.error,
        "The row has more or fewer fields than the header.",
        "Quote fields that contain the delimiter, or export the report again as CSV or .xlsx.",
    ),
    AceIssue(
        "cell_too_large",
        Severity.error,
        "A cell is longer than 131,072 bytes.",
        "Close the quote that swallowed the rows after it, or export the report again.",
    ),
    AceIssue(
        "column_missing",
        Severity.error,
        "No column of the export holds a field every row needs.",
        "Add the column to the report before exporting it (in ACE Reports: the report's data objects).",
    ),
    AceIssue(
        "entry_number_missing",
        Severity.error,
        "The entry summary number is empty.",
        "Fill in the 11-character entry summary number (filer code, 7 digits, check digit).",
    ),
    AceIssue(
        "line_number_invalid",
        Severity.error,
        "The entry summary line number is empty or not a whole number.",
        "Fill in the line number of the entry summary (1, 2, 3 ...).",
    ),
    AceIssue(
        "hts_missing",
        Severity.error,
        "The tariff number is empty.",
        "Fill in the HTS number reported on the entry summary line.",
    ),
    AceIssue(
        "hts_unknown",
        Severity.error,
        "The goods tariff number is not a code of the HTS 2025 schedule (or not 6, 8 or 10 digits).",
        "Write the 10-digit HTS number as reported, formatted as text; see the suggested codes.",
    ),
    AceIssue(
        "heading_malformed",
        Severity.error,
        "A Chapter 99 number is not 8 digits starting 99 (9903.88.03).",
        "Write the Chapter 99 number as reported, e.g. 9903.88.03 or 99038803.",
    ),
    AceIssue(
        "date_missing",
        Severity.error,
        "The entry date of a goods row is empty.",
        "Fill in the entry date (MM/DD/YYYY or YYYY-MM-DD).",
    ),
    AceIssue(
        "date_invalid",
        Severity.error,
        "The entry date is not a date, or before 1980 or after 2099.",
        "Write the entry date as MM/DD/YYYY or YYYY-MM-DD.",
    ),
    AceIssue(
        "liquidation_date_invalid",
        Severity.error,
        "The liquidation date is not a date, or earlier than the entry date.",
        "Write the liquidation date as MM/DD/YYYY or YYYY-MM-DD; leave it empty while unliquidated.",
    ),
    AceIssue(
        "country_missing",
        Severity.error,
        "A goods row has no country of origin.",
        "Fill in the country of origin code (ISO alpha-2, e.g. CN).",
    ),
    AceIssue(
        "country_unknown",
        Severity.error,
        "The country of origin is not recognised.",
        "Use the ISO code reported on the entry summary; see the suggestions.",
    ),
    AceIssue(
        "value_missing",
        Severity.error,
        "A goods row has no entered value.",
        "Fill in the line's entered value in USD (0 only if it was entered at no value).",
    ),
    AceIssue(
        "amount_invalid",
        Severity.error,
        "A value, duty or fee is not a number, or is negative.",
        "Write a plain non-negative amount in USD ($ and thousands separators are fine).",
    ),
    AceIssue(
        "number_not_finite",
        Severity.error,
        "A number is infinite, not a number, or 10^15 or more.",
        "Write the real amount (a spreadsheet error exported as text is the usual cause).",
    ),
    AceIssue(
        "duty_missing",
        Severity.error,
        "The duty amount of a tariff row is empty.",
        "Fill in the duty deposited for the row; write 0 when none was.",
    ),
    AceIssue(
        "preference_unknown",
        Severity.error,
        "The special programme indicator is not one critmin knows.",
        "Write the SPI code as reported (S, KR, AU ...), or leave it empty for no claim.",
    ),
    AceIssue(
        "mineral_unknown",
        Severity.error,
        "The content mineral of your content column is not recognised.",
        "Write a mineral name or symbol (copper, Cu), or steel.",
    ),
    AceIssue(
        "duplicate_row",
        Severity.error,
        "The row repeats an earlier row (same entry, line, tariff ordinal and tariff number).",
        "Delete the repeated row (a report exported twice into one file is the usual cause).",
    ),
    AceIssue(
        "goods_row_missing",
        Severity.error,
        "Chapter 99 rows whose entry line has no goods (chapters 1-97) row in the export.",
        "Export every tariff row of the line (do not filter the report to 9903 numbers).",
    ),
    AceIssue(
        "line_ambiguous",
        Severity.error,
        "An entry line has two goods (chapters 1-97) tariff numbers; its duty cannot be evaluated as one "
        "line.",
        "Check the export: the same line number may have been used for two lines.",
    ),
    AceIssue(
        "line_number_assumed",
        Severity.warning,
        "The export has no line number column: each goods row is taken as its own line, in file order.",
        "Add Entry Summary Line Number to the report to attach Chapter 99 rows to their lines.",
    ),
    AceIssue(
        "unit_unknown",
        Severity.warning,
        "The unit of the tariff quantity is not recognised; the quantity is kept without a unit.",
        "Only specific rates need it; write a known unit (KG, NO, L ...) if one applies.",
    ),
    AceIssue(
        "liquidation_status_unknown",
        Severity.warning,
        "The liquidation status is not one critmin recognises; the liquidation date alone decides.",
        "Leave the status as ACE exports it (Liquidated, Unliquidated, Extended, Suspended).",
    ),
    AceIssue(
        "mode_of_transport_unknown",
        Severity.warning,
        "The mode of transportation is not a two-digit code; the harbor maintenance fee is not computed.",
        "Export the Mode of Transportation Code (10 vessel, 11 vessel container, 40 air ...).",
    ),
)

ISSUES_BY_CODE: dict[str, AceIssue] = {issue.code: issue for issue in ACE_ISSUES}

ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "column": pl.String(),
    "code": pl.String(),
    "severity": pl.String(),
    "message": pl.String(),
}


def no_issues() -> pl.DataFrame:
    """An empty issue table."""
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def issues_where(
    frame: pl.DataFrame, condition: pl.Expr, *, source: str, column: str, code: str, message: pl.Expr
) -> pl.DataFrame:
    """One issue per row of ``frame`` meeting ``condition``: file, row, column, code and a message that
    ends with the fix (whole-column expressions; no loop over rows)."""
    spec = ISSUES_BY_CODE[code]
    hits = frame.filter(condition.fill_null(False))
    if hits.height == 0:
        return no_issues()
    return hits.select(
        pl.lit(source, dtype=pl.String).alias("source_file"),
        pl.col(ROW).cast(pl.Int64).alias("source_row"),
        pl.lit(column, dtype=pl.String).alias("column"),
        pl.lit(code, dtype=pl.String).alias("code"),
        pl.lit(spec.severity.value, dtype=pl.String).alias("severity"),
        (
            pl.lit(f"{source}, row ")
            + pl.col(ROW).cast(pl.String)
            + pl.lit(f", column '{column}': ")
            + message
            + pl.lit(" Fix: " + spec.fix)
        ).alias("message"),
    )


def quoted(expr: pl.Expr) -> pl.Expr:
    """A cell value in quotes for a message, or ``(empty)``."""
    return pl.when(expr.is_null()).then(pl.lit("(empty)")).otherwise(pl.lit("'") + expr + pl.lit("'"))


__all__ = [
    "ACE_ISSUES",
    "ISSUES_BY_CODE",
    "ISSUE_SCHEMA",
    "AceIssue",
    "Severity",
    "issues_where",
    "no_issues",
    "quoted",
]
