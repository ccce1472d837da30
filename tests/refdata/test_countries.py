"""Country resolution: every code system and the spellings found in real import files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from critmin.errors import ReferenceDataError, UnknownCountryError
from critmin.paths import CURATED_DIR, raw_data_dir
from critmin.refdata.builders import countries as builder
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.refdata.countries import (
    aliases,
    countries,
    display_name,
    normalise_key,
    resolve,
    resolve_series,
    suggest,
    unresolved,
)
from critmin.refdata.registry import build_all, get_record


@pytest.mark.parametrize(
    ("value", "iso3"),
    [
        # ISO 3166 codes, any case; numeric with or without leading zeros, or as a spreadsheet float.
        ("DE", "DEU"),
        ("deu", "DEU"),
        ("276", "DEU"),
        (36, "AUS"),
        ("036", "AUS"),
        ("36.0", "AUS"),
        ("840", "USA"),
        # Census Schedule C codes (Census trade API CTY_CODE).
        ("5700", "CHN"),
        (5700, "CHN"),
        ("1220", "CAN"),
        ("2010", "MEX"),
        ("4280", "DEU"),
        ("5880", "JPN"),
        ("5800", "KOR"),
        ("4803", "XKX"),
        # BACI / Comtrade codes that differ from ISO numeric.
        ("842", "USA"),
        ("251", "FRA"),
        ("699", "IND"),
        ("757", "CHE"),
        ("579", "NOR"),
        ("490", "TWN"),
        ("58", "BEL"),  # Belgium-Luxembourg before 1999, as BACI maps it
        # Names, official names and the usual broker / ERP spellings.
        ("Korea, South", "KOR"),
        ("South Korea", "KOR"),
        ("Republic of Korea", "KOR"),
        ("KOREA, REPUBLIC OF", "KOR"),
        ("Korea, North", "PRK"),
        ("PRC", "CHN"),
        ("People's Republic of China", "CHN"),
        ("UK", "GBR"),
        ("Great Britain", "GBR"),
        ("United Kingdom of Great Britain and Northern Ireland", "GBR"),
        ("USA", "USA"),
        ("United States of America", "USA"),
        ("U.S.A.", "USA"),
        ("Russia", "RUS"),
        ("Russian Federation", "RUS"),
        ("Viet Nam", "VNM"),
        ("Vietnam", "VNM"),
        ("Taiwan", "TWN"),
        ("Taiwan, Province of China", "TWN"),
        ("Hong Kong", "HKG"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("TURKIYE", "TUR"),
        ("Congo (Kinshasa)", "COD"),
        ("DRC", "COD"),
        ("Congo, The Democratic Republic of the", "COD"),
        ("Congo (Brazzaville)", "COG"),
        ("Congo", "COG"),
        ("Côte d'Ivoire", "CIV"),
        ("COTE D’IVOIRE", "CIV"),
        ("Ivory Coast", "CIV"),
        ("St. Kitts and Nevis", "KNA"),
        ("Cayman Is.", "CYM"),
        ("Bosnia & Herzegovina", "BIH"),
        ("the Netherlands", "NLD"),
        ("Bahamas, The", "BHS"),
        ("Burma", "MMR"),
        ("Lao People's Democratic Republic", "LAO"),
        ("Iran, Islamic Republic of", "IRN"),
        ("  china  ", "CHN"),
        ("Åland Islands", "ALA"),
        ("Réunion", "REU"),
        ("Germany (Federal Republic of Germany)", "DEU"),  # Census Schedule C spelling
        ("Dem. Rep. of the Congo", "COD"),  # BACI spelling
        ("Congo, D.R.", "COD"),  # World Mining Data spelling
        ("Taiwan, China", "TWN"),  # WGI spelling
        # World Bank style names, common in public datasets.
        ("Egypt, Arab Rep.", "EGY"),
        ("Korea, Rep.", "KOR"),
        ("Korea, Dem. People's Rep.", "PRK"),
        ("Hong Kong SAR, China", "HKG"),
        ("Iran, Islamic Rep.", "IRN"),
        ("Venezuela, RB", "VEN"),
        ("West Bank and Gaza", "PSE"),
        ("Congo, Dem. Rep.", "COD"),
    ],
)
def test_resolve(value: str | int, iso3: str) -> None:
    assert resolve(value) == iso3


def test_unknown_name_fails_with_suggestions() -> None:
    with pytest.raises(UnknownCountryError) as info:
        resolve("Germny")
    assert info.value.suggestions[0] == "Germany"
    assert "Did you mean: Germany" in str(info.value)
    assert suggest("Untied States") == ["United States"]
    assert suggest("Phillipines")[0] == "Philippines"
    assert suggest("Sout Korea")[0] == "South Korea"
    assert suggest("Yemen, Rep")[0] == "Yemen"  # a shared distinctive word beats "Hellenic Republic"
    assert suggest("zzzz") == []
    assert len(suggest("Guinea", k=2)) <= 2


@pytest.mark.parametrize("value", ["", "  ", "XX", "Narnia", "9999", "0"])
def test_values_that_are_not_countries_raise(value: str) -> None:
    with pytest.raises(UnknownCountryError):
        resolve(value)


def test_resolve_series_maps_distinct_values_and_keeps_order() -> None:
    values = pl.Series("origin", ["Korea, South", None, "5700", "Germny", "KOR", "korea south", "842"])
    result = resolve_series(values)
    assert result.name == "origin"
    assert result.dtype == pl.String
    assert result.to_list() == ["KOR", None, "CHN", None, "KOR", "KOR", "USA"]


def test_resolve_series_on_integer_codes_and_a_long_column() -> None:
    codes = pl.Series("cty_code", [5700, 1220, 4280, None, 12345])
    assert resolve_series(codes).to_list() == ["CHN", "CAN", "DEU", None, None]
    # 120,000 rows with 6 distinct spellings: the answer is the same as for the 6 spellings alone.
    spellings = ["PRC", "Viet Nam", "Korea, South", "Türkiye", "Great Britain", "Atlantis"]
    long = pl.Series("origin", spellings * 20_000)
    result = resolve_series(long)
    assert result.len() == 120_000
    assert result.head(6).to_list() == ["CHN", "VNM", "KOR", "TUR", "GBR", None]
    assert result.null_count() == 20_000


def test_unresolved_report_counts_each_bad_spelling_once() -> None:
    report = unresolved(pl.Series(["Germny", "Germny", "China", None, "Atlantis"]))
    rows = {row["value"]: row for row in report.iter_rows(named=True)}
    assert set(rows) == {"Germny", "Atlantis"}
    assert rows["Germny"]["rows"] == 2
    assert rows["Germny"]["suggestions"][0] == "Germany"


def test_every_code_of_every_country_resolves_back_to_it() -> None:
    frame = countries()
    for column in ("iso3", "iso2", "iso_numeric", "census_code", "baci_code", "name", "display_name"):
        present = frame.filter(pl.col(column).is_not_null())
        resolved = resolve_series(present[column].cast(pl.String))
        wrong = present.filter(resolved != present["iso3"])
        assert wrong.is_empty(), f"{column}: {wrong.select('iso3', column).to_dicts()}"


def test_country_table_values_a_user_would_check() -> None:
    frame = countries()
    assert frame.height == 250  # ISO 3166-1 (249) + Kosovo
    assert frame["iso3"].is_unique().all()
    usa = frame.filter(pl.col("iso3") == "USA").row(0, named=True)
    assert (usa["iso2"], usa["iso_numeric"], usa["census_code"], usa["baci_code"]) == (
        "US",
        "840",
        "1000",
        842,
    )
    chn = frame.filter(pl.col("iso3") == "CHN").row(0, named=True)
    assert (chn["census_code"], chn["baci_code"]) == ("5700", 156)
    kor = frame.filter(pl.col("iso3") == "KOR").row(0, named=True)
    assert kor["name"] == "Korea, Republic of" and kor["display_name"] == "South Korea"
    assert display_name("RUS") == "Russia"
    assert frame.filter(pl.col("iso3") == "XKX")["iso_status"].item() == "user_assigned"


def test_census_codes_agree_with_the_independent_crosswalk() -> None:
    crosswalk = pl.read_csv(
        raw_data_dir() / builder.CENSUS_CROSSWALK, schema_overrides={"cty_code": pl.String}
    )
    assert crosswalk.height > 180
    assert (resolve_series(crosswalk["cty_code"]) == crosswalk["iso3"]).all()


def test_baci_codes_resolve_as_baci_maps_them() -> None:
    baci = pl.read_csv(raw_data_dir() / builder.BACI_FILE, infer_schema=False)
    baci = baci.with_columns(resolve_series(baci["country_code"]).alias("ours"))
    differs = baci.filter(pl.col("ours") != pl.col("country_iso3"))
    # Only BACI's placeholder codes differ: Taiwan ("Other Asia, nes", S19) and the US Pacific islands (PUS).
    assert dict(differs.select("country_code", "ours").rows()) == {"490": "TWN", "849": "UMI"}
    # Aggregates and dissolved states resolve to nothing rather than to a guess.
    unmapped = baci.filter(pl.col("ours").is_null())["country_code"].to_list()
    assert sorted(unmapped, key=int) == ["200", "278", "530", "697", "711", "810", "891"]


def test_every_alias_points_at_exactly_one_country() -> None:
    table = aliases()
    per_alias = table.group_by("alias").agg(pl.col("iso3").n_unique().alias("n"))
    assert per_alias.filter(pl.col("n") > 1).is_empty()
    assert set(table["iso3"]) <= set(countries()["iso3"])
    assert set(table["kind"]) == {
        "iso2",
        "iso3",
        "numeric",
        "census",
        "baci",
        "name",
        "official",
        "common",
        "curated",
    }


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("36", "036"),
        ("5700.0", "5700"),
        ("0036", "036"),
        (" The Bahamas ", "bahamas"),
        ("Gambia, The", "gambia"),
        ("St. Vincent & the Grenadines", "saint vincent and the grenadines"),
        ("Côte d'Ivoire", "cote divoire"),
        ("IS", "is"),  # a lone code is not expanded ("is" is Iceland)
        ("Cayman Is", "cayman islands"),
    ],
)
def test_normalise_key(text: str, key: str) -> None:
    assert normalise_key(text) == key


def test_curated_files_refuse_duplicate_keys(tmp_path: Path) -> None:
    """PyYAML would silently keep the second of two equal keys and drop the first entry's aliases."""
    path = tmp_path / "aliases.yaml"
    path.write_text("aliases:\n  KOR: [Korea]\n  PRK: [DPRK]\n  KOR: [ROK]\n", encoding="utf-8")
    expected = r"aliases\.yaml:4: key `KOR` is written twice in the same mapping \(lines 2 and 4\)"
    with pytest.raises(ReferenceDataError, match=expected):
        load_curated_yaml(path)


def test_rebuild_reproduces_the_shipped_files(tmp_path: Path) -> None:
    records = build_all(
        builder.SPECS, raw_data_dir(), tmp_path, CURATED_DIR, only={"countries", "country_aliases"}
    )
    for record in records:
        assert record.sha256 == get_record(record.id).sha256, f"{record.id} is not reproducible"
