"""The per-HTS-code dimension of an evaluation, and the work kept between batches of one ledger.

Everything that depends only on the code (classification, schedule rates, each measure's product scope,
content factors, floor reference prices) is computed once per distinct code of the ledger, and looked up
by the lines through their code key (:mod:`critmin.duty.context`). Special-programme rates are looked up
once per distinct (code, programme) pair. A :class:`DimensionCache` keeps both across the batches of a
ledger, so each code is computed once per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from critmin.duty import content as content_mod
from critmin.duty.classification import classify_codes
from critmin.duty.content import CASES, ContentPrices, content_prices, factor_columns
from critmin.duty.context import LineContext, MembershipGrid
from critmin.duty.emit import component_schema
from critmin.duty.floors import floor_table, reference_price_column, reference_price_expr
from critmin.duty.lines import PROGRAM, join_schedule
from critmin.duty.mechanisms import mechanism_of
from critmin.duty.references import References
from critmin.duty.scope import needs_classification, product_column, product_mask
from critmin.policy.loader import MeasureSet
from critmin.policy.models import LegalStatus, Measure, PriceFloor, ScheduleRate

_INTERNAL_NAMES = {
    "mineral_id": "_mineral",
    "stage": "_stage",
    "minerals": "_minerals",
    "stages": "_stages",
    "confidence": "_confidence",
}
"""Classification columns as the dimension names them (underscored: they never clash with a ledger's)."""


@dataclass(frozen=True)
class Plan:
    """Everything about a measure set that does not depend on the ledger's rows."""

    measures: tuple[Measure, ...]
    content_keys: dict[str, int]
    needs_schedule: bool
    needs_special: bool
    needs_classification: bool


def make_plan(measure_set: MeasureSet) -> Plan:
    active = tuple(m for m in measure_set.measures if m.status is not LegalStatus.suspended)
    keys: dict[str, int] = {}
    for m in active:
        if m.content is not None and m.content.key() not in keys:
            keys[m.content.key()] = len(keys)
    schedule = any(m.rate is not None and mechanism_of(m.rate).needs_schedule(m.rate) for m in active)
    special = any(isinstance(m.rate, ScheduleRate) and m.rate.column == "special" for m in active)
    return Plan(active, keys, schedule, special, needs_classification(active))


def hts_dimension(dim: pl.DataFrame, plan: Plan, refs: References, prices: ContentPrices) -> pl.DataFrame:
    """Everything that depends only on the HTS code, once per distinct code (rows in ``dim`` order)."""
    classify = plan.needs_classification and refs.classify is not None
    dim = classify_codes(dim, refs).rename(_INTERNAL_NAMES) if classify else _empty_classification(dim)
    if plan.needs_schedule:
        dim = join_schedule(dim, refs.schedule_rates)
    for i, m in enumerate(plan.measures):
        dim = dim.with_columns(product_mask(m, refs).alias(product_column(i)))
        if isinstance(m.rate, PriceFloor):
            dim = dim.with_columns(
                reference_price_expr(m, floor_table(m.rate, refs)).alias(reference_price_column(i))
            )
    for m in plan.measures:
        if m.content is not None:
            k = plan.content_keys[m.content.key()]
            if content_mod.column(k, "mass", "low") not in dim.columns:
                dim = factor_columns(dim, m.content, k, refs, prices)
    return dim.sort("hts")  # joins above may reorder; line keys index the sorted codes


def _empty_classification(dim: pl.DataFrame) -> pl.DataFrame:
    return dim.with_columns(
        pl.lit(None, dtype=pl.String).alias("_mineral"),
        pl.lit(None, dtype=pl.String).alias("_stage"),
        pl.lit([], dtype=pl.List(pl.String)).alias("_minerals"),
        pl.lit([], dtype=pl.List(pl.String)).alias("_stages"),
        pl.lit(None, dtype=pl.String).alias("_confidence"),
    )


@dataclass
class SpecialRates:
    """Special-programme rates looked up once per distinct (code, programme) pair of a measure's rows."""

    rates: pl.DataFrame  # one row per pair: s_kind, s_text, s_av, s_sp, s_sp_unit
    pair_of_row: np.ndarray  # per batch row: index into ``rates`` (-1 where not looked up)

    def available(self, rows: np.ndarray) -> np.ndarray:
        return self.rates.get_column("s_kind").is_not_null().to_numpy()[self.pair_of_row[rows]]

    def columns(self, rows: np.ndarray) -> pl.DataFrame:
        return self.rates.drop("hts", "program")[self.pair_of_row[rows]]


def special_rates(
    dim: pl.DataFrame,
    ctx: LineContext,
    base: pl.DataFrame,
    rows: np.ndarray,
    state: SetState,
) -> SpecialRates:
    program = ctx.country(PROGRAM, base)
    width = len(program.names) + 1
    pair = ctx.take(ctx.hts_key, rows).astype(np.int64) * width + (ctx.take(program.key, rows) + 1)
    unique, inverse = _dense_unique(pair, (dim.height + 1) * width)
    names = np.array([*program.names, None], dtype=object)
    pairs = pl.DataFrame(
        {
            "hts": dim.get_column("hts").gather(unique // width),
            "program": pl.Series(names[(unique % width) - 1].tolist(), dtype=pl.String),
        }
    )
    rates = _cached_special(pairs, state)
    pair_of_row = np.full(ctx.n, -1, dtype=np.int64)
    pair_of_row[rows] = inverse.ravel()
    return SpecialRates(rates, pair_of_row)


def _dense_unique(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for keys in ``[0, size)``: a presence table instead of a
    sort, linear in the rows (keys here are code x programme pairs, a few hundred thousand at most)."""
    present = np.zeros(size, dtype=bool)
    present[keys] = True
    unique = np.flatnonzero(present)
    position = np.cumsum(present) - 1
    return unique, position[keys]


@dataclass
class SetState:
    """What one measure set under one set of references needs, whatever the lines: the plan, content
    prices, output dtypes and provenance; and, filled in as batches arrive, the per-code dimension of the
    codes seen so far, the special rates of the (code, programme) pairs seen so far, and the membership
    grids of the country groups."""

    measure_set: MeasureSet
    refs: References
    plan: Plan
    prices: ContentPrices
    schema: dict[str, pl.DataType]
    datasets: dict[str, dict[str, str]]
    floor_tables: dict[str, list[dict[str, Any]]]
    frame: pl.DataFrame | None = None
    special: pl.DataFrame | None = None
    grids: dict[str, MembershipGrid] = field(default_factory=dict)
    quota_subset: MeasureSet | None = None

    @classmethod
    def build(cls, measure_set: MeasureSet, refs: References) -> SetState:
        plan = make_plan(measure_set)
        prices = (
            content_prices(refs)
            if plan.content_keys
            else ContentPrices(
                pl.DataFrame(
                    schema={"mineral_id": pl.String, "price_usd_per_kg": pl.Float64, "price_note": pl.String}
                )
            )
        )
        tables = {
            m.id: [p.model_dump(mode="json") for p in floor_table(m.rate, refs)]
            for m in plan.measures
            if isinstance(m.rate, PriceFloor)
        }
        schema = component_schema(plan.measures)
        return cls(measure_set, refs, plan, prices, schema, datasets_used(plan, refs), tables)


@dataclass
class DimensionCache:
    """Work kept between batches of one ledger (an optimisation; results are the same without it).

    One state per (measure set, references) pair, matched by identity, so the quota pass and the evaluation
    pass of a partitioned run keep their own; the last few pairs are kept.
    """

    states: list[SetState] = field(default_factory=list)
    size: int = 4

    def state(self, measure_set: MeasureSet, refs: References) -> SetState:
        for state in self.states:
            if state.measure_set is measure_set and state.refs is refs:
                return state
        state = SetState.build(measure_set, refs)
        self.states = [*self.states[-(self.size - 1) :], state]
        return state


def _cached_special(pairs: pl.DataFrame, state: SetState) -> pl.DataFrame:
    """Special rates for distinct (hts, program) pairs, in ``pairs`` order; each pair is looked up in the
    120,000-row programme table once per run of batches rather than once per batch."""

    def resolve(new: pl.DataFrame) -> pl.DataFrame:
        joined = _join_special(new.rename({"program": "preference_program"}), state.refs)
        return joined.rename({"preference_program": "program"})

    if state.special is None:
        state.special = resolve(pairs)
    else:
        new = pairs.join(
            state.special.select("hts", "program"), on=["hts", "program"], how="anti", nulls_equal=True
        )
        if not new.is_empty():
            state.special = pl.concat([state.special, resolve(new)], how="vertical_relaxed")
    return pairs.join(
        state.special, on=["hts", "program"], how="left", nulls_equal=True, maintain_order="left"
    )


def cached_dimension(dim: pl.DataFrame, state: SetState) -> pl.DataFrame:
    """The batch's codes with their per-code columns, computing only codes no earlier batch had."""
    if state.frame is None:
        state.frame = hts_dimension(dim, state.plan, state.refs, state.prices)
        return state.frame
    new = dim.join(state.frame.select("hts"), on="hts", how="anti")
    if not new.is_empty():
        added = hts_dimension(new, state.plan, state.refs, state.prices).select(state.frame.columns)
        state.frame = pl.concat([state.frame, added], how="vertical_relaxed")
    return dim.join(state.frame, on="hts", how="left").sort("hts")


def _join_special(lines: pl.DataFrame, refs: References) -> pl.DataFrame:
    program = pl.col("preference_program").str.strip_chars().str.to_uppercase()
    keys = lines.select("hts", program.alias("program")).unique()
    rates = refs.special_rates
    exact = keys.join(rates, on=["hts", "program"], how="left")
    by8 = keys.with_columns(pl.col("hts").str.slice(0, 8).alias("__h8")).join(
        rates.rename({"hts": "__h8"}), on=["__h8", "program"], how="left"
    )
    names = [c for c in rates.columns if c not in {"hts", "program"}]
    merged = exact.join(
        by8.select("hts", "program", *[pl.col(c).alias(f"__8{c}") for c in names]),
        on=["hts", "program"],
        how="left",
        nulls_equal=True,
    )
    merged = merged.with_columns(
        [
            pl.when(pl.col("s_kind").is_null()).then(pl.col(f"__8{c}")).otherwise(pl.col(c)).alias(c)
            for c in names
        ]
    ).select("hts", "program", *names)
    return (
        lines.with_columns(program.alias("__program"))
        .join(
            merged.rename({"program": "__program"}),
            on=["hts", "__program"],
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .drop("__program")
    )


def product_masks(dim: pl.DataFrame, count: int) -> np.ndarray:
    """Each measure's product scope as a lookup table over the batch's codes (last slot: no code), read
    from the dimension in one conversion."""
    out = np.zeros((count, dim.height + 1), dtype=bool)
    if count and dim.height:
        scopes = dim.select([pl.col(product_column(i)).fill_null(False) for i in range(count)])
        out[:, :-1] = scopes.to_numpy().T
    return out


def dim_columns(measure: Measure, index: int, plan: Plan, fast: bool = False) -> list[str]:
    """Columns of the HTS dimension a measure's mechanism reads."""
    cols: list[str] = []
    rate = measure.rate
    if fast:
        assert isinstance(rate, ScheduleRate)
        return ["g_av" if rate.column == "general" else "c2_av"]
    if rate is not None:
        cols += mechanism_of(rate).dim_columns(rate, index)
    if measure.content is not None:
        k = plan.content_keys[measure.content.key()]
        cols += [content_mod.column(k, w, c) for w in ("mass", "vps", "share", "kpu") for c in CASES]
        if measure.content.minerals == "classified":
            cols.append("_minerals")
    return cols


def datasets_used(plan: Plan, refs: References) -> dict[str, dict[str, str]]:
    used: set[str] = set()
    for m in plan.measures:
        for ref in [*m.products.hts_lists, *m.products.exclude_hts_lists]:
            used.add(ref.dataset)
        if m.rate is not None:
            used |= mechanism_of(m.rate).datasets(m.rate)
        if m.origin.group_ids() or (m.claim and any(p.groups for p in m.claim.programmes.values())):
            used.add("country_groups")
        if m.content is not None:
            used.add("mineral_prices")
    if plan.needs_classification:
        used.add("pcmdp_scope")
    try:
        known = refs.vintages()
    except Exception:  # provenance is best effort: a custom loader may have no manifest
        known = {}
    return {d: known[d] for d in sorted(used) if d in known}
