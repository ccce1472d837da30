"""The README's tour of the commands, run line by line as a user would type it, so the two cannot drift.

Every ``critmin ...`` line of the README's ``sh`` blocks runs in one empty directory, in order (the first
lines write the sample files the later ones read), through the same Typer app as the console script.
``critmin serve`` blocks, so only its ``--help`` runs. ``critmin monitor run`` reads a local stand-in for the
Federal Register (an empty one), so the tour needs no network.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.errors import CritminError
from critmin.report import find_chromium

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.slow


def tour_lines(text: str | None = None) -> list[str]:
    """Every ``critmin`` command of the README's shell blocks, in order, without its trailing comment."""
    text = README.read_text(encoding="utf-8") if text is None else text
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)
    lines = [line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("critmin ")]


def test_the_parser_reads_commands_and_drops_comments() -> None:
    text = "intro\n```sh\nmake demo   # not critmin\ncritmin data list   # the list\n# a note\n```\n"
    assert tour_lines(text) == ["critmin data list"]


def test_the_tour_covers_every_command_group() -> None:
    groups = {shlex.split(line)[1] for line in tour_lines()}
    assert groups >= {
        "sample", "init", "data", "ledger", "policy", "exposure", "explain", "simulate", "timeline",
        "risk", "optimize", "invest", "monitor", "report", "serve", "demo", "reconcile",
    }  # fmt: skip


class _EmptyFederalRegister(BaseHTTPRequestHandler):
    """Answers every search with no documents, as the real API does for a quiet period."""

    def do_GET(self) -> None:
        body = json.dumps({"count": 0, "description": "no documents", "total_pages": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def federal_register() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmptyFederalRegister)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}/api/v1"
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Ran:
    exit_code: int
    output: str  # stdout and stderr as the user saw them
    stdout: str


def _has_chromium() -> bool:
    try:
        find_chromium()
    except CritminError:
        return False
    return True


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory, federal_register: str) -> tuple[Path, dict[str, Ran]]:
    """Run the whole tour once; each line's exit code and output, keyed by the line."""
    where = tmp_path_factory.mktemp("tour")
    runner = CliRunner()
    results: dict[str, Ran] = {}
    environment = {"CRITMIN_FEDREG_URL": federal_register, "COLUMNS": "100"}
    before = Path.cwd()
    os.chdir(where)
    try:
        with mock.patch.dict(os.environ, environment):
            os.environ.pop("CRITMIN_WORKSPACE", None)
            for line in tour_lines():
                args = shlex.split(line)[1:]
                if args[:1] == ["serve"]:
                    args = [*args, "--help"]  # the server blocks; its options must still parse
                result = runner.invoke(app, args)
                results[line] = Ran(result.exit_code, result.output, result.stdout)
    finally:
        os.chdir(before)
    return where, results


@pytest.mark.parametrize("line", tour_lines())
def test_tour_line_runs_as_written(tour: tuple[Path, dict[str, Ran]], line: str) -> None:
    ran = tour[1][line]
    needs_pdf = line.startswith(("critmin report", "critmin demo")) and "--no-pdf" not in line
    if needs_pdf and not _has_chromium():
        assert ran.exit_code == 3, ran.output  # a missing program, said before any work
        assert "--no-pdf" in " ".join(ran.output.split())
        return
    assert ran.exit_code == 0, f"{line}\n{ran.output}"
    assert "Traceback" not in ran.output


def test_the_tour_leaves_what_it_promises(tour: tuple[Path, dict[str, Ran]]) -> None:
    where, results = tour
    assert (where / "critmin.duckdb").is_file()
    assert (where / "cape.csv").read_text().startswith("entry_number,line_number,hts,chapter99_heading,")
    assert (where / "report" / "report.html").is_file() and (where / "demo-output" / "summary.json").is_file()
    csv = next(ran.stdout for line, ran in results.items() if "hts_schedule" in line and "csv" in line)
    header = csv.splitlines()[0].split(",")
    assert "units" in header and "chapter99_refs" in header  # list columns, written as JSON text
    exposure = next(ran.stdout for line, ran in results.items() if "--set rate=40%" in line)
    payload = json.loads(exposure)
    assert payload["provenance"]["parameters"]["rate"]["value"] == pytest.approx(0.4)
