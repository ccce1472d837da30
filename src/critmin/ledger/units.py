"""Units of quantity: every common spelling to one canonical code, and mass conversion through pint.

Ledgers spell units every way there is (``KG``, ``KGS``, ``Kilograms``, ``MT``, ``LBS``, ``ozt``, ``PCS``,
``EA``, UN/ECE codes such as ``KGM``). Each spelling maps to one canonical code (the ``unit`` column of the
canonical ledger); pint supplies the conversion factor of each canonical unit once, and quantities are
converted by a join on the distinct units of a chunk — never per row.

A few spellings are multiples of their canonical unit: power is kept in watts (``W``, the unit of the
per-watt price floor on solar cells and modules), so ``kW``, ``kWp`` and ``MW`` are read as ``W`` and the
quantity is scaled by the factor pint gives (``2.5 kW`` -> ``2500 W``). Every other spelling has scale 1:
``t`` stays a quantity in tonnes, with its mass in ``quantity_kg``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pint
import polars as pl


@dataclass(frozen=True)
class UnitDef:
    """A canonical unit: its code in the ledger, the pint expression and what it measures."""

    code: str
    pint_expr: str
    label: str


CANONICAL_UNITS: tuple[UnitDef, ...] = (
    UnitDef("kg", "kilogram", "kilogram"),
    UnitDef("g", "gram", "gram"),
    UnitDef("mg", "milligram", "milligram"),
    UnitDef("t", "metric_ton", "metric ton (tonne)"),
    UnitDef("lb", "pound", "pound (avoirdupois)"),
    UnitDef("oz", "ounce", "ounce (avoirdupois)"),
    UnitDef("troy_oz", "troy_ounce", "troy ounce"),
    UnitDef("short_ton", "short_ton", "short ton (2,000 lb)"),
    UnitDef("long_ton", "long_ton", "long ton (2,240 lb)"),
    UnitDef("ct", "carat", "metric carat"),
    UnitDef("no", "count", "number (pieces)"),
    UnitDef("doz", "dozen", "dozen"),
    UnitDef("gross", "gross", "gross (144)"),
    UnitDef("pr", "pair", "pairs"),
    UnitDef("thousand", "thousand", "thousands"),
    UnitDef("l", "liter", "liter"),
    UnitDef("m", "meter", "meter"),
    UnitDef("m2", "meter ** 2", "square meter"),
    UnitDef("m3", "meter ** 3", "cubic meter"),
    UnitDef("W", "watt", "watt (solar cells and modules: watts peak)"),
)

UNITS_BY_CODE: dict[str, UnitDef] = {unit.code: unit for unit in CANONICAL_UNITS}

_ALIASES: dict[str, tuple[str, ...]] = {
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes", "kgm", "kgr"),
    "g": ("g", "gm", "gms", "gram", "grams", "gramme", "grammes", "grm"),
    "mg": ("mg", "milligram", "milligrams", "mgm"),
    "t": ("t", "mt", "tonne", "tonnes", "metricton", "metrictons", "metrictonne", "tne", "ton(metric)"),
    "lb": ("lb", "lbs", "pound", "pounds", "lbr", "#"),
    "oz": ("oz", "ounce", "ounces", "onz"),
    "troy_oz": ("troyoz", "troyounce", "troyounces", "ozt", "toz", "oztr", "apz", "troy_oz"),
    "short_ton": ("shortton", "shorttons", "ston", "stn", "short_ton"),
    "long_ton": ("longton", "longtons", "lton", "long_ton"),
    "ct": ("ct", "cts", "carat", "carats", "ctm"),
    "no": (
        "no",
        "nos",
        "number",
        "numbers",
        "pc",
        "pcs",
        "piece",
        "pieces",
        "ea",
        "each",
        "unit",
        "units",
        "c62",
        "h87",
        "nmb",
        "nar",
        "article",
        "articles",
    ),
    "doz": ("doz", "dozen", "dozens", "dzn"),
    "gross": ("gross", "grs", "gro"),
    "pr": ("pr", "prs", "pair", "pairs", "npr"),
    "thousand": ("thousand", "thousands", "thou", "1000"),
    "l": ("l", "lt", "ltr", "ltrs", "liter", "liters", "litre", "litres", "ltr"),
    "m": ("m", "mtr", "mtrs", "meter", "meters", "metre", "metres", "linm", "lm"),
    "m2": ("m2", "sqm", "sqmeter", "sqmeters", "squaremeter", "squaremeters", "mtk", "m²"),
    "m3": ("m3", "cbm", "cum", "cubicmeter", "cubicmeters", "mtq", "m³"),
    "W": ("w", "watt", "watts", "wp", "wattpeak", "wattspeak", "peakwatt", "peakwatts", "wtt"),
}

_SCALED_ALIASES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "W": (
        ("kilowatt", ("kw", "kwp", "kilowatt", "kilowatts", "kilowattpeak", "kilowattspeak", "kwt")),
        ("megawatt", ("mw", "mwp", "megawatt", "megawatts", "megawattpeak", "megawattspeak", "maw")),
        ("gigawatt", ("gw", "gwp", "gigawatt", "gigawatts")),
    ),
}
"""Spellings that are a multiple of their canonical unit: code -> ((pint unit of the spelling, spellings),
...). The quantity is multiplied by pint's factor from that unit to the canonical one. Spellings are
compared in lower case, so ``MW`` is megawatts: customs quantities never come in milliwatts."""

_PINT_DEFINITIONS = (
    "dozen = 12 * count",
    "gross = 144 * count",
    "pair = 2 * count",
    "thousand = 1000 * count",
)


def unit_key(text: str) -> str:
    """The lookup key of a unit spelling: lower case without spaces, dots, hyphens or underscores."""
    return re.sub(r"[\s.\-_]", "", text.strip().lower())


def unit_key_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`unit_key` as a Polars expression."""
    return expr.str.strip_chars().str.to_lowercase().str.replace_all(r"[\s.\-_]", "")


