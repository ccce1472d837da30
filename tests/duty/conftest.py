"""Helpers for the duty tests, and the row-by-row reference implementation of the duty semantics.

``rowwise`` is written independently of the engine, the way the rules read in docs/measures.md: one line at
a time, one measure at a time, plain Python and dictionaries, country groups asked with
``critmin.refdata.groups.members`` one date at a time. It is deliberately slow; the property tests compare it
with the vectorised engine on random ledgers and measures, and the benchmark extrapolates its speed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import polars as pl
import pytest

from critmin import refdata
from critmin.duty.floors import floor_table
from critmin.duty.references import References
from critmin.policy.loader import MeasureSet, not_on_targets, resolve_refs
from critmin.policy.models import (
    AdValorem,
    Claim,
    Compound,
    LegalStatus,
    Measure,
    MinimumPriceBackstop,
    PriceFloor,
    ScheduleRate,
    Specific,
    TopUpToCap,
)
from critmin.refdata import groups

CASES = ("low", "central", "high")
CITE = [
    {
        "document": "Test citation for a hand-built measure",
        "date": "2026-01-01",
        "url": "https://example.org/t",
    }
]


def measure(**fields: Any) -> Measure:
    """A measure for a test, with a citation and defaults filled in."""
    base: dict[str, Any] = {"title": "Test measure", "status": "scenario", "citations": CITE}
    base.update(fields)
    return Measure.model_validate(base)


def ledger(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """A canonical-ish ledger frame from dicts (missing columns become nulls in the engine)."""
    schema = {
        "line_id": pl.String,
        "entry_date": pl.Date,
        "hts": pl.String,
        "country_origin": pl.String,
        "country_smelt_cast": pl.String,
        "supplier": pl.String,
        "quantity": pl.Float64,
        "unit": pl.String,
        "quantity_kg": pl.Float64,
        "customs_value_usd": pl.Float64,
        "preference_program": pl.String,
        "content_mineral": pl.String,
        "content_kg": pl.Float64,
        "content_value_usd": pl.Float64,
        "us_metal_content_share": pl.Float64,
    }
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


# ---------------------------------------------------------------------------------------------------------
# the reference implementation


@dataclass
class RefComponent:
    line_id: str
    measure_id: str
    tranche: str | None
    amount: dict[str, float | None]
    base: float | None
    payer: str
    refund: bool


class Oracle:
    """Reference data looked up one line at a time."""

    def __init__(self, refs: References) -> None:
        self.refs = refs
        sched = refs.load("hts_schedule")
        self.schedule = {r["hts"]: r for r in sched.iter_rows(named=True)}
        special = refs.load("hts_special_programs")
        self.special = {(r["hts"], r["program"]): r for r in special.iter_rows(named=True)}
        self.factors = refs.factors.to_dicts()
        prices = refs.prices.filter(pl.col("price_usd_per_kg").is_not_null()).to_dicts()
        # the metal-stage price if there is one, else any; the latest year; ties by basis text
        ranked = sorted(
            prices, key=lambda p: (p["stage"] != "metal_powder_alloy", -p["year"], p["basis"] or "")
        )
        self.price: dict[str, float] = {}
        for p in ranked:
            self.price.setdefault(p["mineral_id"], p["price_usd_per_kg"])
        self._lists: dict[Any, list[str]] = {}
        self._scopes: dict[str, tuple[Measure, PrefixTable, PrefixTable]] = {}

    def scope_prefixes(self, m: Measure) -> tuple[PrefixTable, PrefixTable]:
        """(included, excluded) prefix tables of a measure's product scope, kept per measure."""
        if m.id not in self._scopes or self._scopes[m.id][0] is not m:
            scope = m.products
            self._scopes[m.id] = (
                m,
                prefix_table([*scope.hts, *self.prefixes(scope.hts_lists)]),
                prefix_table([*scope.exclude_hts, *self.prefixes(scope.exclude_hts_lists)]),
            )
        _, include, exclude = self._scopes[m.id]
        return include, exclude

    def prefixes(self, refs_list: Iterable[Any]) -> list[str]:
        out: list[str] = []
        for ref in refs_list:
            key = ref.label()
            if key not in self._lists:
                self._lists[key] = self.refs.hts_prefixes(ref)
            out.extend(self._lists[key])
        return out

    @cache  # noqa: B019 - one oracle per test
    def classification(self, hts: str) -> tuple[tuple[str, ...], tuple[str, ...], str | None, str | None]:
        classify = self.refs.classify
        assert classify is not None
        rows = classify(pl.DataFrame({"line_id": [hts], "hts": [hts]})).filter(
            pl.col("mineral_id").is_not_null()
        )
        minerals = tuple(dict.fromkeys(rows.get_column("mineral_id").to_list()))
        stages = tuple(dict.fromkeys(s for s in rows.get_column("stage").to_list() if s))
        if rows.is_empty():
            return (), (), None, None
        rank = {"exact": 3, "partial": 2, "basket": 1}

        def share(mineral: str) -> float:
            best = None
            for f in self.factors:
                if (
                    f["mineral_id"] == mineral
                    and hts.startswith(f["hts_prefix"])
                    and (best is None or len(f["hts_prefix"]) > len(best["hts_prefix"]))
                ):
                    best = f
            return -1.0 if best is None else best["central"]

        ordered = sorted(
            rows.iter_rows(named=True),
            key=lambda r: (-rank.get(r["confidence"], 0), -share(r["mineral_id"]), r["mineral_id"]),
        )
        return minerals, stages, ordered[0]["mineral_id"], ordered[0]["stage"]

    def schedule_row(self, hts: str, column: str, program: str | None) -> dict[str, Any] | None:
        if column == "special":
            return self.special.get((hts, program)) or self.special.get((hts[:8], program))
        row = self.schedule.get(hts)
        key = "rate_kind" if column == "general" else "col2_kind"
        if row is None or row[key] is None:
            row = self.schedule.get(hts[:8])
        return row

    def general_ad_valorem(self, hts: str) -> float | None:
        """The printed column-1 (general) rate's ad valorem part as a fraction (0 where it has none, e.g. a
        purely specific rate); None where the schedule gives the code no general rate at all."""
        row = self.schedule_row(hts, "general", None)
        if row is None or row["rate_kind"] is None:
            return None
        pct = row["ad_valorem_pct"]
        return 0.0 if pct is None else pct / 100.0

    def factor_sum(
        self, hts: str, minerals: Sequence[str], case: str, qkg: float | None, value: float | None
    ) -> tuple[float | None, float | None]:
        """(content kg, content value) estimated from factors: per mineral the longest prefix; value counts
        the
        minerals that have a price (a lower bound)."""
        mass = 0.0
        val = 0.0
        found = False
        priced = False
        for mineral in minerals:
            best = None
            for f in self.factors:
                if (
                    f["mineral_id"] == mineral
                    and hts.startswith(f["hts_prefix"])
                    and (best is None or len(f["hts_prefix"]) > len(best["hts_prefix"]))
                ):
                    best = f
            if best is None or best["unit"] != "kg/kg":
                continue
            found = True
            if qkg is None:
                return None, None
            mass += best[case] * qkg
            if mineral in self.price:
                priced = True
                val += best[case] * qkg * self.price[mineral]
        if not found:
            return None, None
        return mass, (val if priced else None)


