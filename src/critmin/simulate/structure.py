"""The per-line structure of a variant's duty, read from the duty engine's own result.

The engine runs once per variant (a scenario at fixed parameter values) on the placed lines. Every
component it returns (line x measure) is sorted into one of three kinds, each kept with what the simulation
needs to recompute it exactly under other prices, volumes and parameter values:

``linear``  ad valorem, specific, compound and schedule rates: the value part (``rate x base``) scales with
            the line's price and volume, the quantity part with its volume only. When a drawn parameter sets
            the rate, the coefficient is the base and the rate comes from the draw.
``floor``   price floors (variable levy, minimum import price, price undertaking all cost
            ``max(0, F x q - value)``): the kg ``q``, the value and which reference-price entry (and so which
            parameter) gives ``F``.
``backstop`` a minimum import price behind an ad valorem part, ``max(a x base, F x q - customs)``, is
            ``a x base`` (linear) plus ``max(0, F x q - (customs + a x base))`` (a floor on a shifted value);
            ``a x base`` comes from the engine run again on those lines with the ad valorem part alone.
``quota``   tariff-rate and hard quotas: each line's full value base and quantity bases, its volume, its
            allocation and period. The fill itself is redone per draw, in entry-date order.

Bases of quota lines come from *probe* measures added to the run: copies of the quota measure with a zero
rate that charge nothing and take nothing from any other measure's basis (a zero ad valorem rate claims no
value), so the other measures' results are unchanged and the probe's ``base_amount`` is the quota measure's
full basis on the line. Everything here is line-local, so lines added later (a switched supplier) can be run
on their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from critmin.duty.classification import classify_codes
from critmin.duty.engine import evaluate, shipped_references
from critmin.duty.floors import floor_table, reference_price_expr
from critmin.duty.lines import DATE, country_column, flag_column
from critmin.duty.mechanisms import mechanism_of
from critmin.duty.quotas import bucket_expr, period_expr
from critmin.errors import InputError
from critmin.policy.loader import MeasureSet, not_on_targets
from critmin.policy.models import (
    VALUE_BASES,
    AdValorem,
    Basis,
    Citation,
    Compound,
    LegalStatus,
    Measure,
    MinimumPriceBackstop,
    PriceFloor,
    ReferencePrice,
    Specific,
    Stacking,
)
from critmin.simulate.cells import Placed
from critmin.simulate.plan import MeasureDrivers, Variant

PROBE_PREFIX = "zz_simulation_probe_"
Number = float | str  # a fixed value, or the name of the drawn parameter that sets it


@dataclass(frozen=True)
class TrancheRate:
    """One quota tranche's rate: ad valorem part, specific part and the quantity basis key of the latter."""

    av: Number | None
    sp: Number | None
    qty_key: str | None


@dataclass(frozen=True)
class CapSpec:
    """An allocation's size: ``volume`` (x ``share`` when the allocation is a share of the quota)."""

    volume: Number
    share: Number | None


@dataclass(frozen=True)
class QuotaSpec:
    measure_id: str
    unit: str
    hard_cap: bool
    caps: dict[str, CapSpec]
    inside: TrancheRate
    over: TrancheRate | None


@dataclass
class VariantRows:
    """Line-local rows of one variant's duty (``line`` is the row of the placed frame)."""

    variant: Variant
    linear: pl.DataFrame  # line, measure_id, driver, part (val|qty), coef, payer
    floors: pl.DataFrame  # line, measure_id, driver, ref, q, value, payer
    quotas: pl.DataFrame  # line, measure_id, bucket, period, vol, valbase, qb_in, qb_over, customs
    quota_specs: dict[str, QuotaSpec] = field(default_factory=dict)
    missing: int = 0  # components the engine could not compute (missing inputs): they count as zero
    applied: tuple[str, ...] = ()  # measures that applied to at least one line
    datasets: dict[str, dict[str, str]] = field(default_factory=dict)  # reference data the engine used


LINEAR_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.Int64(),
    "measure_id": pl.String(),
    "driver": pl.String(),
    "part": pl.String(),
    "coef": pl.Float64(),
    "payer": pl.String(),
}
FLOOR_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.Int64(),
    "measure_id": pl.String(),
    "driver": pl.String(),
    "ref": pl.Float64(),
    "q": pl.Float64(),
    "value": pl.Float64(),
    "payer": pl.String(),
}
QUOTA_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.Int64(),
    "measure_id": pl.String(),
    "bucket": pl.String(),
    "period": pl.String(),
    "vol": pl.Float64(),
    "valbase": pl.Float64(),
    "qb_in": pl.Float64(),
    "qb_over": pl.Float64(),
    "customs": pl.Float64(),
}

