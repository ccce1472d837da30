"""Watchlists: what to follow in the Federal Register, and which part of the ledger each item is about.

A watchlist is a YAML file the user keeps beside their ledger::

    name: Magnets and rare earths
    since: 2025-04-01            # first publication date to read on the first run
    public_inspection: true      # also read the public inspection desk
    full_text: false             # fetch each hit's full text to find HTS codes in it (one request per hit)
    entries:
      - id: pcmdp-232
        terms: ["processed critical minerals", "rare earth magnets"]
        agencies: [industry-and-security-bureau, executive-office-of-the-president]
        document_types: [PRESDOCU, RULE, PRORULE, NOTICE]
        hts: ["8505.11", "2805.30", "2846"]
        minerals: [neodymium, dysprosium, rare_earths]
        countries: [CHN]
        measure: pcmdp_tariff_25     # optional: the measure/scenario whose dollar change alerts state
    documents:                      # optional: tie specific documents to measures
      "2026-01234": pcmdp_tariff_25
    deliver:
      webhook: {url: "https://hooks.example.com/critmin"}
      email: {host: smtp.example.com, port: 587, sender: critmin@example.com, to: [trade@example.com]}
    ace_exports: [ace/es003.csv]    # optional: alert when an entry's IEEPA protest window closes soon
    protest_alert_days: 30          # ... within this many days (0-180)

Each entry becomes one Federal Register query per term (terms are searched separately, so each has its own
cursor). ``hts``, ``minerals`` and ``countries`` are the entry's *scope*: the ledger lines an alert points at
when a hit names no product itself; with ``require_mention: true`` a hit only alerts when it names something
in the scope.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from critmin import yamlfile
from critmin.errors import ReferenceDataError
from critmin.monitor.errors import WatchlistError
from critmin.monitor.fedreg import DocumentQuery, DocumentType, Endpoint, PublicInspectionQuery
from critmin.monitor.match import vocabulary
from critmin.yamlfile import YamlFileError

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
ACE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
"""What an ACE export in ``ace_exports`` may be saved as (the reader of ``critmin reconcile``)."""
_AGENCY_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def normalise_hts_prefix(value: str) -> str:
    """Digits of an HTS code or prefix (2, 4, 6, 8 or 10 digits); raises ValueError with the fix."""
    text = str(value).strip()
    digits = re.sub(r"[\s.\-]", "", text)
    if not digits.isdigit() or len(digits) not in (2, 4, 6, 8, 10):
        raise ValueError(
            f"{value!r} is not an HTS code or prefix: write 2, 4, 6, 8 or 10 digits, dots allowed "
            "(e.g. 8505.11 or 8505.11.0070)"
        )
    return digits


def resolve_country(value: str) -> str:
    """ISO3 for a country code or name, via ``critmin.refdata.countries`` (pycountry if not built)."""
    try:
        from critmin.refdata.countries import resolve

        return resolve(value)
    except (ImportError, ReferenceDataError):
        pass
    import pycountry

    try:
        found = pycountry.countries.lookup(str(value).strip())
    except LookupError:
        raise ValueError(f"unknown country {value!r}: give an ISO 3166 alpha-3 code such as CHN") from None
    return str(found.alpha_3)


class EmailSettings(BaseModel):
    """SMTP delivery. Credentials are read from the named environment variables, never from the file."""

    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = 25
    sender: str
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    ssl: bool = False
    username_env: str | None = None
    password_env: str | None = None
    timeout: float = 30.0

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [address for address in value if "@" not in address]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        return value


class WebhookSettings(BaseModel):
    """JSON POST of each alert. Header values of the form ``env:NAME`` are read from the environment."""

    model_config = ConfigDict(extra="forbid")

    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = 30.0

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must start with http:// or https://, got {value!r}")
        return value


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None
    atom: Path | None = None  # write the Atom feed here after each run


class Entry(BaseModel):
    """One thing to follow: a Federal Register query plus the ledger scope it concerns."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str | None = None
    terms: list[str] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list)
    document_types: list[DocumentType] = Field(default_factory=list)
    hts: list[str] = Field(default_factory=list)
    minerals: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    measure: str | None = None
    require_mention: bool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"id {value!r} must be lowercase letters, digits, '_', '-' or '.'")
        return value

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: list[str]) -> list[str]:
        cleaned = [term.strip() for term in value]
        if any(not term for term in cleaned):
            raise ValueError("terms must not be empty strings")
        return cleaned

    @field_validator("agencies")
    @classmethod
    def _agencies(cls, value: list[str]) -> list[str]:
        bad = [slug for slug in value if not _AGENCY_SLUG.match(slug)]
        if bad:
            raise ValueError(
                "agencies are Federal Register slugs such as industry-and-security-bureau; not slugs: "
                f"{', '.join(bad)}"
            )
        return value

    @field_validator("document_types", mode="before")
    @classmethod
    def _types(cls, value: Any) -> Any:
        return [str(item).upper() for item in value] if isinstance(value, list) else value

    @field_validator("hts")
    @classmethod
    def _hts(cls, value: list[str]) -> list[str]:
        return [normalise_hts_prefix(item) for item in value]

    @field_validator("minerals")
    @classmethod
    def _minerals(cls, value: list[str]) -> list[str]:
        known = vocabulary().mineral_ids
        out = [item.strip().lower().replace(" ", "_").replace("-", "_") for item in value]
        bad = [item for item in out if item not in known]
        if bad:
            raise ValueError(
                f"unknown mineral id(s) {', '.join(bad)}; use critmin ids such as neodymium, gallium, "
                "rare_earths, platinum_group_metals"
            )
        return out

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            try:
                out.append(resolve_country(item))
            except (LookupError, ValueError) as exc:
                raise ValueError(str(exc)) from None
        return out

    @model_validator(mode="after")
    def _something_to_ask(self) -> Entry:
        if not (self.terms or self.agencies or self.document_types):
            raise ValueError(
                "an entry needs at least one of terms, agencies or document_types, or it would ask the "
                "Federal "
                "Register for every document"
            )
        if self.require_mention and not (self.hts or self.minerals or self.countries):
            raise ValueError("require_mention needs hts, minerals or countries to look for")
        return self

    def queries(self, since: date | None, page_size: int = 100) -> list[WatchQuery]:
        """The Federal Register queries this entry runs (one per term)."""
        terms: list[str | None] = list(self.terms) or [None]
        return [
            WatchQuery(
                entry_id=self.id,
                endpoint=Endpoint.documents,
                term=term,
                agencies=tuple(self.agencies),
                types=tuple(str(t) for t in self.document_types),
                since=since,
                page_size=page_size,
            )
            for term in terms
        ]