PrefixTable = dict[int, frozenset[str]]


def prefix_table(prefixes: Iterable[str]) -> PrefixTable:
    grouped: dict[int, set[str]] = {}
    for p in prefixes:
        grouped.setdefault(len(p), set()).add(p)
    return {length: frozenset(values) for length, values in grouped.items()}


def _prefix_hit(hts: str | None, table: PrefixTable) -> bool:
    """Does the code start with one of the prefixes? (prefix sets by length)"""
    return hts is not None and any(hts[:length] in values for length, values in table.items())


@cache
def _members(group: str, day: date) -> frozenset[str]:
    return groups.members(group, day)


def _member(country: str | None, countries: Sequence[str], group_ids: Sequence[str], day: date) -> bool:
    if country is None:
        return False
    if country in countries:
        return True
    return any(country in _members(g, day) for g in group_ids)


def _period(day: date, period: str) -> str:
    if period == "year":
        return str(day.year)
    if period == "half_year":
        return f"{day.year}-H{(day.month - 1) // 6 + 1}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    return "window"


def _qty(line: dict[str, Any], unit: str) -> float | None:
    if unit == "kg":
        return line["quantity_kg"]
    return line["quantity"] if line["unit"] == unit else None


def _simple_amount(
    rate: Any, value: float | None, line: dict[str, Any], content_kg: float | None, basis: str
) -> float | None:
    if isinstance(rate, AdValorem):
        return None if value is None else rate.rate * value
    if isinstance(rate, Specific):
        q = content_kg if basis == "content_mass" else _qty(line, rate.unit)
        return None if q is None else rate.amount * q
    assert isinstance(rate, Compound)
    q = content_kg if rate.quantity_basis == "content_mass" else _qty(line, rate.unit)
    if value is None or q is None:
        return None
    return rate.rate * value + rate.amount * q


