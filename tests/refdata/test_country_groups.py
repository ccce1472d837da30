"""Dated country groups: membership on the dates a user would check, and the vectorised flag."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import polars as pl
import pytest

from critmin.errors import ReferenceDataError
from critmin.paths import CURATED_DIR, raw_data_dir
from critmin.refdata.builders import country_groups as builder
from critmin.refdata.countries import countries, resolve_series
from critmin.refdata.groups import (
    GroupInputError,
    UnknownGroupError,
    definitions,
    flag,
    group_ids,
    members,
    membership,
)
from critmin.refdata.registry import build_all, get_record, load

D = dt.date
FOUR = {"CHN", "RUS", "IRN", "PRK"}


def test_group_ids() -> None:
    assert group_ids() == [
        "dfars_covered",
        "eu27",
        "feoc",
        "forge",
        "msp",
        "us_cm_frameworks",
        "us_fta",
        "usmca",
    ]


def test_estonia_joined_the_msp_in_march_2024() -> None:
    assert "EST" not in members("msp", D(2024, 1, 1))
    assert "EST" in members("msp", D(2024, 6, 1))
    founders = {"AUS", "CAN", "FIN", "FRA", "DEU", "JPN", "KOR", "SWE", "GBR"}
    assert members("msp", D(2022, 6, 14)) == founders
    assert members("msp", D(2022, 6, 13)) == frozenset()
    assert len(members("msp", D(2025, 1, 1))) == 13  # 14 partners incl. the US; the EU is not a country


def test_forge_replaces_the_msp_on_4_february_2026() -> None:
    assert members("msp", D(2026, 2, 4)) == frozenset()
    assert members("forge", D(2026, 2, 3)) == frozenset()
    assert members("forge", D(2026, 2, 4)) == members("msp", D(2026, 2, 3))
    rows = membership("forge")
    confirmed = rows.filter(pl.col("confidence") == "confirmed")["iso3"].to_list()
    assert confirmed == ["KOR"]  # the chair; the rest are carried over from the MSP and marked inferred
    assert set(rows.filter(pl.col("iso3") != "KOR")["confidence"]) == {"inferred"}


def test_uk_left_the_eu_at_the_end_of_31_january_2020() -> None:
    assert "GBR" in members("eu27", D(2019, 6, 1))
    assert "GBR" in members("eu27", D(2020, 1, 31))
    assert "GBR" not in members("eu27", D(2020, 2, 1))
    assert "GBR" not in members("eu27", D(2021, 1, 1))
    assert len(members("eu27", D(2019, 6, 1))) == 28
    assert len(members("eu27", D(2026, 1, 1))) == 27


def test_eu_accessions() -> None:
    assert "HRV" not in members("eu27", D(2013, 6, 30))
    assert "HRV" in members("eu27", D(2013, 7, 1))
    assert members("eu27", D(1958, 1, 1)) == {"BEL", "FRA", "DEU", "ITA", "LUX", "NLD"}
    assert "POL" not in members("eu27", D(2004, 4, 30)) and "POL" in members("eu27", D(2004, 5, 1))


def test_foreign_entities_of_concern_and_dfars_covered_countries() -> None:
    assert members("feoc", D(2025, 6, 1)) == FOUR
    assert members("dfars_covered", D(2025, 6, 1)) == FOUR
    assert members("dfars_covered", D(2027, 1, 1)) == FOUR  # 2027 widens processing stages, not countries
    assert members("feoc", D(2021, 11, 14)) == frozenset()  # before the statutory definition
    citation = membership("feoc").row(0, named=True)
    assert citation["source_date"] == D(2024, 5, 6) and "89 FR 37079" in citation["source_document"]
    assert "joined" in definitions().filter(pl.col("group_id") == "feoc")["description"].item()


def test_usmca_and_the_fta_partners() -> None:
    assert members("usmca", D(2020, 6, 30)) == frozenset()
    assert members("usmca", D(2020, 7, 1)) == {"CAN", "MEX"}
    partners = members("us_fta", D(2025, 1, 1))
    assert len(partners) == 20
    assert {"KOR", "SGP", "AUS", "ISR", "MAR", "OMN", "PER", "CHL"} <= partners
    assert "KOR" not in members("us_fta", D(2012, 3, 14)) and "KOR" in members("us_fta", D(2012, 3, 15))
    assert "CRI" not in members("us_fta", D(2008, 12, 31))  # the last CAFTA-DR entry into force
    # Canada: CUSFTA, then NAFTA, then USMCA, with no gap and the preference code following the agreement.
    canada = membership("us_fta").filter(pl.col("iso3") == "CAN").sort("joined")
    assert canada["program_code"].to_list() == [None, "CA", "S"]
    assert canada["left"].head(2).to_list() == canada["joined"].tail(2).to_list()


def test_bilateral_critical_minerals_frameworks() -> None:
    assert "JPN" in members("us_cm_frameworks", D(2023, 3, 28))
    assert "AUS" not in members("us_cm_frameworks", D(2025, 10, 19))
    assert {"AUS", "MYS", "THA"} <= members("us_cm_frameworks", D(2025, 10, 26))
    assert "UKR" in members("us_cm_frameworks", D(2025, 5, 1))
    ministerial = {"ARG", "COK", "ECU", "GIN", "MAR", "PRY", "PER", "PHL", "ARE", "UZB"}
    assert ministerial <= members("us_cm_frameworks", D(2026, 2, 4))
    assert "GBR" not in members("us_cm_frameworks", D(2026, 2, 4))
    assert "GBR" in members("us_cm_frameworks", D(2026, 2, 5))
    japan = membership("us_cm_frameworks").filter(pl.col("iso3") == "JPN")
    assert japan.height == 2  # the 2023 agreement and the 2025 framework


def test_every_row_is_cited_and_well_formed() -> None:
    rows = load("country_groups")
    assert rows["source_url"].str.starts_with("http").all()
    assert (rows["source_document"].str.len_chars() > 10).all()
    assert rows.filter(pl.col("left").is_not_null() & (pl.col("left") <= pl.col("joined"))).is_empty()
    assert "USA" not in set(rows["iso3"])
    assert (rows["citation"].str.contains(r"\d{4}-\d{2}-\d{2}") | rows["source_date"].is_null()).all()
    assert set(rows["iso3"]) <= set(countries()["iso3"])
    assert set(rows["confidence"]) <= {"confirmed", "reported", "inferred"}
    assert set(rows["date_basis"]) <= {"in_force", "signed", "first_seen", "approximate"}
    defs = definitions()
    assert sorted(defs["group_id"]) == group_ids()
    assert dict(defs.select("group_id", "rows").rows()) == dict(rows.group_by("group_id").len().rows())


def test_flag_matches_members_on_every_country_and_date() -> None:
    """Differential check: the vectorised join against the per-date set query, over a grid of cases."""
    codes = ["EST", "GBR", "CAN", "MEX", "JPN", "KOR", "CHN", "AUS", "HRV", "NOR", "ITA", "FRA"]
    dates = [D(y, m, 1) for y, m in itertools.product(range(1988, 2027, 3), (1, 7))] + [
        D(2020, 1, 31),
        D(2020, 2, 1),
        D(2024, 3, 3),
        D(2026, 2, 4),
    ]
    grid = pl.DataFrame(list(itertools.product(codes, dates)), schema=["origin", "entry"], orient="row")
    for group_id in group_ids():
        flagged = flag(grid, group_id, country_col="origin", date_col="entry", out="member")
        expected = [code in members(group_id, when) for code, when in grid.iter_rows()]
        assert flagged["member"].to_list() == expected, group_id
        assert flagged.columns == ["origin", "entry", "member"]


def test_flag_on_a_ledger_with_free_text_origins_and_timestamps() -> None:
    ledger = pl.DataFrame(
        {
            "line_id": [1, 2, 3, 4, 5],
            "origin": ["Estonia", "Estonia", "Korea, South", None, "PRC"],
            "entered": [
                dt.datetime(2024, 1, 15, 9, 30),
                dt.datetime(2024, 3, 3, 0, 0),
                dt.datetime(2025, 1, 1, 12, 0),
                dt.datetime(2025, 1, 1, 12, 0),
                None,
            ],
        }
    )
    ledger = ledger.with_columns(resolve_series(ledger["origin"]).alias("iso3"))
    out = flag(ledger, "msp", country_col="iso3", date_col="entered", out="msp_partner")
    assert out["msp_partner"].to_list() == [False, True, True, None, None]  # unknown stays unknown
    out = flag(out, "feoc", country_col="iso3", date_col="entered", out="feoc")
    assert out["feoc"].to_list() == [False, False, False, None, None]


def test_flag_and_members_reject_bad_input() -> None:
    frame = pl.DataFrame({"iso3": ["CHN"], "when": ["2025-01-01"]})
    with pytest.raises(UnknownGroupError, match="Known groups: dfars_covered, eu27, feoc"):
        members("nato", D(2025, 1, 1))
    with pytest.raises(UnknownGroupError):
        flag(frame, "fta", country_col="iso3", date_col="when", out="x")
    with pytest.raises(GroupInputError, match="'when' is String, not a date"):
        flag(frame, "feoc", country_col="iso3", date_col="when", out="x")
    with pytest.raises(GroupInputError, match="no column 'origin'"):
        flag(frame, "feoc", country_col="origin", date_col="when", out="x")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("      - {iso3: PRK}\n", "      - {iso3: PRK}\n      - {iso3: USA}\n"), "remove USA"),
        (("      - {iso3: PRK}\n", "      - {iso3: PRK}\n      - {iso3: XYZ}\n"), "XYZ is not an ISO"),
        (
            (
                "      - {iso3: HRV, joined: 2013-07-01}",
                "      - {iso3: HRV, joined: 2013-07-01, left: 2013-07-01}",
            ),
            "not after joined",
        ),
        (
            (
                "      - {iso3: HRV, joined: 2013-07-01}",
                "      - {iso3: HRV, joined: 2013-07-01}\n      - {iso3: HRV, joined: 2020-01-01}",
            ),
            "overlapping rows",
        ),
    ],
)
def test_builder_refuses_rows_a_query_would_trip_over(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    text = (CURATED_DIR / builder.CURATED_FILE).read_text(encoding="utf-8")
    assert edit[0] in text
    path = tmp_path / "country_groups.yaml"
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=message):
        builder._member_rows(raw_data_dir(), path)


def test_rebuild_reproduces_the_shipped_files(tmp_path: Path) -> None:
    ids = {"country_groups", "country_group_defs"}
    records = build_all(builder.SPECS, raw_data_dir(), tmp_path, CURATED_DIR, only=ids)
    for record in records:
        assert record.sha256 == get_record(record.id).sha256, f"{record.id} is not reproducible"
