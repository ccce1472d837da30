"""The Jinja2 environment shared by every page: templates, number filters and globals."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from critmin import __version__
from critmin.policy.currency import law_currency
from critmin.views.formatting import FILTERS
from critmin.web.security import csrf_token

HERE = Path(__file__).resolve().parent

PAGES = (
    ("overview", "Overview", "/"),
    ("ledger", "Ledger", "/ledger"),
    ("exposure", "Exposure", "/exposure"),
    ("scenarios", "Scenarios", "/scenarios"),
    ("risk", "Risk", "/risk"),
    ("monitor", "Monitor", "/monitor"),
    ("reconcile", "Reconcile", "/reconcile"),
    ("sourcing", "Sourcing", "/sourcing"),
    ("investment", "Investment", "/investment"),
)

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["csrf_token"] = csrf_token
templates.env.globals["version"] = __version__
templates.env.globals["law_line"] = lambda: law_currency().line()
templates.env.globals["pages"] = PAGES
templates.env.filters.update(FILTERS)


def render(
    request: Request, template: str, page: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"page": page, **context}, status_code=status_code)


# Stands in for the CSRF token in a page rendered once and served to many browsers.
CSRF_MARKER = f"csrf-{secrets.token_hex(16)}"


def render_shared(template: str, page: str, **context: Any) -> str:
    """A page that is the same for every browser but for its CSRF token: render it with a marker."""
    values = {"page": page, "request": None, "csrf_token": lambda _request: CSRF_MARKER, **context}
    return templates.get_template(template).render(values)


def personalise(request: Request, html: str) -> HTMLResponse:
    """A shared page with this browser's CSRF token in place of the marker."""
    return HTMLResponse(html.replace(CSRF_MARKER, csrf_token(request)))
