"""The sourcing problem file (YAML, documented in docs/optimize.md), validated by Pydantic.

Landed cost per option and scenario is not typed into this file: it comes from the duty engine, which
evaluates each option as a one-unit entry line under each scenario (see :mod:`critmin.optimize.landed`).
Tests and advanced users may give ``duty_per_unit`` per scenario explicitly instead.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from critmin import yamlfile
from critmin.errors import InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One way to buy a product: a supplier in an origin, at a price, up to a capacity."""

    id: str
    product: str
    supplier: str
    origin: str = Field(description="country of origin (any name or code; resolved to ISO3)")
    hts: str
    unit_price: float = Field(gt=0, description="USD per unit (customs value basis)")
    capacity: float = Field(gt=0, description="units per period")
    min_order: float = Field(0.0, ge=0, description="units per period if the option is used at all")
    qualified: bool = Field(True, description="already qualified; if not, using it costs qualification_cost")
    qualification_cost: float = Field(0.0, ge=0)
    lead_time_days: int = Field(0, ge=0)
    risk_weight: float | None = Field(
        None, ge=0, description="risk per unit for the concentration penalty; null = origin's WGI instability"
    )
    duty_per_unit: dict[str, float] | None = Field(
        None, description="scenario -> duty per unit; null = computed by the duty engine"
    )


class Demand(_Strict):
    product: str
    period: str
    quantity: float = Field(ge=0)
    shortfall_penalty: float | None = Field(
        None, gt=0, description="USD per unit not supplied; null = demand must be met"
    )


class Scenario(_Strict):
    name: str = Field(description="a shipped or user scenario name, or 'in_force'")
    probability: float = Field(gt=0, le=1)


class Constraints(_Strict):
    max_share_country: float | None = Field(None, gt=0, le=1)
    max_share_supplier: float | None = Field(None, gt=0, le=1)
    max_share_feoc: float | None = Field(None, ge=0, le=1, description="cap on foreign entities of concern")
    min_share_partners: float | None = Field(None, ge=0, le=1, description="floor on agreement partners")
    partner_groups: list[str] = Field(
        default_factory=lambda: ["us_fta", "us_cm_frameworks"],
        description="country groups whose members count as agreement partners (as of each period's date)",
    )
    dfars_ban: bool = Field(
        False, description="ban covered countries for DFARS products from the rule's date"
    )
    max_switch_share: float | None = Field(
        None, ge=0, le=1, description="largest share of demand that may move away from the current mix"
    )


class Problem(_Strict):
    name: str
    as_of: date = Field(description="date for country groups (FEOC, partners) and measures in force")
    period_dates: dict[str, date] = Field(default_factory=dict, description="period -> a date inside it")
    options: list[Option] = Field(min_length=1)
    demand: list[Demand] = Field(min_length=1)
    current_mix: dict[str, float] = Field(default_factory=dict, description="option id -> units per period")
    scenarios: list[Scenario] = Field(default_factory=lambda: [Scenario(name="in_force", probability=1.0)])
    constraints: Constraints = Field(default_factory=Constraints)
    risk_measure: Literal["cvar", "concentration"] = "cvar"
    risk_price: float = Field(0.0, ge=0, description="lambda: USD of objective per unit of risk")
    cvar_alpha: float = Field(0.95, gt=0, lt=1)
    dfars_products: list[str] = Field(default_factory=list, description="products covered by DFARS 7052")

    @model_validator(mode="after")
    def _consistent(self) -> Problem:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError("option ids must be unique")
        total = sum(s.probability for s in self.scenarios)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"scenario probabilities add up to {total:.6f}, not 1")
        unknown = set(self.current_mix) - set(ids)
        if unknown:
            raise ValueError(f"current_mix names unknown options: {', '.join(sorted(unknown))}")
        products = {o.product for o in self.options}
        missing = {d.product for d in self.demand} - products
        if missing:
            raise ValueError(f"no option supplies demanded product(s): {', '.join(sorted(missing))}")
        return self

    @property
    def periods(self) -> list[str]:
        return sorted({d.period for d in self.demand})


def load_problem(path: Path) -> Problem:
    """Read and validate a sourcing problem YAML file; every problem names the file and the field."""
    data: Any = yamlfile.read(path, "sourcing problem file").data
    try:
        return Problem.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: field `{'.'.join(str(p) for p in e['loc']) or '(top level)'}`: {e['msg']}"
            for e in exc.errors()
        ]
        raise InputError("Invalid sourcing problem:\n  " + "\n  ".join(lines)) from exc
