"""The shipped EU assessment datasets rebuild byte for byte from the published tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from critmin.paths import CURATED_DIR, raw_data_dir
from critmin.refdata import get_record, load
from critmin.refdata.builders import eu_crm
from critmin.refdata.registry import build_all


def test_rebuild_is_deterministic(tmp_path: Path) -> None:
    records = build_all(eu_crm.SPECS, raw_data_dir(), tmp_path, CURATED_DIR)
    for record in records:
        shipped = get_record(record.id)
        assert record.sha256 == shipped.sha256, record.id
        assert record.rows == shipped.rows


def test_mapping_to_critmin_minerals() -> None:
    known = set(load("minerals")["mineral_id"].to_list())
    mapped = set(load("eu_crm2017")["mineral_id"].drop_nulls().to_list())
    assert mapped <= known
    history = load("eu_crm_sr_ei_history")
    assert set(history["mineral_id"].drop_nulls().to_list()) <= known
    # Aluminium and bauxite are both aluminum in critmin's vocabulary (metal and ore).
    aluminum = load("eu_crm2017").filter(pl.col("mineral_id") == "aluminum")
    assert sorted(aluminum["material"].to_list()) == ["Aluminium", "Bauxite"]
    assert set(history["year"].unique().to_list()) == {2011, 2014, 2017, 2020, 2023}
