"""The duty engine: (ledger lines, measures, reference data) -> duty per line and measure.

:func:`evaluate` is a pure function over a Polars frame or an Arrow table: it reads no files and keeps no
state, so a distributed engine can map it over partitions of a ledger (Spark ``mapInArrow``, Dask, Ray).
The only cross-line mechanism, quota filling, takes the fill carried from earlier partitions
(``quota_opening``) and returns the fill after this one; :func:`evaluate_batches` threads it through a
sequence of batches in entry-date order.

Per measure, in stacking order (see :mod:`critmin.duty.stacking`), everything is a column expression over
all lines: scope (product x origin x window x claim, minus exclusions), basis (value, content value, rest of
value, quantity, content mass - minus portions the measure does not stack on), mechanism (rate, schedule,
price floor, quota tranche). There is no Python loop over lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal, TypeAlias

import numpy as np
import polars as pl
import pyarrow as pa

from critmin.duty import content as content_mod
from critmin.duty import mechanisms
from critmin.duty.charge import Charge, PerCase, content_dependent
from critmin.duty.content import (
    CASES,
    SOURCE_DTYPE,
    ContentExprs,
    ContentPrices,
    content_exprs,
    content_inputs,
    content_prices,
    factor_columns,
)
from critmin.duty.context import LineContext, MembershipGrid, dim_mask, eval_days, hts_keys
from critmin.duty.floors import floor_table, reference_price_column, reference_price_expr
from critmin.duty.lines import (
    DATE,
    PROGRAM,
    REQUIRED,
    ROW,
    country_column,
    flag_column,
    join_schedule,
    longest_prefix_join,
    prepare,
)
from critmin.duty.mechanisms import mechanism_of
from critmin.duty.quotas import QUOTA_FILL_SCHEMA, QuotaFill, empty_fill, fill_quota, quota_volume
from critmin.duty.rates import Bases, schedule_ad_valorem_charge
from critmin.duty.references import References
from critmin.duty.result import ISSUE_SCHEMA, DutyResult, Emission
from critmin.duty.scope import (
    claim_mask,
    country_columns,
    exemption_mask,
    needs_classification,
    origin_mask,
    product_column,
    product_mask,
    us_content_mask,
    weight_gate,
    window_mask,
    window_misses_batch,
)
from critmin.duty.stacking import claims_value, excluders, not_on_targets
from critmin.errors import InputError
from critmin.policy.currency import law_currency
from critmin.policy.loader import MeasureSet
from critmin.policy.models import (
    Authority,
    Basis,
    LegalStatus,
    Measure,
    MetalWeightGate,
    PriceFloor,
    ScheduleRate,
    Specific,
)

ContentCase = Literal["low", "central", "high"]
LedgerInput: TypeAlias = pl.DataFrame | pa.Table | pa.RecordBatch

TRANCHES = ("in_quota", "over_quota", "unavailable")
CONFIDENCE_RANK = {"exact": 3, "partial": 2, "basket": 1}


@cache
def shipped_references() -> References:
    return References.shipped()


def as_measure_set(measures: MeasureSet | Sequence[Measure]) -> MeasureSet:
    if isinstance(measures, MeasureSet):
        return measures
    return MeasureSet("custom", "Custom measures", "Measures given directly to the engine.", tuple(measures))


# ---------------------------------------------------------------------------------------------------------
# the HTS dimension


def _classification(dim: pl.DataFrame, refs: References) -> pl.DataFrame:
    """Minerals and stages per code from the PCMDP scope map (longest prefix wins in ``classify``)."""
    if refs.classify is None:
        raise InputError(
            "These measures select products by mineral or stage, which needs the PCMDP scope map "
            "(critmin.refdata.scope), and it is not available."
        )
    codes = dim.filter(pl.col("hts").is_not_null()).select(pl.col("hts"), pl.col("hts").alias("line_id"))
    rows = refs.classify(codes, hts_col="hts", id_col="line_id").filter(pl.col("mineral_id").is_not_null())
    # The line's main mineral (for totals by mineral and for floor prices): the most confident match, then
    # the largest typical content, then alphabetical, so an NdFeB magnet counts under neodymium, not boron.
    factors = refs.factors.select("hts_prefix", "mineral_id", pl.col("central").alias("__share"))
    pairs = rows.select(pl.col("line_id").alias("hts"), "mineral_id").unique()
    shares = longest_prefix_join(pairs, factors, by=["mineral_id"]).select("hts", "mineral_id", "__share")
    rank = pl.col("confidence").replace_strict(CONFIDENCE_RANK, default=0, return_dtype=pl.Int8)
    ranked = (
        rows.join(shares.rename({"hts": "line_id"}), on=["line_id", "mineral_id"], how="left")
        .with_columns(rank.alias("__rank"))
        .sort(
            ["line_id", "__rank", "__share", "mineral_id"],
            descending=[False, True, True, False],
            nulls_last=True,
        )
    )
    agg = (
        ranked.group_by("line_id", maintain_order=True)
        .agg(
            pl.col("mineral_id").first().alias("_mineral"),
            pl.col("stage").first().alias("_stage"),
            pl.col("mineral_id").unique(maintain_order=True).alias("_minerals"),
            pl.col("stage").drop_nulls().unique(maintain_order=True).alias("_stages"),
            pl.col("confidence").first().alias("_confidence"),
        )
        .rename({"line_id": "hts"})
    )
    return dim.join(agg, on="hts", how="left").with_columns(
        pl.col("_minerals").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("_stages").fill_null(pl.lit([], dtype=pl.List(pl.String))),
    )


def _empty_classification(dim: pl.DataFrame) -> pl.DataFrame:
    return dim.with_columns(
        pl.lit(None, dtype=pl.String).alias("_mineral"),
        pl.lit(None, dtype=pl.String).alias("_stage"),
        pl.lit([], dtype=pl.List(pl.String)).alias("_minerals"),
        pl.lit([], dtype=pl.List(pl.String)).alias("_stages"),
        pl.lit(None, dtype=pl.String).alias("_confidence"),
    )


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
    dim = _classification(dim, refs) if classify else _empty_classification(dim)
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


@dataclass
class _Special:
    """Special-programme rates looked up once per distinct (code, programme) pair of a measure's rows."""

    rates: pl.DataFrame  # one row per pair: s_kind, s_text, s_av, s_sp, s_sp_unit
    pair_of_row: np.ndarray  # per batch row: index into ``rates`` (-1 where not looked up)

    def available(self, rows: np.ndarray) -> np.ndarray:
        return self.rates.get_column("s_kind").is_not_null().to_numpy()[self.pair_of_row[rows]]

    def columns(self, rows: np.ndarray) -> pl.DataFrame:
        return self.rates.drop("hts", "program")[self.pair_of_row[rows]]


