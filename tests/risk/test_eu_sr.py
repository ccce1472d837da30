"""EU 2017 supply risk reproduced from the published inputs, and the criticality thresholds."""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl
import pytest

from critmin.refdata import load
from critmin.risk.eu_sr import (
    EI_THRESHOLD,
    SR_THRESHOLD,
    criticality_expr,
    eu_crm_2017,
    eu_sr_history,
    import_reliance,
    scope_expr,
    supply_risk,
)

TOLERANCE = 0.3  # inputs are printed to one decimal; the EU's own rounding leaves up to 0.25


def _computed(inputs: pl.DataFrame) -> pl.DataFrame:
    frame = inputs.select(
        "material",
        pl.col("SR").alias("sr"),
        pl.col("EI").alias("ei"),
        (pl.col("IR_pct") / 100).alias("ir"),
        (pl.col("EoL_RIR_pct") / 100).alias("eol_rir"),
        pl.col("SI_SR").alias("si_sr"),
        pl.col("HHI_WGI_t_GS").alias("hhi_wgi_t_gs"),
        pl.col("HHI_WGI_t_EU").alias("hhi_wgi_t_eu"),
        scope_expr(pl.col("supply_used_in_SR")).alias("scope"),
    )
    return supply_risk(frame).with_columns((pl.col("sr_computed") - pl.col("sr")).abs().alias("diff"))


def test_every_2017_material_reproduced_within_rounding(eu2017_inputs: pl.DataFrame) -> None:
    result = _computed(eu2017_inputs)
    assert result.height == 78
    assert result["sr_computed"].null_count() == 0
    worst = result.sort("diff", descending=True).row(0, named=True)
    assert worst["diff"] <= TOLERANCE, worst
    # Most are much closer than the tolerance: 73 of 78 within 0.15 (the largest is dysprosium, 0.25).
    assert result.filter(pl.col("diff") <= 0.15).height == 73
    assert worst["material"] == "Dysprosium"
    assert worst["diff"] == pytest.approx(0.25)


def test_tungsten_by_hand(eu2017_inputs: pl.DataFrame) -> None:
    # IR 44% -> weights IR/2 = 0.22 on global supply, 1 - IR/2 = 0.78 on EU sourcing.
    # [7.5 x 0.22 + 1.9 x 0.78] = 1.65 + 1.482 = 3.132; x (1 - 0.42) x SI 1.0 = 1.81656 (published 1.8).
    row = _computed(eu2017_inputs).filter(pl.col("material") == "Tungsten").row(0, named=True)
    assert row["sr_computed"] == pytest.approx(1.81656)
    assert row["sr"] == 1.8


def test_scope_gs_only_and_eu_only(eu2017_inputs: pl.DataFrame) -> None:
    result = _computed(eu2017_inputs)
    # Ruthenium uses global supply only: 4.0 x (1 - 0.11) x 1.0 = 3.56 (published 3.4).
    ruthenium = result.filter(pl.col("material") == "Ruthenium").row(0, named=True)
    assert ruthenium["scope"] == "gs"
    assert ruthenium["sr_computed"] == pytest.approx(3.56)
    # Phosphorus uses EU sourcing only: 4.5 x (1 - 0) x 0.9 = 4.05 (published 4.1).
    phosphorus = result.filter(pl.col("material") == "Phosphorus").row(0, named=True)
    assert phosphorus["scope"] == "eu"
    assert phosphorus["sr_computed"] == pytest.approx(4.05)
    # Beryllium has no EU sourcing figure (N/A) and is computed on global supply: 2.4 x 1 x 1 = 2.4.
    beryllium = result.filter(pl.col("material") == "Beryllium").row(0, named=True)
    assert beryllium["hhi_wgi_t_eu"] is None
    assert beryllium["sr_computed"] == pytest.approx(2.4)


def test_import_reliance_floored_at_zero() -> None:
    frame = pl.DataFrame({"p": [100.0, 100.0, 0.0], "i": [80.0, 10.0, 50.0], "e": [20.0, 40.0, 0.0]})
    ir = frame.select(import_reliance(pl.col("p"), pl.col("i"), pl.col("e")).alias("ir"))["ir"].to_list()
    # (80 - 20) / (100 + 80 - 20) = 60 / 160 = 0.375; a net exporter (10 - 40 < 0) relies on nobody: 0;
    # no domestic production: 50 / 50 = 1.
    assert ir == pytest.approx([0.375, 0.0, 1.0])


