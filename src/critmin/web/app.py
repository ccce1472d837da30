"""The FastAPI application: pages rendered on the server, a JSON API under /api/v1, both over the library."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from critmin import __version__
from critmin.errors import CritminError
from critmin.web.deps import notice_outside_changes
from critmin.web.inputs import InvalidInputError
from critmin.web.models import ProblemOut, ProblemsOut
from critmin.web.render import HERE, render
from critmin.web.routes.api import api_router
from critmin.web.routes.pages import pages_router
from critmin.web.security import (
    SECURITY_HEADERS,
    TOKEN_COOKIE,
    CSRFCookieMiddleware,
    HostCheckMiddleware,
    SecurityHeadersMiddleware,
    TokenMiddleware,
    UploadLimitMiddleware,
    csrf_guard,
    tokens_match,
)
from critmin.web.settings import WebSettings
from critmin.web.state import Dashboard
from critmin.workspace import WorkspaceInUseError

log = logging.getLogger(__name__)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def _world_topology() -> Path:
    """Plotly's world outline, shipped with critmin so maps draw without the network."""
    return Path(str(resources.files("critmin.views").joinpath("assets/world_110m.json")))


SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}


def _swagger_ui(name: str) -> Path:
    """Swagger UI 5 as packaged by fastapi-offline: /docs works offline and under this app's CSP."""
    return Path(str(resources.files("fastapi_offline").joinpath("static", name)))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(request: Request, status: int, detail: str) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": detail}, status_code=status)
    return render(request, "error.html", "error", status_code=status, status=status, detail=detail)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    dashboard = Dashboard(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        dashboard.close()

    app = FastAPI(
        title="critmin",
        version=__version__,
        description=(
            "Exposure of an import ledger to U.S. critical-minerals trade policy, with sources. Every view "
            "takes `ledger` (an import id; default the latest), `as_of` (the report date; default today) "
            "and, where it depends on one, `scenario` (a shipped scenario id; default the measures in force)."
        ),
        dependencies=[Depends(csrf_guard), Depends(notice_outside_changes)],
        lifespan=lifespan,
        # FastAPI's own /docs loads Swagger UI from a CDN with an inline script; ours is served below.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.dashboard = dashboard
    # Starlette runs the last-added middleware first: the Host check, declared-size limit, token, the CSRF
    # cookie, headers, and innermost the count of body bytes as they arrive (whatever Content-Length
    # claimed, or without one).
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_upload_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(CSRFCookieMiddleware)
    app.add_middleware(TokenMiddleware, token=settings.token)
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(HostCheckMiddleware, settings=settings)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api_router())
    app.include_router(pages_router())

    @app.exception_handler(CritminError)
    async def critmin_error(request: Request, exc: CritminError) -> Response:
        # The error's class says whose problem it is (critmin.errors): 4xx the request, 5xx the server.
        if exc.http_status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
        if isinstance(exc, InvalidInputError) and _is_api(request):
            body = ProblemsOut(detail=str(exc), problems=[ProblemOut(**p.__dict__) for p in exc.problems])
            return JSONResponse(body.model_dump(), status_code=exc.http_status)
        return _error_response(request, exc.http_status, str(exc))

    @app.exception_handler(WorkspaceInUseError)
    async def workspace_busy(request: Request, exc: WorkspaceInUseError) -> Response:
        # Another process (an import, a monitor run) holds the workspace for now: retry, not fix the input.
        response = _error_response(request, 503, f"{exc} Try again in a moment.")
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        # Logged with its traceback by the server; the user gets a page (or JSON) without internals.
        log.error("%s %s failed: %r", request.method, request.url.path, exc)
        response = _error_response(
            request,
            500,
            f"critmin hit an internal error ({type(exc).__name__}). Nothing was changed; the server log has "
            "the details. Please report it with the address of this page.",
        )
        response.headers.update(SECURITY_HEADERS)  # this response bypasses the header middleware
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _is_api(request):
            return await http_exception_handler(request, exc)
        return _error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return await request_validation_exception_handler(request, exc)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return render(
            request,
            "error.html",
            "error",
            status_code=422,
            status=422,
            detail=f"The address has a value critmin cannot use ({problems}).",
        )

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="text/javascript")

    @app.get("/vendor/topojson/world_110m.json", include_in_schema=False)
    def world_topology() -> FileResponse:
        return FileResponse(_world_topology(), media_type="application/json")

    @app.get("/vendor/swagger-ui/{name}", include_in_schema=False)
    def swagger_ui_file(name: str) -> FileResponse:
        if name not in SWAGGER_FILES:  # two known files; the name never reaches the file system otherwise
            raise HTTPException(404, "Not Found")
        return FileResponse(_swagger_ui(name), media_type=SWAGGER_FILES[name])

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        """Swagger UI over /openapi.json; its "Try it out" requests carry the CSRF token."""
        return render(request, "api_docs.html", "docs", openapi_url=app.openapi_url)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return render(request, "login.html", "login")

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token: str = Form(...)) -> Response:
        expected = settings.token
        if expected is None:
            return RedirectResponse("/", status_code=303)
        if not tokens_match(token, expected):
            return render(request, "login.html", "login", error="Wrong token.")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    return app
