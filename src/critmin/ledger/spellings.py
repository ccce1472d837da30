"""Work per distinct spelling instead of per cell.

A ledger column repeats a few hundred spellings (dates, currency codes) across a million lines, so a
transformation that is costly per value runs once per spelling and the results are mapped back.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def by_spelling(values: pl.Series, transform: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType) -> pl.Series:
    """``transform`` applied to each distinct non-null value of ``values`` once, mapped back per cell
    (null stays null)."""
    spellings = values.drop_nulls().unique()
    mapped = pl.select(transform(pl.lit(spellings)).cast(dtype)).to_series()
    return values.replace_strict(spellings, mapped, default=None, return_dtype=dtype)
