"""Validation bookkeeping: the issue codes, how an issue row is built, and which rows are quarantined.

Every problem becomes one issue row ``(source_file, source_row, column, code, message)``. An *error*
quarantines the row (it is kept, with its original cells as JSON, so it can be fixed and re-imported); a
*warning* leaves the row loaded and tells the user what critmin assumed. Messages always say how to fix
the file. Duplicate detection spans chunks through :class:`DuplicateTracker`, so a repeat on row 900,000
of something seen on row 12 is still caught, with both row numbers in the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from critmin.ledger.readers import KEPT_CHARS, MAX_CELL_BYTES, ROW, SourceNote


class Severity(StrEnum):
    error = "error"
    warning = "warning"


@dataclass(frozen=True)
class IssueCode:
    code: str
    severity: Severity
    meaning: str
    fix: str


ISSUE_CODES: tuple[IssueCode, ...] = (
    IssueCode(
        "field_count",
        Severity.error,
        "The row has more or fewer fields than the header.",
        "Quote fields that contain the delimiter (e.g. a comma in a description or a thousands "
        "separator), close unbalanced quotes, or remove cells right of the last header.",
    ),
    IssueCode(
        "cell_too_large",
        Severity.error,
        "A cell is longer than 131,072 bytes (128 KiB); the quarantine copy keeps its first 1,024 "
        "characters.",
        "No ledger value is that long: close the quote that swallowed the lines after it, or shorten the "
        "cell.",
    ),
    IssueCode(
        "digits_not_ascii",
        Severity.error,
        "A code, number or date is written with digits of another script (Arabic-Indic ١٢٣, Devanagari "
        "१२३ ...); full-width digits (１２３) are read as 0-9.",
        "Write the digits as 0-9 (set the spreadsheet's or system's number format to Latin digits and "
        "export again).",
    ),
    IssueCode(
        "number_not_finite",
        Severity.error,
        "A number is infinite (inf, 1e309), not a number (nan), or 10^15 or more in size: no amount, "
        "quantity or weight on an entry line is, and totals must stay finite.",
        "Write the real value; a spreadsheet error (#NUM!, a formula dividing by zero) exported as text "
        "is the usual cause.",
    ),
    IssueCode(
        "column_missing",
        Severity.error,
        "No column of the file feeds a required field.",
        'Add the column, or name it in a mapping file (`columns: {field: "Your header"}`).',
    ),
    IssueCode(
        "hts_missing",
        Severity.error,
        "The HTS cell is empty.",
        "Fill in the HTS number declared on the entry (10 digits, e.g. 8505.11.00.70).",
    ),
    IssueCode(
        "hts_malformed",
        Severity.error,
        "The HTS cell is not a 6, 8 or 10 digit code.",
        "Write the code with 6, 8 or 10 digits, dots optional; format the column as text so a "
        "spreadsheet keeps leading and trailing zeros.",
    ),
    IssueCode(
        "hts_unknown",
        Severity.error,
        "The code is not in the shipped HTS schedule (or is outdated).",
        "Use one of the suggested current codes, or check the entry summary.",
    ),
    IssueCode(
        "hts_repaired",
        Severity.warning,
        "A zero a spreadsheet dropped from the HTS code was put back.",
        "Format the HTS column as text so the code is kept as typed.",
    ),
    IssueCode(
        "country_missing",
        Severity.error,
        "The country of origin is empty.",
        "Fill in the country of origin (code or name).",
    ),
    IssueCode(
        "country_unknown",
        Severity.error,
        "The country could not be resolved.",
        "Use an ISO 3166 code (CN, CHN), a Census code or an English name; see the suggestions.",
    ),
    IssueCode("date_missing", Severity.error, "The entry date is empty.", "Fill in the entry date."),
    IssueCode(
        "date_invalid",
        Severity.error,
        "The entry date cannot be read.",
        "Write dates as YYYY-MM-DD (or m/d/YYYY); set `date_order: dmy` in a mapping file for "
        "day-first dates.",
    ),
    IssueCode(
        "date_out_of_range", Severity.error, "The entry date is before 1980 or after 2099.", "Check the year."
    ),
    IssueCode(
        "value_missing",
        Severity.error,
        "The customs value is empty.",
        "Fill in the entered (customs) value in USD.",
    ),
    IssueCode(
        "value_invalid",
        Severity.error,
        "The customs value is not a number.",
        "Write a plain number such as 12500.00 (thousands separators and $ are accepted).",
    ),
    IssueCode(
        "value_negative",
        Severity.error,
        "The customs value is negative.",
        "Enter corrections as their own positive-value lines, or fix the sign.",
    ),
    IssueCode(
        "value_zero",
        Severity.warning,
        "The customs value is zero; ad valorem duty will be zero.",
        "Check that the line really was entered at no value.",
    ),
    IssueCode(
        "currency_not_usd",
        Severity.error,
        "The value is not in US dollars.",
        "Convert to USD at the CBP rate for the date of export; critmin does not guess exchange rates.",
    ),
    IssueCode(
        "quantity_invalid",
        Severity.error,
        "The quantity is not a number.",
        "Write a plain number, optionally followed by its unit (e.g. 250 kg).",
    ),
    IssueCode("quantity_negative", Severity.error, "The quantity is negative.", "Fix the sign."),
    IssueCode(
        "liquidation_date_invalid",
        Severity.error,
        "The liquidation date cannot be read, or is before 1980 or after 2099.",
        "Write the date the entry liquidated as YYYY-MM-DD (read in the same order as the entry date); "
        "leave it empty while the entry is unliquidated.",
    ),
    IssueCode(
        "liquidation_before_entry",
        Severity.error,
        "The liquidation date is before the entry date.",
        "Check both dates: an entry liquidates after it is entered (typically about 314 days later).",
    ),
    IssueCode(
        "us_content_share_invalid",
        Severity.error,
        "The U.S. metal content share is not a number.",
        "Write the share as a fraction between 0 and 1 (0.9) or as a percentage with its sign (90%).",
    ),
    IssueCode(
        "us_content_share_out_of_range",
        Severity.error,
        "The U.S. metal content share is not between 0 and 1 (0% and 100%).",
        "Write the share as a fraction between 0 and 1 (0.9) or as a percentage with its sign (90%); "
        "a plain 90 is not read as 90%.",
    ),
    IssueCode(
        "unit_missing",
        Severity.error,
        "A quantity is given without a unit.",
        "Add a unit column (kg, t, lb, No. ...) or set `constants: {unit: kg}` in a mapping file.",
    ),
    IssueCode(
        "unit_unknown",
        Severity.error,
        "The unit is not recognised.",
        "Use kg, g, t, lb, troy oz, No., doz, l, m, m2, m3 or W (kW, MW), or add the spelling under "
        "`units:` in a mapping file.",
    ),
    IssueCode(
        "unit_mismatch",
        Severity.warning,
        "The unit measures something different from the HTS unit of quantity.",
        "Give the quantity in the unit the HTS reports (or add a net weight column) so specific "
        "duties and per-kg price floors can be computed.",
    ),
    IssueCode(
        "weight_invalid",
        Severity.error,
        "The net weight is not a non-negative number.",
        "Write the net weight as a plain number (kg unless the header names the unit).",
    ),
    IssueCode(
        "preference_unknown",
        Severity.error,
        "The preference programme is not an HTS special programme indicator.",
        "Use the SPI code (S for USMCA, KR, AU, A for GSP, ...) or its name; leave empty when no "
        "preference is claimed.",
    ),
    IssueCode(
        "mineral_unknown",
        Severity.error,
        "The content mineral is not a critmin mineral id (nor steel).",
        "Use a mineral name or element symbol (copper, Cu, neodymium, Nd), or steel.",
    ),
    IssueCode(
        "content_invalid",
        Severity.error,
        "The mineral content (kg or value) is not a non-negative number.",
        "Write the content as a plain number.",
    ),
    IssueCode(
        "content_mineral_missing",
        Severity.error,
        "A content amount is given without its mineral.",
        "Add a content mineral column, or name the mineral in the header (`Copper content (kg)`).",
    ),
    IssueCode(
        "content_exceeds_quantity",
        Severity.error,
        "The content mass is larger than the line's mass.",
        "Check the content and quantity units.",
    ),
    IssueCode(
        "source_row_invalid",
        Severity.error,
        "The `source_row` of a re-imported quarantine row is not a positive whole number.",
        "Keep the source_row column of the quarantine export as it was written.",
    ),
    IssueCode(
        "line_id_duplicate",
        Severity.error,
        "Another row already used this line id for different data.",
        "Give every line its own id (or fix the entry/line number).",
    ),
    IssueCode(
        "bom_component_missing",
        Severity.error,
        "A BOM row names no component.",
        "Fill in the component (part number or material).",
    ),
    IssueCode(
        "bom_parent_missing",
        Severity.error,
        "A BOM content row belongs to no part.",
        "Fill in the parent (or the level) of the row.",
    ),
    IssueCode(
        "bom_qty_invalid",
        Severity.error,
        "A BOM quantity per parent is empty, negative or not a number.",
        "Write the quantity of the component in one unit of the parent.",
    ),
    IssueCode(
        "bom_content_unit",
        Severity.error,
        "A BOM content row is not given as a mass.",
        "Give mineral content in kg, g or lb per unit of the parent.",
    ),
    IssueCode(
        "bom_range_invalid",
        Severity.error,
        "A BOM content range does not contain its central value.",
        "Make content_low <= quantity <= content_high.",
    ),
    IssueCode(
        "format_mismatch",
        Severity.warning,
        "The file's content is another format than its name says (an .xlsx workbook named .csv); it was "
        "read by its content.",
        "Rename the file to the extension of what it holds.",
    ),
    IssueCode(
        "encoding_detected",
        Severity.warning,
        "The file is UTF-16 (or UTF-32) text without the byte-order mark that announces it; the encoding "
        "was recognised from its bytes.",
        "Save it as CSV (UTF-8).",
    ),
    IssueCode(
        "header_duplicate",
        Severity.warning,
        "Two or more columns have the same header; the leftmost that names a field feeds it, the others "
        "are renamed `<header> (2)` ... and not used.",
        "Rename or delete the extra column, or name the one to use in a mapping file (`columns:`).",
    ),
    IssueCode(
        "sheet_chosen",
        Severity.warning,
        "The workbook has several visible sheets and none was named; the one whose header names the most "
        "fields was read.",
        "Name the sheet with --sheet (or `sheet:` in a mapping file).",
    ),
    IssueCode(
        "sheet_hidden",
        Severity.warning,
        "The workbook has hidden sheets: they are not read unless named (or unless no visible sheet has a "
        "header), and a hidden sheet that is read is said to be hidden.",
        "Name the sheet to read with --sheet (or `sheet:` in a mapping file).",
    ),
    IssueCode(
        "duplicate_line",
        Severity.error,
        "The row repeats an earlier row.",
        "Delete the repeat; if both lines are real, give each its own line id (a Line ID column, or "
        "entry number + line number).",
    ),
)

CODES: dict[str, IssueCode] = {issue.code: issue for issue in ISSUE_CODES}

ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "source_row": pl.Int64(),
    "column": pl.String(),
    "code": pl.String(),
    "severity": pl.String(),
    "message": pl.String(),
}


_NO_ISSUES = pl.DataFrame(schema=ISSUE_SCHEMA)


def empty_issues() -> pl.DataFrame:
    """No issues (one shared empty frame: Polars frames are never changed in place here)."""
    return _NO_ISSUES


def issues_where(
    frame: pl.DataFrame, condition: pl.Expr, *, column: str, code: str, message: pl.Expr
) -> pl.DataFrame:
    """One issue row per row of ``frame`` meeting ``condition``; ``message`` is built per row."""
    spec = CODES[code]
    # the condition alone first: most checks find nothing, and filtering a wide frame costs a pass per column
    mask = frame.select(condition.fill_null(False).alias("__hit")).to_series()
    if mask.dtype == pl.Boolean and not mask.any():
        return empty_issues()
    hits = frame.filter(mask) if mask.len() == frame.height else frame.filter(condition.fill_null(False))
    if hits.height == 0:
        return empty_issues()
    return hits.select(
        pl.col(ROW).alias("source_row"),
        pl.lit(column, dtype=pl.String).alias("column"),
        pl.lit(code, dtype=pl.String).alias("code"),
        pl.lit(spec.severity.value, dtype=pl.String).alias("severity"),
        (message + pl.lit(" Fix: " + spec.fix)).alias("message"),
    )


PRECISE_CODES: tuple[str, ...] = ("cell_too_large", "digits_not_ascii", "number_not_finite")
"""Issue codes that say exactly what is wrong with a cell; other issues on that cell are left out."""


def precise_first(issues: pl.DataFrame) -> pl.DataFrame:
    """Leave out the generic issues (``unit_unknown``, ``value_invalid`` ...) of the cells a precise code
    already explains: one cell, one reason, the one that names the fix."""
    precise = pl.col("code").is_in(PRECISE_CODES)
    cells = issues.filter(precise).select("source_row", "column").unique()
    if cells.height == 0:
        return issues
    others = issues.filter(~precise).join(cells, on=["source_row", "column"], how="anti")
    return pl.concat([others, issues.filter(precise)], how="vertical")


def oversize_issues(oversize: pl.DataFrame) -> pl.DataFrame:
    """``cell_too_large`` for each cell the reader found over MAX_CELL_BYTES (its row is quarantined; the
    copy kept is cut to KEPT_CHARS characters)."""
    message = (
        pl.lit("Cell is ")
        + pl.col("bytes").cast(pl.String)
        + pl.lit(
            f" bytes long, over the limit of {MAX_CELL_BYTES:,} for one cell; the quarantine copy keeps its "
            f"first {KEPT_CHARS:,} characters."
        )
    )
    found = [  # one pass per user column that has such a cell, not per row
        issues_where(group, pl.lit(True), column=str(column), code="cell_too_large", message=message)
        for (column,), group in oversize.group_by("column", maintain_order=True)
    ]
    return pl.concat([empty_issues(), *found], how="vertical")


def note_issues(notes: list[SourceNote]) -> pl.DataFrame:
    """File notes as issue rows (ISSUE_SCHEMA); their messages already end with the fix."""
    return pl.DataFrame(
        {
            "source_row": [note.row for note in notes],
            "column": [note.column for note in notes],
            "code": [note.code for note in notes],
            "severity": [CODES[note.code].severity.value for note in notes],
            "message": [note.message for note in notes],
        },
        schema=ISSUE_SCHEMA,
    )


def text(value: str) -> pl.Expr:
    return pl.lit(value, dtype=pl.String)


def quoted(expr: pl.Expr) -> pl.Expr:
    """A cell value in quotes for a message (``'CHN'``), or ``(empty)``."""
    return pl.when(expr.is_null()).then(text("(empty)")).otherwise(pl.lit("'") + expr + pl.lit("'"))


# ----------------------------------------------------------------------------------------------------------
# Duplicates across chunks
# ----------------------------------------------------------------------------------------------------------

DUPLICATE_KEY: tuple[str, ...] = (
    "entry_number",
    "entry_date",
    "hts",
    "country_origin",
    "country_export",
    "supplier",
    "part_number",
    "description",
    "quantity",
    "unit",
    "customs_value_usd",
    "preference_program",
)
"""What makes two lines "the same line" when the user gave no line ids."""


class DuplicateTracker:
    """Remembers line ids and content hashes already loaded, across the chunks of one import."""

    def __init__(self) -> None:
        self._ids = pl.DataFrame(schema={"id_key": pl.UInt64, "first_row": pl.Int64, "first_hash": pl.UInt64})
        self._hashes = pl.DataFrame(schema={"content_hash": pl.UInt64, "first_row": pl.Int64})
        self.duplicates = 0

    def check(self, lines: pl.DataFrame, *, user_ids: pl.Series) -> pl.DataFrame:
        """Issues for rows of ``lines`` that repeat an earlier row (in this chunk or an earlier one).

        ``user_ids`` flags rows whose line id came from the file (explicit or entry/line number); those are
        checked by id, the others by content. Content is compared through a 64-bit hash of the key
        columns (one false match in about 10^12 pairs of lines).
        """
        frame = lines.select(
            ROW,
            "line_id",
            _content_hash().alias("content_hash"),
            user_ids.alias("__user_id"),
        )
        by_id = frame.filter(pl.col("__user_id"))
        by_content = frame.filter(~pl.col("__user_id"))
        out = pl.concat([self._check_ids(by_id), self._check_content(by_content)], how="vertical")
        self.duplicates += out.height
        return out

    def _check_ids(self, frame: pl.DataFrame) -> pl.DataFrame:
        if frame.height == 0:
            return empty_issues()
        frame = frame.with_columns(pl.col("line_id").hash(seed=3).alias("id_key"))
        earlier = pl.col("id_key").is_in(_seen(self._ids, "id_key", frame))
        marked = frame.with_columns(
            earlier.alias("__earlier"), pl.col("id_key").is_first_distinct().alias("__first")
        )
        fresh = marked.filter(~pl.col("__earlier") & pl.col("__first")).select(
            "id_key", pl.col(ROW).alias("first_row"), pl.col("content_hash").alias("first_hash")
        )
        self._ids = pl.concat([self._ids, fresh], how="vertical")
        repeats = marked.filter(pl.col("__earlier") | ~pl.col("__first"))
        if repeats.height == 0:
            return empty_issues()
        joined = repeats.join(self._ids, on="id_key", how="left")
        same = pl.col("content_hash") == pl.col("first_hash")
        message_same = (
            pl.lit("Row ")
            + pl.col(ROW).cast(pl.String)
            + pl.lit(" repeats row ")
            + pl.col("first_row").cast(pl.String)
            + pl.lit(" (line id '")
            + pl.col("line_id")
            + pl.lit("', same data).")
        )
        message_diff = (
            pl.lit("Line id '")
            + pl.col("line_id")
            + pl.lit("' was already used on row ")
            + pl.col("first_row").cast(pl.String)
            + pl.lit(" for different data.")
        )
        return pl.concat(
            [
                issues_where(joined, same, column="line_id", code="duplicate_line", message=message_same),
                issues_where(joined, ~same, column="line_id", code="line_id_duplicate", message=message_diff),
            ]
        )

    def _check_content(self, frame: pl.DataFrame) -> pl.DataFrame:
        if frame.height == 0:
            return empty_issues()
        earlier = pl.col("content_hash").is_in(_seen(self._hashes, "content_hash", frame))
        first_here = pl.col("content_hash").is_first_distinct()
        marked = frame.with_columns(earlier.alias("__earlier"), first_here.alias("__first"))
        fresh = marked.filter(~pl.col("__earlier") & pl.col("__first")).select(
            "content_hash", pl.col(ROW).alias("first_row")
        )
        self._hashes = pl.concat([self._hashes, fresh], how="vertical")
        repeats = marked.filter(pl.col("__earlier") | ~pl.col("__first"))
        if repeats.height == 0:
            return empty_issues()
        joined = repeats.join(self._hashes, on="content_hash", how="left")
        message = (
            pl.lit("Row ")
            + pl.col(ROW).cast(pl.String)
            + pl.lit(" repeats row ")
            + pl.col("first_row").cast(pl.String)
            + pl.lit(" (same entry, date, HTS, origin, supplier, quantity and value).")
        )
        return issues_where(joined, pl.lit(True), column="(row)", code="duplicate_line", message=message)


def _seen(known: pl.DataFrame, key: str, chunk: pl.DataFrame) -> pl.Series:
    """The keys of ``chunk`` already in ``known``: probing the large table with the chunk's keys avoids
    building a hash set of everything seen so far for every chunk."""
    keys = chunk.get_column(key).implode()
    return known.filter(pl.col(key).is_in(keys)).get_column(key).implode()


def _content_hash() -> pl.Expr:
    """XOR of per-column hashes with distinct seeds: order-sensitive across columns, cheap to compute."""
    expr: pl.Expr | None = None
    for seed, name in enumerate(DUPLICATE_KEY, start=11):
        part = pl.col(name).hash(seed=seed)
        expr = part if expr is None else expr ^ part
    assert expr is not None
    return expr