class Watchlist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "watchlist"
    since: date | None = None
    public_inspection: bool = True
    full_text: bool = False
    page_size: int = Field(default=100, ge=1, le=1000)
    entries: Annotated[list[Entry], Field(min_length=1)]
    documents: dict[str, str] = Field(default_factory=dict)
    deliver: Delivery = Field(default_factory=Delivery)
    # ACE entry-summary exports (relative to the watchlist file): each run raises one alert per entry whose
    # IEEPA protest window closes within protest_alert_days (critmin.monitor.deadlines).
    ace_exports: list[Path] = Field(default_factory=list)
    protest_alert_days: int = Field(default=30, ge=0, le=180)

    @field_validator("ace_exports")
    @classmethod
    def _exports(cls, value: list[Path]) -> list[Path]:
        bad = [str(path) for path in value if path.suffix.lower() not in ACE_SUFFIXES]
        if bad:
            raise ValueError(
                f"not an ACE export: {', '.join(bad)}; give the CSV or .xlsx file of the ES-003 report "
                "(see docs/reconcile.md)"
            )
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Watchlist:
        ids = [entry.id for entry in self.entries]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"entry ids must be unique; repeated: {', '.join(duplicates)}")
        return self

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def queries(self) -> list[WatchQuery]:
        out: list[WatchQuery] = []
        for entry in self.entries:
            out += entry.queries(self.since, self.page_size)
            if self.public_inspection:
                out += [
                    WatchQuery(
                        entry_id=q.entry_id,
                        endpoint=Endpoint.public_inspection,
                        term=q.term,
                        agencies=q.agencies,
                        types=q.types,
                        since=None,
                        page_size=self.page_size,
                    )
                    for q in entry.queries(None, self.page_size)
                ]
        return out


