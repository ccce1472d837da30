"""The FastAPI application: pages rendered on the server, a JSON API under /api/v1, both over the library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from critmin import __version__, refdata
from critmin.web.security import (
    TOKEN_COOKIE,
    CSRFCookieMiddleware,
    SecurityHeadersMiddleware,
    TokenMiddleware,
    UploadLimitMiddleware,
    csrf_guard,
    csrf_token,
    tokens_match,
)
from critmin.web.settings import WebSettings

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["csrf_token"] = csrf_token
templates.env.globals["version"] = __version__

PAGES = (
    ("overview", "Overview", "/"),
    ("ledger", "Ledger", "/ledger"),
    ("exposure", "Exposure", "/exposure"),
    ("scenarios", "Scenarios", "/scenarios"),
    ("risk", "Risk", "/risk"),
    ("monitor", "Monitor", "/monitor"),
    ("sourcing", "Sourcing", "/sourcing"),
    ("investment", "Investment", "/investment"),
)
templates.env.globals["pages"] = PAGES


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def render(request: Request, template: str, page: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"page": page, **context})


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["api"])

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @router.get("/datasets")
    def datasets() -> list[dict[str, Any]]:
        """Shipped reference datasets with their provenance."""
        return [r.as_dict() for r in refdata.read_manifest()]

    return router


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    app = FastAPI(
        title="critmin",
        version=__version__,
        description="Exposure of an import ledger to U.S. critical-minerals trade policy, with sources.",
        dependencies=[Depends(csrf_guard)],
    )
    app.state.settings = settings
    # Starlette runs the last-added middleware first: limits, then token, then the CSRF cookie, then headers.
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(CSRFCookieMiddleware)
    app.add_middleware(TokenMiddleware, token=settings.token)
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api_router())

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="text/javascript")

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

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> HTMLResponse:
        records = refdata.read_manifest()
        return render(request, "overview.html", "overview", datasets=records)

    return app
