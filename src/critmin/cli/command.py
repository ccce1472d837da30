"""The one place where an error becomes what the user sees: a red message on stderr and an exit code.

Every command group of the ``critmin`` command is a :class:`CritminGroup` (made by :func:`command_group`),
and Click runs every command inside its group's ``invoke``, so a :class:`~critmin.errors.CritminError`
raised anywhere in a command is caught here. Commands registered directly on the root are also
:class:`CritminCommand`, so they answer the same way on any root (a test's, a plugin's). The exit code is
the error's own ``exit_code`` (see :mod:`critmin.errors`); commands do not choose it.

Errors that are not ``CritminError`` are bugs: they keep their traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from critmin.cli.output import err_console
from critmin.errors import CritminError, InputError


def report_error(exc: CritminError) -> int:
    """Print the message of ``exc`` (as text: a message may hold brackets) and return its exit code."""
    err_console.print(Text(str(exc), style="red"), highlight=False)
    return exc.exit_code


class CritminGroup(TyperGroup):
    """A Typer group whose commands answer a CritminError with its message and exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CritminError as exc:
            raise typer.Exit(report_error(exc)) from exc


class CritminCommand(TyperCommand):
    """A command on the root (``critmin init``, ``critmin report``): CritminError answered the same way."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CritminError as exc:
            raise typer.Exit(report_error(exc)) from exc


def command_group(help: str, *, cls: type[CritminGroup] = CritminGroup, **options: Any) -> typer.Typer:
    """A ``critmin`` command group; every group is made here, so every command handles errors the same."""
    return typer.Typer(cls=cls, help=help, no_args_is_help=True, **options)


@contextmanager
def plain_errors_are_input(*kinds: type[Exception]) -> Iterator[None]:
    """Treat ``kinds`` (e.g. ValueError) raised inside as the user's mistake.

    For library calls that still report a bad project or problem file as a plain ``ValueError`` after
    loading it; the message is kept as it is.
    """
    try:
        yield
    except kinds as exc:
        if isinstance(exc, CritminError):
            raise
        raise InputError(str(exc)) from exc
