"""Classification of the sample companies and content per line with its source (ledger > bom > factor)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from critmin.ledger.bom import read_bom
from critmin.ledger.classify import classified_lines, classify_lines, line_content
from critmin.ledger.ingest import ingest
from critmin.ledger.samples import LEDGER_SAMPLES_DIR


@pytest.fixture(scope="module")
def defense() -> pl.DataFrame:
    return ingest(LEDGER_SAMPLES_DIR / "defense_prime_ledger.csv").lines


def test_report_counts_every_line_once(defense: pl.DataFrame) -> None:
    report = classify_lines(defense)
    assert report.summary.get_column("lines").sum() == defense.height
    assert report.summary.get_column("customs_value_usd").sum() == pytest.approx(
        defense.get_column("customs_value_usd").sum()
    )
    # every classified line id is a ledger line id; unmapped lines are reported, not dropped
    assert set(report.classification.get_column("line_id")) == set(defense.get_column("line_id"))
    assert report.unmapped.get_column("line_id").is_in(defense.get_column("line_id").implode()).all()


def test_sample_minerals_and_stages(defense: pl.DataFrame) -> None:
    table = classify_lines(defense).classification.join(defense.select("line_id", "hts"), on="line_id")

    def minerals(hts: str) -> set[str]:
        return set(table.filter(pl.col("hts") == hts).get_column("mineral_id").drop_nulls())

    assert {"neodymium", "praseodymium", "dysprosium", "boron"} <= minerals("8505110070")
    assert minerals("8101100000") == {"tungsten"}
    assert minerals("8112921000") == {"gallium"}
    assert minerals("8103200030") == {"tantalum"}
    assert table.filter(pl.col("hts") == "8101100000").get_column("stage").unique().to_list() == [
        "metal_powder_alloy"
    ]


def _line(tmp_path: Path, csv_file: Any, rows: list[list[str]]) -> pl.DataFrame:
    header = [
        "Line ID",
        "Entry Date",
        "HTS",
        "COO",
        "Qty",
        "UOM",
        "Net Weight",
        "Value",
        "Part No",
        "Content Mineral",
        "Content kg",
    ]
    return ingest(csv_file(tmp_path / "lines.csv", header, rows)).lines


def test_content_sources_in_order(tmp_path: Path, csv_file: Any) -> None:
    lines = _line(
        tmp_path,
        csv_file,
        [
            # 1. ledger: the line states its copper content
            ["L1", "2025-05-01", "7408.19.00.30", "MX", "1000", "kg", "", "11000", "", "copper", "998"],
            # 2. bom: part MAG-N52, 500 pieces
            ["L2", "2025-05-01", "8505.11.00.70", "CN", "500", "pcs", "6", "420", "MAG-N52", "", ""],
            # 3. factor: 100 kg of NdFeB magnets, no part number
            ["L3", "2025-05-01", "8505.11.00.70", "CN", "100", "kg", "", "6500", "", "", ""],
            # 4. none: counted magnets without a net weight
            ["L4", "2025-05-01", "8505.11.00.70", "CN", "500", "pcs", "", "420", "", "", ""],
            # 5. none: no factor for the code
            ["L5", "2025-05-01", "8501.31.40.00", "JP", "10", "pcs", "", "900", "", "", ""],
        ],
    )
    bom = read_bom(
        csv_file(
            tmp_path / "bom.csv",
            ["Parent", "Component", "Qty", "UOM", "Mineral", "Content low", "Content high"],
            [["MAG-N52", "", "0.0031", "kg", "neodymium", "0.0029", "0.0033"]],
        )
    )
    content = line_content(lines, bom.per_unit)
    by_line = {lid: part for (lid,), part in content.group_by("line_id")}
    assert by_line["L1"].row(0, named=True) | {} == {
        "line_id": "L1",
        "mineral_id": "copper",
        "content_kg_low": 998.0,
        "content_kg_central": 998.0,
        "content_kg_high": 998.0,
        "content_source": "ledger",
        "content_detail": "content given on the line",
    }
    # 500 magnets x 0.0031 kg Nd each = 1.55 kg (low 1.45, high 1.65)
    l2 = by_line["L2"].row(0, named=True)
    assert (l2["mineral_id"], l2["content_source"]) == ("neodymium", "bom")
    assert (l2["content_kg_low"], l2["content_kg_central"], l2["content_kg_high"]) == pytest.approx(
        (1.45, 1.55, 1.65)
    )
    # 100 kg magnets x 0.238 kg Nd/kg = 23.8 kg (factor ndfeb_sintered_magnet, central)
    l3 = by_line["L3"].filter(pl.col("mineral_id") == "neodymium").row(0, named=True)
    assert l3["content_source"] == "factor"
    assert (l3["content_kg_low"], l3["content_kg_central"], l3["content_kg_high"]) == pytest.approx(
        (13.5, 23.8, 32.5)
    )
    assert by_line["L4"].item(0, "content_source") == "none"
    assert "no mass" in by_line["L4"].item(0, "content_detail")
    assert "no reference factor" in by_line["L5"].item(0, "content_detail")
    table = classified_lines(lines, bom.per_unit)
    assert set(table.get_column("line_id")) == {"L1", "L2", "L3", "L4", "L5"}
    assert table.filter(pl.col("line_id") == "L4").get_column("content_source").unique().to_list() == ["none"]
