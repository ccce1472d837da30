"""Fixtures for the workspace tests: real DuckDB files in tmp_path and real child processes."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from critmin.workspace import ENV_VAR, Workspace
from critmin.workspace.store import LOCK_WAIT_ENV

WRITER = Path(__file__).with_name("writer_process.py")
TIMEOUT = 20.0  # generous: a loaded CI machine; a healthy run takes well under a second per step


@pytest.fixture(autouse=True)
def _no_workspace_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own CRITMIN_WORKSPACE must never leak into (or be touched by) the tests."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    # Opening a workspace another process holds waits for it; the lock tests want the error at once.
    # The tests of the wait itself pass their own.
    monkeypatch.setenv(LOCK_WAIT_ENV, "0")


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    return tmp_path / "ws.duckdb"


@pytest.fixture(scope="session")
def template_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One freshly created workspace per session; tests get copies, which is much cheaper than migrating."""
    path = tmp_path_factory.mktemp("template") / "ws.duckdb"
    Workspace.open(path, create=True).close()
    assert not path.with_name("ws.duckdb.wal").exists()  # closing checkpointed everything into the file
    return path


@pytest.fixture
def workspace(ws_path: Path, template_workspace: Path) -> Iterator[Workspace]:
    shutil.copyfile(template_workspace, ws_path)
    ws = Workspace.open(ws_path)
    yield ws
    ws.close()


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql, encoding="utf-8")
    return directory


class Child:
    """A writer_process.py child whose stdout lines are read on a thread so waits can time out."""

    def __init__(self, args: list[str], stderr_path: Path) -> None:
        self._stderr = stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={k: v for k, v in os.environ.items() if k != ENV_VAR},
        )
        self.stderr_path = stderr_path
        self.lines: queue.Queue[str] = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def expect(self, wanted: str) -> None:
        """Block until the child prints ``wanted``; fail with its stderr if it exits or stalls first."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.05)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            if line == wanted:
                return
        pytest.fail(f"child never printed {wanted!r}; stderr:\n{self.stderr_path.read_text()}")

    def wait_for_file(self, path: Path) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and not path.exists():
            if self.proc.poll() is not None:
                pytest.fail(f"child exited before writing {path}; stderr:\n{self.stderr_path.read_text()}")
            time.sleep(0.01)
        assert path.exists(), f"child never wrote {path}"

    def sigkill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=TIMEOUT) == -signal.SIGKILL

    def finish(self) -> int:
        """Close its stdin (the "hold" mode then closes the workspace and exits) and wait."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=TIMEOUT)

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        self._pump_thread.join(timeout=TIMEOUT)  # it ends at EOF, once the child is gone
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Child]]:
    """Start writer_process.py children; any still running at teardown are killed."""
    children: list[Child] = []

    def start(*args: str | Path) -> Child:
        child = Child([str(a) for a in args], tmp_path / f"child-{len(children)}.stderr")
        children.append(child)
        return child

    yield start
    for child in children:
        child.cleanup()
