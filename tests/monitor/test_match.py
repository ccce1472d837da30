"""What a document mentions (HTS codes, minerals, countries), on real phrasing and on must-not-match cases,
and how mentions join to ledger lines by HTS prefix."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from critmin.monitor.match import extract_mentions, hts_matches, mineral_matches, vocabulary


def mentions(text: str, known: pl.Series | None = None) -> dict[str, set[str]]:
    docs = pl.DataFrame({"document_number": ["d"], "title": [text]})
    found = extract_mentions(docs, known_hts=known)
    out: dict[str, set[str]] = {}
    for kind, value in found.select("kind", "value").iter_rows():
        out.setdefault(kind, set()).add(value)
    return out


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("magnets of subheading 8505.11", {"850511"}),
        ("rare earth metals (2805.30.00)", {"28053000"}),
        ("gallium, HTSUS 8112.92.10.00, and", {"8112921000"}),
        ("statistical reporting number 8505.11.0070", {"8505110070"}),
        ("headings 2846 and 8505", {"2846"}),  # only the form right after the keyword
        ("HTS 8505110070 (sintered NdFeB)", {"8505110070"}),
        ("8505.11,8505.19 and 8505.20", {"850511", "850519", "850520"}),
        ("covered by 7406.10.00 through 7419.80.50.", {"74061000", "74198050"}),
    ],
)
def test_hts_forms(text: str, codes: set[str]) -> None:
    assert mentions(text).get("hts", set()) == codes


@pytest.mark.parametrize(
    "text",
    [
        "see 40 CFR 1065.10 and 15 CFR part 7001.15",  # CFR sections
        "section 1065.10 of the rule",
        "a fee of $1234.56 per filing",
        "48 CFR 2252.204-70",  # longer than an HTS group
        "version 2024.1",
        "docket 2025-06836 and FR Doc 2026-19417",
    ],
)
def test_not_hts(text: str) -> None:
    assert "hts" not in mentions(text)


def test_chapter_99_kept_apart() -> None:
    found = mentions("duties under heading 9903.78.01 apply to 7408.11.60")
    assert found["chapter99"] == {"99037801"}
    assert found["hts"] == {"74081160"}


def test_schedule_filter_drops_unknown_codes() -> None:
    known = pl.Series(["8505", "850511", "8505110070"])
    assert mentions("8505.11.0070 and 1234.56", known)["hts"] == {"8505110070"}


@pytest.mark.parametrize(
    ("text", "minerals"),
    [
        ("Sintered NdFeB magnets", {"neodymium"}),
        ("NdPr oxide price floor", {"neodymium", "praseodymium"}),
        ("rare-earth permanent magnets and REEs", {"rare_earths"}),
        ("Aluminium and bauxite", {"aluminum"}),
        ("lead-acid batteries; unwrought tin", {"lead", "tin"}),
        ("platinum group metals (PGMs)", {"platinum_group_metals"}),  # the longest phrase wins
        ("metallurgical coal and coking coal", {"metallurgical_coal"}),
    ],
)
def test_mineral_terms(text: str, minerals: set[str]) -> None:
    assert mentions(text).get("mineral", set()) == minerals


@pytest.mark.parametrize(
    "text",
    [
        "These changes will lead to lower costs",  # 'lead' the verb
        "Provide your TIN (taxpayer identification number)",
        "We continue to monitor the situation",  # 'tin' inside a word
        "Silicone sealants",  # not silicon
    ],
)
def test_not_minerals(text: str) -> None:
    assert "mineral" not in mentions(text)


@pytest.mark.parametrize(
    ("text", "countries"),
    [
        ("imports from the People's Republic of China", {"CHN"}),
        ("imports from the People’s Republic of China", {"CHN"}),  # typographic apostrophe
        ("Chinese-origin magnets and Japanese suppliers", {"CHN", "JPN"}),
        ("the Democratic Republic of the Congo and Indonesia", {"COD", "IDN"}),
        ("Papua New Guinea", {"PNG"}),
        ("Republic of Korea and North Korea", {"KOR", "PRK"}),
        ("New Mexico and New Jersey plants in the United States", set()),
        ("Georgia Power Company", set()),
    ],
)
def test_countries(text: str, countries: set[str]) -> None:
    assert mentions(text).get("country", set()) == countries


def test_hts_prefix_join_both_ways() -> None:
    lines = pl.DataFrame(
        {"line_id": ["a", "b", "c", "d"], "hts": ["8505110070", "8505190000", "850511", "2846901000"]}
    )
    codes = pl.DataFrame({"key": ["k1", "k2", "k3"], "value": ["850511", "8505110070", "2846"]})
    got = {(k, line) for k, line, _ in hts_matches(codes, lines).iter_rows()}
    assert got == {
        ("k1", "a"),  # 8505110070 starts with 850511
        ("k1", "c"),  # same code
        ("k2", "a"),
        ("k2", "c"),  # the line was declared at 6 digits; the mentioned 10-digit code falls under it
        ("k3", "d"),
    }


def test_mineral_aggregates_expand_both_ways() -> None:
    line_minerals = pl.DataFrame(
        {
            "line_id": ["nd", "dy", "ree", "cu"],
            "mineral_id": ["neodymium", "dysprosium", "rare_earths", "copper"],
        }
    )
    named = pl.DataFrame({"key": ["a", "b"], "value": ["rare_earths", "neodymium"]})
    got = {(k, line) for k, line, _ in mineral_matches(named, line_minerals).iter_rows()}
    assert got == {("a", "nd"), ("a", "dy"), ("a", "ree"), ("b", "nd"), ("b", "ree")}


def test_vocabulary_ids_are_critmin_mineral_ids(kit: Any) -> None:
    """Every id in mineral_terms.yaml is on the USGS 2025 list, or is promethium or an aggregate."""
    usgs_2025 = {
        "aluminum",
        "antimony",
        "arsenic",
        "barite",
        "beryllium",
        "bismuth",
        "boron",
        "cerium",
        "cesium",
        "chromium",
        "cobalt",
        "copper",
        "dysprosium",
        "erbium",
        "europium",
        "fluorspar",
        "gadolinium",
        "gallium",
        "germanium",
        "graphite",
        "hafnium",
        "holmium",
        "indium",
        "iridium",
        "lanthanum",
        "lead",
        "lithium",
        "lutetium",
        "magnesium",
        "manganese",
        "metallurgical_coal",
        "neodymium",
        "nickel",
        "niobium",
        "palladium",
        "phosphate",
        "platinum",
        "potash",
        "praseodymium",
        "rhenium",
        "rhodium",
        "rubidium",
        "ruthenium",
        "samarium",
        "scandium",
        "silicon",
        "silver",
        "tantalum",
        "tellurium",
        "terbium",
        "thulium",
        "tin",
        "titanium",
        "tungsten",
        "uranium",
        "vanadium",
        "ytterbium",
        "yttrium",
        "zinc",
        "zirconium",
    }
    assert len(usgs_2025) == 60
    assert vocabulary().mineral_ids == usgs_2025 | {"promethium", "rare_earths", "platinum_group_metals"}
