"""Per-run lookup arrays: the keys that let each measure find its candidate lines without a full pass.

Everything a measure's scope depends on is a small dimension - the distinct HTS codes, the distinct
countries, the calendar days - so each line carries integer keys into those dimensions and a scope test is a
NumPy lookup (``mask_by_code[hts_key]``) rather than string work over millions of rows. Country-group
membership, which depends on country *and* date, is looked up in a (country x day) grid filled once per
group by :func:`critmin.refdata.groups.flag`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from critmin.duty.lines import DATE, PROGRAM
from critmin.duty.references import References

EPOCH = date(1970, 1, 1)
NO_DAY = np.iinfo(np.int32).min


def day_number(day: date) -> int:
    return (day - EPOCH).days


@dataclass
class CountryKey:
    """Integer key of a country column: index into ``names`` (-1 where the line has no country)."""

    column: str
    names: list[str]
    key: np.ndarray
    _complete: bool | None = None

    @property
    def complete(self) -> bool:
        """Every line has a value (so a presence test can be skipped)."""
        if self._complete is None:
            self._complete = bool((self.key >= 0).all())
        return self._complete

    def lookup_table(self, wanted: set[str]) -> np.ndarray:
        table = np.zeros(len(self.names) + 1, dtype=bool)  # last slot: no country
        for i, name in enumerate(self.names):
            if name in wanted:
                table[i] = True
        return table

    def isin(self, wanted: list[str]) -> np.ndarray:
        return self.lookup_table(set(wanted))[self.key]

    def renamed(self, column: str, spell: Callable[[str], str]) -> CountryKey:
        """The key after respelling each distinct value (values that become equal share one index): the
        per-row string work shrinks to the few distinct values."""
        spelled = [spell(name) for name in self.names]
        names = sorted(set(spelled))
        position = {name: i for i, name in enumerate(names)}
        remap = np.array([*(position[name] for name in spelled), -1], dtype=np.int32)
        return CountryKey(column, names, remap[self.key])


@dataclass
class LineContext:
    """Integer keys and cached membership arrays for one batch of lines."""

    n: int
    hts_key: np.ndarray  # index into the HTS dimension; dim height for a null code
    days: np.ndarray  # evaluation date as days since 1970 (NO_DAY when missing)
    countries: dict[str, CountryKey]
    refs: References
    as_of: date | None
    grids: dict[str, MembershipGrid] = field(default_factory=dict)
    """Group membership grids by group id; the caller may share one dict between batches."""
    _flags: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _order: tuple[np.ndarray, np.ndarray] | None = None
    _counts: np.ndarray | None = None
    _span: tuple[int, int, bool] | None = None
    _all: np.ndarray | None = None

    @property
    def all_rows(self) -> np.ndarray:
        """``arange(n)``, one shared object: a measure that reaches every line keeps it, and code that sees it
        can skip gathers (``rows is ctx.all_rows``)."""
        if self._all is None:
            self._all = np.arange(self.n, dtype=np.int64)
        return self._all

    def take(self, array: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return array if rows is self.all_rows else array[rows]

    @property
    def day_span(self) -> tuple[int, int, bool]:
        """First and last evaluation day of the batch, and whether every line has one."""
        if self._span is None:
            dated = self.days[self.days != NO_DAY]
            if dated.size == 0:
                self._span = (0, -1, False)
            else:
                self._span = (int(dated.min()), int(dated.max()), dated.size == self.n)
        return self._span

    def keep(self, rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``rows[mask]``, keeping the shared all-rows object when nothing is dropped."""
        return rows if mask.all() else rows[mask]

    def rows_for_codes(self, code_mask: np.ndarray) -> np.ndarray:
        """Row numbers, ascending, of the lines whose HTS code is selected by ``code_mask`` (a per-code
        lookup table).

        Rows stay in ledger order so that every later gather and scatter walks memory forwards; in code
        order they cost several times more once a batch outgrows the CPU cache. A measure on a few codes
        takes only its lines from the lines grouped by code (one stable argsort per batch); they are then
        sorted, or for a broad measure marked in a line mask and read back in order.
        """
        counts = self._code_counts(code_mask.size)
        selected = code_mask[: counts.size] & (counts > 0)
        total = int(counts[selected].sum())
        if total == self.n:
            return self.all_rows
        if total == 0:
            return np.empty(0, dtype=np.int64)
        order, starts = self._code_order(code_mask.size)
        codes = np.flatnonzero(selected)
        lengths = counts[codes]
        offsets = np.repeat(starts[codes] - (np.cumsum(lengths) - lengths), lengths)
        rows = order[np.arange(total) + offsets]
        if total * 8 < self.n:
            return np.sort(rows)
        marked = np.zeros(self.n, dtype=bool)  # sorting many rows costs more than marking them
        marked[rows] = True
        return np.flatnonzero(marked)

    def _code_counts(self, size: int) -> np.ndarray:
        if self._counts is None:
            self._counts = np.bincount(self.hts_key, minlength=size)
        return self._counts

    def _code_order(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Lines grouped by code (stable) and where each code's group starts."""
        if self._order is None:
            keys = self.hts_key.astype(np.int16) if size < 2**15 else self.hts_key
            order = np.argsort(keys, kind="stable")  # a radix sort for 16-bit keys
            counts = self._code_counts(size)
            self._order = (order, np.concatenate(([0], np.cumsum(counts)[:-1])))
        return self._order

    def country(self, column: str, frame: pl.DataFrame) -> CountryKey:
        if column not in self.countries:
            if column == PROGRAM:  # the claimed programme, trimmed and upper-cased
                raw = country_key(frame, "preference_program")
                self.countries[column] = raw.renamed(PROGRAM, lambda code: code.strip().upper())
            else:
                self.countries[column] = country_key(frame, column)
        return self.countries[column]

    def group_flag(self, column: str, group: str, frame: pl.DataFrame) -> np.ndarray:
        """Was each line's country (in ``column``) a member of ``group`` on the line's evaluation date?"""
        cached = self._flags.get((column, group))
        if cached is not None:
            return cached
        key = self.country(column, frame)
        valid = (key.key >= 0) & (self.days != NO_DAY)
        result = np.zeros(self.n, dtype=bool)
        if valid.any() and key.names:
            first = int(self.days[valid].min())
            last = int(self.days[valid].max())
            grid = self.grids.get(group)
            if grid is None or not grid.covers(key.names, first, last):
                grid = MembershipGrid.build(self.refs, group, key.names, first, last, grid)
                self.grids[group] = grid
            positions = grid.positions(key.names)
            span = grid.table.shape[1]
            cells = grid.table.ravel()
            if valid.all():  # the common case: one flat lookup per line, no row selection
                result = cells[positions[key.key] * span + (self.days - grid.first)]
            else:
                rows = np.flatnonzero(valid)
                result[rows] = cells[positions[key.key[rows]] * span + (self.days[rows] - grid.first)]
        self._flags[(column, group)] = result
        return result


@dataclass(frozen=True)
class MembershipGrid:
    """Membership of one country group by (country, day): ``table[country, day - first]``.

    Kept between batches (see ``DimensionCache``), so a ledger's batches share one lookup per group instead
    of asking the group data again for every batch. A grid that lacks a batch's countries or days is rebuilt
    for the union, reaching a year past the batch's first day so that date-ordered batches rarely miss.
    """

    names: tuple[str, ...]
    first: int
    table: np.ndarray  # bool, (countries, days)

    @property
    def last(self) -> int:
        return self.first + self.table.shape[1] - 1

    def covers(self, names: list[str], first: int, last: int) -> bool:
        return self.first <= first and last <= self.last and set(names) <= set(self.names)

    def positions(self, names: list[str]) -> np.ndarray:
        index = {name: i for i, name in enumerate(self.names)}
        return np.array([index[name] for name in names], dtype=np.int64)

    @classmethod
    def build(
        cls,
        refs: References,
        group: str,
        names: list[str],
        first: int,
        last: int,
        previous: MembershipGrid | None = None,
    ) -> MembershipGrid:
        wanted = set(names)
        last = max(last, first + 365)
        if previous is not None:
            wanted |= set(previous.names)
            first, last = min(first, previous.first), max(last, previous.last)
        countries = sorted(wanted)
        span = last - first + 1
        grid = pl.DataFrame({"iso3": countries, "__c": np.arange(len(countries))}).join(
            pl.DataFrame(
                {
                    DATE: pl.date_range(
                        EPOCH + timedelta(days=first), EPOCH + timedelta(days=last), eager=True
                    ),
                    "__d": np.arange(span),
                }
            ),
            how="cross",
        )
        grid = grid.sort(["__c", "__d"])
        flagged = refs.require_flag()(grid, group, country_col="iso3", date_col=DATE, out="member")
        table = flagged.get_column("member").fill_null(False).to_numpy().reshape(len(countries), span)
        return cls(tuple(countries), first, table)


def dense_key(values: pl.Series) -> tuple[list[str], np.ndarray]:
    """The sorted distinct non-null strings of ``values`` and each row's index into them (-1 for null).

    Arrow's dictionary encoding hashes each string once (about twice as fast as Polars' categorical cast
    on a string column); only the small dictionary is then sorted, and the row indices remapped with NumPy.
    """
    # string views go to Arrow without a copy (the default export rewrites them as large strings)
    encoded = pc.dictionary_encode(values.cast(pl.String).to_arrow(compat_level=pl.CompatLevel.newest()))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = encoded.dictionary.to_pylist()
    if not dictionary:
        return [], np.full(values.len(), -1, dtype=np.int32)
    order = np.argsort(np.array(dictionary, dtype=object), kind="stable")
    lookup = np.full(len(dictionary) + 1, -1, dtype=np.int32)  # last slot: null
    lookup[order] = np.arange(order.size, dtype=np.int32)
    indices = encoded.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False)
    return [dictionary[i] for i in order], lookup[indices]


def country_key(frame: pl.DataFrame, column: str) -> CountryKey:
    names, key = dense_key(frame.get_column(column))
    return CountryKey(column, names, key)


def hts_keys(frame: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """The distinct HTS codes (the dimension, sorted) and each line's index into it (dim height for null)."""
    names, key = dense_key(frame.get_column("hts"))
    key = np.where(key < 0, len(names), key).astype(np.int32)
    return pl.DataFrame({"hts": names}, schema={"hts": pl.String}), key


def eval_days(frame: pl.DataFrame) -> np.ndarray:
    days = frame.get_column(DATE).cast(pl.Int32).fill_null(NO_DAY).to_numpy()
    return days.astype(np.int32)


def dim_mask(values: pl.Series) -> np.ndarray:
    """A per-code Boolean column as a lookup table with a trailing False slot for null codes."""
    out = np.zeros(values.len() + 1, dtype=bool)
    out[:-1] = values.fill_null(False).to_numpy()
    return out
