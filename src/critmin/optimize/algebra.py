"""Named variable blocks and named constraint families: the vocabulary the sourcing model is written in.

A *variable block* is a contiguous range of columns allocated under a name (``x``, ``y``, ``short`` …) over
named dimensions. Allocating it returns an index array of the block's shape holding each variable's column
(-1 where the variable does not exist), so a constraint family is written as arithmetic over index arrays
rather than as offsets into one long vector.

A *constraint family* is a contiguous range of rows under a stable name (``demand``, ``capacity`` …). Each row
keeps its coordinates (what it is about, its product and its period), so labels, shadow prices and the
infeasibility diagnosis are all read back by name instead of by row number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

Index = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Block:
    """One named variable block: columns ``start:stop``, laid out over ``dims`` where ``mask`` is true."""

    name: str
    dims: tuple[str, ...]
    start: int
    stop: int
    index: Index  # block-shaped column numbers, -1 where absent
    positions: Index  # flat positions (in the block's shape) of columns start, start + 1, …


class Variables:
    """Columns allocated block by block; bounds and integrality are kept per column."""

    def __init__(self) -> None:
        self.blocks: dict[str, Block] = {}
        self.size = 0
        self._lower: list[Floats] = []
        self._upper: list[Floats] = []
        self._integer: list[NDArray[np.bool_]] = []

    def add(
        self,
        name: str,
        dims: tuple[str, ...],
        mask: NDArray[np.bool_],
        *,
        lower: ArrayLike = 0.0,
        upper: ArrayLike = np.inf,
        integer: bool = False,
    ) -> Index:
        """Allocate one column per true cell of ``mask``; bounds broadcast to the mask's shape."""
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim != len(dims):
            raise ValueError(f"block {name!r}: mask has {mask.ndim} dimensions, dims name {len(dims)}")
        positions = np.flatnonzero(mask)
        index = np.full(mask.shape, -1, dtype=np.int64)
        index.flat[positions] = self.size + np.arange(positions.size)
        self._lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), mask.shape)[mask])
        self._upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), mask.shape)[mask])
        self._integer.append(np.full(positions.size, integer))
        self.blocks[name] = Block(name, dims, self.size, self.size + positions.size, index, positions)
        self.size += positions.size
        return index

    def __getitem__(self, name: str) -> Index:
        return self.blocks[name].index

    def __contains__(self, name: str) -> bool:
        return name in self.blocks and self.blocks[name].stop > self.blocks[name].start

    @property
    def lower(self) -> Floats:
        return np.concatenate(self._lower) if self._lower else np.zeros(0)

    @property
    def upper(self) -> Floats:
        return np.concatenate(self._upper) if self._upper else np.zeros(0)

    @property
    def integrality(self) -> Index:
        return np.concatenate(self._integer).astype(np.int64) if self._integer else np.zeros(0, np.int64)

    def values(self, name: str, solution: Floats) -> Floats:
        """The block's values in its own shape, 0 where a variable does not exist."""
        index = self.blocks[name].index
        return np.where(index >= 0, solution[np.maximum(index, 0)], 0.0)

    def coords(self, name: str, cols: Index) -> tuple[Index, ...]:
        """Block coordinates (one array per dimension) of the given columns, which must lie in the block."""
        block = self.blocks[name]
        return tuple(
            np.asarray(c, dtype=np.int64)
            for c in np.unravel_index(block.positions[cols - block.start], block.index.shape)
        )

    def in_block(self, name: str, cols: Index) -> NDArray[np.bool_]:
        block = self.blocks[name]
        return (cols >= block.start) & (cols < block.stop)


@dataclass(frozen=True)
class Family:
    """One named constraint family: rows ``start:stop`` with their coordinates.

    ``structural`` rows define auxiliary variables (CVaR excess, moved volume, the link between buying and
    the supply decision); they can always be satisfied on their own, so they are never named as the cause
    of an infeasibility, never relaxed by the diagnosis and never reported as binding rules.
    """

    name: str
    start: int
    stop: int
    subject: NDArray[np.str_]  # what each row is about: an option, a group within a product, a scenario
    product: Index  # -1 when a row spans products
    period: Index  # -1 when a row spans periods
    structural: bool


