"""Removing a ledger import from the workspace, with everything derived from it, in one transaction.

What goes (rules tested in ``tests/workspace/test_imports.py``):

1. The import's record, its lines, its quarantined rows and its warnings (all keyed by ``import_id``).
2. What was derived from those lines: the content stated on them (keyed by ``line_id``), the per-code
   classification and content factors no remaining line uses, and the label the dashboard gave the
   upload. ``classification`` and ``content`` count the rows the views ``ledger_classification`` and
   ``ledger_line_content`` gave for the import's lines.
3. Earlier versions of the same file that this import superseded and that no longer hold a line or a
   quarantined row. They are records only; left behind, they would make re-importing that earlier file a
   no-op ("unchanged") that restores nothing.
4. Recorded exposure runs stay (they are the audit trail of figures already quoted, and carry the ledger's
   path and checksum), but no longer point at the deleted import.

Lines that a later import replaced are not brought back by deleting that later import: import the earlier
file again. Either everything above is removed and the deletion is logged, or (on any error) nothing is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from critmin.errors import NotFoundError
from critmin.workspace.store import Workspace

IMPORT_LABEL_KEY = "web.ledger_label.{import_id}"
"""Settings key of the name an import is shown under (the dashboard stores the uploaded file's name)."""


class UnknownImportError(NotFoundError, LookupError):
    """No ledger import with that id in this workspace."""

    def __init__(self, import_id: int, known: list[int]) -> None:
        listed = ", ".join(str(i) for i in known) or "none yet"
        super().__init__(
            f"No ledger import {import_id} in this workspace (imports: {listed}); "
            "list them with `critmin ledger show`."
        )
        self.import_id = import_id


@dataclass(frozen=True)
class DeletedImport:
    """What :func:`delete_import` removed, table by table (row counts)."""

    import_id: int
    source_file: str
    lines: int
    quarantined: int
    warnings: int
    classification: int
    content: int
    superseded_imports: list[int]
    runs_unlinked: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_label_key(import_id: int) -> str:
    """The settings key of the name the dashboard shows import ``import_id`` under."""
    return IMPORT_LABEL_KEY.format(import_id=import_id)


def delete_import(ws: Workspace, import_id: int) -> DeletedImport:
    """Delete one import and its derived rows atomically; raises :class:`UnknownImportError` if absent."""
    with ws.transaction() as con:
        found = con.execute(
            "SELECT source_file FROM ledger_imports WHERE import_id = ?", [import_id]
        ).fetchone()
        if found is None:
            known = [
                int(r[0]) for r in con.execute("SELECT import_id FROM ledger_imports ORDER BY 1").fetchall()
            ]
            raise UnknownImportError(import_id, known)
        source_file = str(found[0])
        classification, content = _delete_derived(con, import_id)
        lines = _delete(con, "ledger_lines", "import_id = ?", [import_id])
        _delete_unused_codes(con)
        quarantined = _delete(con, "ledger_quarantine", "import_id = ?", [import_id])
        warnings = _delete(con, "ledger_warnings", "import_id = ?", [import_id])
        _delete(con, "ledger_imports", "import_id = ?", [import_id])
        superseded = _delete_empty_versions(con, source_file, import_id)
        doomed = [import_id, *superseded]
        marks = ", ".join("?" for _ in doomed)
        runs = _count(
            con, f"UPDATE runs SET ledger_import_id = NULL WHERE ledger_import_id IN ({marks})", doomed
        )
        con.execute(f"DELETE FROM settings WHERE key IN ({marks})", [import_label_key(i) for i in doomed])
        deleted = DeletedImport(
            import_id=import_id,
            source_file=source_file,
            lines=lines,
            quarantined=quarantined,
            warnings=warnings,
            classification=classification,
            content=content,
            superseded_imports=superseded,
            runs_unlinked=runs,
        )
        ws.log_event("ledger.deleted", deleted.as_dict(), con=con)
    return deleted


def _delete_derived(con: duckdb.DuckDBPyConnection, import_id: int) -> tuple[int, int]:
    """Classification and content rows of the import's lines (read through the views, keyed by line id),
    deleting the stated content; the per-code rows go in :func:`_delete_unused_codes`."""
    owned = "line_id IN (SELECT line_id FROM ledger_lines WHERE import_id = ?)"
    counts = [
        _count(con, f"SELECT count(*) FROM {view} WHERE {owned}", [import_id])
        for view in ("ledger_classification", "ledger_line_content")
    ]
    _delete(con, "ledger_stated_content", owned, [import_id])
    return counts[0], counts[1]


def _delete_unused_codes(con: duckdb.DuckDBPyConnection) -> None:
    """Per-code classification and content of (version, code) pairs no remaining line reads."""
    for table in ("ledger_code_classification", "ledger_code_content"):
        con.execute(
            f"DELETE FROM {table} c WHERE NOT EXISTS (SELECT 1 FROM ledger_lines l JOIN ledger_imports i "
            "ON i.import_id = l.import_id WHERE i.scope_version = c.scope_version AND l.hts = c.hts)"
        )


def _delete_empty_versions(con: duckdb.DuckDBPyConnection, source_file: str, import_id: int) -> list[int]:
    """Earlier imports of the same file name left with no line and no quarantined row (rule 3)."""
    rows = con.execute(
        "DELETE FROM ledger_imports i WHERE source_file = ? AND import_id < ? "
        "AND NOT EXISTS (SELECT 1 FROM ledger_lines l WHERE l.import_id = i.import_id) "
        "AND NOT EXISTS (SELECT 1 FROM ledger_quarantine q WHERE q.import_id = i.import_id) "
        "RETURNING import_id",
        [source_file, import_id],
    ).fetchall()
    return sorted(int(r[0]) for r in rows)


def _delete(con: duckdb.DuckDBPyConnection, table: str, where: str, params: list[Any]) -> int:
    return _count(con, f"DELETE FROM {table} WHERE {where}", params)


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int:
    """Rows a DELETE or UPDATE touched (DuckDB answers such a statement with one row holding the count)."""
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
