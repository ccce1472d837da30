"""What one running dashboard holds: its workspace, its private upload directory and its cache.

Ledgers live in the workspace (imported with :func:`critmin.ledger.store.import_ledger`, so the web app and
``critmin ledger import`` share one store). Everything computed from a ledger is cached in memory under
(import id, scenario, as-of date, view); an import that changes any ledger drops the cache.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import polars as pl

from critmin.errors import InputError
from critmin.web.cache import ComputeCache
from critmin.web.settings import WebSettings
from critmin.workspace import Workspace

T = TypeVar("T")

LABEL_KEY = "web.ledger_label.{import_id}"
SAMPLE_LEDGERS: dict[str, str] = {
    "defense_prime": "defense_prime_ledger.csv",
    "battery_maker": "battery_maker_ledger.csv",
    "magnet_maker": "magnet_maker_ledger.csv",
}


class UnknownLedgerError(InputError, LookupError):
    """No import with that id in this workspace."""


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
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()
        self._import_lock = threading.Lock()  # one import at a time: each is one workspace transaction
        self._uploads: Path | None = None

    # ------------------------------------------------------------------------------------------ resources
    def workspace(self) -> Workspace:
        with self._lock:
            if self._workspace is None or self._workspace.closed:
                self._workspace = Workspace.open(self.settings.workspace, create=True)
            return self._workspace

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
            if self._workspace is not None:
                self._workspace.close()
                self._workspace = None
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

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        return self.cache.get_or_compute(key, compute)

    # --------------------------------------------------------------------------------------------- ledgers
    def ledgers(self) -> list[LedgerRecord]:
        """Every import, oldest first (kept until the next import)."""
        return self.cached(("ledgers",), self._read_ledgers)

    def _read_ledgers(self) -> list[LedgerRecord]:
        from critmin.ledger.store import imports

        ws = self.workspace()
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

        ws = self.workspace()
        with self._import_lock:
            stored = import_ledger(ws, path)
            if stored.status == "imported":
                ws.set_setting(LABEL_KEY.format(import_id=stored.import_id), label)
                self.forget()
        record = self.ledger(stored.import_id)
        assert record is not None
        counts = dict(stored.result.issue_counts) if stored.result is not None else {}
        return ImportOutcome(record=record, status=stored.status, issue_counts=counts)

    def import_sample(self, name: str) -> ImportOutcome:
        from critmin.ledger.samples import sample_path

        if name not in SAMPLE_LEDGERS:
            raise InputError(f"No sample ledger {name!r}; choose one of {', '.join(SAMPLE_LEDGERS)}.")
        path = sample_path(SAMPLE_LEDGERS[name])
        return self.import_file(path, path.name)

    def lines(self, import_id: int) -> pl.DataFrame:
        from critmin.ledger.store import lines

        return self.cached(("lines", import_id), lambda: lines(self.workspace(), import_id=import_id))

    def quarantine(self, record: LedgerRecord) -> pl.DataFrame:
        """One row per quarantined source row with every problem of that row."""
        from critmin.ledger.store import quarantine

        def compute() -> pl.DataFrame:
            frame = quarantine(self.workspace(), source_file=record.source_file)
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
