"""Bills of materials: read a multi-level BOM and explode it to mineral mass per finished good.

A BOM file is a list of edges, one row per (parent, component) with the quantity of the component in one
unit of the parent. Two layouts are read: an explicit ``parent`` column, or an indented ``level`` column
(1, 2, 3 or .1, ..2, ...3 as ERP exports print it) from which each row's parent is recovered. A row whose
``mineral`` column is filled is a *content edge*: its quantity is the mass of that mineral in one unit of
the parent (low/central/high through ``content_low``/``content_high``). Leaves with no content edge take
the shipped reference content factors by HTS prefix when their mass is known (mass unit, or a unit weight
for counted parts), and say so.

The explosion walks the tree one level at a time with joins — as many iterations as the BOM is deep, never
one per row — and keeps every path, so the chain finished good > part > mineral (with each part's HTS and
origin) can be queried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from critmin.errors import InputError
from critmin.ledger import validate as v
from critmin.ledger.codes import LookupCache
from critmin.ledger.fields import BOM_FIELDS
from critmin.ledger.headers import ColumnMapping, MappingSpec, map_headers, resolve_spec
from critmin.ledger.numbers import parse_number
from critmin.ledger.readers import ROW, SourceInfo, duplicate_header_notes, open_source
from critmin.ledger.units import unit_table
from critmin.refdata.content import default_factors

EXPLOSION_SCHEMA: dict[str, pl.DataType] = {
    "root": pl.String(),
    "path": pl.String(),
    "depth": pl.Int32(),
    "item": pl.String(),
    "item_hts": pl.String(),
    "item_origin": pl.String(),
    "qty_per_root": pl.Float64(),
    "item_unit": pl.String(),
    "mineral_id": pl.String(),
    "kg_low": pl.Float64(),
    "kg_central": pl.Float64(),
    "kg_high": pl.Float64(),
    "content_source": pl.String(),  # bom | factor | none
    "content_detail": pl.String(),
}

EDGE_SCHEMA: dict[str, pl.DataType] = {
    "source_row": pl.Int64(),
    "parent": pl.String(),
    "component": pl.String(),
    "qty_base": pl.Float64(),
    "qty_low": pl.Float64(),
    "qty_high": pl.Float64(),
    "base_unit": pl.String(),
    "mineral_id": pl.String(),
    "hts": pl.String(),
    "origin": pl.String(),
    "description": pl.String(),
    "supplier": pl.String(),
    "unit_weight_kg": pl.Float64(),
}

MAX_DEPTH = 64


@dataclass
class BomResult:
    """A read and exploded BOM."""

    source: SourceInfo
    mapping: ColumnMapping
    edges: pl.DataFrame
    explosion: pl.DataFrame
    """every (finished good, path, mineral) with kg per one finished good"""
    per_unit: pl.DataFrame
    """mineral kg in one unit of *any* item (its subtree), for linking ledger part numbers"""
    issues: pl.DataFrame
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    finished_goods: list[str] = field(default_factory=list)

    def totals(self) -> pl.DataFrame:
        """Mineral mass per finished good (kg per one unit), low/central/high, by source."""
        fg = self.explosion.filter(pl.col("mineral_id").is_not_null())
        return (
            fg.group_by("root", "mineral_id")
            .agg(
                pl.col("kg_low").sum(),
                pl.col("kg_central").sum(),
                pl.col("kg_high").sum(),
                pl.col("content_source").unique().sort().str.join("+").alias("content_source"),
            )
            .rename({"root": "finished_good"})
            .sort("finished_good", "mineral_id")
        )

    def unresolved(self) -> pl.DataFrame:
        """Leaves with no content row and no usable reference factor: what the totals leave out."""
        return self.explosion.filter(pl.col("content_source") == "none").select(
            pl.col("root").alias("finished_good"), "path", "item", "item_hts", "content_detail"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "file": str(self.source.path),
            "sha256": self.source.sha256,
            "rows_in": self.rows_in,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "finished_goods": list(self.finished_goods),
            "issues": self.issues.height,
        }


def read_bom(
    path: Path, *, mapping: MappingSpec | Path | None = None, sheet: str | int | None = None
) -> BomResult:
    """Read, validate and explode a BOM file."""
    spec, origin = resolve_spec(mapping)
    reader = open_source(path, spec, sheet, BOM_FIELDS)
    try:
        columns = map_headers(reader.info.columns, spec, origin=origin, fieldset=BOM_FIELDS)
        if "parent" not in columns.fields and "level" not in columns.fields:
            raise InputError(
                f"{path}: a BOM needs a parent column (the assembly each row belongs to) or a level column "
                f"(indented BOM). Columns found: {', '.join(reader.info.columns)}."
            )
        if columns.missing_required:
            raise InputError(
                f"{path}: no column for {', '.join(columns.missing_required)}. Columns found: "
                f"{', '.join(reader.info.columns)}; name them in a mapping file (`columns:`)."
            )
        reader.info.notes.extend(duplicate_header_notes(reader.info, columns))
        chunks = list(reader.chunks(100_000))
    finally:
        reader.close()
    raw = pl.concat([chunk.frame for chunk in chunks], how="vertical")
    bad_rows = pl.concat([chunk.bad_rows for chunk in chunks], how="vertical")
    oversize = pl.concat([chunk.oversize for chunk in chunks], how="vertical")
    edges, issues = _edges(raw, columns)
    issues = pl.concat(
        [
            issues,
            v.oversize_issues(oversize),
            v.issues_where(
                bad_rows,
                pl.lit(True),
                column="(row)",
                code="field_count",
                message=pl.lit("Row has ")
                + pl.col("fields").cast(pl.String)
                + pl.lit(" fields but the header has ")
                + pl.col("expected").cast(pl.String)
                + pl.lit("."),
            ),
        ]
    )
    issues = v.precise_first(issues)
    errors = issues.filter(pl.col("severity") == "error").get_column("source_row").unique()
    good = edges.filter(~pl.col("source_row").is_in(errors.implode()))
    all_parents = edges.get_column("parent").drop_nulls()
    all_components = edges.get_column("component").drop_nulls()
    roots = sorted(set(all_parents.to_list()) - set(all_components.to_list()))
    items = _items(good)
    explosion = _explode(good, items, roots)
    per_unit = _per_unit(good, items)
    rows_in = raw.height + bad_rows.height
    quarantined = pl.concat([errors, bad_rows.get_column(ROW)]).unique().len()
    return BomResult(
        source=reader.info,
        mapping=columns,
        edges=good,
        explosion=explosion,
        per_unit=per_unit,
        issues=pl.concat([v.note_issues(reader.info.notes), issues.sort("source_row", maintain_order=True)]),
        rows_in=rows_in,
        rows_loaded=rows_in - quarantined,
        rows_quarantined=quarantined,
        finished_goods=roots,
    )


# ----------------------------------------------------------------------------------------------------------
# Rows -> edges
# ----------------------------------------------------------------------------------------------------------


def _column(raw: pl.DataFrame, mapping: ColumnMapping, name: str) -> pl.Expr:
    column = mapping.fields.get(name)
    if column is not None:
        return pl.col(column).alias(name)
    constant = mapping.constants.get(name)
    return pl.lit(constant if constant else None, dtype=pl.String).alias(name)


def _parents_from_levels(frame: pl.DataFrame) -> pl.DataFrame:
    """Recover each row's parent from an indented ``level`` column, one pass per level (not per row)."""
    text = pl.col("level").str.strip_chars()
    digits = text.str.extract(r"(\d+)", 1).cast(pl.Int32, strict=False)
    dots = text.str.count_matches(r"\.").cast(pl.Int32)
    frame = frame.with_columns(pl.coalesce(digits, dots).alias("__level"))
    levels = sorted({lv for lv in frame.get_column("__level").drop_nulls().to_list()})
    if not levels:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("__parent_from_level"))
    carried = [
        pl.when(pl.col("__level") == lv).then(pl.col("component")).forward_fill().alias(f"__at_{lv}")
        for lv in levels
    ]
    frame = frame.with_columns(carried)
    parent = pl.coalesce(
        [pl.when(pl.col("__level") == lv + 1).then(pl.col(f"__at_{lv}")) for lv in levels]
        + [pl.lit(None, dtype=pl.String)]
    )
    frame = frame.with_columns(parent.alias("__parent_from_level"))
    return frame.drop([f"__at_{lv}" for lv in levels])


