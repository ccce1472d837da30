"""Uploads: saved under the server's name, in a private directory, counted while streaming, removed after."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import Headers, UploadFile

from critmin.ledger.ingest import ImportResult
from critmin.web.app import create_app
from critmin.web.settings import WebSettings
from critmin.web.uploads import UploadTooLargeError, choose_suffix, label_for, save_upload

MakeSettings = Callable[..., WebSettings]
SERVER_NAME = re.compile(r"upload-[0-9a-f]{24}\.(csv|tsv|txt|xlsx|parquet|xls)")


def upload(data: bytes, filename: str) -> UploadFile:
    return UploadFile(io.BytesIO(data), filename=filename, headers=Headers({"content-type": "text/csv"}))


def test_client_names_are_labels_never_paths(tmp_path: Path) -> None:
    for given in ("../../etc/passwd", "/etc/shadow", "C:\\Users\\x\\..\\ledger.csv", "..", "a\x00b\r\n.csv"):
        saved = asyncio.run(save_upload(upload(b"a,b\n1,2\n", given), tmp_path / "up", 10_000))
        assert saved.path.parent == tmp_path / "up"
        assert SERVER_NAME.fullmatch(saved.path.name), saved.path.name
        assert "/" not in saved.label and "\\" not in saved.label and "\x00" not in saved.label
    assert label_for("C:\\Users\\x\\ledger.csv") == "ledger.csv"
    assert label_for("../../etc/passwd") == "passwd"
    assert label_for("") == "uploaded ledger"
    assert len(label_for("x" * 500 + ".csv")) == 100


def test_directory_and_file_are_private(tmp_path: Path) -> None:
    saved = asyncio.run(save_upload(upload(b"a,b\n1,2\n", "l.csv"), tmp_path / "up", 10_000))
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "up").stat().st_mode) == 0o700
    # size and checksum are computed while copying, chunk by chunk
    assert saved.size == 8
    assert saved.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert saved.path.read_bytes() == b"a,b\n1,2\n"


def test_format_comes_from_the_content(tmp_path: Path) -> None:
    assert choose_suffix(b"PK\x03\x04rest", "ledger.csv") == ".xlsx"
    assert choose_suffix(b"PAR1....", "whatever.txt") == ".parquet"
    assert choose_suffix(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old.xls") == ".xls"
    assert choose_suffix(b"a\tb\n", "ledger.TSV") == ".tsv"
    assert choose_suffix(b"a,b\n", "evil.sh") == ".csv"


def test_streamed_size_is_counted(tmp_path: Path) -> None:
    with pytest.raises(UploadTooLargeError, match="larger than the upload limit of 1,000 bytes"):
        asyncio.run(save_upload(upload(b"x" * 5000, "big.csv"), tmp_path / "up", 1000))
    assert list((tmp_path / "up").iterdir()) == []  # the partial copy is gone


def test_body_counted_even_without_a_declared_length(tmp_path: Path, make_settings: MakeSettings) -> None:
    """A body with no Content-Length (and not chunked) passes the declared-size check; counting stops it."""
    app = create_app(make_settings(tmp_path / "ws.duckdb", max_upload_bytes=1000))
    sent: list[dict[str, object]] = []
    head = b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
    chunks = [head + b"x" * 600, b"x" * 600, b"x" * 600]

    async def receive() -> dict[str, object]:
        body = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/ledgers",
        "raw_path": b"/api/v1/ledgers",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"multipart/form-data; boundary=zzz"),
            (b"authorization", b"Bearer t"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    assert b"Content Too Large" in body


def test_upload_leaves_no_file_behind(
    tmp_path: Path,
    make_settings: MakeSettings,
    sample_ledger: ImportResult,
    csrf: Callable[[TestClient], str],
) -> None:
    with TestClient(create_app(make_settings(tmp_path / "ws.duckdb"))) as client:
        dash = client.app.state.dashboard  # type: ignore[attr-defined]
        content = sample_ledger.source.path.read_bytes()
        response = client.post(
            "/ledger",
            files={"file": ("../../my ledger.csv", content, "text/csv")},
            data={"csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/ledger?ledger=1&status=imported"
        assert list(dash.uploads_dir.iterdir()) == []
        record = dash.ledger(1)
        assert record.label == "my ledger.csv"
        assert SERVER_NAME.fullmatch(record.source_file)
        uploads = dash.uploads_dir
    assert not uploads.exists()  # removed when the server stops


def test_unreadable_upload_is_a_clear_400(
    tmp_path: Path, make_settings: MakeSettings, csrf: Callable[[TestClient], str]
) -> None:
    with TestClient(create_app(make_settings(tmp_path / "ws.duckdb"))) as client:
        dash = client.app.state.dashboard  # type: ignore[attr-defined]
        cases = {
            "empty.csv": b"",
            "broken.xlsx": b"PK\x03\x04 this is not a workbook",
            "fake.parquet": b"PAR1 not really parquet PAR1",
            "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            "noise.csv": bytes(range(256)) * 8,  # binary, whatever its name says
        }
        for name, content in cases.items():
            page = client.post("/ledger", files={"file": (name, content)}, data={"csrf_token": csrf(client)})
            assert page.status_code == 400, (name, page.text[:500])
            assert "data-error" in page.text
            assert name in page.text  # the message names the user's file ...
            assert str(dash.uploads_dir) not in page.text  # ... never the server's path
            api = client.post(
                "/api/v1/ledgers", files={"file": (name, content)}, headers={"Authorization": "b"}
            )
            assert api.status_code == 400, (name, api.text)
            assert name in api.json()["detail"]
        assert list(dash.uploads_dir.iterdir()) == []
        assert client.get("/api/v1/ledgers").json() == []


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("shapes.csv", b"colour,shape\nred,round\n", "column_missing"),
    ],
)
def test_text_that_is_no_ledger_is_quarantined_row_by_row(
    tmp_path: Path,
    make_settings: MakeSettings,
    csrf: Callable[[TestClient], str],
    name: str,
    content: bytes,
    code: str,
) -> None:
    """Text that fits no ledger: every row set aside with its reason on the page, and nothing analysed."""
    with TestClient(create_app(make_settings(tmp_path / "ws.duckdb"))) as client:
        page = client.post("/ledger", files={"file": (name, content)}, data={"csrf_token": csrf(client)})
        assert page.status_code == 200
        record = client.get("/api/v1/ledgers").json()[0]
        assert record["rows_loaded"] == 0
        assert record["rows_quarantined"] == record["rows_in"] > 0
        assert 'data-number="rows-quarantined"' in page.text and code in page.text
        exposure = client.get("/exposure", params={"ledger": record["import_id"]})
        assert exposure.status_code == 400
        assert "no loadable lines" in exposure.text
