"""Classify ledger lines to critical minerals and processing stages with the PCMDP scope map.

The map is a set of HTS prefixes. A line takes the rows of the *longest* prefix its code starts with — so
8505.11.00.70 (sintered NdFeB magnets) gets neodymium/boron/praseodymium/..., not whatever a broader
8505.11 row would say — and every mineral row at that prefix becomes one output row. Lines no prefix
matches are kept, once, with confidence ``unmapped``: a report must show what was not classified rather
than drop it or guess.
"""

from __future__ import annotations

import polars as pl

from critmin.errors import InputError
from critmin.refdata.minerals import list_members
from critmin.refdata.registry import load

CLASSIFICATION_SCHEMA: dict[str, pl.DataType] = {
    "line_id": pl.String(),
    "mineral_id": pl.String(),  # null for unmapped lines
    # stage: ore_concentrate, oxide_salt_compound, metal_powder_alloy, semi_finished or derivative
    "stage": pl.String(),
    "confidence": pl.String(),  # exact | partial | basket | unmapped
    "matched_prefix": pl.String(),  # the scope-map HTS prefix that matched (longest prefix wins)
}
"""What :func:`classify` returns. It is defined here, beside the map it describes, because reference data
is a lower layer than the ledger: :mod:`critmin.ledger.schema` re-exports it for the engines."""

PROCESSED_STAGES = ("oxide_salt_compound", "metal_powder_alloy")
_CONFIDENCE_RANK = {"exact": 3, "partial": 2, "basket": 1}


def scope_map() -> pl.DataFrame:
    """The shipped ``pcmdp_scope`` dataset."""
    return load("pcmdp_scope")


def derivative_products() -> pl.DataFrame:
    """The shipped ``derivative_products`` dataset."""
    return load("derivative_products")


def classify(frame: pl.DataFrame, hts_col: str = "hts", id_col: str = "line_id") -> pl.DataFrame:
    """CLASSIFICATION_SCHEMA rows: one per (line, mineral) by longest HTS prefix; unmatched lines once.

    Vectorised: for each prefix length present in the map the code is cut to that length and tested for
    membership, the longest hit wins (a coalesce from long to short), and the winning prefix is joined to the
    map's rows. Output keeps the input line order. Codes may carry dots or spaces; they are reduced to digits.
    """
    for column in (hts_col, id_col):
        if column not in frame.columns:
            raise InputError(
                f"classify: the frame has no column {column!r} (columns: {', '.join(frame.columns)}); pass "
                "hts_col=/id_col= naming the HTS code and line id columns."
            )
    scope = scope_map().select("hts_prefix", "prefix_length", "mineral_id", "stage", "confidence")
    lengths = sorted(set(scope.get_column("prefix_length").to_list()), reverse=True)
    codes = pl.col("__code")
    candidates = []
    for length in lengths:
        prefixes = scope.filter(pl.col("prefix_length") == length).get_column("hts_prefix").unique()
        cut = codes.str.slice(0, length)
        candidates.append(
            pl.when((codes.str.len_chars() >= length) & cut.is_in(prefixes.implode())).then(cut)
        )
    lines = frame.select(
        pl.col(id_col).cast(pl.String).alias("line_id"),
        pl.col(hts_col).cast(pl.String).str.replace_all(r"\D", "").alias("__code"),
    ).with_row_index("__order")
    lines = lines.with_columns(
        (pl.coalesce(candidates) if candidates else pl.lit(None, pl.String)).alias("matched_prefix")
    )
    joined = lines.join(
        scope.drop("prefix_length"), left_on="matched_prefix", right_on="hts_prefix", how="left"
    ).sort("__order", "mineral_id", nulls_last=True, maintain_order=True)
    out = joined.with_columns(pl.col("confidence").fill_null("unmapped"))
    return out.select([pl.col(name).cast(dtype) for name, dtype in CLASSIFICATION_SCHEMA.items()])


def coverage(list_id: str = "usgs_2025_final") -> pl.DataFrame:
    """Which minerals of a critical-mineral list have a processed-stage code (oxide/salt or metal stage).

    One row per mineral on the list: ``has_processed_code`` (an exact or partial oxide/salt or metal code
    exists), the best confidence among its processed-stage rows (exact > partial > basket), the processed
    prefixes, and every stage the map has for it. A mineral reached only through "other" basket codes (e.g.
    dysprosium oxide) has no code of its own, so it is reported as not covered, with the basket codes listed.
    """
    members = sorted(list_members(list_id))
    scope = scope_map()
    per_mineral = scope.group_by("mineral_id").agg(
        pl.col("stage").unique().sort().alias("stages"),
        pl.col("hts_prefix").filter(pl.col("processed")).unique().sort().alias("processed_prefixes"),
        pl.col("confidence")
        .filter(pl.col("processed"))
        .replace_strict(_CONFIDENCE_RANK, return_dtype=pl.Int8)
        .max()
        .alias("__rank"),
    )
    base = pl.DataFrame({"mineral_id": members}, schema={"mineral_id": pl.String})
    out = base.join(per_mineral, on="mineral_id", how="left", maintain_order="left")
    rank_to_name = {rank: name for name, rank in _CONFIDENCE_RANK.items()}
    out = out.with_columns(
        pl.col("stages").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("processed_prefixes").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("__rank")
        .replace_strict(rank_to_name, default=None, return_dtype=pl.String)
        .alias("processed_confidence"),
    ).with_columns(
        (pl.col("__rank").fill_null(0) >= _CONFIDENCE_RANK["partial"]).alias("has_processed_code"),
        pl.col("processed_prefixes").list.len().cast(pl.Int64).alias("n_processed_prefixes"),
        pl.when(pl.col("processed_prefixes").list.len() == 0)
        .then(
            pl.when(pl.col("stages").list.len() == 0)
            .then(pl.lit("no HTS code in the scope map"))
            .otherwise(pl.lit("only ore/semi-finished/derivative codes; no oxide/salt or metal code"))
        )
        .when(pl.col("__rank") == _CONFIDENCE_RANK["basket"])
        .then(pl.lit("processed forms only in 'other' basket codes"))
        .when(pl.col("__rank") == _CONFIDENCE_RANK["partial"])
        .then(pl.lit("processed forms share their codes with other minerals"))
        .otherwise(pl.lit("a processed-stage code names this mineral"))
        .alias("note"),
    )
    return out.select(
        "mineral_id",
        "has_processed_code",
        "processed_confidence",
        "n_processed_prefixes",
        "processed_prefixes",
        "stages",
        "note",
    ).sort("mineral_id")
