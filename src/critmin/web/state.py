"""What one running dashboard holds: where its workspace is, its private upload directory and its cache.

Ledgers live in the workspace (imported with :func:`critmin.ledger.store.import_ledger`, so the web app and
``critmin ledger import`` share one store). The workspace is opened for each operation and closed right
after, never held between requests: DuckDB lets one process at a time use the file, and holding it would
lock ``critmin ledger import`` and ``critmin monitor run`` out for as long as the server runs.

Everything computed from a ledger is cached in memory under (import id, scenario, as-of date, view). An
import or a deletion here drops the cache, and so does a change made by another process, which
:meth:`Dashboard.notice_outside_changes` detects before each request.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from critmin.errors import InputError, NotFoundError
from critmin.web.cache import ComputeCache
from critmin.web.inputs import AnalysisInputs
from critmin.web.reconciling import ExportStore
from critmin.web.settings import WebSettings
from critmin.workspace import DeletedImport, UnknownImportError, Workspace, WorkspaceInUseError
from critmin.workspace.imports import IMPORT_LABEL_KEY

T = TypeVar("T")

LABEL_KEY = IMPORT_LABEL_KEY
SAMPLE_LEDGERS: dict[str, str] = {
    "defense_prime": "defense_prime_ledger.csv",
    "battery_maker": "battery_maker_ledger.csv",
    "magnet_maker": "magnet_maker_ledger.csv",
}


class UnknownLedgerError(NotFoundError, LookupError):
    """No import with that id in this workspace."""


# What the dashboard shows from the workspace, summarised: when another process changes any of it, the
# cached views are stale. (Aggregates over small tables; ledger lines change only with an import record.)
FINGERPRINT_SQL = """
SELECT
    (SELECT count(*) FROM ledger_imports),
    (SELECT coalesce(sum(import_id), 0) FROM ledger_imports),
    (SELECT max(imported_at) FROM ledger_imports),
    (SELECT count(*) FROM settings),
    (SELECT max(updated_at) FROM settings),
    (SELECT count(*) FROM monitor_alerts),
    (SELECT max(created_at) FROM monitor_alerts),
    (SELECT count(*) FROM monitor_documents),
    (SELECT max(last_seen_at) FROM monitor_documents),
    (SELECT coalesce(max(id), 0) FROM events_log)
