"""critmin's default store: an embedded DuckDB file with versioned migrations and atomic writes.

Typical use::

    from critmin.workspace import Workspace

    with Workspace.open() as ws:  # --workspace, $CRITMIN_WORKSPACE, else ./critmin.duckdb
        with ws.transaction() as con:
            ws.replace_rows("ledger_lines", frame, match={"import_id": import_id}, con=con)
            ws.log_event("ledger.imported", {"import_id": import_id, "rows": frame.height}, con=con)
"""

from critmin.errors import WorkspaceError
from critmin.workspace.imports import DeletedImport, UnknownImportError, delete_import, import_label_key
from critmin.workspace.location import DEFAULT_FILENAME, ENV_VAR, default_path, resolve_path
from critmin.workspace.migrations import AppliedMigration, Migration, MigrationError, discover
from critmin.workspace.rows import ReplaceResult, quote_ident
from critmin.workspace.store import (
    Workspace,
    WorkspaceInfo,
    WorkspaceInUseError,
    WorkspaceNotFoundError,
)

__all__ = [
    "DEFAULT_FILENAME",
    "ENV_VAR",
    "AppliedMigration",
    "DeletedImport",
    "Migration",
    "MigrationError",
    "ReplaceResult",
    "UnknownImportError",
    "Workspace",
    "WorkspaceError",
    "WorkspaceInUseError",
    "WorkspaceInfo",
    "WorkspaceNotFoundError",
    "default_path",
    "delete_import",
    "discover",
    "import_label_key",
    "quote_ident",
    "resolve_path",
]
