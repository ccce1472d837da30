"""Which critical minerals an HTS code carries, and the one a line counts under.

One function for the engine, the simulator and the risk views, so that "the line's mineral" means the same
everywhere: the PCMDP scope map gives every (code, mineral, stage) match with a confidence
(:func:`mineral_matches`); :func:`classify_codes` reduces them to one row per code.
"""

from __future__ import annotations

import polars as pl

from critmin.duty.lines import longest_prefix_join
from critmin.duty.references import References, shipped_references
from critmin.errors import InputError

CONFIDENCE_RANK = {"exact": 3, "partial": 2, "basket": 1}

CLASSIFICATION_COLUMNS = ("mineral_id", "stage", "minerals", "stages", "confidence")


def _classifier(refs: References) -> References:
    if refs.classify is None:
        raise InputError(
            "Classifying lines by mineral or stage needs the PCMDP scope map (critmin.refdata.scope), and it "
            "is not available."
        )
    return refs


def mineral_matches(lines: pl.DataFrame, refs: References | None = None) -> pl.DataFrame:
    """Every (line, mineral, stage) match of the lines' HTS codes (``line_id``, ``hts`` in), longest prefix
    first; a line may match several minerals (a magnet: neodymium, praseodymium, boron)."""
    refs = _classifier(refs or shipped_references())
    assert refs.classify is not None
    return refs.classify(lines, hts_col="hts", id_col="line_id")


def classify_codes(frame: pl.DataFrame, refs: References | None = None) -> pl.DataFrame:
    """``frame`` (any columns, one of them ``hts``) with the columns of :data:`CLASSIFICATION_COLUMNS`.

    ``mineral_id`` / ``stage``: the code's main mineral, used for totals by mineral and for floor prices:
    the most confident match, then the largest typical content, then alphabetical, so an NdFeB magnet counts
    under neodymium, not boron. ``minerals`` / ``stages``: every match (empty lists for codes outside the
    scope map).
    """
    refs = _classifier(refs or shipped_references())
    codes = frame.select(pl.col("hts").drop_nulls().unique())
    rows = mineral_matches(codes.with_columns(pl.col("hts").alias("line_id")), refs).filter(
        pl.col("mineral_id").is_not_null()
    )
    factors = refs.factors.select("hts_prefix", "mineral_id", pl.col("central").alias("__share"))
    pairs = rows.select(pl.col("line_id").alias("hts"), "mineral_id").unique()
    shares = longest_prefix_join(pairs, factors, by=["mineral_id"]).select("hts", "mineral_id", "__share")
    rank = pl.col("confidence").replace_strict(CONFIDENCE_RANK, default=0, return_dtype=pl.Int8)
    ranked = (
        rows.join(shares.rename({"hts": "line_id"}), on=["line_id", "mineral_id"], how="left")
        .with_columns(rank.alias("__rank"))
        .sort(
            ["line_id", "__rank", "__share", "mineral_id"],
            descending=[False, True, True, False],
            nulls_last=True,
        )
    )
    per_code = (
        ranked.group_by("line_id", maintain_order=True)
        .agg(
            pl.col("mineral_id").first().alias("mineral_id"),
            pl.col("stage").first().alias("stage"),
            pl.col("mineral_id").unique(maintain_order=True).alias("minerals"),
            pl.col("stage").drop_nulls().unique(maintain_order=True).alias("stages"),
            pl.col("confidence").first().alias("confidence"),
        )
        .rename({"line_id": "hts"})
    )
    return frame.join(per_code, on="hts", how="left", maintain_order="left").with_columns(
        pl.col("minerals").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("stages").fill_null(pl.lit([], dtype=pl.List(pl.String))),
    )


__all__ = ["CLASSIFICATION_COLUMNS", "classify_codes", "mineral_matches"]
