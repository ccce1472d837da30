"""The monitor's state in the workspace: documents, fetch history, cursors, alerts and deliveries.

Every page of results is written in **one transaction** together with the cursor that points past it: a run
killed at any moment leaves either the whole page and the advanced cursor, or neither, so the next run
resumes at the first page not yet stored and nothing is read into the store twice or skipped. Documents are
keyed by document number, so a document returned by several queries, by a repeated page, or first on the
public inspection desk and later in the Federal Register is stored once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import polars as pl

from critmin.monitor.fedreg import Endpoint, Page
from critmin.monitor.watchlist import WatchQuery
from critmin.workspace import Workspace

DOCUMENT_COLUMNS: dict[str, pl.DataType] = {
    "document_number": pl.String(),
    "endpoint": pl.String(),
    "title": pl.String(),
    "doc_type": pl.String(),
    "abstract": pl.String(),
    "publication_date": pl.Date(),
    "agencies": pl.String(),
    "html_url": pl.String(),
    "pdf_url": pl.String(),
    "citation": pl.String(),
    "full_text": pl.String(),
    "raw": pl.String(),
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Cursor:
    query_key: str
    next_url: str | None
    next_page: int | None
    high_water: date | None
    pages_read: int
    passes_completed: int

    @property
    def in_progress(self) -> bool:
        return self.next_url is not None


@dataclass(frozen=True)
class PassCheck:
    """How a finished pass compares with what the API announced."""

    distinct: int
    expected: int | None

    @property
    def verified(self) -> bool:
        return self.expected is None or self.distinct >= self.expected


@dataclass(frozen=True)
class PageWrite:
    results: int
    new_documents: int
    finished: PassCheck | None = None  # set when this page ended the pass


def expected_documents(page: Page) -> int | None:
    """Documents a pass can reach: the API's count, capped by how far it lets a client page.

    The Federal Register reports at most 10,000 and serves at most ``total_pages`` pages (50 in the recorded
    responses), so a broad search can never be read in full; the cap keeps such a pass from counting as
    incomplete forever.
    """
    if page.count <= 0:
        return 0
    per_page = page.per_page or len(page.results) or 1
    reachable = page.total_pages * per_page if page.total_pages else page.count
    return min(page.count, reachable)


def page_documents(page: Page, endpoint: Endpoint, full_texts: dict[str, str] | None = None) -> pl.DataFrame:
    """The page's results as rows of ``monitor_documents`` (first copy of a repeated number kept)."""
    texts = full_texts or {}
    rows = []
    for item in page.results:
        agencies = item.get("agencies") or []
        names = [str(a.get("name") or a.get("raw_name")) for a in agencies if isinstance(a, dict)]
        number = str(item["document_number"])
        rows.append(
            {
                "document_number": number,
                "endpoint": str(endpoint),
                "title": item.get("title"),
                "doc_type": item.get("type"),
                "abstract": item.get("abstract"),
                "publication_date": item.get("publication_date"),
                "agencies": "; ".join(names) if names else None,
                "html_url": item.get("html_url"),
                "pdf_url": item.get("pdf_url"),
                "citation": item.get("citation"),
                "full_text": texts.get(number),
                "raw": json.dumps(item, sort_keys=True),
            }
        )
    frame = pl.DataFrame(rows, schema={name: pl.String() for name in DOCUMENT_COLUMNS})
    return frame.with_columns(pl.col("publication_date").str.to_date("%Y-%m-%d", strict=False)).unique(
        subset="document_number", keep="first", maintain_order=True
    )


