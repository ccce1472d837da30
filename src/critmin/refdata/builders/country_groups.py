"""Build ``country_groups`` (dated memberships) and ``country_group_defs`` from the curated YAML.

Membership facts come from treaties, rules, press releases and news reports of signings, so they are curated
by hand, each row with the document it was read from. The build resolves group-level defaults, then refuses
anything a query could trip over: unknown country codes, the United States as its own partner, ``left`` not
after ``joined``, overlapping rows for the same instrument, missing citations.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from critmin.errors import ReferenceDataError
from critmin.paths import CURATED_DIR
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.refdata.registry import DatasetSpec

CURATED_FILE = "country_groups.yaml"
ISO_FILE = "iso3166-pycountry/iso3166-1.json"
ALIASES_FILE = "country_aliases.yaml"  # for the user-assigned codes (Kosovo) that ISO does not list

GroupKind = Literal["statutory_list", "trade_agreement", "partnership", "bilateral_frameworks", "union"]
Confidence = Literal["confirmed", "reported", "inferred"]
DateBasis = Literal["in_force", "signed", "first_seen", "approximate"]

CONVENTIONS = (
    "A row means the country belongs to the group under `instrument` from `joined` (inclusive) until "
    "`left` (exclusive; null = still a member). Rows for different instruments may overlap. The United "
    "States is never listed as its own partner. confidence: confirmed (primary text), reported (news or "
    "law-firm reports), inferred (follows from a confirmed fact; no list names the country). date_basis: "
    "in_force, signed, first_seen (earliest dated document naming the country as a member), approximate "
    "(later date of a range)."
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Fields(_Model):
    """Fields a member row carries; a group may set any of them as a default for its members."""

    joined: dt.date | None = None
    left: dt.date | None = None
    instrument: str | None = None
    program_code: str | None = None
    source_document: str | None = None
    source_date: dt.date | None = None
    source_url: str | None = None
    confidence: Confidence | None = None
    date_basis: DateBasis | None = None
    note: str | None = None


class Member(_Fields):
    iso3: str = Field(pattern=r"^[A-Z]{3}$")


class Group(_Fields):
    title: str
    kind: GroupKind
    description: str
    members: tuple[Member, ...]


class GroupsFile(_Model):
    groups: dict[str, Group]


def read_curated(path: Path | None = None) -> GroupsFile:
    path = path or CURATED_DIR / CURATED_FILE
    raw: Any = load_curated_yaml(path)
    try:
        return GroupsFile.model_validate(raw)
    except ValidationError as exc:
        raise ReferenceDataError(f"{path}: invalid curated country-groups file:\n{exc}") from exc


def _known_iso3(raw_dir: Path) -> set[str]:
    iso = json.loads((raw_dir / ISO_FILE).read_text(encoding="utf-8"))["3166-1"]
    curated = load_curated_yaml(CURATED_DIR / ALIASES_FILE)
    return {entry["alpha_3"] for entry in iso} | {extra["iso3"] for extra in curated["extra_countries"]}


_REQUIRED = ("joined", "instrument", "source_document", "source_url", "confidence", "date_basis")


def _member_rows(raw_dir: Path, path: Path | None = None) -> list[dict[str, Any]]:
    """Member rows with group defaults applied, validated (``path`` overrides the curated file in tests)."""
    data = read_curated(path)
    known = _known_iso3(raw_dir)
    rows: list[dict[str, Any]] = []
    for group_id, group in data.groups.items():
        for member in group.members:
            row: dict[str, Any] = {"group_id": group_id, "iso3": member.iso3}
            for name in _Fields.model_fields:
                own = getattr(member, name)
                row[name] = own if own is not None else getattr(group, name)
            row["note"] = " ".join(text for text in (member.note, group.note) if text) or None
            where = f"{CURATED_FILE}: group {group_id!r}, member {member.iso3}"
            missing = [name for name in _REQUIRED if row[name] is None]
            if missing:
                raise ReferenceDataError(
                    f"{where}: missing {', '.join(missing)}; set it on the member or group"
                )
            if member.iso3 not in known:
                raise ReferenceDataError(f"{where}: {member.iso3} is not an ISO 3166-1 alpha-3 code")
            if member.iso3 == "USA":
                raise ReferenceDataError(f"{where}: groups list U.S. partners only; remove USA")
            row["citation"] = _citation(row["source_document"], row["source_date"], row["source_url"])
            if row["left"] is not None and row["left"] <= row["joined"]:
                raise ReferenceDataError(f"{where}: left {row['left']} is not after joined {row['joined']}")
            rows.append(row)
    _check_overlaps(rows)
    return rows


def _citation(document: str | None, date: dt.date | None, url: str | None) -> str:
    """One readable citation string: "Document, 2024-05-06, https://..." (missing parts left out)."""
    return ", ".join(str(part) for part in (document, date, url) if part)


def _check_overlaps(rows: list[dict[str, Any]]) -> None:
    """Two rows for the same group, country and instrument must not overlap in time."""
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault((row["group_id"], row["iso3"], row["instrument"]), []).append(row)
    for (group_id, iso3, instrument), same in by_key.items():
        same.sort(key=lambda r: r["joined"])
        for earlier, later in itertools.pairwise(same):
            if earlier["left"] is None or earlier["left"] > later["joined"]:
                raise ReferenceDataError(
                    f"{CURATED_FILE}: group {group_id!r}: {iso3} has overlapping rows for {instrument!r}"
                )


GROUP_SCHEMA = {
    "group_id": pl.String,
    "iso3": pl.String,
    "joined": pl.Date,
    "left": pl.Date,
    "instrument": pl.String,
    "program_code": pl.String,
    "source_document": pl.String,
    "source_date": pl.Date,
    "source_url": pl.String,
    "citation": pl.String,
    "confidence": pl.String,
    "date_basis": pl.String,
    "note": pl.String,
}


def build_country_groups(raw_dir: Path) -> pl.DataFrame:
    """Long form: one row per (group, country, instrument period)."""
    rows = _member_rows(raw_dir)
    return pl.DataFrame(rows, schema=GROUP_SCHEMA).sort("group_id", "iso3", "joined", "instrument")


def build_country_group_defs(raw_dir: Path) -> pl.DataFrame:
    """One row per group: what it is, how its dates are to be read, and its main source."""
    data = read_curated()
    counts: dict[str, int] = {}
    for row in _member_rows(raw_dir):
        counts[row["group_id"]] = counts.get(row["group_id"], 0) + 1
    rows = [
        {
            "group_id": group_id,
            "title": group.title,
            "kind": group.kind,
            "description": " ".join(group.description.split()),
            "conventions": CONVENTIONS,
            "source_document": group.source_document,
            "source_date": group.source_date,
            "source_url": group.source_url,
            "citation": _citation(group.source_document, group.source_date, group.source_url),
            "rows": counts.get(group_id, 0),
        }
        for group_id, group in data.groups.items()
    ]
    schema = {
        "group_id": pl.String,
        "title": pl.String,
        "kind": pl.String,
        "description": pl.String,
        "conventions": pl.String,
        "source_document": pl.String,
        "source_date": pl.Date,
        "source_url": pl.String,
        "citation": pl.String,
        "rows": pl.Int32,
    }
    return pl.DataFrame(rows, schema=schema).sort("group_id")


_RAW_INPUTS = (ISO_FILE, f"curated:{CURATED_FILE}", f"curated:{ALIASES_FILE}")
_SOURCE = (
    "curated/country_groups.yaml: DOE FEOC rule (89 FR 37079), DFARS 252.225-7052 (84 FR 18156), USTR FTA "
    "pages, State Department MSP/FORGE releases, bilateral framework texts and reports, europa.eu; each row "
    "cites its own document and URL"
)

SPECS = [
    DatasetSpec(
        id="country_groups",
        title="Dated country groups (FEOC, DFARS, USMCA, FTA partners, MSP, FORGE, frameworks, EU-27)",
        source=_SOURCE,
        licence="Facts from public documents; curation Apache-2.0",
        vintage="2026-02-05",
        retrieved="2026-11-28",
        description=(
            "group_id x iso3 with joined (inclusive) and left (exclusive, null = current), the instrument, "
            "HTS special programme code for trade agreements, the source document/date/URL, confidence "
            "(confirmed/reported/inferred) and how exact the date is. Groups: feoc, dfars_covered, usmca, "
            "us_fta, msp, forge, us_cm_frameworks, eu27."
        ),
        build=build_country_groups,
        raw_inputs=_RAW_INPUTS,
    ),
    DatasetSpec(
        id="country_group_defs",
        title="Country group definitions",
        source=_SOURCE,
        licence="Facts from public documents; curation Apache-2.0",
        vintage="2026-02-05",
        retrieved="2026-11-28",
        description=(
            "One row per country group: title, kind, what membership and its dates mean for that group, the "
            "main source and the number of membership rows."
        ),
        build=build_country_group_defs,
        raw_inputs=_RAW_INPUTS,
    ),
]
