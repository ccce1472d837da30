"""Deleting an import from the dashboard: the API's DELETE and the Ledger page's (CSRF-checked) button."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from critmin.web.app import create_app
from critmin.web.settings import WebSettings

MakeSettings = Callable[..., WebSettings]
AUTH = {"Authorization": "Bearer local"}


def loaded(tmp_path: Path, make_settings: MakeSettings) -> TestClient:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb", draws=0)))
    for name in ("defense_prime", "battery_maker"):
        assert client.post(f"/api/v1/ledgers/samples/{name}", headers=AUTH).status_code == 200
    return client


def test_api_delete(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = loaded(tmp_path, make_settings)
    lines = client.get("/api/v1/ledgers/1/lines", params={"limit": 1}).json()["total_rows"]
    assert lines > 100
    assert client.get("/api/v1/summary", params={"ledger": 1}).status_code == 200  # cached views exist

    deleted = client.delete("/api/v1/ledgers/1", headers=AUTH)

    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert body["import_id"] == 1 and body["lines"] == lines
    assert body["classification"] > 0 and body["content"] > 0 and body["quarantined"] == 9
    assert [r["import_id"] for r in client.get("/api/v1/ledgers").json()] == [2]
    assert client.get("/api/v1/ledgers/1").status_code == 404  # not from a stale cache
    assert client.get("/api/v1/summary", params={"ledger": 1}).status_code == 404
    again = client.delete("/api/v1/ledgers/1", headers=AUTH)
    assert again.status_code == 404 and "No ledger import 1" in again.json()["detail"]


def test_api_delete_needs_proof_like_any_change(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = loaded(tmp_path, make_settings)
    client.get("/api/v1/health")
    assert client.delete("/api/v1/ledgers/1").status_code == 403
    assert len(client.get("/api/v1/ledgers").json()) == 2


def test_the_ledger_page_button(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = loaded(tmp_path, make_settings)
    page = client.get("/ledger", params={"ledger": 1}).text
    form = re.search(r'<form method="post" action="/ledger/1/delete"[^>]*data-confirm="([^"]+)"', page)
    assert form and "Delete import #1" in form.group(1)
    token = re.search(r'action="/ledger/1/delete".*?name="csrf_token" value="([^"]+)"', page, re.S)
    assert token

    refused = client.post("/ledger/1/delete", follow_redirects=False)
    assert refused.status_code == 403

    done = client.post("/ledger/1/delete", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/ledger?deleted=1"
    after = client.get(done.headers["location"])
    assert 'data-deleted="1"' in after.text and "Deleted import #1" in after.text
    assert "battery_maker_ledger.csv" in after.text and 'href="/ledger?ledger=1"' not in after.text

    missing = client.post("/ledger/1/delete", data={"csrf_token": token.group(1)})
    assert missing.status_code == 404 and "No ledger import 1" in missing.text


def test_deleting_the_last_import_leaves_the_upload_form(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb", draws=0)))
    assert client.post("/api/v1/ledgers/samples/magnet_maker", headers=AUTH).status_code == 200
    assert client.delete("/api/v1/ledgers/1", headers=AUTH).status_code == 200
    page = client.get("/ledger", params={"deleted": 1})
    assert page.status_code == 200 and 'id="upload-form"' in page.text and "Deleted import #1" in page.text
    assert client.get("/api/v1/ledgers").json() == []
