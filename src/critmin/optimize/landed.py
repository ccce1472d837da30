"""Option attributes (origin, dated group membership, risk weight) and landed cost from the duty engine.

Each option is evaluated by the duty engine as a one-unit entry line (quantity 1 in the option's unit, customs
value = unit price) under each scenario, so duties, stacking and price floors are exactly those of
``critmin exposure`` — not re-typed. Quantity-dependent pieces (quotas) are therefore evaluated at the margin
of an empty quota; say so when quotas matter.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from numpy.typing import NDArray

from critmin.optimize.model import Problem
from critmin.refdata import groups
from critmin.refdata.countries import resolve

DEFAULT_RISK = 0.5  # GeoPolRisk convention for a country without a WGI score


def _dates(problem: Problem) -> list[date]:
    return sorted({problem.period_dates.get(p, problem.as_of) for p in problem.periods} | {problem.as_of})


def option_attributes(problem: Problem) -> pl.DataFrame:
    """One row per option: ISO3 origin, supplier, risk weight and, per date used, FEOC/partner/DFARS flags."""
    origins = {o.origin: resolve(o.origin) for o in problem.options}
    frame = pl.DataFrame(
        {
            "option": [o.id for o in problem.options],
            "origin": [origins[o.origin] for o in problem.options],
            "supplier": [o.supplier for o in problem.options],
            "given_risk": [o.risk_weight for o in problem.options],
        },
        schema_overrides={"given_risk": pl.Float64},
    )
    frame = frame.with_columns(
        pl.coalesce(pl.col("given_risk"), _instability(frame["origin"])).alias("risk_weight")
    ).drop("given_risk")
    for day in _dates(problem):
        tagged = frame.with_columns(pl.lit(day).alias("_date"))
        for column, group_ids in (
            ("feoc", ["feoc"]),
            ("dfars_covered", ["dfars_covered"]),
            ("partner", problem.constraints.partner_groups),
        ):
            flags = pl.lit(False)
            for group_id in group_ids:
                tagged = groups.flag(
                    tagged, group_id, country_col="origin", date_col="_date", out=f"_{group_id}"
                )
                flags = flags | pl.col(f"_{group_id}")
            frame = frame.with_columns(tagged.select(flags.alias(f"{column}@{day.isoformat()}")))
    return frame


def _instability(origins: pl.Series) -> pl.Series:
    """WGI political instability on the GeoPolRisk 0..1 scale (latest year with data), 0.5 when missing."""
    from critmin.refdata import load

    wgi = (
        load("wgi_political_stability")
        .drop_nulls("normalized")
        .sort("year")
        .group_by("iso3")
        .agg(pl.col("normalized").last())
    )
    joined = pl.DataFrame({"iso3": origins}).join(wgi, on="iso3", how="left", maintain_order="left")
    return joined["normalized"].fill_null(DEFAULT_RISK)


def landed_costs(problem: Problem, attrs: pl.DataFrame) -> NDArray[np.float64]:
    """(options, scenarios) duty and floor cost per unit: given in the file, else from the duty engine."""
    n_o, n_s = len(problem.options), len(problem.scenarios)
    out = np.full((n_o, n_s), np.nan)
    for s, scenario in enumerate(problem.scenarios):
        given = [o.duty_per_unit.get(scenario.name) if o.duty_per_unit else None for o in problem.options]
        out[:, s] = [np.nan if g is None else g for g in given]
    missing = np.isnan(out)
    if missing.any():
        needed = [s for s in range(n_s) if missing[:, s].any()]
        for s in needed:  # scenarios are few; each is one vectorised engine run over all options
            out[:, s] = np.where(
                missing[:, s], _engine_duty(problem, attrs, problem.scenarios[s].name), out[:, s]
            )
    return out


def _engine_duty(problem: Problem, attrs: pl.DataFrame, scenario: str) -> NDArray[np.float64]:
    from critmin.duty.engine import evaluate
    from critmin.ledger.schema import conform
    from critmin.policy import in_force_set, load_scenario

    measures = in_force_set(problem.as_of) if scenario == "in_force" else load_scenario(scenario)
    lines = pl.DataFrame(
        {
            "line_id": [o.id for o in problem.options],
            "entry_date": [problem.as_of] * len(problem.options),
            "hts": [o.hts.replace(".", "") for o in problem.options],
            "country_origin": attrs["origin"],
            "supplier": [o.supplier for o in problem.options],
            "quantity": [1.0] * len(problem.options),
            "unit": ["kg"] * len(problem.options),
            "quantity_kg": [1.0] * len(problem.options),
            "customs_value_usd": [o.unit_price for o in problem.options],
        }
    )
    result = evaluate(conform(lines), measures, as_of=problem.as_of)
    by_line = dict(zip(result.lines["line_id"].to_list(), result.lines["duty"].to_list(), strict=True))
    return np.array([by_line.get(o.id, 0.0) for o in problem.options], dtype=np.float64)