def _special_rates(
    dim: pl.DataFrame,
    ctx: LineContext,
    base: pl.DataFrame,
    rows: np.ndarray,
    state: _SetState,
) -> _Special:
    program = ctx.country(PROGRAM, base)
    width = len(program.names) + 1
    pair = ctx.take(ctx.hts_key, rows).astype(np.int64) * width + (ctx.take(program.key, rows) + 1)
    unique, inverse = np.unique(pair, return_inverse=True)
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
    return _Special(rates, pair_of_row)


@dataclass
class _SetState:
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
    def build(cls, measure_set: MeasureSet, refs: References) -> _SetState:
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
        schema = _component_schema(plan.measures)
        return cls(measure_set, refs, plan, prices, schema, _datasets_used(plan, refs), tables)


@dataclass
class DimensionCache:
    """Work kept between batches of one ledger (an optimisation; results are the same without it).

    One state per (measure set, references) pair, matched by identity, so the quota pass and the evaluation
    pass of a partitioned run keep their own; the last few pairs are kept.
    """

    states: list[_SetState] = field(default_factory=list)
    size: int = 4

    def state(self, measure_set: MeasureSet, refs: References) -> _SetState:
        for state in self.states:
            if state.measure_set is measure_set and state.refs is refs:
                return state
        state = _SetState.build(measure_set, refs)
        self.states = [*self.states[-(self.size - 1) :], state]
        return state


