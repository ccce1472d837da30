"""Emission: one measure's charge on its lines becomes component rows, issues and per-line totals.

A run collects, over its measures, the component rows (as :class:`~critmin.duty.result.Emission` pieces that
the result concatenates once), the issues (by row number) and the per-line sums; nothing here loops over
lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from critmin.duty.charge import Charge, content_dependent
from critmin.duty.content import CASES, SOURCE_DTYPE, ContentExprs
from critmin.duty.lines import DATE, ROW
from critmin.duty.result import Emission
from critmin.policy.currency import law_currency
from critmin.policy.loader import MeasureSet
from critmin.policy.models import (
    Authority,
    Basis,
    LegalStatus,
    Measure,
    MetalWeightGate,
    Specific,
)

TRANCHES = ("in_quota", "over_quota", "unavailable")


@dataclass
class Emitter:
    """Component rows, issues (by row number) and line totals collected over the measures of one run."""

    headline: str
    emissions: list[Emission]
    issues: list[pl.DataFrame]
    totals: Totals


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


def component_schema(measures: tuple[Measure, ...]) -> dict[str, pl.DataType]:
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


def _select_columns(frame: pl.DataFrame, columns: list[pl.Expr]) -> pl.DataFrame:
    """``frame.select(columns)``, sequentially when Polars has a single thread (as in one worker process of
    a partitioned run): there the parallel path only adds scheduling, about 40% on a typical emission."""
    if pl.thread_pool_size() == 1:
        return frame.select_seq(columns)
    return frame.select(columns)


def emit(
    sub: pl.DataFrame,
    emitter: Emitter,
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
    comp = _select_columns(source, columns)
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


def flag_unstated_weight(emitter: Emitter, measure: Measure, gate: MetalWeightGate, rows: np.ndarray) -> None:
    """Lines a weight gate keeps only because they do not state the metal's share of their weight."""
    message = (
        f"{measure.id}: outside chapters {', '.join(gate.except_chapters)} the measure covers only "
        f"goods with at least {gate.min_share:.0%} {'/'.join(gate.minerals)} by weight; the line does not "
        "state it (content_mineral with content_kg, and quantity_kg), so it is counted as covered"
    )
    frame = pl.DataFrame({ROW: rows.astype(np.uint32)})
    emitter.issues.append(_issue_rows(frame, measure.id, "weight_share_unknown", pl.lit(message)))


@dataclass
class Totals:
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
    totals: Totals,
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


def result_notes(measure_set: MeasureSet, frame: pl.DataFrame) -> list[str]:
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