class MonitorStore:
    """Reads and writes the ``monitor_*`` tables of a workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    # -- runs -----------------------------------------------------------------------------------------

    def start_run(self, watchlist: str) -> str:
        run_id = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        with self.ws.transaction() as con:
            # A run still marked running belongs to a process that died: the workspace admits one writer.
            con.execute(
                "UPDATE monitor_runs SET status = 'interrupted', error = 'the process ended before the run "
                "finished; the next run resumed from the stored cursors' WHERE status = 'running'"
            )
            con.execute(
                "INSERT INTO monitor_runs (run_id, started_at, status, watchlist) VALUES (?, ?, 'running', "
                "?)",
                [run_id, utcnow(), watchlist],
            )
        return run_id

    def finish_run(
        self, run_id: str, *, status: str, stats: dict[str, int], warnings: list[str], error: str | None
    ) -> None:
        with self.ws.transaction() as con:
            con.execute(
                "UPDATE monitor_runs SET finished_at = ?, status = ?, pages = ?, documents_new = ?, "
                "alerts_new = ?, "
                "deliveries = ?, warnings = ?, error = ? WHERE run_id = ?",
                [
                    utcnow(),
                    status,
                    stats.get("pages", 0),
                    stats.get("documents_new", 0),
                    stats.get("alerts_new", 0),
                    stats.get("deliveries", 0),
                    json.dumps(warnings),
                    error,
                    run_id,
                ],
            )

    def runs(self, limit: int = 20) -> pl.DataFrame:
        with self.ws.connect() as con:
            return con.execute(
                "SELECT run_id, started_at, finished_at, status, pages, documents_new, alerts_new, "
                "deliveries, error "
                "FROM monitor_runs ORDER BY started_at DESC LIMIT ?",
                [limit],
            ).pl()

    # -- cursors --------------------------------------------------------------------------------------

    def cursor(self, query_key: str) -> Cursor | None:
        with self.ws.connect() as con:
            row = con.execute(
                "SELECT query_key, next_url, next_page, high_water, pages_read, passes_completed "
                "FROM monitor_cursors WHERE query_key = ?",
                [query_key],
            ).fetchone()
        return Cursor(*row) if row else None

    def cursors(self) -> pl.DataFrame:
        with self.ws.connect() as con:
            return con.execute("SELECT * FROM monitor_cursors ORDER BY query_key").pl()

    # -- pages ----------------------------------------------------------------------------------------

    def save_page(
        self,
        run_id: str,
        query: WatchQuery,
        page: Page,
        *,
        first: bool,
        full_texts: dict[str, str] | None = None,
    ) -> PageWrite:
        """Store one page, its hits, its fetch record and the advanced cursor, atomically.

        ``first``: the page starts a pass (its count sets what the pass must see). A page without a
        ``next_page_url`` ends the pass: high water moves only if the pass saw every document announced.
        """
        docs = page_documents(page, query.endpoint, full_texts)
        now = utcnow()
        page_max = docs.get_column("publication_date").max() if docs.height else None
        with self.ws.transaction() as con:
            con.register("page_docs", docs.to_arrow())
            try:
                new = _scalar(
                    con,
                    "SELECT count(*) FROM page_docs p WHERE NOT EXISTS "
                    "(SELECT 1 FROM monitor_documents d WHERE d.document_number = p.document_number)",
                )
                if docs.height:
                    _upsert_documents(con, run_id, now)
                    con.execute(
                        "INSERT INTO monitor_hits (entry_id, document_number, query_key, first_run_id, "
                        "first_seen_at, last_seen_at) SELECT ?, document_number, ?, ?, ?, ? FROM page_docs "
                        "ON CONFLICT DO UPDATE SET last_seen_at = excluded.last_seen_at",
                        [query.entry_id, query.key, run_id, now, now],
                    )
            finally:
                con.unregister("page_docs")
            _log_fetch(con, run_id, query.key, page, new, now, note=None)
            _advance_cursor(con, query, page, page_max, first=first, now=now)
            finished = _finish_pass(con, query.key, now) if page.next_url is None else None
            if finished is not None and not finished.verified:
                _note_last_fetch(con, query.key, _shortfall(finished))
        return PageWrite(results=len(page.results), new_documents=new, finished=finished)

    def close_pass(self, query: WatchQuery, *, note: str, run_id: str, url: str) -> PassCheck:
        """End a pass early (a paging loop): record why; high water moves only if nothing was missed."""
        now = utcnow()
        with self.ws.transaction() as con:
            finished = _finish_pass(con, query.key, now)
            detail = note if finished.verified else f"{note} {_shortfall(finished)}"
            con.execute(
                "INSERT INTO monitor_fetches (run_id, query_key, page_number, url, fetched_at, attempts, "
                "bytes, "
                "count_reported, results, new_documents, note) VALUES (?, ?, 0, ?, ?, 0, 0, NULL, 0, 0, ?)",
                [run_id, query.key, url, now, detail],
            )
        return finished

    def documents_missing_text(self, numbers: list[str]) -> set[str]:
        if not numbers:
            return set()
        with self.ws.connect() as con:
            have = con.execute(
                "SELECT document_number FROM monitor_documents WHERE full_text IS NOT NULL "
                "AND list_contains(?, document_number)",
                [numbers],
            ).fetchall()
        return set(numbers) - {row[0] for row in have}

    # -- reading --------------------------------------------------------------------------------------

    def documents(self, *, since: date | None = None, numbers: list[str] | None = None) -> pl.DataFrame:
        sql = "SELECT * EXCLUDE (raw) FROM monitor_documents WHERE 1 = 1"
        params: list[Any] = []
        if since is not None:
            sql += " AND (publication_date >= ? OR (publication_date IS NULL AND first_seen_at >= ?))"
            params += [since, since]
        if numbers is not None:
            sql += " AND list_contains(?, document_number)"
            params.append(numbers)
        sql += " ORDER BY publication_date DESC NULLS LAST, document_number"
        with self.ws.connect() as con:
            return con.execute(sql, params).pl()

    def raw_documents(self, numbers: list[str]) -> dict[str, dict[str, Any]]:
        with self.ws.connect() as con:
            rows = con.execute(
                "SELECT document_number, raw FROM monitor_documents WHERE list_contains(?, document_number)",
                [numbers],
            ).fetchall()
        return {row[0]: json.loads(row[1]) for row in rows}

    def fetches(self, run_id: str | None = None) -> pl.DataFrame:
        sql = "SELECT * FROM monitor_fetches"
        params: list[Any] = []
        if run_id:
            sql += " WHERE run_id = ?"
            params.append(run_id)
        with self.ws.connect() as con:
            return con.execute(sql + " ORDER BY id", params).pl()

    def unalerted_hits(self) -> pl.DataFrame:
        """(entry_id, document_number) pairs hit by a watched query that have no alert yet."""
        with self.ws.connect() as con:
            return con.execute(
                "SELECT DISTINCT h.entry_id, h.document_number FROM monitor_hits h "
                "WHERE NOT EXISTS (SELECT 1 FROM monitor_alerts a WHERE a.entry_id = h.entry_id "
                "AND a.document_number = h.document_number) ORDER BY h.document_number, h.entry_id"
            ).pl()

    # -- alerts ---------------------------------------------------------------------------------------

    def insert_alerts(self, alerts: pl.DataFrame) -> dict[str, int]:
        """Insert new alerts in one transaction; returns how many were new, by status (active/suppressed).

        An alert already stored (same entry and document) is left as it is: re-running never duplicates one.
        """
        counts = {"active": 0, "suppressed": 0}
        if alerts.height == 0:
            return counts
        with self.ws.transaction() as con:
            con.register("new_alerts", alerts.to_arrow())
            try:
                fresh = con.execute(
                    "SELECT status, count(*) FROM new_alerts n WHERE NOT EXISTS "
                    "(SELECT 1 FROM monitor_alerts a WHERE a.alert_id = n.alert_id) GROUP BY status"
                ).fetchall()
                con.execute(
                    "INSERT INTO monitor_alerts BY NAME SELECT * FROM new_alerts ON CONFLICT DO NOTHING"
                )
            finally:
                con.unregister("new_alerts")
        counts.update({str(status): int(n) for status, n in fresh})
        return counts

    def alerts(
        self,
        *,
        since: date | None = None,
        alert_ids: list[str] | None = None,
        include_suppressed: bool = False,
    ) -> pl.DataFrame:
        sql = "SELECT * FROM monitor_alerts WHERE 1 = 1"
        params: list[Any] = []
        if not include_suppressed:
            sql += " AND status = 'active'"
        if since is not None:
            sql += " AND created_at >= ?"
            params.append(datetime(since.year, since.month, since.day))
        if alert_ids is not None:
            sql += " AND list_contains(?, alert_id)"
            params.append(alert_ids)
        with self.ws.connect() as con:
            return con.execute(sql + " ORDER BY created_at, alert_id", params).pl()

    # -- deliveries -----------------------------------------------------------------------------------

    def undelivered(self, channel: str) -> pl.DataFrame:
        """Alerts with no 'delivered' row for ``channel``, oldest first."""
        with self.ws.connect() as con:
            return con.execute(
                "SELECT a.* FROM monitor_alerts a WHERE a.status = 'active' AND NOT EXISTS (SELECT 1 FROM "
                "monitor_deliveries d "
                "WHERE d.alert_id = a.alert_id AND d.channel = ? AND d.status = 'delivered') "
                "ORDER BY a.created_at, a.alert_id",
                [channel],
            ).pl()

    def record_delivery(
        self, alert_id: str, channel: str, *, ok: bool, attempts: int, error: str | None
    ) -> None:
        now = utcnow()
        with self.ws.transaction() as con:
            con.execute(
                "INSERT INTO monitor_deliveries (alert_id, channel, status, attempts, first_attempt_at, "
                "last_attempt_at, delivered_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (alert_id, channel) DO UPDATE SET status = excluded.status, "
                "attempts = monitor_deliveries.attempts + excluded.attempts, last_attempt_at = "
                "excluded.last_attempt_at, "
                "delivered_at = excluded.delivered_at, last_error = excluded.last_error",
                [
                    alert_id,
                    channel,
                    "delivered" if ok else "failed",
                    attempts,
                    now,
                    now,
                    now if ok else None,
                    error,
                ],
            )

    def deliveries(self) -> pl.DataFrame:
        with self.ws.connect() as con:
            return con.execute("SELECT * FROM monitor_deliveries ORDER BY alert_id, channel").pl()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _upsert_documents(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> None:
    """Insert new documents; for known ones refresh last_seen_at and, when the published version arrives,
    replace the public-inspection record with it (a published record is never overwritten by a PI one)."""
    published_wins = [
        f"{col} = CASE WHEN excluded.endpoint = 'documents' OR monitor_documents.endpoint = "
        "'public_inspection' "
        f"THEN excluded.{col} ELSE monitor_documents.{col} END"
        for col in (
            "endpoint",
            "title",
            "doc_type",
            "abstract",
            "publication_date",
            "agencies",
            "html_url",
            "pdf_url",
            "citation",
            "raw",
        )
    ]
    con.execute(
        "INSERT INTO monitor_documents (document_number, endpoint, title, doc_type, abstract, "
        "publication_date, "
        "agencies, html_url, pdf_url, citation, full_text, raw, first_seen_at, last_seen_at, first_run_id) "
        "SELECT document_number, endpoint, title, doc_type, abstract, publication_date, agencies, html_url, "
        "pdf_url, "
        "citation, full_text, raw, ?, ?, ? FROM page_docs "
        "ON CONFLICT (document_number) DO UPDATE SET last_seen_at = excluded.last_seen_at, "
        "full_text = coalesce(excluded.full_text, monitor_documents.full_text), " + ", ".join(published_wins),
        [now, now, run_id],
    )


def _log_fetch(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    key: str,
    page: Page,
    new: int,
    now: datetime,
    *,
    note: str | None,
) -> None:
    con.execute(
        "INSERT INTO monitor_fetches (run_id, query_key, page_number, url, fetched_at, attempts, bytes, "
        "count_reported, results, new_documents, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            key,
            page.number,
            page.url,
            now,
            page.attempts,
            page.bytes,
            page.count,
            len(page.results),
            new,
            note,
        ],
    )


def _note_last_fetch(con: duckdb.DuckDBPyConnection, key: str, note: str) -> None:
    con.execute(
        "UPDATE monitor_fetches SET note = ? WHERE id = (SELECT max(id) FROM monitor_fetches WHERE "
        "query_key = ?)",
        [note, key],
    )


def _shortfall(check: PassCheck) -> str:
    return (
        f"Pass incomplete: the API announced {check.expected} document(s), {check.distinct} distinct were "
        "read; "
        "the next run reads the same range again."
    )


def _advance_cursor(
    con: duckdb.DuckDBPyConnection,
    query: WatchQuery,
    page: Page,
    page_max: Any,
    *,
    first: bool,
    now: datetime,
) -> None:
    row = con.execute(
        "SELECT pass_high_water, pass_started_at, pass_expected FROM monitor_cursors WHERE query_key = ?",
        [query.key],
    ).fetchone()
    pass_high, started, expected = row if row and not first else (None, now, expected_documents(page))
    con.execute(
        "INSERT INTO monitor_cursors (query_key, entry_id, endpoint, label, next_url, next_page, "
        "pass_started_at, "
        "pass_expected, pass_high_water, pages_read, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?) "
        "ON CONFLICT (query_key) DO UPDATE SET next_url = excluded.next_url, next_page = excluded.next_page, "
        "pass_started_at = excluded.pass_started_at, pass_expected = excluded.pass_expected, "
        "pass_high_water = excluded.pass_high_water, pages_read = monitor_cursors.pages_read + 1, "
        "updated_at = excluded.updated_at, label = excluded.label",
        [
            query.key,
            query.entry_id,
            str(query.endpoint),
            query.label,
            page.next_url,
            page.number + 1 if page.next_url else None,
            started,
            expected,
            _later(pass_high, page_max),
            now,
        ],
    )


def _finish_pass(con: duckdb.DuckDBPyConnection, key: str, now: datetime) -> PassCheck:
    """Close the cursor's pass; move high water only when the pass saw what the API announced."""
    row = con.execute(
        "SELECT pass_started_at, pass_expected FROM monitor_cursors WHERE query_key = ?", [key]
    ).fetchone()
    started, expected = row if row else (None, None)
    distinct = _scalar(
        con,
        "SELECT count(DISTINCT document_number) FROM monitor_hits WHERE query_key = ? AND last_seen_at >= ?",
        [key, started or now],
    )
    check = PassCheck(distinct=distinct, expected=expected)
    con.execute(
        "UPDATE monitor_cursors SET next_url = NULL, next_page = NULL, "
        "high_water = CASE WHEN NOT ? OR pass_high_water IS NULL THEN high_water WHEN high_water IS NULL "
        "THEN pass_high_water ELSE greatest(high_water, pass_high_water) END, "
        "pass_high_water = NULL, passes_completed = passes_completed + 1, updated_at = ? WHERE query_key = ?",
        [check.verified, now, key],
    )
    return check


def _later(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
