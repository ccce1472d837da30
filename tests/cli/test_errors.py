"""One exception tree, one translator: what an error means decides its exit code and HTTP status.

A user's mistake exits 2 from every command (the code Click gives a bad option), a missing program or
host exits 3, a failed check exits 1; the web app answers the same errors with the class's status.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.core import TyperGroup

import critmin
from critmin.cli.app import app
from critmin.cli.command import CritminCommand, CritminGroup
from critmin.errors import (
    CapabilityMissingError,
    CritminError,
    InputError,
    NotFoundError,
    ReferenceDataError,
    UnavailableError,
    UnknownCountryError,
    UnknownDatasetError,
    WorkspaceError,
)
from critmin.monitor.errors import FeedError, FeedUnreachableError, WatchlistError
from critmin.policy.errors import PolicyError, Problem, UnknownScenarioError
from critmin.refdata.minerals import UnknownMineralError
from critmin.report.pdf import ChromiumNotFoundError, PdfError
from critmin.risk.errors import RiskDataError

from .conftest import Invoke


@pytest.mark.parametrize(
    ("error", "exit_code", "http_status"),
    [
        (CritminError("x"), 1, 500),
        (ReferenceDataError("x"), 1, 500),
        (PdfError("x"), 1, 500),
        (InputError("x"), 2, 400),
        (UnknownCountryError("Narnia"), 2, 400),
        (PolicyError([Problem("f.yaml", 1, "rate", "bad", "fix")]), 2, 400),
        (WatchlistError("x"), 2, 400),
        (NotFoundError("x"), 2, 404),
        (UnknownScenarioError([Problem("x", None, "scenario", "unknown", "fix")]), 2, 404),
        (UnknownDatasetError("x"), 2, 404),
        (UnknownMineralError("x"), 2, 404),
        (RiskDataError("x"), 2, 404),
        (WorkspaceError("x"), 2, 503),
        (ChromiumNotFoundError("x"), 3, 503),
        (FeedError("x", url="u"), 3, 502),
        (FeedUnreachableError("x", url="u"), 3, 503),
    ],
)
def test_each_error_carries_its_exit_code_and_http_status(
    error: CritminError, exit_code: int, http_status: int
) -> None:
    assert (error.exit_code, error.http_status) == (exit_code, http_status)


def _critmin_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module_info in pkgutil.walk_packages(critmin.__path__, "critmin."):
        if module_info.name.endswith("__main__"):
            continue  # running it is running the command
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("critmin."):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_every_exception_critmin_defines_hangs_on_the_tree() -> None:
    exceptions = _critmin_exceptions()
    assert len(exceptions) > 20
    outside = [e.__qualname__ for e in exceptions if not issubclass(e, CritminError)]
    assert outside == []
    assert issubclass(ChromiumNotFoundError, CapabilityMissingError)
    assert issubclass(FeedError, UnavailableError)


def _commands(command: TyperGroup, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], bool]]:
    """Every command under ``command`` and whether a CritminError raised in it is translated."""
    out: list[tuple[tuple[str, ...], bool]] = []
    for name, sub in command.commands.items():
        if isinstance(sub, TyperGroup):
            out.append(((*path, name), isinstance(sub, CritminGroup)))
            out += _commands(sub, (*path, name))
        else:
            out.append(((*path, name), isinstance(command, CritminGroup) or isinstance(sub, CritminCommand)))
    return out


def test_every_command_goes_through_the_one_translator() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, CritminGroup)
    commands = _commands(root)
    assert len(commands) > 40
    assert [" ".join(path) for path, translated in commands if not translated] == []
    # Commands on the root answer errors themselves too, whatever root they are registered on (serve
    # handles its one error, an unsafe bind, itself).
    bare = {name for name, sub in root.commands.items() if not isinstance(sub, CritminCommand | CritminGroup)}
    assert bare <= {"serve"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["policy", "show", "no_such_measure"], "neither a shipped scenario nor a YAML file"),
        (["risk", "geopolrisk", "--importer", "Narnia", "--material", "cobalt"], "Unknown country"),
        (["risk", "eu-sr", "--material", "unobtainium", "--year", "2023"], "did not assess"),
        (["data", "show", "no_such_dataset"], "Known datasets"),
        (["simulate", "no_such_tree", "--ledger", "{entries}", "--draws", "10"], "neither a shipped tree"),
        (["explain", "{entries}", "--line", "L17"], "No line 'L17'"),
        (["exposure", "no-such-file.csv"], "no-such-file.csv"),
        (["workspace", "info", "--workspace", "{tmp}/none.duckdb"], "critmin init"),
        (["optimize", "{tmp}/missing.yaml"], "does not exist"),
        (["risk", "table", "--columns", "mineral_id,colour"], "no column 'colour'"),
    ],
)
def test_bad_input_exits_2_from_every_command(
    invoke: Invoke, entries: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    filled = [a.format(entries=entries, tmp=tmp_path) for a in args]
    result = invoke(*filled)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_a_missing_program_exits_3_before_any_work(
    invoke: Invoke, entries: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMIN_CHROMIUM", str(tmp_path / "no-browser"))
    result = invoke("report", entries, "--out", tmp_path / "report", "--tree", "none")
    assert result.exit_code == 3
    said = " ".join(result.stderr.split())
    assert "apt-get install -y chromium" in said and "--no-pdf" in said
    assert not (tmp_path / "report").exists()


def test_a_message_is_printed_as_written_not_as_markup(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(dataset_id: str) -> None:
        raise InputError(f"[bold]{dataset_id}[/bold]: constraint demand[x,2026] is wrong.")

    monkeypatch.setattr(critmin.refdata, "get_record", broken)
    result = invoke("data", "show", "anything")
    assert result.exit_code == 2
    assert result.stderr.strip() == "[bold]anything[/bold]: constraint demand[x,2026] is wrong."


def test_an_unexpected_error_keeps_its_traceback(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(dataset_id: str) -> None:
        raise KeyError(dataset_id)

    monkeypatch.setattr(critmin.refdata, "get_record", bug)
    result = invoke("data", "show", "anything")
    assert result.exit_code == 1
    assert isinstance(result.exception, KeyError)  # not dressed up as the user's mistake


def test_the_web_app_answers_with_the_errors_status(tmp_path: Path) -> None:
    from critmin.web.app import create_app
    from critmin.web.settings import WebSettings

    web = create_app(WebSettings(workspace=tmp_path / "ws.duckdb"))
    errors: dict[str, CritminError] = {
        "input": InputError("bad value"),
        "unknown": NotFoundError("no such thing"),
        "chromium": ChromiumNotFoundError("no browser"),
        "internal": CritminError("broken"),
    }

    def fail(kind: str) -> None:
        raise errors[kind]

    web.add_api_route("/api/v1/test-errors/{kind}", fail)
    client = TestClient(web, base_url="http://127.0.0.1", raise_server_exceptions=False)
    got = {kind: client.get(f"/api/v1/test-errors/{kind}") for kind in errors}
    assert {kind: r.status_code for kind, r in got.items()} == {
        "input": 400,
        "unknown": 404,
        "chromium": 503,
        "internal": 500,
    }
    assert got["chromium"].json() == {"detail": "no browser"}