"""


@dataclass(frozen=True)
class LedgerRecord:
    import_id: int
    label: str
    source_file: str
    format: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_blank: int
    duplicates: int
    imported_at: str
    sha256: str


@dataclass(frozen=True)
class ImportOutcome:
    record: LedgerRecord
    status: str  # "imported" | "unchanged"
    issue_counts: dict[str, int]


class Dashboard:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.cache = ComputeCache()
        self.analyses = ComputeCache(max_entries=max(1, settings.analyses_cached))
        self.reports = ComputeCache(max_entries=6)  # a few megabytes each
        self.pages = ComputeCache(max_entries=64)  # pages of long tables (lines, quarantine, DFARS flags)
        self._lock = threading.Lock()
        self._import_lock = threading.Lock()  # one import at a time: each is one workspace transaction
        self._refresh_lock = threading.Lock()
        self._file_state: tuple[Any, ...] | None = None  # the workspace files' stat when last checked
        self._fingerprint: tuple[Any, ...] | None = None  # what the cached views were computed from
        self._uploads: Path | None = None
        self._inputs = AnalysisInputs(
            draws=settings.draws, sourcing_name=settings.sourcing_problem, project_names=settings.projects
        )
        # ACE exports uploaded to the Reconcile page, by result id; kept across imports (they do not
        # depend on the workspace), dropped when the server stops.
        self.exports = ExportStore()

    # ------------------------------------------------------------------------------------------ resources
    @contextmanager
    def workspace(self, *, wait: float | None = None) -> Iterator[Workspace]:
        """The workspace for one operation, closed when the block ends so other processes can use it.

        ``wait`` bounds the wait for another process's lock (default: the workspace's own); past it,
        :class:`~critmin.workspace.WorkspaceInUseError` names that process and the app answers 503.
        """
        ws = Workspace.open(self.settings.workspace, create=True, wait=wait)
        try:
            yield ws
        finally:
            ws.close()

    @property
    def uploads_dir(self) -> Path:
        """A fresh directory readable by this user only (``mkdtemp`` creates it with mode 0700)."""
        with self._lock:
            if self._uploads is None:
                self._uploads = Path(tempfile.mkdtemp(prefix="critmin-uploads-"))
                # removed at shutdown (close), or when the process exits without one
                weakref.finalize(self, shutil.rmtree, self._uploads, ignore_errors=True)
            return self._uploads

    def close(self) -> None:
        with self._lock:
            if self._uploads is not None:
                shutil.rmtree(self._uploads, ignore_errors=True)
                self._uploads = None
        self.forget()

    def forget(self) -> None:
        """Drop everything computed: an import may have moved lines between ledgers."""
        self.cache.clear()
        self.analyses.clear()
        self.reports.clear()
        self.pages.clear()

    @property
    def inputs(self) -> AnalysisInputs:
        """Scenario parameters, tree and draws, sourcing problem and projects every analysis uses."""
        return self._inputs

    def change_inputs(self, change: Callable[[AnalysisInputs], AnalysisInputs]) -> AnalysisInputs:
        """Apply a checked change (see :mod:`critmin.web.inputs`); every analysis is then recomputed."""
        with self._lock:
            self._inputs = change(self._inputs)
            changed = self._inputs
        self.forget()
        return changed

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        return self.cache.get_or_compute(key, compute)

    def notice_outside_changes(self) -> None:
        """Drop the cache if another process changed the workspace since the views were computed.

        A ``critmin ledger import`` or ``monitor run`` beside the server must show up on the next page. The
        check is a stat of the database and its write-ahead log; only when those moved is the workspace
        opened, to compare a fingerprint of what the dashboard shows (imports, labels, monitor results).
        When another process holds the file right now, the cache is kept and the check repeats on the
        next request, so cached pages stay available during a long import.
        """
        state = self._file_stat()
        if state == self._file_state or not self._refresh_lock.acquire(blocking=False):
            return
        try:
            if state[0] is None:  # no workspace yet: nothing cached from it, and nothing to create now
                self._file_state = state
                return
            try:
                with self.workspace(wait=0) as ws, ws.connect() as con:
                    row = con.execute(FINGERPRINT_SQL).fetchone()
            except WorkspaceInUseError:
                return
            fingerprint = tuple(row) if row else ()
            if self._fingerprint is not None and fingerprint != self._fingerprint:
                self.forget()
            self._fingerprint = fingerprint
            self._file_state = state
        finally:
            self._refresh_lock.release()

    def _file_stat(self) -> tuple[Any, ...]:
        from critmin.workspace import resolve_path

        path = resolve_path(self.settings.workspace)
        found: list[Any] = []
        for file in (path, path.with_name(path.name + ".wal")):
            try:
                info = file.stat()
            except OSError:
                found.append(None)
            else:
                found.append((info.st_mtime_ns, info.st_size, info.st_ino))
        return tuple(found)

    # --------------------------------------------------------------------------------------------- ledgers
    def ledgers(self) -> list[LedgerRecord]:
        """Every import, oldest first (kept until the next import)."""
        return self.cached(("ledgers",), self._read_ledgers)

    def _read_ledgers(self) -> list[LedgerRecord]:
        from critmin.ledger.store import imports

        with self.workspace() as ws:
            frame = imports(ws)
            labels = self._labels(ws)
        return [
            LedgerRecord(
                import_id=int(row["import_id"]),
                label=labels.get(int(row["import_id"]), row["source_file"]),
                source_file=row["source_file"],
                format=row["format"],
                rows_in=int(row["rows_in"]),
                rows_loaded=int(row["rows_loaded"]),
                rows_quarantined=int(row["rows_quarantined"]),
                rows_blank=int(row["rows_blank"]),
                duplicates=int(row["duplicates"]),
                imported_at=str(row["imported_at"]),
                sha256=row["file_sha256"],
            )
            for row in frame.iter_rows(named=True)
        ]

    def _labels(self, ws: Workspace) -> dict[int, str]:
        prefix = LABEL_KEY.format(import_id="")
        with ws.connect() as con:
            rows = con.execute(
                "SELECT key, json_extract_string(value, '$') FROM settings WHERE starts_with(key, ?)",
                [prefix],
            ).fetchall()
        return {int(key.removeprefix(prefix)): str(value) for key, value in rows}

    def ledger(self, import_id: int | None) -> LedgerRecord | None:
        """The chosen import, or the newest when none is chosen; None when the workspace has no ledger."""
        records = self.ledgers()
        if import_id is None:
            return records[-1] if records else None
        for record in records:
            if record.import_id == import_id:
                return record
        known = ", ".join(str(r.import_id) for r in records) or "none yet"
        raise UnknownLedgerError(f"No ledger import {import_id} in this workspace (imports: {known}).")

    def import_file(self, path: Path, label: str) -> ImportOutcome:
        """Import a saved upload (or a shipped sample) and label it; the cache is dropped if lines changed."""
        from critmin.ledger.store import import_ledger

        with self._import_lock, self.workspace() as ws:
            stored = import_ledger(ws, path)
            if stored.status == "imported":
                ws.set_setting(LABEL_KEY.format(import_id=stored.import_id), label)
                self.forget()
        record = self.ledger(stored.import_id)
        assert record is not None
        counts = dict(stored.result.issue_counts) if stored.result is not None else {}
        return ImportOutcome(record=record, status=stored.status, issue_counts=counts)

    def delete_import(self, import_id: int) -> DeletedImport:
        """Delete an import and what was derived from it (one transaction), then drop the cache."""
        from critmin.workspace import delete_import

        with self._import_lock, self.workspace() as ws:
            try:
                deleted = delete_import(ws, import_id)
            except UnknownImportError as exc:
                raise UnknownLedgerError(str(exc)) from exc
            self.forget()
        return deleted

    def import_sample(self, name: str) -> ImportOutcome:
        from critmin.ledger.samples import sample_path

        if name not in SAMPLE_LEDGERS:
            raise InputError(f"No sample ledger {name!r}; choose one of {', '.join(SAMPLE_LEDGERS)}.")
        path = sample_path(SAMPLE_LEDGERS[name])
        return self.import_file(path, path.name)

    def lines(self, import_id: int) -> pl.DataFrame:
        from critmin.ledger.store import lines

        def compute() -> pl.DataFrame:
            with self.workspace() as ws:
                return lines(ws, import_id=import_id)

        return self.cached(("lines", import_id), compute)

    def quarantine(self, record: LedgerRecord) -> pl.DataFrame:
        """One row per quarantined source row with every problem of that row."""
        from critmin.ledger.store import quarantine

        def compute() -> pl.DataFrame:
            with self.workspace() as ws:
                frame = quarantine(ws, source_file=record.source_file)
            return (
                frame.group_by("source_row", maintain_order=True)
                .agg(
                    pl.col("column").str.join(", ").alias("columns"),
                    pl.col("code").str.join(", ").alias("codes"),
                    pl.col("message").str.join(" ").alias("problems"),
                    pl.col("raw").first(),
                )
                .sort("source_row")
            )

        return self.cached(("quarantine", record.import_id), compute)


def public_message(exc: BaseException, path: Path, label: str) -> str:
    """An error for the page: the server's path of a saved upload is replaced by the user's label."""
    text = str(exc)
    for spelling in (str(path), path.name):
        text = text.replace(spelling, label)
    return text


def as_of_key(as_of: date | None) -> str:
    return as_of.isoformat() if as_of else "entry-dates"
