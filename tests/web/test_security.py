"""The web app is safe by default: localhost only unless a token is set, then the token is required; every
state-changing request proves it comes from the app; only this server's host names are answered; no inline
script can run."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmin.cli.app import app as cli
from critmin.web.app import create_app
from critmin.web.render import PAGES
from critmin.web.security import CSRF_COOKIE
from critmin.web.settings import (
    ALLOWED_HOSTS_ENV,
    UnsafeBindError,
    WebSettings,
    check_bind,
    host_allowed,
)

TOKEN = "s3cret-token-for-tests-0123456789"
MakeSettings = Callable[..., WebSettings]
FORM_PART = b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\ndefense_prime\r\n--x--\r\n'


@pytest.fixture
def client(tmp_path: Path, make_settings: MakeSettings) -> TestClient:
    return TestClient(create_app(make_settings(tmp_path / "ws.duckdb")))


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


def test_security_headers_on_every_response(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


def test_token_required_when_configured(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb", token=TOKEN)))
    assert client.get("/api/v1/health").status_code == 401
    assert client.get("/api/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/api/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_browser_login_sets_cookie_and_checks_csrf(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb", token=TOKEN)))
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


def test_declared_oversized_upload_rejected_before_reading(
    tmp_path: Path, make_settings: MakeSettings
) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb", max_upload_bytes=1000)))
    response = client.post("/api/v1/health", content=b"x" * 5000, headers={"Authorization": "Bearer x"})
    assert response.status_code == 413
    assert "limit is 1,000 bytes" in response.text


def test_plotly_is_served_locally(client: TestClient) -> None:
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200
    assert len(response.content) > 1_000_000
    assert client.get("/static/../app.py").status_code == 404


# ------------------------------------------------------------------------------------------------- CSRF
class TestCSRF:
    """Every POST/PUT/PATCH/DELETE, whatever its Content-Type (or none), needs the token or Authorization."""

    SAMPLE = "/api/v1/ledgers/samples/defense_prime"

    @pytest.mark.parametrize(
        "content_type",
        [
            None,
            "Multipart/Form-Data; boundary=x",
            "APPLICATION/X-WWW-FORM-URLENCODED",
            "multipart/form-data; boundary=x",
            "text/plain",
            "Text/Plain;charset=utf-8",
            "application/json",
            "application/octet-stream",
        ],
    )
    def test_a_state_change_without_proof_is_refused(
        self, client: TestClient, content_type: str | None
    ) -> None:
        csrf = client.get("/api/v1/health").cookies.get(CSRF_COOKIE)
        assert csrf  # the browser holds the cookie, as a victim's would; the attacker cannot read it
        headers = {} if content_type is None else {"Content-Type": content_type}
        body = b"" if content_type is None else b"name=defense_prime"
        if content_type is not None and content_type.lower().startswith("multipart/"):
            body = FORM_PART
        response = client.post(self.SAMPLE, content=body, headers=headers)
        assert response.status_code == 403, response.text
        assert "CSRF check failed" in response.json()["detail"]
        assert client.get("/api/v1/ledgers").json() == []  # nothing was imported

    def test_mixed_case_multipart_form_without_the_token_is_refused(self, client: TestClient) -> None:
        client.get("/api/v1/health")
        body = b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\ndefense_prime\r\n--x--\r\n'
        response = client.post(
            "/ledger/sample", content=body, headers={"Content-Type": "Multipart/Form-Data; boundary=x"}
        )
        assert response.status_code == 403
        assert client.get("/api/v1/ledgers").json() == []

    def test_mixed_case_multipart_form_with_the_token_is_accepted(self, client: TestClient) -> None:
        token = client.get("/api/v1/health").cookies.get(CSRF_COOKIE)
        assert token
        body = (
            b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\ndefense_prime\r\n'
            b'--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            + token.encode()
            + b"\r\n--x--\r\n"
        )
        response = client.post(
            "/ledger/sample",
            content=body,
            headers={"Content-Type": "Multipart/Form-Data; boundary=x"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_every_unsafe_method_is_checked(
        self, tmp_path: Path, make_settings: MakeSettings, method: str
    ) -> None:
        """The guard is app-wide, so a route added later (any method) is covered without doing anything."""
        app = create_app(make_settings(tmp_path / "ws.duckdb"))
        app.add_api_route("/api/v1/changed", lambda: {"changed": True}, methods=[method])
        client = TestClient(app)
        token = client.get("/api/v1/health").cookies.get(CSRF_COOKIE)
        assert token
        refused = client.request(method, "/api/v1/changed")
        assert refused.status_code == 403, (method, refused.text)
        accepted = client.request(method, "/api/v1/changed", headers={"X-CSRF-Token": token})
        assert accepted.json() == {"changed": True}
        assert client.delete("/api/v1/ledgers/1").status_code == 403

    def test_the_header_token_or_authorization_is_proof(self, client: TestClient) -> None:
        token = client.get("/api/v1/health").cookies.get(CSRF_COOKIE)
        assert token
        assert client.post(self.SAMPLE, headers={"X-CSRF-Token": "forged"}).status_code == 403
        assert client.post(self.SAMPLE, headers={"X-CSRF-Token": token}).status_code == 200
        assert client.post(self.SAMPLE, headers={"Authorization": "Bearer local"}).status_code == 200

    def test_reads_need_no_proof(self, client: TestClient) -> None:
        assert client.get("/api/v1/ledgers").status_code == 200
        assert client.head("/api/v1/health").status_code in (200, 405)


# ---------------------------------------------------------------------------------------- DNS rebinding
class TestHostCheck:
    @pytest.mark.parametrize(
        "host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "127.0.0.1", "LOCALHOST:1"]
    )
    def test_loopback_names_are_answered(self, tmp_path: Path, host: str) -> None:
        client = TestClient(create_app(WebSettings(workspace=tmp_path / "ws.duckdb")))
        response = client.get("/api/v1/health", headers={"Host": host})
        assert response.status_code == 200, host

    @pytest.mark.parametrize(
        "host",
        ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "", "localhost:80@evil", "[::1"],
    )
    def test_any_other_name_is_a_400_that_says_what_to_do(self, tmp_path: Path, host: str) -> None:
        client = TestClient(create_app(WebSettings(workspace=tmp_path / "ws.duckdb")))
        response = client.get("/", headers={"Host": host})
        assert response.status_code == 400, host
        assert "is not a name this critmin server answers to" in response.text
        assert "--allowed-host" in response.text
        assert response.headers["x-frame-options"] == "DENY"

    def test_configured_names_and_the_bound_address(self) -> None:
        settings = WebSettings(host="192.0.2.10", allowed_hosts=("Dash.Example.",))
        assert host_allowed("dash.example:8000", settings)
        assert host_allowed("192.0.2.10:8000", settings)
        assert not host_allowed("192.0.2.11:8000", settings)
        assert not host_allowed("other.example", settings)
        everywhere = WebSettings(host="0.0.0.0", token=TOKEN)
        assert host_allowed("192.0.2.11:8000", everywhere)  # an address, which rebinding cannot produce
        assert host_allowed("[2001:db8::1]:8000", everywhere)
        assert not host_allowed("dash.example", everywhere)  # a name must be configured

    def test_names_come_from_the_command_line_and_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(ALLOWED_HOSTS_ENV, "a.example, b.example")
        settings = WebSettings.from_env(allowed_hosts=["C.example"])
        assert settings.allowed_hosts == ("c.example", "a.example", "b.example")

    def test_a_real_server_refuses_a_rebound_name(self, live_server: object) -> None:
        url = live_server.url  # type: ignore[attr-defined]
        port = url.rsplit(":", 1)[1]
        refused = httpx.get(f"{url}/api/v1/ledgers", headers={"Host": f"rebound.example:{port}"})
        assert refused.status_code == 400
        assert "rebound.example" in refused.text
        assert httpx.get(f"{url}/api/v1/health", headers={"Host": f"localhost:{port}"}).status_code == 200


# ------------------------------------------------------------------------------------------------- CSP
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def assert_no_inline_script(html: str, where: str) -> None:
    for attributes, body in SCRIPT_TAG.findall(html):
        if 'type="application/json"' in attributes:
            continue  # data for dashboard.js; a browser never runs it
        assert "src=" in attributes and not body.strip(), (
            f"inline script on {where}: {attributes} {body[:80]}"
        )
    assert not INLINE_HANDLER.search(html), f"inline event handler on {where}"


def test_csp_allows_no_inline_script(loaded_client: TestClient) -> None:
    policy = loaded_client.get("/api/v1/health").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["script-src"].split()[0] == "'self'"
    for _key, _label, href in PAGES:
        page = loaded_client.get(href, params={"ledger": 1, "as_of": "2027-01-01"})
        assert page.status_code == 200, href
        assert_no_inline_script(page.text, href)
    for href in ("/docs", "/login", "/nowhere"):
        assert_no_inline_script(loaded_client.get(href).text, href)


def test_docs_are_served_from_this_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") or s.startswith("data:") for s in sources), sources
    for path in (
        "/vendor/swagger-ui/swagger-ui-bundle.js",
        "/vendor/swagger-ui/swagger-ui.css",
        "/static/api_docs.js",
    ):
        asset = client.get(path)
        assert asset.status_code == 200 and len(asset.content) > 500, path
    assert "SwaggerUIBundle" in client.get("/vendor/swagger-ui/swagger-ui-bundle.js").text
    assert client.get("/vendor/swagger-ui/redoc.standalone.js").status_code == 404
    assert client.get("/vendor/swagger-ui/..%2F..%2Fapp.py").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "critmin"
