"""Volatility and correlation from the shipped yearly prices, and the price and volume draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from critmin.policy.trees import PriceUncertainty, VolumeUncertainty
from critmin.refdata import load
from critmin.simulate.draws import price_paths, volume_levels
from critmin.simulate.prices import price_model, yearly_returns


def test_volatility_is_the_sd_of_yearly_log_returns() -> None:
    model = price_model(("neodymium", "cobalt", "dysprosium", "unmapped"), PriceUncertainty())
    # Neodymium oxide, USGS MCS 2026 (USD/kg): 2021 98, 2022 134, 2023 78, 2024 56, 2025 73
    returns = [math.log(134 / 98), math.log(78 / 134), math.log(56 / 78), math.log(73 / 56)]
    assert model.volatility[0] == pytest.approx(np.std(returns, ddof=1))
    assert "4 yearly log returns 2022-2025" in model.source[0]
    # cobalt has two series (LME cash, U.S. spot): each year's return is their average
    prices = (
        load("mineral_prices").filter(load("mineral_prices")["mineral_id"] == "cobalt").sort("basis", "year")
    )
    by_basis = prices.partition_by("basis")
    logs = [np.diff(np.log(frame["price_usd_per_kg"].to_numpy())) for frame in by_basis]
    assert model.volatility[1] == pytest.approx(np.std(np.mean(logs, axis=0), ddof=1))
    # dysprosium has no series of its own: it uses the rare-earth aggregate's
    rare_earths = price_model(("rare_earths",), PriceUncertainty()).volatility[0]
    assert model.volatility[2] == pytest.approx(rare_earths) and "series of rare_earths" in model.source[2]
    assert model.volatility[3] == 0.0  # unmapped lines keep their unit values


def test_correlation_is_shrunk_towards_the_average() -> None:
    returns = yearly_returns()
    series = {m: dict(zip(g["year"], g["r"], strict=True)) for (m,), g in returns.group_by("mineral_id")}
    names = sorted(series)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            years = sorted(set(series[a]) & set(series[b]))
            x, y = [series[a][t] for t in years], [series[b][t] for t in years]
            if np.std(x) > 0 and np.std(y) > 0:
                pairs.append(((a, b), float(np.corrcoef(x, y)[0, 1])))
    average = float(np.mean([r for _, r in pairs]))
    sample = dict(pairs)[("neodymium", "praseodymium")]
    model = price_model(("neodymium", "praseodymium", "boron"), PriceUncertainty(shrinkage=0.5))
    assert model.average_correlation == pytest.approx(average)
    expected = np.array(
        [
            [1.0, 0.5 * sample + 0.5 * average, average],
            [0.5 * sample + 0.5 * average, 1.0, average],
            [average, average, 1.0],
        ]
    )  # boron: no series, the average correlation
    assert np.all(np.linalg.eigvalsh(expected) > 0)  # already valid, so the repair leaves it alone
    np.testing.assert_allclose(model.correlation, expected, atol=1e-9)
    assert "assumed: median" in model.source[2]


def test_correlation_matrix_is_a_valid_one_for_many_minerals() -> None:
    names = (*sorted(set(yearly_returns()["mineral_id"].to_list())), "dysprosium", "tungsten", "unmapped")
    corr = price_model(names, PriceUncertainty(shrinkage=1.0)).correlation  # raw sample: needs repair
    assert np.allclose(np.diag(corr), 1.0) and np.allclose(corr, corr.T)
    assert np.linalg.eigvalsh(corr).min() > 0
    np.linalg.cholesky(corr)


def test_price_paths_have_mean_one_the_right_spread_and_correlation() -> None:
    model = price_model(("lithium", "cobalt"), PriceUncertainty(correlation=0.6, volatility={"cobalt": 0.3}))
    sigma = model.volatility
    draws = price_paths(model, 12, 40_000, np.random.default_rng(0))
    assert draws.shape == (40_000, 2, 12)
    assert draws[:, :, -1].mean(axis=0) == pytest.approx([1.0, 1.0], rel=0.03)  # martingale: mean 1
    logs = np.log(draws)
    # after t months the log price has sd sigma x sqrt(t / 12)
    assert logs[:, 1, 2].std() == pytest.approx(0.3 * math.sqrt(3 / 12), rel=0.03)
    assert logs[:, 0, -1].std() == pytest.approx(sigma[0], rel=0.03)
    steps = np.diff(logs, axis=2).reshape(40_000, 2, -1)
    assert np.corrcoef(steps[:, 0, 5], steps[:, 1, 5])[0, 1] == pytest.approx(0.6, abs=0.02)
    fixed = price_paths(
        price_model(("lithium",), PriceUncertainty(scale=0.0)), 12, 10, np.random.default_rng(0)
    )
    assert np.all(fixed == 1.0)


def test_volume_levels() -> None:
    v = volume_levels(VolumeUncertainty(sd=0.2, common_share=0.5), 3, 50_000, np.random.default_rng(1))
    assert v.mean(axis=0) == pytest.approx([1.0, 1.0, 1.0], rel=0.01)
    logs = np.log(v)
    assert logs.std(axis=0) == pytest.approx([0.2, 0.2, 0.2], rel=0.02)
    assert np.corrcoef(logs[:, 0], logs[:, 1])[0, 1] == pytest.approx(0.5, abs=0.02)
    assert np.all(volume_levels(VolumeUncertainty(sd=0.0), 2, 5, np.random.default_rng(1)) == 1.0)
