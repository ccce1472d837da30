"""Ad valorem, specific and compound rates, and the HTS schedule's own rates (general, special, column 2).

ad valorem:  amount = rate x value base
specific:    amount = amount_per_unit x quantity (kg, the line's HTS unit, or kg of content)
compound:    amount = rate x value base + amount_per_unit x quantity
schedule:    the printed rate of the line's HTS code, which is one of the above (specific parts may
             have two terms, e.g. "1.5¢/kg + 2¢/liter + 3%"); "Free" is 0
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin.duty.charge import Charge, PerCase, first_reason, per_case, quantity_in, quantity_in_column, same
from critmin.duty.content import ContentExprs
from critmin.policy.models import AdValorem, Compound, Measure, ScheduleRate, Specific


@dataclass(frozen=True)
class Bases:
    """What a measure's rate can be multiplied by on each line, per content case."""

    value: PerCase  # the measure's value basis, after removing portions it does not stack on
    content: ContentExprs | None
    value_missing: str  # message when the value basis is unknown


def _quantity(measure: Measure, unit: str, bases: Bases, basis: str) -> tuple[PerCase, str]:
    if basis == "content_mass":
        assert bases.content is not None
        return (
            bases.content.mass,
            "needs the kg of contained mineral: give content_kg, or a content factor must exist",
        )
    if unit == "kg":
        return same(quantity_in("kg")), "needs the quantity in kg (quantity_kg)"
    return same(quantity_in(unit)), f"needs the quantity in {unit!r} (the line's unit must be {unit})"


def simple_charge(measure: Measure, rate: AdValorem | Specific | Compound, bases: Bases) -> Charge:
    basis = measure.basis.value
    if isinstance(rate, AdValorem):
        r = pl.lit(rate.rate)
        return Charge(
            basis=basis,
            base=bases.value,
            rate=same(r),
            amount=per_case(lambda c: r * bases.value[c]),
            missing=first_reason([(bases.value["central"].is_null(), bases.value_missing)]),
        )
    if isinstance(rate, Specific):
        qty, why = _quantity(measure, rate.unit, bases, basis)
        a = pl.lit(rate.amount)
        return Charge(
            basis=basis,
            base=qty,
            rate=same(a),
            amount=per_case(lambda c: a * qty[c]),
            rate_unit=f"usd_per_{rate.unit}",
            missing=first_reason([(qty["central"].is_null(), why)]),
        )
    qty_basis = "content_mass" if rate.quantity_basis == "content_mass" else "quantity"
    qty, why = _quantity(measure, rate.unit, bases, qty_basis)
    r = pl.lit(rate.rate)
    a = pl.lit(rate.amount)
    return Charge(
        basis=basis,
        base=bases.value,
        rate=same(r),
        amount=per_case(lambda c: r * bases.value[c] + a * qty[c]),
        specific_rate=a,
        quantity=qty["central"],
        missing=first_reason(
            [(bases.value["central"].is_null(), bases.value_missing), (qty["central"].is_null(), why)]
        ),
    )


_PREFIX = {"general": "g", "column_2": "c2", "special": "s"}


def schedule_charge(measure: Measure, rate: ScheduleRate, bases: Bases) -> Charge:
    """The schedule's printed rate. Columns come from the HTS dimension (``g_*``, ``c2_*``) or the
    special-programme lookup (``s_*``)."""
    p = _PREFIX[rate.column]
    kind = pl.col(f"{p}_kind")
    value = bases.value["central"]
    av = pl.col(f"{p}_av").fill_null(0.0)
    sp = pl.col(f"{p}_sp")
    q1 = quantity_in_column(pl.col(f"{p}_sp_unit"))
    has_sp = sp.is_not_null()
    specific = pl.when(has_sp).then(sp * q1).otherwise(0.0)
    missing_pairs = [
        (
            kind.is_null(),
            "no rate in the HTS schedule for this code (is it a 6-digit heading or an unknown code?)",
        ),
        (kind == "other", "the schedule rate is not machine-readable; see the HTS text for this code"),
        (value.is_null(), bases.value_missing),
        (
            has_sp & q1.is_null(),
            "needs the quantity in the unit of the specific rate (quantity_kg or the HTS unit)",
        ),
    ]
    if rate.column != "special":
        sp2 = pl.col(f"{p}_sp2")
        q2 = quantity_in_column(pl.col(f"{p}_sp2_unit"))
        has_sp2 = sp2.is_not_null()
        specific = specific + pl.when(has_sp2).then(sp2 * q2).otherwise(0.0)
        qualifier = pl.col(f"{p}_sp_qual")
        missing_pairs += [
            (has_sp2 & q2.is_null(), "needs the quantity in the unit of the second specific rate"),
            (
                qualifier.is_not_null(),
                "the specific rate is charged on a content named in the schedule; "
                "this is not computed, see the HTS text",
            ),
        ]
    missing = first_reason(missing_pairs)
    amount = pl.when(missing.is_null()).then(av * value + specific)
    return Charge(
        basis=measure.basis.value,
        base=same(value),
        rate=same(av),
        amount=same(amount),
        specific_rate=pl.when(has_sp).then(sp),
        quantity=pl.when(has_sp).then(q1),
        missing=missing,
    )


def schedule_ad_valorem_charge(measure: Measure, bases: Bases) -> Charge:
    """Fast path of :func:`schedule_charge` for codes whose printed rate is free or purely ad valorem
    (the engine routes only those codes here; the column is ``g_av`` or ``c2_av``)."""
    rate = measure.rate
    assert isinstance(rate, ScheduleRate)
    av = pl.col("g_av" if rate.column == "general" else "c2_av")
    value = bases.value["central"]
    return Charge(
        basis=measure.basis.value,
        base=same(value),
        rate=same(av),
        amount=same(av * value),
        missing=first_reason([(value.is_null(), bases.value_missing)]),
    )
