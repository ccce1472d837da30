"""The Reconcile page's and API's plumbing: which ACE export, read once, reconciled on which day.

An export is either a shipped sample (a closed list of names, so no request names a file) or an upload.
An upload is saved under a name the server chooses, read by :func:`critmin.reconcile.read_ace` in a worker
thread, and its copy deleted at once; the export read is kept in memory under a random id (the result id
the page's address and the API carry), so that changing the day refund statuses are judged on, or
downloading the CAPE CSV, needs no second upload. Results are not written to the workspace: an ACE export
is the company's customs record, and nothing else of the dashboard depends on it.

Everything a user sees is computed by :mod:`critmin.reconcile` (:func:`~critmin.reconcile.reconcile`,
:func:`~critmin.reconcile.views.reconciliation_view`, :func:`~critmin.reconcile.views.refunds_view`); this
module only chooses the export and caches the views per (export, day).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from critmin.errors import CritminError, InputError, NotFoundError
from critmin.reconcile.ace import AceExport, read_ace
from critmin.reconcile.api import reconcile
from critmin.reconcile.result import Reconciliation
from critmin.reconcile.samples import SAMPLE_EXPORTS, sample_export
from critmin.reconcile.views import (
    ReconciliationView,
    RefundsView,
    UnusableExportError,
    reconciliation_view,
    refunds_view,
    usable,
)
from critmin.web.inputs import FieldProblem, InvalidInputError
from critmin.web.uploads import UploadTooLargeError, label_for, save_upload

if TYPE_CHECKING:
    from critmin.web.state import Dashboard

log = logging.getLogger(__name__)

RESULT_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")
RESULT_PATTERN = RESULT_ID.pattern
KEPT_EXPORTS = 16
"""Uploaded exports kept in memory, the most recently used first; an older id answers 404 (upload again)."""
MAX_PROBLEMS = 1000
"""Problems listed with a refused upload (the message counts them all)."""
EXPECTED = "an ACE entry-summary export (report ES-003) saved as CSV or .xlsx"

# What the readers raise on a file they cannot make sense of (as for ledgers, see critmin.web.ingest), plus
# SyntaxError, which is what a workbook's broken XML raises: the user's file, so a 400, never a 500.
UNREADABLE = (
    ValueError,
    OSError,
    LookupError,
    SyntaxError,
    pl.exceptions.PolarsError,
    zipfile.BadZipFile,
)


class ExportRefusedError(InvalidInputError):
    """An uploaded export that cannot be reconciled: ``detail`` says why and what to export instead,
    ``problems`` place each problem by file, row and column (as the ledger upload's quarantine does)."""

    def __init__(self, detail: str, problems: Sequence[FieldProblem]) -> None:
        InputError.__init__(self, detail)
        self.problems = list(problems)


class ExportTooLargeError(ExportRefusedError):
    """An upload over the server's limit."""

    http_status = 413


class UnknownResultError(NotFoundError):
    """A result id this server does not hold (never issued, or evicted, or the server restarted)."""


@dataclass(frozen=True)
class Source:
    """Which export a view is of: a shipped sample or an uploaded export, judged on ``today``."""

    today: date
    sample: str | None = None
    result: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What a view of this source is cached under."""
        kind, name = ("sample", self.sample) if self.sample is not None else ("result", str(self.result))
        return (kind, name, self.today.isoformat())

    def query(self) -> dict[str, str]:
        """The source as query parameters (page addresses, API links)."""
        chosen = {"sample": self.sample} if self.sample else {"result": str(self.result)}
        return {**chosen, "today": self.today.isoformat()}


class ExportStore:
    """Uploaded exports, read, by random id: a bounded, least-recently-used dictionary, thread-safe."""

    def __init__(self, max_entries: int = KEPT_EXPORTS) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[str, AceExport]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, label: str, export: AceExport) -> str:
        """Keep ``export`` (called ``label`` by its user); returns its new id (16 URL-safe characters)."""
        result_id = secrets.token_urlsafe(12)
        with self._lock:
            self._items[result_id] = (label, export)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return result_id

    def get(self, result_id: str) -> tuple[str, AceExport]:
        """The label and export under ``result_id``; :class:`UnknownResultError` with the fix if none."""
        with self._lock:
            found = self._items.get(result_id)
            if found is not None:
                self._items.move_to_end(result_id)
                return found
        raise UnknownResultError(
            f"No reconciliation {result_id!r} on this server: uploaded exports are kept in memory (the "
            f"{self.max_entries} most recent) until the server stops. Upload the export again."
        )

    def __len__(self) -> int:
        return len(self._items)


def check_day(today: date | None) -> date | None:
    """The day refund statuses are judged on, within the range every date of the dashboard keeps to."""
    from critmin.web.deps import EARLIEST, LATEST

    if today is not None and not EARLIEST <= today <= LATEST:
        raise InputError(
            f"today {today.isoformat()} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}; "
            "give a day in that range (YYYY-MM-DD), or none for today."
        )
    return today


def choose_source(sample: str | None, result: str | None, today: date | None) -> Source:
    """The export a request names: exactly one of a shipped sample and a result id."""
    if (sample is None) == (result is None):
        raise InputError(
            "Name the export to reconcile: either sample (one of "
            f"{', '.join(SAMPLE_EXPORTS)}) or result (the id an upload returned), not "
            + ("both." if sample else "neither was given.")
        )
    if sample is not None:
        sample_export(sample)  # a closed list: an unknown name is a 404 with the names
    if result is not None and not RESULT_ID.match(result):
        raise UnknownResultError(f"{result!r} is not a reconciliation id (16 letters, digits, '-' or '_').")
    return Source(today=today or date.today(), sample=sample, result=result)


def source_label(dash: Dashboard, source: Source) -> str:
    """What the page calls the export: the sample's file, or the name the user gave the upload."""
    if source.sample is not None:
        return sample_export(source.sample).file
    return dash.exports.get(str(source.result))[0]


def reconciliation(dash: Dashboard, source: Source) -> Reconciliation:
    """The reconciliation of the source on its day, computed once per (export, day)."""

    def compute() -> Reconciliation:
        if source.sample is not None:
            sample = sample_export(source.sample)
            return reconcile(read_ace(sample.path, label=sample.file), today=source.today)
        return reconcile(dash.exports.get(str(source.result))[1], today=source.today)

    if source.result is not None:
        dash.exports.get(source.result)  # an unknown id is a 404 before anything is computed
    return dash.cached(("reconcile", *source.key), compute)


def reconciliation_of(dash: Dashboard, source: Source) -> ReconciliationView:
    """The reconciliation view of the source (cached with the result)."""
    return dash.cached(
        ("reconcile_view", *source.key), lambda: reconciliation_view(reconciliation(dash, source))
    )


def refunds_of(dash: Dashboard, source: Source) -> RefundsView:
    """The refunds view of the source (cached with the result)."""
    return dash.cached(("refunds_view", *source.key), lambda: refunds_view(reconciliation(dash, source)))


async def reconcile_upload(dash: Dashboard, upload: UploadFile, today: date | None) -> Source:
    """Save, read and keep an uploaded export, reconcile it on ``today``; the saved copy is deleted.

    Every problem with the file is an :class:`ExportRefusedError` (400; 413 over the size limit) naming
    the file by the user's label, and for an export with no loadable line, each row and column at fault.
    """
    label = label_for(upload.filename)
    limit = dash.settings.max_upload_bytes
    try:
        saved = await save_upload(upload, dash.uploads_dir, limit, expected=EXPECTED)
    except UploadTooLargeError:
        raise ExportTooLargeError(
            f"{label}: the file is larger than the upload limit of {limit:,} bytes.",
            [_file_problem(label, f"larger than {limit:,} bytes", _TOO_LARGE_FIX)],
        ) from None
    except CritminError as exc:
        raise ExportRefusedError(str(exc), [_file_problem(label, str(exc), f"choose {EXPECTED}.")]) from exc
    try:
        export = await run_in_threadpool(_read, saved.path, label)
    finally:
        saved.path.unlink(missing_ok=True)
    source = Source(today=today or date.today(), result=dash.exports.add(label, export))
    await run_in_threadpool(reconciliation, dash, source)
    return source


_TOO_LARGE_FIX = "reconcile it with `critmin reconcile FILE`, or export a shorter period."


def _read(saved: Path, label: str) -> AceExport:
    """Read the saved upload as ``label``; any failure is the file's, reported with the user's name for it."""
    from critmin.web.state import public_message

    try:
        return usable(read_ace(saved, label=label))
    except UnusableExportError as exc:
        issues = exc.issues.head(MAX_PROBLEMS)
        problems = [
            FieldProblem(r["source_file"], r["source_row"], r["column"], r["problem"], r["fix"])
            for r in issues.iter_rows(named=True)
        ]
        raise ExportRefusedError(str(exc), problems) from None
    except CritminError as exc:
        detail = public_message(exc, saved, label)
        raise ExportRefusedError(detail, [_file_problem(label, detail, f"choose {EXPECTED}.")]) from None
    except UNREADABLE as exc:
        log.warning("ACE upload %s could not be read: %r", label, exc)
        detail = (
            f"{label} could not be read as an ACE export ({type(exc).__name__}: "
            f"{public_message(exc, saved, label)})."
        )
        raise ExportRefusedError(detail, [_file_problem(label, detail, f"save it as {EXPECTED}.")]) from None


def _file_problem(label: str, message: str, fix: str) -> FieldProblem:
    return FieldProblem(label, None, "", message, fix)


__all__ = [
    "KEPT_EXPORTS",
    "RESULT_PATTERN",
    "ExportRefusedError",
    "ExportStore",
    "ExportTooLargeError",
    "Source",
    "UnknownResultError",
    "check_day",
    "choose_source",
    "reconcile_upload",
    "reconciliation",
    "reconciliation_of",
    "refunds_of",
    "source_label",
]
