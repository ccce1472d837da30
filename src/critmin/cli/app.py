"""The `critmin` command: one Typer app; each capability's module adds its commands via ``register``.

Importing this module is cheap and changes nothing in the process: the app is built on first use
(``critmin.cli.app.app``), so :func:`main` can tune the allocators for a batch command before Polars loads
(see :mod:`critmin.runtime`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from critmin import __version__
from critmin.runtime import tune_for_batch

if TYPE_CHECKING:
    import typer

# Each module exposes `register(app)`; the order is the order of `critmin --help`.
COMMAND_MODULES = (
    "workspace",
    "data",
    "ledger",
    "policy",
    "duty",
    "reconcile",
    "risk",
    "simulate",
    "optimize",
    "invest",
    "monitor",
    "report",
    "serve",
    "demo",
)

BATCH_COMMANDS = frozenset(
    {"demo", "exposure", "explain", "ledger", "monitor", "reconcile", "report", "risk", "sample", "simulate"}
)
"""Commands that may evaluate a big ledger and exit: the ones :func:`main` tunes the allocators for."""


@cache
def build_app() -> typer.Typer:
    """The root command with every command module registered."""
    import typer

    from critmin.cli.command import CritminGroup

    root = typer.Typer(
        cls=CritminGroup,
        name="critmin",
        help="What U.S. trade policy on processed critical minerals does to your business, in dollars.",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
    )
    for name in COMMAND_MODULES:
        importlib.import_module(f"critmin.cli.{name}").register(root)

    def show_version(value: bool) -> None:
        if value:
            typer.echo(f"critmin {__version__}")
            raise typer.Exit()

    @root.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=show_version, is_eager=True, help="Show the version and exit."
        ),
    ) -> None:
        """critmin: import ledger -> exposure in dollars -> decisions, with sources."""

    return root


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def command_name(args: Sequence[str]) -> str | None:
    """The command word of a ``critmin`` command line (the first argument that is not an option)."""
    return next((arg for arg in args if not arg.startswith("-")), None)


def main() -> None:
    """Console-script entry: tune the allocators for a batch command (before Polars loads), then run it."""
    if command_name(sys.argv[1:]) in BATCH_COMMANDS:
        tune_for_batch()
    build_app()()