@cache
def alias_table() -> dict[str, str]:
    """Every recognised spelling key -> canonical code."""
    table: dict[str, str] = {}
    for code, spellings in _ALIASES.items():
        for spelling in spellings:
            table[unit_key(spelling)] = code
    for code, groups in _SCALED_ALIASES.items():
        for _, spellings in groups:
            for spelling in spellings:
                table[unit_key(spelling)] = code
    return table


@cache
def scale_table() -> dict[str, float]:
    """Spelling key -> factor to its canonical unit, for the spellings that are multiples (``kw`` -> 1000).

    Spellings not listed here have scale 1.
    """
    registry = _registry()
    table: dict[str, float] = {}
    for code, groups in _SCALED_ALIASES.items():
        target = UNITS_BY_CODE[code].pint_expr
        for pint_expr, spellings in groups:
            factor = float(f"{registry.Quantity(1.0, pint_expr).to(target).magnitude:.12g}")
            for spelling in spellings:
                table[unit_key(spelling)] = factor
    return table


def unit_scale(text: str) -> float:
    """How many canonical units one ``text`` is: 1000 for ``kW`` (in ``W``), 1 for every plain spelling."""
    return scale_table().get(unit_key(text), 1.0)


def canonical_unit(text: str, extra: dict[str, str] | None = None) -> str | None:
    """The canonical code of one spelling, or None. ``extra`` holds a mapping file's own aliases."""
    key = unit_key(text)
    if extra:
        extra_keys = {unit_key(k): v for k, v in extra.items()}
        if key in extra_keys:
            target = extra_keys[key]
            return target if target in UNITS_BY_CODE else alias_table().get(unit_key(target))
    return alias_table().get(key)


def is_unit(text: str) -> bool:
    """True when ``text`` is a canonical code or a recognised spelling (what a mapping file's ``units:``
    may point an alias at: ``CTN: no``, ``KWT: kW``)."""
    return text in UNITS_BY_CODE or unit_key(text) in alias_table()


@cache
def _registry() -> Any:
    """pint's registry, with its parsed definitions cached on disk when possible (2 s -> 0.05 s to build)."""
    registry: Any
    try:
        registry = pint.UnitRegistry(cache_folder=":auto:")
    except OSError:
        registry = pint.UnitRegistry()
    for definition in _PINT_DEFINITIONS:
        registry.define(definition)
    return registry


