"""2026 tariff-measure datasets (Section 301 forced labor and Brazil, Section 232 metals and semiconductors)
and the two corrections to the Yale product lists (s232_products metal types, s301_product_lists governs)."""

from __future__ import annotations

import polars as pl

from critmin import refdata
from critmin.paths import raw_data_dir
from critmin.refdata.builders import tariff_2026, tariff_lists
from critmin.refdata.registry import get_record

RAW = raw_data_dir() / tariff_2026.RAW
HEADING = r"^\d{4}\.\d{2}\.\d{2}$"


def test_builds_are_deterministic_and_match_the_shipped_files() -> None:
    for spec in tariff_2026.SPECS:
        built = spec.build(raw_data_dir())
        assert built.equals(spec.build(raw_data_dir())), spec.id
        assert built.equals(refdata.load(spec.id)), spec.id
        record = get_record(spec.id)
        assert record.retrieved == "2026-12-05"
        assert record.raw_inputs and record.vintage and record.description
        if spec.id == "hts_ch99_2026_rev6":
            assert "public domain" in record.licence and "MIT" in record.licence
            assert tariff_2026.YALE_COMMIT in record.source
        else:
            assert record.licence.startswith("no licence stated; factual government tariff data")
            assert "jasonmeasures/Klearnow-Tariff" in record.source and "commit" in record.source


def test_hts_lists_have_digit_prefixes_and_string_filter_columns() -> None:
    lists = {
        "s301_forced_labor_exemptions": ["heading", "basis", "applies_to"],
        "s301_brazil_exempt_products": ["heading", "basis"],
        "s232_metals_2026_products": ["note16_list", "metal", "candidate_heading"],
    }
    for dataset_id, columns in lists.items():
        frame = refdata.load(dataset_id)
        assert frame["hts_prefix"].str.contains(r"^\d{4,10}$").all(), dataset_id
        for column in columns:
            assert frame.schema[column] == pl.String, (dataset_id, column)


def test_forced_labor_rates() -> None:
    rates = refdata.load("s301_forced_labor_rates")
    assert rates.height == 59 + 27  # 59 economies and the EU's 27 member states
    assert rates["iso3"].is_unique().all() and rates["iso3"].str.contains(r"^[A-Z]{3}$").all()
    eu = rates.filter(pl.col("economy") == "European Union")
    assert eu.height == 27 and set(eu["source_code"]) == {"EU"}
    assert set(eu["iso3"]) >= {"DEU", "FRA", "HRV", "IRL"} and "GBR" not in set(eu["iso3"])
    assert eu.select(
        "mechanic", "cap", "no_additional_duty_heading", "combined_to_cap_heading"
    ).unique().rows() == [("cap", 0.1, "9903.05.38", "9903.05.39")]
    by_iso3 = {row["iso3"]: row for row in rates.iter_rows(named=True)}
    assert by_iso3["TWN"]["cap"] == 0.1 and by_iso3["TWN"]["combined_to_cap_heading"] == "9903.05.76"
    assert by_iso3["JPN"]["cap"] == 0.125 and by_iso3["JPN"]["no_additional_duty_heading"] == "9903.05.48"
    assert by_iso3["CHE"]["mechanic"] == "cap" and by_iso3["KOR"]["mechanic"] == "cap"
    assert by_iso3["CHN"]["rate"] == 0.125 and by_iso3["CHN"]["heading"] == "9903.05.31"
    assert by_iso3["GBR"]["rate"] == 0.1 and by_iso3["TUR"]["heading"] == "9903.05.79"
    assert by_iso3["HKG"]["economy"] == "Hong Kong"
    flat = rates.filter(pl.col("mechanic") == "flat")
    assert flat.height == 55 and flat["rate"].is_in([0.1, 0.125]).all() and flat["cap"].is_null().all()
    assert str(rates["effective_from"].unique().item()) == "2026-07-24"


def test_forced_labor_exemptions_keep_every_row() -> None:
    frame = refdata.load("s301_forced_labor_exemptions")
    assert frame.height == 8_778 == pl.read_csv(RAW / "s301_forced_labor_exemptions.csv").height
    assert frame["hts_prefix"].n_unique() == 4_070
    assert frame["heading"].str.contains(HEADING).all()
    applies = dict(frame.group_by("applies_to").len().iter_rows())
    assert (
        applies["all"] == 2_120 and applies["EU27"] == 43 and applies["GBR"] == 49 and applies["JOR"] == 1_889
    )
    assert set(frame.filter(pl.col("applies_to") == "EU27")["heading"]) == {"9903.05.97"}
    magnets = frame.filter(pl.col("hts_prefix") == "8505110070")
    assert magnets.select("heading", "applies_to").rows() == [("9903.05.86", "all")]


