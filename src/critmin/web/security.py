"""Host check, access token, CSRF protection, security headers and upload limits, as ASGI middleware.

The Host header must name this server (:func:`critmin.web.settings.host_allowed`), so a web page that
rebinds its own domain name to 127.0.0.1 cannot read the dashboard. The token may come as
``Authorization: Bearer`` (API clients) or as the HttpOnly cookie set by the login form (browsers). Every
state-changing request, whatever its body, needs that header or a double-submit CSRF token: a random cookie
echoed in a hidden form field or the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from critmin.web.settings import ALLOWED_HOSTS_ENV, WebSettings, host_allowed

CSRF_COOKIE = "critmin_csrf"
CSRF_FIELD = "csrf_token"
TOKEN_COOKIE = "critmin_token"
OPEN_PATHS = frozenset({"/login", "/static/style.css"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Scripts come only from files of this origin: no inline script runs, so markup injected into a page
    # cannot execute. Plotly compiles code at run time, hence 'unsafe-eval'; inline styles are Plotly's and
    # Swagger UI's own element styles.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'; object-src 'none'"
    ),
}

Next = Callable[[Request], Awaitable[Response]]


def tokens_match(given: str | None, expected: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given).encode(), expected.encode())


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Next) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


class HostCheckMiddleware:
    """Answers 400 to a request whose Host header is not a name this server is reached by.

    DNS rebinding: a page on ``evil.example`` re-points that name at 127.0.0.1, and the browser then treats
    the dashboard as ``evil.example``'s own origin and lets the page read it. The request still says
    ``Host: evil.example``, which is what this refuses. Pure ASGI, outermost, so nothing else runs first.
    """

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if host_allowed(host, self.settings):
            await self.app(scope, receive, send)
            return
        shown = host[:100] or "(none)"
        response = PlainTextResponse(
            f"Host {shown!r} is not a name this critmin server answers to. It serves localhost, "
            "127.0.0.1 and [::1] (and the address it is bound to); to reach it under another name, start it "
            f"with `critmin serve --allowed-host NAME` (or set {ALLOWED_HOSTS_ENV}).",
            status_code=400,
            headers=SECURITY_HEADERS,
        )
        await response(scope, receive, send)


class UploadLimitMiddleware(BaseHTTPMiddleware):
    """Rejects bodies over the limit by their declared length, before reading them.

    The body is also counted as it arrives (Starlette's ``RequestBodyLimitMiddleware``, added by
    ``create_app``) and the upload handler counts again while copying to disk, so a lying or missing
    Content-Length gains nothing.
    """

    def __init__(self, app: object, max_bytes: int) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.max_bytes = max_bytes

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        declared = request.headers.get("content-length")
        chunked = request.headers.get("transfer-encoding", "").lower() == "chunked"
        if declared is None and chunked and request.method in {"POST", "PUT", "PATCH"}:
            return PlainTextResponse("Send uploads with a Content-Length header.", status_code=411)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return PlainTextResponse(
                f"Upload too large: {int(declared):,} bytes; the limit is {self.max_bytes:,} bytes.",
                status_code=413,
            )
        return await call_next(request)


class TokenMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: object, token: str | None) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        if self.token is None or request.url.path in OPEN_PATHS:
            return await call_next(request)
        header = request.headers.get("authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else None
        if tokens_match(bearer, self.token) or tokens_match(request.cookies.get(TOKEN_COOKIE), self.token):
            return await call_next(request)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "missing or wrong access token"}, status_code=401)
        return RedirectResponse("/login", status_code=303)


class CSRFCookieMiddleware(BaseHTTPMiddleware):
    """Gives every browser a random CSRF cookie; :func:`csrf_guard` checks forms against it."""

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE)
        if cookie is None:
            request.state.csrf_fresh = secrets.token_urlsafe(32)
        response = await call_next(request)
        if cookie is None:
            response.set_cookie(CSRF_COOKIE, request.state.csrf_fresh, httponly=True, samesite="strict")
        return response


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
CSRF_REFUSED = (
    "CSRF check failed: reload the page and submit the form again. (API clients send an Authorization "
    "header; scripts of this origin send the X-CSRF-Token header.)"
)


def media_type(request: Request) -> str:
    """The Content-Type without parameters, lower-cased: media types are case-insensitive (RFC 9110)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def csrf_guard(request: Request) -> None:
    """App-wide dependency: every state-changing request must prove it comes from this app's own pages.

    Every method but GET, HEAD and OPTIONS is checked, whatever its Content-Type or with none: a cross-site
    page can send a POST or a body-less request without a CORS preflight, and the server must not guess
    which bodies are harmless. Proof is either an ``Authorization`` header, which a cross-site page cannot
    add without a preflight this app never grants, or the CSRF cookie echoed in the ``X-CSRF-Token`` header
    or, for a form body, the ``csrf_token`` field. The parsed form is cached on the request, so handlers
    still read it.
    """
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization"):
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and media_type(request) in FORM_TYPES:
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not tokens_match(sent, request.cookies.get(CSRF_COOKIE) or ""):
        raise HTTPException(403, CSRF_REFUSED)


def csrf_token(request: Request) -> str:
    """The token to embed in a form: the cookie's value, or a fresh one the response will set."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing:
        return existing
    fresh: str = request.state.csrf_fresh
    return fresh