def _cached_special(pairs: pl.DataFrame, state: _SetState) -> pl.DataFrame:
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


def _cached_dimension(dim: pl.DataFrame, state: _SetState) -> pl.DataFrame:
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


# ---------------------------------------------------------------------------------------------------------
# evaluation


@dataclass
class _Emitter:
    """Component rows, issues (by row number) and line totals collected over the measures of one run."""

    headline: str
    emissions: list[Emission]
    issues: list[pl.DataFrame]
    totals: _Totals


def _enums(measures: tuple[Measure, ...]) -> tuple[pl.Enum, pl.Enum, pl.Enum]:
    ids = [m.id for m in measures]
    citations = sorted({m.citation_text for m in measures})
    units = {"fraction", "usd_per_kg"}
    for m in measures:
        rates = [m.rate] if m.rate is not None else [m.quota.in_quota, m.quota.over_quota] if m.quota else []
        for r in rates:
            if isinstance(r, Specific):
                units.add(f"usd_per_{r.unit}")
    return pl.Enum(ids), pl.Enum(citations), pl.Enum(sorted(units))


AUTHORITY_DTYPE = pl.Enum([a.value for a in Authority])
BASIS_DTYPE = pl.Enum([b.value for b in Basis])
STATUS_DTYPE = pl.Enum([s.value for s in LegalStatus])
PAYER_DTYPE = pl.Enum(["customs", "exporter"])
TRANCHE_DTYPE = pl.Enum(list(TRANCHES))


def _component_schema(measures: tuple[Measure, ...]) -> dict[str, pl.DataType]:
    measure_dtype, citation_dtype, rate_unit_dtype = _enums(measures)
    return {
        "line_id": pl.String(),
        "measure_id": measure_dtype,
        "authority": AUTHORITY_DTYPE,
        "basis": BASIS_DTYPE,
        "base_amount": pl.Float64(),
        "rate": pl.Float64(),
        "rate_unit": rate_unit_dtype,
        "specific_rate": pl.Float64(),
        "quantity": pl.Float64(),
        "amount": pl.Float64(),
        "amount_low": pl.Float64(),
        "amount_high": pl.Float64(),
        "payer": PAYER_DTYPE,
        "citation": citation_dtype,
        "status": STATUS_DTYPE,
        "refund_eligible": pl.Boolean(),
        "tranche": TRANCHE_DTYPE,
        "reference_price": pl.Float64(),
        "unit_price": pl.Float64(),
        "content_source": SOURCE_DTYPE,
        "precedence": pl.Int32(),
    }


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


def _select(frame: pl.DataFrame, columns: list[pl.Expr]) -> pl.DataFrame:
    """``frame.select(columns)``, sequentially when Polars has a single thread (as in one worker process of
    a partitioned run): there the parallel path only adds scheduling, about 40% on a typical emission."""
    if pl.thread_pool_size() == 1:
        return frame.select_seq(columns)
    return frame.select(columns)


