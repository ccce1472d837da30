"""Price floors at the border: variable levy, minimum import price, price undertaking.

With P the unit value (customs value / kg of product or / kg of contained mineral), F the reference price
and Q the kg:

    variable levy          duty = max(0, F - P) x Q                     (to customs)
    minimum import price   rate = max(0, F / P - 1); duty = rate x value  (to customs; same dollars as the
                                                                         levy, charged as ad valorem)
    price undertaking      payment = max(0, F - P) x Q                  (to the exporter: the importer pays
                                                                         the same, customs collects nothing)

The reference price of a line is the most specific entry of the measure's table: mineral and stage, then
mineral, then stage, then a catch-all. It is written on every component row.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from critmin.duty.charge import Charge, first_reason, per_case
from critmin.duty.content import CASES, ContentExprs
from critmin.duty.references import References
from critmin.policy.models import Measure, PriceFloor, ReferencePrice


def reference_price_column(index: int) -> str:
    return f"_ref_{index}"


def _specificity(entry: ReferencePrice) -> int:
    return (2 if entry.mineral is not None else 0) + (1 if entry.stage is not None else 0)


def floor_table(rate: PriceFloor, refs: References) -> list[ReferencePrice]:
    """The floor's reference prices: the measure's own entries, then shipped prices (USGS MCS, times the
    multiplier) for every mineral and stage the entries do not already price. Each states its source."""
    entries = list(rate.reference_prices)
    spec = rate.shipped_prices
    if spec is None:
        return entries
    prices = refs.prices.filter(pl.col("price_usd_per_kg").is_not_null() & pl.col("stage").is_not_null())
    if spec.year is not None:
        prices = prices.filter(pl.col("year") == spec.year)
    ordered = prices.sort(["mineral_id", "stage", "year", "basis"], descending=[False, False, True, False])
    chosen = ordered.unique(subset=["mineral_id", "stage"], keep="first", maintain_order=True)
    priced = {(e.mineral, e.stage) for e in entries}
    for row in chosen.iter_rows(named=True):
        if (row["mineral_id"], row["stage"]) in priced:
            continue
        estimated = " (estimated)" if row["estimated"] else ""
        entries.append(
            ReferencePrice(
                mineral=row["mineral_id"],
                stage=row["stage"],
                price_usd_per_kg=row["price_usd_per_kg"] * spec.multiplier,
                source=f"{row['basis']}, {row['year']}{estimated}, x {spec.multiplier:g}; {row['source']}",
            )
        )
    return entries


def reference_price_expr(measure: Measure, table: list[ReferencePrice]) -> pl.Expr:
    """On the HTS dimension: the reference price for the code's mineral and stage (null when none fits)."""
    rate = measure.rate
    assert isinstance(rate, PriceFloor)
    if rate.per == "content_kg" and measure.content is not None and measure.content.minerals != "classified":
        mineral: pl.Expr = pl.lit(measure.content.minerals[0])
    else:
        mineral = pl.col("_mineral")
    stage = pl.col("_stage")
    entries = sorted(table, key=_specificity, reverse=True)
    expr: pl.Expr | None = None
    chain: Any = None
    for entry in entries:
        cond = pl.lit(True)
        if entry.mineral is not None:
            cond = cond & (mineral == entry.mineral).fill_null(False)
        if entry.stage is not None:
            cond = cond & (stage == entry.stage).fill_null(False)
        price = pl.lit(entry.price_usd_per_kg)
        chain = pl.when(cond).then(price) if chain is None else chain.when(cond).then(price)
    expr = chain.otherwise(None) if chain is not None else pl.lit(None, dtype=pl.Float64)
    return expr.cast(pl.Float64)


def floor_charge(measure: Measure, rate: PriceFloor, index: int, content: ContentExprs | None) -> Charge:
    value = pl.col("customs_value_usd")
    ref = pl.col(reference_price_column(index))
    if rate.per == "content_kg":
        assert content is not None
        qty = content.mass
        qty_missing = "needs the kg of contained mineral: give content_kg, or a content factor must exist"
        basis = "content_mass"
    else:
        qty = dict.fromkeys(CASES, pl.col("quantity_kg"))
        qty_missing = "needs the quantity in kg (quantity_kg) to compare its unit price with the floor"
        basis = "quantity"
    unit_price = {c: pl.when(qty[c] > 0).then(value / qty[c]) for c in CASES}
    shortfall = {c: (ref - unit_price[c]).clip(lower_bound=0.0) for c in CASES}
    # No kilograms, no shortfall to pay on: a zero-mass line pays nothing under a per-kg floor.
    levy = {c: pl.when(qty[c] == 0).then(0.0).otherwise(shortfall[c] * qty[c]) for c in CASES}
    missing_pairs = [
        (ref.is_null(), "no reference price in this measure for the line's mineral and stage"),
        (qty["central"].is_null(), qty_missing),
        (value.is_null(), "needs the customs value"),
    ]
    if rate.mechanism == "minimum_import_price":
        missing_pairs.append((value <= 0, "a minimum import price needs a positive customs value"))
        missing = first_reason(missing_pairs)
        mip_rate = {c: (ref * qty[c] / value - 1.0).clip(lower_bound=0.0) for c in CASES}
        return Charge(
            basis="customs_value",
            base={c: value for c in CASES},
            rate=mip_rate,
            amount=per_case(lambda c: pl.when(missing.is_null()).then(mip_rate[c] * value)),
            reference_price=ref,
            unit_price=unit_price["central"],
            quantity=qty["central"],
            missing=missing,
        )
    missing = first_reason(missing_pairs)
    return Charge(
        basis=basis,
        base=qty,
        rate=shortfall,
        amount=per_case(lambda c: pl.when(missing.is_null()).then(levy[c])),
        rate_unit="usd_per_kg",
        reference_price=ref,
        unit_price=unit_price["central"],
        missing=missing,
    )
