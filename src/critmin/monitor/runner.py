"""``critmin monitor run``: fetch every watched query, store new documents, raise alerts, deliver them.

Each watched query is read from where its cursor stands: mid-pass after an interrupted run (the stored
``next_page_url``), otherwise a new pass from the latest publication date already seen (inclusive, so a day
published in two batches is not missed; repeats are deduplicated by document number). One query failing
(after retries) does not stop the others: the run is marked ``partial``, the failure is reported, and the
next run resumes that query at its cursor.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from critmin.monitor.alerts import DutyModel, LedgerContext, build_alerts, payloads
from critmin.monitor.deadlines import deadline_alerts, protest_deadlines
from critmin.monitor.deliver import Channel, DeliveryReport, deliver_pending
from critmin.monitor.digest import atom_feed, write_atomic
from critmin.monitor.errors import FeedError, FeedUnreachableError, PagingLoopError
from critmin.monitor.fedreg import Endpoint, FederalRegisterClient
from critmin.monitor.http import RandomFn, RetryPolicy, SleepFn
from critmin.monitor.match import schedule_prefixes
from critmin.monitor.store import MonitorStore, PassCheck
from critmin.monitor.watchlist import Watchlist, WatchQuery
from critmin.workspace import Workspace

log = logging.getLogger("critmin.monitor")


@dataclass
class QueryReport:
    key: str
    label: str
    resumed: bool
    pages: int = 0
    results: int = 0
    new_documents: int = 0
    complete: bool = False
    error: str | None = None


@dataclass
class RunReport:
    run_id: str
    status: str = "running"
    queries: list[QueryReport] = field(default_factory=list)
    alerts_new: int = 0
    alerts_suppressed: int = 0
    deadline_alerts_new: int = 0
    """alerts for protest windows of the ACE exports' entries closing soon (critmin.monitor.deadlines)"""
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    warnings: list[str] = field(default_factory=list)
    atom_path: Path | None = None

    @property
    def pages(self) -> int:
        return sum(q.pages for q in self.queries)

    @property
    def documents_new(self) -> int:
        return sum(q.new_documents for q in self.queries)

    @property
    def errors(self) -> list[str]:
        return [f"{q.label}: {q.error}" for q in self.queries if q.error]


def run_monitor(
    workspace: Workspace,
    watchlist: Watchlist,
    *,
    client: FederalRegisterClient,
    ledger: pl.DataFrame | None = None,
    duty: DutyModel | None = None,
    channels: Sequence[Channel] = (),
    max_pages: int | None = None,
    classify: bool = True,
    delivery_retry: RetryPolicy | None = None,
    sleep: SleepFn = time.sleep,
    rand: RandomFn = random.random,
    entry_files: Sequence[Path] = (),
    protest_days: int | None = None,
    today: date | None = None,
) -> RunReport:
    """One monitor run. Returns what happened; the same is recorded in ``monitor_runs``.

    Besides the Federal Register, the run raises one alert per entry of the ACE exports (the watchlist's
    ``ace_exports`` and ``entry_files``) whose IEEPA protest window closes within ``protest_days`` of
    ``today`` (default: the watchlist's ``protest_alert_days``, and today). Those come from the files alone,
    so they are raised first: a run that then finds the network down has still recorded them. The exports
    are read before the run starts, so a bad file stops it with nothing recorded.
    """
    files = [*watchlist.ace_exports, *entry_files]
    day = today or date.today()
    deadlines = protest_deadlines(files, today=day) if files else None
    within = watchlist.protest_alert_days if protest_days is None else protest_days
    store = MonitorStore(workspace)
    report = RunReport(run_id=store.start_run(watchlist.name))
    try:
        if deadlines is not None:
            now = datetime.now(UTC).replace(tzinfo=None)
            due = deadline_alerts(deadlines, within_days=within, today=day, run_id=report.run_id, now=now)
            report.deadline_alerts_new = store.insert_alerts(due)["active"]
        for query in watchlist.queries():
            report.queries.append(_fetch_query(store, client, watchlist, query, report, max_pages))
        new, suppressed = _raise_alerts(store, watchlist, ledger, duty, report.run_id, classify)
        report.alerts_new, report.alerts_suppressed = new, suppressed
        if channels:
            report.delivery = deliver_pending(store, channels, retry=delivery_retry, sleep=sleep, rand=rand)
            report.warnings += report.delivery.errors
        if watchlist.deliver.atom is not None:
            report.atom_path = write_feed(store, watchlist.deliver.atom, title=f"critmin: {watchlist.name}")
        report.status = "partial" if report.errors or report.delivery.failed else "complete"
    except BaseException as exc:
        report.status = "failed"
        store.finish_run(
            report.run_id, status="failed", stats=_stats(report), warnings=report.warnings, error=repr(exc)
        )
        raise
    error = "; ".join(report.errors) or None
    store.finish_run(
        report.run_id, status=report.status, stats=_stats(report), warnings=report.warnings, error=error
    )
    return report


