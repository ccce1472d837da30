"""Mineral content factors at run time.

Consumers (ledger classification, duty engine content bases, price floors per kg of contained mineral) call
:func:`factors` and pick rows by HTS prefix. When a ledger line gives only an HTS code, use the rows with
``is_default`` true for that prefix; the chemistry- or grade-specific rows are there for users who know
more. Per-kWh rows (``basis == "per_kwh"``) only apply when the line's quantity is energy.
"""

from __future__ import annotations

import polars as pl

from critmin.refdata.registry import load

FACTOR_COLUMNS = (
    "product_id",
    "hts_prefix",
    "mineral_id",
    "basis",
    "low",
    "central",
    "high",
    "unit",
    "source",
)


def factors() -> pl.DataFrame:
    """The ``content_factors`` dataset: the contract columns first, then is_default, derivation and notes."""
    frame = load("content_factors")
    rest = [c for c in frame.columns if c not in FACTOR_COLUMNS]
    return frame.select(*FACTOR_COLUMNS, *rest)


def default_factors(basis: str = "per_kg_product") -> pl.DataFrame:
    """One row per (hts_prefix, mineral_id): the factor to apply when only the HTS code is known."""
    return factors().filter(pl.col("is_default") & (pl.col("basis") == basis))
