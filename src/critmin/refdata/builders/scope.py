"""PCMDP scope map and derivative products, from curated files checked against the HTS schedule.

There is no official HTS list of processed critical minerals and derivative products, so the map is
curated (``curated/pcmdp_scope.csv``), one row per (HTS prefix, mineral) with stage, confidence and the
keys of the sources that support it. The build refuses anything it cannot stand behind: a prefix that is
not a code of the 2025 schedule, a mineral id critmin does not define, an unknown stage, confidence or
source key. Each row carries the schedule's description of the prefix so a reviewer can see what the code
says next to what the map claims.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.paths import CURATED_DIR
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.refdata.builders.hts import HTS_CSV, build_schedule
from critmin.refdata.registry import DatasetSpec

SCOPE_FILE = "pcmdp_scope.csv"
SOURCES_FILE = "pcmdp_sources.yaml"
PRODUCTS_FILE = "derivative_products.yaml"
MINERALS_FILE = "minerals.yaml"

STAGES = ("ore_concentrate", "oxide_salt_compound", "metal_powder_alloy", "semi_finished", "derivative")
CONFIDENCES = ("exact", "partial", "basket")
PROCESSED_STAGES = ("oxide_salt_compound", "metal_powder_alloy")


def _sources() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = load_curated_yaml(CURATED_DIR / SOURCES_FILE)["sources"]
    return data


def _mineral_ids() -> set[str]:
    entries = load_curated_yaml(CURATED_DIR / MINERALS_FILE)["minerals"]
    return {str(entry["id"]) for entry in entries}


def _expand_sources(keys: str, where: str, sources: dict[str, dict[str, str]]) -> str:
    parts = []
    for key in (k.strip() for k in keys.split(";")):
        if key not in sources:
            raise ReferenceDataError(
                f"{where}: unknown source key {key!r}; define it in curated/{SOURCES_FILE} or use one of "
                f"{', '.join(sorted(sources))}."
            )
        entry = sources[key]
        parts.append(f"{' '.join(entry['citation'].split())} <{entry['url']}> (read {entry['read']})")
    return " | ".join(parts)


def _descriptions(raw_dir: Path) -> pl.DataFrame:
    return build_schedule(raw_dir).select(
        pl.col("hts").alias("hts_prefix"), pl.col("description_path").alias("hts_description")
    )


def build_scope(raw_dir: Path) -> pl.DataFrame:
    path = CURATED_DIR / SCOPE_FILE
    frame = pl.read_csv(path, comment_prefix="#", infer_schema_length=0).with_row_index("row", offset=1)
    expected = ["hts_prefix", "mineral_id", "stage", "confidence", "sources", "note"]
    if frame.columns[1:] != expected:
        raise ReferenceDataError(f"{path}: columns must be {expected}, found {frame.columns[1:]}.")
    sources = _sources()
    minerals = _mineral_ids()
    codes = _descriptions(raw_dir)
    known_codes = set(codes.get_column("hts_prefix").to_list())
    problems: list[str] = []
    for row in frame.iter_rows(named=True):
        where = f"{path.name} data row {row['row']}"
        prefix = row["hts_prefix"] or ""
        if prefix not in known_codes:
            problems.append(
                f"{where}, column hts_prefix: {prefix!r} is not a code of the HTS 2025 schedule; use "
                "the code as printed (digits only), e.g. 26030000 rather than 2603."
            )
        if row["mineral_id"] not in minerals:
            problems.append(f"{where}, column mineral_id: unknown mineral {row['mineral_id']!r}.")
        if row["stage"] not in STAGES:
            problems.append(f"{where}, column stage: {row['stage']!r} is not one of {', '.join(STAGES)}.")
        if row["confidence"] not in CONFIDENCES:
            problems.append(f"{where}, column confidence: {row['confidence']!r} is not one of {CONFIDENCES}.")
    if problems:
        raise ReferenceDataError("PCMDP scope map has errors:\n" + "\n".join(problems))
    duplicated = frame.filter(pl.struct("hts_prefix", "mineral_id").is_duplicated())
    if duplicated.height:
        raise ReferenceDataError(
            f"{path.name}: (hts_prefix, mineral_id) repeated on data rows {duplicated['row'].to_list()}; "
            "keep one row per pair."
        )
    expanded = {
        keys: _expand_sources(keys, f"{path.name} sources {keys!r}", sources)
        for keys in frame.get_column("sources").unique().to_list()
    }
    out = (
        frame.with_columns(
            pl.col("hts_prefix").str.len_chars().cast(pl.Int32).alias("prefix_length"),
            pl.col("sources").replace_strict(expanded, return_dtype=pl.String).alias("source"),
            pl.col("stage").is_in(list(PROCESSED_STAGES)).alias("processed"),
        )
        .join(codes, on="hts_prefix", how="left")
        .select(
            "hts_prefix",
            "prefix_length",
            "mineral_id",
            "stage",
            "processed",
            "confidence",
            "hts_description",
            "note",
            "sources",
            "source",
        )
        .sort("hts_prefix", "mineral_id")
    )
    return out


def build_products(raw_dir: Path) -> pl.DataFrame:
    path = CURATED_DIR / PRODUCTS_FILE
    entries: list[dict[str, Any]] = load_curated_yaml(path)["products"]
    sources = _sources()
    minerals = _mineral_ids()
    known_codes = set(_descriptions(raw_dir).get_column("hts_prefix").to_list())
    rows = []
    for entry in entries:
        pid = entry["product_id"]
        for prefix in entry["hts_prefixes"]:
            if prefix not in known_codes:
                raise ReferenceDataError(
                    f"{path.name} product {pid}: HTS prefix {prefix!r} is not in the schedule."
                )
        unknown = [m for m in entry["minerals"] if m not in minerals]
        if unknown:
            raise ReferenceDataError(f"{path.name} product {pid}: unknown mineral ids {unknown}.")
        rows.append(
            {
                "product_id": pid,
                "name": entry["name"],
                "eo14272_category": entry.get("eo14272_category"),
                "eo14272_named": entry.get("eo14272_category") is not None,
                "hts_prefixes": list(entry["hts_prefixes"]),
                "minerals": list(entry["minerals"]),
                "source": _expand_sources(";".join(entry["sources"]), f"{path.name} product {pid}", sources),
            }
        )
    schema: dict[str, pl.DataType] = {
        "product_id": pl.String(),
        "name": pl.String(),
        "eo14272_category": pl.String(),
        "eo14272_named": pl.Boolean(),
        "hts_prefixes": pl.List(pl.String()),
        "minerals": pl.List(pl.String()),
        "source": pl.String(),
    }
    frame = pl.DataFrame(rows, schema=schema)
    if frame.get_column("product_id").is_duplicated().any():
        raise ReferenceDataError(f"{path.name}: product ids must be unique.")
    return frame.sort("product_id")


_SOURCE_NOTE = (
    "critmin curation from HTS 2025 descriptions (USITC, https://hts.usitc.gov/) and the public "
    f"documents listed per row (curated/{SOURCES_FILE}); no official PCMDP HTS list exists "
    "(Proclamation 11001 attached none)"
)

SPECS = [
    DatasetSpec(
        id="pcmdp_scope",
        title="PCMDP scope map: HTS prefixes by critical mineral and processing stage",
        source=_SOURCE_NOTE,
        licence="Apache-2.0 (curation); HTS text public domain",
        vintage="HTS 2025 Basic Edition; EO 14272 (2025-04-15)",
        retrieved="2026-11-28",
        description=(
            "One row per (hts_prefix, mineral_id): stage (ore_concentrate, oxide_salt_compound, "
            "metal_powder_alloy, semi_finished, derivative), processed (oxide/salt or metal stage), "
            "confidence (exact, partial, basket), the schedule's description of the prefix, note and full "
            "source text. Ledger lines are classified by the longest matching prefix "
            "(critmin.refdata.scope.classify). Every prefix is a code of the HTS 2025 schedule. Covers "
            "chapters 25-28, 31, 38, 71, 72, 74-81, 85 and the derivative products EO 14272 names."
        ),
        build=build_scope,
        raw_inputs=(f"curated:{SCOPE_FILE}", f"curated:{SOURCES_FILE}", HTS_CSV),
    ),
    DatasetSpec(
        id="derivative_products",
        title="Derivative products of processed critical minerals: HTS codes and minerals contained",
        source=_SOURCE_NOTE,
        licence="Apache-2.0 (curation); HTS text public domain",
        vintage="HTS 2025 Basic Edition; EO 14272 (2025-04-15)",
        retrieved="2026-11-28",
        description=(
            "product_id, name, the EO 14272 product family it falls in (null when the EO does not name it), "
            "its HTS prefixes and the critical minerals it typically contains. Quantities are in "
            "content_factors; per-code confidence in pcmdp_scope."
        ),
        build=build_products,
        raw_inputs=(f"curated:{PRODUCTS_FILE}", f"curated:{SOURCES_FILE}", HTS_CSV),
    ),
]
