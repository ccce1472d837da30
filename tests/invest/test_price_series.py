"""Volatility from ONE named price series: hand-computed, keyed by series id, mixed series refused."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.errors import InputError
from critmin.invest import appraise, load_project
from critmin.invest.model import project_from_dict
from critmin.invest.prices import PriceSeriesError, resolve_volatility, series_volatility
from critmin.invest.series import one_series_of_mineral, price_series_catalogue, series_of_mineral
from critmin.paths import SAMPLES_DIR
from critmin.refdata import load

NDPR = SAMPLES_DIR / "projects" / "ndpr_separation.yaml"


def frame(series_id: str, years: list[int], prices: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "series_id": [series_id] * len(years),
            "year": years,
            "price_usd_per_kg": prices,
            "estimated": [False] * len(years),
        }
    )


def priced(**price: Any) -> dict[str, Any]:
    """A small project whose price block is ``price`` (base 69 USD/kg, as the NdPr sample)."""
    return {
        "name": "p",
        "product": "NdPr oxide",
        "stage": "oxide_salt_compound",
        "label": "test",
        "capacity_per_year": 10,
        "ramp_up": [1.0],
        "operations_start": 1,
        "operating_years": 3,
        "capex": [{"year": 0, "amount": 100}],
        "opex_fixed_per_year": 0,
        "opex_variable_per_unit": 0,
        "feedstock_cost_per_unit": 0,
        "tax_rate": 0,
        "depreciation_years": 3,
        "discount_rate": 0.1,
        "price": {"base": 69.0, "volatility": None, "source": "t", **price},
    }


def test_volatility_of_a_short_series_by_hand() -> None:
    # Prices 100, 110, 99, 108.9 (2021-2024). Log returns:
    #   ln(110/100) = ln 1.1 = 0.0953102; ln(99/110) = ln 0.9 = -0.1053605; ln(108.9/99) = ln 1.1 = 0.0953102
    # mean = (0.0953102 - 0.1053605 + 0.0953102) / 3 = 0.0284199
    # deviations 0.0668902, -0.1337805, 0.0668902; squares 0.0044743, 0.0178972, 0.0044743; sum 0.0268458
    # sample variance = 0.0268458 / (3 - 1) = 0.0134229
    # sample standard deviation = sqrt(0.0134229) = 0.115857
    estimate = series_volatility(frame("x_oxide", [2021, 2022, 2023, 2024], [100.0, 110.0, 99.0, 108.9]))
    assert estimate.log_returns == pytest.approx((math.log(1.1), math.log(0.9), math.log(1.1)))
    assert estimate.log_returns == pytest.approx((0.0953102, -0.1053605, 0.0953102), abs=1e-7)
    assert estimate.volatility == pytest.approx(0.115857, abs=1e-6)
    assert estimate.series_id == "x_oxide" and estimate.years == (2021, 2022, 2023, 2024)
    assert estimate.source == "x_oxide, 2021-2024"


def test_ndpr_sample_uses_the_ndpr_oxide_series_only() -> None:
    # USGS MCS 2026, NdPr oxide 99% FOB (Argus): 92, 124, 75, 55, 69 USD/kg in 2021-2025 (2025 estimated).
    # log returns 0.29849, -0.50279, -0.31015, 0.22677; mean -0.07192; sample sd 0.39532
    # (the same prices interleaved with mischmetal's 5.45-6.52 USD/kg gave 281%: the jump between products)
    result = appraise(load_project(NDPR), draws=0)
    assert result.volatility == pytest.approx(0.395319, abs=1e-6)
    assert result.volatility_series == "rare_earths_ndpr_oxide"
    assert result.volatility_years == [2021, 2022, 2023, 2024, 2025]
    assert result.volatility_source == "rare_earths_ndpr_oxide, 2021-2025 (2025e)"
    assert result.as_dict()["volatility_years"] == [2021, 2022, 2023, 2024, 2025]


def test_ndpr_sample_monte_carlo_is_centred_on_the_deterministic_npv() -> None:
    """With one series' volatility the price risk is plausible: the MC median sits near the deterministic NPV
    (it was $20M against $196M with the mixed 281% volatility) and the floor is worth less than the plant."""
    result = appraise(load_project(NDPR), draws=2000, seed=0)
    assert result.npv_p50 is not None and result.floor_value is not None
    assert result.npv == pytest.approx(195.9e6, rel=1e-3)
    assert 0.8 < result.npv_p50 / result.npv < 1.25
    assert result.npv_p5 is not None and result.npv_p95 is not None
    assert result.npv_p5 < result.npv < result.npv_p95
    # a $110/kg floor on a $69/kg product for 10 years: worth ~$0.2bn, not the $575M of the mixed volatility
    assert 1.5e8 < result.floor_value < 3.0e8


def test_rare_earths_has_two_series_an_order_of_magnitude_apart() -> None:
    assert series_of_mineral("rare_earths") == ["rare_earths_mischmetal", "rare_earths_ndpr_oxide"]
    prices = load("mineral_prices").filter(pl.col("mineral_id") == "rare_earths")
    assert prices.group_by("series_id").len()["len"].to_list() == [5, 5]  # one price per series and year
    levels = dict(price_series_catalogue().select("series_id", "level").iter_rows())
    # geometric means: mischmetal (5.66 x 6.52 x 5.47 x 5.45 x 5.62)^(1/5) = 5.73 USD/kg,
    # NdPr oxide (92 x 124 x 75 x 55 x 69)^(1/5) = 79.85 USD/kg -> 13.9x
    assert levels["rare_earths_mischmetal"] == pytest.approx(5.731, abs=1e-3)
    assert levels["rare_earths_ndpr_oxide"] == pytest.approx(79.854, abs=1e-3)


def test_volatility_across_mixed_series_is_refused_with_the_reason() -> None:
    mixed = load("mineral_prices").filter(pl.col("mineral_id") == "rare_earths")
    with pytest.raises(PriceSeriesError) as info:
        series_volatility(mixed)
    message = str(info.value)
    assert "order of magnitude (14x)" in message
    assert "rare_earths_mischmetal" in message and "rare_earths_ndpr_oxide" in message
    assert "5.45–6.52 USD/kg" in message and "55–124 USD/kg" in message
    assert info.value.series == ("rare_earths_mischmetal", "rare_earths_ndpr_oxide")
    # two series at similar levels (cobalt LME cash and U.S. spot) are refused too, for the plain reason
    cobalt = load("mineral_prices").filter(pl.col("mineral_id") == "cobalt")
    with pytest.raises(PriceSeriesError, match="log returns of one series") as info:
        series_volatility(cobalt)
    assert "order of magnitude" not in str(info.value)


def test_a_year_gap_is_refused() -> None:
    with pytest.raises(PriceSeriesError, match="no gaps"):
        series_volatility(frame("x", [2021, 2022, 2024], [1.0, 2.0, 3.0]))


def test_project_names_a_series_and_unknown_ones_are_listed(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    text = NDPR.read_text(encoding="utf-8").replace("series: rare_earths_ndpr_oxide", "series: ndpr_oxide")
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_project(bad)
    message = str(info.value)
    # the file, the field, and the series to choose from
    assert "typo.yaml" in message and "field `price.series`" in message
    assert "unknown price series 'ndpr_oxide'" in message
    assert "rare_earths_ndpr_oxide" in message and "lithium_carbonate_battery_grade" in message


def test_a_mineral_id_with_several_series_is_refused_at_load(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.yaml"
    text = NDPR.read_text(encoding="utf-8").replace(
        "series: rare_earths_ndpr_oxide", "mineral_id: rare_earths"
    )
    legacy.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_project(legacy)
    message = str(info.value)
    assert "legacy.yaml" in message and "field `price.mineral_id`" in message
    assert "2 shipped price series" in message and "order of magnitude (14x)" in message
    assert (
        "rare_earths_mischmetal (Mischmetal 65Ce/35La (FOB, Argus), 5.45–6.52 USD/kg, 2021–2025)" in message
    )
    # a mineral with one series is still enough, and a given volatility needs no series at all
    assert one_series_of_mineral("lithium") == "lithium_carbonate_battery_grade"
    assert project_from_dict(priced(volatility=0.3, mineral_id="rare_earths"), "t").price.series_id is None
    with pytest.raises(InputError, match="name the shipped price series"):
        project_from_dict(priced(), "t")
    with pytest.raises(InputError, match="prices 'rare_earths', not 'lithium'"):
        project_from_dict(priced(series="rare_earths_ndpr_oxide", mineral_id="lithium"), "t")


def test_a_series_an_order_of_magnitude_from_the_base_price_is_refused() -> None:
    # base 69 USD/kg against mischmetal's 2025 price of 5.62 USD/kg: 69 / 5.62 = 12.3x
    project = project_from_dict(priced(series="rare_earths_mischmetal"), "t")
    with pytest.raises(PriceSeriesError, match=r"is 12x the 2025 price of series rare_earths_mischmetal"):
        resolve_volatility(project)
    # in tonnes the same price is 69,000 USD/t: compared per kg, so NdPr oxide's series is accepted
    tonnes = priced(series="rare_earths_ndpr_oxide")
    tonnes.update(unit="t", price={**tonnes["price"], "base": 69_000.0})
    assert resolve_volatility(project_from_dict(tonnes, "t")).volatility == pytest.approx(0.395319, abs=1e-6)


def test_docs_list_every_shipped_series() -> None:
    """docs/invest.md's table of series ids is checked against the data, so it cannot drift."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "invest.md").read_text(encoding="utf-8")
    section = docs.split("### Price series and volatility", 1)[1].split("When `price.volatility` is null", 1)[
        0
    ]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "series ids" not in line]
    listed = set(re.findall(r"`([a-z0-9_]+)`", "\n".join(rows)))
    assert listed == set(price_series_catalogue()["series_id"].to_list())
