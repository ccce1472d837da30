"""The duty engine: (ledger lines, measures, reference data) -> duty per line and measure.

:func:`evaluate` is a pure function over a Polars frame or an Arrow table: it reads no files and keeps no
state, so a distributed engine can map it over partitions of a ledger (Spark ``mapInArrow``, Dask, Ray).
The only cross-line mechanism, quota filling, takes the fill carried from earlier partitions
(``quota_opening``) and returns the fill after this one (:mod:`critmin.duty.partitions` threads it).

Per measure, in stacking order (see :mod:`critmin.duty.stacking`), everything is a column expression over
all lines: scope (product x origin x window x claim, minus exclusions: :func:`_scoped_rows`), basis (value,
content value, rest of value, quantity, content mass - minus portions the measure does not stack on:
:func:`_measure_frame`), mechanism (rate, schedule, price floor, quota tranche: the registry in
:mod:`critmin.duty.mechanisms`). What depends only on the HTS code is computed once per code
(:mod:`critmin.duty.dimension`); component rows, issues and totals are collected by :mod:`critmin.duty.emit`.
There is no Python loop over lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, TypeAlias

import numpy as np
import polars as pl
import pyarrow as pa

from critmin.duty import mechanisms
from critmin.duty.charge import Charge, PerCase
from critmin.duty.content import CASES, ContentExprs, content_exprs, content_inputs
from critmin.duty.context import LineContext, dim_mask, eval_days, hts_keys
from critmin.duty.dimension import (
    DimensionCache,
    SetState,
    SpecialRates,
    cached_dimension,
    dim_columns,
    product_masks,
    special_rates,
)
from critmin.duty.emit import Emitter, Totals, emit, flag_unstated_weight, result_notes
from critmin.duty.lines import DATE, REQUIRED, ROW, country_column, flag_column, prepare
from critmin.duty.mechanisms import mechanism_of
from critmin.duty.quotas import QuotaFill, empty_fill, fill_quota, quota_volume
from critmin.duty.rates import Bases, schedule_ad_valorem_charge
from critmin.duty.references import References, shipped_references
from critmin.duty.result import ISSUE_SCHEMA, DutyResult
from critmin.duty.scope import (
    claim_mask,
    country_columns,
    exemption_mask,
    origin_mask,
    us_content_mask,
    weight_gate,
    window_mask,
    window_misses_batch,
)
from critmin.duty.stacking import claims_value, excluders, not_on_targets
from critmin.errors import InputError
from critmin.policy.loader import MeasureSet
from critmin.policy.models import Basis, Measure, ScheduleRate

ContentCase = Literal["low", "central", "high"]
LedgerInput: TypeAlias = pl.DataFrame | pa.Table | pa.RecordBatch


def as_measure_set(measures: MeasureSet | Sequence[Measure]) -> MeasureSet:
    if isinstance(measures, MeasureSet):
        return measures
    return MeasureSet("custom", "Custom measures", "Measures given directly to the engine.", tuple(measures))


def evaluate(
    ledger: LedgerInput,
    measures: MeasureSet | Sequence[Measure],
    *,
    as_of: date | None = None,
    content: ContentCase = "central",
    refs: References | None = None,
    quota_opening: pl.DataFrame | None = None,
    cache: DimensionCache | None = None,
) -> DutyResult:
    """Duty of every line under ``measures``.

    ``as_of`` re-dates every line (what if these lines entered on that day); otherwise each line is evaluated
    on its entry date. ``content`` picks the content-factor case reported as ``amount``/``duty``; the low
    and high cases are always reported alongside. ``quota_opening`` is the quota fill carried from earlier
    partitions (the ``quota_fill`` of their results). ``cache`` keeps per-HTS-code work between batches of
    one ledger evaluated under the same measures and references (an optimisation; results are the same).
    """
    result = _evaluate(ledger, measures, as_of, content, refs, quota_opening, cache, fills_only=False)
    assert isinstance(result, DutyResult)
    return result


def closing_fill(
    ledger: LedgerInput,
    measures: MeasureSet | Sequence[Measure],
    as_of: date | None,
    refs: References | None,
    cache: DimensionCache | None,
) -> pl.DataFrame:
    """Just the quota fill after ``ledger`` (no components, no totals): a partitioned run's quota pass."""
    fill = _evaluate(ledger, measures, as_of, "central", refs, None, cache, fills_only=True)
    assert isinstance(fill, pl.DataFrame)
    return fill