@dataclass
class Constraints:
    """Rows collected family by family as COO triplets, with each row's coordinates."""

    periods: list[str]
    families: dict[str, Family] = field(default_factory=dict)
    count: int = 0
    _rows: list[Index] = field(default_factory=list)
    _cols: list[Index] = field(default_factory=list)
    _vals: list[Floats] = field(default_factory=list)
    _lower: list[Floats] = field(default_factory=list)
    _upper: list[Floats] = field(default_factory=list)
    _scale: list[Floats] = field(default_factory=list)

    def add(
        self,
        name: str,
        *,
        subject: NDArray[np.str_],
        product: ArrayLike,
        period: ArrayLike,
        row: Index,
        col: Index,
        coef: ArrayLike,
        lower: ArrayLike = -np.inf,
        upper: ArrayLike = np.inf,
        scale: ArrayLike = 0.0,
        structural: bool = False,
    ) -> None:
        """Add a family: one row per ``subject`` entry; terms ``coef`` x column ``col`` go to local ``row``.

        ``scale`` is the change in the right-hand side for one percentage point of a share rule, so its
        shadow price can be read as money per point.
        """
        n = len(subject)
        if n == 0:
            return
        if name in self.families:
            raise ValueError(f"constraint family {name!r} is defined twice")
        self.families[name] = Family(
            name,
            self.count,
            self.count + n,
            np.asarray(subject, dtype=str),
            np.broadcast_to(np.asarray(product, dtype=np.int64), (n,)).copy(),
            np.broadcast_to(np.asarray(period, dtype=np.int64), (n,)).copy(),
            structural,
        )
        self._rows.append(np.asarray(row, dtype=np.int64) + self.count)
        self._cols.append(np.asarray(col, dtype=np.int64))
        self._vals.append(np.broadcast_to(np.asarray(coef, dtype=np.float64), np.shape(col)).copy())
        self._lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (n,)).copy())
        self._upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (n,)).copy())
        self._scale.append(np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,)).copy())
        self.count += n

    def matrix(self, n_vars: int) -> sparse.csr_matrix:
        if not self._rows:
            return sparse.csr_matrix((0, n_vars))
        return sparse.csr_matrix(
            (np.concatenate(self._vals), (np.concatenate(self._rows), np.concatenate(self._cols))),
            shape=(self.count, n_vars),
        )

    def _stack(self, parts: list[Floats]) -> Floats:
        return np.concatenate(parts) if parts else np.zeros(0)

    @property
    def lower(self) -> Floats:
        return self._stack(self._lower)

    @property
    def upper(self) -> Floats:
        return self._stack(self._upper)

    @property
    def scale(self) -> Floats:
        return self._stack(self._scale)

    def per_row(self, attribute: str) -> NDArray[Any]:
        """A family attribute (``product``, ``period``, ``subject``) for every row, in row order."""
        parts = [getattr(f, attribute) for f in self.families.values()]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def family_names(self) -> NDArray[np.str_]:
        """The family name of every row, in row order."""
        return np.repeat(
            np.array(list(self.families), dtype=str), [f.stop - f.start for f in self.families.values()]
        )

    def structural(self) -> NDArray[np.bool_]:
        return np.repeat(
            np.array([f.structural for f in self.families.values()], dtype=bool),
            [f.stop - f.start for f in self.families.values()],
        )

    def locate(self, row: int) -> tuple[Family, int]:
        """The family holding ``row`` and the row's position inside it."""
        for family in self.families.values():  # families are few
            if family.start <= row < family.stop:
                return family, row - family.start
        raise IndexError(f"row {row} is outside the model's {self.count} rows")

    def label(self, row: int) -> str:
        """Stable row name: ``family[subject,period]`` or ``family[subject]`` for rows spanning periods."""
        family, local = self.locate(row)
        t = int(family.period[local])
        where = f"{family.subject[local]},{self.periods[t]}" if t >= 0 else str(family.subject[local])
        return f"{family.name}[{where}]"


def grouped_sum(key: Index) -> tuple[Index, Index, Index]:
    """Rows summing the cells of ``key`` that share a non-negative key value, one row per distinct value.

    Returns ``(row, cell, groups)``: the local row of each member cell, the member cells' flat positions in
    ``key`` and the sorted distinct key values (row i sums the cells whose key is ``groups[i]``).
    """
    flat = key.ravel()
    cell = np.flatnonzero(flat >= 0)
    groups, row = np.unique(flat[cell], return_inverse=True)
    return row.astype(np.int64), cell.astype(np.int64), groups.astype(np.int64)
