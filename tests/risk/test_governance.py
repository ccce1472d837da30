"""EU governance-weighted concentration HHI_WGI,t: scaling, the trade variable, shipped WGI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl
import pytest

from critmin.risk.governance import (
    eu_scaled_wgi,
    governance_table,
    governance_weighted_concentration,
    hhi_wgi_t,
    partners_as_of,
    trade_variable,
)


def test_eu_wgi_scaling() -> None:
    values = pl.select(eu_scaled_wgi(pl.lit(pl.Series([-0.96, 2.5, -2.5, 3.0])))).to_series().to_list()
    # The 2017 report quotes Nigeria's scaled WGI as 6.92: (2.5 - (-0.96)) x 2 = 6.92. Ends: 0 and 10.
    assert values == pytest.approx([6.92, 0.0, 10.0, 0.0])


def test_hhi_wgi_t_by_hand() -> None:
    frame = pl.DataFrame(
        {
            "country": ["CHN", "AUS", "ZAF"],
            "share": [0.6, 0.3, 0.1],
            "wgi_scaled": [6.0, 2.0, 5.0],
            "t": [1.5, 0.8, 1.0],
        }
    )
    row = hhi_wgi_t(frame).row(0, named=True)
    # 0.36 x 6 x 1.5 + 0.09 x 2 x 0.8 + 0.01 x 5 x 1 = 3.24 + 0.144 + 0.05 = 3.434
    assert row["hhi_wgi_t"] == pytest.approx(3.434)
    assert row["hhi"] == pytest.approx(0.46)
    missing = frame.with_columns(
        pl.when(pl.col("country") == "ZAF").then(None).otherwise(pl.col("wgi_scaled")).alias("wgi_scaled")
    )
    assert hhi_wgi_t(missing)["hhi_wgi_t"][0] is None  # unknown governance is not 'well governed'


def test_trade_variable() -> None:
    countries = pl.Series("c", ["CHN", "KOR", "BRA"])
    t = pl.select(
        trade_variable(pl.lit(countries), agreement_partners={"KOR"}, export_restriction_t={"CHN": 1.5})
    ).to_series()
    assert t.to_list() == [1.5, 0.8, 1.0]


def test_published_2023_t_values_in_hhi_wgi_t(oracle: Callable[[str], pl.DataFrame]) -> None:
    """The EU's own 2023 shares and t values flow through unchanged: with a flat WGI of 5 the result is
    5 x sum(s^2 t), computed here independently."""
    shares = oracle("eu_crm2023_global_supply_shares_t.csv").filter(
        (pl.col("Material") == "Cobalt") & (pl.col("Stage") == "E") & pl.col("Share").str.ends_with("%")
    )
    frame = shares.filter(~pl.col("Share").str.starts_with("<")).select(
        pl.col("Country").alias("country"),
        (pl.col("Share").str.strip_chars("%").cast(pl.Float64) / 100).alias("share"),
        pl.lit(5.0).alias("wgi_scaled"),
        pl.col("t").cast(pl.Float64),
    )
    expected = 5 * sum(r["share"] ** 2 * r["t"] for r in frame.iter_rows(named=True))
    assert hhi_wgi_t(frame)["hhi_wgi_t"][0] == pytest.approx(expected)
    drc = frame.filter(pl.col("country").str.contains("Congo")).row(0, named=True)
    assert drc["t"] == pytest.approx(1.1)  # the DRC's export restrictions on cobalt (methods §2.1)


def test_shipped_governance_and_partners_lower_the_index() -> None:
    table = governance_table(2023)
    assert table.filter(~pl.col("wgi_scaled").is_between(0, 10)).is_empty()
    from critmin.risk.sources import load_production

    production = load_production().filter((pl.col("material") == "cobalt") & (pl.col("year") == 2023))
    plain = governance_weighted_concentration(production)
    partners = partners_as_of(["us_fta", "us_cm_frameworks"], date(2025, 12, 31))
    assert {"AUS", "CAN"} <= partners and "CHN" not in partners
    with_t = governance_weighted_concentration(production, agreement_partners=partners)
    assert plain["wgi_basis"][0] == "wgi_pv"
    assert 0 < with_t["hhi_wgi_t"][0] < plain["hhi_wgi_t"][0] <= 10