@dataclass
class _Run:
    """One evaluation in progress: the lines, their per-code dimension, and what earlier measures left for
    later ones (rows they applied to, for exclusions; value they charged, for ``not_on``)."""

    state: SetState
    base: pl.DataFrame
    dim: pl.DataFrame
    ctx: LineContext
    products: np.ndarray
    emitter: Emitter
    opening: pl.DataFrame
    fills_only: bool
    fills: list[pl.DataFrame] = field(default_factory=list)
    applied: dict[str, np.ndarray] = field(default_factory=dict)
    claims: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        measures = self.state.plan.measures
        self.exclude_map = excluders(measures)
        self.excluder_ids = {e for ids in self.exclude_map.values() for e in ids}
        self.not_on_referenced = {t for m in measures for t in not_on_targets(m, measures)}


def _evaluate(
    ledger: LedgerInput,
    measures: MeasureSet | Sequence[Measure],
    as_of: date | None,
    content: ContentCase,
    refs: References | None,
    quota_opening: pl.DataFrame | None,
    cache: DimensionCache | None,
    *,
    fills_only: bool,
) -> DutyResult | pl.DataFrame:
    """:func:`evaluate`; with ``fills_only``, just the closing quota fill (no components, no totals)."""
    if content not in CASES:
        raise InputError(f"content must be one of {', '.join(CASES)}, not {content!r}.")
    measure_set = as_measure_set(measures)
    refs = refs or shipped_references()
    state = cache.state(measure_set, refs) if cache is not None else SetState.build(measure_set, refs)
    run = _start(ledger, state, as_of, content, quota_opening, fills_only)
    for i, m in enumerate(state.plan.measures):
        rows, special = _scoped_rows(run, i, m)
        if rows.size == 0 or (fills_only and m.quota is None):
            continue
        _charge_measure(run, i, m, rows, special)
    if fills_only:
        return pl.concat(run.fills, how="vertical") if run.fills else empty_fill()
    return _result(run, measure_set, as_of, content)


def _start(
    ledger: LedgerInput,
    state: SetState,
    as_of: date | None,
    content: ContentCase,
    quota_opening: pl.DataFrame | None,
    fills_only: bool,
) -> _Run:
    """Prepare the lines, key them to their codes and build the codes' dimension."""
    plan = state.plan
    # a quota pass reads no line ids (USAGE_COLUMNS)
    required = tuple(c for c in REQUIRED if c != "line_id") if fills_only else REQUIRED
    base = prepare(ledger, as_of, required)
    base = base.with_columns([expr.alias(name) for name, expr in country_columns(plan.measures).items()])
    dim, hts_key = hts_keys(base)
    dim = cached_dimension(dim, state)
    products = product_masks(dim, len(plan.measures))
    if fills_only:  # a quota pass needs only the lines that a quota (or a measure excluding one) can reach
        reach = np.logical_or.reduce(products, axis=0)[hts_key]
        if not reach.all():
            base = base.filter(pl.Series(reach)).drop(ROW).with_row_index(ROW)
            hts_key = hts_key[reach]
    ctx = LineContext(base.height, hts_key, eval_days(base), {}, state.refs, as_of, grids=state.grids)
    opening = quota_opening if quota_opening is not None else empty_fill()
    emitter = Emitter(content, [], [], Totals(base.height))
    return _Run(state, base, dim, ctx, products, emitter, opening, fills_only)


