"""Header recognition: which of the user's columns holds which ledger field.

Broker reports, ACE extracts and ERP exports name the same thing a dozen ways ("HTS Number", "Tariff No",
"COO", "Entered Value (USD)"). Headers are normalised (lower case, punctuation to spaces) and matched
exactly against the synonyms in :mod:`critmin.ledger.fields`; a unit or currency in the header ("Net
Weight (lb)", "Value EUR") and a mineral named in a content header ("Copper content (kg)") are read as
facts about the whole column. What cannot be recognised goes in a small mapping file (``--map``), and the
mapping actually used is always shown, so nothing is matched silently.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from critmin import yamlfile
from critmin.errors import InputError
from critmin.ledger.fields import BOM_FIELDS, FIELDS_BY_NAME, LEDGER_FIELDS, FieldSet
from critmin.ledger.minerals import mineral_from_text
from critmin.ledger.units import UNITS_BY_CODE, canonical_unit, is_unit, unit_scale

DateOrder = Literal["mdy", "dmy", "ymd"]

HEADER_SCAN_ROWS = 30
"""How many leading rows may hold titles, notes or blank lines before the header."""

_CURRENCIES = {
    "usd",
    "eur",
    "gbp",
    "jpy",
    "cny",
    "rmb",
    "cad",
    "mxn",
    "krw",
    "aud",
    "chf",
    "inr",
    "twd",
    "brl",
}
_BARE_UNIT_TOKENS = {"kg", "kgs", "lb", "lbs", "mt", "tonnes", "grams", "pcs"}
_FILLER = {"in", "of"}


def normalise_header(text: str) -> str:
    """Lower case, ``#`` read as "no", every run of other characters made one space."""
    lowered = text.strip().lower().replace("#", " no ")
    return " ".join(re.split(r"[^0-9a-z]+", lowered)).strip()


@dataclass(frozen=True)
class HeaderHint:
    """What a header says beyond its field: the column's unit, currency or content mineral."""

    base: str
    unit: str | None = None
    """canonical unit code; for a multiple of one (``kW``) the spelling, so the quantity is scaled"""
    currency: str | None = None
    mineral: str | None = None


def parse_header(text: str) -> HeaderHint:
    """Split a header into the part that names the field and the unit/currency/mineral it carries.

    ``"Net Weight (lb)"`` -> base "net weight", unit "lb"; ``"Entered Value USD"`` -> base "entered
    value", currency "USD"; ``"Copper content (kg)"`` -> base "content", unit "kg", mineral "copper".
    """
    raw = text.replace("$", " usd ").replace("€", " eur ").replace("£", " gbp ").replace("¥", " jpy ")
    unit: str | None = None
    currency: str | None = None
    for inner in re.findall(r"[(\[]([^)\]]*)[)\]]", raw):
        token = inner.strip()
        if token.lower() in _CURRENCIES:
            currency = token.upper()
        elif (code := canonical_unit(token)) is not None:
            unit = code if unit_scale(token) == 1.0 else token  # "(kW)": the spelling keeps its scale
    raw = re.sub(r"[(\[][^)\]]*[)\]]", " ", raw)
    tokens = normalise_header(raw).split()
    while tokens and (tokens[-1] in _CURRENCIES or tokens[-1] in _BARE_UNIT_TOKENS or tokens[-1] in _FILLER):
        last = tokens.pop()
        if last in _CURRENCIES:
            currency = currency or last.upper()
        elif last in _BARE_UNIT_TOKENS:
            unit = unit or canonical_unit(last)
    mineral: str | None = None
    if "content" in tokens:
        position = tokens.index("content")
        if position > 0:
            candidate = mineral_from_text(" ".join(tokens[:position]))
            if candidate is not None:
                mineral = candidate
                tokens = tokens[position:]
    if currency == "RMB":
        currency = "CNY"
    return HeaderHint(" ".join(tokens), unit, currency, mineral)


_PATTERN_RANK = 1000


def match_header(text: str, fieldset: FieldSet = LEDGER_FIELDS) -> tuple[str, int] | None:
    """The field a header names and the synonym's rank (lower is a better match), or None."""
    known = fieldset.matched
    if text in known:
        return known[text]
    if len(known) >= _MATCHES_KEPT:
        known.clear()
    found = known[text] = _match_header(text, fieldset)
    return found


_MATCHES_KEPT = 4096


