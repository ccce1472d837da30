"""The U.S. risk table (coverage and explained blanks) and the Plotly figure builders."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import pytest

from critmin.refdata import load
from critmin.risk.charts import (
    REST_LABEL,
    concentration_history,
    concentration_over_time_figure,
    stage_shares,
    supply_shares_figure,
)
from critmin.risk.concentration import production_concentration
from critmin.risk.geopolrisk import assess
from critmin.risk.table import TABLE_COLUMNS, us_risk_table

INDICATORS = ("hhi_mine", "hhi_exports", "nir_pct", "gpr_cf", "eu_sr_2017")


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return us_risk_table(2024)


def test_one_row_per_critical_mineral(table: pl.DataFrame) -> None:
    listed = load("minerals").filter(pl.col("on_usgs_2025"))["mineral_id"].to_list()
    assert set(listed) <= set(table["mineral_id"])
    assert table["mineral_id"].is_unique().all()
    assert tuple(table.columns) == TABLE_COLUMNS


def test_every_blank_is_explained(table: pl.DataFrame) -> None:
    for row in table.iter_rows(named=True):
        blank = [name for name in INDICATORS if row[name] is None]
        if row["hhi_mine"] is None and row["hhi_refined"] is not None:
            blank.remove("hhi_mine")  # a refinery-only mineral (gallium) has its concentration elsewhere
        if blank:
            assert row["missing"], f"{row['mineral_id']}: {blank} blank with no reason"
    neodymium = table.filter(pl.col("mineral_id") == "neodymium").row(0, named=True)
    assert "rare earths only as a REO total" in neodymium["missing"]
    gallium = table.filter(pl.col("mineral_id") == "gallium").row(0, named=True)
    assert gallium["hhi_refined"] > 0.9 and gallium["top_producer_refined"] == "CHN"


def test_table_values_agree_with_the_indicator_functions(table: pl.DataFrame) -> None:
    graphite = table.filter(pl.col("mineral_id") == "graphite").row(0, named=True)
    wmd = production_concentration("graphite", year=2024, source="wmd").row(0, named=True)
    assert graphite["hhi_mine"] == pytest.approx(wmd["hhi"])
    assert graphite["top_producer_mine"] == "CHN"
    assert graphite["gpr_cf"] == pytest.approx(assess("USA", "graphite", 2024)["cf"])
    assert graphite["nir_pct"] == 100.0  # USGS MCS 2026, natural graphite
    assert graphite["eu_sr_2017"] == 2.9  # 'Natural graphite' in the 2017 EU assessment
    rare_earths = table.filter(pl.col("mineral_id") == "rare_earths").row(0, named=True)
    # USGS gives two NIR series for rare earths; the table keeps the higher (compounds and metals, 53%)
    # rather than the net-exporter concentrates line.
    assert rare_earths["nir_pct"] == 53.0 and rare_earths["nir_basis"] == "compounds and metals"


def test_stage_shares_sum_to_one() -> None:
    shares = stage_shares("aluminum", top=4)
    totals = shares.group_by("stage", "commodity").agg(pl.col("share").sum())
    assert totals["share"].to_list() == pytest.approx([1.0, 1.0])
    bauxite = shares.filter(pl.col("commodity") == "Bauxite")
    assert bauxite["country"].to_list()[-1] == REST_LABEL and bauxite.height == 5


def test_figures() -> None:
    shares = supply_shares_figure("aluminum")
    assert isinstance(shares, go.Figure)
    assert shares.layout.barmode == "stack"
    assert {trace.name for trace in shares.data} >= {"CHN", REST_LABEL}
    history = concentration_history("graphite")
    assert history.filter(pl.col("series").str.starts_with("production"))["year"].to_list() == list(
        range(2018, 2025)
    )
    over_time = concentration_over_time_figure("graphite")
    assert len(over_time.data) == history["series"].n_unique()
    assert over_time.layout.yaxis.range == (0, 10_000)
    empty = supply_shares_figure("cesium")
    assert len(empty.data) == 0 and "no world production" in empty.layout.title.text
