"""`critmin serve`: the web dashboard and JSON API."""

from __future__ import annotations

from pathlib import Path

import typer

from critmin.cli.output import console, err_console
from critmin.web.settings import UnsafeBindError, WebSettings, check_bind


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind; non-loopback needs CRITMIN_TOKEN"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workspace: Path | None = typer.Option(
        None, "--workspace", help="workspace file (default: CRITMIN_WORKSPACE)"
    ),
) -> None:
    """Serve the dashboard (Overview, Ledger, Exposure, Scenarios, Risk, Monitor, Sourcing, Investment)."""
    settings = WebSettings.from_env(host=host, port=port, workspace=workspace)
    try:
        check_bind(settings)
    except UnsafeBindError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    import uvicorn

    from critmin.web.app import create_app

    console.print(
        f"critmin dashboard on http://{host}:{port}/" + (" (token required)" if settings.token else "")
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", server_header=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
