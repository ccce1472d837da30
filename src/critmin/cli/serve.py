"""`critmin serve`: the web dashboard and JSON API."""

from __future__ import annotations

from pathlib import Path

import typer

from critmin.cli.output import console, err_console
from critmin.web.settings import WILDCARD_BINDS, UnsafeBindError, WebSettings, check_bind


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind; non-loopback needs CRITMIN_TOKEN"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workspace: Path | None = typer.Option(
        None, "--workspace", help="workspace file (default: CRITMIN_WORKSPACE)"
    ),
    allowed_hosts: list[str] = typer.Option(
        [],
        "--allowed-host",
        metavar="NAME",
        help="another host name the dashboard may be reached by (repeatable; also CRITMIN_ALLOWED_HOSTS). "
        "localhost, the loopback addresses and the bound address always work; requests naming any other "
        "host are refused, which stops DNS-rebinding pages.",
    ),
) -> None:
    """Serve the dashboard (Overview, Ledger, Exposure, Scenarios, Risk, Monitor, Sourcing, Investment).

    Example: CRITMIN_TOKEN=$(openssl rand -hex 32) critmin serve --host 0.0.0.0 --allowed-host dash.example
    """
    settings = WebSettings.from_env(host=host, port=port, workspace=workspace, allowed_hosts=allowed_hosts)
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
    if host in WILDCARD_BINDS and not settings.allowed_hosts:
        console.print(
            "Reach it by an IP address of this machine; to reach it by a host name, add --allowed-host NAME "
            "(other names are refused, which stops DNS-rebinding pages)."
        )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", server_header=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
