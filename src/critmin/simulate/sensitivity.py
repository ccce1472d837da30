"""What drives the cost: one-at-a-time swings (tornado) and rank correlation with the simulated cost.

One at a time: every uncertain input is held at its central value - drawn parameters at their mean,
prices and volumes at the ledger's level (multiplier 1) - and the *expected* annual cost is computed exactly
over the branches (each path and choice weighted by its probability). Then one input at a time is moved to
its 5th and 95th percentile (a parameter's own distribution; a price to the 5th/95th percentile of its
lognormal in every month; a volume likewise) and the expected cost recomputed. A choice parameter swings
between its cheapest and costliest value, and the branch itself between the cheapest and costliest path.
Bars are ordered by the width of the swing. Correlations between prices are ignored here (that is what
"one at a time" means); the rank correlations below include them.

Rank correlation: Spearman's correlation, over the Monte Carlo draws, between each input's draws and the
simulated annual cost. For the branch (and for choice parameters) the draw's value is the expected cost of
its path (or of its choice), which orders branches from cheap to costly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from critmin.policy.trees import quantile_of
from critmin.simulate.cells import UNMAPPED
from critmin.simulate.draws import Draws
from critmin.simulate.montecarlo import Built, Model

LOW, HIGH = 0.05, 0.95
Z95 = 1.6448536269514722


@dataclass
class Setting:
    """Inputs for an exact expected-cost evaluation (anything not set is at its central value)."""

    params: dict[str, float] = field(default_factory=dict)
    price: np.ndarray | None = None  # (G, T)
    volume: np.ndarray | None = None  # (G,)
    choice: tuple[str, int] | None = None
    path: int | None = None


def expected_costs(built: Built, model: Model, settings: list[Setting]) -> np.ndarray:
    """Exact expected annual cost under each setting: one synthetic draw per (path, choice combination),
    weighted by its probability."""
    plan = built.plan
    g, t = len(model.cells.minerals), plan.horizon.size
    central = {name: p.reference for name, p in plan.params.items()}
    rows: list[tuple[int, int, float, Setting]] = []  # (setting, path, weight, setting)
    choice_rows: list[dict[str, int]] = []
    for s_index, setting in enumerate(settings):
        for p_index, combo in plan.keys:
            path = plan.paths[p_index]
            if setting.path is not None and setting.path != p_index:
                continue
            chosen: dict[str, int] = {}
            weight = path.probability if setting.path is None else 1.0
            for segment, variant in zip(path.segments, combo, strict=True):
                rest = variant
                for choice in reversed(segment.choices):
                    size = len(choice.dist.values)
                    chosen[choice.name] = rest % size
                    rest //= size
            skip = False
            for name, index in chosen.items():
                if setting.choice is not None and setting.choice[0] == name:
                    skip = skip or index != setting.choice[1]
                else:
                    weight *= float(plan.choices[name].weights[index] / plan.choices[name].weights.sum())
            if skip:
                continue
            rows.append((s_index, p_index, weight, setting))
            choice_rows.append(chosen)
    n = len(rows)
    draws = Draws(
        n,
        np.array([r[1] for r in rows], dtype=np.int64),
        {name: np.array([r[3].params.get(name, central[name]) for r in rows]) for name in plan.params},
        {name: np.array([c.get(name, 0) for c in choice_rows], dtype=np.int64) for name in plan.choices},
        np.stack([r[3].price if r[3].price is not None else np.ones((g, t)) for r in rows])
        if n
        else np.ones((0, g, t)),
        np.stack([r[3].volume if r[3].volume is not None else np.ones(g) for r in rows])
        if n
        else np.ones((0, g)),
    )
    cost = model.run(draws).cost
    out = np.zeros(len(settings))
    mass = np.zeros(len(settings))
    for (s_index, _, weight, _), c in zip(rows, cost, strict=True):
        out[s_index] += weight * c
        mass[s_index] += weight
    return np.divide(out, mass, out=np.full(len(settings), math.nan), where=mass > 0)


def central_by_path(built: Built) -> list[float]:
    """Each path's expected cost with every input at its central value (choices weighted)."""
    settings = [Setting(path=p.index) for p in built.plan.paths]
    return [float(x) for x in expected_costs(built, built.base, settings)]


