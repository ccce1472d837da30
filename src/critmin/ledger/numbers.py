"""Numbers and money as ledgers write them: ``1,234.56``, ``$1,234.56``, ``(1,234.00)``, ``1.234,56``,
``12.5 kg``, ``USD 1 234``.

Most cells are plain numbers, so each column is first cast directly; only the cells that fail go through
the slower pattern-based reading, and the results are scattered back. Both paths are whole-column Polars
operations. A value that cannot be read becomes null and the validator reports it with the original text;
nothing is coerced to zero.

A reading that is not a usable amount — infinite (``inf``, ``1e309``, a 400-digit number), NaN, or of
:data:`MAX_MAGNITUDE` or more — is null too, so no caller can sum its way to Infinity. The ledger
normaliser asks for the raw reading (``finite=False``) to tell the user *why* (``number_not_finite``).
"""

from __future__ import annotations

import polars as pl

from critmin.ledger.spellings import by_spelling

_SPACES = "[ \t\u00a0\u202f']"
_CURRENCY_TOKEN = r"(?i)(US\$|USD|EUR|GBP|JPY|CNY|RMB|CAD|MXN|KRW|AUD|CHF|INR|TWD|BRL|[$€£¥])"
_GROUPED = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"

MAX_MAGNITUDE = 1e15
"""Smallest size that is no amount, quantity or weight of an entry line (a quadrillion dollars, a billion
tonnes in grams). Below it, sums and products over any ledger stay far from overflow."""


def not_finite(values: pl.Series) -> pl.Series:
    """True where a reading is infinite, NaN or of MAX_MAGNITUDE or more (False where null)."""
    return (~values.is_finite() | (values.abs() >= MAX_MAGNITUDE)).fill_null(False)


def _finite(values: pl.Series, finite: bool) -> pl.Series:
    """With ``finite``, the readings :func:`not_finite` flags made null; else the readings as they are."""
    if not finite:
        return values
    flagged = not_finite(values)
    return values.scatter(flagged.arg_true(), None) if flagged.any() else values


def _normalise_currency(token: pl.Expr) -> pl.Expr:
    token = token.str.to_uppercase()
    return (
        pl.when(token.is_in(["$", "US$", "USD"]))
        .then(pl.lit("USD"))
        .when(token == "€")
        .then(pl.lit("EUR"))
        .when(token == "£")
        .then(pl.lit("GBP"))
        .when(token == "¥")
        .then(pl.lit("JPY"))
        .when(token == "RMB")
        .then(pl.lit("CNY"))
        .otherwise(token)
    )


