"""Protest deadlines of your own entries, read from ACE exports: alerts in dollars and calendar events.

IEEPA duty paid on an entry that has liquidated comes back through CBP's CAPE process only while the entry's
protest window is open: 180 days after the date of liquidation (19 U.S.C. 1514(c)(3)); after that the refund
is contested. :mod:`critmin.reconcile` computes each refundable line's status and deadline from the export
(:func:`critmin.duty.refunds.refund_status`); this module takes them per entry, since a protest and a
liquidation are an entry's, and turns each into

* an alert of ``critmin monitor run`` when the window closes within a number of days (default 30):
  "Protest window for entry NS710000246 closes on 2027-02-17: $8,250.00";
* an event of ``critmin timeline --entries`` (and of the monitor's calendar), with its countdown.

Everything comes from the files: nothing here touches the network, so deadlines are raised even offline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from critmin.monitor.alerts import ALERT_COLUMNS
from critmin.monitor.timeline import Event, Source
from critmin.reconcile.api import reconcile_file
from critmin.reconcile.refunds import ENTRY_DEADLINE_SCHEMA, PROTEST_DAYS, entry_deadlines

DEFAULT_PROTEST_DAYS = 30
"""Alert when an entry's protest window closes within this many days, unless told otherwise."""
WATCH_ID = "protest-window"
"""The watch id of deadline alerts: their ids are ``protest-window/<entry number>/<deadline>``."""
WATCH_TITLE = "IEEPA refunds: protest windows of your entries (ACE exports)"
LAW = "19 U.S.C. 1514(c)(3)"

DEADLINE_SCHEMA: dict[str, pl.DataType] = {"file": pl.String(), **ENTRY_DEADLINE_SCHEMA}
"""One row per entry and deadline: the export it came from and :data:`ENTRY_DEADLINE_SCHEMA`."""


def protest_deadlines(
    files: Sequence[Path], *, today: date, statuses: tuple[str, ...] | None = ("protest_window",)
) -> pl.DataFrame:
    """Refundable IEEPA duty per entry and protest deadline, over every export, soonest first.

    Each file is reconciled by :func:`critmin.reconcile.reconcile_file` on ``today`` (a file that cannot be
    read raises its :class:`~critmin.errors.InputError`). ``statuses`` as in
    :func:`critmin.reconcile.refunds.entry_deadlines` (``None``: past deadlines too). An entry found in two
    exports is kept once, from the first file that has it.
    """
    frames = [
        entry_deadlines(reconcile_file(path, today=today).refunds, statuses=statuses).select(
            pl.lit(str(path)).alias("file"), pl.all()
        )
        for path in files
    ]
    if not frames:
        return pl.DataFrame(schema=DEADLINE_SCHEMA)
    return (
        pl.concat(frames, how="vertical")
        .unique(["entry_number", "protest_deadline"], keep="first", maintain_order=True)
        .sort("protest_deadline", "entry_number")
        .cast(pl.Schema(DEADLINE_SCHEMA))
    )


def dollars(amount: float) -> str:
    """``$8,250.00``: refunds are claimed to the cent."""
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def deadline_title(row: dict[str, Any]) -> str:
    """``Protest window for entry NS710000246 closes on 2027-02-17: $8,250.00`` (``closed on``, and the
    refund said to be contested, once the deadline has passed)."""
    passed = row["status"] == "finally_liquidated"
    return (
        f"Protest window for entry {row['entry_number']} {'closed' if passed else 'closes'} on "
        f"{row['protest_deadline'].isoformat()}: {dollars(row['amount'])}"
        + (" (refund contested)" if passed else "")
    )


def deadline_summary(row: dict[str, Any], today: date) -> str:
    """The sentence an alert says: the dollars, what to do by when, and where the date comes from."""
    days = int(row["days_left"])
    when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
    deadline, liquidated = row["protest_deadline"].isoformat(), row["liquidation_date"].isoformat()
    return (
        f"{dollars(row['amount'])} of IEEPA duty paid on entry {row['entry_number']} "
        f"({row['lines']} line(s), {row['headings']}) is refundable through CAPE only until {deadline} "
        f"({when}, as of {today.isoformat()}): liquidated {liquidated}, plus {PROTEST_DAYS} days to "
        f"protest ({LAW}). From {Path(row['file']).name}."
    )


