"""Charges measured against the line's own column-1 rate or a minimum price.

top_up_to_cap:           rate = max(0, cap - column-1 rate);  amount = rate x value
minimum_price_backstop:  amount = max(ad valorem part, minimum_price x quantity - value)

Both read the printed general rate of the line's HTS code from the HTS dimension (``g_*`` columns). Where
that rate has a specific part, its ad valorem equivalent is not computed: the top-up uses the ad valorem
part only, which can only overstate the additional duty, and the line is flagged.
"""

from __future__ import annotations

import polars as pl

from critmin.duty.charge import Charge, first_reason, per_case, quantity_in, same
from critmin.duty.rates import Bases
from critmin.policy.models import AdValorem, Measure, MinimumPriceBackstop, TopUpToCap

SCHEDULE_COLUMNS = ("g_kind", "g_av", "g_simple")
"""HTS-dimension columns a top-up reads (the printed general rate and whether it is purely ad valorem)."""

NO_SCHEDULE = "no column-1 rate in the HTS schedule for this code, so the cap cannot be compared"


def _top_up_rate(rate: TopUpToCap) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The additional rate, the reason it is unknown (or null) and a notice where it is approximate."""
    column1 = pl.col("g_av").fill_null(0.0)
    additional = (pl.lit(rate.cap) - column1).clip(lower_bound=0.0)
    missing = pl.when(pl.col("g_kind").is_null()).then(pl.lit(NO_SCHEDULE))
    notice = pl.when(pl.col("g_kind").is_not_null() & ~pl.col("g_simple").fill_null(False)).then(
        pl.lit(
            f"the column-1 rate has a specific part; the {rate.cap:.4g} cap was compared with its ad valorem "
            "part only, so the additional duty may be overstated (see the HTS text for the code)"
        )
    )
    return additional, missing, notice


def top_up_charge(measure: Measure, rate: TopUpToCap, bases: Bases) -> Charge:
    additional, no_rate, notice = _top_up_rate(rate)
    value = bases.value["central"]
    missing = pl.coalesce(no_rate, first_reason([(value.is_null(), bases.value_missing)]))
    return Charge(
        basis=measure.basis.value,
        base=bases.value,
        rate=same(pl.when(no_rate.is_null()).then(additional)),
        amount=per_case(lambda c: pl.when(missing.is_null()).then(additional * bases.value[c])),
        missing=missing,
        notice=notice,
    )


def backstop_charge(measure: Measure, rate: MinimumPriceBackstop, bases: Bases) -> Charge:
    value = bases.value["central"]
    notices: list[pl.Expr] = []
    reasons: list[pl.Expr] = [first_reason([(value.is_null(), bases.value_missing)])]
    if isinstance(rate.rate, AdValorem):
        ad_valorem = pl.lit(rate.rate.rate) * value
    elif rate.rate is not None:
        additional, no_rate, notice = _top_up_rate(rate.rate)
        ad_valorem = additional * value
        reasons.append(no_rate)
        notices.append(notice)
    else:
        ad_valorem = pl.lit(0.0)
    quantity = quantity_in(rate.unit)
    has_quantity = quantity.is_not_null() & (quantity > 0)
    customs = pl.col("customs_value_usd")  # the price test is on the declared price, whatever the basis
    gap = (pl.lit(rate.minimum_price) * quantity - customs).clip(lower_bound=0.0)
    amount = pl.when(has_quantity).then(pl.max_horizontal(ad_valorem, gap)).otherwise(ad_valorem)
    notices.append(
        pl.when(~has_quantity).then(
            pl.lit(
                f"no quantity in {rate.unit}: the minimum import price "
                f"(USD {rate.minimum_price:g}/{rate.unit}) was not tested and only the ad valorem part "
                f"was charged, a lower bound; give the quantity in {rate.unit}"
            )
        )
    )
    missing = pl.coalesce(*reasons)
    amount = pl.when(missing.is_null()).then(amount)
    return Charge(
        basis=measure.basis.value,
        base=same(value),
        rate=same(pl.when(value > 0).then(amount / value)),
        amount=same(amount),
        specific_rate=pl.lit(rate.minimum_price),
        quantity=quantity,
        reference_price=pl.lit(rate.minimum_price),
        unit_price=pl.when(has_quantity).then(customs / quantity),
        missing=missing,
        notice=pl.coalesce(*notices),
    )
