"""Does a measure reach a line? Product, origin, date window and preference claim.

Product scope is a Polars expression over the distinct HTS codes (the dimension frame, with the codes'
minerals and stages); the rest are NumPy masks over the batch's lines built from integer keys (see
:mod:`critmin.duty.context`). Each test is separate so ``explain`` can say which one failed for a line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from critmin.duty.context import NO_DAY, LineContext, day_number
from critmin.duty.lines import PROGRAM, country_column, prefix_match
from critmin.duty.references import References
from critmin.policy.models import Claim, Measure, MetalWeightGate, OriginScope, ProgrammeOrigin, UsContentGate


def product_column(index: int) -> str:
    return f"_prod_{index}"


def product_mask(measure: Measure, refs: References) -> pl.Expr:
    """On the HTS dimension (columns ``hts``, ``_minerals``, ``_stages``): is the code in scope?"""
    scope = measure.products
    hts = pl.col("hts")
    if scope.hts_restricted:
        include = list(scope.hts)
        for ref in scope.hts_lists:
            include.extend(refs.hts_prefixes(ref))
        ok = prefix_match(hts, include)
    else:
        ok = hts.is_not_null()
    exclude = list(scope.exclude_hts)
    for ref in scope.exclude_hts_lists:
        exclude.extend(refs.hts_prefixes(ref))
    if exclude:
        ok = ok & ~prefix_match(hts, exclude)
    if scope.minerals is not None:
        wanted = scope.minerals
        ok = ok & pl.col("_minerals").list.eval(pl.element().is_in(wanted)).list.any().fill_null(False)
    if scope.stages is not None:
        stages = list(scope.stages)
        ok = ok & pl.col("_stages").list.eval(pl.element().is_in(stages)).list.any().fill_null(False)
    if scope.classified:
        ok = ok & (pl.col("_minerals").list.len() > 0).fill_null(False)
    return ok.fill_null(False)


def needs_classification(measures: tuple[Measure, ...]) -> bool:
    def uses(m: Measure) -> bool:
        s = m.products
        content_classified = m.content is not None and m.content.minerals == "classified"
        floor = m.rate is not None and m.rate.kind == "price_floor"
        return bool(
            s.minerals is not None or s.stages is not None or s.classified or content_classified or floor
        )

    return any(uses(m) for m in measures)


# Each mask below is evaluated on the candidate rows ``rows`` only (row numbers into the batch).


def membership(
    countries: Sequence[str],
    groups: Sequence[str],
    column: str,
    frame: pl.DataFrame,
    ctx: LineContext,
    rows: np.ndarray,
) -> np.ndarray:
    key = ctx.country(column, frame)
    out = (
        key.lookup_table(set(countries))[ctx.take(key.key, rows)]
        if countries
        else np.zeros(rows.size, dtype=bool)
    )
    for group in groups:
        out = out | ctx.take(ctx.group_flag(column, group, frame), rows)
    return out


def origin_mask(scope: OriginScope, frame: pl.DataFrame, ctx: LineContext, rows: np.ndarray) -> np.ndarray:
    name, _ = country_column(scope.country_field, scope.fallback_to_origin)
    key = ctx.country(name, frame)
    present = np.ones(rows.size, dtype=bool) if key.complete else ctx.take(key.key, rows) >= 0
    included = (
        present
        if scope.covers_all
        else present & membership(scope.countries, scope.groups, name, frame, ctx, rows)
    )
    if scope.exclude_countries or scope.exclude_groups:
        included = included & ~membership(
            scope.exclude_countries, scope.exclude_groups, name, frame, ctx, rows
        )
    return included


def programme_origin_mask(
    eligible: ProgrammeOrigin, frame: pl.DataFrame, ctx: LineContext, rows: np.ndarray
) -> np.ndarray:
    if not eligible.countries and not eligible.groups:
        return np.ones(rows.size, dtype=bool)
    return membership(eligible.countries, eligible.groups, "country_origin", frame, ctx, rows)


def window_misses_batch(measure: Measure, ctx: LineContext) -> bool:
    """True when no line of the batch is dated inside the measure's window (the measure can be skipped
    before any per-line work: a library of many dated measures costs only the ones in reach)."""
    first, last, _ = ctx.day_span
    if last < first:
        return True  # no line has a date
    start = day_number(measure.effective_from) if measure.effective_from is not None else None
    end = day_number(measure.effective_until) if measure.effective_until is not None else None
    return (start is not None and last < start) or (end is not None and first > end)


def window_mask(measure: Measure, ctx: LineContext, rows: np.ndarray) -> np.ndarray:
    first, last, all_dated = ctx.day_span
    start = day_number(measure.effective_from) if measure.effective_from is not None else None
    end = day_number(measure.effective_until) if measure.effective_until is not None else None
    if all_dated and (start is None or first >= start) and (end is None or last <= end):
        return np.ones(rows.size, dtype=bool)  # the window holds the whole batch: no per-line test
    days = ctx.take(ctx.days, rows)
    ok = days != NO_DAY
    if start is not None:
        ok &= days >= start
    if end is not None:
        ok &= days <= end
    return ok


def claim_mask(measure: Measure, frame: pl.DataFrame, ctx: LineContext, rows: np.ndarray) -> np.ndarray:
    """True where no claim is needed, or the line claims a listed programme from an eligible origin."""
    if measure.claim is None:
        return np.ones(rows.size, dtype=bool)
    return claimed_mask(measure.claim, frame, ctx, rows)


def exemption_mask(measure: Measure, frame: pl.DataFrame, ctx: LineContext, rows: np.ndarray) -> np.ndarray:
    """True where the line is not exempted by a claimed programme (``exempt_if_claimed``)."""
    if measure.exempt_if_claimed is None:
        return np.ones(rows.size, dtype=bool)
    return ~claimed_mask(measure.exempt_if_claimed, frame, ctx, rows)


def claimed_mask(claim: Claim, frame: pl.DataFrame, ctx: LineContext, rows: np.ndarray) -> np.ndarray:
    """True where the line claims one of ``claim``'s programmes from an origin eligible for it."""
    program = ctx.country(PROGRAM, frame)
    codes = {code.upper(): i for i, code in enumerate(claim.programmes)}
    table = np.full(len(program.names) + 1, -1, dtype=np.int16)  # last slot: no claim
    for k, name in enumerate(program.names):
        table[k] = codes.get(name, -1)
    which = table[ctx.take(program.key, rows)]
    out = np.zeros(rows.size, dtype=bool)
    claimed = np.flatnonzero(which >= 0)  # most lines claim nothing: test eligibility on the rest only
    if claimed.size == 0:
        return out
    programmes = list(claim.programmes.values())
    origin = ctx.country("country_origin", frame)
    # eligibility by listed country: one (programme x country) table, one lookup for every claimed row
    listed = np.zeros((len(programmes), len(origin.names) + 1), dtype=bool)
    for i, eligible in enumerate(programmes):
        if not eligible.countries and not eligible.groups:
            listed[i, :-1] = True
        for k, name in enumerate(origin.names):
            if name in eligible.countries:
                listed[i, k] = True
    at_rows = rows[claimed]
    claimed_which = which[claimed]
    ok = listed[claimed_which, origin.key[at_rows]]
    # eligibility by dated group membership, for the programmes that name groups
    for i, eligible in enumerate(programmes):
        if eligible.groups:
            mine = np.flatnonzero(claimed_which == i)
            if mine.size:
                member = np.zeros(mine.size, dtype=bool)
                for group in eligible.groups:
                    member |= ctx.group_flag("country_origin", group, frame)[at_rows[mine]]
                ok[mine] |= member
    out[claimed] = ok
    return out


