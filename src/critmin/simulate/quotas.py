"""Quotas under many draws at once: each allocation and period filled in entry-date order, exactly.

Within one allocation and period the lines are in fill order and each draw scales every line's volume by
its mineral's multiplier (and, for a quota in USD, its price). The volume of the first j lines is therefore
``S(j) = sum_g f_g x P[g, j]``, with ``P[g, j]`` the cumulative volume of the lines of mineral-month g among
the first j lines and ``f_g`` the draw's multiplier - a short dot product. As S never decreases, a binary
search over j finds, per draw, the number J of lines wholly inside the quota; line J is partly inside
(``(cap - S(J)) / its volume``) and the rest are outside. Every sum the cost needs - value base, quantity
bases, customs value of the lines inside - is a cumulative table read at J, plus the partial line. The cost
of a draw grows with log(lines) x mineral-months, not with the number of lines, and it is the same
arithmetic as the engine's running sum, not an approximation.

A line of zero volume takes nothing from the quota; like the engine, it is inside when its origin has an
allocation and outside otherwise. Expected contributions per line are exact too: with the draws sorted by
J, the draws in which a line is wholly inside are a suffix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from critmin.simulate.structure import CapSpec, Number, QuotaSpec, VariantRows

BASES = ("valbase", "qb_in", "qb_over", "customs")
PRICED = {"valbase": True, "qb_in": False, "qb_over": False, "customs": True}  # moves with price x volume


@dataclass
class QuotaSeq:
    """The lines of one allocation and period, in fill order (``gt``: their mineral-months, local index)."""

    measure_id: str
    spec: QuotaSpec
    cap: CapSpec | None  # None: the lines' origin has no allocation (everything over quota)
    gts: np.ndarray  # local -> global mineral-month
    minerals: np.ndarray  # local -> mineral
    local: np.ndarray  # per line with volume: local mineral-month
    cell: np.ndarray
    q: np.ndarray  # volume at multiplier 1
    base: dict[str, np.ndarray]
    prefix: dict[str, np.ndarray]  # (local mineral-months, lines + 1) cumulative sums, incl. "q"
    zero_local: np.ndarray  # lines of zero volume
    zero_cell: np.ndarray
    zero_base: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        return int(self.q.size + self.zero_local.size)


def build_quotas(
    parts: list[tuple[VariantRows, pl.DataFrame]],
    line_mineral: np.ndarray,
    line_month: np.ndarray,
    line_cell: np.ndarray,
    line_date: np.ndarray,
    months: int,
) -> list[QuotaSeq]:
    out: list[QuotaSeq] = []
    for rows, frame in parts:
        if frame.is_empty():
            continue
        frame = frame.with_columns(pl.Series("_date", line_date[frame.get_column("line").to_numpy()]))
        ordered = frame.sort(["measure_id", "bucket", "period", "_date", "line"], nulls_last=True)
        for key, seq in ordered.group_by(["measure_id", "bucket", "period"], maintain_order=True):
            measure_id, bucket = str(key[0]), key[1]
            spec = rows.quota_specs[measure_id]
            cap = spec.caps.get(str(bucket)) if bucket is not None else None
            line = seq.get_column("line").to_numpy()
            gt = line_mineral[line] * months + line_month[line]
            gts, local = np.unique(gt, return_inverse=True)
            q = seq.get_column("vol").to_numpy()
            bases = {name: seq.get_column(name).to_numpy() for name in BASES}
            moving = q > 0
            n_local = gts.size
            prefix: dict[str, np.ndarray] = {}
            for name, values in [("q", q), *bases.items()]:
                table = np.zeros((n_local, int(moving.sum()) + 1))
                picked = values[moving]
                where = local[moving]
                steps = np.zeros((n_local, picked.size))
                steps[where, np.arange(picked.size)] = picked
                table[:, 1:] = np.cumsum(steps, axis=1)
                prefix[name] = table
            out.append(
                QuotaSeq(
                    measure_id,
                    spec,
                    cap,
                    gts,
                    gts // months,
                    local[moving],
                    line_cell[line][moving],
                    q[moving],
                    {k: v[moving] for k, v in bases.items()},
                    prefix,
                    local[~moving],
                    line_cell[line][~moving],
                    {k: v[~moving] for k, v in bases.items()},
                )
            )
    return out


def _value(number: Number | None, params: dict[str, np.ndarray], d: int) -> np.ndarray:
    if number is None:
        return np.zeros(d)
    if isinstance(number, str):
        return params[number]
    return np.full(d, float(number))


def _cap(spec: CapSpec, params: dict[str, np.ndarray], d: int) -> np.ndarray:
    volume = _value(spec.volume, params, d)
    return volume if spec.share is None else volume * _value(spec.share, params, d)


@dataclass
class SeqResult:
    amount: np.ndarray  # (draws, local mineral-months)
    unavailable: np.ndarray  # (draws,)
    per_line: np.ndarray  # weighted sum over draws, per line with volume
    per_zero: np.ndarray  # the same for lines of zero volume


def evaluate_seq(
    seq: QuotaSeq, params: dict[str, np.ndarray], price: np.ndarray, volume: np.ndarray, w: np.ndarray
) -> SeqResult:
    d = price.shape[0]
    v = volume[:, seq.minerals]  # (d, local)
    mv = price[:, seq.gts] * v
    mult = {name: (mv if PRICED[name] else v) for name in BASES}
    growth = mv if seq.spec.unit == "usd" else v  # how each line's volume moves
    n = seq.q.size
    cap = _cap(seq.cap, params, d) if seq.cap is not None else np.zeros(d)
    rates = _rates(seq, params, d)
    j, partial_share = _fill(seq, growth, cap)
    has_partial = j < n
    rows = np.flatnonzero(has_partial)
    line_j = j[rows]
    col_j = seq.local[line_j] if rows.size else np.empty(0, dtype=np.int64)

    inside: dict[str, np.ndarray] = {}
    total: dict[str, np.ndarray] = {}
    for name in BASES:
        inside[name] = mult[name] * seq.prefix[name][:, j].T
        total[name] = mult[name] * seq.prefix[name][:, n]
        if rows.size:
            inside[name][rows, col_j] += (
                mult[name][rows, col_j] * seq.base[name][line_j] * partial_share[rows]
            )
    in_av, over_av, in_sp, over_sp = (r[:, None] for r in rates)
    amount = (
        in_av * inside["valbase"]
        + over_av * (total["valbase"] - inside["valbase"])
        + in_sp * inside["qb_in"]
        + over_sp * (total["qb_over"] - inside["qb_over"])
    )
    unavailable = (total["customs"] - inside["customs"]).sum(axis=1) if seq.spec.hard_cap else np.zeros(d)

    # zero-volume lines: inside when the origin has an allocation
    per_zero = np.zeros(seq.zero_local.size)
    if seq.zero_local.size:
        s0 = 1.0 if seq.cap is not None else 0.0
        zl = seq.zero_local
        zb = seq.zero_base
        in_av, over_av, in_sp, over_sp = (r[:, None] for r in rates)
        value_part = mv[:, zl] * zb["valbase"] * (over_av + (in_av - over_av) * s0)
        qty_part = v[:, zl] * (zb["qb_in"] * in_sp * s0 + zb["qb_over"] * over_sp * (1 - s0))
        line_cost = value_part + qty_part
        np.add.at(amount.T, zl, line_cost.T)  # several lines may share a mineral-month
        if seq.spec.hard_cap:
            unavailable += (mv[:, zl] * zb["customs"] * (1 - s0)).sum(axis=1)
        per_zero = w @ line_cost

    per_line = _expected_lines(seq, w, mult, rates, j, partial_share, rows, line_j, col_j)
    return SeqResult(amount, unavailable, per_line, per_zero)


def _rates(seq: QuotaSeq, params: dict[str, np.ndarray], d: int) -> tuple[np.ndarray, ...]:
    inner, outer = seq.spec.inside, seq.spec.over
    return (
        _value(inner.av, params, d),
        _value(outer.av if outer else None, params, d),
        _value(inner.sp, params, d),
        _value(outer.sp if outer else None, params, d),
    )


def _fill(seq: QuotaSeq, growth: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per draw: J = the number of lines wholly inside, and the inside share of line J."""
    d = growth.shape[0]
    n = seq.q.size
    table = seq.prefix["q"]

    def volume_of_first(j: np.ndarray) -> np.ndarray:
        return np.einsum("dg,gd->d", growth, table[:, j])

    lo = np.zeros(d, dtype=np.int64)
    hi = np.full(d, n, dtype=np.int64)
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = np.where(open_, (lo + hi + 1) // 2, lo)
        ok = volume_of_first(mid) <= cap
        lo = np.where(open_ & ok, mid, lo)
        hi = np.where(open_ & ~ok, mid - 1, hi)
    j = lo
    share = np.zeros(d)
    partial = j < n
    if partial.any():
        rows = np.flatnonzero(partial)
        line = j[rows]
        own = growth[rows, seq.local[line]] * seq.q[line]
        room = cap[rows] - volume_of_first(j)[rows]
        share[rows] = np.clip(room / own, 0.0, 1.0)
    return j, share


def _expected_lines(
    seq: QuotaSeq,
    w: np.ndarray,
    mult: dict[str, np.ndarray],
    rates: tuple[np.ndarray, ...],
    j: np.ndarray,
    partial_share: np.ndarray,
    rows: np.ndarray,
    line_j: np.ndarray,
    col_j: np.ndarray,
) -> np.ndarray:
    """Sum over draws (weighted) of each line's quota cost: a line k is wholly inside in the draws with
    J > k, which after sorting the draws by J are a suffix."""
    in_av, over_av, in_sp, over_sp = rates
    n = seq.q.size
    order = np.argsort(j, kind="stable")
    sorted_j = j[order]
    after = np.searchsorted(sorted_j, np.arange(n), side="right")  # first sorted draw with J > k

    def suffix(values: np.ndarray) -> np.ndarray:
        ordered = values[order]
        out = np.zeros((ordered.shape[0] + 1, ordered.shape[1]))
        out[:-1] = np.cumsum(ordered[::-1], axis=0)[::-1]
        return out

    local = seq.local
    val = mult["valbase"]
    always = (w * over_av) @ val  # over-quota rate on every line's full base
    gain = suffix(val * (w * (in_av - over_av))[:, None])
    per = seq.base["valbase"] * (always[local] + gain[after, local])
    if in_sp.any() or over_sp.any():
        qty = mult["qb_in"]
        inside_sp = suffix(qty * (w * in_sp)[:, None])
        over_all = (w * over_sp) @ qty
        over_in = suffix(qty * (w * over_sp)[:, None])
        per += seq.base["qb_in"] * inside_sp[after, local]
        per += seq.base["qb_over"] * (over_all[local] - over_in[after, local])
    if rows.size:
        weight = w[rows] * partial_share[rows]
        extra = val[rows, col_j] * seq.base["valbase"][line_j] * (in_av - over_av)[rows] + mult["qb_in"][
            rows, col_j
        ] * (seq.base["qb_in"][line_j] * in_sp[rows] - seq.base["qb_over"][line_j] * over_sp[rows])
        per += np.bincount(line_j, weights=weight * extra, minlength=n)
    return np.asarray(per)
