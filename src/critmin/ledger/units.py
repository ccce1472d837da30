"""Units of quantity: every common spelling to one canonical code, and mass conversion through pint.

Ledgers spell units every way there is (``KG``, ``KGS``, ``Kilograms``, ``MT``, ``LBS``, ``ozt``, ``PCS``,
``EA``, UN/ECE codes such as ``KGM``). Each spelling maps to one canonical code (the ``unit`` column of the
canonical ledger); pint supplies the conversion factor of each canonical unit once, and quantities are
converted by a join on the distinct units of a chunk — never per row.
"""

from __future__ import annotations

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
}

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
    return table


def canonical_unit(text: str, extra: dict[str, str] | None = None) -> str | None:
    """The canonical code of one spelling, or None. ``extra`` holds a mapping file's own aliases."""
    key = unit_key(text)
    if extra:
        extra_keys = {unit_key(k): v for k, v in extra.items()}
        if key in extra_keys:
            return extra_keys[key]
    return alias_table().get(key)


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
    """One row per canonical unit: ``unit``, ``dimension`` (mass, count, volume, length, area) and
    ``to_base`` (factor to kg, pieces, m3, m or m2), computed by pint.

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
    """Distinct raw unit texts -> canonical code (null when unknown) and, for unknown ones, suggestions."""
    distinct = values.drop_nulls().unique()
    table = alias_table()
    if extra:
        table = {**table, **{unit_key(k): v for k, v in extra.items()}}
    lookup = pl.DataFrame(
        {"key": list(table), "unit": list(table.values())}, schema={"key": pl.String, "unit": pl.String}
    )
    frame = pl.DataFrame({"raw": distinct}, schema={"raw": pl.String}).with_columns(
        unit_key_expr(pl.col("raw")).alias("key")
    )
    resolved = frame.join(lookup, on="key", how="left", maintain_order="left").select("raw", "unit")
    suggestions = [
        ", ".join(suggest_units(raw)) if unit is None else None for raw, unit in resolved.iter_rows()
    ]
    return resolved.with_columns(pl.Series("suggestions", suggestions, dtype=pl.String))


def suggest_units(text: str, k: int = 3) -> list[str]:
    """Canonical codes whose spellings are closest to an unknown unit, for the quarantine message."""
    import difflib

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
}
"""Dimension of the unit codes of the shipped HTS schedule (``hts_schedule.unit`` / ``unit2``)."""