def _gather(frame: pl.DataFrame, column: str, rows: np.ndarray, ctx: LineContext) -> pl.Series:
    series = frame.get_column(column)
    return series if rows is ctx.all_rows else series.gather(pl.Series(rows.astype(np.uint32)))


def metal_weight_share(
    gate: MetalWeightGate, frame: pl.DataFrame, ctx: LineContext, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: is the gate tested at all (the code is outside ``except_chapters``), and the metal's share
    of the line's weight where the line states it (NaN where it does not)."""
    lines = pl.DataFrame(
        [_gather(frame, c, rows, ctx) for c in ("hts", "content_mineral", "content_kg", "quantity_kg")]
    )
    chapters = pl.Series(gate.except_chapters, dtype=pl.String).implode()
    minerals = pl.Series(gate.minerals, dtype=pl.String).implode()
    out = lines.select(
        (~pl.col("hts").str.slice(0, 2).is_in(chapters)).fill_null(True).alias("tested"),
        pl.when(pl.col("content_mineral").is_in(minerals) & (pl.col("quantity_kg") > 0))
        .then(pl.col("content_kg") / pl.col("quantity_kg"))
        .fill_null(float("nan"))
        .alias("share"),
    )
    return out.get_column("tested").to_numpy(), out.get_column("share").to_numpy()


def weight_gate(
    gate: MetalWeightGate, frame: pl.DataFrame, ctx: LineContext, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: is the line covered (False where it states a metal share of weight below the gate's
    minimum outside the listed chapters), and is it covered only because it states no share (see
    :class:`MetalWeightGate`)."""
    tested, share = metal_weight_share(gate, frame, ctx, rows)
    stated = ~np.isnan(share)
    below = tested & stated & (share < gate.min_share - 1e-12)
    return ~below, tested & ~stated


def us_content_mask(
    gate: UsContentGate | None, frame: pl.DataFrame, ctx: LineContext, rows: np.ndarray
) -> np.ndarray:
    """The tier by U.S. metal content: ``at_least`` needs a stated share at or above it; ``below`` takes
    lines under it and lines that state none (the standard tier is the default)."""
    if gate is None:
        return np.ones(rows.size, dtype=bool)
    share = _gather(frame, "us_metal_content_share", rows, ctx).fill_null(float("nan")).to_numpy()
    if gate.at_least is not None:
        return ~np.isnan(share) & (share >= gate.at_least - 1e-12)
    assert gate.below is not None
    return np.isnan(share) | (share < gate.below - 1e-12)


def country_columns(measures: tuple[Measure, ...]) -> dict[str, pl.Expr]:
    """Derived country columns (e.g. smelt/cast country falling back to origin) the masks refer to."""
    out: dict[str, pl.Expr] = {}
    for m in measures:
        name, expr = country_column(m.origin.country_field, m.origin.fallback_to_origin)
        if name not in {"country_origin", "country_export", "country_smelt_cast"}:
            out[name] = expr
    return out
