"""The shipped HTS 2025 schedule, its rate parsing and the code validation users rely on."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from critmin import refdata
from critmin.paths import CURATED_DIR, raw_data_dir
from critmin.refdata import hts
from critmin.refdata.builders import all_specs
from critmin.refdata.builders import hts as hts_builder
from critmin.refdata.registry import build_all

MY_DATASETS = (
    "hts_schedule",
    "hts_unparsed_rates",
    "hts_special_programs",
    "hts_program_codes",
    "pcmdp_scope",
    "derivative_products",
    "content_factors",
)


def _line(code: str) -> dict[str, object]:
    rows = hts.schedule().filter(pl.col("hts") == code)
    assert rows.height == 1, f"{code} should be exactly one schedule row"
    return rows.row(0, named=True)


# --- the schedule ------------------------------------------------------------------------------------------


def test_ndfeb_magnet_line_has_units_rate_and_path() -> None:
    line = _line("8505110070")
    assert line["hts_display"] == "8505.11.00.70"
    assert line["level"] == 10 and line["chapter"] == "85" and line["heading"] == "8505"
    assert line["hts8"] == "85051100" and line["hts10"] == "8505110070"
    assert line["description"] == "Sintered neodymium-iron-boron"
    assert line["description_path"].startswith("Electromagnets; permanent magnets")
    assert line["description_path"].endswith(
        "Permanent magnets and articles intended to become permanent magnets "
        "after magnetization > Of metal > Sintered neodymium-iron-boron"
    )
    # printed units "No., kg": the first is the count, the second the mass
    assert line["units"] == ["No.", "kg"]
    assert (line["unit"], line["unit2"]) == ("no", "kg")
    # the 10-digit suffix prints no rate; it takes 2.1% (and column 2 45%) from 8505.11.00
    assert line["rate_inherited"] is True and line["rate_source"] == "85051100"
    assert (line["general_text"], line["rate_kind"], line["ad_valorem_pct"]) == ("2.1%", "ad_valorem", 2.1)
    assert (line["col2_text"], line["col2_ad_valorem_pct"]) == ("45%", 45.0)
    assert line["is_leaf"] is True
    assert _line("85051100")["is_leaf"] is False


def test_rare_earth_compounds_2846_90_80() -> None:
    line = _line("28469080")
    assert (line["general_text"], line["rate_kind"], line["ad_valorem_pct"]) == ("3.7%", "ad_valorem", 3.7)
    child = _line("2846908070")
    assert child["rate_inherited"] is True and child["ad_valorem_pct"] == 3.7
    assert child["description_path"].endswith("Containing lanthanum as the predominant metal")


def test_gallium_line_and_section_301_footnote() -> None:
    line = _line("8112921000")
    assert line["description"] == "Gallium"
    assert (line["general_text"], line["ad_valorem_pct"], line["unit"]) == ("3%", 3.0, "kg")
    assert line["col2_ad_valorem_pct"] == 25.0
    # the JSON export's general-column footnote "See 9903.88.03." (Section 301 list 3)
    assert "99038803" in line["chapter99_refs"]
    # chapters whose footnotes are not in the raw data carry null, not an empty "no footnote"
    assert _line("0101300000")["chapter99_refs"] is None


def test_compound_rate_with_content_basis_on_a_real_line() -> None:
    line = _line("2613100000")  # roasted molybdenum ores
    assert line["general_text"] == "12.8¢/kg on molybdenum content + 1.8%"
    assert line["rate_kind"] == "compound"
    assert line["specific_amount"] == pytest.approx(0.128)  # 12.8 cents = 0.128 USD
    assert (line["specific_unit"], line["specific_qualifier"]) == ("kg", "on molybdenum content")
    assert line["ad_valorem_pct"] == 1.8
    assert (line["unit"], line["unit2"], line["unit2_basis"]) == ("kg", "kg", "Mo")


def test_refined_lead_ad_valorem_on_content_value() -> None:
    line = _line("7801100000")
    assert line["ad_valorem_pct"] == 2.5
    assert line["ad_valorem_basis"] == "on the value of the lead content"


def test_every_chapter_is_present_and_codes_are_digits() -> None:
    frame = hts.schedule()
    chapters = set(frame.get_column("chapter").unique().to_list())
    assert {f"{n:02d}" for n in range(1, 98) if n != 77} <= chapters  # chapter 77 is reserved
    assert {"98", "99"} <= chapters
    assert frame.get_column("hts").str.contains(r"^\d{4}(\d{2}){0,3}$").all()
    assert not frame.get_column("hts").is_duplicated().any()


def test_statistical_suffixes_inherit_from_their_8_digit_line() -> None:
    frame = hts.schedule()
    tens = frame.filter(pl.col("level") == 10)
    inherited = tens.filter(pl.col("rate_inherited"))
    assert (inherited.get_column("rate_source") == inherited.get_column("hts8")).all()
    eights = frame.filter(pl.col("level") == 8).select(
        pl.col("hts").alias("rate_source"), pl.col("general_text").alias("parent_text")
    )
    joined = inherited.join(eights, on="rate_source", how="left")
    assert (joined.get_column("general_text") == joined.get_column("parent_text")).all()
    # after inheritance only one 10-digit line (a chapter 98 provision with a special-column rate) lacks one
    assert tens.filter(pl.col("general_text").is_null()).get_column("hts").to_list() == ["9802009100"]


def test_unparsed_rates_are_listed_not_dropped() -> None:
    frame = hts.schedule().filter(~pl.col("rate_inherited"))
    unparsed = refdata.load("hts_unparsed_rates")
    general = unparsed.filter(pl.col("rate_column") == "general")
    own_unparsed = frame.filter(pl.col("rate_parsed") == False)  # noqa: E712
    assert set(general.get_column("hts")) == set(own_unparsed.get_column("hts"))
    # counts measured on the 2025 basic edition: 322 general, 1,852 column 2 (mostly chapter 99 "No change")
    assert general.height == 322
    assert unparsed.filter(pl.col("rate_column") == "column2").height == 1852
    assert "The duty provided in the applicable subheading + 25%" in set(general.get_column("text"))
    # the text of every unparsed line is kept in the schedule
    assert own_unparsed.get_column("general_text").is_not_null().all()


# --- rate parsing ------------------------------------------------------------------------------------------


def test_parse_free_and_ad_valorem() -> None:
    free = hts.parse_rate("Free")
    assert (free.kind, free.ad_valorem_pct, free.parsed, free.specific) == ("free", 0.0, True, ())
    assert hts.parse_rate("2.1%").ad_valorem_pct == 2.1
    third = hts.parse_rate("33 1/3%")  # column 2 of some textile lines
    assert third.kind == "ad_valorem" and third.ad_valorem_pct == pytest.approx(100 / 3)


def test_parse_compound_converts_cents_to_dollars() -> None:
    rate = hts.parse_rate("1.7¢/kg + 2.5%")
    assert rate.kind == "compound" and rate.parsed
    assert rate.ad_valorem_pct == 2.5
    (component,) = rate.specific
    assert component.amount == pytest.approx(0.017)  # 1.7 cents per kg = 0.017 USD per kg
    assert component.unit == "kg" and component.qualifier is None
    dollars = hts.parse_rate("$1.035/kg +13.6%")
    assert dollars.specific[0].amount == 1.035 and dollars.ad_valorem_pct == 13.6


def test_parse_specific_units_and_two_components() -> None:
    each = hts.parse_rate("23¢ each + 3.2%")
    assert (each.specific[0].amount, each.specific[0].unit) == (0.23, "no")
    two = hts.parse_rate("4.4¢/liter + 31.4¢/pf. liter")
    assert two.kind == "specific"
    assert [(c.amount, c.unit) for c in two.specific] == [(0.044, "l"), (0.314, "pf_l")]
    assert hts.parse_rate("$1.25/t").specific[0].unit == "t"


def test_unparseable_rates_keep_their_text() -> None:
    for text in (
        "The duty provided in the applicable subheading + 25%",
        "3.1% on the movement + 4.2% on the battery",
        "8.8¢/kg on copper content + 3.3¢/kg on lead content + 3.7¢/kg on zinc content",
        "",
    ):
        rate = hts.parse_rate(text)
        assert rate.kind == "other" and not rate.parsed and rate.text == text


# --- normalisation, validation, neighbours -----------------------------------------------------------------


def test_normalise_hts() -> None:
    raw = pl.Series(
        "hts", ["8505.11.00.70", " 2846 90 80", "850511", "85051", "85A51100", None, "2804-61-00"]
    )
    assert hts.normalise_hts(raw).to_list() == [
        "8505110070",
        "28469080",
        "850511",
        None,
        None,
        None,
        "28046100",
    ]
    # a spreadsheet that read codes as numbers lost the leading zero of chapters 01-09
    numbers = pl.Series("hts", [101300000, 8505110070, 28469080])
    assert hts.normalise_hts(numbers).to_list() == ["0101300000", "8505110070", "28469080"]


def test_validate_codes_keeps_order_and_explains() -> None:
    codes = pl.Series(["8505.11.00.70", "85051100", "850511", "8505110080", "99038803", "9903880300", "abc"])
    result = hts.validate_codes(codes)
    assert result.columns == ["input", "hts", "status", "suggestions"]
    assert result.get_column("status").to_list() == [
        "valid",
        "valid_prefix",  # 8505.11.00 has statistical suffixes; an entry line needs one of them
        "valid_prefix",
        "unknown",
        "valid",  # a chapter 99 line has no statistical suffix
        "valid",  # ... and is accepted in its 00-padded 10-digit form
        "unknown",
    ]
    suggestions = result.get_column("suggestions").to_list()
    assert suggestions[3][:2] == ["8505110070", "8505110090"]
    assert suggestions[0] == [] and suggestions[6] == []


def test_nearest_prefers_siblings_then_edit_distance() -> None:
    assert hts.nearest("8505.11.00.80", k=2) == ["8505110070", "8505110090"]
    # a dropped digit keeps the prefix; a wrong first digit shares no prefix and falls to edit distance
    assert hts.nearest("811292100", k=1) == ["8112921000"]
    assert hts.nearest("0112921000", k=1) == ["8112921000"]


# --- special programmes -------------------------------------------------------------------------------------


def test_special_programs_long_form() -> None:
    special = refdata.load("hts_special_programs")
    magnets = special.filter(pl.col("hts") == "85051100")
    assert set(magnets.get_column("program")) >= {"A", "AU", "B", "KR", "JP", "S", "SG"}
    assert (magnets.get_column("rate_text") == "Free").all()
    assert (magnets.get_column("ad_valorem_pct") == 0.0).all()
    japan = special.filter((pl.col("hts") == "28469080") & (pl.col("program") == "A"))
    assert japan.height == 1 and japan.item(0, "kind") == "free"


def test_every_programme_code_is_explained() -> None:
    codes = refdata.load("hts_program_codes")
    used = set(refdata.load("hts_special_programs").get_column("program").drop_nulls())
    assert used <= set(codes.get_column("code"))
    usmca = codes.filter(pl.col("code") == "S").row(0, named=True)
    assert usmca["partners"] == ["CAN", "MEX"] and usmca["status"] == "in_force"
    cafta = codes.filter(pl.col("code") == "P").row(0, named=True)
    assert cafta["partners"] == ["CRI", "DOM", "GTM", "HND", "NIC", "SLV"]
    assert codes.filter(pl.col("code") == "A").item(0, "status") == "expired"


def test_split_special_text() -> None:
    text = "Free (A*,AU,BH,CL,CO,D,E IL,JO,KR,MA,.OM,P) 2.5% (JP) See U.S. note 3(e) (CO,PE)"
    pairs = hts_builder._split_special(text)
    assert ("E", "Free") in pairs and ("IL", "Free") in pairs and ("OM", "Free") in pairs
    assert ("JP", "2.5%") in pairs and ("PE", "See U.S. note 3(e)") in pairs


# --- determinism -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_rebuild_matches_manifest(tmp_path: Path) -> None:
    raw = raw_data_dir()
    if not raw.is_dir():
        pytest.fail(f"raw data directory {raw} is missing; set CRITMIN_RAW_DIR")
    hts_builder._schedule_cached.cache_clear()
    records = build_all(all_specs(), raw, tmp_path, CURATED_DIR, only=set(MY_DATASETS))
    built = {record.id: record.sha256 for record in records if record.id in MY_DATASETS}
    shipped = {record.id: record.sha256 for record in refdata.read_manifest() if record.id in MY_DATASETS}
    assert built == shipped
