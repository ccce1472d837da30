"""Fixtures for the web tests: an app over a private workspace, a real uvicorn server, headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright

from critmin.ledger.ingest import ImportResult, ingest
from critmin.ledger.samples import sample_path
from critmin.web.app import create_app
from critmin.web.security import CSRF_COOKIE
from critmin.web.settings import WebSettings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SAMPLE = "defense_prime_ledger.csv"
# A report date after every shipped scenario's start (14 July 2026), so each scenario is evaluated on it.
AS_OF = date(2027, 1, 1)
# Small but real: the Monte Carlo runs, with few draws, so tests stay quick on a shared machine.
TEST_DRAWS = 200
ARTIFACTS = Path(os.environ.get("CRITMIN_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


# Starlette's TestClient and schemathesis's ASGI calls send ``Host: testserver``: the name the tests'
# in-process apps are reached by, so it is allowed like a name given with `critmin serve --allowed-host`.
TEST_HOST = "testserver"


# A user's own scenario tree, as uploaded in the input tests (API and browser).
TREE = """\
tree:
  id: my_two_branches
  title: My two branches for 2027
  note: illustrative, for a test
  start: 2027-01-01
  months: 12
  root:
    id: today
    title: The law in force
    scenario: status_quo
    children:
      - id: nothing
        title: Nothing changes
        probability: 0.5
      - id: tariff
        title: A 40% tariff on non-partners
        probability: 0.5
        date: 2027-04-01
        scenario: s232_tariff_non_partners
        params:
          rate: 0.4
"""


def settings_for(workspace: Path, **overrides: object) -> WebSettings:
    values: dict[str, object] = {
        "workspace": workspace,
        "draws": TEST_DRAWS,
        "allowed_hosts": (TEST_HOST,),
        **overrides,
    }
    return WebSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sample_ledger() -> ImportResult:
    """The sample ledger as the library reads it: the reference the web's numbers must match."""
    return ingest(sample_path(SAMPLE))


@pytest.fixture(scope="session")
def as_of() -> date:
    return AS_OF


@pytest.fixture(scope="session")
def make_settings() -> Callable[..., WebSettings]:
    return settings_for


@pytest.fixture(scope="session")
def csrf() -> Callable[[TestClient], str]:
    return csrf_of


def csrf_of(client: TestClient) -> str:
    """The CSRF cookie value (a first GET sets it)."""
    if client.cookies.get(CSRF_COOKIE) is None:
        client.get("/api/v1/health")
    value = client.cookies.get(CSRF_COOKIE)
    assert value
    return value


@pytest.fixture(scope="module")
def loaded_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A test client whose workspace holds the sample ledger as import 1 (shared by a module's tests)."""
    workspace = tmp_path_factory.mktemp("web") / "workspace.duckdb"
    with TestClient(create_app(settings_for(workspace))) as client:
        response = client.post(
            "/ledger/sample",
            data={"name": "defense_prime", "csrf_token": csrf_of(client)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        yield client


# ---------------------------------------------------------------------------------------------------------
# a real server


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_server(settings: WebSettings) -> LiveServer:
    """uvicorn on 127.0.0.1 with a port the OS picks, in a thread of this process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on", server_header=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 30 s")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workspace = tmp_path_factory.mktemp("live") / "workspace.duckdb"
    server = start_server(settings_for(workspace))
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------------------
# the browser


def chromium_path() -> Path:
    """Debian's Chromium; its absence is a failure with the fix, never a skip."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM}"
            + (f" (found one at {found}, but the tests use the Debian path)" if found else "")
            + ". Install it with `apt-get install -y chromium` (.ci/run does this); "
            "never `playwright install`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Where screenshots go: tests/artifacts (ignored by git), or $CRITMIN_TEST_ARTIFACTS."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the system, driven by Playwright (which never downloads a browser here)."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


ALL_CHARTS_DRAWN = (
    "() => [...document.querySelectorAll('[data-chart-name]')].every(e => e.getAttribute('data-rendered'))"
)


@dataclass
class BrowserSession:
    """One Chromium tab on the live server, with what the page said on its console and every request it
    sent to another host (the dashboard works offline: there must be none)."""

    page: Page
    base: str
    shots: Path
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def number(self, name: str) -> tuple[float, str]:
        node = self.page.locator(f'[data-number="{name}"]').first
        return float(node.get_attribute("data-value") or "nan"), node.inner_text()

    def wait_for_charts(self) -> None:
        self.page.wait_for_function(ALL_CHARTS_DRAWN, timeout=120_000)
        failed = self.page.locator('[data-rendered="error"]').count()
        assert failed == 0, self.page.locator('[data-rendered="error"]').first.inner_text()


SessionT = TypeVar("SessionT", bound=BrowserSession)


@contextmanager
def browser_session(
    browser: Browser,
    base: str,
    shots: Path,
    kind: type[SessionT] = BrowserSession,  # type: ignore[assignment]
) -> Iterator[SessionT]:
    """A fresh tab whose screenshots go to ``shots`` (emptied first); closed when the block ends."""
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)  # a first view of a ledger, or a change of inputs, reruns the analysis
    session = kind(page, base, shots)
    page.on("console", lambda m: session.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: session.console_errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            session.foreign_requests.append(r.url)
            if not r.url.startswith((base, "data:", "blob:", "about:"))
            else None
        ),
    )
    try:
        yield session
    finally:
        context.close()
