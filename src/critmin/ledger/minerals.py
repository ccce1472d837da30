"""Mineral names as users write them (``Cu``, ``Copper``, ``NdPr``, ``rare earth``) -> critmin mineral ids.

The ids are the lowercase English names of the USGS critical-mineral lists (plus the aggregates
``rare_earths`` and ``platinum_group_metals``). Element symbols and common alternative spellings are
accepted so that a ledger's content column or a BOM's material column can be written the way engineers
write it; anything else is reported, never guessed.

Ids, names and symbols come from the shipped ``minerals`` dataset; this module only adds the alternative
spellings below.
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
    return table


def mineral_ids() -> frozenset[str]:
    """Every mineral id critmin knows (the ``minerals`` dataset)."""
    return frozenset(load("minerals").get_column("mineral_id").to_list())


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
