"""Getting ledger lines ready for the engine: one frame with every column a measure can ask about.

Work that depends only on the HTS code (classification, schedule rates, product scope, content factors,
reference prices) is done once per distinct code and joined back, so a 10-million-line ledger with a few
thousand codes costs a few thousand lookups plus one join. Country-group membership depends on (country,
date) and is computed once per distinct pair the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import polars as pl
import pyarrow as pa

from critmin.errors import InputError
from critmin.ledger.schema import LEDGER_SCHEMA

REQUIRED = ("line_id", "entry_date", "hts", "country_origin", "customs_value_usd")

ENGINE_FIELDS = (
    "line_id",
    "entry_date",
    "hts",
    "country_origin",
    "country_export",
    "country_smelt_cast",
    "supplier",
    "quantity",
    "unit",
    "quantity_kg",
    "customs_value_usd",
    "preference_program",
    "content_mineral",
    "content_kg",
    "content_value_usd",
    "liquidation_date",
    "us_metal_content_share",
)
"""The canonical ledger fields the engine reads (the rest - description, entry number, part number,
provenance - never change a duty)."""

LINE_COLUMNS: dict[str, pl.DataType] = {name: LEDGER_SCHEMA[name] for name in ENGINE_FIELDS}

ROW = "_row"
DATE = "_date"
PROGRAM = "_program"
"""Key name of the claimed preference programme, trimmed and upper-cased (see ``LineContext.country``)."""


def as_polars(ledger: pl.DataFrame | pa.Table | pa.RecordBatch) -> pl.DataFrame:
    if isinstance(ledger, pl.DataFrame):
        return ledger
    if isinstance(ledger, pa.RecordBatch):
        ledger = pa.Table.from_batches([ledger])
    if isinstance(ledger, pa.Table):
        frame = pl.from_arrow(ledger)
        assert isinstance(frame, pl.DataFrame)
        return frame
    raise InputError(f"evaluate() takes a Polars DataFrame or an Arrow table, not {type(ledger).__name__}.")


USAGE_COLUMNS = tuple(c for c in LINE_COLUMNS if c not in {"line_id", "supplier", "quantity", "unit"})
"""The ledger columns a quota pass reads (``critmin.duty.quota_usage``): a line's identity, supplier and
quantity in its own unit never change what it draws on a quota (volumes are kg, USD or content)."""


def prepare(
    ledger: pl.DataFrame | pa.Table | pa.RecordBatch, as_of: date | None, required: tuple[str, ...] = REQUIRED
) -> pl.DataFrame:
    """The columns the engine uses, typed, plus a row index and the evaluation date of each line."""
    frame = as_polars(ledger)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"The ledger lacks required column(s) {', '.join(missing)}. Import the file with `critmin ledger "
            "import` (or map its headers with --map) so it has the canonical columns of docs/ledger.md."
        )
    exprs: list[pl.Expr] = []
    for name, dtype in LINE_COLUMNS.items():
        if name in frame.columns:
            exprs.append(
                pl.col(name).cast(dtype, strict=False) if frame.schema[name] != dtype else pl.col(name)
            )
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    out = frame.select(exprs).rechunk().with_row_index(ROW)  # contiguous: gathers on pieces cost more
    date_expr = pl.lit(as_of, dtype=pl.Date) if as_of is not None else pl.col("entry_date")
    return out.with_columns(date_expr.alias(DATE))


def prefix_match(column: pl.Expr, prefixes: Iterable[str]) -> pl.Expr:
    """True where ``column`` starts with any of ``prefixes`` (one ``is_in`` per prefix length)."""
    by_length: dict[int, list[str]] = {}
    for prefix in prefixes:
        by_length.setdefault(len(prefix), []).append(prefix)
    if not by_length:
        return pl.lit(False)
    parts = [
        column.str.slice(0, length).is_in(pl.Series(values, dtype=pl.String).implode())
        for length, values in sorted(by_length.items())
    ]
    expr = parts[0]
    for part in parts[1:]:
        expr = expr | part
    return expr.fill_null(False)


def longest_prefix_join(
    dim: pl.DataFrame,
    table: pl.DataFrame,
    *,
    key: str = "hts",
    prefix_col: str = "hts_prefix",
    by: list[str] | None = None,
) -> pl.DataFrame:
    """Join each ``dim`` row to the ``table`` row with the longest prefix of ``dim[key]`` (equal ``by``)."""
    by = by or []
    lengths = sorted(set(table.get_column(prefix_col).str.len_chars().to_list()), reverse=True)
    pieces: list[pl.DataFrame] = []
    rest = dim
    for length in lengths:
        if rest.is_empty():
            break
        part = table.filter(pl.col(prefix_col).str.len_chars() == length)
        joined = rest.with_columns(pl.col(key).str.slice(0, length).alias("__prefix")).join(
            part.rename({prefix_col: "__prefix"}), on=["__prefix", *by], how="inner"
        )
        pieces.append(joined.drop("__prefix"))
        matched = joined.select(key, *by).unique()
        rest = rest.join(matched, on=[key, *by], how="anti")
    if not pieces:
        extra = table.drop(prefix_col, *by)
        return dim.head(0).with_columns([pl.lit(None, dtype=dt).alias(n) for n, dt in extra.schema.items()])
    return pl.concat(pieces, how="vertical_relaxed")


def join_schedule(dim: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """Schedule rates for each code: the code itself, else its 8-digit line (statistical suffixes inherit)."""
    exact = dim.join(rates, on="hts", how="left")
    names = [c for c in rates.columns if c != "hts"]
    by8 = dim.select("hts", pl.col("hts").str.slice(0, 8).alias("__h8")).join(
        rates.rename({"hts": "__h8"}), on="__h8", how="left"
    )
    fill = by8.select("hts", *[pl.col(c).alias(f"__8_{c}") for c in names])
    merged = exact.join(fill, on="hts", how="left")
    use8 = (
        pl.col("g_kind").is_null() & pl.col("c2_kind").is_null()
        if "c2_kind" in names
        else pl.col("g_kind").is_null()
    )
    merged = merged.with_columns(
        [pl.when(use8).then(pl.col(f"__8_{c}")).otherwise(pl.col(c)).alias(c) for c in names]
    ).drop([f"__8_{c}" for c in names])
    return merged.with_columns(
        _simple("g").alias("g_simple"),
        _simple("c2").alias("c2_simple"),
    )


def _simple(prefix: str) -> pl.Expr:
    """A printed rate that is free or purely ad valorem: the engine's fast path (no units, no gaps)."""
    return (
        pl.col(f"{prefix}_kind").is_in(["free", "ad_valorem"])
        & pl.col(f"{prefix}_sp").is_null()
        & pl.col(f"{prefix}_sp2").is_null()
        & pl.col(f"{prefix}_av").is_not_null()
    ).fill_null(False)


def flag_column(country_col: str, group: str) -> str:
    return f"_grp__{country_col}__{group}"


def country_column(field: str, fallback: bool) -> tuple[str, pl.Expr]:
    """Name and expression of the country a scope is tested against (with fallback to the origin)."""
    if field == "country_origin" or not fallback:
        return field, pl.col(field)
    name = f"_{field}_or_origin"
    return name, pl.coalesce(pl.col(field), pl.col("country_origin"))


def to_literal_list(values: Iterable[Any]) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String).implode()
