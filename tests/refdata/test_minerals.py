"""Critical-mineral lists: counts, the 2025 changes, REE groups, and the shipped files' reproducibility."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from critmin.paths import CURATED_DIR, oracles_dir, raw_data_dir
from critmin.refdata.builders import minerals as builder
from critmin.refdata.minerals import (
    UnknownMineralError,
    covered,
    is_critical,
    list_ids,
    list_members,
    mineral_lists,
    minerals,
    resolve_mineral,
)
from critmin.refdata.registry import build_all, get_record


def _flagged(column: str) -> set[str]:
    frame = minerals().filter(pl.col(column) & ~pl.col("is_aggregate"))
    return set(frame["mineral_id"].to_list())


def test_list_sizes_match_their_publications() -> None:
    assert len(_flagged("on_usgs_2022")) == 50
    assert len(_flagged("on_usgs_2025")) == 60
    assert len(_flagged("on_usgs_2025_draft")) == 54
    assert len(_flagged("doe_ree")) == 17
    assert len(list_members("usgs_2018")) == 35  # named as published, with REE and PGM as groups
    assert len(list_members("usgs_2025_final")) == 60


def test_2025_final_adds_ten_and_keeps_arsenic_and_tellurium() -> None:
    added = _flagged("on_usgs_2025") - _flagged("on_usgs_2022")
    assert added == {
        "boron",
        "copper",
        "lead",
        "metallurgical_coal",
        "phosphate",
        "potash",
        "rhenium",
        "silicon",
        "silver",
        "uranium",
    }
    assert _flagged("on_usgs_2022") <= _flagged("on_usgs_2025")  # nothing dropped
    for kept in ("arsenic", "tellurium"):
        assert is_critical(kept, "usgs_2022") and is_critical(kept, "usgs_2025_final")
        assert not is_critical(kept, "usgs_2025_draft")  # the draft proposed to drop them


def test_lists_agree_with_the_independent_oracle_table() -> None:
    oracle = pl.read_csv(oracles_dir() / "usgs_critical_minerals_lists.csv", comment_prefix="#")
    assert set(oracle.filter(pl.col("in_2022_list") == 1)["mineral"]) == set(list_members("usgs_2022"))
    assert set(oracle.filter(pl.col("in_2025_draft") == 1)["mineral"]) == set(list_members("usgs_2025_draft"))


def test_uranium_is_in_eo14272_scope_but_was_off_the_2022_list() -> None:
    assert is_critical("uranium", "eo14272")
    assert not is_critical("uranium", "usgs_2022")
    assert is_critical("uranium", "usgs_2018")  # on the 2018 list, dropped in 2022 as a fuel mineral
    row = minerals().filter(pl.col("mineral_id") == "uranium").row(0, named=True)
    assert row["in_eo14272_scope"] and row["on_usgs_2025"] and not row["on_usgs_2022"]


def test_eo14272_scope_is_the_2025_list_plus_promethium() -> None:
    assert set(list_members("eo14272")) == set(list_members("usgs_2025_final")) | {"promethium"}
    assert _flagged("in_eo14272_scope") == _flagged("on_usgs_2025") | {"promethium"}


def test_seventeen_rare_earths_split_light_heavy_as_the_eu_does() -> None:
    frame = minerals()
    ree = frame.filter(pl.col("doe_ree") & ~pl.col("is_aggregate"))
    assert ree["atomic_number"].sort().to_list() == [21, 39, *range(57, 72)]
    by_group = {g: set(ids) for g, ids in ree.group_by("group").agg("mineral_id").rows()}
    assert by_group["light_ree"] == {
        "lanthanum",
        "cerium",
        "praseodymium",
        "neodymium",
        "promethium",
        "samarium",
    }
    assert by_group["heavy_ree"] == {
        "europium",
        "gadolinium",
        "terbium",
        "dysprosium",
        "holmium",
        "erbium",
        "thulium",
        "ytterbium",
        "lutetium",
        "yttrium",
    }
    assert by_group["other_ree"] == {"scandium"}
    assert "10.2873/876644" in frame.filter(pl.col("group") == "heavy_ree")["group_basis"][0]


def test_promethium_is_a_doe_rare_earth_on_no_usgs_list() -> None:
    row = minerals().filter(pl.col("mineral_id") == "promethium").row(0, named=True)
    assert row["doe_ree"] and row["symbol"] == "Pm"
    assert not (row["on_usgs_2022"] or row["on_usgs_2025"] or row["on_usgs_2025_draft"])


def test_aggregates_cover_their_components_both_ways() -> None:
    frame = minerals().filter(pl.col("is_aggregate"))
    components = dict(frame.select("mineral_id", "components").rows())
    assert set(components) == {"rare_earths", "platinum_group_metals"}
    assert len(components["rare_earths"]) == 17
    assert set(components["platinum_group_metals"]) == {
        "platinum",
        "palladium",
        "rhodium",
        "ruthenium",
        "iridium",
    }
    # 2018 named the groups: each element is covered through its group.
    assert is_critical("neodymium", "usgs_2018") and is_critical("palladium", "usgs_2018")
    # 2022 named the elements: data reported for the whole group are covered too.
    assert is_critical("rare_earths", "usgs_2022") and is_critical("platinum_group_metals", "usgs_2025_final")
    assert not is_critical("nickel", "usgs_2018")  # nickel was added in 2022
    assert is_critical("helium", "usgs_2018") and not is_critical("helium", "usgs_2025_final")
    assert "rare_earths" in covered("doe_ree_2020")


def test_citations_and_dates_of_each_list() -> None:
    lists = mineral_lists().unique(subset="list_id").sort("list_id")
    published = dict(lists.select("list_id", "published").rows())
    assert published == {
        "doe_ree_2020": dt.date(2020, 4, 1),
        "eo14272": dt.date(2025, 4, 18),
        "usgs_2018": dt.date(2018, 5, 18),
        "usgs_2022": dt.date(2022, 2, 24),
        "usgs_2025_draft": dt.date(2025, 8, 26),
        "usgs_2025_final": dt.date(2025, 11, 7),
    }
    citations = dict(lists.select("list_id", "fr_citation").rows())
    assert citations["usgs_2022"] == "87 FR 10381"
    assert citations["usgs_2025_draft"] == "90 FR 41591"
    assert citations["eo14272"] == "90 FR 16437"
    assert citations["usgs_2025_final"] is None  # volume/page not found; the note says so
    assert lists["source_url"].str.starts_with("http").all()
    cited = dict(lists.select("list_id", "citation").rows())
    assert cited["usgs_2022"].startswith("2022 Final List of Critical Minerals")
    assert "87 FR 10381 (FR Doc 2022-04027), 2022-02-24, https://" in cited["usgs_2022"]


def test_ids_are_unique_snake_case() -> None:
    ids = minerals()["mineral_id"]
    assert ids.is_unique().all()
    assert ids.str.contains(r"^[a-z][a-z_]*$").all()
    assert set(mineral_lists()["mineral_id"]) <= set(ids)


def test_unknown_ids_fail_with_what_is_known() -> None:
    with pytest.raises(UnknownMineralError, match="Known lists: doe_ree_2020, eo14272"):
        is_critical("lithium", "usgs_2021")
    with pytest.raises(UnknownMineralError, match="Did you mean 'aluminum'"):
        is_critical("aluminium", "usgs_2022")
    assert list_ids() == [
        "doe_ree_2020",
        "eo14272",
        "usgs_2018",
        "usgs_2022",
        "usgs_2025_draft",
        "usgs_2025_final",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aluminium", "aluminum"),
        ("Nd", "neodymium"),
        ("REE", "rare_earths"),
        ("Platinum-group metals", "platinum_group_metals"),
        ("Metallurgical coal", "metallurgical_coal"),
        ("  TUNGSTEN ", "tungsten"),
    ],
)
def test_resolve_mineral_spellings(text: str, expected: str) -> None:
    assert resolve_mineral(text) == expected


def test_builder_rejects_a_list_whose_count_differs_from_its_publication(tmp_path: Path) -> None:
    text = (CURATED_DIR / builder.CURATED_FILE).read_text(encoding="utf-8")
    broken = tmp_path / "minerals.yaml"
    broken.write_text(text.replace("expected_count: 50", "expected_count: 49"), encoding="utf-8")
    with pytest.raises(Exception, match=r"usgs_2022.*50 members but its publication states 49"):
        builder.read_curated(broken)


def test_rebuild_reproduces_the_shipped_files(tmp_path: Path) -> None:
    ids = {"minerals", "mineral_lists"}
    records = build_all(builder.SPECS, raw_data_dir(), tmp_path, CURATED_DIR, only=ids)
    for record in records:
        assert record.sha256 == get_record(record.id).sha256, f"{record.id} is not reproducible"