def _emit(
    sub: pl.DataFrame,
    emitter: _Emitter,
    measure: Measure,
    charge: Charge,
    present: pl.Expr | None,
    tranche: str | None,
    content: ContentExprs | None,
    full: bool,
) -> None:
    """Build one tranche's component rows in a single pass, record issues, and add to the line totals.

    ``present`` (quota tranches) selects the rows the tranche has; ``None`` means every row of ``sub``.
    ``full`` says ``sub`` is the whole batch in row order, so totals can be added without indexing.
    """
    head = emitter.headline
    source = sub if present is None else sub.filter(present)
    if source.is_empty():
        return
    dependent = content_dependent(charge.amount)

    columns = [
        pl.col(ROW),
        charge.base[head].cast(pl.Float64).alias("base_amount"),
        charge.rate[head].cast(pl.Float64).alias("rate"),
        charge.amount[head].cast(pl.Float64).alias("amount"),
    ]
    if dependent:
        columns += [
            charge.amount["low"].cast(pl.Float64).alias("amount_low"),
            charge.amount["high"].cast(pl.Float64).alias("amount_high"),
        ]
    optional = {
        "specific_rate": charge.specific_rate,
        "quantity": charge.quantity,
        "reference_price": charge.reference_price,
        "unit_price": charge.unit_price,
    }
    columns += [expr.cast(pl.Float64).alias(name) for name, expr in optional.items() if expr is not None]
    if content is not None:
        columns.append(content.source.alias("content_source"))
    comp = _select(source, columns)
    constants = {
        "measure_id": measure.id,
        "authority": measure.authority.value,
        "basis": charge.basis,
        "rate_unit": charge.rate_unit,
        "payer": measure.payer,
        "citation": measure.citation_text,
        "status": measure.status.value,
        "refund_eligible": measure.refund_eligible,
        "tranche": tranche,
        "precedence": measure.stacking.precedence,
    }
    emitter.emissions.append(Emission(constants, comp))
    _accumulate(emitter.totals, comp, measure, tranche, dependent, head, full and present is None)
    if tranche == "unavailable":
        return
    amount = comp.get_column("amount")
    if amount.null_count():
        missing = charge.missing.fill_null("amount could not be computed")
        emitter.issues.append(
            _issue_rows(
                source.filter(amount.is_null()),
                measure.id,
                "input_missing",
                pl.format("{}: {}", pl.lit(measure.id), missing),
            )
        )
    if charge.notice is not None:
        noted = source.select(pl.col(ROW), charge.notice.alias("_notice")).filter(
            pl.col("_notice").is_not_null()
        )
        if noted.height:
            emitter.issues.append(
                _issue_rows(
                    noted,
                    measure.id,
                    "assumption",
                    pl.format("{}: {}", pl.lit(measure.id), pl.col("_notice")),
                )
            )
    if (
        content is not None
        and measure.charges
        and measure.content is not None
        and measure.content.fallback_share is not None
    ):
        assumed = (comp.get_column("content_source") == "fallback") & amount.is_not_null()
        if assumed.any():
            share = measure.content.fallback_share
            message = (
                f"{measure.id}: content value unknown (no content_value_usd/content_kg and no "
                f"content factor); {share:.0%} of the customs value was assumed. Give the content "
                "to replace the assumption."
            )
            emitter.issues.append(
                _issue_rows(comp.filter(assumed), measure.id, "content_assumed", pl.lit(message))
            )


def _issue_rows(rows: pl.DataFrame, measure_id: str, code: str, message: pl.Expr) -> pl.DataFrame:
    """Issue rows (row number, measure, code, message) for the rows of ``rows``."""
    return rows.select(
        pl.col(ROW),
        pl.lit(measure_id).alias("measure_id"),
        pl.lit(code).alias("code"),
        message.alias("message"),
    )


def _flag_unstated_weight(
    emitter: _Emitter, measure: Measure, gate: MetalWeightGate, rows: np.ndarray
) -> None:
    """Lines a weight gate keeps only because they do not state the metal's share of their weight."""
    message = (
        f"{measure.id}: outside chapters {', '.join(gate.except_chapters)} the measure covers only "
        f"goods with at least {gate.min_share:.0%} {'/'.join(gate.minerals)} by weight; the line does not "
        "state it (content_mineral with content_kg, and quantity_kg), so it is counted as covered"
    )
    frame = pl.DataFrame({ROW: rows.astype(np.uint32)})
    emitter.issues.append(_issue_rows(frame, measure.id, "weight_share_unknown", pl.lit(message)))