def _match_header(text: str, fieldset: FieldSet) -> tuple[str, int] | None:
    hint = parse_header(text)
    if not hint.base:
        return None
    if hint.base in fieldset.index:
        return fieldset.index[hint.base]
    without_index = re.sub(r"\s+1$", "", hint.base)
    if without_index in fieldset.index:
        return fieldset.index[without_index]
    for name, pattern in fieldset.patterns:
        if pattern.search(hint.base):
            return name, _PATTERN_RANK
    return None


# ----------------------------------------------------------------------------------------------------------
# Mapping file
# ----------------------------------------------------------------------------------------------------------


COLUMN_CONSTANTS: dict[str, str] = {
    "weight_unit": "unit of the weight column (default kg)",
    "content_unit": "unit of the content column (default kg)",
}
"""Constants that describe a column rather than feed a field of their own."""


def _known_field_names() -> tuple[str, ...]:
    names = list(FIELDS_BY_NAME)
    names += [name for name in BOM_FIELDS.by_name if name not in names]
    return tuple(names)


def _check_names(value: dict[str, str], known: tuple[str, ...]) -> dict[str, str]:
    for name in value:
        if name not in known:
            close = sorted(
                (k for k in known if name.startswith(k) or k.startswith(name)), key=len, reverse=True
            )
            close = close or difflib.get_close_matches(name, list(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown ledger field {name!r}.{hint} Known fields: {', '.join(known)}")
    return value


class MappingSpec(BaseModel):
    """A ``--map`` file: what header recognition cannot know. Every key is optional.

    ``columns`` maps a ledger field to your header; ``constants`` gives a field one value for every row;
    ``units`` adds unit spellings; ``ignore`` lists columns you do not want reported as unused.
    """

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str] = {}
    constants: dict[str, str] = {}
    units: dict[str, str] = {}
    ignore: list[str] = []
    sheet: str | int | None = None
    header_row: int | None = None
    date_order: DateOrder | None = None
    decimal_comma: bool = False
    delimiter: str | None = None
    encoding: str | None = None

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_names(value, _known_field_names())

    @field_validator("constants")
    @classmethod
    def _known_constants(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_names(value, (*_known_field_names(), *COLUMN_CONSTANTS))

    @field_validator("constants", mode="before")
    @classmethod
    def _constants_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: "" if item is None else str(item) for key, item in value.items()}
        return value

    @field_validator("units", mode="before")
    @classmethod
    def _yaml_no_is_number(cls, value: Any) -> Any:
        """YAML 1.1 reads a bare ``no`` (the unit "number") as False; take it back."""
        if isinstance(value, dict):
            return {str(k): ("no" if item is False else str(item)) for k, item in value.items()}
        return value

    @field_validator("units")
    @classmethod
    def _known_units(cls, value: dict[str, str]) -> dict[str, str]:
        for spelling, code in value.items():
            if not is_unit(code):
                raise ValueError(
                    f"unit alias {spelling!r} -> {code!r}: {code!r} is not a canonical unit; use one of "
                    f"{', '.join(UNITS_BY_CODE)} (or a spelling critmin knows, such as kW)"
                )
        return value

    @field_validator("header_row")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("header_row is the 1-based row number of the header (1 = first row)")
        return value


def load_mapping(path: Path) -> MappingSpec:
    """Read and check a mapping file; errors name the file and the offending key."""
    payload = yamlfile.read(path, "column mapping file").data or {}
    if not isinstance(payload, dict):
        raise InputError(f"Mapping file {path} must be a YAML mapping with keys such as `columns:`.")
    try:
        return MappingSpec.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise InputError(f"Mapping file {path}: {problems}") from exc


def resolve_spec(mapping: MappingSpec | Path | None) -> tuple[MappingSpec, str]:
    """The mapping to use and where it came from (shown with every import): a spec given in code, a
    mapping file read and checked, or none."""
    if mapping is None:
        return MappingSpec(), ""
    if isinstance(mapping, MappingSpec):
        return mapping, "(given)"
    return load_mapping(mapping), str(mapping)


# ----------------------------------------------------------------------------------------------------------
# Column mapping
# ----------------------------------------------------------------------------------------------------------


@dataclass
class ColumnMapping:
    """The mapping used for one file: shown to the user and stored with the import."""

    fields: dict[str, str] = field(default_factory=dict)
    """ledger field -> the user's column"""
    how: dict[str, str] = field(default_factory=dict)
    """ledger field -> "recognised", "mapping file" or "constant"."""
    constants: dict[str, str] = field(default_factory=dict)
    """ledger field -> value for every row (from the mapping file or implied by a header)"""
    unused: list[str] = field(default_factory=list)
    """user columns that feed no field"""
    alternatives: dict[str, list[str]] = field(default_factory=dict)
    """ledger field -> other columns that could also have fed it (the first one wins)"""
    missing_required: list[str] = field(default_factory=list)
    fieldset: FieldSet = LEDGER_FIELDS

    def source_of(self, name: str) -> str | None:
        return self.fields.get(name)

    def rows(self) -> list[dict[str, str | None]]:
        """One row per ledger field, in schema order, for display."""
        out: list[dict[str, str | None]] = []
        for input_field in self.fieldset.fields:
            name = input_field.name
            column = self.fields.get(name)
            constant = self.constants.get(name)
            if column is None and constant is None and name not in self.missing_required:
                continue
            if column is not None:
                source = column
            elif constant is not None:
                source = f"= {constant}"
            else:
                source = None
            note = self.how.get(name, "MISSING (required)" if name in self.missing_required else "")
            if name in self.alternatives:
                note += f"; also found: {', '.join(self.alternatives[name])}"
            out.append({"field": name, "column": source, "how": note})
        for name in COLUMN_CONSTANTS:
            if name in self.constants:
                out.append(
                    {"field": name, "column": f"= {self.constants[name]}", "how": self.how.get(name, "")}
                )
        for column in self.unused:
            out.append({"field": None, "column": column, "how": "not used"})
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "fields": dict(self.fields),
            "how": dict(self.how),
            "constants": dict(self.constants),
            "unused": list(self.unused),
            "alternatives": {k: list(v) for k, v in self.alternatives.items()},
            "missing_required": list(self.missing_required),
        }


