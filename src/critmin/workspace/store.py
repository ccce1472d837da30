"""The workspace: one embedded DuckDB file holding a user's ledgers, runs, monitor state and alert history.

DuckDB gives critmin what a folder of spreadsheets cannot: atomic writes (a killed import leaves the
previous rows intact), columnar queries over Arrow without a server, and a single file a user can copy or
delete. It also allows only one process at a time to write a file (and none to read it meanwhile). Opening
therefore waits briefly for another process to let go (the dashboard holds the file only for the length of
a request), and past that wait names the process that holds it instead of showing a raw lock error.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import duckdb

from critmin import __version__
from critmin.errors import WorkspaceError
from critmin.workspace import migrations as mig
from critmin.workspace import rows as bulk
from critmin.workspace.location import ENV_VAR, init_hint, resolve_path
from critmin.workspace.rows import ReplaceResult, quote_ident

if TYPE_CHECKING:
    import polars as pl

    from critmin.workspace.rows import Frame

_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
LOCK_WAIT_ENV = "CRITMIN_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 5.0
"""Seconds an open waits for another process to release the file: long enough to outlast a dashboard
request or a small import, short enough that a command blocked by a long ``monitor run`` says so quickly."""
_MIGRATION_LOCK = threading.Lock()  # two threads opening one file must not both apply the same migration


class WorkspaceNotFoundError(WorkspaceError, FileNotFoundError):
    """No workspace at the resolved path (and the caller did not ask to create one)."""


class WorkspaceInUseError(WorkspaceError):
    """Another process holds the DuckDB file lock (after waiting :data:`DEFAULT_LOCK_WAIT` seconds for it).

    ``pid`` and ``command`` name the holder when DuckDB reports it. The condition is transient, so the web
    app answers it with 503 and ``Retry-After`` rather than blaming the request.
    """

    http_status = 503

    def __init__(self, message: str, *, pid: int | None = None, command: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.command = command


@dataclass(frozen=True)
class WorkspaceInfo:
    """What `critmin workspace info` shows."""

    path: Path
    size_bytes: int
    schema_version: int
    read_only: bool
    applied: list[mig.AppliedMigration]
    pending: list[mig.Migration]
    tables: pl.DataFrame  # columns: table, rows


class Workspace:
    """An open workspace. Use :meth:`open`; close it (or use ``with``) to release the file lock."""

    def __init__(
        self,
        path: Path,
        con: duckdb.DuckDBPyConnection,
        *,
        read_only: bool,
        available: Sequence[mig.Migration],
        created: bool,
    ) -> None:
        self.path = path
        self.read_only = read_only
        self.created = created
        """True when this open created the file (``critmin init`` reports it)."""
        self.applied_now: tuple[mig.Migration, ...] = ()
        """Migrations applied while opening, oldest first."""
        self._available = tuple(available)
        self._con: duckdb.DuckDBPyConnection | None = con
        self._transactions: set[int] = set()  # ids of connections currently inside transaction()
        self._released = False  # closed by release(): the next operation opens the file again

    # ----------------------------------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        create: bool = False,
        read_only: bool = False,
        migrate: bool = True,
        migrations: Sequence[mig.Migration] | None = None,
        wait: float | None = None,
    ) -> Workspace:
        """Open the workspace at ``path`` (resolved by :func:`resolve_path`).

        ``create`` makes a missing one (parent directories too). A writable open applies pending migrations
        unless ``migrate=False`` (``critmin workspace migrate`` wants to list them first); a read-only open
        never writes, so several processes can read one workspace at the same time. ``migrations``
        replaces the shipped set (tests use it to stage a migration that is killed halfway). ``wait`` is how
        many seconds to retry while another process holds the file (default ``$CRITMIN_LOCK_WAIT``, else
        :data:`DEFAULT_LOCK_WAIT`); then :class:`WorkspaceInUseError` names that process.
        """
        if create and read_only:
            raise ValueError("create=True needs a writable workspace; drop read_only=True.")
        target = resolve_path(path)
        available = list(migrations) if migrations is not None else mig.discover()
        existed = target.exists()
        if not existed:
            if not create:
                raise WorkspaceNotFoundError(
                    f"No critmin workspace at {target}. Create one with `{init_hint(target, path)}`, or "
                    f"point --workspace or {ENV_VAR} at an existing workspace."
                )
            target.parent.mkdir(parents=True, exist_ok=True)
        con = _connect(target, read_only=read_only, wait=lock_wait() if wait is None else wait)
        workspace = cls(target, con, read_only=read_only, available=available, created=not existed)
        try:
            workspace._check_is_workspace(create=create)
            if migrate and not read_only:
                workspace.applied_now = tuple(workspace._apply_pending())
                kind = "workspace.created" if workspace.created else "workspace.migrated"
                workspace._record_migrations(kind, workspace.applied_now)
            else:
                workspace.pending_migrations()  # still refuse edited or newer workspaces
        except BaseException:
            workspace.close()
            raise
        return workspace

    def _check_is_workspace(self, *, create: bool) -> None:
        with self._cursor() as cur:
            if mig.has_table(cur):
                return
            others = cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                "ORDER BY table_name LIMIT 5"
            ).fetchall()
        if others:
            names = ", ".join(row[0] for row in others)
            raise WorkspaceError(
                f"{self.path} is a DuckDB database but not a critmin workspace (it has tables {names} and "
                "no schema_migrations); choose a new path for the workspace."
            )
        if create:
            with self._cursor() as cur:
                mig.ensure_table(cur)  # marks the file as a workspace even before its first migration
            return
        raise WorkspaceNotFoundError(
            f"{self.path} exists but has not been initialised as a critmin workspace; "
            f"run `critmin init {self.path}`."
        )

    def _apply_pending(self) -> list[mig.Migration]:
        with _MIGRATION_LOCK, self._cursor() as cur:
            done = mig.apply(cur, mig.pending(cur, self._available, where=f"Workspace {self.path}"))
            if done:
                # Write the new schema into the database file now. DuckDB 1.x cannot replay some schema
                # changes (ALTER TABLE ... ADD COLUMN) from its write-ahead log, so a process killed before
                # its next checkpoint would leave a workspace that no longer opens.
                cur.execute("CHECKPOINT")
            return done

    def _record_migrations(self, kind: str, done: Sequence[mig.Migration]) -> None:
        if done and "events_log" in self.tables():
            self.log_event(kind, {"critmin": __version__, "migrations": [m.label for m in done]})

    # ----------------------------------------------------------------------------------------- schema
    @property
    def available_migrations(self) -> tuple[mig.Migration, ...]:
        return self._available

    def applied_migrations(self) -> list[mig.AppliedMigration]:
        with self._cursor() as cur:
            return mig.applied(cur)

    def pending_migrations(self) -> list[mig.Migration]:
        """Migrations not yet applied; raises if the workspace was edited or is newer than this code."""
        with self._cursor() as cur:
            return mig.pending(cur, self._available, where=f"Workspace {self.path}")

    @property
    def schema_version(self) -> int:
        """Highest applied migration version (0 for a file with none)."""
        applied = self.applied_migrations()
        return applied[-1].version if applied else 0

    def migrate(self) -> list[mig.Migration]:
        """Apply pending migrations now; returns those applied (empty when already current)."""
        self._require_writable("apply migrations")
        done = self._apply_pending()
        self._record_migrations("workspace.migrated", done)
        return done

    # ------------------------------------------------------------------------------------ connections
    def connect(self) -> duckdb.DuckDBPyConnection:
        """A connection for reading (auto-commit). Close it when done, or use it in a ``with`` block.

        Each call gives a separate connection to the same database, so threads (the web server) do not
        share one. DuckDB cannot make a single connection read-only; put writes in :meth:`transaction`
        so they are atomic.
        """
        return self._cursor()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block atomically: commit when it ends normally, roll back when it raises.

        A process killed inside the block leaves no trace of it: DuckDB replays only committed
        transactions from its write-ahead log. Do not call ``commit``/``rollback`` on the yielded
        connection yourself. A commit that conflicts with a concurrent write in this process raises
        :class:`WorkspaceError` and nothing is written.
        """
        self._require_writable("write")
        con = self._cursor()
        try:
            con.begin()
            self._transactions.add(id(con))
            try:
                yield con
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.rollback()
                raise
            try:
                con.commit()
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):
                    con.rollback()
                raise WorkspaceError(
                    f"Could not commit to workspace {self.path}; nothing was written: {exc}"
                ) from exc
        finally:
            self._transactions.discard(id(con))
            con.close()

    def _in_transaction(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """Refuse a connection that is not inside :meth:`transaction`: a multi-statement write on an
        auto-commit connection would commit its DELETE even if its INSERT then failed."""
        if id(con) not in self._transactions:
            raise WorkspaceError(
                "Pass the connection yielded by `ws.transaction()` (or no connection) to write; an "
                "auto-commit connection would make this write non-atomic."
            )
        return con

    def close(self) -> None:
        """Release the connection (and, once the last one in this process closes, the file lock)."""
        self._released = False
        if self._con is not None:
            self._con.close()
            self._con = None

    def release(self) -> None:
        """Let go of the file until the next operation, which opens it again (waiting up to
        ``$CRITMIN_LOCK_WAIT`` for another process).

        A long-running command calls this before it waits on something else (a Federal Register page, a
        delivery), so the dashboard and other commands can use the workspace meanwhile. Connections handed
        out earlier must be closed first.
        """
        if self._con is not None and not self._transactions:
            self._con.close()
            self._con = None
            self._released = True

    @property
    def closed(self) -> bool:
        return self._con is None and not self._released

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("read-only" if self.read_only else "open")
        return f"Workspace({str(self.path)!r}, {state})"

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        if self._con is None and self._released:
            self._con = _connect(self.path, read_only=self.read_only, wait=lock_wait())
            self._released = False
        if self._con is None:
            raise WorkspaceError(f"Workspace {self.path} is closed; open it again with Workspace.open().")
        return self._con.cursor()

    def _require_writable(self, action: str) -> None:
        if self.read_only:
            raise WorkspaceError(
                f"Workspace {self.path} was opened read-only and cannot {action}; open it without read_only."
            )

    # ------------------------------------------------------------------------------------- bulk writes
    def replace_rows(
        self,
        table: str,
        frame: Frame,
        *,
        match: Mapping[str, Any] | None = None,
        where: str | None = None,
        params: Sequence[Any] = (),
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> ReplaceResult:
        """Atomically swap one subset of ``table`` (e.g. every row of one import) for ``frame``.

        The subset is the rows equal to every ``match`` value and satisfying the SQL predicate ``where``
        (with ``?`` placeholders bound from ``params``); with neither, the whole table. ``match`` columns
        the frame lacks are filled with the match value; present ones must all equal it, so a replace can
        never write rows a later replace of the same subset would miss (``where`` is not checked against
        the new rows: prefer ``match`` for keys). Columns are matched by name;
        table columns absent from the frame take their defaults. The frame goes to DuckDB as Arrow, with
        no Python loop over rows. Pass ``con`` from :meth:`transaction` to make this one step of a larger
        atomic write; otherwise it runs in its own transaction.
        """
        if con is None:
            with self.transaction() as tx:
                return self.replace_rows(table, frame, match=match, where=where, params=params, con=tx)
        return bulk.replace_rows(
            self._in_transaction(con), table, frame, match=match, where=where, params=params
        )

    def append_rows(self, table: str, frame: Frame, *, con: duckdb.DuckDBPyConnection | None = None) -> int:
        """Append ``frame`` to ``table`` (columns by name, via Arrow); returns the number of rows added."""
        if con is None:
            with self.transaction() as tx:
                return self.append_rows(table, frame, con=tx)
        return bulk.append_rows(self._in_transaction(con), table, frame)

    # -------------------------------------------------------------------------------- core tables
    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._cursor() as cur:
            row = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any, *, con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Store a JSON-serialisable value under ``key`` (replacing any previous one)."""
        if con is None:
            with self.transaction() as tx:
                self.set_setting(key, value, con=tx)
            return
        con.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
            "SET value = excluded.value, updated_at = timezone('UTC', now())",
            [key, json.dumps(value)],
        )

    def log_event(
        self,
        kind: str,
        detail: Mapping[str, Any] | None = None,
        *,
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> int:
        """Append to the audit trail; pass the ``con`` of the write it describes so both commit together."""
        if con is None:
            with self.transaction() as tx:
                return self.log_event(kind, detail, con=tx)
        payload = None if detail is None else json.dumps(dict(detail), default=str)
        row = con.execute(
            "INSERT INTO events_log (kind, detail) VALUES (?, ?) RETURNING id", [kind, payload]
        ).fetchone()
        assert row is not None
        return int(row[0])

    def events(self, kind: str | None = None, *, limit: int = 50) -> pl.DataFrame:
        """The latest events, newest first (``detail`` as a JSON string)."""
        sql = "SELECT id, ts, kind, detail::VARCHAR AS detail FROM events_log"
        args: list[Any] = []
        if kind is not None:
            sql += " WHERE kind = ?"
            args.append(kind)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        with self._cursor() as cur:
            return cur.execute(sql, args).pl()

    # ------------------------------------------------------------------------------------- inspection
    def tables(self) -> list[str]:
        with self._cursor() as cur:
            found = cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = 'main' ORDER BY table_name"
            ).fetchall()
        return [row[0] for row in found]

    def table_counts(self) -> pl.DataFrame:
        """Row count of every table, in one query."""
        import polars as pl

        names = self.tables()
        if not names:
            return pl.DataFrame(schema={"table": pl.String, "rows": pl.Int64})
        union = " UNION ALL ".join(
            f'SELECT ? AS "table", count(*)::BIGINT AS rows FROM {quote_ident(n)}' for n in names
        )
        with self._cursor() as cur:
            return cur.execute(f'SELECT * FROM ({union}) ORDER BY "table"', names).pl()

    @property
    def wal_path(self) -> Path:
        """DuckDB's write-ahead log: committed changes not yet folded into the file; part of the store."""
        return self.path.with_name(self.path.name + ".wal")

    def describe(self) -> WorkspaceInfo:
        return WorkspaceInfo(
            path=self.path,
            size_bytes=sum(f.stat().st_size for f in (self.path, self.wal_path) if f.exists()),
            schema_version=self.schema_version,
            read_only=self.read_only,
            applied=self.applied_migrations(),
            pending=self.pending_migrations(),
            tables=self.table_counts(),
        )


# ------------------------------------------------------------------------------------------- helpers
STORAGE_VERSION = "v1.3.0"
"""DuckDB storage format of a workspace created by critmin (every DuckDB critmin supports, 1.4 on, reads
it). Its string compression (DICT_FSST) makes writing a million ledger lines take a third less CPU than
the format DuckDB writes by default (readable back to 0.10), at the same file size. A workspace keeps the
format it was created with: opening an older one leaves it as it is."""


def _duckdb_config(path: Path) -> dict[str, str | bool | int | float | list[str]]:
    """Cap DuckDB's memory so a large import spills to disk instead of holding the whole transaction in RAM.

    ``CRITMIN_DUCKDB_MEMORY`` overrides the cap (DuckDB syntax, e.g. ``2GB``); spill files go beside the
    workspace and are removed by DuckDB when the connection closes. A new workspace is written in
    :data:`STORAGE_VERSION`.
    """
    return {
        "memory_limit": os.environ.get("CRITMIN_DUCKDB_MEMORY", "512MB"),
        "temp_directory": str(path.parent / f".{path.name}.tmp"),
        "storage_compatibility_version": STORAGE_VERSION,
    }


def lock_wait() -> float:
    """Seconds an open waits for another process to let go of the file (``$CRITMIN_LOCK_WAIT``)."""
    configured = os.environ.get(LOCK_WAIT_ENV, "").strip()
    if not configured:
        return DEFAULT_LOCK_WAIT
    try:
        return max(0.0, float(configured))
    except ValueError as exc:
        raise WorkspaceError(
            f"{LOCK_WAIT_ENV}={configured!r} is not a number of seconds; set it to e.g. 5, or unset it."
        ) from exc


def _connect(path: Path, *, read_only: bool, wait: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying while another process holds its lock, for at most ``wait`` seconds.

    Another process's lock is usually short (a dashboard request, an import), so a brief wait turns most
    collisions into a short delay instead of an error.
    """
    deadline = time.monotonic() + wait
    pause = 0.02
    while True:
        try:
            return _connect_once(path, read_only=read_only)
        except WorkspaceInUseError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.25)


def _connect_once(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only, config=_duckdb_config(path))
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            holder = _LOCK_HOLDER.search(text)
            pid = int(holder[1]) if holder else None
            command = _command_of(pid) if pid is not None else None
            named = f" (PID {pid}{f': {command}' if command else ''})" if pid is not None else ""
            raise WorkspaceInUseError(
                f"Workspace {path} is in use by another critmin process{named}; close it or use another "
                f"workspace (--workspace PATH or {ENV_VAR}).",
                pid=pid,
                command=command,
            ) from exc
        if "not a valid DuckDB database" in text:
            raise WorkspaceError(
                f"{path} is not a DuckDB database, so it cannot be a critmin workspace; choose another path."
            ) from exc
        raise WorkspaceError(f"Cannot open workspace {path}: {text}") from exc
    except duckdb.ConnectionException as exc:
        mode = "read-only" if read_only else "read-write"
        raise WorkspaceError(
            f"Workspace {path} is already open in this process in another mode; close it before opening it "
            f"{mode}. ({exc})"
        ) from exc


def _command_of(pid: int, limit: int = 120) -> str | None:
    """The holder's command line, so the message says *which* program to close (Linux ``/proc``; else None).

    Shown from the ``critmin`` word on when there is one (``critmin serve --port 8000``), not the interpreter.
    """
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    if not argv:
        return None
    for index, part in enumerate(argv):
        name = Path(part).name
        if name == "critmin" or (name == "-m" and argv[index + 1 : index + 2] == ["critmin"]):
            argv = ["critmin", *argv[index + (1 if name == "critmin" else 2) :]]
            break
    text = " ".join(argv)
    return text if len(text) <= limit else text[: limit - 1] + "…"
