"""Money, rates and cents as whole-column expressions, so every sentence is built without a row loop.

Duty and fees are compared to the cent: amounts are rounded half up (as CBP rounds a duty or fee to the
cent), after removing the binary noise of a float product (``1.005 * 100`` is ``100.49999...``).
"""

from __future__ import annotations

import polars as pl


def cents(amount: pl.Expr) -> pl.Expr:
    """``amount`` rounded half up (away from zero) to the cent."""
    scaled = (amount.abs() * 100).round(6)
    return ((scaled + 0.5).floor() / 100) * pl.when(amount < 0).then(-1.0).otherwise(1.0)


def money(amount: pl.Expr) -> pl.Expr:
    """``$1,234.56`` (``-$12.00`` for a negative amount, ``unknown`` for null)."""
    whole = cents(amount).abs()
    units = whole.floor().cast(pl.Int64)
    hundredths = ((whole * 100).round(0).cast(pl.Int64) % 100).cast(pl.String).str.zfill(2)
    grouped = (
        units.cast(pl.String).str.reverse().str.replace_all(r"(\d{3})", "${1},").str.reverse()
    ).str.strip_chars_start(",")
    sign = pl.when(cents(amount) < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return (
        pl.when(amount.is_null())
        .then(pl.lit("unknown"))
        .otherwise(sign + pl.lit("$") + grouped + "." + hundredths)
    )


def pct(rate: pl.Expr) -> pl.Expr:
    """A fraction as a percentage without trailing zeros: 0.25 -> ``25%``, 0.021 -> ``2.1%``."""
    text = (rate * 100).round(4).cast(pl.String)
    trimmed = text.str.replace(r"(\.\d*?)0+$", "${1}").str.replace(r"\.$", "")
    return pl.when(rate.is_null()).then(pl.lit("unknown")).otherwise(trimmed + pl.lit("%"))


__all__ = ["cents", "money", "pct"]
