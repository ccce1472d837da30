"""The HTS product lists adapted from the Yale Budget Lab tariff-rate-tracker."""

from __future__ import annotations

import polars as pl

from critmin import refdata
from critmin.paths import raw_data_dir
from critmin.refdata.builders import tariff_lists
from critmin.refdata.registry import get_record


def test_builds_are_deterministic_and_match_the_shipped_files() -> None:
    for spec in tariff_lists.SPECS:
        built = spec.build(raw_data_dir())
        assert built.equals(spec.build(raw_data_dir())), spec.id
        assert built.equals(refdata.load(spec.id)), spec.id
        record = get_record(spec.id)
        assert "MIT" in record.licence and "Yale" in record.licence


def test_counts_and_prefixes() -> None:
    s301 = refdata.load("s301_product_lists")
    assert s301.height == 12_223
    assert s301.get_column("hts_prefix").str.contains(r"^\d{8}$").all()
    rates = dict(s301.select("ch99_code", "rate").unique().iter_rows())
    assert rates["9903.88.03"] == 0.25 and rates["9903.88.15"] == 0.075 and rates["9903.91.05"] == 0.5
    s232 = refdata.load("s232_products")
    counts = dict(s232.group_by("list").len().iter_rows())
    assert counts["copper"] == 80 and counts["derivative"] == 568
    assert s232.filter((pl.col("list") == "derivative") & (pl.col("tranche") == "2025-08-18")).height == 474
    assert refdata.load("s122_exempt_products").height == 1_656
    exempt = refdata.load("ieepa_exempt_products").get_column("hts_prefix")
    assert "8505110070" in exempt.to_list() and exempt.len() == 4_297