def deadline_alerts(
    deadlines: pl.DataFrame, *, within_days: int, today: date, run_id: str, now: datetime
) -> pl.DataFrame:
    """One alert (:data:`critmin.monitor.alerts.ALERT_COLUMNS`) per entry in its protest window whose
    deadline is at most ``within_days`` days after ``today``.

    The alert id holds the deadline, so a run on the next day does not raise it again, but a
    reliquidation (a new deadline) does. The stored payload renders in digests, feeds and webhooks like any
    alert; its ``deadline`` holds the figures.
    """
    due = deadlines.filter((pl.col("status") == "protest_window") & (pl.col("days_left") <= within_days))
    rows = []
    for row in due.iter_rows(named=True):
        deadline = row["protest_deadline"].isoformat()
        alert_id = f"{WATCH_ID}/{row['entry_number']}/{deadline}"
        title = deadline_title(row)
        payload = {
            "alert_id": alert_id,
            "kind": "protest_deadline",
            "entry": {"id": WATCH_ID, "title": WATCH_TITLE},
            "document": {
                "document_number": row["entry_number"],
                "title": title,
                "type": "protest deadline",
                "endpoint": None,
                "publication_date": None,
                "agencies": None,
                "citation": LAW,
                "html_url": None,
                "pdf_url": None,
            },
            "mentions": {"hts": row["hts"].split(", "), "minerals": [], "countries": [], "chapter99": []},
            "exposure": {
                "basis": "ace_export",
                "window": None,
                "lines_touched": row["lines"],
                "lines_from_mentioned_countries": 0,
                "annual_value_usd": None,
                "annual_duty_usd": None,
                "top_lines": [],
            },
            "impact": None,
            "deadline": {
                "entry_number": row["entry_number"],
                "file": row["file"],
                "liquidation_date": row["liquidation_date"].isoformat(),
                "protest_deadline": deadline,
                "days_left": row["days_left"],
                "today": today.isoformat(),
                "amount_usd": row["amount"],
                "lines": row["lines"],
                "headings": row["headings"].split(", "),
                "status": row["status"],
                "summary": deadline_summary(row, today),
            },
            "suppressed": False,
            "created_at": now.isoformat(timespec="seconds"),
        }
        rows.append(
            {
                "alert_id": alert_id,
                "entry_id": WATCH_ID,
                "document_number": row["entry_number"],
                "run_id": run_id,
                "created_at": now,
                "status": "active",
                "title": title,
                "publication_date": None,
                "measure_id": None,
                "lines_touched": row["lines"],
                "annual_value_usd": None,
                "duty_before_usd": None,
                "duty_after_usd": None,
                "payload": json.dumps(payload, default=str, sort_keys=True),
            }
        )
    return pl.DataFrame(rows, schema=ALERT_COLUMNS)


def deadline_events(deadlines: pl.DataFrame) -> list[Event]:
    """One calendar event per entry and deadline (``protest-<entry>-<deadline>``), dated the deadline,
    computed from the liquidation date the export gives (``date_basis: computed``)."""
    events = []
    for row in deadlines.iter_rows(named=True):
        liquidated = row["liquidation_date"].isoformat()
        events.append(
            Event(
                id=f"protest-{row['entry_number']}-{row['protest_deadline'].isoformat()}",
                date=row["protest_deadline"],
                kind="deadline",
                topic="ieepa",
                title=deadline_title(row),
                measures=["ieepa"],
                date_basis="computed",
                note=(
                    f"liquidated {liquidated} + {PROTEST_DAYS} days ({LAW}); {row['lines']} line(s) under "
                    f"{row['headings']}; refund status {row['status']}"
                ),
                sources=[
                    Source(
                        citation=LAW,
                        reliability="P",
                        note="a protest is filed within 180 days after the date of liquidation",
                    ),
                    Source(
                        citation=f"{Path(row['file']).name}, entry {row['entry_number']}: liquidated "
                        f"{liquidated}",
                        reliability="user",
                    ),
                ],
                origin="user",
            )
        )
    return events


__all__ = [
    "DEADLINE_SCHEMA",
    "DEFAULT_PROTEST_DAYS",
    "WATCH_ID",
    "deadline_alerts",
    "deadline_events",
    "deadline_summary",
    "deadline_title",
    "protest_deadlines",
]
