"""Evaluating draws as array operations: one structure per (path, variants), draws in blocks.

For a block of D draws the result is a cost cube (D x mineral-months). Price and volume multipliers are
shared by all cells of a mineral in a month, so the linear part needs only the coefficients summed per
mineral-month and per driver (K slots): ``(R @ B) * M`` with R the (D x K) rates of the block, B the (K x
mineral-months) coefficients and M the multipliers. The nonlinear parts are exact:

* price floors, per group of lines sharing measure, reference-price driver, mineral and month: with the
  lines sorted by unit price p, the floor cost ``sum_i v x max(0, F q_i - m x value_i)`` is
  ``v x (F x Q(F/m) - m x V(F/m))``, Q and V the cumulative kg and value of the lines with p < F/m. One
  ``searchsorted`` per group and draw, whatever the number of lines.
* quotas, per allocation and period: cumulative volume of the lines in entry-date order, per draw; the
  in-quota share of each line is ``clip(cap - volume before it, 0, its volume) / its volume``.

Expected contributions of every cell (for totals by origin, supplier, mineral and measure) are accumulated
exactly as well: linear parts through ``R' @ M``, floors by sorting each group's draws once, quotas
directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from critmin.simulate.draws import Draws
from critmin.simulate.structure import CapSpec, Number, QuotaSpec, TrancheRate, VariantRows

BLOCK_ELEMENTS = 4_000_000  # draws x width processed at once (about 32 MB per float array)


@dataclass
class Linear:
    measures: list[str]
    drivers: list[str | None]
    b: np.ndarray  # (K, GT)
    b_cell: np.ndarray  # (K, C)
    is_value: np.ndarray  # (K,) value part (x price x volume) or quantity part (x volume)


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
class QuotaSeq:
    measure_id: str
    spec: QuotaSpec
    bucket: str | None
    start: int  # first atom
    stop: int


@dataclass
class Quotas:
    seqs: list[QuotaSeq]
    seq: np.ndarray  # per atom, in fill order
    mineral: np.ndarray
    gt: np.ndarray
    cell: np.ndarray
    vol: np.ndarray
    valbase: np.ndarray
    qb_in: np.ndarray
    qb_over: np.ndarray
    customs: np.ndarray
    by_value: np.ndarray  # per atom: volume is in USD (moves with price)
    order_gt: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    gt_bounds: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def size(self) -> int:
        return int(self.seq.size)


@dataclass
class Structure:
    """Everything needed to evaluate the draws of one (path, variants) combination."""

    linear: Linear
    floors: list[FloorGroup]
    quotas: Quotas


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
    lin = [rows.linear.filter(pl.Series(mask[rows.linear.get_column("line").to_numpy()])) for rows, mask in parts]
    flo = [rows.floors.filter(pl.Series(mask[rows.floors.get_column("line").to_numpy()])) for rows, mask in parts]
    quo = [
        (rows, rows.quotas.filter(pl.Series(mask[rows.quotas.get_column("line").to_numpy()])))
        for rows, mask in parts
    ]
    return Structure(_linear(lin, geo), _floors(flo, geo), _quotas(quo, geo))


def _linear(frames: list[pl.DataFrame], geo: Geometry) -> Linear:
    rows = pl.concat(frames) if frames else pl.DataFrame()
    if rows.is_empty():
        return Linear([], [], np.zeros((0, geo.width)), np.zeros((0, geo.cells)), np.zeros(0, dtype=bool))
    slots = rows.select("measure_id", "driver", "part").unique().sort(["measure_id", "part", "driver"],
                                                                       nulls_last=False)
    slots = slots.with_row_index("slot")
    keyed = rows.join(slots, on=["measure_id", "driver", "part"], how="left", nulls_equal=True)
    slot = keyed.get_column("slot").to_numpy().astype(np.int64)
    line = keyed.get_column("line").to_numpy()
    coef = keyed.get_column("coef").to_numpy()
    k = slots.height
    gt = geo.line_mineral[line] * geo.months + geo.line_month[line]
    b = np.bincount(slot * geo.width + gt, weights=coef, minlength=k * geo.width).reshape(k, geo.width)
    b_cell = np.bincount(slot * geo.cells + geo.line_cell[line], weights=coef,
                         minlength=k * geo.cells).reshape(k, geo.cells)
    return Linear(
        slots.get_column("measure_id").to_list(),
        slots.get_column("driver").to_list(),
        b,
        b_cell,
        (slots.get_column("part") == "val").to_numpy(),
    )


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
        groups.append(FloorGroup(
            str(measure_id), None if driver is None else str(driver), float(ref), int(mineral), int(gt),  # type: ignore[arg-type]
            group.get_column("p").to_numpy(),
            np.concatenate(([0.0], np.cumsum(q))),
            np.concatenate(([0.0], np.cumsum(value))),
            group.get_column("cell").to_numpy(), q, value,
        ))
    return groups


def _quotas(parts: list[tuple[VariantRows, pl.DataFrame]], geo: Geometry) -> Quotas:
    seqs: list[QuotaSeq] = []
    pieces: list[pl.DataFrame] = []
    start = 0
    for rows, frame in parts:
        if frame.is_empty():
            continue
        frame = frame.with_columns(pl.Series("_date", geo.line_date[frame.get_column("line").to_numpy()]))
        for key, seq in frame.sort(["measure_id", "bucket", "period", "_date", "line"], nulls_last=True).group_by(
            ["measure_id", "bucket", "period"], maintain_order=True
        ):
            measure_id, bucket, _period = key
            spec = rows.quota_specs[str(measure_id)]
            seqs.append(QuotaSeq(str(measure_id), spec, None if bucket is None else str(bucket), start,
                                 start + seq.height))
            pieces.append(seq.with_columns(pl.lit(len(seqs) - 1).alias("_seq")))
            start += seq.height
    if not pieces:
        empty_i = np.empty(0, dtype=np.int64)
        empty_f = np.empty(0)
        return Quotas([], empty_i, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, empty_f, empty_f,
                      np.empty(0, dtype=bool))
    atoms = pl.concat(pieces)
    line = atoms.get_column("line").to_numpy()
    gt = geo.line_mineral[line] * geo.months + geo.line_month[line]
    seq = atoms.get_column("_seq").to_numpy().astype(np.int64)
    by_value = np.array([s.spec.unit == "usd" for s in seqs])[seq]
    order = np.argsort(gt, kind="stable")
    bounds = np.flatnonzero(np.diff(np.concatenate(([-1], gt[order])))) if order.size else order
    return Quotas(
        seqs, seq, geo.line_mineral[line], gt, geo.line_cell[line],
        atoms.get_column("vol").to_numpy(), atoms.get_column("valbase").to_numpy(),
        atoms.get_column("qb_in").to_numpy(), atoms.get_column("qb_over").to_numpy(),
        atoms.get_column("customs").to_numpy(), by_value, order, bounds,
    )


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
        return cls(np.zeros(n), np.zeros((n, geo.months)), np.zeros((n, geo.minerals)), np.zeros(n),
                   np.zeros(geo.cells), {})

    def add_measure(self, measure_id: str, value: float) -> None:
        self.measure_sum[measure_id] = self.measure_sum.get(measure_id, 0.0) + value


def _value(number: Number | None, params: dict[str, np.ndarray], d: int) -> np.ndarray:
    if number is None:
        return np.zeros(d)
    if isinstance(number, str):
        return params[number]
    return np.full(d, float(number))


def evaluate_structure(
    structure: Structure, draws: Draws, rows: np.ndarray, geo: Geometry, acc: Accumulator,
    weights: np.ndarray | None = None,
) -> None:
    """Add the cost of draws ``rows`` (indices into ``draws``) under ``structure`` to ``acc``.

    ``weights`` (per draw) weight the expected-contribution sums; by default every draw counts once.
    """
    width = max(geo.width, structure.quotas.size, 1)
    block = max(1, BLOCK_ELEMENTS // width)
    for lo in range(0, rows.size, block):
        sel = rows[lo:lo + block]
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
    if lin.b.shape[0]:
        rates = np.column_stack([params[k] if k is not None else np.ones(d) for k in lin.drivers])
        val = lin.is_value
        mult_val = price * vol_gt
        if val.any():
            cube += mult_val * (rates[:, val] @ lin.b[val])
        if (~val).any():
            cube += vol_gt * (rates[:, ~val] @ lin.b[~val])
        weighted = rates * w[:, None]
        expect = np.empty_like(lin.b)
        if val.any():
            expect[val] = weighted[:, val].T @ mult_val
        if (~val).any():
            expect[~val] = weighted[:, ~val].T @ vol_gt
        acc.cell_sum += (lin.b_cell * expect[:, geo.cell_gt]).sum(axis=0)
        per_slot = (lin.b * expect).sum(axis=1)
        for measure_id, value in zip(lin.measures, per_slot, strict=True):
            acc.add_measure(measure_id, float(value))

    for group in s.floors:
        ref = params[group.driver] if group.driver is not None else np.full(d, group.ref)
        m = price[:, group.gt]
        v = volume[:, group.mineral]
        k = np.searchsorted(group.p, ref / m, side="left")
        amount = v * (ref * group.qcum[k] - m * group.vcum[k])
        cube[:, group.gt] += amount
        acc.add_measure(group.measure_id, float(w @ amount))
        acc.cell_sum += np.bincount(group.cell, weights=_floor_atoms(group, ref, m, v * w), minlength=geo.cells)

    if s.quotas.size:
        acc.unavailable[sel] += _quota_block(s.quotas, params, price, volume, cube, geo, acc, w)

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


def _quota_block(
    q: Quotas, params: dict[str, np.ndarray], price: np.ndarray, volume: np.ndarray, cube: np.ndarray,
    geo: Geometry, acc: Accumulator, w: np.ndarray,
) -> np.ndarray:
    """Add the quota costs of a block to the cube; returns the value beyond hard caps per draw."""
    d = price.shape[0]
    m = price[:, q.gt]  # (d, L)
    v = volume[:, q.mineral]
    mv = m * v
    vol = np.where(q.by_value, mv, v) * q.vol  # each line's volume in this draw
    cum = np.cumsum(vol, axis=1)
    before = cum - vol
    caps = np.zeros((d, len(q.seqs)))
    rate = {name: np.zeros((d, len(q.seqs))) for name in ("in_av", "in_sp", "over_av", "over_sp")}
    starts = np.array([s.start for s in q.seqs])
    for i, seq in enumerate(q.seqs):
        if seq.bucket is not None and seq.bucket in seq.spec.caps:
            caps[:, i] = _cap(seq.spec.caps[seq.bucket], params, d)
        _set_rates(rate, i, seq.spec.inside, seq.spec.over, params, d)
    used_before = before - before[:, starts][:, q.seq]  # volume of earlier lines in the same allocation
    room = caps[:, q.seq] - used_before
    inside = np.minimum(np.maximum(room, 0.0), vol)
    no_access = np.array([s.bucket is None or s.bucket not in s.spec.caps for s in q.seqs])[q.seq]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(vol > 0, inside / np.where(vol > 0, vol, 1.0), 1.0)
    share = np.where(no_access, 0.0, share)
    rest = 1.0 - share
    amount = mv * q.valbase * (rate["in_av"][:, q.seq] * share + rate["over_av"][:, q.seq] * rest)
    amount += v * (q.qb_in * rate["in_sp"][:, q.seq] * share + q.qb_over * rate["over_sp"][:, q.seq] * rest)
    hard = np.array([s.spec.hard_cap for s in q.seqs])[q.seq]
    unavailable = (mv * q.customs * rest)[:, hard].sum(axis=1) if hard.any() else np.zeros(d)
    sums = np.add.reduceat(amount[:, q.order_gt], q.gt_bounds, axis=1)
    cube[:, q.gt[q.order_gt][q.gt_bounds]] += sums
    per_atom = w @ amount
    acc.cell_sum += np.bincount(q.cell, weights=per_atom, minlength=geo.cells)
    for seq in q.seqs:
        acc.add_measure(seq.measure_id, float(per_atom[seq.start:seq.stop].sum()))
    return unavailable


def _cap(spec: CapSpec, params: dict[str, np.ndarray], d: int) -> np.ndarray:
    volume = _value(spec.volume, params, d)
    return volume if spec.share is None else volume * _value(spec.share, params, d)


def _set_rates(
    rate: dict[str, np.ndarray], i: int, inside: TrancheRate, over: TrancheRate | None,
    params: dict[str, np.ndarray], d: int,
) -> None:
    rate["in_av"][:, i] = _value(inside.av, params, d)
    rate["in_sp"][:, i] = _value(inside.sp, params, d)
    if over is not None:
        rate["over_av"][:, i] = _value(over.av, params, d)
        rate["over_sp"][:, i] = _value(over.sp, params, d)
