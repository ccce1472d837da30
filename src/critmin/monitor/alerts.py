"""Alerts: one per new (watch entry, document) pair, saying what it touches on the ledger and what it costs.

An alert carries the document (title, type, date, agencies, link), what it mentions (HTS codes, minerals,
countries, chapter 99 headings), the ledger lines it touches with their value over the trailing twelve months
of the ledger, and — when the entry or the document is tied to a measure or scenario — the dollar change:
annual duty on the ledger before and after the measure, and the lines that move most. Duty figures come from
a :class:`DutyModel` (the duty engine, see :mod:`critmin.monitor.impact`); without one, alerts still report
lines and values.

The alert is computed once, when it is created, and frozen in ``payload``: a digest read next month shows what
the alert said when it was raised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import polars as pl

from critmin.monitor.exposure import PAIR_SCHEMA, classify_pairs, touched_lines
from critmin.monitor.match import LINE_SCHEMA, extract_mentions, ledger_lines, trailing_year
from critmin.monitor.watchlist import Watchlist

TOP_LINES = 10


@dataclass(frozen=True)
class MeasureChange:
    """Duty per line without and with a measure or scenario, both evaluated as if entered on ``as_of``."""

    measure_id: str
    lines: pl.DataFrame  # line_id, duty_before_usd, duty_after_usd
    as_of: date | None
    title: str | None = None
    note: str | None = None


class DutyModel(Protocol):
    """What the monitor needs from a duty engine (see :class:`critmin.monitor.impact.EngineDutyModel`)."""

    def current(self, ledger: pl.DataFrame) -> pl.DataFrame:
        """(line_id, duty_usd) under the measures in force on each line's entry date."""
        ...

    def change(self, ledger: pl.DataFrame, measure_id: str) -> MeasureChange:
        """Duty without and with ``measure_id`` (a library measure or a scenario)."""
        ...


ALERT_COLUMNS: dict[str, pl.DataType] = {
    "alert_id": pl.String(),
    "entry_id": pl.String(),
    "document_number": pl.String(),
    "run_id": pl.String(),
    "created_at": pl.Datetime("us"),
    "status": pl.String(),
    "title": pl.String(),
    "publication_date": pl.Date(),
    "measure_id": pl.String(),
    "lines_touched": pl.Int32(),
    "annual_value_usd": pl.Float64(),
    "duty_before_usd": pl.Float64(),
    "duty_after_usd": pl.Float64(),
    "payload": pl.String(),
}


@dataclass(frozen=True)
class LedgerContext:
    """The ledger prepared for matching: the trailing-year lines, their minerals and their current duty."""

    lines: pl.DataFrame  # LINE_SCHEMA, trailing year only
    line_minerals: pl.DataFrame
    window: tuple[date, date] | None
    canonical: pl.DataFrame  # the same lines in the canonical ledger schema (input to the duty engine)
    current_duty: pl.DataFrame | None  # line_id, duty_usd

    @classmethod
    def build(
        cls, ledger: pl.DataFrame | None, duty: DutyModel | None, *, classify: bool = True
    ) -> LedgerContext:
        if ledger is None or ledger.height == 0:
            empty = pl.DataFrame(schema=LINE_SCHEMA)
            return cls(
                empty, pl.DataFrame(schema={"line_id": pl.String, "mineral_id": pl.String}), None, empty, None
            )
        window = trailing_year(ledger.select(pl.col("entry_date").cast(pl.Date)))
        recent = ledger
        if window is not None:
            recent = ledger.filter(pl.col("entry_date").is_between(window[0], window[1]))
        lines, minerals = ledger_lines(recent, classify=classify)
        current = None
        if duty is not None:
            current = (
                duty.current(recent)
                .select(pl.col("line_id").cast(pl.String), pl.col("duty_usd").cast(pl.Float64))
                .group_by("line_id")
                .agg(pl.col("duty_usd").sum())
            )
        return cls(lines, minerals, window, recent, current)


