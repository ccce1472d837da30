"""The ledger as one simulated year: lines placed on the tree's horizon, then grouped into cells.

A tree describes the future from ``start`` for ``months`` months; the ledger describes what the company
imported in the past. The simulation reads the ledger as the pattern of a typical year: every line keeps its
calendar month and day and is placed in each horizon month with the same calendar month (a 31st becomes the
month's last day). When the ledger spans more than a year, each line is weighted by one over the number of
times its calendar month occurs in the ledger's span (``average``), or only the last twelve months are kept
(``latest``). Quantities and values are scaled by the weight; nothing else changes.

Cells group the placed lines by HTS code x origin x mineral x supplier x horizon month. Draws are evaluated
per cell (and, where price and volume multipliers are shared, per mineral x month); results are reported
by cell dimensions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from critmin.duty.lines import ENGINE_FIELDS, LINE_COLUMNS
from critmin.errors import InputError

Annualise = Literal["average", "latest"]
UNMAPPED = "unmapped"
SCALED = ("quantity", "quantity_kg", "customs_value_usd", "content_kg", "content_value_usd")
ENGINE_COLUMNS = ENGINE_FIELDS


@dataclass(frozen=True)
class Horizon:
    """The simulated period: ``start`` (inclusive) to ``end`` (exclusive), in calendar-month buckets."""

    start: dt.date
    months: int
    end: dt.date
    labels: tuple[str, ...]  # "YYYY-MM" of each bucket
    bucket_months: tuple[tuple[int, int], ...]  # (year, month) of each bucket

    @classmethod
    def of(cls, start: dt.date, months: int) -> Horizon:
        end = _add_months(start, months)
        buckets: list[tuple[int, int]] = []
        year, month = start.year, start.month
        while dt.date(year, month, 1) < end:
            buckets.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return cls(start, months, end, tuple(f"{y:04d}-{m:02d}" for y, m in buckets), tuple(buckets))

    @property
    def size(self) -> int:
        return len(self.labels)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass
class Placed:
    """Ledger lines placed on the horizon, ready for the duty engine.

    ``frame`` has the engine's columns (``line_id`` is the row number as text, so components map back to rows
    without a join on user ids) plus ``source_line_id``, ``weight`` and ``month`` (bucket index). Rows are
    in entry-date order, then ledger order, which is the order quotas fill in.
    """

    frame: pl.DataFrame
    horizon: Horizon
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.frame.height

    def dates(self) -> np.ndarray:
        return self.frame.get_column("entry_date").cast(pl.Int32).to_numpy()


def place(ledger: pl.DataFrame, horizon: Horizon, annualise: Annualise = "average") -> Placed:
    """Place every dated ledger line on the horizon (see the module docstring for the rule)."""
    missing = [
        c for c in ("entry_date", "hts", "country_origin", "customs_value_usd") if c not in ledger.columns
    ]
    if missing:
        raise InputError(
            f"The ledger lacks column(s) {', '.join(missing)}; load it with `critmin ledger import` or "
            "critmin.ledger.ingest so it has the canonical columns of docs/ledger.md."
        )
    frame = ledger.select(
        [
            (pl.col(c) if c in ledger.columns else pl.lit(None, dtype=LINE_COLUMNS[c]).alias(c))
            for c in ENGINE_COLUMNS
        ]
    ).with_row_index("_order")
    notes: list[str] = []
    undated = frame.filter(pl.col("entry_date").is_null()).height
    if undated:
        notes.append(f"{undated} line(s) without an entry date cannot be placed in a month and are left out.")
    frame = frame.filter(pl.col("entry_date").is_not_null())
    if frame.is_empty():
        raise InputError("The ledger has no dated lines to simulate.")
    frame = frame.with_columns(
        (pl.col("entry_date").dt.year() * 12 + pl.col("entry_date").dt.month() - 1).alias("_ym"),
        pl.col("entry_date").dt.month().alias("_cal_month"),
        pl.col("entry_date").dt.day().alias("_day"),
    )
    first, last = frame.select(pl.col("_ym").min().alias("a"), pl.col("_ym").max().alias("b")).row(0)
    if annualise == "latest":
        frame = frame.filter(pl.col("_ym") > last - 12)
        first = max(first, last - 11)
        weights = pl.DataFrame({"_cal_month": list(range(1, 13)), "weight": [1.0] * 12})
    else:
        span = np.arange(first, last + 1) % 12 + 1
        counts = np.bincount(span, minlength=13)[1:]
        weights = pl.DataFrame(
            {
                "_cal_month": list(range(1, 13)),
                "weight": [1.0 / c if c else 0.0 for c in counts.tolist()],
            }
        )
    covered = sorted({(m % 12) + 1 for m in range(first, last + 1)})
    if len(covered) < 12:
        absent = ", ".join(dt.date(2000, m, 1).strftime("%b") for m in range(1, 13) if m not in covered)
        notes.append(
            f"The ledger covers {len(covered)} calendar month(s); months it does not cover ({absent}) "
            "carry no imports in the simulated year."
        )
    buckets = pl.DataFrame(
        {
            "month": list(range(horizon.size)),
            "_year": [y for y, _ in horizon.bucket_months],
            "_cal_month": [m for _, m in horizon.bucket_months],
        },
        schema={"month": pl.Int32, "_year": pl.Int32, "_cal_month": pl.Int8},
    )
    frame = frame.with_columns(pl.col("_cal_month").cast(pl.Int8)).join(
        weights.with_columns(pl.col("_cal_month").cast(pl.Int8)), on="_cal_month", how="left"
    )
    placed = frame.join(buckets, on="_cal_month", how="inner")
    outside = frame.filter(~pl.col("_cal_month").is_in(buckets.get_column("_cal_month").implode())).height
    if outside:
        notes.append(
            f"{outside} ledger line(s) fall in calendar months outside the simulated period "
            f"{horizon.labels[0]} .. {horizon.labels[-1]} and are not simulated."
        )
    first_day = pl.date(pl.col("_year"), pl.col("_cal_month"), 1)
    last_day = first_day.dt.month_end().dt.day()
    placed = placed.with_columns(
        pl.date(pl.col("_year"), pl.col("_cal_month"), pl.min_horizontal(pl.col("_day"), last_day)).alias(
            "_new"
        )
    ).filter((pl.col("_new") >= horizon.start) & (pl.col("_new") < horizon.end))
    placed = placed.sort(["_new", "_order", "month"]).with_columns(
        [(pl.col(c) * pl.col("weight")).alias(c) for c in SCALED]
    )
    placed = placed.select(
        pl.int_range(pl.len()).cast(pl.String).alias("line_id"),
        pl.col("_new").alias("entry_date"),
        *[c for c in ENGINE_COLUMNS if c not in {"line_id", "entry_date"}],
        pl.col("line_id").alias("source_line_id"),
        "weight",
        "month",
    )
    if placed.is_empty():
        raise InputError(
            f"No ledger line falls in the simulated months {horizon.labels[0]} .. {horizon.labels[-1]}."
        )
    return Placed(placed, horizon, notes)


@dataclass
class Cells:
    """Cells (HTS x origin x mineral x supplier x month) and each placed line's cell, mineral and month.

    ``minerals`` lists the mineral ids in index order, with ``unmapped`` last for lines the scope map does not
    classify (their unit values carry no price uncertainty).
    """

    table: pl.DataFrame  # cell, hts, country_origin, mineral_id, supplier, month, customs_value_usd, lines
    line_cell: np.ndarray
    line_mineral: np.ndarray  # index into ``minerals``
    line_month: np.ndarray
    minerals: tuple[str, ...]
    months: int

    @property
    def size(self) -> int:
        return self.table.height

    @property
    def groups(self) -> int:
        """Number of mineral x month groups (the width of the per-draw cost cube)."""
        return len(self.minerals) * self.months

    def line_group(self) -> np.ndarray:
        return self.line_mineral * self.months + self.line_month

    def cell_group(self) -> np.ndarray:
        mineral = self.table.get_column("_mineral").to_numpy()
        return mineral * self.months + self.table.get_column("month").to_numpy()


def cells(
    placed: Placed,
    minerals: pl.DataFrame,
    mask: np.ndarray | None = None,
    mineral_order: tuple[str, ...] | None = None,
) -> Cells:
    """Group the placed lines selected by ``mask`` (all by default) into cells.

    ``minerals`` gives every placed line's mineral_id (the engine's classification). Line arrays cover every
    placed line; lines outside ``mask`` get cell -1.
    """
    frame = placed.frame.select(
        "hts", "country_origin", "supplier", "month", "customs_value_usd"
    ).with_columns(minerals.get_column("mineral_id").fill_null(UNMAPPED).alias("mineral_id"))
    if mineral_order is None:
        found = sorted(set(frame.get_column("mineral_id").to_list()) - {UNMAPPED})
        mineral_order = (*found, UNMAPPED)
    else:
        extra = set(frame.get_column("mineral_id").to_list()) - set(mineral_order)
        if extra:
            raise InputError(f"lines with minerals {sorted(extra)} are not in the simulation's mineral list.")
    index = {m: i for i, m in enumerate(mineral_order)}
    keys = ["hts", "country_origin", "mineral_id", "supplier", "month"]
    chosen = frame.with_row_index("_line").filter(pl.Series(mask) if mask is not None else pl.lit(True))
    table = (
        chosen.group_by(keys)
        .agg(pl.col("customs_value_usd").sum(), pl.len().alias("lines"))
        .sort(keys, nulls_last=True)
        .with_row_index("cell")
        .with_columns(pl.col("cell").cast(pl.Int64))
    )
    table = table.with_columns(
        pl.col("mineral_id").replace_strict(index, return_dtype=pl.Int64).alias("_mineral")
    )
    located = chosen.join(table.select(*keys, "cell"), on=keys, how="left", nulls_equal=True)
    line_cell = np.full(frame.height, -1, dtype=np.int64)
    line_cell[located.get_column("_line").to_numpy()] = located.get_column("cell").to_numpy()
    line_mineral = frame.get_column("mineral_id").replace_strict(index, return_dtype=pl.Int64).to_numpy()
    line_month = placed.frame.get_column("month").to_numpy().astype(np.int64)
    return Cells(table, line_cell, line_mineral, line_month, tuple(mineral_order), placed.horizon.size)
