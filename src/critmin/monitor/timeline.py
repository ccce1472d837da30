"""The legal calendar: dated events and deadlines of PCMDP policy, with countdowns.

critmin ships ``events.yaml`` (every date from the policy reference that matters to an importer, each with
its sources: a URL and/or a primary citation such as ``91 FR 47318`` or ``CSMS #69326983``, and a reliability
tag); users add their own events, or correct a shipped one by reusing its id, in a YAML file of the same
shape. Each event also says whether its fact was checked against the text it cites (``verification:
verified``) or is only reported by a secondary source or a repository (``reported``, the default). Countdowns
are relative to a given day (default: today), so a report dated in the past shows what was then ahead.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from critmin import yamlfile
from critmin.monitor.errors import EventsFileError
from critmin.yamlfile import YamlFileError

Reliability = Literal["P", "P-copy", "L", "N", "A", "R", "user"]
EventKind = Literal[
    "action",
    "publication",
    "deadline",
    "effective",
    "expiry",
    "window",
    "decision",
    "meeting",
    "agreement",
    "report",
    "other",
]
Verification = Literal["verified", "reported"]
RELIABILITY_RANK: dict[str, int] = {"P": 0, "P-copy": 1, "L": 2, "N": 3, "A": 4, "R": 5, "user": 6}

TIMELINE_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "date": pl.Date(),
    "end_date": pl.Date(),
    "kind": pl.String(),
    "topic": pl.String(),
    "title": pl.String(),
    "status": pl.String(),  # past | today | ongoing | upcoming
    "days": pl.Int64(),  # to the date (upcoming), since it (past), or left in the window (ongoing)
    "countdown": pl.String(),
    "reliability": pl.String(),  # best tag among the sources
    "verification": pl.String(),  # verified (checked against the cited text) | reported
    "citation": pl.String(),  # the sources' citations (FR, CSMS, proclamation, docket), most reliable first
    "source_url": pl.String(),  # URL of the most reliable source that has one
    "date_basis": pl.String(),
    "origin": pl.String(),  # shipped | user
}


class Source(BaseModel):
    """Where an event was read or what it rests on: a URL, a citation (``91 FR 18201``, ``CSMS #67844987``,
    ``Proclamation 11052``), or both. ``note`` says e.g. that a primary text was not opened."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    citation: str | None = None
    reliability: Reliability
    note: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"source url must start with http:// or https://, got {value!r}")
        return value

    @field_validator("citation")
    @classmethod
    def _citation(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("source citation must not be empty")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _url_or_citation(self) -> Source:
        if self.url is None and self.citation is None:
            raise ValueError("a source needs a url or a citation")
        return self


class Event(BaseModel):
    """A dated fact or deadline. ``end_date`` makes it a window (e.g. the 180-day negotiation period)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    date: dt.date
    end_date: dt.date | None = None
    kind: EventKind = "other"
    topic: str = "other"
    title: str
    measures: list[str] = Field(default_factory=list)
    date_basis: Literal["stated", "computed"] = "stated"
    verification: Verification = "reported"
    note: str | None = None
    sources: list[Source] = Field(default_factory=list)
    origin: Literal["shipped", "user"] = "user"

    @model_validator(mode="after")
    def _window(self) -> Event:
        if self.end_date is not None and self.end_date < self.date:
            raise ValueError(f"end_date {self.end_date} is before date {self.date}")
        return self

    @property
    def ranked_sources(self) -> list[Source]:
        """Sources, most reliable first (file order among equals)."""
        return sorted(self.sources, key=lambda s: RELIABILITY_RANK[s.reliability])

    @property
    def best_source(self) -> Source | None:
        ranked = self.ranked_sources
        return ranked[0] if ranked else None

    @property
    def best_url(self) -> str | None:
        """The URL of the most reliable source that has one."""
        return next((s.url for s in self.ranked_sources if s.url is not None), None)

    @property
    def citation(self) -> str | None:
        """Every source's citation, most reliable first, joined with ``; `` (None if no source has one)."""
        cited = [s.citation for s in self.ranked_sources if s.citation is not None]
        return "; ".join(dict.fromkeys(cited)) or None


class _EventsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[Event]


def _parse(data: Any, source: str, origin: Literal["shipped", "user"]) -> list[Event]:
    if not isinstance(data, dict) or "events" not in data:
        raise EventsFileError(f"{source}: an events file is a mapping with an 'events' list.")
    try:
        parsed = _EventsFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = list(error["loc"])
            where = ".".join(str(p) for p in loc)
            if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
                raw = data["events"][loc[1]] if loc[1] < len(data["events"]) else {}
                ident = raw.get("id") if isinstance(raw, dict) else None
                where = (
                    f"events[{loc[1]}]"
                    + (f" (id {ident!r})" if ident else "")
                    + "".join(f".{p}" for p in loc[2:])
                )
            problems.append(f"  - {where}: {str(error['msg']).removeprefix('Value error, ')}")
        raise EventsFileError(f"{source}: {exc.error_count()} problem(s):\n" + "\n".join(problems)) from None
    events = [event.model_copy(update={"origin": origin}) for event in parsed.events]
    ids = [event.id for event in events]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise EventsFileError(f"{source}: event ids must be unique; repeated: {', '.join(repeated)}.")
    return events


def shipped_events() -> list[Event]:
    """The dated policy events shipped with critmin, each with its source and verification level."""
    text = resources.files("critmin.monitor").joinpath("events.yaml").read_text("utf-8")
    source = "critmin/monitor/events.yaml"
    return _parse(yamlfile.load(text, source), source, "shipped")


def load_events_file(path: Path) -> list[Event]:
    """A user's events; sources are optional (an internal deadline has none) and tagged ``user``."""
    try:
        data = yamlfile.load(Path(path).read_text(encoding="utf-8"), path)
    except OSError as exc:
        raise EventsFileError(f"Cannot read events file {path}: {exc.strerror}.") from None
    except YamlFileError as exc:
        raise EventsFileError(str(exc)) from None
    return _parse(data, str(path), "user")


def all_events(user_files: list[Path] | None = None) -> list[Event]:
    """Shipped events plus the users', a user event replacing a shipped one with the same id."""
    merged = {event.id: event for event in shipped_events()}
    for path in user_files or []:
        for event in load_events_file(path):
            merged[event.id] = event
    return sorted(merged.values(), key=lambda e: (e.date, e.id))


def timeline(events: list[Event], *, today: dt.date, upcoming: bool = False) -> pl.DataFrame:
    """Events with status and countdown relative to ``today`` (``TIMELINE_SCHEMA``), in date order.

    ``upcoming`` keeps what is still ahead: future dates, today's, and windows still open, ordered by the
    date that matters next (a window's end, otherwise the event's date), then by date and id.
    """
    rows = []
    for event in events:
        best = event.best_source
        rows.append(
            {
                "id": event.id,
                "date": event.date,
                "end_date": event.end_date,
                "kind": event.kind,
                "topic": event.topic,
                "title": event.title,
                "reliability": best.reliability if best else "user",
                "verification": event.verification,
                "citation": event.citation,
                "source_url": event.best_url,
                "date_basis": event.date_basis,
                "origin": event.origin,
            }
        )
    base = {k: v for k, v in TIMELINE_SCHEMA.items() if k not in ("status", "days", "countdown")}
    frame = pl.DataFrame(rows, schema=base)
    to_start = (pl.col("date") - pl.lit(today)).dt.total_days()
    to_end = (pl.col("end_date") - pl.lit(today)).dt.total_days()
    status = (
        pl.when(to_start > 0)
        .then(pl.lit("upcoming"))
        .when(to_start == 0)
        .then(pl.lit("today"))
        .when(pl.col("end_date").is_not_null() & (to_end >= 0))
        .then(pl.lit("ongoing"))
        .otherwise(pl.lit("past"))
    )
    frame = frame.with_columns(status.alias("status"), to_start.alias("_start"), to_end.alias("_end"))
    days = (
        pl.when(pl.col("status") == "ongoing")
        .then(pl.col("_end"))
        .when(pl.col("status") == "past")
        .then(-pl.col("_start"))
        .otherwise(pl.col("_start"))
    )
    frame = frame.with_columns(days.cast(pl.Int64).alias("days"))
    plural = pl.when(pl.col("days") == 1).then(pl.lit(" day")).otherwise(pl.lit(" days"))
    countdown = (
        pl.when(pl.col("status") == "upcoming")
        .then(pl.concat_str([pl.lit("in "), pl.col("days").cast(pl.String), plural]))
        .when(pl.col("status") == "today")
        .then(pl.lit("today"))
        .when(pl.col("status") == "ongoing")
        .then(pl.concat_str([pl.lit("ongoing, "), pl.col("days").cast(pl.String), plural, pl.lit(" left")]))
        .otherwise(pl.concat_str([pl.col("days").cast(pl.String), plural, pl.lit(" ago")]))
    )
    frame = frame.with_columns(countdown.alias("countdown"))
    if upcoming:
        frame = frame.filter(pl.col("status") != "past")
        next_date = pl.when(pl.col("status") == "ongoing").then(pl.col("end_date")).otherwise(pl.col("date"))
        frame = frame.sort([next_date, pl.col("date"), pl.col("id")])
    else:
        frame = frame.sort(["date", "id"])
    return frame.select(list(TIMELINE_SCHEMA))