def _edges(raw: pl.DataFrame, mapping: ColumnMapping) -> tuple[pl.DataFrame, pl.DataFrame]:
    names = [f.name for f in BOM_FIELDS.fields]
    frame = raw.select(pl.col(ROW), *[_column(raw, mapping, name) for name in names])
    cache = LookupCache()
    minerals = cache.lookup("mineral", frame.get_column("mineral"))
    frame = frame.join(
        minerals.rename({"raw": "mineral", "mineral": "mineral_id"}),
        on="mineral",
        how="left",
        maintain_order="left",
    ).with_columns(pl.coalesce("component", "mineral_id", "mineral").alias("component"))
    if "level" in mapping.fields:
        frame = _parents_from_levels(frame).with_columns(
            pl.coalesce("parent", "__parent_from_level").alias("parent")
        )
    units = cache.lookup("unit", frame.get_column("unit"))
    factors = unit_table()
    frame = (
        frame.join(
            units.rename({"raw": "unit", "unit": "unit_code", "suggestions": "unit_sugg"}),
            on="unit",
            how="left",
            maintain_order="left",
        )
        .join(factors.rename({"unit": "unit_code"}), on="unit_code", how="left", maintain_order="left")
        .with_columns(
            parse_number(frame.get_column("qty_per_parent")).alias("qty"),
            parse_number(frame.get_column("content_low")).alias("low"),
            parse_number(frame.get_column("content_high")).alias("high"),
            parse_number(frame.get_column("unit_weight")).alias("unit_weight_kg"),
        )
    )
    hts = cache.lookup("hts", frame.get_column("hts"))
    countries = cache.lookup("country", frame.get_column("origin"))
    frame = frame.join(
        hts.rename({"raw": "hts", "hts": "hts_code", "suggestions": "hts_sugg"}),
        on="hts",
        how="left",
        maintain_order="left",
    ).join(
        countries.rename({"raw": "origin", "iso3": "origin_iso3", "suggestions": "origin_sugg"}),
        on="origin",
        how="left",
        maintain_order="left",
    )

    is_content = pl.col("mineral").is_not_null()
    unit_factor = (pl.col("to_base") * pl.col("unit_scale")).fill_null(1.0)  # kW: 1000 W
    base_unit = (
        pl.when(pl.col("dimension") == "mass")
        .then(pl.lit("kg"))
        .when(pl.col("dimension") == "count")
        .then(pl.lit("no"))
        .when(pl.col("unit").is_null())
        .then(pl.lit("no"))
        .otherwise(pl.col("unit_code"))
    )
    frame = frame.with_columns(
        (pl.col("qty") * unit_factor).alias("qty_base"),
        (pl.coalesce("low", "qty") * unit_factor).alias("qty_low"),
        (pl.coalesce("high", "qty") * unit_factor).alias("qty_high"),
        base_unit.alias("base_unit"),
    )
    qty_text = pl.col("qty_per_parent")
    issues = pl.concat(
        [
            v.issues_where(
                frame,
                pl.col("component").is_null(),
                column=mapping.fields.get("component", "component"),
                code="bom_component_missing",
                message=v.text("Row names no component."),
            ),
            v.issues_where(
                frame,
                pl.col("parent").is_null() & pl.col("component").is_not_null() & is_content,
                column=mapping.fields.get("parent", "level"),
                code="bom_parent_missing",
                message=v.text("Content row belongs to no part."),
            ),
            v.issues_where(
                frame,
                qty_text.is_null() & pl.col("parent").is_not_null(),
                column=mapping.fields.get("qty_per_parent", "qty_per_parent"),
                code="bom_qty_invalid",
                message=v.text("Quantity per parent is empty."),
            ),
            v.issues_where(
                frame,
                qty_text.is_not_null() & (pl.col("qty").is_null() | (pl.col("qty") < 0)),
                column=mapping.fields.get("qty_per_parent", "qty_per_parent"),
                code="bom_qty_invalid",
                message=pl.lit("Quantity ") + v.quoted(qty_text) + pl.lit(" is not a non-negative number."),
            ),
            v.issues_where(
                frame,
                pl.col("unit").is_not_null() & pl.col("unit_code").is_null(),
                column=mapping.fields.get("unit", "unit"),
                code="unit_unknown",
                message=pl.lit("Unit ") + v.quoted(pl.col("unit")) + pl.lit(" is not recognised."),
            ),
            v.issues_where(
                frame,
                is_content & (pl.col("dimension") != "mass"),
                column=mapping.fields.get("unit", "unit"),
                code="bom_content_unit",
                message=pl.lit("Content of ")
                + pl.col("mineral")
                + pl.lit(" is given in ")
                + v.quoted(pl.col("unit"))
                + pl.lit(", not a mass."),
            ),
            v.issues_where(
                frame,
                is_content & pl.col("mineral_id").is_null(),
                column=mapping.fields.get("mineral", "mineral"),
                code="mineral_unknown",
                message=pl.lit("Mineral ") + v.quoted(pl.col("mineral")) + pl.lit(" is not recognised."),
            ),
            v.issues_where(
                frame,
                (pl.col("low").is_not_null() & (pl.col("qty_low") > pl.col("qty_base") * 1.000001))
                | (pl.col("high").is_not_null() & (pl.col("qty_high") < pl.col("qty_base") * 0.999999)),
                column=mapping.fields.get("content_low", "content_low"),
                code="bom_range_invalid",
                message=v.text("Low must be <= quantity <= high."),
            ),
            v.issues_where(
                frame,
                pl.col("hts").is_not_null() & ~pl.col("status").is_in(["valid", "valid_prefix"]),
                column=mapping.fields.get("hts", "hts"),
                code="hts_unknown",
                message=pl.lit("HTS ")
                + v.quoted(pl.col("hts"))
                + pl.lit(" is not in the HTS 2025 schedule; kept without HTS."),
            ).with_columns(pl.lit("warning").alias("severity")),
            v.issues_where(
                frame,
                pl.col("origin").is_not_null() & pl.col("origin_iso3").is_null(),
                column=mapping.fields.get("origin", "origin"),
                code="country_unknown",
                message=pl.lit("Origin ")
                + v.quoted(pl.col("origin"))
                + pl.lit(" is not a known country; kept without origin."),
            ).with_columns(pl.lit("warning").alias("severity")),
        ]
    )
    edges = frame.filter(pl.col("parent").is_not_null()).select(
        pl.col(ROW).alias("source_row"),
        "parent",
        "component",
        "qty_base",
        "qty_low",
        "qty_high",
        "base_unit",
        "mineral_id",
        pl.when(pl.col("status").is_in(["valid", "valid_prefix"])).then(pl.col("hts_code")).alias("hts"),
        pl.col("origin_iso3").alias("origin"),
        "description",
        "supplier",
        "unit_weight_kg",
    )
    return edges.select([pl.col(name).cast(dtype) for name, dtype in EDGE_SCHEMA.items()]), issues


