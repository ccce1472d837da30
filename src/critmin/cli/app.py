"""The `critmin` command: one Typer app, one sub-app per capability."""

from __future__ import annotations

import typer

from critmin import __version__
from critmin.cli import data

app = typer.Typer(
    name="critmin",
    help="What U.S. trade policy on processed critical minerals does to your business, in dollars.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(data.app, name="data")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"critmin {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """critmin: import ledger -> exposure in dollars -> decisions, with sources."""


def main() -> None:
    app()