_PROBE_CITATION = Citation(
    document="critmin simulation: measurement copy of a quota measure (charges nothing)",
    date=dt.date(2026, 1, 1),
    url="https://hts.usitc.gov/",
)


def classify_minerals(placed: Placed) -> pl.DataFrame:
    """Each line's main mineral and stage, as the engine classifies them (the same function)."""
    return classify_codes(placed.frame.select("hts")).select("mineral_id", "stage")


def _simulated_as(m: Measure) -> str:
    """How the simulation moves a measure's amount: ``quota`` (refilled per draw), ``floor`` (recomputed
    against the drawn reference prices) or ``linear`` (scaled by its drawn rates), as its mechanism says."""
    if m.quota is not None:
        return "quota"
    assert m.rate is not None
    return mechanism_of(m.rate).simulate_as


def _engine_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in {"source_line_id", "weight", "month"}]


def variant_rows(placed: Placed, minerals: pl.DataFrame, variant: Variant, lines: np.ndarray) -> VariantRows:
    """Run the engine for ``variant`` on the placed lines ``lines`` (row numbers) and sort its components."""
    frame = placed.frame[lines]
    active = [m for m in variant.measure_set.measures if m.status is not LegalStatus.suspended]
    probes, probe_keys = _quota_probes(active)
    measure_set = variant.measure_set
    if probes:
        measure_set = MeasureSet(
            measure_set.id,
            measure_set.title,
            measure_set.description,
            (*measure_set.measures, *probes),
            measure_set.parameters,
            measure_set.sources,
            measure_set.located,
        )
    if frame.is_empty():
        return _empty(variant)
    result = evaluate(frame.select(_engine_columns(frame)), measure_set)
    comps = result.components.select(
        pl.col("line_id").cast(pl.Int64).alias("line"),
        pl.col("measure_id").cast(pl.String),
        "base_amount",
        "rate",
        pl.col("rate_unit").cast(pl.String),
        "quantity",
        "amount",
        pl.col("payer").cast(pl.String),
        "refund_eligible",
        pl.col("tranche").cast(pl.String),
        "reference_price",
    ).filter(~pl.col("refund_eligible"))
    by_id = {m.id: m for m in active}
    kinds = {m.id: _simulated_as(m) for m in active}
    kind = pl.col("measure_id").replace_strict(kinds, default="probe", return_dtype=pl.String)
    comps = comps.with_columns(kind.alias("_kind"))
    counted = comps.filter((pl.col("_kind") != "probe") & (pl.col("tranche").fill_null("") != "unavailable"))
    missing = counted.filter(pl.col("amount").is_null()).height
    linear = _linear(comps.filter(pl.col("_kind") == "linear"), variant.drivers)
    floors = _floors(comps.filter(pl.col("_kind") == "floor"), by_id, variant.drivers, placed, minerals)
    backstops = comps.filter((pl.col("_kind") == "backstop") & pl.col("amount").is_not_null())
    if not backstops.is_empty():
        extra_linear, extra_floors = _backstops(backstops, by_id, variant.measure_set, placed)
        linear, floors = pl.concat([linear, extra_linear]), pl.concat([floors, extra_floors])
    quotas, specs = _quotas(comps, by_id, variant.drivers, probe_keys, placed)
    applied = tuple(sorted(set(counted.get_column("measure_id").to_list())))
    return VariantRows(variant, linear, floors, quotas, specs, missing, applied, dict(result.datasets))


def _empty(variant: Variant) -> VariantRows:
    return VariantRows(
        variant,
        pl.DataFrame(schema=LINEAR_SCHEMA),
        pl.DataFrame(schema=FLOOR_SCHEMA),
        pl.DataFrame(schema=QUOTA_SCHEMA),
    )


# ---------------------------------------------------------------------------------------------------------
# linear components


