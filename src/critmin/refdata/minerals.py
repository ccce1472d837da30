"""Critical minerals at run time: ids, names, and which official list names which mineral.

Lists change by publication (the 2022 USGS list has 50 entries, the 2025 final list 60, the 2018 list named
rare earths as one group), so "is X critical?" is always asked of a list id. Aggregates (``rare_earths``,
``platinum_group_metals``) count as covered when the list names them or any of their components, and a mineral
counts as covered when the list names an aggregate that contains it.
"""

from __future__ import annotations

import polars as pl

from critmin.errors import NotFoundError
from critmin.refdata.registry import load


class UnknownMineralError(NotFoundError, LookupError):
    """A mineral id or critical-mineral list id that the shipped data do not define."""


def minerals() -> pl.DataFrame:
    """The ``minerals`` dataset: one row per mineral id with names, symbols, groups and list flags."""
    return load("minerals")


def mineral_lists() -> pl.DataFrame:
    """The ``mineral_lists`` dataset: (list_id, mineral_id) with publication dates and citations."""
    return load("mineral_lists")


def list_ids() -> list[str]:
    return sorted(mineral_lists()["list_id"].unique().to_list())


def _check_list(list_id: str) -> None:
    known = list_ids()
    if list_id not in known:
        raise UnknownMineralError(f"Unknown mineral list {list_id!r}. Known lists: {', '.join(known)}.")


def _check_mineral(mineral_id: str) -> None:
    if mineral_id not in set(minerals()["mineral_id"].to_list()):
        hint = resolve_mineral_or_none(mineral_id)
        extra = f" Did you mean {hint!r}?" if hint else ""
        raise UnknownMineralError(f"Unknown mineral id {mineral_id!r}.{extra}")


def list_members(list_id: str) -> frozenset[str]:
    """Mineral ids exactly as the list names them (the 2018 list names ``rare_earths``, not neodymium)."""
    _check_list(list_id)
    return frozenset(mineral_lists().filter(pl.col("list_id") == list_id)["mineral_id"].to_list())


def covered(list_id: str) -> frozenset[str]:
    """Mineral ids the list covers, directly or through an aggregate (see the module docstring)."""
    named = set(list_members(list_id))
    out = set(named)
    aggregates = minerals().filter(pl.col("is_aggregate")).select("mineral_id", "components")
    for aggregate, components in aggregates.rows():
        parts = set(components)
        if aggregate in named:
            out |= parts
        if named & parts:
            out.add(aggregate)
    return frozenset(out)


def is_critical(mineral_id: str, list_id: str = "usgs_2025_final") -> bool:
    """Whether the list covers the mineral; unknown mineral or list ids raise :class:`UnknownMineralError`."""
    _check_mineral(mineral_id)
    return mineral_id in covered(list_id)


def _spellings() -> dict[str, str]:
    frame = minerals()
    table: dict[str, str] = {}
    for mineral_id, name, symbol in frame.select("mineral_id", "name", "symbol").rows():
        table[mineral_id] = mineral_id
        table[name.lower()] = mineral_id
        table[mineral_id.replace("_", " ")] = mineral_id
        if symbol and frame.filter(pl.col("symbol") == symbol).height == 1:
            table[symbol.lower()] = mineral_id
    # British spellings and the usual shorthand for the aggregates.
    table.update(
        {
            "aluminium": "aluminum",
            "caesium": "cesium",
            "baryte": "barite",
            "coking coal": "metallurgical_coal",
            "ree": "rare_earths",
            "rees": "rare_earths",
            "rare earths": "rare_earths",
            "rare earth": "rare_earths",
            "pgm": "platinum_group_metals",
            "pgms": "platinum_group_metals",
            "platinum group metals": "platinum_group_metals",
        }
    )
    return table


def resolve_mineral_or_none(value: str) -> str | None:
    """The mineral id for an id, name, element symbol or common spelling ("Aluminium", "Nd", "REE")."""
    key = " ".join(value.strip().lower().replace("-", " ").replace("_", " ").split())
    table = _spellings()
    return table.get(key) or table.get(key.replace(" ", "_"))


def resolve_mineral(value: str) -> str:
    """Like :func:`resolve_mineral_or_none` but raises :class:`UnknownMineralError` for unknown values."""
    found = resolve_mineral_or_none(value)
    if found is None:
        raise UnknownMineralError(
            f"Unknown mineral {value!r}: give an id such as 'neodymium', a name or a symbol."
        )
    return found
