"""Dated country groups at run time: who was a foreign entity of concern, an FTA partner or an MSP partner
on a given day.

Membership changes with dates (Estonia joined the MSP in March 2024, the UK left the EU on 31 January 2020),
so every question is asked as of a date. :func:`flag` answers it for every row of a frame at once with one
join on the country code and an interval filter, so ledgers of any length cost the same handful of operations.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from critmin.errors import CritminError, NotFoundError
from critmin.refdata.registry import load


class UnknownGroupError(NotFoundError, LookupError):
    """A country group id that the shipped ``country_groups`` data do not define."""

    def __init__(self, group_id: str, known: list[str]) -> None:
        self.group_id = group_id
        self.known = known
        super().__init__(f"Unknown country group {group_id!r}. Known groups: {', '.join(known)}.")


class GroupInputError(CritminError, ValueError):
    """The frame handed to :func:`flag` lacks a column or has one of the wrong type."""


def definitions() -> pl.DataFrame:
    """The ``country_group_defs`` dataset: one row per group with its meaning and source."""
    return load("country_group_defs")


def group_ids() -> list[str]:
    return sorted(definitions()["group_id"].to_list())


def membership(group_id: str) -> pl.DataFrame:
    """All membership rows of one group (every period, instrument and citation)."""
    _check_group(group_id)
    return load("country_groups").filter(pl.col("group_id") == group_id)


def _check_group(group_id: str) -> None:
    known = group_ids()
    if group_id not in known:
        raise UnknownGroupError(group_id, known)


def _active(as_of: pl.Expr) -> pl.Expr:
    return (pl.col("joined") <= as_of) & (pl.col("left").is_null() | (as_of < pl.col("left")))


def members(group_id: str, as_of: dt.date) -> frozenset[str]:
    """ISO3 codes of the group's members on ``as_of`` (joined <= as_of < left)."""
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    rows = membership(group_id).filter(_active(pl.lit(as_of, dtype=pl.Date)))
    return frozenset(rows["iso3"].to_list())


def flag(frame: pl.DataFrame, group_id: str, *, country_col: str, date_col: str, out: str) -> pl.DataFrame:
    """``frame`` with a Boolean column ``out``: was the row's country a member on the row's date?

    ``country_col`` holds ISO3 codes (resolve free text first with
    :func:`critmin.refdata.countries.resolve_series`); ``date_col`` is a Date or Datetime column. The flag is
    null where the country or the date is null (membership unknown), never silently False.
    """
    _check_group(group_id)
    for column in (country_col, date_col):
        if column not in frame.columns:
            raise GroupInputError(f"flag({group_id!r}): no column {column!r}; the frame has {frame.columns}")
    date_type = frame.schema[date_col]
    if date_type == pl.Date:
        dates = pl.col(date_col)
    elif isinstance(date_type, pl.Datetime):
        dates = pl.col(date_col).dt.date()
    else:
        raise GroupInputError(
            f"flag({group_id!r}): column {date_col!r} is {date_type}, not a date; parse it to pl.Date first"
        )
    row_id = "__critmin_row"
    keys = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(row_id),
        pl.col(country_col).cast(pl.String).alias("iso3"),
        dates.alias("__date"),
    )
    periods = membership(group_id).select("iso3", "joined", "left")
    hits = (
        keys.join(periods, on="iso3", how="inner").filter(_active(pl.col("__date"))).select(row_id).unique()
    )
    known = pl.col("iso3").is_not_null() & pl.col("__date").is_not_null()
    result = keys.select(
        pl.when(known).then(pl.col(row_id).is_in(hits[row_id].implode())).otherwise(None).alias(out)
    )
    return frame.with_columns(result[out])
