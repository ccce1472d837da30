"""Classify ledger lines to minerals and processing stages, and give each line its mineral content.

Classification is :func:`critmin.refdata.scope.classify` (longest HTS prefix of the PCMDP scope map); this
module adds what a user needs around it: which lines fell in *basket* codes ("other ...", several
minerals possible) and which matched nothing, with their value, so neither is silently guessed.

Content per line comes from the best source available, and always says which:

1. ``ledger`` — the line itself gives content (``content_mineral`` + ``content_kg``);
2. ``bom`` — the line's part number is an item of a bill of materials: kg per unit of the part, exploded
   from the BOM, times the line quantity;
3. ``factor`` — the shipped reference content factors for the longest matching HTS prefix (the default
   row per product, kg of mineral per kg of product, low/central/high) times the line's mass;
4. ``none`` — none of these applies; the row says why (e.g. no net weight for a counted line).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin.ledger.units import unit_table
from critmin.refdata.content import default_factors
from critmin.refdata.registry import get_record
from critmin.refdata.scope import CLASSIFICATION_SCHEMA, classify

SCOPE_DATASETS = ("pcmdp_scope", "content_factors")
"""The reference data that classification and factor content depend on (besides the HTS code)."""

LINE_CONTENT_SCHEMA: dict[str, pl.DataType] = {
    "line_id": pl.String(),
    "mineral_id": pl.String(),
    "content_kg_low": pl.Float64(),
    "content_kg_central": pl.Float64(),
    "content_kg_high": pl.Float64(),
    "content_source": pl.String(),  # ledger | bom | factor | none
    "content_detail": pl.String(),
}


@dataclass
class ClassificationReport:
    """Classification of a ledger with its baskets and unmapped lines spelled out."""

    classification: pl.DataFrame
    summary: pl.DataFrame
    """lines and customs value by confidence"""
    baskets: pl.DataFrame
    """lines whose code is a basket: line, HTS, candidate minerals, value"""
    unmapped: pl.DataFrame
    """lines no scope prefix matched: line, HTS, description, value"""


def classify_lines(lines: pl.DataFrame) -> ClassificationReport:
    """Classify canonical ledger lines (longest HTS prefix) and report baskets and unmapped lines."""
    if lines.height == 0:
        empty = pl.DataFrame(schema=CLASSIFICATION_SCHEMA)
        return ClassificationReport(
            empty,
            pl.DataFrame(
                schema={"confidence": pl.String, "lines": pl.UInt32, "customs_value_usd": pl.Float64}
            ),
            pl.DataFrame(
                schema={
                    "line_id": pl.String,
                    "hts": pl.String,
                    "minerals": pl.String,
                    "customs_value_usd": pl.Float64,
                }
            ),
            pl.DataFrame(
                schema={
                    "line_id": pl.String,
                    "hts": pl.String,
                    "description": pl.String,
                    "customs_value_usd": pl.Float64,
                }
            ),
        )
    classification = classify(lines.select("line_id", "hts"))
    info = lines.select("line_id", "hts", "description", "customs_value_usd")
    per_line = classification.group_by("line_id", maintain_order=True).agg(
        pl.col("confidence").first(),
        pl.col("mineral_id").drop_nulls().sort().str.join(", ").alias("minerals"),
    )
    per_line = per_line.join(info, on="line_id", how="left")
    summary = (
        per_line.group_by("confidence")
        .agg(pl.len().alias("lines"), pl.col("customs_value_usd").sum())
        .sort("confidence")
    )
    baskets = per_line.filter(pl.col("confidence") == "basket").select(
        "line_id", "hts", "minerals", "customs_value_usd"
    )
    unmapped = per_line.filter(pl.col("confidence") == "unmapped").select(
        "line_id", "hts", "description", "customs_value_usd"
    )
    return ClassificationReport(classification, summary, baskets, unmapped)


def scope_version() -> str:
    """Which reference data classifies codes: ``pcmdp_scope@<sha256[:12]>+content_factors@<sha256[:12]>``.

    Classification and factor content are functions of the HTS code and this version only, so the
    workspace stores them once per (version, code).
    """
    return "+".join(f"{d}@{get_record(d).sha256[:12]}" for d in SCOPE_DATASETS)


def code_classification(codes: pl.Series) -> pl.DataFrame:
    """Scope-map classification of each distinct code: CLASSIFICATION_SCHEMA with ``hts`` for ``line_id``."""
    unique = codes.cast(pl.String).unique().drop_nulls().sort()
    frame = pl.DataFrame({"line_id": unique, "hts": unique})
    return classify(frame).rename({"line_id": "hts"})


def _factor_prefix(codes: pl.Series, prefixes: list[str]) -> pl.Series:
    """Longest prefix of each code among ``prefixes`` (null when none), one pass per prefix length."""
    lengths = sorted({len(p) for p in prefixes}, reverse=True)
    frame = pl.DataFrame({"code": codes.fill_null("")})
    candidates = [
        pl.when(pl.col("code").str.slice(0, n).is_in([p for p in prefixes if len(p) == n])).then(
            pl.col("code").str.slice(0, n)
        )
        for n in lengths
    ]
    return frame.select(pl.coalesce([*candidates, pl.lit(None, dtype=pl.String)]).alias("prefix")).to_series()


CODE_CONTENT_SCHEMA: dict[str, pl.DataType] = {
    "hts": pl.String(),
    "factor_row": pl.Int32(),  # 1, 2, ... per code
    "mineral_id": pl.String(),
    "factor_low": pl.Float64(),  # kg of mineral per kg of product
    "factor_central": pl.Float64(),
    "factor_high": pl.Float64(),
    "factor_detail": pl.String(),  # null: no reference factor for this code
}
"""What :func:`code_content` returns: the reference content factors of each HTS code (sources 3 and 4)."""

_NO_SOURCE = "no content on the line, no BOM item and no reference factor for this HTS code"
_NO_MASS = "reference factor exists but the line has no mass: add a net weight or a mass unit"


def stated_content(lines: pl.DataFrame, bom_per_unit: pl.DataFrame | None = None) -> pl.DataFrame:
    """Content that belongs to the line itself (sources 1 and 2, LINE_CONTENT_SCHEMA); other lines absent.

    ``bom_per_unit`` is :attr:`critmin.ledger.bom.BomResult.per_unit` (item, item_unit, mineral_id, kg_*);
    a line links to it through ``part_number``.
    """
    base = lines.select("line_id", "part_number", "quantity", "unit", "content_mineral", "content_kg")
    from_ledger = base.filter(
        pl.col("content_mineral").is_not_null() & pl.col("content_kg").is_not_null()
    ).select(
        "line_id",
        pl.col("content_mineral").alias("mineral_id"),
        pl.col("content_kg").alias("content_kg_low"),
        pl.col("content_kg").alias("content_kg_central"),
        pl.col("content_kg").alias("content_kg_high"),
        pl.lit("ledger").alias("content_source"),
        pl.lit("content given on the line").alias("content_detail"),
    )
    frames = [from_ledger]
    if bom_per_unit is not None and bom_per_unit.height:
        units = unit_table().select("unit", "dimension", "to_base")
        candidates = (
            base.filter(pl.col("part_number").is_not_null())
            .join(from_ledger.select("line_id").unique(), on="line_id", how="anti")
            .join(units, on="unit", how="left")
        )
        amount = (
            pl.when((pl.col("item_unit") == "kg") & (pl.col("dimension") == "mass"))
            .then(pl.col("quantity") * pl.col("to_base"))
            .when((pl.col("item_unit") == "no") & (pl.col("dimension") == "count"))
            .then(pl.col("quantity") * pl.col("to_base"))
        )
        linked = candidates.join(
            bom_per_unit, left_on="part_number", right_on="item", how="inner"
        ).with_columns(amount.alias("__units"))
        frames.append(
            linked.filter(pl.col("__units").is_not_null()).select(
                "line_id",
                "mineral_id",
                (pl.col("__units") * pl.col("kg_low")).alias("content_kg_low"),
                (pl.col("__units") * pl.col("kg_central")).alias("content_kg_central"),
                (pl.col("__units") * pl.col("kg_high")).alias("content_kg_high"),
                pl.lit("bom").alias("content_source"),
                (
                    pl.lit("BOM item ")
                    + pl.col("part_number")
                    + pl.lit(" (")
                    + pl.col("content_source")
                    + pl.lit(")")
                ).alias("content_detail"),
            )
        )
    out = pl.concat(
        [f.select([pl.col(n).cast(t) for n, t in LINE_CONTENT_SCHEMA.items()]) for f in frames],
        how="vertical",
    )
    return out


def code_content(codes: pl.Series) -> pl.DataFrame:
    """Reference content factors of each distinct code (CODE_CONTENT_SCHEMA): the default factor rows of
    the longest matching prefix, or one row with a null ``factor_detail`` when no prefix matches."""
    factors = default_factors("per_kg_product").select(
        "hts_prefix", "mineral_id", "low", "central", "high", "product_id"
    )
    unique = codes.cast(pl.String).unique().drop_nulls().sort()
    frame = pl.DataFrame({"hts": unique}).with_columns(
        _factor_prefix(unique, factors.get_column("hts_prefix").unique().to_list()).alias("prefix")
    )
    joined = frame.join(factors, left_on="prefix", right_on="hts_prefix", how="left").sort(
        "hts", "mineral_id", nulls_last=True
    )
    return joined.select(
        "hts",
        pl.int_range(1, pl.len() + 1).over("hts").alias("factor_row"),
        "mineral_id",
        pl.col("low").alias("factor_low"),
        pl.col("central").alias("factor_central"),
        pl.col("high").alias("factor_high"),
        pl.when(pl.col("prefix").is_not_null())
        .then(pl.lit("reference factor ") + pl.col("product_id") + pl.lit(" x net mass"))
        .alias("factor_detail"),
    ).select([pl.col(n).cast(t) for n, t in CODE_CONTENT_SCHEMA.items()])


def content_from_codes(lines: pl.DataFrame, per_code: pl.DataFrame) -> pl.DataFrame:
    """Content of lines from their codes' factors (sources 3 and 4, LINE_CONTENT_SCHEMA): factor x net
    mass, or one ``none`` row saying why. ``lines`` has line_id, hts and quantity_kg; ``per_code`` is
    :func:`code_content` of (at least) their codes. The workspace view ``ledger_line_content`` is the same
    join in SQL."""
    has_factor = pl.col("factor_detail").is_not_null() & pl.col("quantity_kg").is_not_null()
    joined = lines.select("line_id", "hts", "quantity_kg").join(per_code, on="hts", how="inner")
    return (
        joined.filter(pl.col("quantity_kg").is_not_null() | (pl.col("factor_row") == 1))
        .select(
            "line_id",
            pl.when(has_factor).then(pl.col("mineral_id")).alias("mineral_id"),
            (pl.col("quantity_kg") * pl.col("factor_low")).alias("content_kg_low"),
            (pl.col("quantity_kg") * pl.col("factor_central")).alias("content_kg_central"),
            (pl.col("quantity_kg") * pl.col("factor_high")).alias("content_kg_high"),
            pl.when(has_factor).then(pl.lit("factor")).otherwise(pl.lit("none")).alias("content_source"),
            pl.when(pl.col("factor_detail").is_null())
            .then(pl.lit(_NO_SOURCE))
            .when(pl.col("quantity_kg").is_null())
            .then(pl.lit(_NO_MASS))
            .otherwise(pl.col("factor_detail"))
            .alias("content_detail"),
        )
        .select([pl.col(n).cast(t) for n, t in LINE_CONTENT_SCHEMA.items()])
    )


def line_content(lines: pl.DataFrame, bom_per_unit: pl.DataFrame | None = None) -> pl.DataFrame:
    """Mineral content of every line (LINE_CONTENT_SCHEMA), from ledger, BOM or reference factors.

    ``bom_per_unit`` is :attr:`critmin.ledger.bom.BomResult.per_unit` (item, item_unit, mineral_id, kg_*);
    a line links to it through ``part_number``. Every line appears at least once: its
    :func:`stated_content`, or else :func:`content_from_codes`.
    """
    stated = stated_content(lines, bom_per_unit)
    rest = lines.select("line_id", "hts", "quantity_kg").join(
        stated.select("line_id").unique(), on="line_id", how="anti"
    )
    derived = content_from_codes(rest, code_content(rest.get_column("hts")))
    order = lines.select("line_id").with_row_index("__order")
    return (
        pl.concat([stated, derived], how="vertical")
        .join(order, on="line_id", how="left")
        .sort("__order", "mineral_id", nulls_last=True, maintain_order=True)
        .drop("__order")
    )


def classified_lines(lines: pl.DataFrame, bom_per_unit: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (line, mineral): stage and confidence from the scope map, content and its source.

    What ``critmin ledger classify`` prints. Minerals the scope map names but no content source covers
    appear with null content; minerals a content source adds beyond the scope map appear with a null stage.
    """
    report = classify_lines(lines)
    content = line_content(lines, bom_per_unit)
    scope = report.classification.select("line_id", "mineral_id", "stage", "confidence", "matched_prefix")
    scoped = scope.filter(pl.col("mineral_id").is_not_null()).select("line_id").unique()
    sources = content.group_by("line_id").agg(
        pl.col("content_source").first().alias("__line_source"),
        pl.col("content_detail").first().alias("__line_detail"),
    )
    placeholder = pl.col("mineral_id").is_null() & pl.col("line_id").is_in(
        scoped.get_column("line_id").implode()
    )
    content = content.filter(~placeholder)
    joined = scope.join(content, on=["line_id", "mineral_id"], how="full", coalesce=True, nulls_equal=True)
    line_facts = lines.select("line_id", "hts", "country_origin", "customs_value_usd")
    order = lines.select("line_id").with_row_index("__order")
    return (
        joined.join(sources, on="line_id", how="left")
        .with_columns(
            pl.coalesce("content_source", "__line_source").alias("content_source"),
            pl.when(pl.col("content_source").is_null() & (pl.col("__line_source") == "none"))
            .then(pl.col("__line_detail"))
            .when(pl.col("content_source").is_null())
            .then(pl.lit("this mineral is not in the line's content source"))
            .otherwise(pl.col("content_detail"))
            .alias("content_detail"),
        )
        .join(line_facts, on="line_id", how="left")
        .join(order, on="line_id", how="left")
        .sort("__order", "mineral_id", nulls_last=True, maintain_order=True)
        .select(
            "line_id",
            "hts",
            "country_origin",
            "customs_value_usd",
            "mineral_id",
            "stage",
            "confidence",
            "matched_prefix",
            "content_kg_low",
            "content_kg_central",
            "content_kg_high",
            "content_source",
            "content_detail",
        )
    )