def _items(edges: pl.DataFrame) -> pl.DataFrame:
    """One row per part (not mineral): its HTS, origin, unit and unit weight, from the first row naming it."""
    parts = edges.filter(pl.col("mineral_id").is_null())
    described = parts.group_by("component", maintain_order=True).agg(
        pl.col("hts").drop_nulls().first(),
        pl.col("origin").drop_nulls().first(),
        pl.col("base_unit").first(),
        pl.col("unit_weight_kg").drop_nulls().first(),
        pl.col("description").drop_nulls().first(),
    )
    parents = edges.select(pl.col("parent").alias("component")).unique()
    items = parents.join(described, on="component", how="full", coalesce=True)
    has_children = edges.select(
        pl.col("parent").alias("component"), pl.lit(True).alias("has_children")
    ).unique()
    return (
        items.join(has_children, on="component", how="left")
        .with_columns(pl.col("has_children").fill_null(False), pl.col("base_unit").fill_null("no"))
        .rename({"component": "item"})
    )


# ----------------------------------------------------------------------------------------------------------
# Explosion
# ----------------------------------------------------------------------------------------------------------


def _walk(edges: pl.DataFrame, roots: list[str]) -> pl.DataFrame:
    """Every occurrence of every node below each root: (root, path, depth, item, qty per root, low, high)."""
    frontier = pl.DataFrame(
        {
            "root": roots,
            "path": roots,
            "depth": [0] * len(roots),
            "item": roots,
            "qty": [1.0] * len(roots),
            "qty_lo": [1.0] * len(roots),
            "qty_hi": [1.0] * len(roots),
            "mineral_id": [None] * len(roots),
            "parent_qty": [None] * len(roots),
        },
        schema={
            "root": pl.String,
            "path": pl.String,
            "depth": pl.Int32,
            "item": pl.String,
            "qty": pl.Float64,
            "qty_lo": pl.Float64,
            "qty_hi": pl.Float64,
            "mineral_id": pl.String,
            "parent_qty": pl.Float64,
        },
    )
    links = edges.select(
        "parent", "component", "qty_base", "qty_low", "qty_high", pl.col("mineral_id").alias("edge_mineral")
    )
    levels = [frontier]
    for depth in range(1, MAX_DEPTH + 1):
        step = (
            frontier.filter(pl.col("mineral_id").is_null())
            .join(links, left_on="item", right_on="parent", how="inner")
            .select(
                "root",
                (pl.col("path") + pl.lit(" > ") + pl.col("component")).alias("path"),
                pl.lit(depth, dtype=pl.Int32).alias("depth"),
                pl.col("component").alias("item"),
                (pl.col("qty") * pl.col("qty_base")).alias("qty"),
                (pl.col("qty_lo") * pl.col("qty_low")).alias("qty_lo"),
                (pl.col("qty_hi") * pl.col("qty_high")).alias("qty_hi"),
                pl.col("edge_mineral").alias("mineral_id"),
                pl.col("qty").alias("parent_qty"),
            )
        )
        if step.height == 0:
            return pl.concat(levels, how="vertical")
        levels.append(step)
        frontier = step
    cyclic = frontier.get_column("path").head(1).to_list()
    raise InputError(
        f"The BOM has a cycle (a part contains itself): {cyclic[0] if cyclic else '?'} ... "
        "Remove the row that "
        "makes a part its own ancestor."
    )


