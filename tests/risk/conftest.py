"""Oracle tables (published numbers) in the shapes the risk engines take, and a small canonical ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from critmin.ledger.schema import conform
from critmin.paths import oracles_dir


def read_oracle(name: str) -> pl.DataFrame:
    """An oracle CSV; its first line is the '# source:' citation (use through the ``oracle`` fixture)."""
    path: Path = oracles_dir() / name
    assert path.read_text(encoding="utf-8").startswith("# source:"), f"{path} lacks its source line"
    return pl.read_csv(path, skip_rows=1, null_values=["N/A"], infer_schema_length=1000)


@pytest.fixture(scope="session")
def oracle() -> Callable[[str], pl.DataFrame]:
    return read_oracle


@pytest.fixture(scope="session")
def eu2017_inputs() -> pl.DataFrame:
    """EU 2017 Table 3 joined with Annex 5 Table 18, as published (one decimal)."""
    t3 = read_oracle("eu_crm2017_table3_results.csv")
    t18 = read_oracle("eu_crm2017_table18_si_hhiwgi.csv")
    return t3.join(t18, on="material", how="inner")


@pytest.fixture(scope="session")
def gpr_trade() -> pl.DataFrame:
    """geopolrisk-py test workbook, sheet Trade Data: U.S. imports 2022 by partner, with the partner's g."""
    raw = read_oracle("geopolrisk_usa2022_trade.csv")
    return raw.select(
        pl.col("rawMaterial").alias("material"),
        pl.col("Year").alias("year"),
        pl.lit("USA").alias("importer"),
        pl.col("Exporting Country").cast(pl.String).alias("exporter"),
        pl.col("Quantity (mTonnes)").cast(pl.Float64).alias("quantity_t"),
        pl.col("Trade Value (1000 USD)").cast(pl.Float64).alias("value_kusd"),
        pl.col("WGI").cast(pl.Float64).alias("g"),
    )


@pytest.fixture(scope="session")
def gpr_production() -> pl.DataFrame:
    """The workbook's World Mining Data sheets in long form; the 'Total' row keeps its DELETE label."""
    raw = read_oracle("geopolrisk_production_2018_2022.csv")
    years = ["2018", "2019", "2020", "2021", "2022"]
    long = raw.unpivot(index=["raw_material", "Country_ISO"], on=years, variable_name="year", value_name="q")
    return long.select(
        pl.col("raw_material").alias("material"),
        pl.col("year").cast(pl.Int64),
        pl.col("Country_ISO").alias("country"),
        pl.col("q").cast(pl.Float64).alias("quantity_t"),
    )


def ledger_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows))


@pytest.fixture(scope="session")
def make_ledger() -> Callable[[list[dict[str, object]]], pl.DataFrame]:
    """Canonical ledger lines from plain dicts (missing columns null)."""
    return ledger_frame


@pytest.fixture()
def small_ledger() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Seven entry lines and their classification, values chosen so shares are easy to check by hand."""
    rows: list[dict[str, object]] = [
        # NdFeB magnets from China before 2027: covered material, covered country.
        {"line_id": "L1", "entry_date": date(2025, 3, 1), "hts": "8505110070", "country_origin": "CHN",
         "customs_value_usd": 50_000.0, "quantity_kg": 1_000.0, "content_mineral": "neodymium",
         "content_kg": 300.0},
        # NdFeB magnets from Japan after the 2027 widening: origin clean, upstream unknown.
        {"line_id": "L2", "entry_date": date(2027, 2, 1), "hts": "8505110070", "country_origin": "JPN",
         "customs_value_usd": 80_000.0, "quantity_kg": 1_000.0, "content_mineral": "neodymium",
         "content_kg": 300.0},
        # Tungsten powder produced in China, melted in Vietnam: China still makes it covered.
        {"line_id": "L3", "entry_date": date(2025, 5, 1), "hts": "8101100000", "country_origin": "CHN",
         "country_smelt_cast": "VNM", "customs_value_usd": 20_000.0, "quantity_kg": 400.0},
        # Cobalt oxide from the DRC and from Canada: not DFARS items.
        {"line_id": "L4", "entry_date": date(2025, 5, 1), "hts": "2822000000", "country_origin": "COD",
         "customs_value_usd": 30_000.0, "quantity_kg": 1_000.0},
        {"line_id": "L5", "entry_date": date(2025, 5, 1), "hts": "2822000000", "country_origin": "CAN",
         "customs_value_usd": 10_000.0, "quantity_kg": 500.0},
        # Li-ion cells from Korea: no declared content; the shipped factor for 8507.60 gives lithium per kg.
        {"line_id": "L6", "entry_date": date(2025, 5, 1), "hts": "8507600020", "country_origin": "KOR",
         "customs_value_usd": 90_000.0, "quantity_kg": 300.0},
        # More cells, declared by count only: no mass, so no mineral content can be worked out.
        {"line_id": "L7", "entry_date": date(2025, 6, 1), "hts": "8507600020", "country_origin": "KOR",
         "customs_value_usd": 5_000.0, "quantity": 40.0, "unit": "no"},
    ]  # fmt: skip
    classification = pl.DataFrame(
        {
            "line_id": ["L1", "L2", "L3", "L4", "L5", "L6", "L7"],
            "mineral_id": ["neodymium", "neodymium", "tungsten", "cobalt", "cobalt", "lithium", "lithium"],
            "stage": [
                "derivative",
                "derivative",
                "metal_powder_alloy",
                "oxide_salt_compound",
                "oxide_salt_compound",
                "derivative",
                "derivative",
            ],
            "confidence": ["exact"] * 7,
            "matched_prefix": ["85051100", "85051100", "810110", "282200", "282200", "85076000", "85076000"],
        }
    )
    return ledger_frame(rows), classification