def _scoped_rows(run: _Run, i: int, m: Measure) -> tuple[np.ndarray, SpecialRates | None]:
    """The rows measure ``m`` applies to: product, window, origin, claim and exemption, U.S. content, metal
    weight, an available preference, and no earlier measure that excludes it. Cheapest tests first; each
    later test only looks at the rows still in."""
    ctx, base = run.ctx, run.base
    if window_misses_batch(m, ctx):
        rows = np.empty(0, dtype=np.int64)
    else:
        rows = ctx.rows_for_codes(run.products[i])
        rows = ctx.keep(rows, window_mask(m, ctx, rows))
    if rows.size:
        rows = ctx.keep(rows, origin_mask(m.origin, base, ctx, rows))
    if rows.size and m.claim is not None:
        rows = ctx.keep(rows, claim_mask(m, base, ctx, rows))
    if rows.size and m.exempt_if_claimed is not None:
        rows = ctx.keep(rows, exemption_mask(m, base, ctx, rows))
    if rows.size and m.us_content is not None:
        rows = ctx.keep(rows, us_content_mask(m.us_content, base, ctx, rows))
    if rows.size and m.metal_weight is not None:
        covered, unstated = weight_gate(m.metal_weight, base, ctx, rows)
        if not run.fills_only and m.charges and (covered & unstated).any():
            flag_unstated_weight(run.emitter, m, m.metal_weight, rows[covered & unstated])
        rows = ctx.keep(rows, covered)
    special: SpecialRates | None = None
    if rows.size and isinstance(m.rate, ScheduleRate) and m.rate.column == "special":
        # A preference exists only where the schedule lists the claimed programme for the code.
        special = special_rates(run.dim, ctx, base, rows, run.state)
        rows = ctx.keep(rows, special.available(rows))
    for excluder in run.exclude_map[m.id]:
        if excluder in run.applied and rows.size:
            rows = ctx.keep(rows, ~ctx.take(run.applied[excluder], rows))
    if m.id in run.excluder_ids:
        mark = np.zeros(ctx.n, dtype=bool)
        mark[rows] = True
        run.applied[m.id] = mark
    return rows, special


def _charge_measure(run: _Run, i: int, m: Measure, rows: np.ndarray, special: SpecialRates | None) -> None:
    """Charge measure ``m`` on its rows, part by part (plain schedule codes take a fast path), emit its
    tranches, and keep the value it charged where a later measure does not stack on it."""
    claimed_rows: list[np.ndarray] = []
    claimed_vals: dict[str, list[np.ndarray]] = {c: [] for c in CASES}
    for part, (part_rows, fast) in enumerate(_parts(m, rows, run.dim, run.ctx)):
        if part_rows.size == 0:
            continue
        tag = f"_m{i}p{part}"
        sub, targets = _measure_frame(run, i, m, part_rows, fast, special)
        content_x = None
        if m.content is not None:
            prefix = f"{tag}_content_"
            for step in content_inputs(m.content, run.state.prices, prefix):
                sub = sub.with_columns(step)
            content_x = content_exprs(m.content, run.state.plan.content_keys[m.content.key()], prefix)
        value, why = _value_base(m, content_x, bool(targets))
        bases = Bases(value=value, content=content_x, value_missing=why)
        if m.quota is None:
            charge = schedule_ad_valorem_charge(m, bases) if fast else _charge(m, i, bases, m.rate)
            tranches: list[tuple[str | None, Charge, pl.Expr | None]] = [(None, charge, None)]
        else:
            applies = pl.lit(True)
            content_mass = content_x.mass if content_x is not None else None
            sub, filled = fill_quota(sub, m, applies, quota_volume(m, content_mass), run.opening, tag)
            run.fills.append(filled.fill)
            if run.fills_only:
                continue
            tranches = _quota_tranches(m, i, bases, filled, applies)
        full = part_rows is run.ctx.all_rows
        for tranche, charge, present in tranches:
            emit(sub, run.emitter, m, charge, present, tranche, content_x, full)
        if m.id in run.not_on_referenced and claims_value(m):
            claimed = sub.select([value[c].fill_null(0.0).alias(c) for c in CASES])
            claimed_rows.append(sub.get_column(ROW).to_numpy())
            for c in CASES:
                claimed_vals[c].append(claimed.get_column(c).to_numpy())
    if claimed_rows:
        run.claims[m.id] = (
            np.concatenate(claimed_rows),
            {c: np.concatenate(v) for c, v in claimed_vals.items()},
        )