def _find_column(columns: Sequence[str], wanted: str) -> str | None:
    for column in columns:
        if column == wanted:
            return column
    lowered = wanted.strip().lower()
    for column in columns:
        if column.strip().lower() == lowered:
            return column
    target = normalise_header(wanted)
    for column in columns:
        if normalise_header(column) == target:
            return column
    return None


def map_headers(
    columns: Sequence[str],
    spec: MappingSpec | None = None,
    *,
    origin: str = "",
    fieldset: FieldSet = LEDGER_FIELDS,
) -> ColumnMapping:
    """Decide which column feeds each ledger field.

    Order of precedence: the mapping file's ``columns``, then recognised headers (best synonym first, then
    leftmost), then the mapping file's ``constants``, then what a header implies (``Net Weight (kg)``
    makes the weight unit kg; ``Value (EUR)`` makes the currency EUR).
    """
    spec = spec or MappingSpec()
    mapping = ColumnMapping(fieldset=fieldset)
    taken: set[str] = set()
    known = fieldset.by_name
    where = f" (mapping file {origin})" if origin else ""
    for name in [*spec.columns, *spec.constants]:
        if name not in known and name not in COLUMN_CONSTANTS:
            raise InputError(
                f"{name!r}{where} is not a {fieldset.kind} field; {fieldset.kind} fields are "
                f"{', '.join(known)}."
            )
    for name, header in spec.columns.items():
        column = _find_column(columns, header)
        if column is None:
            raise InputError(
                f"columns.{name}{where} names the column {header!r}, which this file does not have. "
                f"Its columns are: {', '.join(repr(c) for c in columns)}."
            )
        mapping.fields[name] = column
        mapping.how[name] = "mapping file"
        taken.add(column)

    candidates: dict[str, list[tuple[int, int, str]]] = {}
    for position, column in enumerate(columns):
        if column in taken:
            continue
        matched = match_header(column, fieldset)
        if matched is None:
            continue
        name, rank = matched
        candidates.setdefault(name, []).append((rank, position, column))
    for name, found in candidates.items():
        found.sort()
        if name in mapping.fields:
            mapping.alternatives[name] = [column for _, _, column in found]
            continue
        mapping.fields[name] = found[0][2]
        mapping.how[name] = "recognised"
        taken.add(found[0][2])
        if len(found) > 1:
            mapping.alternatives[name] = [column for _, _, column in found[1:]]

    for name, value in spec.constants.items():
        if name in mapping.fields:
            continue
        mapping.constants[name] = value
        mapping.how[name] = "constant (mapping file)"
    if fieldset is LEDGER_FIELDS:
        _apply_header_hints(mapping)

    ignored = {normalise_header(c) for c in spec.ignore}
    used = set(mapping.fields.values())
    mapping.unused = [c for c in columns if c not in used and normalise_header(c) not in ignored]
    mapping.missing_required = [
        name for name in fieldset.required if name not in mapping.fields and name not in mapping.constants
    ]
    return mapping


