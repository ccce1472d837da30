"""The PCMDP scope map, derivative products, longest-prefix classification and coverage."""

from __future__ import annotations

import polars as pl
import pytest

from critmin import refdata
from critmin.errors import InputError
from critmin.ledger.schema import CLASSIFICATION_SCHEMA
from critmin.refdata import scope
from critmin.refdata.hts import schedule


def _minerals_of(result: pl.DataFrame, line: str) -> dict[str, tuple[str, str]]:
    rows = result.filter(pl.col("line_id") == line)
    return {r["mineral_id"]: (r["stage"], r["confidence"]) for r in rows.iter_rows(named=True)}


def test_every_prefix_is_a_code_of_the_schedule() -> None:
    codes = set(schedule().get_column("hts").to_list())
    prefixes = set(scope.scope_map().get_column("hts_prefix").to_list())
    assert prefixes <= codes, sorted(prefixes - codes)


def test_rows_use_known_vocabularies() -> None:
    frame = scope.scope_map()
    assert set(frame.get_column("stage")) == {
        "ore_concentrate",
        "oxide_salt_compound",
        "metal_powder_alloy",
        "semi_finished",
        "derivative",
    }
    assert set(frame.get_column("confidence")) == {"exact", "partial", "basket"}
    known = set(refdata.load("minerals").get_column("mineral_id"))
    assert set(frame.get_column("mineral_id")) <= known
    assert frame.get_column("source").str.contains("https?://").all()
    assert not frame.select("hts_prefix", "mineral_id").is_duplicated().any()


def test_chapters_named_in_the_brief_are_covered() -> None:
    chapters = set(scope.scope_map().get_column("hts_prefix").str.slice(0, 2))
    assert {"25", "26", "28", "38", "71", "72", "74", "75", "76", "78", "79", "80", "81", "85"} <= chapters


def test_classify_ndfeb_magnet_line() -> None:
    lines = pl.DataFrame({"line_id": ["m1"], "hts": ["8505110070"]})
    result = scope.classify(lines)
    assert result.schema == pl.Schema(CLASSIFICATION_SCHEMA)
    found = _minerals_of(result, "m1")
    assert found["neodymium"] == ("derivative", "exact")
    assert found["boron"] == ("derivative", "exact")
    assert found["dysprosium"] == ("derivative", "partial")
    assert "samarium" not in found  # the 8505.11 fallback row is not used when the 10-digit row matches
    assert set(result.get_column("matched_prefix")) == {"8505110070"}


def test_classify_longest_prefix_wins_and_unmapped_lines_are_kept() -> None:
    lines = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "code": ["2846.90.80.70", "2846908090", "0101300000", "8112921000", "3824993910", "85051100"],
        }
    )
    result = scope.classify(lines, hts_col="code", id_col="id")
    # lanthanum-predominant carbonates take their own row, not the 28469080 "other" baskets
    assert _minerals_of(result, "a") == {
        "lanthanum": ("oxide_salt_compound", "partial"),
        "rare_earths": ("oxide_salt_compound", "exact"),
    }
    assert _minerals_of(result, "b")["neodymium"] == ("oxide_salt_compound", "basket")
    unmapped = result.filter(pl.col("line_id") == "c")
    assert unmapped.height == 1 and unmapped.item(0, "confidence") == "unmapped"
    assert unmapped.item(0, "mineral_id") is None and unmapped.item(0, "matched_prefix") is None
    assert _minerals_of(result, "d") == {"gallium": ("metal_powder_alloy", "exact")}
    assert _minerals_of(result, "e") == {
        m: ("semi_finished", "exact") for m in ("lithium", "nickel", "cobalt", "manganese")
    }
    # an 8-digit magnet line without its statistical suffix: every magnet mineral, partial
    assert set(_minerals_of(result, "f").values()) == {("derivative", "partial")}
    # output keeps input line order
    assert result.get_column("line_id").unique(maintain_order=True).to_list() == [
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
    ]


def test_classify_counts_add_up_on_a_larger_frame() -> None:
    codes = schedule().filter(pl.col("is_leaf")).get_column("hts")
    lines = pl.DataFrame({"line_id": [f"L{i}" for i in range(codes.len())], "hts": codes})
    result = scope.classify(lines)
    assert result.get_column("line_id").n_unique() == lines.height  # every line comes back
    per_line = result.group_by("line_id").agg(pl.col("confidence").eq("unmapped").any().alias("u"), pl.len())
    assert per_line.filter(pl.col("u") & (pl.col("len") > 1)).height == 0  # unmapped lines appear once
    mapped = result.filter(pl.col("confidence") != "unmapped")
    assert mapped.select("line_id", "mineral_id").is_duplicated().sum() == 0
    assert mapped.get_column("line_id").n_unique() > 900  # 941 declarable codes map to a mineral


def test_classify_names_a_missing_column() -> None:
    with pytest.raises(InputError, match="hts_col="):
        scope.classify(pl.DataFrame({"line_id": ["x"]}))


def test_coverage_of_the_2025_list() -> None:
    cover = scope.coverage()
    assert cover.height == 60
    row = {r["mineral_id"]: r for r in cover.iter_rows(named=True)}
    assert row["gallium"]["has_processed_code"] and row["gallium"]["processed_confidence"] == "exact"
    assert "8112921000" in row["gallium"]["processed_prefixes"]
    # dysprosium oxide and metal only sit in "other" baskets: no code of their own
    assert not row["dysprosium"]["has_processed_code"]
    assert row["dysprosium"]["processed_confidence"] == "basket"
    assert "2805300050" in row["dysprosium"]["processed_prefixes"]
    assert not row["metallurgical_coal"]["has_processed_code"]
    assert row["metallurgical_coal"]["stages"] == ["ore_concentrate"]
    assert row["germanium"]["processed_confidence"] == "exact"  # 8112.92.60 unwrought germanium
    lacking = sorted(m for m, r in row.items() if not r["has_processed_code"])
    assert lacking == [
        "dysprosium",
        "erbium",
        "europium",
        "gadolinium",
        "holmium",
        "lutetium",
        "metallurgical_coal",
        "samarium",
        "terbium",
        "thulium",
        "ytterbium",
    ]


def test_derivative_products_named_by_eo_14272() -> None:
    products = scope.derivative_products()
    codes = set(schedule().get_column("hts").to_list())
    for prefixes in products.get_column("hts_prefixes").to_list():
        assert set(prefixes) <= codes
    named = set(products.filter(pl.col("eo14272_named")).get_column("eo14272_category"))
    assert {
        "permanent magnets",
        "batteries",
        "cathodes",
        "anodes",
        "semiconductor wafers",
        "motors",
        "EVs",
        "smartphones",
        "microprocessors",
        "radar systems",
        "wind turbines and components",
        "advanced optical devices",
    } <= named
    ndfeb = products.filter(pl.col("product_id") == "ndfeb_magnet").row(0, named=True)
    assert ndfeb["hts_prefixes"] == ["8505110070"]
    assert {"neodymium", "dysprosium", "boron"} <= set(ndfeb["minerals"])


def test_each_product_prefix_classifies_to_its_minerals() -> None:
    products = scope.derivative_products()
    mapped = scope.scope_map()
    for row in products.iter_rows(named=True):
        found: set[str] = set()
        for prefix in row["hts_prefixes"]:
            # the prefix's own rows, or the rows of more specific codes beneath it
            under = mapped.filter(pl.col("hts_prefix").str.starts_with(prefix))
            found |= set(under.get_column("mineral_id"))
        assert set(row["minerals"]) <= found, (row["product_id"], set(row["minerals"]) - found)