def one_at_a_time(built: Built) -> list[dict[str, Any]]:
    plan = built.plan
    model = built.base
    minerals = model.cells.minerals
    g, t = len(minerals), plan.horizon.size
    settings: list[Setting] = [Setting()]
    bars: list[tuple[str, str, list[tuple[str, int]]]] = []  # input, kind, (label, setting index)

    def add(setting: Setting) -> int:
        settings.append(setting)
        return len(settings) - 1

    for name, param in sorted(plan.params.items()):
        lo, hi = quantile_of(param.dist, LOW), quantile_of(param.dist, HIGH)
        bars.append(
            (
                name,
                "parameter",
                [(_fmt(lo), add(Setting(params={name: lo}))), (_fmt(hi), add(Setting(params={name: hi})))],
            )
        )
    for name, choice in sorted(plan.choices.items()):
        bars.append(
            (
                name,
                "choice",
                [(repr(v), add(Setting(choice=(name, i)))) for i, v in enumerate(choice.dist.values)],
            )
        )
    tau = np.arange(1, t + 1) / 12.0
    for i, mineral in enumerate(minerals):
        sigma = float(built.prices.volatility[i])
        if sigma > 0:
            ends = []
            for z in (-Z95, Z95):
                price = np.ones((g, t))
                price[i] = np.exp(sigma * np.sqrt(tau) * z - sigma**2 * tau / 2)
                ends.append((f"x{price[i, -1]:.3g} by {plan.horizon.labels[-1]}", add(Setting(price=price))))
            bars.append((f"price:{mineral}", "price", ends))
    sd = built.uncertainty.volumes.sd
    if sd > 0:
        for i, mineral in enumerate(minerals):
            ends = []
            for z in (-Z95, Z95):
                volume = np.ones(g)
                volume[i] = math.exp(sd * z - sd**2 / 2)
                ends.append((f"x{volume[i]:.3g}", add(Setting(volume=volume))))
            bars.append((f"volume:{mineral}", "volume", ends))
    if len(plan.paths) > 1:
        bars.append(("branch", "branch", [(p.name, add(Setting(path=p.index))) for p in plan.paths]))
    costs = expected_costs(built, model, settings)
    base = float(costs[0])
    out: list[dict[str, Any]] = []
    for name, kind, ends in bars:
        values = [(label, float(costs[k])) for label, k in ends]
        if kind in {"choice", "branch"}:
            values.sort(key=lambda item: item[1])
            low, high = values[0], values[-1]
        else:
            low, high = values
        out.append(
            {
                "input": name,
                "kind": kind,
                "low": low[0],
                "high": high[0],
                "cost_low": low[1],
                "cost_high": high[1],
                "swing": abs(high[1] - low[1]),
                "base": base,
            }
        )
    out.sort(key=lambda bar: (-bar["swing"], bar["input"]))
    return [bar for bar in out if not bar["input"].endswith(f":{UNMAPPED}") or bar["swing"] > 0]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    n = values.size
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ordered)) + 1))
    ends = np.concatenate((starts[1:], [n]))
    out = np.empty(n)
    out[order] = np.repeat((starts + ends - 1) / 2 + 1, ends - starts)
    return out


def spearman(x: np.ndarray, y_ranks: np.ndarray) -> float | None:
    rx = ranks(x)
    if rx.std() == 0 or y_ranks.std() == 0:
        return None
    return float(np.corrcoef(rx, y_ranks)[0, 1])


def rank_correlation(built: Built, draws: Draws, cost: np.ndarray) -> list[dict[str, Any]]:
    """Spearman's correlation of each input with the simulated cost, strongest first."""
    y = ranks(cost)
    inputs: list[tuple[str, str, np.ndarray]] = []
    for name in sorted(draws.params):
        inputs.append((name, "parameter", draws.params[name]))
    for name in sorted(draws.choices):
        inputs.append((name, "choice", _conditional_mean(draws.choices[name], cost)))
    minerals = built.base.cells.minerals
    for i, mineral in enumerate(minerals):
        if built.prices.volatility[i] > 0:
            inputs.append((f"price:{mineral}", "price", draws.price[:, i, :].mean(axis=1)))
    for i, mineral in enumerate(minerals):
        if built.uncertainty.volumes.sd > 0:
            inputs.append((f"volume:{mineral}", "volume", draws.volume[:, i]))
    if len(built.plan.paths) > 1:
        inputs.append(("branch", "branch", _conditional_mean(draws.path, cost)))
    out: list[dict[str, Any]] = []
    for name, kind, x in inputs:
        rho = spearman(x, y)
        if rho is not None:
            out.append({"input": name, "kind": kind, "spearman": rho})
    out.sort(key=lambda item: (-abs(item["spearman"]), item["input"]))
    return out


def _conditional_mean(index: np.ndarray, cost: np.ndarray) -> np.ndarray:
    size = int(index.max()) + 1 if index.size else 0
    sums = np.bincount(index, weights=cost, minlength=size)
    counts = np.bincount(index, minlength=size)
    means = np.divide(sums, counts, out=np.zeros(size), where=counts > 0)
    return means[index]