def _apply_header_hints(mapping: ColumnMapping) -> None:
    """Turn units, currencies and minerals named in headers into constants for the fields that lack them."""
    hints = {name: parse_header(column) for name, column in mapping.fields.items()}
    quantity = hints.get("quantity")
    if quantity and quantity.unit and "unit" not in mapping.fields and "unit" not in mapping.constants:
        mapping.constants["unit"] = quantity.unit
        mapping.how["unit"] = f"from header {mapping.fields['quantity']!r}"
    weight = hints.get("weight")
    if weight and weight.unit and "weight_unit" not in mapping.constants:
        mapping.constants["weight_unit"] = weight.unit
        mapping.how["weight_unit"] = f"from header {mapping.fields['weight']!r}"
    value = hints.get("customs_value_usd")
    if value and value.currency and "currency" not in mapping.fields and "currency" not in mapping.constants:
        mapping.constants["currency"] = value.currency
        mapping.how["currency"] = f"from header {mapping.fields['customs_value_usd']!r}"
    for name in ("content_kg", "content_value_usd"):
        hint = hints.get(name)
        if (
            hint
            and hint.mineral
            and "content_mineral" not in mapping.fields
            and "content_mineral" not in mapping.constants
        ):
            mapping.constants["content_mineral"] = hint.mineral
            mapping.how["content_mineral"] = f"from header {mapping.fields[name]!r}"
    content = hints.get("content_kg")
    if content and content.unit and content.unit != "kg":
        mapping.constants["content_unit"] = content.unit
        mapping.how["content_unit"] = f"from header {mapping.fields['content_kg']!r}"


# ----------------------------------------------------------------------------------------------------------
# Header row
# ----------------------------------------------------------------------------------------------------------


def score_header_row(
    cells: Sequence[str | None], spec: MappingSpec | None = None, fieldset: FieldSet = LEDGER_FIELDS
) -> int:
    """How many distinct fields a candidate header row names."""
    wanted = {normalise_header(h) for h in (spec.columns.values() if spec else ())}
    found: set[str] = set()
    for cell in cells:
        if cell is None or not str(cell).strip():
            continue
        text = str(cell)
        if normalise_header(text) in wanted:
            found.add("mapped:" + normalise_header(text))
            continue
        matched = match_header(text, fieldset)
        if matched is not None:
            found.add(matched[0])
    return len(found)


def detect_header_row(
    rows: Sequence[Sequence[str | None]], spec: MappingSpec | None = None, fieldset: FieldSet = LEDGER_FIELDS
) -> int:
    """0-based index of the header among the first rows: the row naming the most ledger fields.

    Title lines, report banners and blank lines above the header are common in broker and ERP exports.
    When no row names two fields, the first non-blank row is taken (and the mapping shows the result).
    """
    if spec is not None and spec.header_row is not None:
        return spec.header_row - 1
    best_index, best_score = -1, 1
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = score_header_row(row, spec, fieldset)
        if score > best_score:
            best_index, best_score = index, score
    if best_index >= 0:
        return best_index
    for index, row in enumerate(rows):
        if any(cell is not None and str(cell).strip() for cell in row):
            return index
    return 0


def _header_text(cell: str | None) -> str:
    """A header cell as a name: trimmed, without NUL characters (Arrow and Polars cut a name at its first
    NUL, so two such headers would collide; text decoded with the wrong encoding is full of them)."""
    return str(cell).replace("\x00", "").strip() if cell is not None else ""


def column_names(cells: Sequence[str | None]) -> list[str]:
    """Header cells as unique column names: blanks become ``column_<n>``, repeats get `` (2)``."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells):
        name = _header_text(cell)
        if not name:
            name = f"column_{position + 1}"
        base = name
        while name in seen:
            seen[base] += 1
            name = f"{base} ({seen[base]})"
        seen.setdefault(name, 1)
        names.append(name)
    return names


def duplicate_headers(cells: Sequence[str | None], names: Sequence[str]) -> dict[str, list[str]]:
    """Headers written more than once (ignoring surrounding spaces) -> the names :func:`column_names` gave
    their columns, left to right; blank headers are not duplicates (each is ``column_<n>``)."""
    groups: dict[str, list[str]] = {}
    for cell, name in zip(cells, names, strict=False):
        text = _header_text(cell)
        if text:
            groups.setdefault(text, []).append(name)
    return {text: group for text, group in groups.items() if len(group) > 1}


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column position (0 -> A, 25 -> Z, 26 -> AA), as users see it
    when they open the file in Excel."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