def rowwise(
    frame: pl.DataFrame, measure_set: MeasureSet, *, as_of: date | None = None, oracle: Oracle
) -> list[RefComponent]:
    """Every (line, measure, tranche) component, computed line by line."""
    lines = frame.to_dicts()
    for i, line in enumerate(lines):
        line["_i"] = i
        line["_date"] = as_of or line["entry_date"]
    measures = [m for m in measure_set.measures if m.status is not LegalStatus.suspended]
    excluded_by: dict[str, list[str]] = {m.id: [] for m in measures}
    for m in measures:
        for ref in m.stacking.excludes:
            for target in resolve_refs(ref, measures, self_id=m.id):
                excluded_by[target].append(m.id)
    quota_used: dict[tuple[str, str, str], float] = {}
    order = sorted(lines, key=lambda r: (r["_date"] or date.max, r["entry_date"] or date.max, r["_i"]))
    out: list[RefComponent] = []
    for line in order:
        applied: set[str] = set()
        claimed: dict[str, dict[str, float]] = {}
        day = line["_date"]
        hts = line["hts"]
        minerals, stages, primary, stage = oracle.classification(hts) if hts else ((), (), None, None)
        for m in measures:
            scope = m.products
            if hts is None:
                continue
            include, exclude = oracle.scope_prefixes(m)
            if scope.hts_restricted and not _prefix_hit(hts, include):
                continue
            if _prefix_hit(hts, exclude):
                continue
            if scope.minerals is not None and not set(minerals) & set(scope.minerals):
                continue
            if scope.stages is not None and not set(stages) & set(scope.stages):
                continue
            if scope.classified and not minerals:
                continue
            if (
                day is None
                or (m.effective_from and day < m.effective_from)
                or (m.effective_until and day > m.effective_until)
            ):
                continue
            field = m.origin.country_field
            country = line.get(field) if field != "country_origin" else line["country_origin"]
            if country is None and m.origin.fallback_to_origin:
                country = line["country_origin"]
            if country is None:
                continue
            if not m.origin.covers_all and not _member(country, m.origin.countries, m.origin.groups, day):
                continue
            if _member(country, m.origin.exclude_countries, m.origin.exclude_groups, day):
                continue
            program = (line["preference_program"] or "").strip().upper() or None
            if m.claim is not None and not _claims(line, m.claim, program, day):
                continue
            if m.exempt_if_claimed is not None and _claims(line, m.exempt_if_claimed, program, day):
                continue
            if m.us_content is not None and not _us_content_tier(line, m):
                continue
            if m.metal_weight is not None and _below_metal_weight(line, m):
                continue
            if (
                isinstance(m.rate, ScheduleRate)
                and m.rate.column == "special"
                and (oracle.schedule_row(hts, "special", program) is None)
            ):
                continue
            if any(e in applied for e in excluded_by[m.id]):
                continue
            applied.add(m.id)
            out.extend(
                _line_measure(
                    line, m, measures, claimed, quota_used, oracle, minerals, primary, stage, country, program
                )
            )
    return out


def _claims(line: dict[str, Any], claim: Claim, program: str | None, day: date) -> bool:
    """Does the line claim one of the programmes (codes compared upper-cased) from an origin eligible for
    it (no countries and no groups listed = any origin)?"""
    for code, eligible in claim.programmes.items():
        if program != code.upper():
            continue
        if not eligible.countries and not eligible.groups:
            return True
        if _member(line["country_origin"], eligible.countries, eligible.groups, day):
            return True
    return False


def _us_content_tier(line: dict[str, Any], m: Measure) -> bool:
    """Is the line in the measure's U.S.-content tier? ``at_least``: only a stated share at or above it;
    ``below``: a share under it, or none stated."""
    gate = m.us_content
    assert gate is not None
    share = line.get("us_metal_content_share")
    if share is not None and math.isnan(share):
        share = None
    if gate.at_least is not None:
        return share is not None and share >= gate.at_least
    assert gate.below is not None
    return share is None or share < gate.below


def _below_metal_weight(line: dict[str, Any], m: Measure) -> bool:
    """Does the line state a metal share of its weight under the gate's minimum (outside the excepted
    chapters)? A line that does not state it stays in."""
    gate = m.metal_weight
    assert gate is not None
    if line["hts"][:2] in gate.except_chapters:
        return False
    if line["content_mineral"] not in gate.minerals:
        return False
    content_kg, quantity_kg = line["content_kg"], line["quantity_kg"]
    if content_kg is None or quantity_kg is None or not quantity_kg > 0:
        return False
    return content_kg / quantity_kg < gate.min_share


def _content(
    line: dict[str, Any], m: Measure, oracle: Oracle, minerals: Sequence[str], case: str
) -> tuple[float | None, float | None, str | None]:
    """(content kg, content value, source) for the measure's content spec."""
    assert m.content is not None
    wanted = list(minerals) if m.content.minerals == "classified" else list(m.content.minerals)
    value = line["customs_value_usd"]
    mineral = line["content_mineral"]
    kg: float | None = None
    val: float | None = None
    source = None
    if mineral is not None and mineral in wanted:
        price = oracle.price.get(mineral)
        stated_kg = line.get("content_kg")  # a ledger may leave the column out
        kg = (
            stated_kg
            if stated_kg is not None
            else (
                line["content_value_usd"] / price if line["content_value_usd"] is not None and price else None
            )
        )
        val = (
            line["content_value_usd"]
            if line["content_value_usd"] is not None
            else (stated_kg * price if stated_kg is not None and price else None)
        )
        if val is not None:
            source = "ledger"
    if m.content.estimate:
        est_kg, est_val = oracle.factor_sum(line["hts"], wanted, case, line["quantity_kg"], value)
    else:  # content the line does not state is not estimated: straight to the fallback share
        est_kg, est_val = None, None
    kg = kg if kg is not None else est_kg
    if val is None and est_val is not None:
        val, source = est_val, "factor"
    if val is None and m.content.fallback_share is not None and value is not None:
        val, source = value * m.content.fallback_share, "fallback"
    return kg, val, source


def _line_measure(
    line: dict[str, Any],
    m: Measure,
    measures: list[Measure],
    claimed: dict[str, dict[str, float]],
    quota_used: dict[tuple[str, str, str], float],
    oracle: Oracle,
    minerals: Sequence[str],
    primary: str | None,
    stage: str | None,
    country: str,
    program: str | None,
) -> list[RefComponent]:
    value = line["customs_value_usd"]
    amount: dict[str, float | None] = {}
    bases: dict[str, float | None] = {}
    kg: dict[str, float | None] = {}
    for case in CASES:
        content_kg, content_val, _ = (
            _content(line, m, oracle, minerals, case) if m.content else (None, None, None)
        )
        kg[case] = content_kg
        if m.basis.value == "content_value":
            base = content_val
        elif m.basis.value == "non_content_value":
            base = None if content_val is None or value is None else max(value - content_val, 0.0)
        else:
            base = value
        targets = not_on_targets(m, measures)
        if base is not None and m.basis.value in {"customs_value", "content_value", "non_content_value"}:
            for t in targets:
                base -= claimed.get(t, {}).get(case, 0.0)
            base = max(base, 0.0) if targets else base
        bases[case] = base
    if m.claims_value:
        claimed[m.id] = {c: (bases[c] or 0.0) for c in CASES}
    refund = m.refund_eligible
    payer = m.payer
    if m.quota is not None:
        return _quota(line, m, bases, kg, quota_used, country)
    rate = m.rate
    for case in CASES:
        base = bases[case]
        if isinstance(rate, AdValorem | Specific | Compound):
            amount[case] = _simple_amount(rate, base, line, kg[case], m.basis.value)
        elif isinstance(rate, ScheduleRate):
            amount[case] = _schedule(line, rate.column, base, program, oracle)
        elif isinstance(rate, TopUpToCap):
            amount[case] = _top_up(line, rate, base, oracle)
        elif isinstance(rate, MinimumPriceBackstop):
            amount[case] = _backstop(line, rate, base, oracle)
        else:
            assert isinstance(rate, PriceFloor)
            amount[case] = _floor(line, m, rate, primary, stage, kg[case], oracle)
    return [RefComponent(line["line_id"], m.id, None, amount, bases["central"], payer, refund)]


def _schedule(
    line: dict[str, Any], column: str, value: float | None, program: str | None, oracle: Oracle
) -> float | None:
    row = oracle.schedule_row(line["hts"], column, program)
    if row is None:
        return None
    if column == "special":
        kind, av, sp, unit, sp2, unit2, qual = (
            row["kind"],
            row["ad_valorem_pct"],
            row["specific_amount"],
            row["specific_unit"],
            None,
            None,
            None,
        )
    else:
        p = "" if column == "general" else "col2_"
        kind = row["rate_kind" if column == "general" else "col2_kind"]
        av, sp, unit = row[f"{p}ad_valorem_pct"], row[f"{p}specific_amount"], row[f"{p}specific_unit"]
        sp2, unit2, qual = (
            row[f"{p}specific2_amount"],
            row[f"{p}specific2_unit"],
            row[f"{p}specific_qualifier"],
        )
    if kind is None or kind == "other" or value is None or qual is not None:
        return None
    total = (av or 0.0) / 100.0 * value
    for amount, u in ((sp, unit), (sp2, unit2)):
        if amount is None:
            continue
        q = line["quantity_kg"] if u == "kg" else (line["quantity"] if line["unit"] == u else None)
        if q is None:
            return None
        total += amount * q
    return total


def _top_up(line: dict[str, Any], rate: TopUpToCap, base: float | None, oracle: Oracle) -> float | None:
    """max(0, cap - the code's printed column-1 ad valorem rate) x the value basis."""
    column1 = oracle.general_ad_valorem(line["hts"])
    if column1 is None or base is None:
        return None
    additional = rate.cap - column1
    if additional < 0:
        additional = 0.0
    return additional * base


def _backstop(
    line: dict[str, Any], rate: MinimumPriceBackstop, base: float | None, oracle: Oracle
) -> float | None:
    """max(ad valorem part, minimum price x quantity - customs value); the ad valorem part alone where the
    line has no positive quantity in the rate's unit."""
    if base is None:
        return None
    inner = rate.rate
    if inner is None:
        ad_valorem: float | None = 0.0
    elif isinstance(inner, AdValorem):
        ad_valorem = inner.rate * base
    else:
        ad_valorem = _top_up(line, inner, base, oracle)
    if ad_valorem is None:
        return None
    quantity = _qty(line, rate.unit)
    if quantity is None or quantity <= 0:
        return ad_valorem
    value = line["customs_value_usd"]
    gap = rate.minimum_price * quantity - value
    return ad_valorem if ad_valorem >= gap else gap


