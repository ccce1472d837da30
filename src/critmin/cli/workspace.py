"""`critmin init` and `critmin workspace ...`, plus the `--workspace` option other commands reuse.

Other command modules take the workspace like this::

    from critmin.cli.workspace import WorkspaceOption, open_workspace

    @app.command()
    def show(workspace: WorkspaceOption = None) -> None:
        with open_workspace(workspace, read_only=True) as ws:
            ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from critmin.cli.command import CritminCommand, command_group
from critmin.cli.output import TableOrJson, console, print_frame, print_json
from critmin.workspace import ENV_VAR, Workspace, WorkspaceInfo

_HELP = f"Workspace file (default: ${ENV_VAR}, else ./critmin.duckdb; a directory means the file inside it)."

WorkspaceOption = Annotated[
    Path | None, typer.Option("--workspace", help=_HELP, metavar="PATH", show_default=False)
]
"""Annotated type for a ``--workspace`` parameter: ``workspace: WorkspaceOption = None``."""


def workspace_option() -> Any:
    """The same option for the ``param: Path | None = workspace_option()`` style."""
    return typer.Option(None, "--workspace", help=_HELP, metavar="PATH", show_default=False)


def open_workspace(
    path: Path | None, *, create: bool = False, read_only: bool = False, migrate: bool = True
) -> Workspace:
    """Open a workspace for a command; a WorkspaceError is a message and exit code 2 (critmin.errors)."""
    return Workspace.open(path, create=create, read_only=read_only, migrate=migrate)


app = command_group("The workspace database: where it is, its schema and what it holds.")


def init(
    path: Annotated[
        Path | None,
        typer.Argument(
            help=f"Where to create it (default: ${ENV_VAR}, else ./critmin.duckdb).",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Create a workspace, or bring an existing one up to date (safe to re-run).

    The place can be given as PATH or, as for every other command, with --workspace.
    Example: critmin init --workspace ~/trade/critmin.duckdb
    """
    if path is not None and workspace is not None and path != workspace:
        raise typer.BadParameter(f"give the workspace once: PATH {path} or --workspace {workspace}.")
    with open_workspace(path or workspace, create=True) as ws:
        labels = ", ".join(m.label for m in ws.applied_now)
        version = ws.schema_version
        if ws.created:
            console.print(
                f"Created workspace [bold]{ws.path}[/bold] (schema version {version}; applied {labels})."
            )
        elif ws.applied_now:
            console.print(
                f"Workspace [bold]{ws.path}[/bold] already exists; applied {len(ws.applied_now)} pending "
                f"migration(s): {labels}. Schema version is now {version}."
            )
        else:
            console.print(
                f"Workspace [bold]{ws.path}[/bold] already exists and is up to date "
                f"(schema version {version})."
            )


@app.command("info")
def info(
    workspace: WorkspaceOption = None,
    fmt: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f", help="table or json"),
) -> None:
    """Path, size, schema version, applied and pending migrations, and rows per table."""
    with open_workspace(workspace, read_only=True) as ws:
        details = ws.describe()
    if fmt is TableOrJson.json:
        print_json(info_payload(details))
        return
    console.print(f"[bold]workspace[/bold]      {details.path}")
    console.print(f"[bold]size[/bold]           {details.size_bytes:,} bytes")
    console.print(f"[bold]schema version[/bold] {details.schema_version}")
    print_frame(_applied_frame(details), fmt, title="Applied migrations")
    if details.pending:
        names = ", ".join(m.label for m in details.pending)
        console.print(f"[yellow]Pending migrations: {names}[/yellow] — run `critmin workspace migrate`.")
    print_frame(details.tables, fmt, title="Tables")


@app.command("migrate")
def migrate(
    workspace: WorkspaceOption = None,
    dry_run: bool = typer.Option(False, "--dry-run", help="List pending migrations without applying them."),
) -> None:
    """Apply the schema migrations this critmin ships that the workspace does not have yet."""
    with open_workspace(workspace, migrate=False) as ws:
        pending = ws.pending_migrations()
        if not pending:
            console.print(f"Workspace {ws.path} is up to date (schema version {ws.schema_version}).")
            return
        if dry_run:
            for migration in pending:
                console.print(f"pending  {migration.label}  ({migration.origin})")
            return
        done = ws.migrate()
        for migration in done:
            console.print(f"applied  {migration.label}")
        console.print(f"Schema version is now {ws.schema_version}.")


def info_payload(details: WorkspaceInfo) -> dict[str, Any]:
    return {
        "path": str(details.path),
        "size_bytes": details.size_bytes,
        "schema_version": details.schema_version,
        "applied": _applied_frame(details, full_hash=True).to_dicts(),
        "pending": [m.label for m in details.pending],
        "tables": details.tables.to_dicts(),
    }


def _applied_frame(details: WorkspaceInfo, *, full_hash: bool = False) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "version": [a.version for a in details.applied],
            "name": [a.name for a in details.applied],
            "applied_at_utc": [a.applied_at.isoformat(sep=" ", timespec="seconds") for a in details.applied],
            "applied_by": [a.applied_by for a in details.applied],
            "sha256": [a.sha256 if full_hash else a.sha256[:12] for a in details.applied],
        },
        schema={
            "version": pl.Int64,
            "name": pl.String,
            "applied_at_utc": pl.String,
            "applied_by": pl.String,
            "sha256": pl.String,
        },
    )


def register(root: typer.Typer) -> None:
    root.command("init", cls=CritminCommand)(init)
    root.add_typer(app, name="workspace")
