"""Content factors: stoichiometry checked by hand, ranges ordered, defaults unique, sources present."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from critmin.refdata import content, scope
from critmin.refdata.hts import schedule

# IUPAC abridged standard atomic weights used throughout
LI, C, OX, FE, P, NI, MN, CO = 6.94, 12.011, 15.999, 55.845, 30.974, 58.693, 54.938, 58.933


def _factor(
    product: str, mineral: str, basis: str = "per_kg_product", prefix: str | None = None
) -> dict[str, Any]:
    frame = content.factors().filter(
        (pl.col("product_id") == product) & (pl.col("mineral_id") == mineral) & (pl.col("basis") == basis)
    )
    if prefix is not None:
        frame = frame.filter(pl.col("hts_prefix") == prefix)
    assert frame.height >= 1, (product, mineral, basis)
    return frame.row(0, named=True)


def test_contract_columns_come_first() -> None:
    frame = content.factors()
    assert tuple(frame.columns[:9]) == (
        "product_id",
        "hts_prefix",
        "mineral_id",
        "basis",
        "low",
        "central",
        "high",
        "unit",
        "source",
    )
    assert set(frame.get_column("unit")) == {"kg/kg", "kg/kWh"}


def test_lithium_carbonate_stoichiometry() -> None:
    # Li2CO3: M = 2x6.94 + 12.011 + 3x15.999 = 73.888; Li = 13.88 / 73.888 = 0.18785
    molar = 2 * LI + C + 3 * OX
    assert molar == pytest.approx(73.888)
    row = _factor("lithium_carbonate", "lithium")
    assert row["low"] == row["central"] == row["high"] == pytest.approx(13.88 / 73.888, abs=1e-6)
    assert row["hts_prefix"] == "28369100" and row["is_default"]
    assert "73.888" in row["derivation"]


def test_nmc811_cathode_stoichiometry() -> None:
    # LiNi0.8Mn0.1Co0.1O2: M = 6.94 + 46.9544 + 5.4938 + 5.8933 + 31.998 = 97.2795
    molar = LI + 0.8 * NI + 0.1 * MN + 0.1 * CO + 2 * OX
    assert molar == pytest.approx(97.2795)
    assert _factor("cam_nmc811", "nickel")["central"] == pytest.approx(0.8 * NI / molar, abs=1e-6)  # 0.48268
    assert _factor("cam_nmc811", "cobalt")["central"] == pytest.approx(0.1 * CO / molar, abs=1e-6)  # 0.06058
    assert _factor("cam_nmc811", "lithium")["central"] == pytest.approx(LI / molar, abs=1e-6)  # 0.07134


def test_nmc811_cell_nickel_per_kwh_and_per_kg() -> None:
    # CAM per kWh = 1000 / (200 mAh/g x 3.70 V) = 1.35135 kg; Ni = 1.35135 x 0.48268 = 0.65227 kg/kWh
    share = 0.8 * NI / (LI + 0.8 * NI + 0.1 * MN + 0.1 * CO + 2 * OX)
    per_kwh = _factor("li_ion_cell_nmc811", "nickel", "per_kwh")
    assert per_kwh["central"] == pytest.approx(1000 / (200 * 3.70) * share, abs=1e-6)
    # low pairs the highest capacity and voltage: 1000 / (205 x 3.75) x share
    assert per_kwh["low"] == pytest.approx(1000 / (205 * 3.75) * share, abs=1e-6)
    # per kg of cell at the central 0.26 kWh/kg: 0.65227 x 0.26 = 0.16959
    per_kg = _factor("li_ion_cell_nmc811", "nickel")
    assert per_kg["central"] == pytest.approx(per_kwh["central"] * 0.26, abs=1e-6)


def test_lfp_cell_lithium_per_kwh() -> None:
    # LiFePO4: M = 157.755, Li share 0.043992; CAM = 1000 / (155 x 3.25) = 1.98511 kg/kWh -> 0.08733 kg Li/kWh
    molar = LI + FE + P + 4 * OX
    row = _factor("li_ion_cell_lfp", "lithium", "per_kwh")
    assert row["central"] == pytest.approx(1000 / (155 * 3.25) * LI / molar, abs=1e-6)
    lfp_minerals = set(content.factors().filter(pl.col("product_id") == "li_ion_cell_lfp")["mineral_id"])
    assert lfp_minerals == {"lithium", "graphite"}  # no cobalt, nickel or manganese in LFP


def test_chemistry_ranges_bracket_the_published_2020_average() -> None:
    # Transport & Environment's average 2020 EV battery: 6 kg Li, 52 kg graphite, 29 kg Ni per 60 kWh
    frame = content.factors().filter(
        pl.col("product_id").str.starts_with("li_ion_cell_") & (pl.col("basis") == "per_kwh")
    )
    for mineral, published in (("lithium", 6 / 60), ("graphite", 52 / 60), ("nickel", 29 / 60)):
        rows = frame.filter(pl.col("mineral_id") == mineral)
        assert rows.get_column("low").min() <= published <= rows.get_column("high").max(), mineral
        assert _factor("li_ion_battery_average_2020", mineral, "per_kwh")["central"] == pytest.approx(
            published, abs=1e-4
        )


def test_unknown_chemistry_envelope() -> None:
    cobalt = _factor("li_ion_cell_unknown_chemistry", "cobalt")
    assert cobalt["low"] == 0.0  # LFP cells contain none
    assert cobalt["high"] == _factor("li_ion_cell_nmc622", "cobalt")["high"]
    assert cobalt["is_default"] and cobalt["hts_prefix"] == "85076000"


def test_ndfeb_magnet_ranges() -> None:
    # Nd = (total RE - Dy - Tb) x (1 - Pr share):
    #   low (0.29 - 0.10 - 0.01) x (1 - 0.25) = 0.135; central (0.3075 - 0.01 - 0) x 0.8 = 0.238; high 0.325
    nd = _factor("ndfeb_sintered_magnet", "neodymium")
    assert (nd["low"], nd["central"], nd["high"]) == pytest.approx((0.135, 0.238, 0.325))
    pr = _factor("ndfeb_sintered_magnet", "praseodymium")
    assert (pr["low"], pr["central"], pr["high"]) == pytest.approx((0.0, 0.0595, 0.08125))
    dy = _factor("ndfeb_sintered_magnet", "dysprosium")
    assert (dy["low"], dy["high"]) == (0.0, 0.10)
    boron = _factor("ndfeb_sintered_magnet", "boron")
    # stoichiometric Nd2Fe14B: 10.81 / (2 x 144.24 + 14 x 55.845 + 10.81) = 0.0100
    assert boron["low"] == pytest.approx(10.81 / (2 * 144.24 + 14 * FE + 10.81), abs=1e-4)
    assert nd["hts_prefix"] == "8505110070" and nd["is_default"]
    # the rare-earth total is the sum of the element rows: listed, but never a default (no double count)
    total = _factor("ndfeb_sintered_magnet", "rare_earths")
    assert (total["low"], total["high"], total["is_default"]) == (0.29, 0.325, False)
    assert "couragemagnet" in nd["source"] and "nikkeibp" in dy["source"]


def test_ranges_are_ordered_and_sourced() -> None:
    frame = content.factors()
    assert frame.filter(pl.col("low") > pl.col("central")).height == 0
    assert frame.filter(pl.col("central") > pl.col("high")).height == 0
    assert frame.filter((pl.col("basis") == "per_kg_product") & (pl.col("high") > 1)).height == 0
    assert frame.get_column("source").str.contains("https?://").all()
    assert frame.get_column("derivation").str.len_chars().min() > 0


def test_defaults_are_unique_and_prefixes_exist() -> None:
    defaults = content.default_factors()
    assert not defaults.select("hts_prefix", "mineral_id").is_duplicated().any()
    codes = set(schedule().get_column("hts").to_list())
    assert set(content.factors().get_column("hts_prefix")) <= codes


def test_default_factors_agree_with_the_scope_map() -> None:
    """A content factor for a code only makes sense if classification gives that code the mineral."""
    defaults = content.default_factors()
    prefixes = defaults.get_column("hts_prefix").unique().sort()
    classified = scope.classify(pl.DataFrame({"line_id": prefixes, "hts": prefixes}))
    pairs = set(classified.select("line_id", "mineral_id").rows())
    missing = [(p, m) for p, m in defaults.select("hts_prefix", "mineral_id").rows() if (p, m) not in pairs]
    assert missing == []