def _dim_columns(measure: Measure, index: int, plan: Plan, fast: bool = False) -> list[str]:
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
    state = cache.state(measure_set, refs) if cache is not None else _SetState.build(measure_set, refs)
    plan, prices = state.plan, state.prices
    # a quota pass reads no line ids (USAGE_COLUMNS)
    required = tuple(c for c in REQUIRED if c != "line_id") if fills_only else REQUIRED
    base = prepare(ledger, as_of, required)
    extra = [expr.alias(name) for name, expr in country_columns(plan.measures).items()]
    base = base.with_columns(extra)
    dim, hts_key = hts_keys(base)
    dim = _cached_dimension(dim, state)
    products = _product_masks(dim, len(plan.measures))
    if fills_only:  # a quota pass needs only the lines that a quota (or a measure excluding one) can reach
        reach = np.logical_or.reduce(products, axis=0)[hts_key]
        if not reach.all():
            base = base.filter(pl.Series(reach)).drop(ROW).with_row_index(ROW)
            hts_key = hts_key[reach]
    ctx = LineContext(base.height, hts_key, eval_days(base), {}, refs, as_of, grids=state.grids)
    n = base.height

    emitter = _Emitter(content, [], [], _Totals(base.height))
    totals = emitter.totals
    opening = quota_opening if quota_opening is not None else empty_fill()
    fills: list[pl.DataFrame] = []
    exclude_map = excluders(plan.measures)
    excluder_ids = {e for ids in exclude_map.values() for e in ids}
    referenced_by_not_on = {t for m in plan.measures for t in not_on_targets(m, plan.measures)}
    applied: dict[str, np.ndarray] = {}
    claims: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}

    for i, m in enumerate(plan.measures):
        if window_misses_batch(m, ctx):
            rows = np.empty(0, dtype=np.int64)
        else:
            rows = ctx.rows_for_codes(products[i])
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
            if not fills_only and m.charges and (covered & unstated).any():
                _flag_unstated_weight(emitter, m, m.metal_weight, rows[covered & unstated])
            rows = ctx.keep(rows, covered)
        special: _Special | None = None
        if rows.size and isinstance(m.rate, ScheduleRate) and m.rate.column == "special":
            # A preference exists only where the schedule lists the claimed programme for the code.
            special = _special_rates(dim, ctx, base, rows, state)
            rows = ctx.keep(rows, special.available(rows))
        for excluder in exclude_map[m.id]:
            if excluder in applied and rows.size:
                rows = ctx.keep(rows, ~ctx.take(applied[excluder], rows))
        if m.id in excluder_ids:
            mark = np.zeros(n, dtype=bool)
            mark[rows] = True
            applied[m.id] = mark
        if rows.size == 0 or (fills_only and m.quota is None):
            continue
        claimed_rows: list[np.ndarray] = []
        claimed_vals: dict[str, list[np.ndarray]] = {c: [] for c in CASES}
        for part, (part_rows, fast) in enumerate(_parts(m, rows, dim, ctx)):
            if part_rows.size == 0:
                continue
            tag = f"_m{i}p{part}"
            # Series gathers: a frame-level gather costs more in per-call overhead than the copy itself
            columns = _line_columns(m, fast)
            if part_rows is ctx.all_rows:
                series = [base.get_column(c) for c in columns]
            else:
                at = pl.Series(ROW, part_rows.astype(np.uint32))
                series = [at, *(base.get_column(c).gather(at) for c in columns if c != ROW)]
            wanted = _dim_columns(m, i, plan, fast)
            if wanted:
                codes = pl.Series(ctx.take(ctx.hts_key, part_rows).astype(np.uint32))
                series += [dim.get_column(c).gather(codes) for c in wanted]
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
            targets = [t for t in not_on_targets(m, plan.measures) if t in claims]
            if targets:
                for c in CASES:
                    dense = np.zeros(n)
                    for t in targets:
                        t_rows, t_vals = claims[t]
                        dense[t_rows] += t_vals[c]
                    sub = sub.with_columns(pl.Series(f"_claimed_{c}", ctx.take(dense, part_rows)))
            content_x = None
            if m.content is not None:
                prefix = f"{tag}_content_"
                for step in content_inputs(m.content, prices, prefix):
                    sub = sub.with_columns(step)
                content_x = content_exprs(m.content, plan.content_keys[m.content.key()], prefix)
            value, why = _value_base(m, content_x, bool(targets))
            bases = Bases(value=value, content=content_x, value_missing=why)
            applies = pl.lit(True)
            if m.quota is None:
                charge = schedule_ad_valorem_charge(m, bases) if fast else _charge(m, i, bases, m.rate)
                tranches: list[tuple[str | None, Charge, pl.Expr | None]] = [(None, charge, None)]
            else:
                content_mass = content_x.mass if content_x is not None else None
                sub, filled = fill_quota(sub, m, applies, quota_volume(m, content_mass), opening, tag)
                fills.append(filled.fill)
                if fills_only:
                    continue
                tranches = _quota_tranches(m, i, bases, filled, applies)
            full = part_rows is ctx.all_rows
            for tranche, charge, present in tranches:
                _emit(sub, emitter, m, charge, present, tranche, content_x, full)
            if m.id in referenced_by_not_on and claims_value(m):
                row_ids = sub.get_column(ROW).to_numpy()
                claimed = sub.select([value[c].fill_null(0.0).alias(c) for c in CASES])
                claimed_rows.append(row_ids)
                for c in CASES:
                    claimed_vals[c].append(claimed.get_column(c).to_numpy())
        if claimed_rows:
            claims[m.id] = (
                np.concatenate(claimed_rows),
                {c: np.concatenate(v) for c, v in claimed_vals.items()},
            )

    if fills_only:
        return pl.concat(fills, how="vertical") if fills else empty_fill()
    issues = pl.DataFrame(schema=ISSUE_SCHEMA)
    if emitter.issues:
        found = pl.concat(emitter.issues, how="vertical")
        line_ids = base.get_column("line_id").gather(found.get_column(ROW))
        issues = found.select(line_ids.alias("line_id"), "measure_id", "code", "message")
    keyed_dim = dim.select("_mineral", "_stage")
    no_code = pl.DataFrame({"_mineral": [None], "_stage": [None]}, schema=keyed_dim.schema)
    # one contiguous piece: gathering millions of rows from a two-piece frame costs several times more
    per_line = keyed_dim.vstack(no_code).rechunk()[ctx.hts_key]
    lines = (
        base.select(
            "line_id", "entry_date", pl.col(DATE).alias("eval_date"), "hts", "country_origin", "supplier"
        )
        .hstack(per_line.select(pl.col("_mineral").alias("mineral_id"), pl.col("_stage").alias("stage")))
        .hstack(base.select("customs_value_usd", "liquidation_date"))
        .hstack(totals.frame(content))
    )
    fill = pl.concat(fills, how="vertical") if fills else empty_fill()
    notes = _notes(measure_set, base)
    if plan.needs_classification and refs.classify is None:
        notes.append(
            "The PCMDP scope map (critmin.refdata.scope) is not available: measures selecting products by "
            "mineral or stage matched no line."
        )
    return DutyResult(
        measure_set,
        as_of,
        content,
        emitter.emissions,
        state.schema,
        lines,
        issues,
        fill,
        notes,
        dict(state.datasets),
        dict(state.floor_tables),
    )