@cache
def unit_table() -> pl.DataFrame:
    """One row per canonical unit: ``unit``, ``dimension`` (mass, count, volume, length, area, power) and
    ``to_base`` (factor to kg, pieces, m3, m, m2 or W), computed by pint.

    Factors are rounded to 12 significant digits so that a pound is 0.45359237 kg, not 0.4535923700000001.
    """
    registry = _registry()
    rows: list[dict[str, object]] = []
    for unit in CANONICAL_UNITS:
        quantity = registry.Quantity(1.0, unit.pint_expr)
        dimensionality = quantity.dimensionality
        if dimensionality == registry.kilogram.dimensionality:
            dimension, target = "mass", "kilogram"
        elif dimensionality == registry.count.dimensionality:
            dimension, target = "count", "count"
        elif dimensionality == registry.meter.dimensionality:
            dimension, target = "length", "meter"
        elif dimensionality == (registry.meter**2).dimensionality:
            dimension, target = "area", "meter ** 2"
        elif dimensionality == registry.watt.dimensionality:
            dimension, target = "power", "watt"
        else:
            dimension, target = "volume", "meter ** 3"
        factor = float(f"{quantity.to(target).magnitude:.12g}")
        rows.append({"unit": unit.code, "dimension": dimension, "to_base": factor})
    return pl.DataFrame(rows, schema={"unit": pl.String, "dimension": pl.String, "to_base": pl.Float64})


def dimension_of(code: str) -> str | None:
    match = unit_table().filter(pl.col("unit") == code)
    return match.item(0, "dimension") if match.height else None


def to_kg_factor(code: str) -> float | None:
    """kg per one ``code`` for mass units, None otherwise."""
    match = unit_table().filter((pl.col("unit") == code) & (pl.col("dimension") == "mass"))
    return match.item(0, "to_base") if match.height else None


def resolve_units(values: pl.Series, extra: dict[str, str] | None = None) -> pl.DataFrame:
    """Distinct raw unit texts -> canonical code (null when unknown), ``unit_scale`` (canonical units in
    one raw unit: 1000 for ``kW``, 1 for most; null when unknown) and, for unknown ones, suggestions.

    ``extra`` (a mapping file's ``units:``) maps spellings to a canonical code or to a known spelling
    (``KWT: kW`` reads KWT as kilowatts)."""
    distinct = values.drop_nulls().unique()
    table = alias_table()
    scales = scale_table()
    if extra:
        table = dict(table)
        scales = dict(scales)
        for spelling, target in extra.items():
            key = unit_key(spelling)
            code = canonical_unit(target)
            if target in UNITS_BY_CODE:
                table[key], scales[key] = target, 1.0
            elif code is not None:
                table[key], scales[key] = code, unit_scale(target)
    lookup = pl.DataFrame(
        {"key": list(table), "unit": list(table.values()), "unit_scale": [scales.get(k, 1.0) for k in table]},
        schema={"key": pl.String, "unit": pl.String, "unit_scale": pl.Float64},
    )
    frame = pl.DataFrame({"raw": distinct}, schema={"raw": pl.String}).with_columns(
        unit_key_expr(pl.col("raw")).alias("key")
    )
    resolved = frame.join(lookup, on="key", how="left", maintain_order="left").select(
        "raw", "unit", "unit_scale"
    )
    suggestions = [
        ", ".join(suggest_units(raw)) if unit is None else None for raw, unit, _ in resolved.iter_rows()
    ]
    return resolved.with_columns(pl.Series("suggestions", suggestions, dtype=pl.String))


def suggest_units(text: str, k: int = 3) -> list[str]:
    """Canonical codes whose spellings are closest to an unknown unit, for the quarantine message."""
    key = unit_key(text)
    close = difflib.get_close_matches(key, list(alias_table()), n=10, cutoff=0.5)
    seen: list[str] = []
    for spelling in close:
        code = alias_table()[spelling]
        if code not in seen:
            seen.append(code)
    return seen[:k]


SCHEDULE_UNIT_DIMENSIONS: dict[str, str] = {
    "kg": "mass",
    "g": "mass",
    "t": "mass",
    "carat": "mass",
    "no": "count",
    "pcs": "count",
    "doz": "count",
    "pr": "count",
    "doz_pr": "count",
    "doz_pcs": "count",
    "gross": "count",
    "hundred": "count",
    "thousand": "count",
    "m": "length",
    "thousand_m": "length",
    "m2": "area",
    "cm2": "area",
    "l": "volume",
    "pf_l": "volume",
    "bbl": "volume",
    "m3": "volume",
    "thousand_m3": "volume",
    "w": "power",
}
"""Dimension of the unit codes of the shipped HTS schedule (``hts_schedule.unit`` / ``unit2``)."""