def test_brazil_exemptions() -> None:
    frame = refdata.load("s301_brazil_exempt_products")
    counts = dict(frame.group_by("heading").len().iter_rows())
    assert counts == {"9903.05.03": 864, "9903.05.04": 11, "9903.05.05": 546, "9903.05.06": 705}


def test_metals_products_and_headings() -> None:
    products = refdata.load("s232_metals_2026_products")
    assert products.height == 5_222
    assert products.select("hts_prefix", "note16_list").n_unique() == 809
    assert set(products["metal"]) == {"steel", "aluminum", "copper"}
    assert products["candidate_heading"].str.contains(HEADING).all()
    row = products.filter(pl.col("hts_prefix") == "7308200035").select("note16_list", "metal", "derivative")
    assert row.unique().rows() == [("(ii)", "aluminum", True)]
    headings = refdata.load("s232_metals_2026_headings")
    assert headings.height == 28 and headings["heading"].str.contains(HEADING).all()
    rates = dict(zip(headings["heading"], headings["rate"], strict=True))
    assert rates["9903.82.02"] == 0.5 and rates["9903.82.04"] == 0.25 and rates["9903.85.67"] == 2.0
    assert all(rates[f"9903.82.{n}"] is None for n in range(20, 27))
    assert headings.schema["effective_from"] == pl.Date


def test_semiconductors() -> None:
    frame = refdata.load("s232_semiconductors_2026")
    assert frame["heading"].to_list() == [f"9903.79.0{n}" for n in range(1, 10)]
    assert frame["rate"].to_list() == [0.25] + [0.0] * 8
    assert set(frame["hts_scope"]) == {"847150;847180;847330"}


def test_annex_metal_types_corrected_from_the_chapter() -> None:
    raw = pl.read_csv(RAW.parent / tariff_lists.RAW / "s232_annex_products.csv", infer_schema=False)
    raw = raw.select(
        pl.col("hts_prefix").str.replace_all(r"[^0-9]", ""),
        ("annex_" + pl.col("annex")).alias("list"),
        pl.col("metal_type").alias("labelled"),
    )
    shipped = refdata.load("s232_products").filter(pl.col("list").str.starts_with("annex_"))
    changed = shipped.join(raw, on=["hts_prefix", "list"]).filter(pl.col("metal_type") != pl.col("labelled"))
    assert changed.height == tariff_lists.ANNEX_METAL_CORRECTIONS == 10
    assert set(changed["labelled"]) == {"steel"} and set(changed["metal_type"]) == {"aluminum"}
    assert set(changed["hts_prefix"].str.slice(0, 2)) == {"76"}
    chapter = shipped.with_columns(pl.col("hts_prefix").str.slice(0, 2).alias("chapter"))
    assert set(chapter.filter(pl.col("chapter") == "76")["metal_type"]) == {"aluminum"}
    assert set(chapter.filter(pl.col("chapter") == "74")["metal_type"]) == {"copper"}
    # 7308.20.0035 is a derivative aluminum article in note 16(c)(ii): chapter 73 keeps its label
    assert shipped.filter(pl.col("hts_prefix") == "7308200035")["metal_type"].to_list() == ["aluminum"]


def test_section_301_later_list_governs() -> None:
    frame = refdata.load("s301_product_lists")
    assert frame.height == 12_223
    assert frame.schema["governs"] == pl.String and frame.schema["also_listed"] == pl.String
    capacitors = frame.filter(pl.col("hts_prefix") == "85322100").sort("list")
    assert capacitors.select("list", "governs", "also_listed").rows() == [("1", "no", "3"), ("3", "yes", "1")]
    original = frame.filter(pl.col("list").is_in(tariff_lists.ORIGINAL_LISTS))
    per_code = original.group_by("hts_prefix").agg(
        pl.len().alias("rows"), (pl.col("governs") == "yes").sum().alias("governing")
    )
    assert (per_code["governing"] == 1).all()
    assert per_code.filter(pl.col("rows") > 1).height == 1_049
    assert (
        frame.group_by("hts_prefix").agg(pl.col("list").n_unique()).filter(pl.col("list") > 1).height == 1_055
    )
    assert original.filter(pl.col("governs") == "no").height == 1_191
    review = frame.filter(~pl.col("list").is_in(tariff_lists.ORIGINAL_LISTS))
    assert review.height == 389 and (review["governs"] == "yes").all()
    three = frame.filter(pl.col("hts_prefix") == "29319090").sort("list")
    assert three.select("list", "governs", "also_listed").rows() == [
        ("3", "no", "4B;3_addl"),  # 4B was suspended before it took effect: 3_addl governs
        ("3_addl", "yes", "4B;3"),
        ("4B", "no", "3;3_addl"),
    ]
