"""Access token, CSRF protection, security headers and upload limits, as ASGI middleware.

The token may come as ``Authorization: Bearer`` (API clients) or as the HttpOnly cookie set by the login form
(browsers). Forms are protected by a double-submit CSRF token: a random cookie echoed in a hidden field.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from fastapi import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

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
    # Plotly evaluates generated code, hence 'unsafe-eval'; everything is served from this origin.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
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


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


async def csrf_guard(request: Request) -> None:
    """App-wide dependency: a state-changing request in a form encoding must echo the CSRF cookie.

    Only form encodings can be sent cross-site without a CORS preflight, so JSON and bearer-token API calls
    are not exposed to CSRF; forms are, and must carry the token in the ``csrf_token`` field (or the
    ``X-CSRF-Token`` header). The parsed form is cached on the request, so handlers still read it.
    """
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization"):
        # A cross-site form cannot carry this header, and a script can only add it after a CORS preflight
        # this app never grants; so an API client's upload needs no CSRF token.
        return
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(FORM_TYPES):
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and not content_type.startswith("text/plain"):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not tokens_match(sent, request.cookies.get(CSRF_COOKIE) or ""):
        raise HTTPException(403, "CSRF check failed: reload the page and submit the form again.")


def csrf_token(request: Request) -> str:
    """The token to embed in a form: the cookie's value, or a fresh one the response will set."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing:
        return existing
    fresh: str = request.state.csrf_fresh
    return fresh
