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
from critmin.refdata.scope import CLASSIFICATION_SCHEMA, classify

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


def line_content(lines: pl.DataFrame, bom_per_unit: pl.DataFrame | None = None) -> pl.DataFrame:
    """Mineral content of every line (LINE_CONTENT_SCHEMA), from ledger, BOM or reference factors.

    ``bom_per_unit`` is :attr:`critmin.ledger.bom.BomResult.per_unit` (item, item_unit, mineral_id, kg_*);
    a line links to it through ``part_number``. Every line appears at least once.
    """
    base = lines.select(
        "line_id", "hts", "part_number", "quantity", "unit", "quantity_kg", "content_mineral", "content_kg"
    )

    from_ledger = (
        base.filter(pl.col("content_mineral").is_not_null() & pl.col("content_kg").is_not_null())
        .select(
            "line_id",
            "content_mineral",
            pl.col("content_kg").alias("lo"),
            pl.col("content_kg").alias("mid"),
            pl.col("content_kg").alias("hi"),
            pl.lit("ledger").alias("content_source"),
            pl.lit("content given on the line").alias("content_detail"),
        )
        .rename({"content_mineral": "mineral_id"})
    )
    done = from_ledger.select("line_id").unique()

    frames = [from_ledger]
    if bom_per_unit is not None and bom_per_unit.height:
        units = unit_table().select("unit", "dimension", "to_base")
        candidates = base.join(done, on="line_id", how="anti").join(units, on="unit", how="left")
        amount = (
            pl.when((pl.col("item_unit") == "kg") & (pl.col("dimension") == "mass"))
            .then(pl.col("quantity") * pl.col("to_base"))
            .when((pl.col("item_unit") == "no") & (pl.col("dimension") == "count"))
            .then(pl.col("quantity") * pl.col("to_base"))
        )
        linked = candidates.join(
            bom_per_unit, left_on="part_number", right_on="item", how="inner"
        ).with_columns(amount.alias("__units"))
        from_bom = linked.filter(pl.col("__units").is_not_null()).select(
            "line_id",
            "mineral_id",
            (pl.col("__units") * pl.col("kg_low")).alias("lo"),
            (pl.col("__units") * pl.col("kg_central")).alias("mid"),
            (pl.col("__units") * pl.col("kg_high")).alias("hi"),
            pl.lit("bom").alias("content_source"),
            (
                pl.lit("BOM item ")
                + pl.col("part_number")
                + pl.lit(" (")
                + pl.col("content_source")
                + pl.lit(")")
            ).alias("content_detail"),
        )
        frames.append(from_bom)
        done = pl.concat([done, from_bom.select("line_id").unique()])

    factors = default_factors("per_kg_product").select(
        "hts_prefix", "mineral_id", "low", "central", "high", "product_id"
    )
    rest = base.join(done, on="line_id", how="anti")
    rest = rest.with_columns(
        _factor_prefix(rest.get_column("hts"), factors.get_column("hts_prefix").unique().to_list()).alias(
            "prefix"
        )
    )
    with_mass = rest.filter(pl.col("prefix").is_not_null() & pl.col("quantity_kg").is_not_null())
    from_factor = with_mass.join(factors, left_on="prefix", right_on="hts_prefix", how="inner").select(
        "line_id",
        "mineral_id",
        (pl.col("quantity_kg") * pl.col("low")).alias("lo"),
        (pl.col("quantity_kg") * pl.col("central")).alias("mid"),
        (pl.col("quantity_kg") * pl.col("high")).alias("hi"),
        pl.lit("factor").alias("content_source"),
        (pl.lit("reference factor ") + pl.col("product_id") + pl.lit(" x net mass")).alias("content_detail"),
    )
    frames.append(from_factor)
    reason = (
        pl.when(pl.col("prefix").is_null())
        .then(pl.lit("no content on the line, no BOM item and no reference factor for this HTS code"))
        .otherwise(
            pl.lit("reference factor exists but the line has no mass: add a net weight or a mass unit")
        )
    )
    none = rest.join(from_factor.select("line_id").unique(), on="line_id", how="anti").select(
        "line_id",
        pl.lit(None, dtype=pl.String).alias("mineral_id"),
        pl.lit(None, dtype=pl.Float64).alias("lo"),
        pl.lit(None, dtype=pl.Float64).alias("mid"),
        pl.lit(None, dtype=pl.Float64).alias("hi"),
        pl.lit("none").alias("content_source"),
        reason.alias("content_detail"),
    )
    frames.append(none)
    order = lines.select("line_id").with_row_index("__order")
    out = (
        pl.concat(frames, how="vertical")
        .rename({"lo": "content_kg_low", "mid": "content_kg_central", "hi": "content_kg_high"})
        .join(order, on="line_id", how="left")
        .sort("__order", "mineral_id", nulls_last=True, maintain_order=True)
        .drop("__order")
    )
    return out.select([pl.col(name).cast(dtype) for name, dtype in LINE_CONTENT_SCHEMA.items()])


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