def _product_masks(dim: pl.DataFrame, count: int) -> np.ndarray:
    """Each measure's product scope as a lookup table over the batch's codes (last slot: no code), read
    from the dimension in one conversion."""
    out = np.zeros((count, dim.height + 1), dtype=bool)
    if count and dim.height:
        scopes = dim.select([pl.col(product_column(i)).fill_null(False) for i in range(count)])
        out[:, :-1] = scopes.to_numpy().T
    return out


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


@dataclass
class _Totals:
    """Per-line sums, one array per total, added to as emissions arrive (``np.add.at``, several times
    faster than ``out[rows] += values`` on NumPy 2). Content-independent amounts go to
    ``common``; content-dependent ones to the per-case totals."""

    n: int
    sums: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, name: str, rows: np.ndarray | None, values: np.ndarray) -> None:
        """``rows`` None: ``values`` covers every line in order."""
        out = self.sums.get(name)
        if out is None:
            out = self.sums[name] = np.zeros(self.n)
        if rows is None:
            out += values
        else:
            np.add.at(out, rows, values)

    def total(self, name: str) -> np.ndarray:
        return self.sums.get(name, np.zeros(self.n))

    def frame(self, content: str) -> pl.DataFrame:
        common = self.total("common")
        return pl.DataFrame(
            {
                "duty": common + self.total(content),
                "duty_low": common + self.total("low"),
                "duty_high": common + self.total("high"),
                "paid_to_exporter": self.total("exporter"),
                "refund_eligible": self.total("refund"),
                "unavailable_value": self.total("unavailable"),
                "issues": self.total("issues").astype(np.uint32),
            }
        )