def _linear(comps: pl.DataFrame, drivers: dict[str, MeasureDrivers]) -> pl.DataFrame:
    comps = comps.filter(pl.col("amount").is_not_null())
    av = {k: d.av for k, d in drivers.items() if d.av}
    sp = {k: d.sp for k, d in drivers.items() if d.sp}
    frac = pl.col("rate_unit") == "fraction"
    value_part = pl.when(frac).then(pl.col("rate") * pl.col("base_amount")).otherwise(0.0)
    av_driver = pl.col("measure_id").replace_strict(av, default=None, return_dtype=pl.String)
    sp_driver = pl.col("measure_id").replace_strict(sp, default=None, return_dtype=pl.String)
    val = comps.filter(frac).select(
        "line",
        "measure_id",
        av_driver.alias("driver"),
        pl.lit("val").alias("part"),
        pl.when(av_driver.is_not_null()).then(pl.col("base_amount")).otherwise(value_part).alias("coef"),
        "payer",
    )
    qty_base = pl.when(frac).then(pl.col("quantity")).otherwise(pl.col("base_amount"))
    qty = comps.select(
        "line",
        "measure_id",
        sp_driver.alias("driver"),
        pl.lit("qty").alias("part"),
        pl.when(sp_driver.is_not_null())
        .then(qty_base)
        .otherwise(pl.col("amount") - value_part)
        .alias("coef"),
        "payer",
    )
    rows = pl.concat([val, qty]).with_columns(pl.col("coef").fill_null(0.0))
    kept = rows.filter((pl.col("coef") != 0) | pl.col("driver").is_not_null())
    return kept.select([pl.col(k).cast(v) for k, v in LINEAR_SCHEMA.items()])


# ---------------------------------------------------------------------------------------------------------
# price floors


def _floors(
    comps: pl.DataFrame,
    by_id: dict[str, Measure],
    drivers: dict[str, MeasureDrivers],
    placed: Placed,
    minerals: pl.DataFrame,
) -> pl.DataFrame:
    comps = comps.filter(pl.col("amount").is_not_null() & pl.col("reference_price").is_not_null())
    parts: list[pl.DataFrame] = []
    customs = placed.frame.get_column("customs_value_usd").to_numpy()
    for measure_id in comps.get_column("measure_id").unique().sort().to_list():
        measure = by_id[measure_id]
        rate = measure.rate
        assert isinstance(rate, PriceFloor)
        rows = comps.filter(pl.col("measure_id") == measure_id)
        line = rows.get_column("line").to_numpy()
        table = floor_table(rate, shipped_references())
        entry = _floor_entries(measure, table, minerals[line])
        if np.any(entry < 0):
            raise InputError(
                f"internal: could not tell which reference price of {measure_id} applies to a line."
            )
        fixed = np.array([p.price_usd_per_kg for p in table])[entry]
        engine_ref = rows.get_column("reference_price").to_numpy()
        if not np.allclose(fixed, engine_ref, rtol=1e-12, atol=0.0):
            raise InputError(f"internal: the reference prices of {measure_id} do not match the engine's.")
        driven = drivers.get(measure_id, MeasureDrivers()).floor
        q_col = "quantity" if rate.mechanism == "minimum_import_price" else "base_amount"
        parts.append(
            pl.DataFrame(
                {
                    "line": line,
                    "measure_id": measure_id,
                    "driver": [driven.get(int(j)) for j in entry],
                    "ref": fixed,
                    "q": rows.get_column(q_col).to_numpy(),
                    "value": customs[line],
                    "payer": rows.get_column("payer").to_numpy(),
                },
                schema=FLOOR_SCHEMA,
            )
        )
    if not parts:
        return pl.DataFrame(schema=FLOOR_SCHEMA)
    out = pl.concat(parts)
    return out.filter(pl.col("q").is_not_null() & (pl.col("q") > 0) & pl.col("value").is_not_null())


def _floor_entries(measure: Measure, table: list[ReferencePrice], minerals: pl.DataFrame) -> np.ndarray:
    """Index into ``table`` (the floor's own entries, then shipped prices) of the reference price each line
    uses: the engine's own matching, run on a copy of the table whose prices are the entry numbers."""
    numbered = [p.model_copy(update={"price_usd_per_kg": float(j + 1)}) for j, p in enumerate(table)]
    frame = minerals.select(pl.col("mineral_id").alias("_mineral"), pl.col("stage").alias("_stage"))
    found = (
        frame.select(reference_price_expr(measure, numbered).alias("e"))
        .get_column("e")
        .fill_null(0.0)
        .to_numpy()
    )
    return found.astype(np.int64) - 1


# ---------------------------------------------------------------------------------------------------------
# minimum-price backstops


