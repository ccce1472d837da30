"""Price risk of a project: its volatility, from one price series, and lognormal price paths.

The volatility is the sample standard deviation of the yearly log returns of ONE shipped series (the
project's ``price.series``: a mineral and a product form). Price data mixing series are refused, and so is a
series whose level is an order of magnitude from the project's own price: either way the log returns would
measure the gap between two products, not the risk of this one.

Paths are lognormal, optionally mean-reverting in logs, centred on the price deck.

The deterministic path (base price grown at the drift) is read as the *expected* price in each year, as a
price deck usually is, so each year's lognormal draw is corrected by half its log variance: the mean of the
simulated prices equals the deterministic path, and the mean NPV of a project linear in price equals its
deterministic NPV. The first operating year's price is the known base price; uncertainty grows from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from critmin.errors import InputError
from critmin.invest.cashflow import Array, median_price_path
from critmin.invest.model import Project
from critmin.invest.series import ORDER_OF_MAGNITUDE, describe_series, level_ratio, series_summary

KG_PER_UNIT: dict[str, float] = {"kg": 1.0, "t": 1000.0, "lb": 0.45359237}
"""Project units whose base price can be compared with a series in USD/kg."""


class PriceSeriesError(InputError):
    """A volatility was asked of price data that are not one series of the project's product.

    ``series`` holds the series ids involved and ``reason`` the sentence saying why it was refused.
    """

    def __init__(self, series: tuple[str, ...], reason: str) -> None:
        self.series = series
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class VolatilityEstimate:
    """An annual log volatility and where it comes from: the series, its years and its log returns."""

    volatility: float
    source: str
    series_id: str | None = None
    years: tuple[int, ...] = ()
    log_returns: tuple[float, ...] = ()


def log_return_volatility(prices: Array) -> float:
    """Sample standard deviation (ddof = 1) of yearly log returns ln(P_t / P_t-1); needs three prices."""
    series = np.asarray(prices, dtype=np.float64)
    if series.size < 3 or np.any(series <= 0):
        raise ValueError("volatility needs at least three positive yearly prices")
    return float(np.std(np.diff(np.log(series)), ddof=1))


def _refuse_mixed(history: pl.DataFrame) -> None:
    """Refuse price data holding more than one series, saying why (levels an order of magnitude apart)."""
    summary = series_summary(history)
    if summary.height <= 1:
        return
    ids = tuple(summary["series_id"].to_list())
    ratio = level_ratio(summary)
    if ratio >= ORDER_OF_MAGNITUDE:
        reason = (
            f"refused: the prices mix {len(ids)} series whose levels differ by an order of magnitude "
            f"({ratio:.0f}x): {describe_series(summary)}. Log returns across them measure the jump between "
            "products, not price risk; name one series in `price.series`."
        )
    else:
        reason = (
            f"refused: the prices mix {len(ids)} series ({describe_series(summary)}); a volatility is "
            "estimated from the log returns of one series: name one in `price.series`."
        )
    raise PriceSeriesError(ids, reason)


def series_volatility(history: pl.DataFrame) -> VolatilityEstimate:
    """Volatility from the yearly log returns of ONE series (columns series_id, year, price_usd_per_kg).

    The years must be consecutive (a return over two years is not an annual return) and each appears
    once; data mixing series are refused with the reason (see ``PriceSeriesError``).
    """
    _refuse_mixed(history)
    ordered = history.sort("year")
    series_id = str(ordered["series_id"][0])
    years = ordered["year"].to_numpy()
    if np.any(np.diff(years) != 1):
        raise PriceSeriesError(
            (series_id,),
            f"refused: series {series_id} has years {years.tolist()}; yearly log returns need each year "
            "once and no gaps.",
        )
    prices = ordered["price_usd_per_kg"].to_numpy()
    returns = np.diff(np.log(prices))
    volatility = log_return_volatility(prices)
    estimated = ordered.filter(pl.col("estimated"))["year"].to_list() if "estimated" in ordered else []
    note = f" ({', '.join(f'{y}e' for y in estimated)})" if estimated else ""
    return VolatilityEstimate(
        volatility=volatility,
        # short enough for a terminal table: the series and its years are what a reader checks
        source=f"{series_id}, {int(years[0])}-{int(years[-1])}{note}",
        series_id=series_id,
        years=tuple(int(y) for y in years),
        log_returns=tuple(float(r) for r in returns),
    )


def _check_level(project: Project, series_id: str, history: pl.DataFrame) -> None:
    """Refuse a series whose latest price is an order of magnitude from the project's base price."""
    per_kg = KG_PER_UNIT.get(project.unit)
    if per_kg is None:
        return  # a unit without a mass conversion (a cell, a kWh): nothing to compare
    latest = history.sort("year").row(-1, named=True)
    base_per_kg = project.price.base / per_kg
    ratio = max(base_per_kg, latest["price_usd_per_kg"]) / min(base_per_kg, latest["price_usd_per_kg"])
    if ratio >= ORDER_OF_MAGNITUDE:
        raise PriceSeriesError(
            (series_id,),
            f"refused: `price.base` {project.price.base:,.4g} USD/{project.unit} is {ratio:.0f}x the "
            f"{latest['year']} price of series {series_id} ({latest['price_usd_per_kg']:,.4g} USD/kg): the "
            "series is not this product's price, so its volatility is not this product's risk. Name the "
            "product's series in `price.series` or give `price.volatility`.",
        )


def resolve_volatility(project: Project) -> VolatilityEstimate:
    """The project's volatility: as the file gives it, else from the log returns of its named series."""
    price = project.price
    if price.volatility is not None:
        return VolatilityEstimate(price.volatility, "project file")
    series_id = price.series_id
    assert series_id is not None  # the model requires a series when the volatility is null
    from critmin.refdata import load

    history = load("mineral_prices").filter(pl.col("series_id") == series_id)
    estimate = series_volatility(history)
    _check_level(project, series_id, history)
    return estimate


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