def _stats(report: RunReport) -> dict[str, int]:
    return {
        "pages": report.pages,
        "documents_new": report.documents_new,
        "alerts_new": report.alerts_new + report.deadline_alerts_new,
        "deliveries": report.delivery.delivered,
    }


def _fetch_query(
    store: MonitorStore,
    client: FederalRegisterClient,
    watchlist: Watchlist,
    query: WatchQuery,
    report: RunReport,
    max_pages: int | None,
) -> QueryReport:
    cursor = store.cursor(query.key)
    resumed = bool(cursor and cursor.in_progress)
    outcome = QueryReport(key=query.key, label=query.label, resumed=resumed)
    if cursor is not None and cursor.next_url is not None:
        url, number = cursor.next_url, cursor.next_page or 1
    elif query.endpoint is Endpoint.documents:
        since = cursor.high_water if cursor and cursor.high_water else query.since
        url, number = client.search_url(query.document_query(since)), 1
    else:
        url, number = client.public_inspection_url(query.public_inspection_query()), 1
    first = not resumed
    store.ws.release()  # each page is fetched with the file let go: the dashboard and imports go on meanwhile
    try:
        for page in client.iter_pages(url, start_number=number, max_pages=max_pages):
            texts = _full_texts(store, client, page.results) if watchlist.full_text else None
            written = store.save_page(report.run_id, query, page, first=first, full_texts=texts)
            store.ws.release()
            first = False
            outcome.pages += 1
            outcome.results += written.results
            outcome.new_documents += written.new_documents
            if written.finished is not None:
                outcome.complete = True
                _check_pass(written.finished, query, report)
    except PagingLoopError as exc:
        outcome.complete = True
        report.warnings.append(f"{query.label}: {exc}")
        _check_pass(store.close_pass(query, note=str(exc), run_id=report.run_id, url=exc.url), query, report)
    except FeedUnreachableError:
        raise  # offline: every other query would fail the same way, so the run stops here
    except FeedError as exc:
        outcome.error = str(exc)
        log.error("%s: %s", query.label, exc)
    return outcome


def _check_pass(check: PassCheck, query: WatchQuery, report: RunReport) -> None:
    if not check.verified:
        report.warnings.append(
            f"{query.label}: the API announced {check.expected} document(s) but {check.distinct} distinct "
            "ones "
            "were read; the next run reads the same range again."
        )


def _full_texts(
    store: MonitorStore, client: FederalRegisterClient, results: list[dict[str, Any]]
) -> dict[str, str]:
    numbers = [str(item["document_number"]) for item in results if item.get("raw_text_url")]
    missing = store.documents_missing_text(numbers)
    store.ws.release()
    texts: dict[str, str] = {}
    for item in results:
        number = str(item["document_number"])
        if number in missing:
            text = client.full_text(item)
            if text is not None:
                texts[number] = text
    return texts


def _raise_alerts(
    store: MonitorStore,
    watchlist: Watchlist,
    ledger: pl.DataFrame | None,
    duty: DutyModel | None,
    run_id: str,
    classify: bool,
) -> tuple[int, int]:
    pending = store.unalerted_hits()
    known = {entry.id for entry in watchlist.entries}
    pending = pending.filter(pl.col("entry_id").is_in(list(known)))
    if pending.height == 0:
        return 0, 0
    documents = store.documents(numbers=pending.get_column("document_number").unique().to_list())
    context = LedgerContext.build(ledger, duty, classify=classify)
    alerts = build_alerts(
        pending,
        documents,
        watchlist,
        context,
        run_id=run_id,
        now=datetime.now(UTC).replace(tzinfo=None),
        duty=duty,
        known_hts=schedule_prefixes(),
    )
    counts = store.insert_alerts(alerts)
    return counts["active"], counts["suppressed"]


def load_ledger(
    workspace: Workspace, path: Path | None = None, *, mapping: Path | None = None
) -> pl.DataFrame | None:
    """The ledger alerts are priced on: a ledger file when given (read by the ledger ingester, quarantined
    rows left out), else the ledger imported into the workspace; None when there is none."""
    if path is not None:
        from critmin.ledger.ingest import ingest

        return ingest(path, mapping=mapping).lines
    try:
        from critmin.ledger.store import lines
    except ImportError:
        return None
    try:
        frame = lines(workspace)
    except duckdb.CatalogException:  # a workspace made before the ledger tables existed
        return None
    return frame if frame.height else None


def write_feed(store: MonitorStore, path: Path, *, title: str) -> Path:
    """Write every alert as an Atom feed at ``path`` (atomically, so a feed reader never sees half)."""
    alerts = payloads(store.alerts())
    now = datetime.now(UTC).replace(tzinfo=None)
    feed_id = f"urn:critmin:monitor:{store.ws.path.name}"
    write_atomic(path, atom_feed(alerts, feed_id=feed_id, title=title, updated=now))
    return path