def _measure_frame(
    run: _Run, i: int, m: Measure, part_rows: np.ndarray, fast: bool, special: SpecialRates | None
) -> tuple[pl.DataFrame, list[str]]:
    """The columns the measure's mechanism reads, for its rows: ledger columns, per-code columns, special
    rates, quota group flags, and the value charged by measures it does not stack on (``_claimed_<case>``).
    Also returns those measures' ids."""
    ctx, base = run.ctx, run.base
    # Series gathers: a frame-level gather costs more in per-call overhead than the copy itself
    columns = _line_columns(m, fast)
    if part_rows is ctx.all_rows:
        series = [base.get_column(c) for c in columns]
    else:
        at = pl.Series(ROW, part_rows.astype(np.uint32))
        series = [at, *(base.get_column(c).gather(at) for c in columns if c != ROW)]
    wanted = dim_columns(m, i, run.state.plan, fast)
    if wanted:
        codes = pl.Series(ctx.take(ctx.hts_key, part_rows).astype(np.uint32))
        series += [run.dim.get_column(c).gather(codes) for c in wanted]
    if special is not None:
        series += special.columns(part_rows).get_columns()
    sub = pl.DataFrame(series)
    if m.quota is not None:
        name, _ = country_column(m.origin.country_field, m.origin.fallback_to_origin)
        sub = sub.with_columns(
            [
                pl.Series(flag_column(name, g), ctx.take(ctx.group_flag(name, g, base), part_rows))
                for a in m.quota.allocations
                for g in a.groups
            ]
        )
    targets = [t for t in not_on_targets(m, run.state.plan.measures) if t in run.claims]
    if targets:
        for c in CASES:
            dense = np.zeros(ctx.n)
            for t in targets:
                t_rows, t_vals = run.claims[t]
                dense[t_rows] += t_vals[c]
            sub = sub.with_columns(pl.Series(f"_claimed_{c}", ctx.take(dense, part_rows)))
    return sub, targets


def _result(run: _Run, measure_set: MeasureSet, as_of: date | None, content: ContentCase) -> DutyResult:
    """Assemble the result: issues keyed by line id, the per-line frame (with each line's mineral), fills."""
    base, state = run.base, run.state
    issues = pl.DataFrame(schema=ISSUE_SCHEMA)
    if run.emitter.issues:
        found = pl.concat(run.emitter.issues, how="vertical")
        line_ids = base.get_column("line_id").gather(found.get_column(ROW))
        issues = found.select(line_ids.alias("line_id"), "measure_id", "code", "message")
    keyed_dim = run.dim.select("_mineral", "_stage")
    no_code = pl.DataFrame({"_mineral": [None], "_stage": [None]}, schema=keyed_dim.schema)
    # one contiguous piece: gathering millions of rows from a two-piece frame costs several times more
    per_line = keyed_dim.vstack(no_code).rechunk()[run.ctx.hts_key]
    lines = (
        base.select(
            "line_id", "entry_date", pl.col(DATE).alias("eval_date"), "hts", "country_origin", "supplier"
        )
        .hstack(per_line.select(pl.col("_mineral").alias("mineral_id"), pl.col("_stage").alias("stage")))
        .hstack(base.select("customs_value_usd", "liquidation_date"))
        .hstack(run.emitter.totals.frame(content))
    )
    fill = pl.concat(run.fills, how="vertical") if run.fills else empty_fill()
    notes = result_notes(measure_set, base)
    if state.plan.needs_classification and state.refs.classify is None:
        notes.append(
            "The PCMDP scope map (critmin.refdata.scope) is not available: measures selecting products by "
            "mineral or stage matched no line."
        )
    return DutyResult(
        measure_set,
        as_of,
        content,
        run.emitter.emissions,
        state.schema,
        lines,
        issues,
        fill,
        notes,
        dict(state.datasets),
        dict(state.floor_tables),
    )


