"""GeoPolRisk: the geopolrisk-py published test case (USA 2022), conventions, regions, shipped data."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from critmin.risk.geopolrisk import (
    CU_MIDPOINT,
    JSON_KEYS,
    assess,
    company_geopolrisk,
    geopolrisk,
    national,
    normalised_pv,
    parse_importer,
    production_hhi,
)
from critmin.risk.sources import load_production

# Tolerances of the geopolrisk-py end-to-end test (tests/test_geopolrisk_data_results_from_excelfile.py).
HHI_DP, NUM_DP, SCORE_DP, CF_DP = 6, 5, 3, 2


def _by_hand(trade: pl.DataFrame, production: pl.DataFrame, material: str) -> dict[str, float]:
    """The published formulas in plain Python, row by row: the differential oracle for the engine."""
    prod = [
        (r["country"], r["quantity_t"] or 0.0)
        for r in production.iter_rows(named=True)
        if r["material"] == material and r["year"] == 2022 and r["country"] != "DELETE"
    ]
    total = sum(q for _, q in prod)
    hhi = sum(q * q for _, q in prod) / total**2
    own = sum(q for c, q in prod if c == "USA")
    flows = [r for r in trade.iter_rows(named=True) if r["material"] == material]
    numerator = sum(r["quantity_t"] * r["g"] for r in flows)
    qty = sum(r["quantity_t"] for r in flows)
    value = sum(r["value_kusd"] for r in flows)
    import_risk = numerator / (qty + own)
    price = value / qty
    score = hhi * import_risk
    return {
        "hhi": hhi,
        "numerator": numerator,
        "import_qty_t": qty,
        "domestic_production_t": own,
        "import_risk": import_risk,
        "score": score,
        "price": price,
        "cf": score * price / CU_MIDPOINT,
    }


@pytest.fixture(scope="module")
def published_case(gpr_trade: pl.DataFrame, gpr_production: pl.DataFrame) -> pl.DataFrame:
    return geopolrisk(gpr_trade, gpr_production, regions={"USA": ("USA",)}, years=[2022])


def test_hhi_matches_the_published_values_to_6dp(
    published_case: pl.DataFrame, oracle: Callable[[str], pl.DataFrame]
) -> None:
    examples = oracle("hhi_published_examples.csv").filter(pl.col("scale") == "0-1")
    expected = {
        "Nickel": float(examples.filter(pl.col("example") == "ex3_nickel_2022")["hhi_expected"][0]),
        "Manganese": float(examples.filter(pl.col("example") == "ex4_manganese_2022")["hhi_expected"][0]),
        "Graphite": float(examples.filter(pl.col("example") == "ex5_graphite_2022")["hhi_expected"][0]),
    }
    got = dict(zip(published_case["material"], published_case["hhi"], strict=True))
    for material, value in expected.items():
        assert round(got[material], HHI_DP) == round(value, HHI_DP), material


@pytest.mark.parametrize("material", ["Graphite", "Manganese", "Nickel"])
def test_published_case_equals_the_formulas_by_hand(
    published_case: pl.DataFrame, gpr_trade: pl.DataFrame, gpr_production: pl.DataFrame, material: str
) -> None:
    expected = _by_hand(gpr_trade, gpr_production, material)
    row = published_case.filter(pl.col("material") == material).row(0, named=True)
    assert round(row["hhi"], HHI_DP) == round(expected["hhi"], HHI_DP)
    assert round(row["numerator"], NUM_DP) == round(expected["numerator"], NUM_DP)
    assert round(row["import_qty_t"], NUM_DP) == round(expected["import_qty_t"], NUM_DP)
    assert round(row["import_risk"], SCORE_DP) == round(expected["import_risk"], SCORE_DP)
    assert round(row["score"], SCORE_DP) == round(expected["score"], SCORE_DP)
    assert round(row["price"], CF_DP) == round(expected["price"], CF_DP)
    assert round(row["cf"], CF_DP) == round(expected["cf"], CF_DP)
    # And far tighter than the published tolerances: the same arithmetic, vectorised.
    for key, value in expected.items():
        assert row[key] == pytest.approx(value, rel=1e-12), key


def test_published_case_values(published_case: pl.DataFrame) -> None:
    """The numbers a user would check, with the arithmetic written out for nickel."""
    rows = {r["material"]: r for r in published_case.iter_rows(named=True)}
    nickel = rows["Nickel"]
    # 10 partners, 37.495 t in total worth 180.23 k$; numerator = sum(qty x g) = 21.17967...; the U.S.
    # mined 17,500 t itself, so import risk = 21.17967 / (37.495 + 17,500) = 0.0012077.
    assert nickel["import_qty_t"] == pytest.approx(37.495)
    assert nickel["import_value_kusd"] == pytest.approx(180.23)
    assert nickel["domestic_production_t"] == 17_500
    assert nickel["import_risk"] == pytest.approx(nickel["numerator"] / (37.495 + 17_500))
    assert nickel["price"] == pytest.approx(180.23 / 37.495)  # 4.8068 k$/t = USD/kg
    assert round(nickel["score"], 3) == 0.000
    # Graphite: no U.S. mine production, so import risk is the quantity-weighted mean g of partners.
    graphite = rows["Graphite"]
    assert graphite["domestic_production_t"] == 0
    assert round(graphite["hhi"], 6) == 0.470663
    assert round(graphite["score"], 3) == 0.275
    assert round(graphite["cf"], 2) == 1.50
    assert round(graphite["price"], 2) == 2.23
    manganese = rows["Manganese"]
    assert round(manganese["score"], 3) == 0.111
    assert round(manganese["cf"], 2) == 0.11


def test_pv_normalisation() -> None:
    pv = pl.Series("pv", [1.16952, -2.4173, 3.0, -3.0, None])
    g = pl.select(normalised_pv(pl.lit(pv))).to_series().to_list()
    # Andorra 1996: (2.5 - 1.16952) / 5 = 0.266096; Afghanistan ~0.98346; clipped to [0, 1]; null stays null.
    assert g[0] == pytest.approx(0.266096)
    assert g[1] == pytest.approx(0.98346)
    assert g[2:] == [0.0, 1.0, None]


def _toy() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Two importers (AAA, BBB) buying from each other and from CCC and a country with no WGI (DDD)."""
    trade = pl.DataFrame(
        {
            "material": ["m"] * 4,
            "year": [2024] * 4,
            "importer": ["AAA", "AAA", "AAA", "BBB"],
            "exporter": ["BBB", "CCC", "DDD", "CCC"],
            "quantity_t": [10.0, 30.0, 20.0, 40.0],
            "value_kusd": [100.0, 150.0, 200.0, 400.0],
        }
    )
    production = pl.DataFrame(
        {
            "material": ["m"] * 4,
            "year": [2024] * 4,
            "country": ["AAA", "CCC", "BBB", "Total"],
            "quantity_t": [40.0, 40.0, 20.0, 100.0],
        }
    )
    # PV 0.0 -> g 0.5; PV -1.5 -> g 0.8; PV 1.5 -> g 0.2 (BBB's 2023 value applies to 2024: latest earlier).
    governance = pl.DataFrame(
        {"country": ["BBB", "CCC", "AAA"], "year": [2023, 2024, 2024], "estimate": [1.5, -1.5, 0.0]}
    )
    return trade, production, governance


