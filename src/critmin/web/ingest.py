"""An uploaded ledger, from the request to the workspace: save privately, import, delete the copy.

The import itself is the ledger ingester's (every row loaded or quarantined, with reasons); it runs in a
worker thread so the server keeps answering while a large file is read. The saved copy is removed once the
lines are in the workspace, so no uploaded file lingers on disk.
"""

from __future__ import annotations

import logging
import zipfile

import polars as pl
from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from critmin.errors import CritminError
from critmin.web.state import Dashboard, ImportOutcome, public_message
from critmin.web.uploads import UploadTooLargeError, save_upload

log = logging.getLogger(__name__)


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