def _accumulate(
    totals: _Totals,
    comp: pl.DataFrame,
    measure: Measure,
    tranche: str | None,
    dependent: bool,
    content: str,
    full: bool,
) -> None:
    """Add one emission's amounts to the line totals (``full``: the rows are 0..n-1 in order)."""
    rows = None if full else comp.get_column("_row").to_numpy()

    def add(name: str, column: str) -> None:
        values = comp.get_column(column)
        if values.null_count():
            values = values.fill_null(0.0)
        totals.add(name, rows, values.to_numpy())

    if tranche == "unavailable":
        add("unavailable", "base_amount")
        return
    head = comp.get_column("amount")
    if head.null_count():
        totals.add("issues", rows, head.is_null().to_numpy().astype(np.float64))
    if measure.payer == "exporter":
        add("exporter", "amount")
    elif measure.refund_eligible:
        add("refund", "amount")
    elif not dependent:
        add("common", "amount")
    else:
        cases = {"low": "amount_low", "high": "amount_high", content: "amount"}
        for case in CASES:
            add(case, cases[case])


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


def _notes(measure_set: MeasureSet, frame: pl.DataFrame) -> list[str]:
    notes: list[str] = []
    if frame.is_empty():
        return notes
    first, last = frame.select(pl.col(DATE).min().alias("a"), pl.col(DATE).max().alias("b")).row(0)
    if first is None:
        return notes
    law = law_currency()
    if law.after_as_of(last):
        notes.append(
            f"lines are evaluated up to {last}, after {law.as_of}, the day the library's law was last "
            "reviewed: "
            "measures taken since then are not in it (critmin policy currency)."
        )
    for m in measure_set.measures:
        if m.status is LegalStatus.suspended:
            continue
        if m.status in {LegalStatus.scenario, LegalStatus.proposed}:
            outside = (m.effective_from is not None and last < m.effective_from) or (
                m.effective_until is not None and first > m.effective_until
            )
            if outside:
                notes.append(
                    f"{m.id} applies {m.window_text()}, but the lines are dated {first} .. {last}; "
                    "re-date them with --as-of to see its effect."
                )
    return notes


def _datasets_used(plan: Plan, refs: References) -> dict[str, dict[str, str]]:
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


def evaluate_batches(
    batches: Iterable[LedgerInput],
    measures: MeasureSet | Sequence[Measure],
    *,
    as_of: date | None = None,
    content: ContentCase = "central",
    refs: References | None = None,
) -> Iterator[DutyResult]:
    """Map :func:`evaluate` over batches, carrying quota fill from one batch to the next.

    Batches must come in entry-date order when the measures include quotas (a quota is filled in date
    order across the whole ledger); a batch that starts before the previous one ended is refused.
    """
    measure_set = as_measure_set(measures)
    refs = refs or shipped_references()
    has_quota = any(m.quota is not None for m in measure_set.measures)
    opening: pl.DataFrame | None = None
    last: date | None = None
    cache = DimensionCache()
    for batch in batches:
        result = evaluate(
            batch, measure_set, as_of=as_of, content=content, refs=refs, quota_opening=opening, cache=cache
        )
        if has_quota and as_of is None and not result.lines.is_empty():
            first_date, last_date = result.lines.select(
                pl.col("eval_date").min().alias("a"), pl.col("eval_date").max().alias("b")
            ).row(0)
            if last is not None and first_date is not None and first_date < last:
                raise InputError(
                    f"Batches are not in entry-date order (a batch starts on {first_date}, the previous one "
                    f"ended on {last}); quotas fill in date order across the ledger, so sort the ledger by "
                    "entry_date "
                    "before splitting it."
                )
            last = last_date or last
        opening = result.quota_fill
        yield result
        del result  # let the caller's copy be the only one while the next batch is evaluated