def test_country_mode_by_hand() -> None:
    trade, production, governance = _toy()
    result = geopolrisk(trade, production, governance)
    a = result.filter(pl.col("importer") == "AAA").row(0, named=True)
    # HHI: (40^2 + 40^2 + 20^2) / 100^2 = 0.36 (the Total row is not a producer).
    assert a["hhi"] == pytest.approx(0.36)
    # Numerator: 10 x 0.2 (BBB) + 30 x 0.8 (CCC) + 20 x 0.5 (DDD, no WGI) = 2 + 24 + 10 = 36.
    # Import risk: 36 / (60 imported + 40 own production) = 0.36; score 0.36 x 0.36 = 0.1296.
    assert a["numerator"] == pytest.approx(36.0)
    assert a["import_risk"] == pytest.approx(0.36)
    assert a["score"] == pytest.approx(0.1296)
    # Price 450 k$ / 60 t = 7.5 USD/kg; midpoint 0.972; CF 0.972 / 0.409412948 = 2.37413...
    assert a["price"] == pytest.approx(7.5)
    assert a["cf"] == pytest.approx(0.1296 * 7.5 / 0.409412948)


def test_region_mode_intra_region_partners_are_risk_free() -> None:
    trade, production, governance = _toy()
    result = geopolrisk(trade, production, governance, regions={"AB": ("AAA", "BBB")})
    row = result.row(0, named=True)
    # AAA's 10 t from BBB is inside the region: g = 0 but it still counts in F.
    # Numerator: 0 + 30 x 0.8 + 20 x 0.5 + 40 x 0.8 (BBB from CCC) = 24 + 10 + 32 = 66; F = 100.
    # Own production of a region is 0 by default (as geopolrisk-py): import risk 66 / 100 = 0.66.
    assert row["import_qty_t"] == pytest.approx(100.0)
    assert row["numerator"] == pytest.approx(66.0)
    assert row["domestic_production_t"] == 0
    assert row["import_risk"] == pytest.approx(0.66)
    summed = geopolrisk(
        trade, production, governance, regions={"AB": ("AAA", "BBB")}, region_production="sum"
    )
    # With the members' production (40 + 20 = 60): 66 / 160 = 0.4125.
    assert summed["import_risk"][0] == pytest.approx(66 / 160)


