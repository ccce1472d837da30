"""Local servers for the monitor tests: an HTTP server that replays recorded Federal Register responses (and
a small mirror of the API built from them, for paging), with injectable faults; a webhook receiver; an SMTP
receiver. Everything listens on 127.0.0.1 on an ephemeral port; nothing reaches the internet.
"""

from __future__ import annotations

import copy
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import polars as pl
import pytest

from critmin.ledger.schema import conform
from critmin.monitor.fedreg import FederalRegisterClient
from critmin.monitor.http import JsonClient, RetryPolicy
from critmin.paths import raw_data_dir
from critmin.workspace import Workspace

FIXTURES = raw_data_dir() / "api-fixtures" / "federal-register"
DATA = Path(__file__).parent / "data"


def recorded(name: str) -> bytes:
    """A recorded real response body, byte for byte (see api-fixtures/SOURCE.md)."""
    return (FIXTURES / name).read_bytes()


# ------------------------------------------------------------------------------------------- HTTP server


@dataclass
class Reply:
    """What the server sends: status, body and headers; ``delay`` stalls before answering; ``cut_at`` declares
    the full Content-Length but sends only that many bytes and closes the connection."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut_at: int | None = None


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = [v for k, v in self.query if k == name]
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


Handler = Callable[[Request], Reply]


class LocalServer:
    """A threading HTTP server whose routes are Python callables; faults queued per path are served first."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.faults: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qsl(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = owner.dispatch(request)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    if reply.cut_at is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if reply.cut_at is not None:
                        self.wfile.write(reply.body[: reply.cut_at])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = _serve
            do_POST = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, path: str, handler: Handler | Reply) -> None:
        self.routes[path] = handler if callable(handler) else (lambda _request, reply=handler: reply)

    def fault(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.faults.setdefault(path, []).extend(replies)

    def dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            queued = self.faults.get(request.path)
            if queued:
                return queued.pop(0)
        handler = self.routes.get(request.path)
        if handler is None:
            return Reply(404, b'{"errors":{"path":"not found"}}')
        return handler(request)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    instance = LocalServer().start()
    yield instance
    instance.stop()


# ----------------------------------------------------------------------------- Federal Register mirror


def recorded_documents() -> list[dict[str, Any]]:
    """The five distinct document objects in the recorded responses (search results and one full document)."""
    docs = json.loads(recorded("search-newest-page-one.json"))["results"]
    docs += json.loads(recorded("eo-term.json"))["results"]
    docs.append(json.loads(recorded("current-document.json")))
    return docs


def derived_documents(n: int, *, start: date = date(2026, 1, 5)) -> list[dict[str, Any]]:
    """``n`` documents for paging tests, DERIVED from the recorded ones: same objects and keys, renumbered
    (``2026-9xxxx``) and re-dated so a search has many pages. Titles cycle through a few PCMDP-style titles
    so matching has something to find. Not real Federal Register documents."""
    base = json.loads(recorded("search-newest-page-one.json"))["results"][0]
    titles = [
        "Section 232 National Security Investigation of Imports of Processed Critical Minerals",
        "Sintered neodymium-iron-boron magnets of subheading 8505.11.0070 from China",
        "Gallium and germanium (8112.92.10) supply chains; request for comments",
        "Combined Notice of Filings",
    ]
    out = []
    for i in range(n):
        doc = copy.deepcopy(base)
        number = f"2026-9{i:04d}"
        day = date.fromordinal(start.toordinal() + i // 3)
        doc.update(
            {
                "document_number": number,
                "title": titles[i % len(titles)],
                "publication_date": day.isoformat(),
                "html_url": f"https://www.federalregister.gov/documents/{day:%Y/%m/%d}/{number}/derived",
                "pdf_url": f"https://www.govinfo.gov/content/pkg/FR-{day}/pdf/{number}.pdf",
            }
        )
        out.append(doc)
    return out


class FederalRegisterMirror:
    """Serves ``/api/v1/documents.json`` (and the ``/api/v1/documents`` form of next_page_url) the way the
    recorded responses show the API behaves: ``count``, ``total_pages``, ``next_page_url`` on the public host,
    and no ``results`` key when nothing matches. Filters: term (substring of title/abstract), agencies (slug),
    type, publication_date gte. Faults can be queued per page number."""

    PUBLIC = "https://www.federalregister.gov/api/v1/documents"

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self.documents = documents
        self.page_faults: dict[int, list[Reply]] = {}
        self.repeat: dict[int, int] = {}  # serve page k's results when page j is asked for (j -> k)
        self.loop_back: dict[int, int] = {}  # page j's next_page_url points to page k
        self.pi_documents: list[dict[str, Any]] = []

    def matching(self, request: Request) -> list[dict[str, Any]]:
        term = request.param("conditions[term]")
        agencies = set(request.params("conditions[agencies][]"))
        gte = request.param("conditions[publication_date][gte]")
        found = []
        for doc in self.documents:
            text = f"{doc.get('title') or ''} {doc.get('abstract') or ''}".lower()
            if term and term.lower() not in text:
                continue
            slugs = {a.get("slug") for a in doc.get("agencies") or []}
            if agencies and not agencies & slugs:
                continue
            if gte and (doc.get("publication_date") or "") < gte:
                continue
            found.append(doc)
        return sorted(found, key=lambda d: (d.get("publication_date") or "", d["document_number"]))

    def __call__(self, request: Request) -> Reply:
        page = int(request.param("page", "1") or 1)
        queued = self.page_faults.get(page)
        if queued:
            return queued.pop(0)
        per_page = int(request.param("per_page", "20") or 20)
        docs = self.matching(request)
        body: dict[str, Any] = {"description": "Documents (local mirror)", "count": len(docs)}
        if not docs:
            return Reply(200, json.dumps(body).encode())
        total_pages = -(-len(docs) // per_page)
        served = self.repeat.get(page, page)
        body["total_pages"] = total_pages
        following = self.loop_back.get(page, page + 1 if page < total_pages else None)
        if following is not None:
            params = [(k, v) for k, v in request.query if k not in ("page", "format")]
            params += [("format", "json"), ("page", str(following))]
            body["next_page_url"] = f"{self.PUBLIC}?{urlencode(params)}"
        results = docs[(served - 1) * per_page : served * per_page]
        if results:
            body["results"] = results
        return Reply(200, json.dumps(body).encode())

    def public_inspection(self, request: Request) -> Reply:
        body: dict[str, Any] = {"count": len(self.pi_documents)}
        if self.pi_documents:
            body["results"] = self.pi_documents
        return Reply(200, json.dumps(body).encode())

    def install(self, server: LocalServer) -> None:
        server.route("/api/v1/documents.json", self)
        server.route("/api/v1/documents", self)
        server.route("/api/v1/public-inspection-documents.json", self.public_inspection)


class NoSleep:
    """Records the waits the retry loop asked for instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def no_sleep() -> NoSleep:
    return NoSleep()


def make_client(
    server: LocalServer, sleep: NoSleep, *, attempts: int = 4, timeout: float = 2.0
) -> FederalRegisterClient:
    http = JsonClient(
        timeout=timeout, retry=RetryPolicy(attempts=attempts, base_delay=1.0), sleep=sleep, rand=lambda: 0.5
    )
    return FederalRegisterClient(f"{server.url}/api/v1", http=http)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace.open(tmp_path / "ws.duckdb", create=True)
    yield ws
    ws.close()


# ----------------------------------------------------------------------------------------------- ledger


def small_ledger() -> pl.DataFrame:
    """Five hand-made canonical ledger lines (values chosen so sums are easy to check by hand)."""
    rows = [
        (
            "L1",
            "2026-03-02",
            "8505110070",
            "CHN",
            100_000.0,
            "neodymium",
            "NdFeB magnets",
            "Ningbo Magnet Co",
        ),
        ("L2", "2026-04-10", "8505110070", "JPN", 40_000.0, "neodymium", "NdFeB magnets", "Shin Magnetics"),
        ("L3", "2026-05-15", "8112921000", "CHN", 25_000.0, "gallium", "Unwrought gallium", "Yunnan Ga"),
        ("L4", "2026-06-01", "2846901000", "MYS", 10_000.0, None, "Rare-earth compounds", "Lynas Malaysia"),
        ("L5", "2025-01-20", "7408110000", "CHL", 60_000.0, "copper", "Copper wire (old entry)", "Codelco"),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "line_id",
            "entry_date",
            "hts",
            "country_origin",
            "customs_value_usd",
            "content_mineral",
            "description",
            "supplier",
        ],
        orient="row",
    ).with_columns(pl.col("entry_date").str.to_date())
    return conform(frame)


# ------------------------------------------------------------------------------------------- SMTP server


class SMTPReceiver:
    """A minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on a thread.

    Python 3.12 removed ``smtpd``; this speaks just enough SMTP for ``smtplib`` to deliver. ``fail_data``
    makes the next N DATA commands answer ``451`` (a temporary failure) to test retries."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fail_data = 0
        self.sessions = 0
        owner = self

        class _Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())
                self.wfile.flush()

            def handle(self) -> None:
                owner.sessions += 1
                self.reply("220 localhost critmin-test SMTP")
                sender, recipients = None, []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    command = raw.decode().rstrip("\r\n")
                    verb = command.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
                        self.wfile.flush()
                    elif verb == "HELO":
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while True:
                            line = self.rfile.readline()
                            if line in (b".\r\n", b".\n", b""):
                                break
                            lines.append(line[1:] if line.startswith(b"..") else line)
                        if owner.fail_data > 0:
                            owner.fail_data -= 1
                            self.reply("451 Temporary local problem, try again")
                        else:
                            owner.messages.append({"from": sender, "to": recipients, "data": b"".join(lines)})
                            self.reply("250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Command not implemented")

        class _Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> SMTPReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp() -> Iterator[SMTPReceiver]:
    instance = SMTPReceiver().start()
    yield instance
    instance.stop()


class Kit:
    """Helpers for the tests (pytest's importlib mode does not let test modules import conftest)."""

    Reply = Reply
    Request = Request
    LocalServer = LocalServer
    FederalRegisterMirror = FederalRegisterMirror
    NoSleep = NoSleep
    DATA = DATA
    recorded = staticmethod(recorded)
    recorded_documents = staticmethod(recorded_documents)
    derived_documents = staticmethod(derived_documents)
    make_client = staticmethod(make_client)
    small_ledger = staticmethod(small_ledger)


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit
