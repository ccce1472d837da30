"""The computation of one line, in order and in words: what applied, on what basis, at what rate, why.

The ledger is evaluated as a whole (a quota's fill depends on earlier entries), then the line's components
are listed in computation order with their citations, followed by the measures that did not apply and the
first test each failed (product, date window, origin, preference claim, exclusion by another measure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from critmin.duty.content import ContentPrices, content_prices
from critmin.duty.context import LineContext, eval_days, hts_keys
from critmin.duty.dimension import hts_dimension, make_plan
from critmin.duty.engine import ContentCase, as_measure_set, evaluate, shipped_references
from critmin.duty.lines import prepare
from critmin.duty.references import References
from critmin.duty.result import DutyResult
from critmin.duty.scope import (
    claim_mask,
    country_columns,
    origin_mask,
    product_column,
    product_mask,
    window_mask,
)
from critmin.duty.stacking import excluders
from critmin.errors import InputError
from critmin.policy.currency import law_currency
from critmin.policy.loader import MeasureSet
from critmin.policy.models import LegalStatus, Measure


@dataclass
class Step:
    measure_id: str
    title: str
    authority: str
    basis: str
    base_amount: float | None
    rate: float | None
    rate_unit: str
    specific_rate: float | None
    quantity: float | None
    amount: float | None
    amount_low: float | None
    amount_high: float | None
    payer: str
    status: str
    refund_eligible: bool
    tranche: str | None
    reference_price: float | None
    unit_price: float | None
    content_source: str | None
    citation: str


@dataclass
class Explanation:
    line: dict[str, Any]
    scenario: str
    scenario_title: str
    as_of: date | None
    steps: list[Step]
    not_applied: list[dict[str, str]]
    totals: dict[str, float]
    issues: list[str]
    parameters: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "scenario": self.scenario,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "steps": [s.__dict__ for s in self.steps],
            "not_applied": self.not_applied,
            "totals": self.totals,
            "issues": self.issues,
            "parameters": self.parameters,
            "law": law_currency().as_dict(),
        }

    def text(self) -> str:
        return render(self)


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _rate_text(step: Step) -> str:
    if step.rate is None:
        return "—"
    if step.rate_unit == "fraction":
        text = f"{step.rate * 100:.4g}%"
    else:
        text = f"${step.rate:,.4g} per {step.rate_unit.removeprefix('usd_per_')}"
    if step.specific_rate is not None and step.quantity is not None:
        text += f" + ${step.specific_rate:,.4g} x {step.quantity:,.4g}"
    return text


def _base_text(step: Step) -> str:
    if step.base_amount is None:
        return "unknown"
    if step.basis in {"quantity", "content_mass"}:
        return f"{step.base_amount:,.4g} kg" + (" of content" if step.basis == "content_mass" else "")
    label = {
        "customs_value": "customs value",
        "content_value": "content value",
        "non_content_value": "value other than the content",
    }.get(step.basis, step.basis)
    return f"{_money(step.base_amount)} {label}"


def render(exp: Explanation) -> str:
    line = exp.line
    out: list[str] = []
    dated = f"entered {line['entry_date']}"
    if exp.as_of is not None:
        dated += f", evaluated as if entered {exp.as_of.isoformat()}"
    mineral = line.get("mineral_id") or "not a mapped critical-mineral product"
    stage = f", {line['stage']}" if line.get("stage") else ""
    out.append(f"Line {line['line_id']}: HTS {line['hts']} from {line['country_origin']}, {dated}")
    out.append(
        f"  mineral: {mineral}{stage}; customs value {_money(line['customs_value_usd'])}"
        + (f"; {line['quantity_kg']:,.4g} kg" if line.get("quantity_kg") is not None else "")
    )
    out.append(f"Scenario: {exp.scenario} - {exp.scenario_title}")
    out.append(f"  {law_currency().line()}")
    for p in exp.parameters:
        flag = " (example value)" if p["example"] else (" (set with --set)" if p["overridden"] else "")
        out.append(f"  parameter {p['name']} = {p['value']}{flag}")
    out.append("")
    out.append("Applied, in order:")
    if not exp.steps:
        out.append("  (no measure applies to this line)")
    for i, step in enumerate(exp.steps, 1):
        tranche = f" [{step.tranche.replace('_', '-')}]" if step.tranche else ""
        who = " paid to the exporter" if step.payer == "exporter" else ""
        refund = " - refund-eligible, not owed" if step.refund_eligible else ""
        out.append(f"  {i}. {step.measure_id}{tranche}: {step.title} ({step.status}){refund}")
        formula = f"{_rate_text(step)} x {_base_text(step)} = {_money(step.amount)}{who}"
        if step.reference_price is not None:
            formula += (
                f"  (reference price ${step.reference_price:,.4g}/kg vs unit value "
                f"${step.unit_price:,.4g}/kg)"
                if step.unit_price is not None
                else ""
            )
        out.append(f"     {formula}")
        if step.content_source is not None:
            where = {
                "ledger": "from the ledger",
                "factor": "estimated from content factors",
                "fallback": "assumed (no content given or estimable)",
            }[step.content_source]
            spread = ""
            if step.amount_low != step.amount or step.amount_high != step.amount:
                spread = f"; low {_money(step.amount_low)}, high {_money(step.amount_high)}"
            out.append(f"     content {where}{spread}")
        out.append(f"     source: {step.citation}")
    totals = exp.totals
    out.append("")
    out.append(
        f"Duty owed: {_money(totals['duty'])}"
        + (
            f" (content low {_money(totals['duty_low'])}, high {_money(totals['duty_high'])})"
            if totals["duty_low"] != totals["duty"] or totals["duty_high"] != totals["duty"]
            else ""
        )
    )
    if totals["refund_eligible"]:
        out.append(f"Refund-eligible (invalidated measures): {_money(totals['refund_eligible'])}")
    if totals["paid_to_exporter"]:
        out.append(f"Paid to the exporter (price undertaking): {_money(totals['paid_to_exporter'])}")
    if totals["unavailable_value"]:
        out.append(f"Value beyond a hard quota (not importable): {_money(totals['unavailable_value'])}")
    for issue in exp.issues:
        out.append(f"Note: {issue}")
    if exp.not_applied:
        out.append("")
        out.append("Covering this product but not applied:")
        for item in exp.not_applied:
            out.append(f"  - {item['measure_id']}: {item['reason']}")
    return "\n".join(out)


def _diagnose(
    frame: pl.DataFrame, measure_set: MeasureSet, refs: References, as_of: date | None, applied: set[str]
) -> list[dict[str, str]]:
    """Why each measure whose product scope covers the line's code did not apply to it."""
    plan = make_plan(measure_set)
    base = prepare(frame, as_of)
    extra = [expr.alias(name) for name, expr in country_columns(plan.measures).items()]
    base = base.with_columns(extra)
    dim, key = hts_keys(base)
    dim = hts_dimension(
        dim,
        plan,
        refs,
        ContentPrices(
            pl.DataFrame(
                schema={"mineral_id": pl.String, "price_usd_per_kg": pl.Float64, "price_note": pl.String}
            )
        )
        if not plan.content_keys
        else content_prices(refs),
    )
    ctx = LineContext(base.height, key, eval_days(base), {}, refs, as_of)
    rows = np.arange(base.height)
    exclude_map = excluders(plan.measures)
    out: list[dict[str, str]] = []
    for m in measure_set.measures:
        if m.id in applied:
            continue
        if m.status is LegalStatus.suspended:
            out.append({"measure_id": m.id, "reason": "suspended (never took effect)"})
            continue
        i = plan.measures.index(m)
        covered = bool(dim.height and dim.get_column(product_column(i))[0])
        if not covered:
            exempt = _exempted_by(m, dim, refs)
            if exempt:
                reason = f"the HTS code is excluded from its products ({exempt})"
                out.append({"measure_id": m.id, "reason": reason})
            continue
        out.append({"measure_id": m.id, "reason": _reason(m, base, ctx, rows, exclude_map, applied)})
    return out


def _exempted_by(m: Measure, dim: pl.DataFrame, refs: References) -> str | None:
    """The exclusion list that takes the code out of a measure it would otherwise cover, if any."""
    scope = m.products
    if not (scope.exclude_hts or scope.exclude_hts_lists) or not dim.height:
        return None
    unexcluded = scope.model_copy(update={"exclude_hts": [], "exclude_hts_lists": []})
    wider = m.model_copy(update={"products": unexcluded})
    if not dim.select(product_mask(wider, refs)).item():
        return None
    labels = [*(f"prefix {p}" for p in scope.exclude_hts), *(r.label() for r in scope.exclude_hts_lists)]
    return ", ".join(labels)


def _reason(
    m: Measure,
    base: pl.DataFrame,
    ctx: LineContext,
    rows: np.ndarray,
    exclude_map: dict[str, list[str]],
    applied: set[str],
) -> str:
    if not window_mask(m, ctx, rows)[0]:
        return f"the line is dated outside the measure's window {m.window_text()}"
    if not origin_mask(m.origin, base, ctx, rows)[0]:
        return "the origin is not covered on that date"
    if m.claim is not None and not claim_mask(m, base, ctx, rows)[0]:
        codes = ", ".join(m.claim.programmes)
        return f"no eligible claim of a programme ({codes}) on the line"
    by = [e for e in exclude_map[m.id] if e in applied]
    if by:
        return f"excluded by {', '.join(by)}, which applies to this line"
    return "no rate for this code (see the line's issues)"


