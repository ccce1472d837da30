"""Mineral names as users write them (``Cu``, ``Copper``, ``NdPr``, ``rare earth``) -> critmin mineral ids.

The ids are the lowercase English names of the USGS critical-mineral lists (plus the aggregates
``rare_earths`` and ``platinum_group_metals``). Element symbols and common alternative spellings are
accepted so that a ledger's content column or a BOM's material column can be written the way engineers
write it; anything else is reported, never guessed.

Ids, names and symbols come from the shipped ``minerals`` dataset; this module adds the alternative
spellings below and the content materials that are not minerals: the Section 232 metals are steel,
aluminum and copper, and steel (an alloy, not a critical mineral) is accepted as a content id here, so a
line can state its steel content the way it states its copper content.
"""

from __future__ import annotations

import re
from functools import cache

import polars as pl

from critmin.refdata import load

_SPELLINGS: dict[str, str] = {
    "aluminium": "aluminum",
    "wolfram": "tungsten",
    "columbium": "niobium",
    "caesium": "cesium",
    "natural graphite": "graphite",
    "synthetic graphite": "graphite",
    "artificial graphite": "graphite",
    "ree": "rare_earths",
    "rees": "rare_earths",
    "reo": "rare_earths",
    "rare earth": "rare_earths",
    "rare earths": "rare_earths",
    "rare earth elements": "rare_earths",
    "rare earth oxide": "rare_earths",
    "rare earth oxides": "rare_earths",
    "pgm": "platinum_group_metals",
    "pgms": "platinum_group_metals",
    "platinum group metals": "platinum_group_metals",
    "met coal": "metallurgical_coal",
    "metallurgical coal": "metallurgical_coal",
    "coking coal": "metallurgical_coal",
}

CONTENT_MATERIALS: dict[str, str] = {"steel": "Steel"}
"""Content ids accepted besides the ``minerals`` dataset (id -> name): materials a duty measure charges on
their content although they are not critical minerals (steel, for Section 232)."""

_MATERIAL_SPELLINGS: dict[str, str] = {
    "iron and steel": "steel",
    "iron or steel": "steel",
    "iron & steel": "steel",  # punctuation is ignored: also iron/steel, iron-steel
    "carbon steel": "steel",
    "alloy steel": "steel",
    "stainless steel": "steel",
    "stainless": "steel",
}
"""Spellings of the content materials. ``iron``/``Fe`` are deliberately absent: iron content is not steel
content (ore, pig iron, ferro-alloys), so it stays unrecognised rather than guessed."""


def _key(text: str) -> str:
    return " ".join(re.split(r"[^0-9a-z]+", text.strip().lower())).strip()


@cache
def alias_table() -> dict[str, str]:
    """Spelling key -> mineral id."""
    minerals = load("minerals").select("mineral_id", "name", "symbol")
    table: dict[str, str] = {}
    for mineral_id, name, symbol in minerals.iter_rows():
        table[mineral_id] = mineral_id
        table[_key(mineral_id)] = mineral_id
        table[_key(name)] = mineral_id
        if symbol:
            table.setdefault(symbol.lower(), mineral_id)
    for spelling, mineral_id in _SPELLINGS.items():
        table.setdefault(_key(spelling), mineral_id)
    for material_id, name in CONTENT_MATERIALS.items():
        table.setdefault(material_id, material_id)
        table.setdefault(_key(name), material_id)
    for spelling, material_id in _MATERIAL_SPELLINGS.items():
        table.setdefault(_key(spelling), material_id)
    return table


def mineral_ids() -> frozenset[str]:
    """Every mineral id critmin knows (the ``minerals`` dataset)."""
    return frozenset(load("minerals").get_column("mineral_id").to_list())


def content_ids() -> frozenset[str]:
    """Every id a ledger's ``content_mineral`` or a BOM's content row may hold: minerals and materials."""
    return mineral_ids() | frozenset(CONTENT_MATERIALS)


def mineral_from_text(text: str) -> str | None:
    """A mineral id from a name, id or element symbol; None when not recognised."""
    key = _key(text)
    return alias_table().get(key) or alias_table().get(key.replace(" ", "_"))


def resolve_minerals(values: pl.Series) -> pl.DataFrame:
    """Distinct raw mineral texts -> mineral id (null when unknown), for a join back onto a chunk."""
    distinct = values.drop_nulls().unique().to_list()
    return pl.DataFrame(
        {"raw": distinct, "mineral": [mineral_from_text(v) for v in distinct]},
        schema={"raw": pl.String, "mineral": pl.String},
    )
