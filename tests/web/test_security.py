"""The web app is safe by default: localhost only unless a token is set, then the token is required."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmin.cli.app import app as cli
from critmin.web.app import create_app
from critmin.web.security import CSRF_COOKIE
from critmin.web.settings import UnsafeBindError, WebSettings, check_bind

TOKEN = "s3cret-token-for-tests-0123456789"


def test_loopback_needs_no_token_but_other_addresses_do() -> None:
    check_bind(WebSettings(host="127.0.0.1"))
    check_bind(WebSettings(host="::1"))
    check_bind(WebSettings(host="localhost"))
    with pytest.raises(UnsafeBindError, match="CRITMIN_TOKEN"):
        check_bind(WebSettings(host="0.0.0.0"))
    with pytest.raises(UnsafeBindError, match="too short"):
        check_bind(WebSettings(host="0.0.0.0", token="short"))
    check_bind(WebSettings(host="0.0.0.0", token=TOKEN))


def test_serve_refuses_to_start_exposed_without_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRITMIN_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8765"])
    assert result.exit_code == 2
    assert "Refusing to serve on 0.0.0.0" in result.stderr


def test_security_headers_on_every_response() -> None:
    client = TestClient(create_app())
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


def test_token_required_when_configured() -> None:
    client = TestClient(create_app(WebSettings(token=TOKEN)))
    assert client.get("/api/v1/health").status_code == 401
    assert client.get("/api/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/api/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_browser_login_sets_cookie_and_checks_csrf() -> None:
    client = TestClient(create_app(WebSettings(token=TOKEN)))
    form = client.get("/login")
    csrf = client.cookies.get(CSRF_COOKIE)
    assert csrf and f'value="{csrf}"' in form.text
    # a post without the CSRF field is refused even with the right token
    refused = client.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert refused.status_code == 403
    wrong = client.post("/login", data={"token": "nope", "csrf_token": csrf})
    assert "Wrong token" in wrong.text
    ok = client.post("/login", data={"token": TOKEN, "csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303
    assert client.get("/").status_code == 200


def test_declared_oversized_upload_rejected_before_reading() -> None:
    client = TestClient(create_app(WebSettings(max_upload_bytes=1000)))
    response = client.post("/api/v1/health", content=b"x" * 5000, headers={"Authorization": "Bearer x"})
    assert response.status_code == 413
    assert "limit is 1,000 bytes" in response.text


def test_plotly_is_served_locally() -> None:
    client = TestClient(create_app())
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200
    assert len(response.content) > 1_000_000
    assert client.get("/static/../app.py").status_code == 404