def explain_line(
    ledger: pl.DataFrame | pa.Table,
    measures: MeasureSet | list[Measure],
    line_id: str,
    *,
    as_of: date | None = None,
    content: ContentCase = "central",
    refs: References | None = None,
    result: DutyResult | None = None,
) -> Explanation:
    """Explain one line; pass ``result`` when the ledger was already evaluated with the same inputs."""
    measure_set = as_measure_set(measures)
    refs = refs or shipped_references()
    frame = ledger if isinstance(ledger, pl.DataFrame) else pl.DataFrame(pl.from_arrow(ledger))
    match = frame.filter(pl.col("line_id") == line_id)
    if match.is_empty():
        sample = ", ".join(frame.get_column("line_id").head(5).cast(pl.String).to_list())
        raise InputError(f"No line {line_id!r} in the ledger (line ids look like: {sample}).")
    result = result or evaluate(frame, measure_set, as_of=as_of, content=content, refs=refs)
    line = result.lines.filter(pl.col("line_id") == line_id).row(0, named=True)
    given = match.row(0, named=True)
    line["quantity_kg"] = given.get("quantity_kg")
    comps = result.components.filter(pl.col("line_id") == line_id)
    titles = {m.id: m.title for m in measure_set.measures}
    order = {m.id: i for i, m in enumerate(measure_set.measures)}
    tranche_order = {None: 0, "in_quota": 0, "over_quota": 1, "unavailable": 2}
    rows = sorted(
        comps.with_columns(pl.col(pl.Enum).cast(pl.String)).to_dicts(),
        key=lambda r: (order[r["measure_id"]], tranche_order[r["tranche"]]),
    )
    steps = [
        Step(
            measure_id=r["measure_id"],
            title=titles[r["measure_id"]],
            authority=r["authority"],
            basis=r["basis"],
            base_amount=r["base_amount"],
            rate=r["rate"],
            rate_unit=r["rate_unit"],
            specific_rate=r["specific_rate"],
            quantity=r["quantity"],
            amount=r["amount"],
            amount_low=r["amount_low"],
            amount_high=r["amount_high"],
            payer=r["payer"],
            status=r["status"],
            refund_eligible=r["refund_eligible"],
            tranche=r["tranche"],
            reference_price=r["reference_price"],
            unit_price=r["unit_price"],
            content_source=r["content_source"],
            citation=r["citation"],
        )
        for r in rows
    ]
    applied = {s.measure_id for s in steps}
    not_applied = _diagnose(match, measure_set, refs, as_of, applied)
    issues = result.issues.filter(pl.col("line_id") == line_id).get_column("message").to_list()
    totals = {
        k: float(line[k])
        for k in ("duty", "duty_low", "duty_high", "refund_eligible", "paid_to_exporter", "unavailable_value")
    }
    params = [
        {"name": p.name, "value": p.value, "example": p.example, "overridden": p.overridden}
        for p in measure_set.parameters.values()
    ]
    for key in ("entry_date", "eval_date"):
        line[key] = line[key].isoformat() if line[key] is not None else None
    return Explanation(
        line, measure_set.id, measure_set.title, as_of, steps, not_applied, totals, issues, params
    )