def _default_factors() -> pl.DataFrame:
    return default_factors("per_kg_product").select(
        "hts_prefix", "mineral_id", "low", "central", "high", "product_id"
    )


def _longest_prefix(codes: pl.DataFrame, code_col: str, prefixes: pl.Series) -> pl.DataFrame:
    """Add ``matched_prefix``: the longest prefix in ``prefixes`` each code starts with.

    Vectorised: one membership test per prefix length, longest first."""
    lengths = sorted({len(p) for p in prefixes.to_list()}, reverse=True)
    code = pl.col(code_col)
    candidates = [
        pl.when(code.str.slice(0, n).is_in(prefixes.filter(prefixes.str.len_chars() == n).implode())).then(
            code.str.slice(0, n)
        )
        for n in lengths
    ]
    return codes.with_columns(
        pl.coalesce([*candidates, pl.lit(None, dtype=pl.String)]).alias("matched_prefix")
    )


def _content(walk: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Mineral rows of a walk: explicit content edges, plus reference factors for leaves without any."""
    explicit = walk.filter(pl.col("mineral_id").is_not_null()).select(
        "root",
        "path",
        "depth",
        "item",
        "parent_qty",
        "qty",
        "qty_lo",
        "qty_hi",
        "mineral_id",
        pl.lit("bom").alias("content_source"),
        pl.lit("content row of the BOM").alias("content_detail"),
    )
    leaves = (
        walk.filter(pl.col("mineral_id").is_null())
        .drop("mineral_id")
        .join(items.filter(~pl.col("has_children")), on="item", how="inner")
    )
    factors = _default_factors()
    leaves = _longest_prefix(
        leaves.with_columns(pl.col("hts").fill_null("")), "hts", factors.get_column("hts_prefix").unique()
    )
    mass = (
        pl.when(pl.col("base_unit") == "kg")
        .then(pl.lit(1.0))
        .when(pl.col("base_unit") == "no")
        .then(pl.col("unit_weight_kg"))
        .otherwise(None)
    )
    leaves = leaves.with_columns(mass.alias("__kg_per_unit"))
    usable = leaves.filter(pl.col("matched_prefix").is_not_null() & pl.col("__kg_per_unit").is_not_null())
    from_factors = usable.join(factors, left_on="matched_prefix", right_on="hts_prefix", how="inner").select(
        "root",
        "path",
        "depth",
        "item",
        pl.col("qty").alias("parent_qty"),
        (pl.col("qty") * pl.col("__kg_per_unit") * pl.col("low")).alias("qty_lo"),
        (pl.col("qty") * pl.col("__kg_per_unit") * pl.col("central")).alias("qty"),
        (pl.col("qty") * pl.col("__kg_per_unit") * pl.col("high")).alias("qty_hi"),
        "mineral_id",
        pl.lit("factor").alias("content_source"),
        (
            pl.lit("reference factor ")
            + pl.col("product_id")
            + pl.lit(" (HTS ")
            + pl.col("matched_prefix")
            + pl.lit(")")
        ).alias("content_detail"),
    )
    reason = (
        pl.when(pl.col("hts") == "")
        .then(pl.lit("no content row and no HTS code"))
        .when(pl.col("matched_prefix").is_null())
        .then(pl.lit("no content row; no reference factor for its HTS code"))
        .otherwise(pl.lit("no content row; counted part without unit weight"))
    )
    missing = leaves.filter(pl.col("matched_prefix").is_null() | pl.col("__kg_per_unit").is_null()).select(
        "root",
        "path",
        "depth",
        "item",
        pl.col("qty").alias("parent_qty"),
        "qty",
        "qty_lo",
        "qty_hi",
        pl.lit(None, dtype=pl.String).alias("mineral_id"),
        pl.lit("none").alias("content_source"),
        reason.alias("content_detail"),
    )
    cols = [
        "root",
        "path",
        "depth",
        "item",
        "parent_qty",
        "qty",
        "qty_lo",
        "qty_hi",
        "mineral_id",
        "content_source",
        "content_detail",
    ]
    return pl.concat([explicit.select(cols), from_factors.select(cols), missing.select(cols)], how="vertical")


def _finish(rows: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    parents_of = rows.with_columns(
        pl.when(pl.col("content_source") == "bom")
        .then(pl.col("path").str.replace(r" > [^>]*$", ""))
        .otherwise(pl.col("path"))
        .alias("__part_path")
    )
    part = (
        pl.when(pl.col("content_source") == "bom")
        .then(pl.col("__part_path").str.extract(r"([^>]+)$", 1).str.strip_chars())
        .otherwise(pl.col("item"))
    )
    out = parents_of.with_columns(part.alias("__part")).join(
        items.select(
            pl.col("item").alias("__part"),
            pl.col("hts").alias("item_hts"),
            pl.col("origin").alias("item_origin"),
            pl.col("base_unit").alias("item_unit"),
        ),
        on="__part",
        how="left",
    )
    is_mineral = pl.col("mineral_id").is_not_null()
    return (
        out.select(
            "root",
            "path",
            "depth",
            pl.col("__part").alias("item"),
            "item_hts",
            "item_origin",
            pl.col("parent_qty").alias("qty_per_root"),
            "item_unit",
            "mineral_id",
            pl.when(is_mineral).then(pl.col("qty_lo")).alias("kg_low"),
            pl.when(is_mineral).then(pl.col("qty")).alias("kg_central"),
            pl.when(is_mineral).then(pl.col("qty_hi")).alias("kg_high"),
            "content_source",
            "content_detail",
        )
        .select([pl.col(name).cast(dtype) for name, dtype in EXPLOSION_SCHEMA.items()])
        .sort("root", "path", "mineral_id", nulls_last=True)
    )


def _explode(edges: pl.DataFrame, items: pl.DataFrame, roots: list[str]) -> pl.DataFrame:
    if not roots:
        return pl.DataFrame(schema=EXPLOSION_SCHEMA)
    walk = _walk(edges, roots)
    return _finish(_content(walk, items), items)


def _per_unit(edges: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """kg of each mineral in one unit (piece or kg) of every part, summed over its subtree."""
    parts = items.get_column("item").drop_nulls().to_list()
    if not parts:
        return pl.DataFrame(
            schema={
                "item": pl.String,
                "item_unit": pl.String,
                "mineral_id": pl.String,
                "kg_low": pl.Float64,
                "kg_central": pl.Float64,
                "kg_high": pl.Float64,
                "content_source": pl.String,
            }
        )
    rows = _content(_walk(edges, parts), items).filter(pl.col("mineral_id").is_not_null())
    return (
        rows.group_by("root", "mineral_id")
        .agg(
            pl.col("qty_lo").sum().alias("kg_low"),
            pl.col("qty").sum().alias("kg_central"),
            pl.col("qty_hi").sum().alias("kg_high"),
            pl.col("content_source").unique().sort().str.join("+").alias("content_source"),
        )
        .rename({"root": "item"})
        .join(items.select("item", pl.col("base_unit").alias("item_unit")), on="item", how="left")
        .select("item", "item_unit", "mineral_id", "kg_low", "kg_central", "kg_high", "content_source")
        .sort("item", "mineral_id")
    )
