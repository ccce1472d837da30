"""The `critmin` command: one Typer app; each capability's module adds its commands via ``register``."""

from __future__ import annotations

import importlib

import typer

from critmin import __version__
from critmin.runtime import reuse_freed_memory

app = typer.Typer(
    name="critmin",
    help="What U.S. trade policy on processed critical minerals does to your business, in dollars.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# Each module exposes `register(app)`; the order is the order of `critmin --help`.
COMMAND_MODULES = (
    "workspace",
    "data",
    "ledger",
    "policy",
    "duty",
    "risk",
    "simulate",
    "optimize",
    "invest",
    "monitor",
    "report",
    "serve",
    "demo",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"critmin.cli.{_name}").register(app)


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
    reuse_freed_memory()  # the command owns its process: let big runs reuse memory (critmin.runtime)
    app()
