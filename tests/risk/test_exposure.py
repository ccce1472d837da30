"""A firm's exposure: FEOC and partner shares, DFARS 252.225-7052 flags, company-mode GeoPolRisk, USGS NIR."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl
import pytest

from critmin.risk.company import ledger_risk
from critmin.risk.exposure import dfars_lines, import_sources, ledger_exposure, net_import_reliance


def _by(frame: pl.DataFrame, key: str) -> dict[str, dict[str, object]]:
    return {str(row[key]): row for row in frame.iter_rows(named=True)}


def test_feoc_and_partner_shares_by_value_and_content(
    small_ledger: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    ledger, classification = small_ledger
    result = ledger_exposure(ledger, classification)
    minerals = _by(result.by_mineral, "mineral_id")
    cobalt = minerals["cobalt"]
    # Cobalt: 30,000 USD from the DRC, 10,000 from Canada (an FTA partner): partner share 10/40 = 0.25.
    # Content: no declared content, oxide stage -> gross weight 1,000 + 500 kg; partner 500/1,500 = 1/3.
    assert cobalt["value_usd"] == 40_000
    assert cobalt["feoc_share_value"] == 0
    assert cobalt["partner_share_value"] == pytest.approx(0.25)
    assert cobalt["content_kg"] == 1_500
    assert cobalt["partner_share_content"] == pytest.approx(1 / 3)
    neodymium = minerals["neodymium"]
    # Magnets: 50,000 USD from China (FEOC), 80,000 from Japan (critical-minerals agreement partner):
    # FEOC share 50/130 = 0.3846 by value, 300/600 = 0.5 by declared neodymium content.
    assert neodymium["feoc_share_value"] == pytest.approx(50 / 130)
    assert neodymium["partner_share_value"] == pytest.approx(80 / 130)
    assert neodymium["feoc_share_content"] == pytest.approx(0.5)
    lithium = minerals["lithium"]
    # Cells: no declared content, so the shipped content factor for 8507.60 (0.023209 kg Li per kg, central)
    # gives 300 kg x 0.023209 = 6.9627 kg; the line declared by count has no mass and stays unknown.
    assert lithium["content_kg"] == pytest.approx(300 * 0.023209)
    assert lithium["n_lines"] == 2 and lithium["n_lines_with_content"] == 1
    assert lithium["partner_share_value"] == 1.0  # Korea (KORUS)
    lines = _by(result.lines, "line_id")
    assert lines["L6"]["mineral_kg_basis"] == "content factor (central)"
    assert lines["L7"]["mineral_kg_basis"] == "unknown" and lines["L7"]["mineral_kg"] is None
    assert any("gross weight" in text for text in result.assumptions)


def test_origin_concentration_of_purchases(small_ledger: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    ledger, classification = small_ledger
    origin = _by(ledger_exposure(ledger, classification).origin_concentration, "mineral_id")
    # Cobalt by value: 0.75^2 + 0.25^2 = 0.625 -> 6,250 on the 0-10,000 scale.
    assert origin["cobalt"]["hhi_10000"] == pytest.approx(6_250)
    assert origin["cobalt"]["top1_country"] == "COD"


def test_dfars_flags_per_line(small_ledger: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    ledger, classification = small_ledger
    lines = _by(ledger_exposure(ledger, classification).lines, "line_id")
    # L1: NdFeB magnet (8505.11.0070) from China in 2025: covered material, covered country.
    assert lines["L1"]["dfars_flag"] == "prohibited" and lines["L1"]["dfars_regime"] == "2019"
    # L2: the same magnet from Japan in 2027: mining/refining/separation now count and are not in the
    # ledger, so it needs review rather than a clean bill.
    assert lines["L2"]["dfars_flag"] == "review" and lines["L2"]["dfars_regime"] == "2027"
    # L3: tungsten powder produced in China, melted in Vietnam: produced in a covered country.
    assert lines["L3"]["dfars_flag"] == "prohibited"
    assert lines["L3"]["dfars_countries_checked"] == "origin+smelt_cast"
    # Cobalt oxide and Li-ion cells are not DFARS covered materials.
    assert {lines[k]["dfars_flag"] for k in ("L4", "L5", "L6", "L7")} == {None}


def test_dfars_edge_cases_and_redating(
    make_ledger: Callable[[list[dict[str, object]]], pl.DataFrame],
) -> None:
    ledger = make_ledger(
        [
            # Tantalum powder from Kazakhstan in 2025: covered material, country not covered.
            {"line_id": "T1", "entry_date": date(2025, 1, 10), "hts": "8103200000", "country_origin": "KAZ",
             "customs_value_usd": 1.0},
            # 'Other' metal magnet (8505.11.0090) from China: may be NdFeB, covered country -> review.
            {"line_id": "M9", "entry_date": date(2025, 1, 10), "hts": "8505110090", "country_origin": "CHN",
             "customs_value_usd": 1.0},
            # A motor declaring neodymium content: a component that may contain covered magnets.
            {"line_id": "E1", "entry_date": date(2025, 1, 10), "hts": "8501320000", "country_origin": "RUS",
             "customs_value_usd": 1.0, "content_mineral": "neodymium", "content_kg": 2.0},
            # Before the rule took effect (30 April 2019).
            {"line_id": "OLD", "entry_date": date(2018, 6, 1), "hts": "8505110070", "country_origin": "CHN",
             "customs_value_usd": 1.0},
        ]
    )  # fmt: skip
    dated = ledger.with_columns(pl.col("entry_date").alias("_as_of"))
    lines = _by(dfars_lines(dated), "line_id")
    assert lines["T1"]["dfars_material"] == "tantalum metal and alloys"
    assert lines["T1"]["dfars_flag"] == "clear"
    assert lines["M9"]["dfars_certainty"] == "possible" and lines["M9"]["dfars_flag"] == "review"
    assert lines["E1"]["dfars_material"] == "component containing magnets"
    assert lines["E1"]["dfars_flag"] == "review"
    assert lines["OLD"]["dfars_flag"] is None and "before" in str(lines["OLD"]["dfars_reason"])
    # Re-dated to 2027: the Kazakh tantalum needs its upstream chain documented.
    redated = _by(dfars_lines(ledger.with_columns(pl.lit(date(2027, 3, 1)).alias("_as_of"))), "line_id")
    assert redated["T1"]["dfars_flag"] == "review" and redated["T1"]["dfars_regime"] == "2027"
    assert redated["OLD"]["dfars_flag"] == "prohibited"


def test_company_mode_geopolrisk(small_ledger: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    ledger, classification = small_ledger
    result = ledger_risk(ledger, classification)
    rows = _by(result.geopolrisk, "mineral_id")
    from critmin.risk.sources import load_governance

    gov = load_governance().filter(pl.col("year") == 2024)
    pv = dict(zip(gov["country"], gov["estimate"], strict=True))

    def g(country: str) -> float:
        return min(1.0, max(0.0, (2.5 - pv[country]) / 5))

    cobalt = rows["cobalt"]
    # 1.0 t from the DRC and 0.5 t from Canada (2025 entries use the latest data year, 2024):
    # import risk = (1.0 g_COD + 0.5 g_CAN) / 1.5; price = 40 k$ / 1.5 t.
    assert cobalt["year"] == 2024
    assert cobalt["import_risk"] == pytest.approx((1.0 * g("COD") + 0.5 * g("CAN")) / 1.5)
    assert cobalt["price"] == pytest.approx(40 / 1.5)
    assert cobalt["score"] == pytest.approx(cobalt["hhi"] * cobalt["import_risk"])  # type: ignore[operator]
    # Single rare earths are assessed on the rare-earth total's production concentration.
    assert rows["neodymium"]["production_basis"] == "rare_earths"
    # Lithium comes from the content-factor line alone; the line declared by count cannot enter company
    # mode, and the report says so rather than dropping it silently.
    lithium = rows["lithium"]
    assert lithium["import_qty_t"] == pytest.approx(300 * 0.023209 / 1000)
    assert lithium["import_risk"] == pytest.approx(g("KOR"))
    assert (
        lithium["left_out"]
        == "1 lines left out: mineral content unknown (declare content_kg or a mass quantity)"
    )
    assert result.n_lines == 7 and result.n_classified == 7


def test_usgs_nir_and_import_sources() -> None:
    cobalt = net_import_reliance("cobalt", 2024)
    assert cobalt.height >= 1 and cobalt["nir_pct"][0] == 74.0
    sources = import_sources("lithium")
    chile = sources.filter(pl.col("iso3") == "CHL")
    assert chile["share_pct"][0] == 54.0