def _backstops(
    comps: pl.DataFrame, by_id: dict[str, Measure], measure_set: MeasureSet, placed: Placed
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Linear and floor rows of the backstop components: ``max(A, F q - C) = A + max(0, F q - (C + A))``
    with ``A = a x base`` the ad valorem part, which scales with price and volume like the customs value
    ``C``, and ``q`` with volume. ``A`` is not in the component (only the larger of the two is), so the
    engine runs once more on the backstop lines with each backstop measure's ad valorem part alone; the
    measures keep their ids, stacking and bases, so the part is the one inside the engine's maximum."""
    alone = tuple(
        m.model_copy(update={"rate": m.rate.rate})
        if m.id in by_id and isinstance(m.rate, MinimumPriceBackstop) and m.rate.rate is not None
        else m
        for m in measure_set.measures
    )
    probe_set = MeasureSet(
        measure_set.id,
        measure_set.title,
        measure_set.description,
        alone,
        measure_set.parameters,
        measure_set.sources,
        measure_set.located,
    )
    lines = comps.get_column("line").unique().sort()
    frame = placed.frame[lines.to_numpy()]
    parts = evaluate(frame.select(_engine_columns(frame)), probe_set).components.select(
        pl.col("line_id").cast(pl.Int64).alias("line"),
        pl.col("measure_id").cast(pl.String),
        pl.col("amount").alias("ad_valorem_part"),
    )
    rows = comps.join(parts, on=["line", "measure_id"], how="left").with_columns(
        pl.col("ad_valorem_part").fill_null(0.0)
    )
    customs = pl.Series(placed.frame.get_column("customs_value_usd").to_numpy()[rows.get_column("line")])
    linear = rows.filter(pl.col("ad_valorem_part") != 0).select(
        "line",
        "measure_id",
        pl.lit(None, pl.String).alias("driver"),
        pl.lit("val").alias("part"),
        pl.col("ad_valorem_part").alias("coef"),
        "payer",
    )
    floors = (
        rows.with_columns(customs.alias("_customs"))
        .filter(
            pl.col("quantity").is_not_null() & (pl.col("quantity") > 0) & pl.col("_customs").is_not_null()
        )
        .select(
            "line",
            "measure_id",
            pl.lit(None, pl.String).alias("driver"),
            pl.col("reference_price").alias("ref"),
            pl.col("quantity").alias("q"),
            (pl.col("_customs") + pl.col("ad_valorem_part")).alias("value"),
            "payer",
        )
    )
    return (
        linear.select([pl.col(k).cast(v) for k, v in LINEAR_SCHEMA.items()]),
        floors.select([pl.col(k).cast(v) for k, v in FLOOR_SCHEMA.items()]),
    )


# ---------------------------------------------------------------------------------------------------------
# quotas


def _quota_probes(active: list[Measure]) -> tuple[list[Measure], dict[str, dict[str, str]]]:
    """Zero-rate copies of each quota measure that expose its bases; returns them and, per quota measure,
    the probe id of each basis key (``value``, ``qty:<basis>:<unit>``, ``volume``)."""
    probes: list[Measure] = []
    keys: dict[str, dict[str, str]] = {}
    for measure in active:
        if measure.quota is None:
            continue
        wanted: dict[str, tuple[Basis, Any]] = {}
        if measure.basis in VALUE_BASES:
            wanted["value"] = (measure.basis, AdValorem(kind="ad_valorem", rate=0.0))
        for part in (measure.quota.in_quota, measure.quota.over_quota):
            key = _qty_key(measure, part)
            if key is not None:
                basis_name, unit = key.split(":")[1:]
                wanted[key] = (Basis(basis_name), Specific(kind="specific", amount=0.0, unit=unit))
        if measure.quota.unit == "content_kg":
            wanted["volume"] = (Basis.content_mass, Specific(kind="specific", amount=0.0, unit="kg"))
        keys[measure.id] = {}
        for key, (basis, rate) in wanted.items():
            probe_id = f"{PROBE_PREFIX}{len(probes)}"
            stacking = Stacking(
                precedence=measure.stacking.precedence, excludes=[], not_on=not_on_targets(measure, active)
            )
            probes.append(
                measure.model_copy(
                    update={
                        "id": probe_id,
                        "basis": basis,
                        "rate": rate,
                        "quota": None,
                        "stacking": stacking,
                    }
                )
            )
            keys[measure.id][key] = probe_id
    return probes, keys


def _qty_key(measure: Measure, part: Any) -> str | None:
    if isinstance(part, Specific):
        return f"qty:{measure.basis.value}:{part.unit}"
    if isinstance(part, Compound):
        return f"qty:{part.quantity_basis}:{part.unit}"
    return None


def _tranche(measure: Measure, part: Any, av_driver: str | None, sp_driver: str | None) -> TrancheRate:
    av: Number | None = None
    sp: Number | None = None
    if isinstance(part, AdValorem | Compound):
        av = av_driver or part.rate
    if isinstance(part, Specific | Compound):
        sp = sp_driver or part.amount
    return TrancheRate(av, sp, _qty_key(measure, part))


def quota_spec(measure: Measure, drivers: MeasureDrivers) -> QuotaSpec:
    quota = measure.quota
    assert quota is not None
    volume: Number = drivers.q_volume or quota.volume
    caps: dict[str, CapSpec] = {}
    if not quota.allocations:
        caps["all"] = CapSpec(volume, None)
    for j, allocation in enumerate(quota.allocations):
        driven = drivers.q_alloc.get(j)
        if allocation.volume is not None:
            caps[allocation.name] = CapSpec(driven or allocation.volume, None)
        else:
            assert allocation.share is not None
            caps[allocation.name] = CapSpec(volume, driven or allocation.share)
    inside = _tranche(measure, quota.in_quota, drivers.q_in_av, drivers.q_in_sp)
    over = (
        None if quota.hard_cap else _tranche(measure, quota.over_quota, drivers.q_over_av, drivers.q_over_sp)
    )
    return QuotaSpec(measure.id, quota.unit, quota.hard_cap, caps, inside, over)


def _quotas(
    comps: pl.DataFrame,
    by_id: dict[str, Measure],
    drivers: dict[str, MeasureDrivers],
    probe_keys: dict[str, dict[str, str]],
    placed: Placed,
) -> tuple[pl.DataFrame, dict[str, QuotaSpec]]:
    parts: list[pl.DataFrame] = []
    specs: dict[str, QuotaSpec] = {}
    frame = placed.frame
    for measure_id, keys in probe_keys.items():
        lines = comps.filter(pl.col("measure_id") == measure_id).get_column("line").unique().sort()
        if lines.is_empty():
            continue
        measure = by_id[measure_id]
        assert measure.quota is not None
        spec = quota_spec(measure, drivers.get(measure_id, MeasureDrivers()))
        specs[measure_id] = spec

        def base(key: str | None, lines: pl.Series = lines, keys: dict[str, str] = keys) -> np.ndarray:
            if key is None:
                return np.zeros(lines.len())
            got = comps.filter(pl.col("measure_id") == keys[key]).select("line", "base_amount")
            return (
                pl.DataFrame({"line": lines})
                .join(got, on="line", how="left")
                .get_column("base_amount")
                .fill_null(0.0)
                .to_numpy()
            )

        rows = frame[lines.to_numpy()]
        if measure.quota.unit == "kg":
            vol = rows.get_column("quantity_kg").to_numpy()
        elif measure.quota.unit == "usd":
            vol = rows.get_column("customs_value_usd").to_numpy()
        else:
            got = comps.filter(pl.col("measure_id") == keys["volume"]).select("line", "base_amount")
            vol = (
                pl.DataFrame({"line": lines})
                .join(got, on="line", how="left")
                .get_column("base_amount")
                .to_numpy()
            )
        assignment = _buckets(measure, rows)
        parts.append(
            pl.DataFrame(
                {
                    "line": lines.to_numpy(),
                    "measure_id": measure_id,
                    "bucket": assignment.get_column("bucket"),
                    "period": assignment.get_column("period"),
                    "vol": vol,
                    "valbase": base("value" if "value" in keys else None),
                    "qb_in": base(spec.inside.qty_key),
                    "qb_over": base(spec.over.qty_key if spec.over is not None else None),
                    "customs": rows.get_column("customs_value_usd").to_numpy(),
                },
                schema=QUOTA_SCHEMA,
            )
        )
    if not parts:
        return pl.DataFrame(schema=QUOTA_SCHEMA), specs
    # A line without a volume (no kg for a kg quota) pays nothing on the quota measure, as in the engine.
    return pl.concat(parts).filter(pl.col("vol").is_not_null()), specs


def _buckets(measure: Measure, rows: pl.DataFrame) -> pl.DataFrame:
    """Each line's allocation (the engine's rule, on the line's date) and quota period."""
    quota = measure.quota
    assert quota is not None
    name, expr = country_column(measure.origin.country_field, measure.origin.fallback_to_origin)
    frame = rows.select(
        "country_origin", "country_export", "country_smelt_cast", pl.col("entry_date").alias(DATE)
    )
    if name not in frame.columns:
        frame = frame.with_columns(expr.alias(name))
    flag = shipped_references().require_flag()
    for allocation in quota.allocations:
        for group in allocation.groups:
            column = flag_column(name, group)
            if column not in frame.columns:
                frame = flag(frame, group, country_col=name, date_col=DATE, out=column).with_columns(
                    pl.col(column).fill_null(False)
                )
    return frame.select(bucket_expr(measure).alias("bucket"), period_expr(quota.period).alias("period"))
