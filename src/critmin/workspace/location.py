"""Where the workspace file is: an explicit path, else ``$CRITMIN_WORKSPACE``, else ``./critmin.duckdb``."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "CRITMIN_WORKSPACE"
DEFAULT_FILENAME = "critmin.duckdb"


def default_path() -> Path:
    """The workspace used when no path is given: ``$CRITMIN_WORKSPACE``, else ``./critmin.duckdb``.

    The fallback is the current directory, not a per-user data directory, because a workspace holds one
    company's or one engagement's ledgers. Kept beside the files it was built from (the way a project keeps
    its ``.git`` or ``.venv``) it is visible, is backed up, shared or deleted together with them, and
    ledgers of unrelated projects never mix in one hidden global file. The environment variable serves
    people who want a single fixed store anyway.
    """
    configured = os.environ.get(ENV_VAR, "").strip()
    return resolve_path(Path(configured) if configured else Path.cwd() / DEFAULT_FILENAME)


def resolve_path(path: Path | str | None = None) -> Path:
    """An explicit path wins over :func:`default_path`; an existing directory means the file inside it.

    The result is absolute so that messages ("no workspace at ...") say exactly which file was meant.
    """
    if path is None:
        return default_path()
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / DEFAULT_FILENAME
    return target.absolute()


def init_hint(target: Path, given: Path | str | None) -> str:
    """The `critmin init` command that creates ``target`` (bare when it is the default location)."""
    return "critmin init" if given is None and ENV_VAR not in os.environ else f"critmin init {target}"
