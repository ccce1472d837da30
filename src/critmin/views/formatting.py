"""Number formats shared by the HTML report, the dashboard templates (as Jinja filters) and chart labels."""

from __future__ import annotations

import math
from datetime import date
from typing import Any


def usd(value: float | int | None, *, digits: int = 0) -> str:
    """Whole dollars with thousands separators (``$1,234,567``); a minus sign before the dollar sign."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{digits}f}"


def usd_short(value: float | int | None) -> str:
    """Dollars for headlines: $1.23M, $45.6k, $789."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    sign = "-" if value < 0 else ""
    size = abs(float(value))
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{sign}${size / limit:,.{2 if size / limit < 10 else 1}f}{suffix}"
    return f"{sign}${size:,.0f}"


def signed_usd(value: float | int | None) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + usd(value)


def pct(value: float | int | None, *, digits: int = 1) -> str:
    """A fraction as a percentage (0.125 -> 12.5%)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def signed_pct(value: float | int | None, *, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return ("+" if value > 0 else "") + pct(value, digits=digits)


def number(value: float | int | None, *, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def cell(value: Any) -> str:
    """A table cell for HTML: lists joined, dates ISO, floats with separators, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:,.4g}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(value)


FILTERS = {
    "usd": usd,
    "usd_short": usd_short,
    "signed_usd": signed_usd,
    "pct": pct,
    "signed_pct": signed_pct,
    "number": number,
    "cell": cell,
}
"""Jinja filters: ``templates.env.filters.update(FILTERS)``."""
