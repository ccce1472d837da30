"""Random draws: branch, parameters, prices and volumes, all from one seed.

One :class:`numpy.random.SeedSequence` is split into independent streams for the branch choice, the
parameters, the prices and the volumes, so the same seed gives the same numbers, and changing, say, the
price model does not change which branch each draw follows.

Prices are multipliers on the ledger's unit values, per mineral and horizon month: a driftless lognormal
walk with monthly steps ``sigma / sqrt(12) x eps`` (eps correlated across minerals through the Cholesky factor
of the correlation matrix), corrected by half the variance so each month's multiplier has mean 1: the
ledger's prices are read as the expected level. Volumes are multipliers per mineral (constant over the
year), lognormal with mean 1, sharing ``common_share`` of their log variance across minerals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from critmin.policy.trees import VolumeUncertainty, sample
from critmin.simulate.plan import TreePlan
from critmin.simulate.prices import PriceModel

CHUNK = 8192  # draws generated per block (fixed, so results do not depend on memory settings)


@dataclass
class Draws:
    """``n`` draws: path index, drawn parameters, choice indices, price (n, G, T) and volume (n, G)."""

    n: int
    path: np.ndarray
    params: dict[str, np.ndarray]
    choices: dict[str, np.ndarray]
    price: np.ndarray
    volume: np.ndarray
    weight: np.ndarray = field(default_factory=lambda: np.empty(0))  # for hand-built draws (sensitivity)

    def take(self, rows: np.ndarray) -> Draws:
        return Draws(
            int(rows.size),
            self.path[rows],
            {k: v[rows] for k, v in self.params.items()},
            {k: v[rows] for k, v in self.choices.items()},
            self.price[rows],
            self.volume[rows],
            self.weight[rows] if self.weight.size else self.weight,
        )


def structure_keys(plan: TreePlan, draws: Draws) -> np.ndarray:
    """The structure (path and variant of each segment) each draw evaluates."""
    keys = np.full(draws.n, -1, dtype=np.int64)
    offset = 0
    for path in plan.paths:
        sizes = [len(s.variants) for s in path.segments]
        mask = draws.path == path.index
        combo = np.zeros(int(mask.sum()), dtype=np.int64)
        for segment, size in zip(path.segments, sizes, strict=True):
            within = np.zeros_like(combo)
            for choice in segment.choices:
                within = within * len(choice.dist.values) + draws.choices[choice.name][mask]
            combo = combo * size + within
        keys[mask] = offset + combo
        offset += int(np.prod(sizes)) if sizes else 1
    return keys


def sample_draws(plan: TreePlan, prices: PriceModel, volumes: VolumeUncertainty, n: int, seed: int) -> Draws:
    if n < 1:
        raise ValueError("the number of draws must be at least 1")
    branch_seq, param_seq, price_seq, volume_seq = np.random.SeedSequence(seed).spawn(4)
    probabilities = np.array([p.probability for p in plan.paths])
    probabilities = probabilities / probabilities.sum()
    path = np.random.default_rng(branch_seq).choice(len(plan.paths), size=n, p=probabilities)
    param_rng = np.random.default_rng(param_seq)
    params = {
        name: np.asarray(sample(plan.params[name].dist, param_rng, n), dtype=np.float64)
        for name in sorted(plan.params)
    }
    choices = {
        name: param_rng.choice(len(c.dist.values), size=n, p=c.weights / c.weights.sum())
        for name, c in sorted(plan.choices.items())
    }
    months = plan.horizon.size
    price = price_paths(prices, months, n, np.random.default_rng(price_seq))
    volume = volume_levels(volumes, len(prices.minerals), n, np.random.default_rng(volume_seq))
    return Draws(n, path.astype(np.int64), params, choices, price, volume)


def price_paths(prices: PriceModel, months: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, minerals, months) price multipliers with mean 1 in every month."""
    g = len(prices.minerals)
    out = np.ones((n, g, months))
    moving = np.flatnonzero(prices.volatility > 0)
    if moving.size == 0:
        return out
    sigma = prices.volatility[moving]
    chol = np.linalg.cholesky(prices.correlation[np.ix_(moving, moving)])
    step = sigma / np.sqrt(12.0)
    drift = -0.5 * (sigma**2)[:, None] * (np.arange(1, months + 1) / 12.0)[None, :]
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        shocks = rng.standard_normal((hi - lo, months, moving.size)) @ chol.T  # correlated across minerals
        walk = np.cumsum(shocks * step, axis=1).transpose(0, 2, 1)  # (draws, minerals, months)
        out[lo:hi, moving, :] = np.exp(walk + drift)
    return out


def volume_levels(volumes: VolumeUncertainty, g: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, minerals) volume multipliers with mean 1."""
    if volumes.sd == 0:
        return np.ones((n, g))
    common = rng.standard_normal((n, 1))
    own = rng.standard_normal((n, g))
    z = np.sqrt(volumes.common_share) * common + np.sqrt(1 - volumes.common_share) * own
    return np.exp(volumes.sd * z - volumes.sd**2 / 2)