def build_alerts(
    pairs: pl.DataFrame,
    documents: pl.DataFrame,
    watchlist: Watchlist,
    context: LedgerContext,
    *,
    run_id: str,
    now: datetime,
    duty: DutyModel | None = None,
    known_hts: pl.Series | None = None,
) -> pl.DataFrame:
    """Alert rows (``ALERT_COLUMNS``) for (entry_id, document_number) pairs, computed in frame operations."""
    if pairs.height == 0:
        return pl.DataFrame(schema=ALERT_COLUMNS)
    pairs = pairs.select(list(PAIR_SCHEMA)).cast(PAIR_SCHEMA)  # type: ignore[arg-type]
    docs = documents.filter(pl.col("document_number").is_in(pairs.get_column("document_number").implode()))
    mentions = extract_mentions(docs, known_hts=known_hts)
    classified = classify_pairs(pairs, mentions, watchlist)
    measures = classified.with_columns(
        pl.col("document_number")
        .replace_strict(watchlist.documents, default=None, return_dtype=pl.String)
        .alias("doc_measure")
    ).with_columns(pl.coalesce("doc_measure", "measure_id").alias("measure_id"))
    selection, touched = touched_lines(measures, mentions, watchlist, context.lines, context.line_minerals)
    summary, top = _summarise(touched, context)
    impacts = _measure_impacts(measures, context, duty)
    doc_rows = {row["document_number"]: row for row in docs.to_dicts()}
    mention_map = _mention_lists(mentions)
    selection_of = dict(selection.iter_rows())
    summaries = {row["selection"]: row for row in summary.to_dicts()}
    tops = {
        key[0]: _records(group.drop("selection"))
        for key, group in top.partition_by("selection", as_dict=True).items()
    }
    rows = []
    for pair in measures.to_dicts():
        doc = doc_rows.get(pair["document_number"], {"document_number": pair["document_number"]})
        key = selection_of.get(pair["alert_id"])
        impact = impacts.get(pair["measure_id"]) if pair["measure_id"] else None
        exposure = _exposure(pair, context, summaries.get(key), tops.get(key, []))
        payload = _payload(
            pair, doc, watchlist, mention_map.get(pair["document_number"], {}), exposure, impact, now
        )
        rows.append(
            {
                "alert_id": pair["alert_id"],
                "entry_id": pair["entry_id"],
                "document_number": pair["document_number"],
                "run_id": run_id,
                "created_at": now,
                "status": "suppressed" if pair["suppressed"] else "active",
                "title": doc.get("title") or pair["document_number"],
                "publication_date": doc.get("publication_date"),
                "measure_id": pair["measure_id"],
                "lines_touched": exposure["lines_touched"],
                "annual_value_usd": exposure["annual_value_usd"],
                "duty_before_usd": impact["duty_before_usd"] if impact else None,
                "duty_after_usd": impact["duty_after_usd"] if impact else None,
                "payload": json.dumps(payload, default=str, sort_keys=True),
            }
        )
    return pl.DataFrame(rows, schema=ALERT_COLUMNS)