def test_thresholds_reproduce_the_2017_count(eu2017_inputs: pl.DataFrame) -> None:
    result = _computed(eu2017_inputs).with_columns(criticality_expr(pl.col("sr"), pl.col("ei")).alias("c"))
    assert (SR_THRESHOLD, EI_THRESHOLD) == (1.0, 2.8)
    critical = set(result.filter(pl.col("c"))["material"].to_list())
    # 41 individual materials pass: the 27-item 2017 list with groups expanded, less erbium and lanthanum.
    assert len(critical) == 41
    assert {"Erbium", "Lanthanum"}.isdisjoint(critical)  # SR above 1 but EI 2.7 and 1.4
    assert {"Tungsten", "Cobalt", "Natural graphite", "Gallium", "Antimony"} <= critical
    assert "Copper" not in critical  # SR 0.2
    assert "Helium" in critical  # EI exactly 2.8 counts (>=)


def test_2023_thresholds_pass_32_materials() -> None:
    history = eu_sr_history().filter(pl.col("year") == 2023)
    passing = set(history.filter(pl.col("critical"))["material"].to_list())
    assert len(passing) == 32
    # Copper and nickel are on the 2023 list as strategic materials without meeting the thresholds.
    assert {"Copper", "Nickel"}.isdisjoint(passing)


def test_2011_uses_the_old_ei_threshold() -> None:
    history = eu_sr_history("antimony")
    by_year = {row["year"]: row for row in history.iter_rows(named=True)}
    # 2011: SR 2.6, EI 5.8 -> critical under EI >= 5.
    assert by_year[2011]["sr"] == 2.6
    assert by_year[2011]["critical"] is True


def test_shipped_dataset_matches_the_published_tables(eu2017_inputs: pl.DataFrame) -> None:
    shipped = eu_crm_2017()
    assert shipped.height == 78
    assert shipped["abs_diff"].max() <= TOLERANCE  # type: ignore[operator]
    joined = shipped.join(eu2017_inputs, on="material")
    assert joined.filter(pl.col("sr") != pl.col("SR")).is_empty()
    assert joined.filter(pl.col("hhi_wgi_t_gs") != pl.col("HHI_WGI_t_GS")).is_empty()
    assert shipped.filter(pl.col("critical")).height == 41
    tungsten = shipped.filter(pl.col("mineral_id") == "tungsten").row(0, named=True)
    assert tungsten["ir"] == pytest.approx(0.44)
    assert tungsten["scope"] == "both"


def _sr_bounds(row: dict[str, Any], scope: str) -> tuple[float, float]:
    """Smallest and largest SR the formula gives over the rounding intervals of the printed inputs.

    HHI_WGI,t and SI are printed to 0.1 (+-0.05), IR and EoL-RIR to whole percent (+-0.005). SR is
    multilinear in these inputs, so its extremes over the box are at the box's corners.
    """
    values = []
    for dg, de, di, dr, ds in itertools.product(
        (-0.05, 0.05), (-0.05, 0.05), (-0.005, 0.005), (-0.005, 0.005), (-0.05, 0.05)
    ):
        gs = float(row["hhi_wgi_t_gs"] or 0.0) + dg
        eu = float(row["hhi_wgi_t_eu"] or 0.0) + de
        ir = min(1.0, max(0.0, float(row["ir"] or 0.0) + di))
        eol = min(1.0, max(0.0, float(row["eol_rir"]) + dr))
        si = float(row["si_sr"]) + ds
        blend = gs if scope == "gs" else eu if scope == "eu" else gs * ir / 2 + eu * (1 - ir / 2)
        values.append(blend * (1 - eol) * si)
    return min(values), max(values)


def test_every_published_sr_lies_inside_the_rounding_interval() -> None:
    """Stronger than +-0.3: each published SR (itself rounded, +-0.05) is reachable from its printed inputs,
    for the official SR (Table 3) and for the global-only and EU-only variants of Annex 5 Table 19."""
    shipped = load("eu_crm2017")
    outside = []
    for row in shipped.iter_rows(named=True):
        for column, scope in (("sr", str(row["scope"])), ("sr_gs_only", "gs"), ("sr_eu_only", "eu")):
            published = row[column]
            if published is None:
                continue
            low, high = _sr_bounds(row, scope)
            if not low - 0.05 <= published <= high + 0.05:
                outside.append((row["material"], column, published, round(low, 3), round(high, 3)))
    assert outside == []