def quota_usage(
    ledger: LedgerInput,
    measures: MeasureSet | Sequence[Measure],
    *,
    as_of: date | None = None,
    refs: References | None = None,
    cache: DimensionCache | None = None,
) -> pl.DataFrame:
    """What one partition draws on each quota (``QUOTA_FILL_SCHEMA``; ``used`` = this partition's volume).

    Step one of evaluating a ledger's partitions in parallel when the measures include quotas: map this
    over the partitions, give :func:`quota_openings` the results in entry-date order, then map
    :func:`evaluate` with each partition's opening. Only the quota measures and the measures that can
    exclude them (transitively) are evaluated here, so the step costs a fraction of a full evaluation; the
    outcome equals filling the partitions one after another. It reads only the ledger columns in
    ``critmin.duty.USAGE_COLUMNS`` (no line ids), so a partition may be read with just those.
    """
    measure_set = as_measure_set(measures)
    refs = refs or shipped_references()
    state = cache.state(measure_set, refs) if cache is not None else None
    subset = state.quota_subset if state is not None else None
    if subset is None:
        involved = _quota_closure(measure_set.measures)
        if not involved:
            return empty_fill()
        subset = MeasureSet(
            f"{measure_set.id}:quotas",
            measure_set.title,
            "The quota measures of the set and the measures that can exclude them.",
            tuple(m for m in measure_set.measures if m.id in involved),
        )
        if state is not None:  # the same subset object each time, so it keeps its own cached state
            state.quota_subset = subset
    fill = _evaluate(ledger, subset, as_of, "central", refs, None, cache, fills_only=True)
    assert isinstance(fill, pl.DataFrame)
    return fill


def _quota_closure(measures: Sequence[Measure]) -> set[str]:
    """Ids of the quota measures and of every measure whose application can (transitively) exclude one."""
    active = [m for m in measures if m.status is not LegalStatus.suspended]
    excluded_by = excluders(active)
    involved: set[str] = set()
    pending = [m.id for m in active if m.quota is not None]
    while pending:
        current = pending.pop()
        if current not in involved:
            involved.add(current)
            pending.extend(excluded_by.get(current, []))
    return involved


def quota_openings(usages: Sequence[pl.DataFrame]) -> list[pl.DataFrame]:
    """The opening fill of each partition: everything the partitions before it (in entry-date order) drew."""
    openings: list[pl.DataFrame] = []
    drawn = empty_fill()
    for usage in usages:
        openings.append(drawn)
        drawn = next_opening(drawn, usage)
    return openings


def next_opening(opening: pl.DataFrame, usage: pl.DataFrame) -> pl.DataFrame:
    """The opening fill of the partition after one that opened at ``opening`` and drew ``usage`` (its
    :func:`quota_usage`): lets a scheduler start each partition as soon as the usages before it are in."""
    keys = ["measure_id", "allocation", "period"]
    return (
        pl.concat([opening, usage.select(list(QUOTA_FILL_SCHEMA))], how="vertical")
        .group_by(keys, maintain_order=True)
        .agg(pl.col("volume").first(), pl.col("used").sum(), pl.col("unit").first())
        .select(list(QUOTA_FILL_SCHEMA))
        .sort(keys)
    )


__all__ = [
    "ContentCase",
    "DimensionCache",
    "DutyResult",
    "evaluate",
    "evaluate_batches",
    "next_opening",
    "quota_openings",
    "quota_usage",
]
