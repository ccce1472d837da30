"""The project file: a documented YAML format validated by Pydantic (see docs/invest.md).

Years are indexed from 0 = the first year of construction; cash flows fall at the end of each year.
Money is nominal USD; quantities are in the project's product ``unit`` (usually kg).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from critmin import yamlfile
from critmin.errors import InputError
from critmin.invest.series import check_series, one_series_of_mineral, price_series_catalogue, series_ids


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceModel(_Strict):
    """Market price of the product at the plant gate, before any tariff pass-through."""

    base: float = Field(gt=0, description="price in the first operating year, USD per unit")
    drift: float = Field(0.0, description="annual log growth of the median price")
    volatility: float | None = Field(
        None, ge=0, description="annual log volatility; null = estimated from shipped price data"
    )
    mean_reversion: float = Field(
        0.0, ge=0, le=1, description="share of a log deviation that decays each year (0 = random walk)"
    )
    series: str | None = Field(
        None,
        description="shipped price series (mineral and product form, e.g. rare_earths_ndpr_oxide) whose "
        "yearly log returns give the volatility when it is null",
    )
    mineral_id: str | None = Field(
        None, description="a mineral with exactly one shipped price series; `series` is the precise key"
    )
    source: str

    @field_validator("series")
    @classmethod
    def _shipped_series(cls, value: str | None) -> str | None:
        """A typo in a series id is caught when the file is read, with the ids to choose from."""
        return None if value is None else check_series(value)

    @field_validator("mineral_id")
    @classmethod
    def _mineral_names_one_series(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A mineral id stands for a series only when the mineral has one, or agrees with `series`."""
        if value is None:
            return None
        series = info.data.get("series")
        if series is not None:
            owner = price_series_catalogue().filter(pl.col("series_id") == series)["mineral_id"][0]
            if owner != value:
                raise ValueError(f"series {series!r} prices {owner!r}, not {value!r}")
        elif info.data.get("volatility") is None:
            one_series_of_mineral(value)
        return value

    @model_validator(mode="after")
    def _volatility_has_a_source(self) -> PriceModel:
        if self.volatility is None and self.series is None and self.mineral_id is None:
            raise ValueError(
                "`volatility` is null, so name the shipped price series to estimate it from in `series` "
                f"({', '.join(series_ids())}) or give `volatility`"
            )
        return self

    @property
    def series_id(self) -> str | None:
        """The series the volatility is estimated from (None when the file gives the volatility)."""
        if self.volatility is not None:
            return None
        if self.series is not None:
            return self.series
        assert self.mineral_id is not None  # enforced above
        return one_series_of_mineral(self.mineral_id)


class PriceFloor(_Strict):
    """A guaranteed minimum price: the payer tops up ``max(0, level - market price)`` per unit covered."""

    level: float = Field(gt=0, description="USD per unit")
    start_year: int = Field(ge=1, description="first operating year covered (1 = first year of output)")
    years: int = Field(ge=1)
    volume_share: float = Field(1.0, ge=0, le=1, description="share of output the floor covers")
    payer: str = "government"
    source: str


class TariffProtection(_Strict):
    """A tariff on competing imports lifting the domestic price by ``rate x pass_through``."""

    rate: float = Field(ge=0, description="ad valorem rate on competing imports, e.g. 0.25")
    pass_through: float = Field(ge=0, le=1, description="share of the tariff passed into the domestic price")
    start_year: int = Field(1, ge=1)
    source: str


class Offtake(_Strict):
    """A contract for part of the output: at a fixed price, or indexed to the domestic price."""

    name: str
    volume_share: float = Field(gt=0, le=1)
    pricing: Literal["fixed", "indexed"]
    price: float | None = Field(None, gt=0, description="USD per unit, for fixed pricing")
    discount: float = Field(0.0, ge=0, lt=1, description="discount to the index, for indexed pricing")
    start_year: int = Field(1, ge=1)
    years: int = Field(ge=1)

    @model_validator(mode="after")
    def _fixed_needs_price(self) -> Offtake:
        if self.pricing == "fixed" and self.price is None:
            raise ValueError("a fixed-price offtake needs `price` (USD per unit)")
        return self


class CapexItem(_Strict):
    year: int = Field(ge=0)
    amount: float = Field(ge=0)


class ProductionCredit(_Strict):
    """A per-unit production tax credit paid in cash (e.g. a 45X-style credit), as the user enters it."""

    name: str
    per_unit: float = Field(ge=0)
    start_year: int = Field(1, ge=1)
    years: int = Field(ge=1)
    source: str


class Project(_Strict):
    name: str
    product: str
    stage: Literal["oxide_salt_compound", "metal_powder_alloy", "semi_finished", "derivative"]
    unit: str = "kg"
    label: str = Field(description="where the inputs come from, or 'illustrative'")
    capacity_per_year: float = Field(gt=0)
    ramp_up: list[float] = Field(min_length=1, description="utilisation by operating year; last one persists")
    operations_start: int = Field(ge=0, description="year index of the first operating year")
    operating_years: int = Field(ge=1)
    capex: list[CapexItem] = Field(min_length=1)
    opex_fixed_per_year: float = Field(ge=0)
    opex_variable_per_unit: float = Field(ge=0)
    feedstock_cost_per_unit: float = Field(ge=0)
    working_capital_share: float = Field(
        0.0, ge=0, le=1, description="of sales (revenue + floor payments); recovered in the last year"
    )
    tax_rate: float = Field(ge=0, lt=1)
    depreciation_years: int = Field(
        ge=1,
        description="straight-line years of each capex tranche, from the later of the year it is spent and "
        "operations_start (placed in service)",
    )
    discount_rate: float = Field(gt=-1)
    salvage_value: float = Field(0.0, ge=0)
    price: PriceModel
    floor: PriceFloor | None = None
    tariff: TariffProtection | None = None
    offtakes: list[Offtake] = Field(default_factory=list)
    credits: list[ProductionCredit] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict)
    scenario_effects: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="scenario id -> {project field -> scenario parameter}: how a policy branch reaches it",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Project:
        if any(not 0 <= u <= 1 for u in self.ramp_up):
            raise ValueError("ramp_up values are utilisation shares between 0 and 1")
        if sum(o.volume_share for o in self.offtakes) > 1 + 1e-9:
            raise ValueError("offtake volume shares add up to more than 1")
        return self

    @property
    def horizon(self) -> int:
        """Number of yearly cash-flow periods, construction included."""
        return self.operations_start + self.operating_years


def _with_override(data: dict[str, Any], dotted: str, value: Any) -> None:
    node: Any = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            if node.get(part) is None:
                raise InputError(
                    f"--set {dotted}: {part!r} is not set in the project, so it cannot be changed"
                )
            node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def project_from_dict(data: dict[str, Any], origin: str, overrides: dict[str, Any] | None = None) -> Project:
    data = copy.deepcopy(data)
    for key, value in (overrides or {}).items():
        _with_override(data, key, value)
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "(top level)"
            lines.append(f"{origin}: field `{where}`: {error['msg']}")
        raise InputError("Invalid project file:\n  " + "\n  ".join(lines)) from exc


def load_project(path: Path, overrides: dict[str, Any] | None = None) -> Project:
    """Read and validate a project YAML file, with ``--set``-style dotted overrides applied first.

    Every problem is reported as an InputError naming the file and the field, so a user can fix the file
    without reading a traceback.
    """
    data = yamlfile.read(path, "project file").data
    if not isinstance(data, dict):
        raise InputError(f"{path}: a project file is a YAML mapping of fields (see docs/invest.md).")
    return project_from_dict(data, str(path), overrides)
