"""Uploaded files, from the request to the library: save privately, read, delete the copy.

A ledger is imported by the ledger ingester (every row loaded or quarantined, with reasons); an input file
(scenario tree, sourcing problem, project) is read by the library's own loader. Either runs in a worker
thread so the server keeps answering while a large file is read, and the saved copy is removed once it is
read, so no uploaded file lingers on disk.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import polars as pl
from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from critmin.errors import CritminError
from critmin.web.inputs import FieldProblem, InputTooLargeError, InvalidInputError
from critmin.web.state import Dashboard, ImportOutcome, public_message
from critmin.web.uploads import UploadTooLargeError, refuse_yaml_aliases, save_upload

log = logging.getLogger(__name__)
T = TypeVar("T")

# Input files are a few kilobytes; a megabyte is room for a large sourcing problem.
YAML_MAX_BYTES = 1024 * 1024


async def import_upload(dash: Dashboard, upload: UploadFile) -> ImportOutcome:
    """Import an uploaded file; a problem with the file is an HTTP 400 (413 when too large) with the fix."""
    try:
        saved = await save_upload(upload, dash.uploads_dir, dash.settings.max_upload_bytes)
    except UploadTooLargeError as exc:
        raise HTTPException(413, str(exc)) from exc
    except CritminError as exc:
        raise HTTPException(400, str(exc)) from exc
    try:
        return await run_in_threadpool(dash.import_file, saved.path, saved.label)
    except CritminError as exc:
        raise HTTPException(400, public_message(exc, saved.path, saved.label)) from exc
    except (ValueError, OSError, LookupError, pl.exceptions.PolarsError, zipfile.BadZipFile) as exc:
        # A file the readers could not make sense of (binary noise, a broken workbook): the user's problem,
        # reported as such, with the parser's words.
        log.warning("upload %s could not be read: %r", saved.label, exc)
        detail = public_message(exc, saved.path, saved.label)
        raise HTTPException(
            400,
            f"{saved.label} could not be read as a ledger ({type(exc).__name__}: {detail}). Save it as CSV "
            "(UTF-8) or .xlsx with one header row, and upload it again.",
        ) from exc
    finally:
        saved.path.unlink(missing_ok=True)


async def read_yaml_upload(dash: Dashboard, upload: UploadFile, read: Callable[[Path, str], T]) -> T:
    """An uploaded YAML input read by ``read(path, label)`` (a :mod:`critmin.web.inputs` reader).

    Every problem, from the size to a field the loader refuses, is an :class:`InvalidInputError` whose
    problems name the file by the user's label.
    """
    limit = min(dash.settings.max_upload_bytes, YAML_MAX_BYTES)
    try:
        saved = await save_upload(
            upload, dash.uploads_dir, limit, suffix=".yaml", expected="a YAML file (see docs/web.md)"
        )
    except UploadTooLargeError as exc:
        raise InputTooLargeError([_file_problem(upload, str(exc), "upload a smaller file.")]) from exc
    except CritminError as exc:
        raise InvalidInputError([_file_problem(upload, str(exc), "choose another file.")]) from exc
    try:
        try:
            refuse_yaml_aliases(saved.path, saved.label)
        except CritminError as exc:
            raise InvalidInputError([_file_problem(upload, str(exc), "write the values out.")]) from exc
        return await run_in_threadpool(read, saved.path, saved.label)
    finally:
        saved.path.unlink(missing_ok=True)


def _file_problem(upload: UploadFile, message: str, fix: str) -> FieldProblem:
    from critmin.web.uploads import label_for

    return FieldProblem(label_for(upload.filename), None, "", message, fix)
