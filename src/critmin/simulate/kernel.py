"""Evaluating draws as array operations: one structure per (path, variants), draws in blocks.

For a block of D draws the result is a cost cube (D x mineral-months). Price and volume multipliers are
shared by all cells of a mineral in a month, so the linear part needs only the coefficients summed per
mineral-month and per driver (K slots): ``(R @ B) * M`` with R the (D x K) rates of the block, B the (K x
mineral-months) coefficients and M the multipliers. The nonlinear parts are exact:

* price floors, per group of lines sharing measure, reference-price driver, mineral and month: with the
  lines sorted by unit price p, the floor cost ``sum_i v x max(0, F q_i - m x value_i)`` is
  ``v x (F x Q(F/m) - m x V(F/m))``, Q and V the cumulative kg and value of the lines with p < F/m. One
  ``searchsorted`` per group and draw, whatever the number of lines.
* quotas, per allocation and period, filled in entry-date order: a binary search per draw over the
  cumulative volume finds the lines wholly inside the quota (:mod:`critmin.simulate.quotas`).

Expected contributions of every cell (for totals by origin, supplier, mineral and measure) are accumulated
exactly as well: linear parts through ``R' @ M``, floors and quotas by sorting each group's draws once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from critmin.simulate.draws import Draws
from critmin.simulate.quotas import QuotaSeq, build_quotas, evaluate_seq
from critmin.simulate.structure import VariantRows

BLOCK_ELEMENTS = 4_000_000  # draws x width processed at once (about 32 MB per float array)


@dataclass
class Term:
    """The slots sharing one rate (a drawn parameter, or 1 for fixed amounts) and one multiplier."""

    driver: str | None
    is_value: bool
    slots: list[int]
    b: np.ndarray  # (GT,) summed coefficients
    b_cell: np.ndarray  # (C,)


@dataclass
class Linear:
    measures: list[str]
    drivers: list[str | None]
    b: np.ndarray  # (K, GT)
    is_value: np.ndarray  # (K,) value part (x price x volume) or quantity part (x volume)
    terms: list[Term] = field(default_factory=list)


@dataclass
class FloorGroup:
    measure_id: str
    driver: str | None
    ref: float
    mineral: int
    gt: int
    p: np.ndarray  # sorted unit prices
    qcum: np.ndarray  # cumulative kg, with a leading 0
    vcum: np.ndarray  # cumulative value, with a leading 0
    cell: np.ndarray
    q: np.ndarray
    value: np.ndarray


@dataclass
class Structure:
    """Everything needed to evaluate the draws of one (path, variants) combination."""

    linear: Linear
    floors: list[FloorGroup]
    quotas: list[QuotaSeq]


@dataclass
class Geometry:
    """Where each placed line sits: cell, mineral, month; sizes of the cube."""

    line_cell: np.ndarray
    line_mineral: np.ndarray
    line_month: np.ndarray
    line_date: np.ndarray  # days since 1970
    minerals: int
    months: int
    cells: int
    cell_gt: np.ndarray

    @property
    def width(self) -> int:
        return self.minerals * self.months


def build_structure(parts: list[tuple[VariantRows, np.ndarray]], geo: Geometry) -> Structure:
    """Combine the rows of each (variant, lines in its window) into one structure."""
    lin = [
        rows.linear.filter(pl.Series(mask[rows.linear.get_column("line").to_numpy()])) for rows, mask in parts
    ]
    flo = [
        rows.floors.filter(pl.Series(mask[rows.floors.get_column("line").to_numpy()])) for rows, mask in parts
    ]
    quo = [
        (rows, rows.quotas.filter(pl.Series(mask[rows.quotas.get_column("line").to_numpy()])))
        for rows, mask in parts
    ]
    quotas = build_quotas(quo, geo.line_mineral, geo.line_month, geo.line_cell, geo.line_date, geo.months)
    return Structure(_linear(lin, geo), _floors(flo, geo), quotas)


def _linear(frames: list[pl.DataFrame], geo: Geometry) -> Linear:
    rows = pl.concat(frames) if frames else pl.DataFrame()
    if rows.is_empty():
        return Linear([], [], np.zeros((0, geo.width)), np.zeros(0, dtype=bool))
    slots = (
        rows.select("measure_id", "driver", "part")
        .unique()
        .sort(["measure_id", "part", "driver"], nulls_last=False)
    )
    slots = slots.with_row_index("slot")
    keyed = rows.join(slots, on=["measure_id", "driver", "part"], how="left", nulls_equal=True)
    slot = keyed.get_column("slot").to_numpy().astype(np.int64)
    line = keyed.get_column("line").to_numpy()
    coef = keyed.get_column("coef").to_numpy()
    k = slots.height
    gt = geo.line_mineral[line] * geo.months + geo.line_month[line]
    b = np.bincount(slot * geo.width + gt, weights=coef, minlength=k * geo.width).reshape(k, geo.width)
    drivers = slots.get_column("driver").to_list()
    is_value = (slots.get_column("part") == "val").to_numpy()
    cell = geo.line_cell[line]
    terms: list[Term] = []
    for driver, value in dict.fromkeys(zip(drivers, is_value.tolist(), strict=True)):
        members = [i for i in range(k) if drivers[i] == driver and bool(is_value[i]) == value]
        chosen = np.isin(slot, members)
        b_cell = np.bincount(cell[chosen], weights=coef[chosen], minlength=geo.cells)
        terms.append(Term(driver, value, members, b[members].sum(axis=0), b_cell))
    return Linear(slots.get_column("measure_id").to_list(), drivers, b, is_value, terms)


def _floors(frames: list[pl.DataFrame], geo: Geometry) -> list[FloorGroup]:
    rows = pl.concat(frames) if frames else pl.DataFrame()
    if rows.is_empty():
        return []
    line = rows.get_column("line").to_numpy()
    rows = rows.with_columns(
        pl.Series("mineral", geo.line_mineral[line]),
        pl.Series("gt", geo.line_mineral[line] * geo.months + geo.line_month[line]),
        pl.Series("cell", geo.line_cell[line]),
        (pl.col("value") / pl.col("q")).alias("p"),
    )
    groups: list[FloorGroup] = []
    keys = ["measure_id", "driver", "ref", "mineral", "gt"]
    for key, group in rows.sort([*keys, "p"], nulls_last=False).group_by(keys, maintain_order=True):
        measure_id, driver, ref, mineral, gt = key
        q = group.get_column("q").to_numpy()
        value = group.get_column("value").to_numpy()
        groups.append(
            FloorGroup(
                str(measure_id),
                None if driver is None else str(driver),
                float(ref),
                int(mineral),
                int(gt),
                group.get_column("p").to_numpy(),
                np.concatenate(([0.0], np.cumsum(q))),
                np.concatenate(([0.0], np.cumsum(value))),
                group.get_column("cell").to_numpy(),
                q,
                value,
            )
        )
    return groups


# ---------------------------------------------------------------------------------------------------------
# evaluation


@dataclass
class Accumulator:
    """Per-draw outputs and expected-contribution sums, filled block by block."""

    cube_total: np.ndarray  # (n,)
    monthly: np.ndarray  # (n, T)
    mineral: np.ndarray  # (n, G)
    unavailable: np.ndarray  # (n,)
    cell_sum: np.ndarray  # (C,) sum over draws (weighted) of each cell's cost
    measure_sum: dict[str, float]

    @classmethod
    def empty(cls, n: int, geo: Geometry) -> Accumulator:
        return cls(
            np.zeros(n),
            np.zeros((n, geo.months)),
            np.zeros((n, geo.minerals)),
            np.zeros(n),
            np.zeros(geo.cells),
            {},
        )

    def add_measure(self, measure_id: str, value: float) -> None:
        self.measure_sum[measure_id] = self.measure_sum.get(measure_id, 0.0) + value


def evaluate_structure(
    structure: Structure,
    draws: Draws,
    rows: np.ndarray,
    geo: Geometry,
    acc: Accumulator,
    weights: np.ndarray | None = None,
) -> None:
    """Add the cost of draws ``rows`` (indices into ``draws``) under ``structure`` to ``acc``.

    ``weights`` (per draw) weight the expected-contribution sums; by default every draw counts once.
    """
    width = max(geo.width, 1)
    block = max(1, BLOCK_ELEMENTS // width)
    for lo in range(0, rows.size, block):
        sel = rows[lo : lo + block]
        w = np.ones(sel.size) if weights is None else weights[sel]
        _evaluate_block(structure, draws, sel, geo, acc, w)


def _evaluate_block(
    s: Structure, draws: Draws, sel: np.ndarray, geo: Geometry, acc: Accumulator, w: np.ndarray
) -> None:
    d = sel.size
    price = draws.price[sel].reshape(d, geo.width)  # (d, G*T)
    volume = draws.volume[sel]  # (d, G)
    vol_gt = np.repeat(volume, geo.months, axis=1)  # (d, G*T)
    params = {k: v[sel] for k, v in draws.params.items()}
    cube = np.zeros((d, geo.width))

    lin = s.linear
    mult_val = price * vol_gt if lin.is_value.any() else vol_gt
    for term in lin.terms:
        mult = mult_val if term.is_value else vol_gt
        rate = params[term.driver] if term.driver is not None else None
        cube += mult * (term.b if rate is None else rate[:, None] * term.b)
        expect = (w if rate is None else w * rate) @ mult  # weighted sum over draws per mineral-month
        acc.cell_sum += term.b_cell * expect[geo.cell_gt]
        for k in term.slots:
            acc.add_measure(lin.measures[k], float(lin.b[k] @ expect))

    for group in s.floors:
        ref = params[group.driver] if group.driver is not None else np.full(d, group.ref)
        m = price[:, group.gt]
        v = volume[:, group.mineral]
        k = np.searchsorted(group.p, ref / m, side="left")
        amount = v * (ref * group.qcum[k] - m * group.vcum[k])
        cube[:, group.gt] += amount
        acc.add_measure(group.measure_id, float(w @ amount))
        acc.cell_sum += np.bincount(
            group.cell, weights=_floor_atoms(group, ref, m, v * w), minlength=geo.cells
        )

    for seq in s.quotas:
        result = evaluate_seq(seq, params, price, volume, w)
        cube[:, seq.gts] += result.amount
        acc.unavailable[sel] += result.unavailable
        acc.cell_sum += np.bincount(seq.cell, weights=result.per_line, minlength=geo.cells)
        acc.cell_sum += np.bincount(seq.zero_cell, weights=result.per_zero, minlength=geo.cells)
        acc.add_measure(seq.measure_id, float(result.per_line.sum() + result.per_zero.sum()))

    total = cube.sum(axis=1)
    acc.cube_total[sel] += total
    cube3 = cube.reshape(d, geo.minerals, geo.months)
    acc.monthly[sel] += cube3.sum(axis=1)
    acc.mineral[sel] += cube3.sum(axis=2)


def _floor_atoms(group: FloorGroup, ref: np.ndarray, m: np.ndarray, vw: np.ndarray) -> np.ndarray:
    """Sum over draws of each line's floor cost: with draws sorted by F/m, the lines whose unit price p is
    below F/m in a draw are a suffix, so each line needs one search and two suffix sums."""
    x = ref / m
    order = np.argsort(x, kind="stable")
    xs = x[order]
    sum_ref = np.concatenate((np.cumsum((vw * ref)[order][::-1])[::-1], [0.0]))
    sum_m = np.concatenate((np.cumsum((vw * m)[order][::-1])[::-1], [0.0]))
    k = np.searchsorted(xs, group.p, side="right")  # draws with F/m > p
    return np.asarray(group.q * sum_ref[k] - group.value * sum_m[k])
