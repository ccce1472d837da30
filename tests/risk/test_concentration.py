"""HHI on both scales and top-k shares: published examples, grouping, properties, shipped data."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.risk.concentration import (
    concentration,
    export_concentration,
    hhi,
    hhi_from_shares,
    merger_guidelines_class,
    production_concentration,
    shares,
    supply_concentration,
)


def test_published_percentage_examples(oracle: Callable[[str], pl.DataFrame]) -> None:
    examples = oracle("hhi_published_examples.csv").filter(pl.col("scale") == "0-10000")
    for row in examples.iter_rows(named=True):
        given_shares = [float(s) for s in str(row["shares"]).split(";")]
        assert hhi_from_shares(given_shares) == pytest.approx(float(row["hhi_expected"])), row["example"]
    # 40/30/20/10: 1600 + 900 + 400 + 100 = 3000. 70/15/5: 4900 + 225 + 25 = 5150; merging 15 and 5 adds
    # 2 x 15 x 5 = 150 -> 5300.
    assert hhi_from_shares([70, 20]) - hhi_from_shares([70, 15, 5]) == pytest.approx(2 * 15 * 5)


def test_world_mine_production_2022_from_the_workbook(
    oracle: Callable[[str], pl.DataFrame], gpr_production: pl.DataFrame
) -> None:
    examples = oracle("hhi_published_examples.csv").filter(pl.col("scale") == "0-1")
    result = concentration(
        gpr_production.filter(pl.col("year") == 2022), value_col="quantity_t", by=["material"]
    )
    got = dict(zip(result["material"], result["hhi"], strict=True))
    for name, example in (("Nickel", "ex3"), ("Manganese", "ex4"), ("Graphite", "ex5")):
        expected = float(examples.filter(pl.col("example").str.starts_with(example))["hhi_expected"][0])
        assert got[name] == pytest.approx(expected, abs=1e-10)
    # Each sheet has one 'Total' row (Country_Code DELETE): dropped and counted, never a producer.
    assert result["n_aggregate_rows_dropped"].to_list() == [1, 1, 1]


def test_top_shares_and_both_scales() -> None:
    frame = pl.DataFrame(
        {
            "g": ["a"] * 5 + ["b"] * 2,
            "country": ["CHN", "AUS", "CHL", "ARG", "World", "COD", "COD"],
            "q": [40.0, 30.0, 20.0, 10.0, 100.0, 5.0, 5.0],
        }
    )
    result = concentration(frame, value_col="q", by=["g"])
    a = result.filter(pl.col("g") == "a").row(0, named=True)
    assert a["hhi"] == pytest.approx(0.30)  # 0.16 + 0.09 + 0.04 + 0.01
    assert a["hhi_10000"] == pytest.approx(3000.0)
    assert a["top1_country"] == "CHN" and a["top1_share"] == pytest.approx(0.4)
    assert a["top3_countries"] == ["CHN", "AUS", "CHL"] and a["top3_share"] == pytest.approx(0.9)
    assert a["n_countries"] == 4 and a["n_aggregate_rows_dropped"] == 1
    b = result.filter(pl.col("g") == "b").row(0, named=True)
    assert b["hhi"] == pytest.approx(1.0)  # two rows of one country are one producer
    assert b["n_countries"] == 1


def test_grouping_equals_one_group_at_a_time() -> None:
    frame = pl.DataFrame(
        {
            "m": ["x", "x", "x", "y", "y", "y", "y"],
            "year": [1, 1, 2, 1, 1, 1, 2],
            "country": ["A", "B", "A", "A", "B", "C", "C"],
            "q": [1.0, 3.0, 2.0, 5.0, 5.0, 10.0, 7.0],
        }
    )
    together = concentration(frame, value_col="q", by=["m", "year"])
    for keys, group in frame.group_by(["m", "year"]):
        alone = together.filter((pl.col("m") == keys[0]) & (pl.col("year") == keys[1]))
        assert alone["hhi"][0] == pytest.approx(hhi(group["q"].to_numpy()))


def test_ties_are_broken_by_country_code() -> None:
    frame = pl.DataFrame({"country": ["ZAF", "AUS", "BRA"], "q": [1.0, 1.0, 1.0]})
    result = concentration(frame, value_col="q")
    assert result["top1_country"][0] == "AUS"
    assert result["top3_countries"].to_list() == [["AUS", "BRA", "ZAF"]]


def test_merger_guidelines_classes() -> None:
    assert merger_guidelines_class(1_400, 2010) == "unconcentrated"
    assert merger_guidelines_class(2_000, 2010) == "moderately concentrated"
    assert merger_guidelines_class(3_000, 2010) == "highly concentrated"
    assert merger_guidelines_class(1_900) == "highly concentrated"
    assert merger_guidelines_class(1_700) == "not highly concentrated"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.001, max_value=1e9, allow_nan=False), min_size=1, max_size=30))
def test_hhi_bounds_and_scale_invariance(values: list[float]) -> None:
    value = hhi(values)
    assert 1 / len(values) - 1e-12 <= value <= 1 + 1e-12
    assert hhi([v * 1000 for v in values]) == pytest.approx(value, rel=1e-9)
    frame = pl.DataFrame({"country": [f"C{i:02d}" for i in range(len(values))], "q": values})
    vectorised = concentration(frame, value_col="q")
    assert vectorised["hhi"][0] == pytest.approx(value, rel=1e-9)
    assert vectorised["hhi_10000"][0] == pytest.approx(10_000 * value, rel=1e-9)


def test_shares_sum_to_one_per_group() -> None:
    frame = pl.DataFrame({"g": ["a", "a", "b"], "country": ["X", "Y", "X"], "q": [1.0, 3.0, 2.0]})
    result = shares(frame, value_col="q", by=["g"])
    assert result.group_by("g").agg(pl.col("share").sum())["share"].to_list() == pytest.approx([1.0, 1.0])
    assert result.filter(pl.col("g") == "a")["country"].to_list() == ["Y", "X"]


def test_shipped_production_by_stage() -> None:
    aluminum = production_concentration("aluminum", year=2022)
    stages = dict(zip(aluminum["material"], aluminum["stage"], strict=True))
    # Bauxite (mining) and primary aluminium (smelting) are separate WMD tables at separate stages.
    assert stages == {"Aluminium": "metal_powder_alloy", "Bauxite": "ore_concentrate"}
    smelting = aluminum.filter(pl.col("material") == "Aluminium").row(0, named=True)
    assert smelting["top1_country"] == "CHN" and smelting["top1_share"] > 0.5


def test_usgs_withheld_values_are_named() -> None:
    lithium = production_concentration("lithium", year=2024, source="usgs")
    row = lithium.row(0, named=True)
    assert "USA" in row["note"]  # U.S. lithium production is withheld by USGS
    assert row["top1_country"] == "AUS"


def test_exports_by_stage_and_all_sources() -> None:
    cobalt = export_concentration("cobalt", year=2024)
    assert set(cobalt["stage"]) == {"metal_powder_alloy", "oxide_salt_compound"}
    everything = supply_concentration("graphite", year=2024)
    assert set(everything["basis"]) == {
        "world production (World Mining Data)",
        "world production (USGS MCS 2026)",
        "exports (BACI, value)",
    }
    assert everything.filter(~pl.col("hhi").is_between(0, 1)).is_empty()