def _floor(
    line: dict[str, Any],
    m: Measure,
    rate: PriceFloor,
    primary: str | None,
    stage: str | None,
    content_kg: float | None,
    oracle: Oracle,
) -> float | None:
    mineral = primary
    if rate.per == "content_kg" and m.content is not None and m.content.minerals != "classified":
        mineral = m.content.minerals[0]
    best = None
    for entry in floor_table(rate, oracle.refs):
        if entry.mineral is not None and entry.mineral != mineral:
            continue
        if entry.stage is not None and entry.stage != stage:
            continue
        score = (2 if entry.mineral else 0) + (1 if entry.stage else 0)
        if best is None or score > best[0]:
            best = (score, entry.price_usd_per_kg)
    q = content_kg if rate.per == "content_kg" else line["quantity_kg"]
    value = line["customs_value_usd"]
    if best is None or q is None or value is None:
        return None
    ref = best[1]
    if rate.mechanism == "minimum_import_price":
        if value <= 0:
            return None
        return max(ref * q / value - 1.0, 0.0) * value
    return max(ref - value / q, 0.0) * q if q > 0 else 0.0


def _quota(
    line: dict[str, Any],
    m: Measure,
    bases: dict[str, float | None],
    kg: dict[str, float | None],
    used: dict[tuple[str, str, str], float],
    country: str,
) -> list[RefComponent]:
    quota = m.quota
    assert quota is not None
    day = line["_date"]
    bucket: str | None = "all"
    volume_total = quota.volume
    if quota.allocations:
        bucket = None
        for a in quota.allocations:
            if not a.rest and _member(country, a.countries, a.groups, day):
                bucket = a.name
                break
        if bucket is None:
            bucket = next((a.name for a in quota.allocations if a.rest), None)
        if bucket is not None:
            a = next(x for x in quota.allocations if x.name == bucket)
            volume_total = a.volume if a.volume is not None else quota.volume * (a.share or 0.0)
    period = _period(day, quota.period)
    shares: dict[str, float | None] = {}
    for case in CASES:
        if quota.unit == "kg":
            v = line["quantity_kg"]
        elif quota.unit == "usd":
            v = line["customs_value_usd"]
        else:
            v = kg[case]
        if v is None:
            shares[case] = None
            continue
        if bucket is None:
            shares[case] = 0.0
            continue
        key = (m.id, bucket, period + ":" + case)
        before = used.get(key, 0.0)
        inside = min(max(volume_total - before, 0.0), v)
        used[key] = before + v
        shares[case] = inside / v if v > 0 else 1.0
    out = []
    s = shares["central"]
    tranches = [("in_quota", quota.in_quota, lambda c: shares[c])]
    over = (
        "unavailable" if quota.hard_cap else "over_quota",
        quota.over_quota,
        lambda c: _rest(shares[c]),
    )
    for name, rate, share in (*tranches, over):
        present = (s is None or s > 0) if name == "in_quota" else (s is not None and s < 1)
        if not present:
            continue
        amount: dict[str, float | None] = {}
        for case in CASES:
            sh = share(case)
            if name == "unavailable":
                amount[case] = 0.0
                continue
            raw = _simple_amount(rate, bases[case], line, kg[case], m.basis.value)
            amount[case] = None if raw is None or sh is None else raw * sh
        out.append(RefComponent(line["line_id"], m.id, name, amount, None, m.payer, m.refund_eligible))
    return out


def _rest(share: float | None) -> float | None:
    return None if share is None else 1.0 - share


@dataclass(frozen=True)
class Helpers:
    """What tests use from here (test modules cannot import conftest under importlib mode)."""

    oracle: Oracle
    measure: Callable[..., Measure]
    ledger: Callable[[Sequence[dict[str, Any]]], pl.DataFrame]
    rowwise: Callable[..., list[RefComponent]]


@pytest.fixture(scope="session")
def helpers() -> Helpers:
    return Helpers(Oracle(References.shipped()), measure, ledger, rowwise)


_ = refdata  # the shipped data the oracle reads are loaded through References
