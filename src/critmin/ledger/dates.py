"""Entry dates in the forms ledgers use: ISO (``2025-03-14``, with or without a time), US ``03/14/2025``
and ``3/14/25``, ``14-Mar-2025``, ``Mar 14, 2025``, ``14 March 2025``, ``20250314`` and Excel serial
numbers (``45730``).

Each value is routed by its shape to one format, so ``14-Mar-25`` is never read as the year 25. Slash
dates are month-first (U.S. customs practice) unless the mapping file says ``date_order: dmy`` or the file
itself proves it: when some values can only be day-first (``14/03/2025``) and none can only be
month-first, the whole column is read day-first, and the decision is shown with the import.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from critmin.ledger.headers import DateOrder

EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's 1900 date system (serial 1 = 1900-01-01, counting Excel's phantom 29 Feb 1900)."""

EARLIEST = date(1980, 1, 1)
LATEST = date(2099, 12, 31)
"""Entry dates outside this window are almost always mis-typed years; they are quarantined."""

_NUMERIC = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$"
_ISO = r"^\d{4}-\d{1,2}-\d{1,2}([T ].*)?$"
_YMD_SLASH = r"^\d{4}[/.]\d{1,2}[/.]\d{1,2}$"
_COMPACT = r"^(19|20)\d{6}$"
_SERIAL = r"^\d{5}(\.\d+)?$"
_DAY_MON = r"^(\d{1,2})[\s\-/]([A-Za-z]{3,9})\.?[\s\-/,]+(\d{2}|\d{4})$"
_MON_DAY = r"^([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})$"


def infer_order(values: pl.Series) -> DateOrder | None:
    """``dmy`` when the slash dates can only be day-first, ``mdy`` when only month-first, else None."""
    text = values.drop_nulls().str.strip_chars()
    parts = text.str.extract_groups(_NUMERIC).struct.unnest().drop_nulls()
    if parts.height == 0:
        return None
    first = parts.get_column("1").cast(pl.Int32)
    second = parts.get_column("2").cast(pl.Int32)
    day_first = bool(((first > 12) & (second <= 12)).any())
    month_first = bool(((second > 12) & (first <= 12)).any())
    if day_first and not month_first:
        return "dmy"
    if month_first:
        return "mdy"
    return None


def parse_dates(expr: pl.Expr, order: DateOrder = "mdy") -> pl.Expr:
    """A Date column from text, null where the text is not one of the recognised forms."""
    text = expr.str.strip_chars()
    numeric = text.str.replace_all(r"[.\-]", "/")
    if order == "dmy":
        numeric_date = _four_or_two(numeric, "%d/%m/%Y", "%d/%m/%y")
    elif order == "ymd":
        numeric_date = numeric.str.to_date("%y/%m/%d", strict=False)
    else:
        numeric_date = _four_or_two(numeric, "%m/%d/%Y", "%m/%d/%y")
    iso = text.str.replace(r"[T ].*$", "").str.to_date("%Y-%m-%d", strict=False)
    ymd_slash = text.str.replace_all(r"[.]", "/").str.to_date("%Y/%m/%d", strict=False)
    compact = text.str.to_date("%Y%m%d", strict=False)
    serial_days = text.cast(pl.Float64, strict=False).floor().cast(pl.Int64, strict=False)
    serial = (pl.lit(EXCEL_EPOCH) + pl.duration(days=serial_days)).cast(pl.Date)
    day_mon = _month_name_date(text)
    return (
        pl.when(text.str.contains(_ISO))
        .then(iso)
        .when(text.str.contains(_YMD_SLASH))
        .then(ymd_slash)
        .when(text.str.contains(_NUMERIC))
        .then(numeric_date)
        .when(text.str.contains(_COMPACT))
        .then(compact)
        .when(text.str.contains(_SERIAL) & (serial_days >= 1))
        .then(serial)
        .otherwise(day_mon)
    )


def _four_or_two(text: pl.Expr, long_format: str, short_format: str) -> pl.Expr:
    """Pick the 4-digit or 2-digit year format by the shape of the value, never by trial."""
    four = text.str.contains(r"/\d{4}$")
    return (
        pl.when(four)
        .then(text.str.to_date(long_format, strict=False))
        .otherwise(text.str.to_date(short_format, strict=False))
    )


def _month_name_date(text: pl.Expr) -> pl.Expr:
    """``14-Mar-2025``, ``14 March 25``, ``Mar 14, 2025`` (month names in English, any case)."""
    day_mon = text.str.extract_groups(_DAY_MON)
    mon_day = text.str.extract_groups(_MON_DAY)
    day = pl.coalesce(day_mon.struct.field("1"), mon_day.struct.field("2"))
    month = (
        pl.coalesce(day_mon.struct.field("2"), mon_day.struct.field("1")).str.slice(0, 3).str.to_titlecase()
    )
    year = pl.coalesce(day_mon.struct.field("3"), mon_day.struct.field("3"))
    year4 = (
        pl.when(year.str.len_chars() == 2)
        .then(
            pl.when(year.cast(pl.Int32, strict=False) < 69).then(pl.lit("20")).otherwise(pl.lit("19")) + year
        )
        .otherwise(year)
    )
    glued = year4 + pl.lit("-") + month + pl.lit("-") + day.str.zfill(2)
    return glued.str.to_date("%Y-%b-%d", strict=False)


def in_window(dates: pl.Expr) -> pl.Expr:
    return (dates >= pl.lit(EARLIEST)) & (dates <= pl.lit(LATEST))