def _fast(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Direct cast of plain numbers, and the mask of non-empty cells it could not read.

    Polars' float cast accepts exactly the plain forms (``12``, ``-1.5``, ``.5``, ``1e5``) plus ``inf`` and
    ``nan`` (and overflows ``1e309`` to inf): those readings are kept here, for :func:`_finite` to judge.
    """
    fast = values.cast(pl.Float64, strict=False)
    needs = values.is_not_null() & fast.is_null()
    return fast, needs


def _slow_number(values: pl.Series, *, decimal_comma: bool) -> pl.Series:
    """Pattern-based reading of the cells a plain cast cannot read."""
    frame = pl.DataFrame({"text": values.str.strip_chars()})
    text = pl.col("text")
    negative = text.str.contains(r"^\(.*\)$") | text.str.starts_with("-") | text.str.ends_with("-")
    core = (
        text.str.replace_all(_CURRENCY_TOKEN, "")
        .str.replace_all(_SPACES, "")
        .str.replace_all(r"[()]", "")
        .str.strip_chars("+-")
    )
    if decimal_comma:
        cleaned = core.str.replace_all(r"\.", "").str.replace_all(",", ".")
    else:
        european = core.str.contains(r"^[0-9]{1,3}(\.[0-9]{3})+,[0-9]*$") | (
            core.str.contains(r"^[0-9]+,[0-9]+$") & ~core.str.contains(r"^[0-9]{1,3}(,[0-9]{3})+$")
        )
        grouped = core.str.contains(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")
        cleaned = (
            pl.when(european)
            .then(core.str.replace_all(r"\.", "").str.replace_all(",", "."))
            .when(grouped | ~core.str.contains(","))
            .then(core.str.replace_all(",", ""))
            .otherwise(None)
        )
    valid = cleaned.str.contains(r"^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
    value = pl.when(valid).then(cleaned.cast(pl.Float64, strict=False)).otherwise(None)
    return frame.select(pl.when(negative).then(-value).otherwise(value).alias("value")).to_series()


def parse_number(values: pl.Series, *, decimal_comma: bool = False, finite: bool = True) -> pl.Series:
    """Read a column of numbers written with thousands separators, a currency, or accounting brackets.

    Separators: when both ``,`` and ``.`` occur the later one is the decimal mark; a lone ``,`` is a
    thousands separator only in the ``1,234,567`` pattern, otherwise a decimal comma (``12,5``).
    ``decimal_comma=True`` (mapping file) reads every ``,`` as the decimal mark. Three tiers, each a
    whole-column operation on the cells the previous tier could not read: plain numbers, US thousands
    grouping (``12,345.67``), then everything else. ``finite=False`` keeps non-finite readings (see the
    module docstring) instead of making them null.
    """
    return parse_money(values, decimal_comma=decimal_comma, finite=finite)[0]


def parse_money(
    values: pl.Series, *, decimal_comma: bool = False, finite: bool = True
) -> tuple[pl.Series, pl.Series]:
    """:func:`parse_number`, plus the currency named inside each value (``"EUR 1,200"`` -> ``EUR``; ``$``,
    ``US$`` -> ``USD``) or null. Plain and grouped numbers name no currency, so only the other cells are
    searched."""
    values = values.cast(pl.String)
    currency = _nulls(values.name, values.len(), pl.String)
    if decimal_comma:
        number = _nulls(values.name, values.len(), pl.Float64)
        rest = values.is_not_null()
    else:
        number, needs = _fast(values)
        if not needs.any():
            return _finite(number, finite).alias(values.name), currency
        # the second tier runs on the whole column: in a broker export it is often most of the cells
        grouped = (needs & values.str.contains(_GROUPED)).fill_null(False)
        if grouped.any():
            ungrouped = values.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)
            number = number.zip_with(~grouped, ungrouped)
        rest = needs & ~grouped
    if not rest.any():
        return _finite(number, finite).alias(values.name), currency
    index = rest.arg_true()
    subset = values.gather(index)
    number = number.scatter(index, _slow_number(subset, decimal_comma=decimal_comma))
    named = subset.str.contains(r"[A-Za-z$€£¥]").fill_null(False)
    if named.any():
        where = named.arg_true()
        tokens = pl.select(
            _normalise_currency(pl.lit(subset.gather(where)).str.extract(_CURRENCY_TOKEN, 1))
        ).to_series()
        currency = currency.scatter(index.gather(where), tokens)
    return _finite(number, finite).alias(values.name), currency


def _nulls(name: str, length: int, dtype: type[pl.DataType]) -> pl.Series:
    return pl.repeat(None, length, dtype=dtype, eager=True).alias(name)


def normalise_currency_code(values: pl.Series) -> pl.Series:
    """A currency column (``usd``, ``$``, ``RMB``) as ISO codes."""
    return by_spelling(
        values.cast(pl.String), lambda code: _normalise_currency(code.str.strip_chars()), pl.String()
    )


def parse_share(values: pl.Series, *, decimal_comma: bool = False, finite: bool = True) -> pl.Series:
    """Shares as fractions: ``0.9`` stays 0.9, ``90%`` and ``90 %`` become 0.9. Nothing is range-checked
    here (``90`` stays 90, for the validator to report); unreadable cells become null."""
    text = values.cast(pl.String).str.strip_chars()
    percent = text.str.contains(r"%$").fill_null(False)
    number = parse_number(text.str.replace(r"\s*%$", ""), decimal_comma=decimal_comma, finite=finite)
    return number.zip_with(~percent, number / 100.0).alias(values.name)


_QUANTITY = (
    r"^[ \t]*([-+(]?[0-9.,  \u00a0']*[0-9][0-9.,  \u00a0']*\)?)[ \t]*([A-Za-z#][A-Za-z#. ²³0-9]*)?[ \t]*$"
)


def split_quantity(
    values: pl.Series, *, decimal_comma: bool = False, finite: bool = True
) -> tuple[pl.Series, pl.Series]:
    """Quantities with their unit written in the cell: ``"12.5 kg"`` -> (12.5, ``"kg"``).

    Cells that are plain numbers give a null unit; the rest are split into a number and a unit text.
    ``finite`` as for :func:`parse_number`.
    """
    values = values.cast(pl.String)
    fast, needs = _fast(values)
    if decimal_comma:
        fast = _nulls(values.name, values.len(), pl.Float64)
        needs = values.is_not_null()
    units = _nulls(values.name, values.len(), pl.String)
    if not needs.any():
        return _finite(fast, finite).alias(values.name), units
    index = needs.arg_true()
    subset = values.gather(index)
    whole = _slow_number(subset, decimal_comma=decimal_comma)
    frame = pl.DataFrame({"text": subset, "whole": whole}).with_columns(
        pl.col("text").str.extract(_QUANTITY, 1).alias("number"),
        pl.col("text").str.extract(_QUANTITY, 2).str.strip_chars().alias("unit"),
    )
    number = pl.select(
        pl.when(frame.get_column("whole").is_not_null())
        .then(pl.lit(frame.get_column("whole")))
        .otherwise(
            pl.lit(_slow_number(frame.get_column("number").fill_null(""), decimal_comma=decimal_comma))
        )
    ).to_series()
    unit = pl.select(
        pl.when(frame.get_column("whole").is_null() & (pl.lit(frame.get_column("unit")).str.len_chars() > 0))
        .then(pl.lit(frame.get_column("unit")))
        .otherwise(None)
    ).to_series()
    return _finite(fast.scatter(index, number), finite).alias(values.name), units.scatter(index, unit)