class WatchQuery(BaseModel):
    """One query against one endpoint; its ``key`` names its cursor in the workspace."""

    model_config = ConfigDict(frozen=True)

    entry_id: str
    endpoint: Endpoint
    term: str | None
    agencies: tuple[str, ...]
    types: tuple[str, ...]
    since: date | None
    page_size: int = 100

    @property
    def key(self) -> str:
        """Stable across runs and independent of the start date (which moves forward)."""
        payload = json.dumps(
            [self.entry_id, str(self.endpoint), self.term, sorted(self.agencies), sorted(self.types)]
        )
        return f"{self.entry_id}:{self.endpoint}:{hashlib.sha256(payload.encode()).hexdigest()[:12]}"

    @property
    def label(self) -> str:
        parts = [f"term {self.term!r}" if self.term else None]
        parts.append(f"agencies {', '.join(self.agencies)}" if self.agencies else None)
        parts.append(f"types {', '.join(self.types)}" if self.types else None)
        where = "public inspection" if self.endpoint is Endpoint.public_inspection else "documents"
        return f"{self.entry_id} [{where}]: " + "; ".join(p for p in parts if p)

    def document_query(self, published_gte: date | None) -> DocumentQuery:
        return DocumentQuery(
            term=self.term,
            agencies=self.agencies,
            types=self.types,
            published_gte=published_gte,
            per_page=self.page_size,
        )

    def public_inspection_query(self) -> PublicInspectionQuery:
        return PublicInspectionQuery(
            term=self.term, agencies=self.agencies, types=self.types, per_page=self.page_size
        )


def parse_watchlist(data: Any, *, source: str = "<watchlist>") -> Watchlist:
    """Validate parsed YAML; every problem is listed with its place in the file and what to write instead."""
    if not isinstance(data, dict):
        raise WatchlistError(f"{source}: a watchlist is a mapping with at least an 'entries' list.")
    try:
        return Watchlist.model_validate(data)
    except ValidationError as exc:
        raise WatchlistError(_describe(exc, data, source)) from None


def load_watchlist(path: Path) -> Watchlist:
    """Read and validate a watchlist file; relative paths in it are read from the file's folder."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WatchlistError(f"Cannot read watchlist {path}: {exc.strerror}.") from None
    try:
        data = yamlfile.load(text, path)
    except YamlFileError as exc:
        raise WatchlistError(str(exc)) from None
    watchlist = parse_watchlist(data, source=str(path))
    atom = watchlist.deliver.atom
    if atom is not None and not atom.is_absolute():  # relative to the watchlist file, like any config
        watchlist.deliver.atom = Path(path).parent / atom
    watchlist.ace_exports = [Path(path).parent / item for item in watchlist.ace_exports]  # (absolute stays)
    missing = [
        f"  - ace_exports[{index}]: no file {item} (paths are relative to the watchlist's folder)"
        for index, item in enumerate(watchlist.ace_exports)
        if not item.is_file()
    ]
    if missing:
        raise WatchlistError(f"{path}: {len(missing)} problem(s) in the watchlist:\n" + "\n".join(missing))
    return watchlist


def _describe(exc: ValidationError, data: dict[str, Any], source: str) -> str:
    lines = [f"{source}: {exc.error_count()} problem(s) in the watchlist:"]
    for error in exc.errors():
        loc = list(error["loc"])
        where = _location(loc, data)
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r} (check the spelling; see docs/monitor.md for the fields)"
        elif error["type"] == "missing":
            message = f"field {loc[-1]!r} is required"
        elif error["type"] == "enum":
            message = f"{error.get('input')!r} is not one of RULE, PRORULE, NOTICE, PRESDOCU"
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)


def _location(loc: list[Any], data: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
        entries = data.get("entries") or []
        entry = entries[loc[1]] if loc[1] < len(entries) and isinstance(entries[loc[1]], dict) else {}
        label = f"entries[{loc[1]}]" + (f" (id {entry['id']!r})" if entry.get("id") else "")
        rest = ".".join(str(part) for part in loc[2:])
        return f"{label}{'.' + rest if rest else ''}"
    return ".".join(str(part) for part in loc) or "(top level)"