def _summarise(touched: pl.DataFrame, context: LedgerContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per selection: line count, value, duty and lines from named countries; and its top lines by value."""
    detail = touched.join(context.lines, on="line_id", how="inner")
    if context.current_duty is not None:
        duty = context.current_duty.rename({"duty_usd": "current_duty_usd"})
        detail = detail.join(duty, on="line_id", how="left")
    else:
        detail = detail.with_columns(pl.lit(None, dtype=pl.Float64).alias("current_duty_usd"))
    summary = detail.group_by("selection").agg(
        pl.len().alias("lines_touched"),
        pl.col("customs_value_usd").fill_null(0).sum().alias("annual_value_usd"),
        pl.col("current_duty_usd").fill_null(0).sum().alias("annual_duty_usd"),
        pl.col("origin_mentioned").sum().alias("lines_from_mentioned_countries"),
    )
    top = (
        detail.sort(
            ["selection", "origin_mentioned", "customs_value_usd", "line_id"],
            descending=[False, True, True, False],
        )
        .group_by("selection", maintain_order=True)
        .head(TOP_LINES)
        .select(
            "selection",
            "line_id",
            "hts",
            "country_origin",
            "supplier",
            "description",
            "entry_date",
            "customs_value_usd",
            "current_duty_usd",
            "via",
            "origin_mentioned",
        )
    )
    return summary, top


def _exposure(
    pair: Mapping[str, Any],
    context: LedgerContext,
    summary: Mapping[str, Any] | None,
    top: list[dict[str, Any]],
) -> dict[str, Any]:
    found = summary or {}
    duty = round(float(found.get("annual_duty_usd") or 0.0), 2) if context.current_duty is not None else None
    return {
        "basis": pair["basis"] if context.window else "no_ledger",
        "window": list(context.window) if context.window else None,
        "lines_touched": int(found.get("lines_touched") or 0),
        "lines_from_mentioned_countries": int(found.get("lines_from_mentioned_countries") or 0),
        "annual_value_usd": round(float(found.get("annual_value_usd") or 0.0), 2),
        "annual_duty_usd": duty,
        "top_lines": top,
    }


def _measure_impacts(
    pairs: pl.DataFrame, context: LedgerContext, duty: DutyModel | None
) -> dict[str, dict[str, Any]]:
    """Annual duty without/with each tied measure over the trailing-year ledger (two engine calls each)."""
    measures = sorted({m for m in pairs.get_column("measure_id").to_list() if m})
    out: dict[str, dict[str, Any]] = {}
    for measure in measures:
        if context.canonical.height == 0 or duty is None:
            note = "no ledger loaded" if context.canonical.height == 0 else "duty engine not available"
            out[measure] = _impact(measure, None, None, None, [], None, None, note)
            continue
        change = duty.change(context.canonical, measure)
        if change.note is not None and change.lines.height == 0:
            out[measure] = _impact(measure, None, None, None, [], change.as_of, change.title, change.note)
            continue
        joined = (
            context.lines.select("line_id", "hts", "country_origin", "supplier", "customs_value_usd")
            .join(
                change.lines.select("line_id", "duty_before_usd", "duty_after_usd"), on="line_id", how="left"
            )
            .with_columns(pl.col("duty_before_usd").fill_null(0.0), pl.col("duty_after_usd").fill_null(0.0))
            .with_columns((pl.col("duty_after_usd") - pl.col("duty_before_usd")).alias("change_usd"))
        )
        moved = joined.filter(pl.col("change_usd").abs() > 0.005)
        top = moved.sort(pl.col("change_usd").abs(), descending=True).head(TOP_LINES)
        before = float(joined.get_column("duty_before_usd").sum())
        after = float(joined.get_column("duty_after_usd").sum())
        out[measure] = _impact(
            measure, before, after, moved.height, _records(top), change.as_of, change.title, change.note
        )
    return out


def _impact(
    measure: str,
    before: float | None,
    after: float | None,
    affected: int | None,
    top: list[dict[str, Any]],
    as_of: date | None,
    title: str | None,
    note: str | None,
) -> dict[str, Any]:
    return {
        "measure_id": measure,
        "title": title,
        "as_of": as_of.isoformat() if as_of else None,
        "duty_before_usd": None if before is None else round(before, 2),
        "duty_after_usd": None if after is None else round(after, 2),
        "change_usd": None if before is None or after is None else round(after - before, 2),
        "lines_affected": affected,
        "top_lines": top,
        "note": note,
    }


def _mention_lists(mentions: pl.DataFrame) -> dict[str, dict[str, list[str]]]:
    grouped = mentions.group_by("document_number", "kind").agg(pl.col("value").unique().sort())
    out: dict[str, dict[str, list[str]]] = {}
    for row in grouped.iter_rows(named=True):
        out.setdefault(row["document_number"], {})[row["kind"]] = list(row["value"])
    return out


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    records = []
    for row in frame.to_dicts():
        records.append({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()})
    return records


def _payload(
    pair: Mapping[str, Any],
    doc: Mapping[str, Any],
    watchlist: Watchlist,
    mentions: Mapping[str, list[str]],
    exposure: dict[str, Any],
    impact: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    entry = watchlist.entry(pair["entry_id"])
    return {
        "alert_id": pair["alert_id"],
        "entry": {"id": entry.id, "title": entry.title},
        "document": {
            "document_number": pair["document_number"],
            "title": doc.get("title"),
            "type": doc.get("doc_type"),
            "endpoint": doc.get("endpoint"),
            "publication_date": doc.get("publication_date"),
            "agencies": doc.get("agencies"),
            "citation": doc.get("citation"),
            "html_url": doc.get("html_url"),
            "pdf_url": doc.get("pdf_url"),
        },
        "mentions": {
            "hts": mentions.get("hts", []),
            "minerals": mentions.get("mineral", []),
            "countries": mentions.get("country", []),
            "chapter99": mentions.get("chapter99", []),
        },
        "exposure": exposure,
        "impact": impact,
        "suppressed": bool(pair["suppressed"]),
        "created_at": now.isoformat(timespec="seconds"),
    }


def payloads(alerts: pl.DataFrame) -> list[dict[str, Any]]:
    """The stored payloads of an alerts frame, in its order."""
    return [json.loads(text) for text in alerts.get_column("payload").to_list()]
