"""Uploaded ledgers: written under a name the server chooses, in a directory only this process can read.

The client's file name is never used as a path. It is kept only as a label for the page (its last component,
without control characters, cut to a readable length). The format is decided from the file's first bytes
(Excel and Parquet are recognisable), not from what the client says it is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml
from starlette.datastructures import UploadFile

from critmin.errors import InputError

CHUNK_BYTES = 1024 * 1024
LABEL_MAX = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# First bytes of the binary formats the ledger reader accepts (or names, for .xls).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", ".xlsx"),
    (b"PAR1", ".parquet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
)
_TEXT_SUFFIXES = {".tsv": ".tsv", ".tab": ".tsv", ".txt": ".txt", ".psv": ".txt"}


class UploadTooLargeError(InputError):
    """The file is over the server's upload limit."""


@dataclass(frozen=True)
class SavedUpload:
    path: Path
    label: str
    size: int
    sha256: str


def label_for(client_name: str | None) -> str:
    """What the page calls the file: the last path component the client sent, made harmless."""
    text = (client_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = _CONTROL.sub("", text).strip()
    if len(text) > LABEL_MAX:
        text = text[: LABEL_MAX - 1] + "…"
    return text or "uploaded ledger"


def choose_suffix(head: bytes, client_name: str | None) -> str:
    """The suffix the ledger reader will dispatch on, from the content; text keeps a TSV hint only."""
    for magic, suffix in _MAGIC:
        if head.startswith(magic):
            return suffix
    hinted = Path(label_for(client_name)).suffix.lower()
    return _TEXT_SUFFIXES.get(hinted, ".csv")


async def save_upload(
    upload: UploadFile,
    directory: Path,
    max_bytes: int,
    *,
    suffix: str | None = None,
    expected: str = "a ledger file with a header row and lines",
) -> SavedUpload:
    """Copy an upload to ``directory`` in chunks, counting bytes; past ``max_bytes`` the copy is removed.

    The saved file's suffix is ``suffix`` when given (YAML inputs), else chosen from the content.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    label = label_for(upload.filename)
    head = await upload.read(CHUNK_BYTES)
    if not head:
        raise InputError(f"{label}: the file is empty; choose {expected}.")
    path = directory / f"upload-{secrets.token_hex(12)}{suffix or choose_suffix(head, upload.filename)}"
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLargeError(
                        f"{label}: the file is larger than the upload limit of {max_bytes:,} bytes. "
                        + ("Split it, or import it with `critmin ledger import`." if suffix is None else "")
                    )
                digest.update(chunk)
                out.write(chunk)
                chunk = await upload.read(CHUNK_BYTES)
        path.chmod(0o600)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return SavedUpload(path=path, label=label, size=size, sha256=digest.hexdigest())


def refuse_yaml_aliases(path: Path, label: str) -> None:
    """Refuse YAML anchors and aliases in an uploaded input file, before it is loaded.

    An alias repeats a node without repeating its text, so a few hundred bytes of nested aliases expand to
    billions of values once validated. Input files never need them. Only the event stream is read, which
    expands nothing; a syntax error is left for the loader, which reports it with its line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{label}: the file is not UTF-8 text; save it as UTF-8 YAML.") from exc
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1 if event.start_mark is not None else "?"
                raise InputError(
                    f"{label}: line {line} uses a YAML anchor or alias (&name or *name), which uploads "
                    "do not accept; write the repeated values out."
                )
    except yaml.YAMLError:
        return
