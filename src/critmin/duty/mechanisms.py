"""The rate mechanisms the engine knows, one registry entry per ``rate.kind``.

An entry says what a mechanism reads (ledger columns, columns of the per-HTS-code dimension, shipped
datasets), how it charges a line (a :class:`~critmin.duty.charge.Charge` of Polars expressions), how the
simulator may treat it, and how a user writes it (a summary and a YAML example, listed by
``critmin policy mechanisms``). The engine asks the registry instead of testing rate types, so a new
mechanism is a model, a charge function and one :func:`register` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from critmin.duty import caps, floors, rates
from critmin.duty.charge import Charge
from critmin.duty.rates import Bases
from critmin.errors import InputError
from critmin.policy.models import (
    AdValorem,
    Compound,
    Measure,
    MinimumPriceBackstop,
    PriceFloor,
    RateModel,
    ScheduleRate,
    Specific,
    TopUpToCap,
    rate_kind,
    register_rate_model,
)

SimulateAs = Literal["linear", "floor", "backstop"]
"""``linear``: the amount is rate x base on each line (the simulator may scale it); ``floor``: it depends
on the line's unit price against a reference price; ``backstop``: an ad valorem part with a minimum price
behind it, ``max(a x base, F x q - value)``, which the simulator splits into a linear part and a floor."""

QUANTITY_COLUMNS = ("quantity_kg", "quantity", "unit")


@dataclass(frozen=True)
class Mechanism:
    """One rate kind: ``model`` validates what a measure file writes under ``rate:`` (its ``kind`` field
    names the mechanism); ``charge`` prices it; the rest tells the engine what to read and the simulator
    how the amount moves."""

    model: type[RateModel]
    summary: str
    example: str
    charge: Callable[[Measure, Any, int, Bases], Charge]
    line_columns: tuple[str, ...] = ()
    dim_columns: Callable[[Any, int], list[str]] = field(default=lambda rate, index: [])
    datasets: Callable[[Any], set[str]] = field(default=lambda rate: set())
    needs_schedule: Callable[[Any], bool] = field(default=lambda rate: False)
    simulate_as: SimulateAs = "linear"
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return rate_kind(self.model)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "summary": self.summary,
            "parameters": dict(self.parameters),
            "reads_ledger_columns": list(self.line_columns),
            "simulated_as": self.simulate_as,
            "example": self.example,
        }


MECHANISMS: dict[str, Mechanism] = {}


def register(mechanism: Mechanism) -> Mechanism:
    """Add a mechanism (the core kinds register through this too); a kind registers once.

    Its model becomes a valid ``rate:`` of measure and scenario files from then on.
    """
    if mechanism.kind in MECHANISMS:
        raise ValueError(f"rate kind {mechanism.kind!r} is already registered")
    register_rate_model(mechanism.model)
    MECHANISMS[mechanism.kind] = mechanism
    return mechanism


def mechanism_of(rate: object) -> Mechanism:
    kind = getattr(rate, "kind", None)
    if kind not in MECHANISMS:
        known = ", ".join(sorted(MECHANISMS))
        raise InputError(f"unknown rate kind {kind!r}; known kinds: {known}")
    return MECHANISMS[kind]


def charge(measure: Measure, index: int, bases: Bases, rate: object) -> Charge:
    return mechanism_of(rate).charge(measure, rate, index, bases)


# ---------------------------------------------------------------------------------------------------------
# the core kinds


def _schedule_columns(rate: ScheduleRate, index: int) -> list[str]:
    if rate.column == "special":
        return []  # looked up per (code, programme) pair by the engine
    p = "g" if rate.column == "general" else "c2"
    return [f"{p}_{x}" for x in ("kind", "av", "sp", "sp_unit", "sp_qual", "sp2", "sp2_unit")]


def _backstop_columns(rate: MinimumPriceBackstop, index: int) -> list[str]:
    return list(caps.SCHEDULE_COLUMNS) if isinstance(rate.rate, TopUpToCap) else []


register(
    Mechanism(
        AdValorem,
        "A percentage of the value basis.",
        "rate: {kind: ad_valorem, rate: 25%}",
        lambda m, r, i, b: rates.simple_charge(m, r, b),
        parameters={"rate": "fraction or percent"},
    )
)
register(
    Mechanism(
        Specific,
        "US dollars per unit of quantity (kg, a ledger unit, or kg of content with basis content_mass).",
        "basis: quantity\nrate: {kind: specific, amount: 1.5, unit: kg}",
        lambda m, r, i, b: rates.simple_charge(m, r, b),
        line_columns=QUANTITY_COLUMNS,
        parameters={"amount": "USD per unit", "unit": "kg or a ledger unit code"},
    )
)
register(
    Mechanism(
        Compound,
        "An ad valorem rate on the value basis plus US dollars per unit of quantity.",
        "rate: {kind: compound, rate: 5%, amount: 0.5, unit: kg}",
        lambda m, r, i, b: rates.simple_charge(m, r, b),
        line_columns=QUANTITY_COLUMNS,
        parameters={"rate": "fraction", "amount": "USD per unit", "unit": "kg or a ledger unit code"},
    )
)
register(
    Mechanism(
        ScheduleRate,
        "The rate printed in the HTS schedule for the line's code (general, special or column 2).",
        "rate: {kind: schedule, column: general}",
        lambda m, r, i, b: rates.schedule_charge(m, r, b),
        line_columns=QUANTITY_COLUMNS,
        dim_columns=_schedule_columns,
        datasets=lambda r: {"hts_special_programs" if r.column == "special" else "hts_schedule"},
        needs_schedule=lambda r: r.column != "special",
        parameters={"column": "general | special | column_2"},
    )
)
register(
    Mechanism(
        PriceFloor,
        "A reference price per kg of product or of content: variable levy, minimum import price (adjustable "
        "ad valorem) or price undertaking (paid to the exporter).",
        "rate:\n  kind: price_floor\n  mechanism: variable_levy\n  per: content_kg\n"
        "  reference_prices: [{mineral: neodymium, price_usd_per_kg: 110, source: illustrative}]",
        lambda m, r, i, b: floors.floor_charge(m, r, i, b.content),
        line_columns=QUANTITY_COLUMNS,
        dim_columns=lambda r, i: [floors.reference_price_column(i)],
        datasets=lambda r: {"mineral_prices"} if r.shipped_prices is not None else set(),
        simulate_as="floor",
        parameters={
            "mechanism": "variable_levy | minimum_import_price | price_undertaking",
            "per": "product_kg | content_kg",
            "reference_prices": "list of {mineral, stage, price_usd_per_kg, source}",
            "shipped_prices": "{multiplier, year}: prices from the mineral_prices dataset",
        },
    )
)
register(
    Mechanism(
        TopUpToCap,
        "Brings the line's column-1 (general) rate up to a cap: max(0, cap - column-1 rate) x value.",
        "rate: {kind: top_up_to_cap, cap: 10%}",
        lambda m, r, i, b: caps.top_up_charge(m, r, b),
        dim_columns=lambda r, i: list(caps.SCHEDULE_COLUMNS),
        datasets=lambda r: {"hts_schedule"},
        needs_schedule=lambda r: True,
        parameters={"cap": "fraction or percent: the line total the duty tops up to"},
    )
)
register(
    Mechanism(
        MinimumPriceBackstop,
        "An ad valorem duty (or a top-up to a cap) with a minimum import price behind it: the line pays "
        "max(ad valorem part, minimum_price x quantity - value).",
        "rate:\n  kind: minimum_price_backstop\n  minimum_price: 0.22\n  unit: W\n"
        "  rate: {kind: ad_valorem, rate: 15%}",
        lambda m, r, i, b: caps.backstop_charge(m, r, b),
        simulate_as="backstop",
        line_columns=QUANTITY_COLUMNS,
        dim_columns=_backstop_columns,
        datasets=lambda r: {"hts_schedule"} if isinstance(r.rate, TopUpToCap) else set(),
        needs_schedule=lambda r: isinstance(r.rate, TopUpToCap),
        parameters={
            "minimum_price": "USD per unit",
            "unit": "kg or a ledger unit such as W",
            "rate": "optional {kind: ad_valorem, rate} or {kind: top_up_to_cap, cap}",
        },
    )
)

__all__ = ["MECHANISMS", "Mechanism", "charge", "mechanism_of", "register"]
