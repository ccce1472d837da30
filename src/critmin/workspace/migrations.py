"""The schema migration runner.

Each capability owns numbered SQL files in ``critmin/workspace/migrations/NNNN_<name>.sql``. They are found
in the installed package (so a wheel carries them), applied in version order, each in its own transaction,
and recorded in ``schema_migrations`` with the SHA-256 of their text. Three rules keep a workspace honest:

* an applied migration is never edited: a changed checksum is refused, because the workspace would no
  longer match what a fresh install builds;
* a workspace that records a version this code does not ship is refused, because it was written by a newer
  critmin whose tables this one could damage;
* a pending migration numbered below the newest applied one is still applied. Capabilities own disjoint
  tables and numbers are handed out per capability, so one shipped later than a higher-numbered sibling is
  independent of it; refusing would strand the workspace with no way forward.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import duckdb

from critmin import __version__
from critmin.errors import WorkspaceError

MIGRATIONS_TABLE = "schema_migrations"
FILE_PATTERN = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9][a-z0-9_]*)\.sql$")

_CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL,  -- UTC
    applied_by VARCHAR NOT NULL     -- critmin version that applied it
)
"""


class MigrationError(WorkspaceError):
    """A migration file is malformed, was edited after being applied, or failed to apply."""


@dataclass(frozen=True)
class Migration:
    """One SQL file shipped with critmin."""

    version: int
    name: str
    sql: str = field(repr=False)
    sha256: str
    origin: str  # where the file was read from, for error messages

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class AppliedMigration:
    """One row of ``schema_migrations``."""

    version: int
    name: str
    sha256: str
    applied_at: datetime
    applied_by: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def checksum(sql: str) -> str:
    """SHA-256 of the SQL with line endings normalised, so a CRLF checkout does not look like an edit."""
    return hashlib.sha256(sql.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def package_migrations_dir() -> Traversable:
    return resources.files("critmin.workspace") / "migrations"


def discover(source: Traversable | Path | None = None) -> list[Migration]:
    """All migrations in ``source`` (default: the ones shipped in the package), in version order.

    Files are checked here, before anything touches a database: a misnamed ``.sql`` file, a duplicate
    version, a parse error or a transaction statement inside a file all fail with the file named.
    """
    directory = source if source is not None else package_migrations_dir()
    if not directory.is_dir():
        raise MigrationError(f"Migration directory {directory} does not exist.")
    found: dict[int, Migration] = {}
    for entry in sorted(directory.iterdir(), key=lambda item: item.name):
        if not entry.is_file() or not entry.name.endswith(".sql"):
            continue
        match = FILE_PATTERN.match(entry.name)
        origin = str(entry)
        if match is None:
            raise MigrationError(
                f"Migration file {origin} is misnamed: expected NNNN_<name>.sql "
                "(four digits, then lowercase letters, digits and underscores), e.g. 0002_ledger.sql."
            )
        version = int(match["version"])
        if version == 0:
            raise MigrationError(f"Migration file {origin}: version 0000 is reserved; start at 0001.")
        if version in found:
            raise MigrationError(
                f"Migrations {found[version].origin} and {origin} share version {version:04d}; "
                "renumber one of them."
            )
        sql = entry.read_text(encoding="utf-8")
        _check_sql(sql, origin)
        found[version] = Migration(version, match["name"], sql, checksum(sql), origin)
    return [found[v] for v in sorted(found)]


def _check_sql(sql: str, origin: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise MigrationError(f"Migration file {origin} does not parse: {exc}") from exc
    if not statements:
        raise MigrationError(f"Migration file {origin} contains no SQL statement.")
    if any(s.type == duckdb.StatementType.TRANSACTION for s in statements):
        raise MigrationError(
            f"Migration file {origin} contains BEGIN/COMMIT/ROLLBACK; remove them — the runner wraps "
            "each migration in its own transaction."
        )


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_CREATE_TABLE)


def has_table(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ?",
        [MIGRATIONS_TABLE],
    ).fetchone()
    return bool(row and row[0])


def applied(con: duckdb.DuckDBPyConnection) -> list[AppliedMigration]:
    """The applied migrations recorded in the workspace, oldest version first ([] before the first)."""
    if not has_table(con):
        return []
    rows = con.execute(
        f"SELECT version, name, sha256, applied_at, applied_by FROM {MIGRATIONS_TABLE} ORDER BY version"
    ).fetchall()
    return [AppliedMigration(*row) for row in rows]


def pending(
    con: duckdb.DuckDBPyConnection, available: Sequence[Migration], *, where: str = "the workspace"
) -> list[Migration]:
    """The migrations still to apply, after refusing a workspace that is edited or newer than the code."""
    shipped = {m.version: m for m in available}
    done = applied(con)
    unknown = [a for a in done if a.version not in shipped]
    if unknown:
        names = ", ".join(f"{a.label} (applied by critmin {a.applied_by})" for a in unknown)
        raise MigrationError(
            f"{where} was written by a newer critmin: it has migration(s) {names} that critmin "
            f"{__version__} does not know. Upgrade critmin, or use another workspace."
        )
    for record in done:
        migration = shipped[record.version]
        if migration.sha256 != record.sha256:
            raise MigrationError(
                f"Migration {record.label} changed after it was applied to {where}: file {migration.origin} "
                f"has sha256 {migration.sha256[:12]}…, the workspace recorded {record.sha256[:12]}…. "
                "Applied migrations are append-only: restore the original file and put the change in a new "
                "NNNN_<name>.sql migration."
            )
    applied_versions = {a.version for a in done}
    return [m for m in available if m.version not in applied_versions]


def apply(con: duckdb.DuckDBPyConnection, migrations: Iterable[Migration]) -> list[Migration]:
    """Apply each migration in its own transaction; a failure rolls that one back and stops.

    Earlier migrations of the same call stay applied: each is a consistent schema step on its own, and
    keeping them means a retry resumes where it stopped.
    """
    ensure_table(con)
    done: list[Migration] = []
    for migration in migrations:
        con.begin()
        try:
            for statement in duckdb.extract_statements(migration.sql):
                con.execute(statement)
            con.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (version, name, sha256, applied_at, applied_by) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    migration.version,
                    migration.name,
                    migration.sha256,
                    datetime.now(UTC).replace(tzinfo=None),
                    __version__,
                ],
            )
            con.commit()
        except BaseException as exc:
            con.rollback()
            if not isinstance(exc, duckdb.Error):
                raise
            kept = f" ({', '.join(m.label for m in done)} applied and kept)" if done else ""
            raise MigrationError(
                f"Migration {migration.label} ({migration.origin}) failed and was rolled back{kept}: {exc}"
            ) from exc
        done.append(migration)
    return done
