"""What a simulation reports, and its JSON form.

Cost is the *policy cost* of the simulated year: duties owed to customs (refund-eligible amounts of
invalidated measures excluded) plus price-undertaking payments to exporters - what the policy adds to the
price of the goods. Landed cost adds the goods' customs value (which moves with prices and volumes).

Risk measures are defined on the cost itself, not on a loss relative to the mean:
``var95`` is the 95th percentile of the simulated annual cost (one year in twenty costs more), ``cvar95``
the mean of the costliest 5% of draws (the ``ceil(0.05 n)`` largest), and likewise at 99%. Percentiles use
linear interpolation between draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from critmin.refdata import read_manifest
from critmin.simulate import sensitivity
from critmin.simulate.draws import Draws
from critmin.simulate.montecarlo import Built, Model, Outcome
from critmin.simulate.structure import PROBE_PREFIX

DEFINITIONS = {
    "cost": "policy cost of the simulated year: duties to customs (refund-eligible amounts excluded) plus "
    "price-undertaking payments to exporters, USD",
    "var95": "95th percentile of the simulated annual cost (a cost level, not a loss relative to the mean)",
    "cvar95": "mean of the costliest 5% of draws",
    "var99": "99th percentile of the simulated annual cost",
    "cvar99": "mean of the costliest 1% of draws",
    "mc_error": "standard error of the mean (sd / sqrt(draws))",
}


def _tail_mean(x: np.ndarray, level: float) -> float:
    k = max(1, math.ceil(round((1 - level) * x.size, 9)))  # round: 0.05 x 100 is 5.000000000000004
    return float(np.mean(np.partition(x, x.size - k)[x.size - k :]))


def statistics(x: np.ndarray) -> dict[str, float]:
    if x.size == 0:
        return {}
    q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    return {
        "mean": float(x.mean()),
        "sd": float(x.std(ddof=1)) if x.size > 1 else 0.0,
        "p5": float(q[0]),
        "p25": float(q[1]),
        "p50": float(q[2]),
        "p75": float(q[3]),
        "p95": float(q[4]),
        "var95": float(q[4]),
        "cvar95": _tail_mean(x, 0.95),
        "var99": float(q[5]),
        "cvar99": _tail_mean(x, 0.99),
        "mc_error": float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else 0.0,
    }


@dataclass
class SimulationResult:
    """The numbers of one simulation; :meth:`payload` is the JSON of ``critmin simulate --format json``."""

    summary: dict[str, float]
    by_branch: list[dict[str, Any]]
    by_mineral: dict[str, dict[str, float]]
    by_origin: dict[str, float]
    by_supplier: dict[str, float]
    by_hts: dict[str, float]
    by_measure: dict[str, float]
    monthly: list[dict[str, Any]]
    landed: dict[str, float]
    tornado: dict[str, list[dict[str, Any]]]
    switching: list[dict[str, Any]]
    settings: dict[str, Any]
    prices: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    cost: np.ndarray = field(default_factory=lambda: np.empty(0))
    path: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def payload(self) -> dict[str, Any]:
        head = {
            k: self.summary[k] for k in ("mean", "p5", "p50", "p95", "var95", "cvar95", "var99", "cvar99")
        }
        return {
            **head,
            "sd": self.summary["sd"],
            "mc_error": self.summary["mc_error"],
            "by_branch": self.by_branch,
            "by_mineral": self.by_mineral,
            "tornado": self.tornado,
            "monthly": self.monthly,
            "by_origin": self.by_origin,
            "by_supplier": self.by_supplier,
            "by_hts": self.by_hts,
            "by_measure": self.by_measure,
            "landed_cost": self.landed,
            "switching": self.switching,
            "prices": self.prices,
            "settings": self.settings,
            "provenance": self.provenance,
            "definitions": DEFINITIONS,
            "notes": self.notes,
        }


def summarise(built: Built, draws: Draws, *, seed: int, sensitivity_on: bool = True) -> SimulationResult:
    base = built.base.run(draws)
    cost = base.cost
    n = draws.n
    summary = statistics(cost)
    central = sensitivity.central_by_path(built)
    by_branch = []
    for path in built.plan.paths:
        mask = draws.path == path.index
        stats = statistics(cost[mask])
        by_branch.append(
            {
                "branch": path.name,
                "leaf": path.leaf,
                "probability": path.probability,
                "draws": int(mask.sum()),
                "central": central[path.index],
                "mean": stats.get("mean"),
                "p5": stats.get("p5"),
                "p50": stats.get("p50"),
                "p95": stats.get("p95"),
                "segments": [
                    {
                        "scenario": s.scenario or "in_force",
                        "from": s.start.isoformat(),
                        "until": s.end.isoformat() if s.end else None,
                    }
                    for s in path.segments
                ],
            }
        )
    minerals = built.base.cells.minerals
    by_mineral: dict[str, dict[str, float]] = {}
    for i, mineral in enumerate(minerals):
        column = base.acc.mineral[:, i]
        if not column.any():
            continue
        q = np.quantile(column, [0.05, 0.95])
        by_mineral[mineral] = {
            "mean": float(column.mean()),
            "p5": float(q[0]),
            "p95": float(q[1]),
            "share": float(column.mean() / summary["mean"]) if summary["mean"] else 0.0,
        }
    by_mineral = dict(sorted(by_mineral.items(), key=lambda kv: -kv[1]["mean"]))
    cells = _cell_means(built.base, base, n)
    horizon = built.plan.horizon
    monthly = []
    for t, label in enumerate(horizon.labels):
        column = base.acc.monthly[:, t]
        q = np.quantile(column, [0.05, 0.25, 0.5, 0.75, 0.95])
        monthly.append(
            {
                "month": label,
                "mean": float(column.mean()),
                "p5": float(q[0]),
                "p25": float(q[1]),
                "p50": float(q[2]),
                "p75": float(q[3]),
                "p95": float(q[4]),
            }
        )
    landed = statistics(base.goods + cost)
    landed_out = {k: landed[k] for k in ("mean", "p5", "p50", "p95", "var95", "cvar95")}
    landed_out["goods_value_mean"] = float(base.goods.mean())
    landed_out["unavailable_value_mean"] = float(base.acc.unavailable.mean())
    tornado: dict[str, list[dict[str, Any]]] = {"one_at_a_time": [], "rank_correlation": []}
    if sensitivity_on:
        tornado = {
            "one_at_a_time": sensitivity.one_at_a_time(built),
            "rank_correlation": sensitivity.rank_correlation(built, draws, cost),
        }
    switching = [_switch(built, switch, model, draws, base) for switch, model in built.switches.items()]
    missing = sum(rows.missing for rows in built.rows.values())
    notes = list(built.notes)
    if missing:
        notes.append(
            f"{missing} duty component(s) could not be computed for missing inputs (see `critmin exposure`); "
            "they count as zero."
        )
    by_measure = {
        k: v / n
        for k, v in sorted(base.acc.measure_sum.items(), key=lambda kv: -kv[1])
        if not k.startswith(PROBE_PREFIX)
    }
    return SimulationResult(
        summary=summary,
        by_branch=by_branch,
        by_mineral=by_mineral,
        by_origin=_group(cells, "country_origin"),
        by_supplier=_group(cells, "supplier"),
        by_hts=_group(cells, "hts"),
        by_measure=by_measure,
        monthly=monthly,
        landed=landed_out,
        tornado=tornado,
        switching=switching,
        settings={
            "tree": built.tree.id,
            "tree_note": built.tree.note,
            "draws": n,
            "seed": seed,
            "horizon": {
                "start": horizon.start.isoformat(),
                "end": horizon.end.isoformat(),
                "months": list(horizon.labels),
            },
            "lines": int(built.base.mask.sum()),
            "cells": built.base.cells.size,
            "engine_runs": len(built.plan.variants) + 1,
            "uncertainty": built.uncertainty.model_dump(mode="json"),
        },
        prices={
            "volatility": built.prices.describe(),
            "average_correlation": built.prices.average_correlation,
            "correlation": {
                "minerals": list(built.prices.minerals),
                "matrix": [[round(float(x), 4) for x in row] for row in built.prices.correlation],
            },
        },
        notes=notes,
        provenance=_provenance(built),
        cost=cost,
        path=draws.path,
    )


def _cell_means(model: Model, outcome: Outcome, n: int) -> pl.DataFrame:
    table = model.cells.table
    return table.with_columns(
        pl.Series("expected", outcome.acc.cell_sum[table.get_column("cell").to_numpy()] / n)
    )


def _group(cells: pl.DataFrame, column: str) -> dict[str, float]:
    grouped = (
        cells.group_by(pl.col(column).fill_null("unknown"))
        .agg(pl.col("expected").sum())
        .sort(["expected", column], descending=[True, False])
    )
    return {str(k): float(v) for k, v in grouped.iter_rows()}


def _switch(built: Built, switch: Any, model: Model, draws: Draws, base: Outcome) -> dict[str, Any]:
    switched = model.run(draws)
    saving = base.cost - switched.cost
    landed = (base.goods + base.cost) - (switched.goods + switched.cost)
    q = np.quantile(saving, [0.05, 0.95])
    lines = int((built.base.placed.frame.get_column("supplier") == switch.source).fill_null(False).sum())
    return {
        "from": switch.source,
        "to": switch.target,
        "lines": lines,
        "expected_saving": float(saving.mean()),
        "saving_p5": float(q[0]),
        "saving_p95": float(q[1]),
        "probability_saving": float((saving > 0).mean()),
        "expected_landed_saving": float(landed.mean()),
        "cost_after": float(switched.cost.mean()),
        "mc_error": float(saving.std(ddof=1) / math.sqrt(saving.size)) if saving.size > 1 else 0.0,
    }


def _provenance(built: Built) -> dict[str, Any]:
    """Which scenario, parameter values and measures (with citations) each engine run used, and the
    reference datasets behind them."""
    variants = []
    datasets: dict[str, dict[str, str]] = {}
    for _, rows in sorted(built.rows.items()):
        variant = rows.variant
        by_id = variant.measure_set.by_id()
        variants.append(
            {
                "node": variant.node_id,
                "scenario": variant.scenario or "in_force",
                "parameters": {
                    k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in variant.overrides.items()
                },
                "drawn": sorted({d for m in variant.drivers.values() for d in _driver_names(m)}),
                "measures_applied": [
                    {"id": m, "citation": by_id[m].citation_text} for m in rows.applied if m in by_id
                ],
            }
        )
        datasets.update(rows.datasets)

    prices = {
        r.id: {"vintage": r.vintage, "sha256": r.sha256, "source": r.source}
        for r in read_manifest()
        if r.id == "mineral_prices"
    }
    return {"variants": variants, "datasets": dict(sorted((datasets | prices).items()))}


def _driver_names(drivers: Any) -> list[str]:
    names = [
        drivers.av,
        drivers.sp,
        drivers.q_in_av,
        drivers.q_in_sp,
        drivers.q_over_av,
        drivers.q_over_sp,
        drivers.q_volume,
        *drivers.floor.values(),
        *drivers.q_alloc.values(),
    ]
    return [n for n in names if n]