def _value_base(measure: Measure, content: ContentExprs | None, claimed: bool) -> tuple[PerCase, str]:
    """The measure's value basis per case, less the value charged by measures it does not stack on
    (columns ``_claimed_<case>``)."""
    v = pl.col("customs_value_usd")
    if measure.basis is Basis.content_value:
        assert content is not None
        raw = content.value
        why = (
            "needs the value of the content: give content_value_usd (or content_kg), or a content factor "
            "must exist"
        )
    elif measure.basis is Basis.non_content_value:
        assert content is not None
        raw = {c: (v - content.value[c]).clip(lower_bound=0.0) for c in CASES}
        why = (
            "needs the content value to split off the rest: give content_value_usd, or a content factor "
            "must exist"
        )
    else:
        raw = dict.fromkeys(CASES, v)
        why = "needs the customs value"
    if not claimed:
        return raw, why
    return {c: (raw[c] - pl.col(f"_claimed_{c}")).clip(lower_bound=0.0) for c in CASES}, why


def _charge(measure: Measure, index: int, bases: Bases, rate: object) -> Charge:
    return mechanisms.charge(measure, index, bases, rate)


def _parts(
    m: Measure, rows: np.ndarray, dim: pl.DataFrame, ctx: LineContext
) -> list[tuple[np.ndarray, bool]]:
    """Split a schedule measure's rows into plain ad valorem/free codes (fast path) and the rest."""
    rate = m.rate
    if isinstance(rate, ScheduleRate) and rate.column != "special" and m.quota is None:
        p = "g" if rate.column == "general" else "c2"
        simple = dim_mask(dim.get_column(f"{p}_simple"))[ctx.take(ctx.hts_key, rows)]
        if simple.all():
            return [(rows, True)]
        return [(rows[simple], True), (rows[~simple], False)]
    return [(rows, False)]


def _line_columns(m: Measure, fast: bool) -> list[str]:
    """Ledger columns a measure's mechanism reads (fewer columns gathered = faster on big batches)."""
    cols = [ROW, "customs_value_usd"]
    if fast:
        return cols
    if m.rate is not None:
        cols += mechanism_of(m.rate).line_columns
    if m.quota is not None:  # quantities, units, volumes
        cols += ["quantity_kg", "quantity", "unit"]
    if m.content is not None:
        cols += ["quantity_kg", "content_mineral", "content_kg", "content_value_usd"]
    if isinstance(m.rate, ScheduleRate) and m.rate.column == "special":
        cols += ["hts", "preference_program"]
    if m.quota is not None:
        name, _ = country_column(m.origin.country_field, m.origin.fallback_to_origin)
        cols += [DATE, "entry_date", name]
    return list(dict.fromkeys(cols))


def _quota_tranches(
    measure: Measure, index: int, bases: Bases, filled: QuotaFill, applies: pl.Expr
) -> list[tuple[str | None, Charge, pl.Expr | None]]:
    quota = measure.quota
    assert quota is not None
    share_in = filled.share_in
    share_over = {c: 1.0 - share_in[c] for c in CASES}
    inside = _charge(measure, index, bases, quota.in_quota).scaled(share_in)
    in_present = applies & (share_in["central"].is_null() | (share_in["central"] > 0))
    over_present = applies & (share_in["central"] < 1)
    tranches: list[tuple[str | None, Charge, pl.Expr | None]] = [("in_quota", inside, in_present)]
    if quota.hard_cap:
        v = pl.col("customs_value_usd")
        lost = Charge(
            basis="customs_value",
            base={c: v * share_over[c] for c in CASES},
            rate=dict.fromkeys(CASES, pl.lit(None, dtype=pl.Float64)),
            amount=dict.fromkeys(CASES, pl.lit(0.0)),
        )
        tranches.append(("unavailable", lost, over_present))
        return tranches
    assert quota.over_quota is not None
    tranches.append(
        ("over_quota", _charge(measure, index, bases, quota.over_quota).scaled(share_over), over_present)
    )
    return tranches


__all__ = ["ContentCase", "DutyResult", "LedgerInput", "as_measure_set", "evaluate", "shipped_references"]
