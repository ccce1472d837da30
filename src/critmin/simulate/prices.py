"""Price volatility and correlation across minerals, estimated from the shipped yearly prices.

The shipped dataset ``mineral_prices`` (USGS Mineral Commodity Summaries 2026) gives yearly average prices,
2021-2025, for 14 minerals, some in several series (cobalt: LME cash and U.S. spot; graphite: three
grades). For each mineral, the yearly log returns of its series are averaged into one return per year,
and its volatility is their sample standard deviation (four returns, ``ddof=1``).

Four returns are very few. Each estimate is uncertain by about a third of its value, and a correlation
between two minerals has a standard error near 0.5, so the pairwise sample correlations are shrunk towards
their average (the constant-correlation target of Ledoit and Wolf, 2004) with weight ``shrinkage`` on the
sample (0.5 by default), and the result is made positive semi-definite by clipping eigenvalues. Yearly
averages also smooth out movements within a year, so these volatilities understate spot volatility.

A mineral without a series of its own uses the series of the aggregate that contains it (dysprosium ->
``rare_earths``) when there is one; otherwise its volatility is the median of the estimates (or the tree's
``default_volatility``) and its correlation with every other mineral is the average correlation. Values in
the tree's ``uncertainty.prices.volatility`` replace estimates; ``scale`` multiplies all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from critmin.policy.trees import PriceUncertainty
from critmin.refdata import load
from critmin.refdata.minerals import minerals
from critmin.simulate.cells import UNMAPPED

MIN_RETURNS = 3


@dataclass(frozen=True)
class PriceModel:
    minerals: tuple[str, ...]
    volatility: np.ndarray  # annual sd of log price, per mineral (0 = held at the ledger's unit values)
    correlation: np.ndarray  # (minerals x minerals)
    source: tuple[str, ...]  # where each volatility comes from
    average_correlation: float

    def describe(self) -> list[dict[str, object]]:
        return [
            {"mineral_id": m, "volatility": round(float(v), 6), "source": s}
            for m, v, s in zip(self.minerals, self.volatility, self.source, strict=True)
        ]


@cache
def yearly_returns() -> pl.DataFrame:
    """One yearly log return per mineral and year (mean over the mineral's price series)."""
    prices = load("mineral_prices").filter(pl.col("price_usd_per_kg") > 0).sort("mineral_id", "basis", "year")
    returns = prices.with_columns(
        pl.col("price_usd_per_kg").log().diff().over("mineral_id", "basis").alias("r"),
        (pl.col("year").diff().over("mineral_id", "basis") == 1).alias("consecutive"),
    ).filter(pl.col("r").is_not_null() & pl.col("consecutive"))
    return returns.group_by("mineral_id", "year").agg(pl.col("r").mean()).sort("mineral_id", "year")


@cache
def _aggregate_parent() -> dict[str, str]:
    table = minerals().filter(pl.col("is_aggregate")).select("mineral_id", "components")
    return {part: parent for parent, parts in table.rows() for part in parts}


def price_model(minerals: tuple[str, ...], settings: PriceUncertainty) -> PriceModel:
    """Volatility and correlation for ``minerals`` (``unmapped`` gets none)."""
    returns = yearly_returns()
    series = {
        m: dict(zip(g.get_column("year").to_list(), g.get_column("r").to_list(), strict=True))
        for (m,), g in returns.group_by("mineral_id")
    }
    series = {m: s for m, s in series.items() if len(s) >= MIN_RETURNS}
    estimates = {m: float(np.std(list(s.values()), ddof=1)) for m, s in series.items()}
    median = float(np.median(list(estimates.values()))) if estimates else 0.0
    parent = _aggregate_parent()

    proxy: dict[str, str | None] = {}
    vols: list[float] = []
    sources: list[str] = []
    for m in minerals:
        if m == UNMAPPED:
            proxy[m] = None
            vols.append(0.0)
            sources.append("none: lines not mapped to a mineral keep their unit values")
            continue
        used = m if m in series else parent.get(m) if parent.get(m) in series else None
        proxy[m] = used
        if m in settings.volatility:
            vols.append(settings.volatility[m])
            sources.append("tree file (uncertainty.prices.volatility)")
        elif used is not None:
            years = sorted(series[used])
            vols.append(estimates[used])
            via = "" if used == m else f" (series of {used})"
            sources.append(
                f"shipped prices{via}: sd of {len(years)} yearly log returns {years[0]}-{years[-1]}"
            )
        elif settings.default_volatility is not None:
            vols.append(settings.default_volatility)
            sources.append("tree file (uncertainty.prices.default_volatility)")
        else:
            vols.append(median)
            sources.append(f"assumed: median of the {len(estimates)} shipped estimates")
    sample, average = _sample_correlation(series)
    n = len(minerals)
    corr = np.eye(n)
    target = average if settings.correlation == "data" else float(settings.correlation)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = proxy[minerals[i]], proxy[minerals[j]]
            if minerals[i] == UNMAPPED or minerals[j] == UNMAPPED:
                value = 0.0
            elif settings.correlation != "data":
                value = target
            elif a is not None and b is not None:
                raw = 1.0 if a == b else sample.get((a, b), sample.get((b, a), average))
                value = settings.shrinkage * raw + (1 - settings.shrinkage) * average
            else:
                value = average
            corr[i, j] = corr[j, i] = value
    corr = nearest_correlation(corr)
    scale = settings.scale
    return PriceModel(tuple(minerals), np.asarray(vols) * scale, corr, tuple(sources), target)


def _sample_correlation(series: dict[str, dict[int, float]]) -> tuple[dict[tuple[str, str], float], float]:
    names = sorted(series)
    out: dict[tuple[str, str], float] = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            years = sorted(set(series[a]) & set(series[b]))
            if len(years) < MIN_RETURNS:
                continue
            x = np.array([series[a][y] for y in years])
            y = np.array([series[b][y] for y in years])
            if x.std() == 0 or y.std() == 0:
                continue
            out[(a, b)] = float(np.corrcoef(x, y)[0, 1])
    average = float(np.mean(list(out.values()))) if out else 0.0
    return out, average


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """A positive definite correlation matrix near ``matrix``: eigenvalues clipped, diagonal reset to 1."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    fixed = vectors @ np.diag(np.maximum(values, floor)) @ vectors.T
    d = np.sqrt(np.diag(fixed))
    out = fixed / np.outer(d, d)
    np.fill_diagonal(out, 1.0)
    return out
