"""Small sourcing problems written inline: options at a given landed cost, one product unless told."""

from __future__ import annotations

from typing import Any

from critmin.optimize.model import Problem


def option(
    id_: str, origin: str, price: float, capacity: float, duty: float = 0.0, **kw: Any
) -> dict[str, Any]:
    return {
        "id": id_,
        "product": kw.pop("product", "ndfeb"),
        "supplier": kw.pop("supplier", id_),
        "origin": origin,
        "hts": "8505110070",
        "unit_price": price,
        "capacity": capacity,
        "duty_per_unit": {"in_force": duty, **kw.pop("duties", {})},
        **kw,
    }


def problem(options: list[dict[str, Any]], demand: float = 100.0, **kw: Any) -> Problem:
    return Problem.model_validate(
        {
            "name": "t",
            "as_of": "2026-06-01",
            "options": options,
            "demand": [{"product": "ndfeb", "period": "2026", "quantity": demand}],
            **kw,
        }
    )


def periods(options: list[dict[str, Any]], demand: dict[str, float], **kw: Any) -> Problem:
    """One product ("ndfeb") with the given demand per period."""
    rows = [{"product": "ndfeb", "period": p, "quantity": q} for p, q in demand.items()]
    return Problem.model_validate(
        {"name": "t", "as_of": "2026-06-01", "options": options, "demand": rows, **kw}
    )
