"""BOM explosion with the arithmetic written out, both layouts, factors for leaves, cycles, samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.errors import InputError
from critmin.ledger.bom import read_bom
from critmin.ledger.samples import LEDGER_SAMPLES_DIR

HEADER = [
    "Parent",
    "Component",
    "Qty per parent",
    "UOM",
    "HTS",
    "Origin",
    "Unit weight",
    "Mineral",
    "Content low",
    "Content high",
]
ROWS = [
    ["ACT-100", "MOTOR-7", "2", "EA", "8501.31.40.00", "JP", "", "", "", ""],
    ["MOTOR-7", "MAG-N52", "8", "pcs", "8505.11.00.70", "CN", "0.012", "", "", ""],
    ["MOTOR-7", "HOUSING", "1", "EA", "7616.99.51.90", "US", "", "", "", ""],
    ["HOUSING", "", "600", "g", "", "", "", "aluminum", "550", "650"],
    ["ACT-100", "PCB-1", "1", "EA", "8538.90.81.80", "TW", "", "", "", ""],
]


def _totals(result: Any) -> dict[str, tuple[float, float, float]]:
    return {r["mineral_id"]: (r["kg_low"], r["kg_central"], r["kg_high"]) for r in result.totals().to_dicts()}


def test_explosion_arithmetic(tmp_path: Path, csv_file: Any) -> None:
    result = read_bom(csv_file(tmp_path / "bom.csv", HEADER, ROWS))
    assert result.finished_goods == ["ACT-100"]
    totals = _totals(result)
    # aluminum: 2 motors x 1 housing x 600 g = 1.2 kg (low 2 x 0.55 = 1.1, high 2 x 0.65 = 1.3)
    assert totals["aluminum"] == pytest.approx((1.1, 1.2, 1.3))
    # neodymium by reference factor: 2 motors x 8 magnets x 0.012 kg = 0.192 kg of magnet
    #   x 0.238 kg Nd per kg magnet (central) = 0.045696 kg; low 0.135 -> 0.02592, high 0.325 -> 0.0624
    assert totals["neodymium"] == pytest.approx((0.02592, 0.045696, 0.0624))
    sources = dict(result.totals().select("mineral_id", "content_source").iter_rows())
    assert sources["aluminum"] == "bom" and sources["neodymium"] == "factor"
    unresolved = result.unresolved()
    assert unresolved.get_column("item").to_list() == ["PCB-1"]
    assert "no reference factor" in unresolved.item(0, "content_detail")


def test_chain_is_queryable(tmp_path: Path, csv_file: Any) -> None:
    result = read_bom(csv_file(tmp_path / "bom.csv", HEADER, ROWS))
    chain = result.explosion.filter(pl.col("mineral_id") == "neodymium").row(0, named=True)
    assert chain["path"] == "ACT-100 > MOTOR-7 > MAG-N52"
    assert (chain["item"], chain["item_hts"], chain["item_origin"], chain["qty_per_root"]) == (
        "MAG-N52",
        "8505110070",
        "CHN",
        16.0,
    )
    per_unit = result.per_unit.filter((pl.col("item") == "MOTOR-7") & (pl.col("mineral_id") == "aluminum"))
    assert per_unit.item(0, "kg_central") == pytest.approx(0.6)


def test_indented_levels_give_the_same_tree(tmp_path: Path, csv_file: Any) -> None:
    header = [
        "Level",
        "Part",
        "Qty",
        "UOM",
        "HTS",
        "Origin",
        "Unit weight",
        "Mineral",
        "Content low",
        "Content high",
    ]
    rows = [
        ["0", "ACT-100", "1", "EA", "", "", "", "", "", ""],
        [".1", "MOTOR-7", "2", "EA", "8501.31.40.00", "JP", "", "", "", ""],
        ["..2", "MAG-N52", "8", "pcs", "8505.11.00.70", "CN", "0.012", "", "", ""],
        ["..2", "HOUSING", "1", "EA", "7616.99.51.90", "US", "", "", "", ""],
        ["...3", "", "600", "g", "", "", "", "aluminum", "550", "650"],
        [".1", "PCB-1", "1", "EA", "8538.90.81.80", "TW", "", "", "", ""],
    ]
    levels = read_bom(csv_file(tmp_path / "levels.csv", header, rows))
    parents = read_bom(csv_file(tmp_path / "parents.csv", HEADER, ROWS))
    assert levels.finished_goods == ["ACT-100"]
    got, want = _totals(levels), _totals(parents)
    assert sorted(got) == sorted(want)
    for mineral, values in want.items():
        assert got[mineral] == pytest.approx(values), mineral


def test_cycle_is_refused(tmp_path: Path, csv_file: Any) -> None:
    rows = [
        ["A", "B", "1", "EA", "", "", "", "", "", ""],
        ["B", "C", "1", "EA", "", "", "", "", "", ""],
        ["C", "B", "1", "EA", "", "", "", "", "", ""],
        ["ROOT", "A", "1", "EA", "", "", "", "", "", ""],
    ]
    with pytest.raises(InputError, match="cycle"):
        read_bom(csv_file(tmp_path / "cycle.csv", HEADER, rows))


def test_bad_rows_are_reported_and_left_out(tmp_path: Path, csv_file: Any) -> None:
    rows = [
        *ROWS,
        ["MOTOR-7", "SCREW", "-4", "EA", "", "", "", "", "", ""],
        ["HOUSING", "", "5", "EA", "", "", "", "aluminum", "", ""],
        ["HOUSING", "", "5", "kg", "", "", "", "unobtainium", "", ""],
        ["MOTOR-7", "NUT", "2", "BOX", "", "", "", "", "", ""],
    ]
    result = read_bom(csv_file(tmp_path / "bad.csv", HEADER, rows))
    codes = dict(zip(result.issues.get_column("source_row"), result.issues.get_column("code"), strict=True))
    assert codes == {7: "bom_qty_invalid", 8: "bom_content_unit", 9: "mineral_unknown", 10: "unit_unknown"}
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (9, 5, 4)
    assert _totals(result)["aluminum"] == pytest.approx((1.1, 1.2, 1.3))


def test_bom_without_parent_or_level_column(tmp_path: Path, csv_file: Any) -> None:
    with pytest.raises(InputError, match="parent column"):
        read_bom(csv_file(tmp_path / "flat.csv", ["Component", "Qty"], [["A", "1"]]))


def test_sample_boms() -> None:
    defense = read_bom(LEDGER_SAMPLES_DIR / "defense_prime_bom.csv")
    totals = _totals(defense)
    # tantalum: 4 fin actuators x 1 controller x 24 capacitors x 0.00004 kg = 0.00384 kg
    assert totals["tantalum"][1] == pytest.approx(0.00384)
    # germanium: 2 lenses x 0.28 kg = 0.56 kg; tungsten: one 3.2 kg penetrator at 93 % = 2.976 kg
    assert totals["germanium"][1] == pytest.approx(0.56)
    assert totals["tungsten"] == pytest.approx((2.88, 2.976, 3.04))
    # samarium by factor: 2 torquers x 4 magnets x 0.012 kg x 0.25 = 0.024 kg
    assert totals["samarium"][1] == pytest.approx(0.024)
    battery = _totals(read_bom(LEDGER_SAMPLES_DIR / "battery_maker_bom.csv"))
    # nickel: 8 modules x 12 cells x 0.52 kg CAM x 0.4827 = 24.096384 kg per pack
    assert battery["nickel"][1] == pytest.approx(24.096384)
    # lithium: 96 x (0.52 x 0.0713 + 0.18 x 0.0094) = 96 x 0.038768 = 3.721728 kg
    assert battery["lithium"][1] == pytest.approx(3.721728)
    magnet = _totals(read_bom(LEDGER_SAMPLES_DIR / "magnet_maker_bom.csv"))
    # neodymium per 12 g magnet: 12.8 g alloy x 0.235 = 3.008 g
    assert magnet["neodymium"][1] == pytest.approx(0.003008)
    # dysprosium: 12.8 g x 0.005 + 0.12 g x 0.995 = 0.064 + 0.1194 = 0.1834 g
    assert magnet["dysprosium"][1] == pytest.approx(0.0001834)
