"""Build the ``minerals`` and ``mineral_lists`` datasets from ``curated/minerals.yaml``.

The lists are small, official and change by publication, so they are transcribed by hand with their citations
rather than scraped. What the build adds is checking: every list must have the member count its publication
states, every member must be a known mineral id, and the derived EO 14272 scope is computed from its rule
instead of being typed twice.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from critmin.errors import ReferenceDataError
from critmin.paths import CURATED_DIR
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.refdata.registry import DatasetSpec

CURATED_FILE = "minerals.yaml"

MineralForm = Literal["element", "mineral", "fuel", "group"]

# Lists whose membership is exposed as a Boolean column on ``minerals`` (list id -> column name).
FLAG_COLUMNS = {
    "usgs_2022": "on_usgs_2022",
    "usgs_2025_draft": "on_usgs_2025_draft",
    "usgs_2025_final": "on_usgs_2025",
    "doe_ree_2020": "doe_ree",
    "eo14272": "in_eo14272_scope",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MineralEntry(_Model):
    id: str = Field(pattern=r"^[a-z][a-z_]*$")
    name: str
    symbol: str | None = None
    atomic_number: int | None = None
    form: MineralForm
    group: str
    components: tuple[str, ...] = ()
    note: str | None = None


class ListEntry(_Model):
    title: str
    published: dt.date
    fr_citation: str | None = None
    fr_doc: str | None = None
    source_url: str
    expected_count: int
    note: str | None = None
    members: tuple[str, ...] = ()
    derived_from: tuple[str, ...] = ()
    add: tuple[str, ...] = ()


class MineralsFile(_Model):
    group_basis: dict[str, str]
    minerals: tuple[MineralEntry, ...]
    lists: dict[str, ListEntry]


def read_curated(path: Path | None = None) -> MineralsFile:
    """Parse and validate the curated file; errors name the file and the offending entry."""
    path = path or CURATED_DIR / CURATED_FILE
    raw: Any = load_curated_yaml(path)
    try:
        data = MineralsFile.model_validate(raw)
    except ValidationError as exc:
        raise ReferenceDataError(f"{path}: invalid curated minerals file:\n{exc}") from exc
    _check(data, path)
    return data


def _check(data: MineralsFile, path: Path) -> None:
    ids = [m.id for m in data.minerals]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ReferenceDataError(f"{path}: mineral ids declared twice: {', '.join(duplicates)}")
    known = set(ids)
    for mineral in data.minerals:
        if mineral.group not in data.group_basis:
            raise ReferenceDataError(
                f"{path}: mineral {mineral.id!r} has group {mineral.group!r}, which group_basis lacks"
            )
        missing = [c for c in mineral.components if c not in known]
        if missing:
            raise ReferenceDataError(f"{path}: aggregate {mineral.id!r} lists unknown components {missing}")
        if (mineral.form == "group") != bool(mineral.components):
            raise ReferenceDataError(f"{path}: {mineral.id!r}: only form 'group' entries have components")
    for list_id, entry in data.lists.items():
        unknown = [m for m in (*entry.members, *entry.add) if m not in known]
        unknown += [d for d in entry.derived_from if d not in data.lists]
        if unknown:
            raise ReferenceDataError(f"{path}: list {list_id!r} names unknown ids {unknown}")
        if entry.members and entry.derived_from:
            raise ReferenceDataError(f"{path}: list {list_id!r} has both members and derived_from")
        count = len(list_members(data, list_id))
        if count != entry.expected_count:
            raise ReferenceDataError(
                f"{path}: list {list_id!r} has {count} members but its publication states "
                f"{entry.expected_count}; fix the members or the expected_count"
            )


def list_members(data: MineralsFile, list_id: str) -> set[str]:
    """Members of a list as published, or, for a derived list, the union its rule describes."""
    entry = data.lists[list_id]
    members = set(entry.members) | set(entry.add)
    for source in entry.derived_from:
        members |= list_members(data, source)
    return members


def _covered(data: MineralsFile, list_id: str) -> set[str]:
    """Minerals a list covers: its members, the components of listed aggregates, and aggregates any of whose
    components are listed (data reported as "rare earths" are critical when rare earths are)."""
    members = list_members(data, list_id)
    covered = set(members)
    for mineral in data.minerals:
        if mineral.components and (mineral.id in members or members & set(mineral.components)):
            covered.add(mineral.id)
            if mineral.id in members:
                covered |= set(mineral.components)
    return covered


def build_minerals(raw_dir: Path) -> pl.DataFrame:
    """One row per mineral id with list flags; ``raw_dir`` is unused (the input is curated)."""
    del raw_dir
    data = read_curated()
    covered = {list_id: _covered(data, list_id) for list_id in FLAG_COLUMNS}
    rows = []
    for mineral in data.minerals:
        row: dict[str, Any] = {
            "mineral_id": mineral.id,
            "name": mineral.name,
            "symbol": mineral.symbol,
            "atomic_number": mineral.atomic_number,
            "form": mineral.form,
            "group": mineral.group,
            "group_basis": data.group_basis[mineral.group],
            "is_aggregate": mineral.form == "group",
            "components": list(mineral.components),
        }
        for list_id, column in FLAG_COLUMNS.items():
            row[column] = mineral.id in covered[list_id]
        row["note"] = mineral.note
        rows.append(row)
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "mineral_id": pl.String,
        "name": pl.String,
        "symbol": pl.String,
        "atomic_number": pl.Int16,
        "form": pl.String,
        "group": pl.String,
        "group_basis": pl.String,
        "is_aggregate": pl.Boolean,
        "components": pl.List(pl.String),
        **dict.fromkeys(FLAG_COLUMNS.values(), pl.Boolean),
        "note": pl.String,
    }
    return pl.DataFrame(rows, schema=schema).sort("mineral_id")


def build_mineral_lists(raw_dir: Path) -> pl.DataFrame:
    """Long form: one row per (list, mineral) exactly as each list names it (aggregates stay aggregates)."""
    del raw_dir
    data = read_curated()
    rows = []
    for list_id, entry in data.lists.items():
        for mineral_id in sorted(list_members(data, list_id)):
            rows.append(
                {
                    "list_id": list_id,
                    "mineral_id": mineral_id,
                    "list_title": entry.title,
                    "published": entry.published,
                    "fr_citation": entry.fr_citation,
                    "fr_doc": entry.fr_doc,
                    "source_url": entry.source_url,
                    "citation": _citation(entry),
                    "note": entry.note,
                }
            )
    schema = {
        "list_id": pl.String,
        "mineral_id": pl.String,
        "list_title": pl.String,
        "published": pl.Date,
        "fr_citation": pl.String,
        "fr_doc": pl.String,
        "source_url": pl.String,
        "citation": pl.String,
        "note": pl.String,
    }
    return pl.DataFrame(rows, schema=schema).sort("list_id", "mineral_id")


def _citation(entry: ListEntry) -> str:
    """A readable citation: title, FR reference, date and URL (missing parts left out)."""
    reference = entry.fr_citation
    if reference and entry.fr_doc:
        reference = f"{reference} (FR Doc {entry.fr_doc})"
    parts = (entry.title, reference, entry.published.isoformat(), entry.source_url)
    return ", ".join(part for part in parts if part)


_SOURCE = (
    "USGS critical-mineral lists (83 FR 23295, 2018-05-18; 87 FR 10381, 2022-02-24; 90 FR 41591, 2025-08-26; "
    "final 2025 list, 2025-11-07), DOE rare earth elements (April 2020), EO 14272 (90 FR 16437, 2025-04-18); "
    "transcribed in curated/minerals.yaml"
)

SPECS = [
    DatasetSpec(
        id="minerals",
        title="Critical minerals: ids, names, symbols, groups and list membership",
        source=_SOURCE,
        licence="Public domain (U.S. Government works); curation Apache-2.0",
        vintage="2025-11-07",
        retrieved="2026-11-28",
        description=(
            "One row per mineral id: the 60 minerals of the 2025 USGS final list, promethium (DOE rare earth "
            "only), helium and strontium (2018 list only) and the aggregates rare_earths and "
            "platinum_group_metals. Flags: on_usgs_2022, on_usgs_2025_draft, on_usgs_2025 (final), doe_ree, "
            "in_eo14272_scope. An aggregate is flagged when it or any component is listed. Light/heavy REE "
            "split per the European Commission's CRM studies (2017); see group_basis."
        ),
        build=build_minerals,
        raw_inputs=(f"curated:{CURATED_FILE}",),
    ),
    DatasetSpec(
        id="mineral_lists",
        title="Critical-mineral lists by publication (long form, with citations)",
        source=_SOURCE,
        licence="Public domain (U.S. Government works); curation Apache-2.0",
        vintage="2025-11-07",
        retrieved="2026-11-28",
        description=(
            "list_id (usgs_2018, usgs_2022, usgs_2025_draft, usgs_2025_final, doe_ree_2020, eo14272) x "
            "mineral_id, with publication date, Federal Register citation and URL. The 2018 list names "
            "rare earths and platinum-group metals as groups; eo14272 is the union of both USGS lists, "
            "uranium and the 17 DOE rare earths."
        ),
        build=build_mineral_lists,
        raw_inputs=(f"curated:{CURATED_FILE}",),
    ),
]
