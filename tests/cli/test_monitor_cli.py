"""`critmin monitor init` writes a watchlist to start from; offline, `monitor run` stops at once."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from critmin.monitor.watchlist import load_watchlist

from .conftest import Invoke


def test_init_writes_a_commented_watchlist_that_validates(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    result = invoke("monitor", "init", path)
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert text.count("\n#") > 5 and "docs/monitor.md" in text  # explained, not just data
    spec = load_watchlist(path)
    assert spec.entries and all(entry.terms or entry.agencies for entry in spec.entries)
    checked = invoke("monitor", "watchlist", "validate", path)
    assert checked.exit_code == 0, checked.output


def test_init_never_overwrites_unless_asked(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text("mine\n", encoding="utf-8")
    refused = invoke("monitor", "init", path)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert path.read_text(encoding="utf-8") == "mine\n"
    assert invoke("monitor", "init", path, "--force").exit_code == 0
    assert path.read_text(encoding="utf-8") != "mine\n"


def test_offline_run_fails_fast_in_one_line(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    watch = tmp_path / "watch.yaml"
    assert invoke("monitor", "init", watch).exit_code == 0
    started = time.monotonic()
    workspace = tmp_path / "ws.duckdb"
    result = invoke("monitor", "run", "--watchlist", watch, "--workspace", workspace, "--no-duty")
    assert time.monotonic() - started < 10  # no backoff: the retries alone would take ~15 s per query
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Cannot resolve www.federalregister.gov") and "offline" in lines[0]
    assert "?" not in lines[0]  # names the host, not a long query URL
