"""The shape every mechanism returns: base, rate and amount expressions per content case.

A mechanism (ad valorem, specific, schedule rate, price floor, quota tranche) only builds Polars expressions;
the engine decides where they apply and materialises them. Amounts are null, never zero, when an input
is missing; ``missing`` then says which input and how to supply it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from critmin.duty.content import CASES

PerCase = dict[str, pl.Expr]


def same(expr: pl.Expr) -> PerCase:
    """One expression for all three cases (content does not enter)."""
    return dict.fromkeys(CASES, expr)


def per_case(build: Callable[[str], pl.Expr]) -> PerCase:
    return {case: build(case) for case in CASES}


def content_dependent(values: PerCase) -> bool:
    return not (values["low"] is values["central"] is values["high"])


@dataclass
class Charge:
    basis: str
    base: PerCase
    rate: PerCase
    amount: PerCase
    rate_unit: str = "fraction"  # fraction (ad valorem) or usd_per_<unit>
    specific_rate: pl.Expr | None = None
    quantity: pl.Expr | None = None
    reference_price: pl.Expr | None = None
    unit_price: pl.Expr | None = None
    missing: pl.Expr = field(default_factory=lambda: pl.lit(None, dtype=pl.String))
    notice: pl.Expr | None = None
    """Where the amount is computed but rests on an assumption the user should see (null elsewhere)."""

    def scaled(self, factor: PerCase) -> Charge:
        """The same charge on a share of the line (a quota tranche): base, quantity and amount scale."""
        return Charge(
            basis=self.basis,
            base={c: self.base[c] * factor[c] for c in CASES},
            rate=self.rate,
            amount={c: self.amount[c] * factor[c] for c in CASES},
            rate_unit=self.rate_unit,
            specific_rate=self.specific_rate,
            quantity=None if self.quantity is None else self.quantity * factor["central"],
            reference_price=self.reference_price,
            unit_price=self.unit_price,
            missing=self.missing,
            notice=self.notice,
        )


def quantity_in(unit: str) -> pl.Expr:
    """Line quantity in ``unit``: kg from ``quantity_kg``, other units only when the line is in that unit."""
    if unit == "kg":
        return pl.col("quantity_kg")
    return pl.when(pl.col("unit") == unit).then(pl.col("quantity"))


def quantity_in_column(unit_col: pl.Expr) -> pl.Expr:
    """Line quantity in a unit named per row (the schedule's specific-rate unit)."""
    return (
        pl.when(unit_col == "kg")
        .then(pl.col("quantity_kg"))
        .when(unit_col == pl.col("unit"))
        .then(pl.col("quantity"))
    )


def first_reason(pairs: list[tuple[pl.Expr, str]]) -> pl.Expr:
    """The first message whose condition holds (null when none does)."""
    if not pairs:
        return pl.lit(None, dtype=pl.String)
    expr: Any = pl.when(pairs[0][0]).then(pl.lit(pairs[0][1]))
    for cond, message in pairs[1:]:
        expr = expr.when(cond).then(pl.lit(message))
    return expr.otherwise(pl.lit(None, dtype=pl.String))