def test_no_imports_gives_zero_risk_and_no_price() -> None:
    trade, production, governance = _toy()
    result = geopolrisk(trade, production, governance, regions={"CCC": ("CCC",), "EEE": ("EEE",)})
    ccc = result.filter(pl.col("importer") == "CCC").row(0, named=True)
    assert ccc["import_risk"] == 0.0 and ccc["score"] == 0.0
    assert ccc["price"] is None and ccc["cf"] is None
    assert "no recorded imports" in ccc["note"]
    eee = result.filter(pl.col("importer") == "EEE").row(0, named=True)
    assert eee["import_risk"] is None and "no own production" in eee["note"]


def test_company_mode_by_hand() -> None:
    _, production, governance = _toy()
    purchases = pl.DataFrame(
        {
            "material": ["m", "m"],
            "year": [2024, 2024],
            "exporter": ["CCC", "BBB"],
            "quantity_t": [3.0, 1.0],
            "value_kusd": [30.0, 14.0],
        }
    )
    row = company_geopolrisk(purchases, production, governance).row(0, named=True)
    # A company produces nothing: import risk = (3 x 0.8 + 1 x 0.2) / 4 = 0.65; price 44 / 4 = 11 USD/kg.
    assert row["import_risk"] == pytest.approx(0.65)
    assert row["score"] == pytest.approx(0.36 * 0.65)
    assert row["price"] == pytest.approx(11.0)


def test_shipped_production_is_the_workbook_plus_later_additions(gpr_production: pl.DataFrame) -> None:
    """The shipped World Mining Data (geopolrisk-py 2.0.1) differs from the test workbook by rows added later
    (Tanzanian graphite, Bulgarian manganese); without them the published HHIs come back exactly."""
    shipped = load_production().filter(pl.col("year") == 2022)
    additions = {"graphite": ["TZA"], "manganese": ["BGR"], "nickel": []}
    for material, extra in additions.items():
        rows = shipped.filter((pl.col("material") == material) & ~pl.col("country").is_in(extra))
        name = material.capitalize()
        published = production_hhi(gpr_production.filter(pl.col("material") == name, pl.col("year") == 2022))
        ours = production_hhi(rows)
        assert round(ours["hhi"][0], 10) == round(published["hhi"][0], 10), material


def test_shipped_data_usa_2022() -> None:
    record = assess("USA", "cobalt", 2022)
    assert set(JSON_KEYS) <= set(record)
    assert record["importer"] == "USA" and record["material"] == "cobalt" and record["year"] == 2022
    assert 0 < record["score"] <= record["hhi"] <= 1
    assert record["cf"] == pytest.approx(record["score"] * record["price"] / CU_MIDPOINT)
    # The engine's HHI is the concentration module's (same World Mining Data table and year).
    from critmin.risk.concentration import production_concentration

    wmd = production_concentration("cobalt", year=2022, source="wmd")
    assert record["hhi"] == pytest.approx(wmd["hhi"][0], rel=1e-12)


def test_every_importer_2024_table() -> None:
    table = national(year=2024)
    assert table["importer"].n_unique() > 200
    assert table.filter(pl.col("score").is_not_null() & ~pl.col("score").is_between(0, 1)).is_empty()
    usa = table.filter((pl.col("importer") == "USA") & (pl.col("material") == "graphite")).row(0, named=True)
    assert usa["n_partners"] > 10


def test_parse_importer_forms() -> None:
    assert parse_importer("USA", 2024) == ("USA", ("USA",))
    assert parse_importer("Mexico, canada", 2024) == ("CAN+MEX", ("CAN", "MEX"))
    region, members = parse_importer("eu27", 2024)
    assert region == "eu27" and len(members) == 27 and "DEU" in members and "GBR" not in members
