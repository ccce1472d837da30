"""Price paths for Monte Carlo: lognormal, optionally mean-reverting in logs, centred on the price deck.

The deterministic path (base price grown at the drift) is read as the *expected* price in each year, as a
price deck usually is, so each year's lognormal draw is corrected by half its log variance: the mean of the
simulated prices equals the deterministic path, and the mean NPV of a project linear in price equals its
deterministic NPV. The first operating year's price is the known base price; uncertainty grows from there.
"""

from __future__ import annotations

import numpy as np

from critmin.invest.cashflow import Array, median_price_path
from critmin.invest.model import PriceModel, Project


def log_return_volatility(prices: Array) -> float:
    """Sample standard deviation of yearly log returns (needs at least three prices)."""
    series = np.asarray(prices, dtype=np.float64)
    if series.size < 3 or np.any(series <= 0):
        raise ValueError("volatility needs at least three positive yearly prices")
    return float(np.std(np.diff(np.log(series)), ddof=1))


def resolve_volatility(price: PriceModel) -> tuple[float, str]:
    if price.volatility is not None:
        return price.volatility, "project file"
    if price.mineral_id is None:
        raise ValueError("price.volatility is null and no price.mineral_id names a shipped price series")
    from critmin.refdata.supply import prices as shipped_prices

    series = shipped_prices(price.mineral_id)
    if series.height < 3:
        raise ValueError(f"the shipped price series for {price.mineral_id!r} has fewer than three years")
    series = series.sort("year")
    values = series["price"].to_numpy()
    first, last = series["year"][0], series["year"][-1]
    return log_return_volatility(values), f"shipped price data for {price.mineral_id}, {first}-{last}"


def price_paths(project: Project, volatility: float, *, draws: int, seed: int) -> Array:
    """(draws, years) market prices whose mean in each year is the deterministic path."""
    rng = np.random.default_rng(seed)
    median = median_price_path(project)  # the price deck
    operating = median > 0
    shocks = rng.standard_normal((draws, project.horizon)) * volatility
    keep = 1.0 - project.price.mean_reversion
    deviation = np.zeros((draws, project.horizon))
    variance = np.zeros(project.horizon)
    running = np.zeros(draws)
    running_var = 0.0
    first = int(np.argmax(operating))
    for t in range(first + 1, project.horizon):  # each year's deviation builds on the previous one
        running = keep * running + shocks[:, t]
        running_var = keep * keep * running_var + volatility * volatility
        deviation[:, t] = running
        variance[t] = running_var
    return np.where(operating, median * np.exp(deviation - variance / 2), 0.0)
