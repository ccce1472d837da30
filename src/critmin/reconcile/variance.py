"""Duty paid next to duty owed, per entry line and Chapter 99 heading, with the cause of each difference.

A line's duty is compared in *slots*: ``column 1`` (the goods row's duty, with any 9902/chapter 98 rows,
against the engine's MFN, preference or column 2 duty) and one slot per Chapter 99 heading (the duty paid
under 9903.88.03 against the engine's duty under the measure that reports 9903.88.03). A measure with
several headings (one per origin, or a content and a non-content heading) takes the slot of the heading the
line reports. Amounts are compared to the cent; the engine's are rounded half up per slot, as CBP rounds a
line's duty.

Each slot gets one cause (:class:`Cause`) and a sentence that names the measure, the rate, the basis and
the dollars. Slots the line reports but the engine does not charge are explained by evaluating the
heading's measures again with one condition lifted at a time - date window, origin, claim - on just those
lines (:func:`not_owed_reasons`); whichever lifted condition makes the measure apply is the reason.
Everything is a join or a whole-column expression; the only loops run over measures and variants.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from critmin.duty import evaluate
from critmin.duty.result import DutyResult
from critmin.ledger.schema import conform
from critmin.policy.loader import MeasureSet
from critmin.policy.models import Measure, OriginScope, Stacking
from critmin.reconcile.ace import COLUMN_1
from critmin.reconcile.measures import exclusion_pairs, heading_table, suspended_ids
from critmin.reconcile.text import cents, money, pct


class Cause(StrEnum):
    """Why paid and owed differ on one slot of one line."""

    match = "match"
    rounding = "rounding"
    heading_missing = "heading_missing"
    heading_not_owed = "heading_not_owed"
    heading_not_modelled = "heading_not_modelled"
    date_window = "date_window"
    rate_differs = "rate_differs"
    basis_differs = "basis_differs"
    country_group = "country_group"
    programme_claimed = "programme_claimed"
    expected_unknown = "expected_unknown"


CAUSE_TEXT: dict[Cause, str] = {
    Cause.match: "paid equals owed, to the cent",
    Cause.rounding: "paid and owed differ by one cent of rounding",
    Cause.heading_missing: "a measure charges the line under a Chapter 99 heading the line does not report",
    Cause.heading_not_owed: "the line reports and pays a heading whose measure does not charge it: the "
    "product is not covered, another measure excludes it, or it is suspended",
    Cause.heading_not_modelled: "the line reports a heading no measure in the library has (an exemption "
    "heading, or a provision critmin does not model)",
    Cause.date_window: "the heading's measure does not apply on the line's entry date",
    Cause.rate_differs: "same heading, same basis, different rate (column 1: another rate or classification)",
    Cause.basis_differs: "same heading and rate, different basis: a declared value or metal content other "
    "than the engine's",
    Cause.country_group: "the heading's measure does not cover the line's origin on its entry date",
    Cause.programme_claimed: "a special programme claimed on the line changes what is owed (not eligible, "
    "or it exempts the line)",
    Cause.expected_unknown: "the engine cannot compute what is owed (a rate or quantity it needs is missing)",
}

_TOLERANCE = 0.005
_ONE_CENT = 0.0101


def expected_slots(result: DutyResult, measures: pl.DataFrame, tariffs: pl.DataFrame) -> pl.DataFrame:
    """The engine's duty per line and slot (customs duty only; a measure with a zero base is not there)."""
    comps = (
        result.components.filter(pl.col("payer") == "customs")
        .with_columns(pl.col(pl.Enum).cast(pl.String), pl.col(pl.Categorical).cast(pl.String))
        .filter(~((pl.col("base_amount") == 0) & (pl.col("amount").fill_null(0.0) == 0)))
    )
    reported = tariffs.filter(pl.col("kind") == "ch99").select("line_id", "heading").unique()
    matched = (
        comps.select("line_id", "measure_id")
        .unique()
        .join(heading_table(measures), on="measure_id")
        .join(reported, on=["line_id", "heading"], how="semi")
        .group_by("line_id", "measure_id")
        .agg(pl.col("heading").min().alias("_matched"))
    )
    comps = (
        comps.join(matched, on=["line_id", "measure_id"], how="left")
        .join(measures.select("measure_id", "label"), on="measure_id", how="left")
        .with_columns(pl.coalesce("_matched", "label").alias("slot"))
    )
    order = pl.col("amount").fill_null(float("inf"))
    return comps.group_by("line_id", "slot").agg(
        pl.when(pl.col("amount").null_count() == 0).then(pl.col("amount").sum()).alias("expected_raw"),
        pl.col("measure_id").sort_by(order, descending=True).alias("measures"),
        pl.col("base_amount").sort_by(order, descending=True).first().alias("expected_base"),
        pl.col("basis").sort_by(order, descending=True).first().alias("basis"),
        pl.col("rate_unit").sort_by(order, descending=True).first().alias("rate_unit"),
        pl.col("rate").filter(pl.col("rate_unit") == "fraction").sum().alias("expected_rate"),
        pl.col("content_source").sort_by(order, descending=True).first().alias("content_source"),
        pl.col("status").sort_by(order, descending=True).first().alias("status"),
        pl.col("refund_eligible").any().alias("refund_eligible"),
        pl.col("authority").sort_by(order, descending=True).first().alias("authority"),
    )


def paid_slots(tariffs: pl.DataFrame) -> pl.DataFrame:
    """The duty paid per line and slot, with the value declared on the slot's own rows."""
    frame = tariffs.with_columns(
        pl.when(pl.col("kind") == "ch99").then(pl.col("heading")).otherwise(pl.lit(COLUMN_1)).alias("slot")
    )
    return frame.group_by("line_id", "slot").agg(
        pl.col("duty_paid").sum().alias("paid"),
        pl.when(pl.col("declared_value").sum() > 0).then(pl.col("declared_value").sum()).alias("paid_base"),
        pl.col("hts").filter(pl.col("kind") == "column1_other").alias("other_rows"),
    )


def compare(
    result: DutyResult,
    ledger: pl.DataFrame,
    tariffs: pl.DataFrame,
    measures: pl.DataFrame,
    measure_set: MeasureSet,
) -> pl.DataFrame:
    """Every slot of every line: paid, owed, the difference, its cause and the sentence that explains it."""
    expected = expected_slots(result, measures, tariffs)
    paid = paid_slots(tariffs)
    slots = (
        expected.join(paid, on=["line_id", "slot"], how="full", coalesce=True)
        .with_columns(
            pl.col("expected_raw").is_not_null().alias("_known"),
            pl.col("measures").is_not_null().alias("in_expected"),
            pl.col("paid").is_not_null().alias("in_paid"),
        )
        .with_columns(
            pl.when(pl.col("in_expected"))
            .then(cents(pl.col("expected_raw")))
            .otherwise(pl.lit(0.0))
            .alias("expected"),
            pl.col("paid").fill_null(0.0),
        )
        .with_columns(
            pl.when(pl.col("in_expected") & ~pl.col("_known"))
            .then(None)
            .otherwise((pl.col("paid") - pl.col("expected")).round(2))
            .alias("variance"),
            pl.col("measures").list.first().alias("measure_id"),
        )
    )
    lines = ledger.select(
        "line_id",
        "entry_number",
        "line_number",
        "entry_date",
        "hts",
        "country_origin",
        "preference_program",
        "claim_eligible",
        "content_origin",
        "customs_value_usd",
    )
    slots = slots.join(lines, on="line_id", how="left").join(
        measures.select(
            "measure_id", "title", "window", "claim_text", "exempt_programmes", "citation", "citation_url"
        ),
        on="measure_id",
        how="left",
    )
    slots = _with_line_context(slots, result)
    reasons = not_owed_reasons(
        slots.filter(pl.col("in_paid") & ~pl.col("in_expected") & (pl.col("slot") != COLUMN_1)).select(
            "line_id", pl.col("slot").alias("heading")
        ),
        ledger,
        measure_set,
        measures,
        result,
    )
    slots = slots.join(
        reasons.rename({"heading": "slot"}), on=["line_id", "slot"], how="left", suffix="_reason"
    )
    slots = slots.with_columns(_cause().alias("cause"))
    slots = slots.with_columns(_explanation().alias("explanation"))
    return slots.select(
        "entry_number",
        "line_number",
        "line_id",
        "entry_date",
        "hts",
        "country_origin",
        "preference_program",
        "slot",
        pl.coalesce("measure_id", "reason_measure").alias("measure_id"),
        pl.col("measures").list.join(", ").alias("measures"),
        pl.coalesce("authority", "reason_authority").alias("authority"),
        "paid",
        "expected",
        "variance",
        "paid_base",
        "expected_base",
        pl.when(pl.col("paid_base").is_not_null() & (pl.col("paid_base") > 0))
        .then(pl.col("paid") / pl.col("paid_base"))
        .when(pl.col("expected_base") > 0)
        .then(pl.col("paid") / pl.col("expected_base"))
        .alias("paid_rate"),
        pl.col("expected_rate"),
        "basis",
        "status",
        pl.col("refund_eligible").fill_null(False),
        "in_paid",
        "in_expected",
        "cause",
        "explanation",
        pl.coalesce("citation", "reason_citation").alias("citation"),
        pl.coalesce("citation_url", "reason_citation_url").alias("citation_url"),
    ).sort("entry_number", "line_number", pl.col("slot") != COLUMN_1, "slot")


def _with_line_context(slots: pl.DataFrame, result: DutyResult) -> pl.DataFrame:
    """Other headings the line reports that the engine does not charge (named when one is missing), and
    the engine's note on an amount it could not compute."""
    unmatched = (
        slots.filter(pl.col("in_paid") & ~pl.col("in_expected") & (pl.col("slot") != COLUMN_1))
        .group_by("line_id")
        .agg(pl.col("slot").sort().str.join(", ").alias("_unmatched_paid"))
    )
    notes = (
        result.issues.filter(pl.col("code") == "input_missing")
        .group_by("line_id", "measure_id")
        .agg(pl.col("message").first().alias("_issue"))
    )
    return slots.join(unmatched, on="line_id", how="left").join(
        notes, on=["line_id", "measure_id"], how="left"
    )


def _cause() -> pl.Expr:
    both = pl.col("in_paid") & pl.col("in_expected")
    small = pl.col("variance").abs() < _TOLERANCE
    cent = pl.col("variance").abs() <= _ONE_CENT
    column1 = pl.col("slot") == COLUMN_1
    claimed = pl.col("preference_program").is_not_null()
    exempting_claim = claimed & pl.col("exempt_programmes").list.contains(
        pl.col("preference_program")
    ).fill_null(False)
    return (
        pl.when(pl.col("in_expected") & ~pl.col("_known"))
        .then(pl.lit(Cause.expected_unknown.value))
        .when(both & small)
        .then(pl.lit(Cause.match.value))
        .when(both & cent)
        .then(pl.lit(Cause.rounding.value))
        .when(both & column1 & claimed)
        .then(pl.lit(Cause.programme_claimed.value))
        .when(both & _basis_differs())
        .then(pl.lit(Cause.basis_differs.value))
        .when(both)
        .then(pl.lit(Cause.rate_differs.value))
        .when(pl.col("in_expected") & exempting_claim)
        .then(pl.lit(Cause.programme_claimed.value))
        .when(pl.col("in_expected"))
        .then(pl.lit(Cause.heading_missing.value))
        .when(column1)
        .then(pl.lit(Cause.rate_differs.value))
        .otherwise(pl.coalesce(pl.col("reason_cause"), pl.lit(Cause.heading_not_owed.value)))
    )


def _basis_differs() -> pl.Expr:
    """A declared base other than the engine's, or a content basis whose paid amount implies another
    content value at the same rate."""
    declared = pl.col("paid_base").is_not_null() & (pl.col("slot") != COLUMN_1)
    gap = (pl.col("paid_base") - pl.col("expected_base")).abs() > 0.5
    content = pl.col("basis").is_in(["content_value", "non_content_value"]) & (pl.col("expected_rate") > 0)
    return (declared & gap) | (~declared & content & (pl.col("rate_unit") == "fraction"))


def _explanation() -> pl.Expr:
    slot = pl.col("slot")
    measure = pl.coalesce(pl.col("measures").list.join(", "), pl.col("reason_measure"))
    paid, owed = money(pl.col("paid")), money(pl.col("expected"))
    rate = pct(pl.col("expected_rate"))
    base = money(pl.col("expected_base"))
    charged = rate + pl.lit(" x ") + base + pl.lit(" = ") + owed
    head = slot + pl.lit(" (") + measure + pl.lit(")")
    content_note = (
        pl.when(pl.col("content_origin") == "your data")
        .then(pl.lit("the content value of your data"))
        .when(pl.col("content_origin") == "declared")
        .then(pl.lit("the content the line declares"))
        .when(pl.col("content_source") == "fallback")
        .then(
            pl.lit(
                "the whole value, since no content is stated (CBP counts unknown content as the whole value)"
            )
        )
        .when(pl.col("content_source") == "factor")
        .then(pl.lit("content estimated from critmin's content factors"))
        .otherwise(pl.lit("the engine's basis"))
    )
    implied_base = pl.coalesce(
        pl.col("paid_base"),
        pl.when(pl.col("expected_rate") > 0).then(pl.col("paid") / pl.col("expected_rate")),
    )
    claim = pl.col("preference_program")
    claim_reason = (
        pl.when(pl.col("claim_eligible") == False)  # noqa: E712 - a null (no claim) must not match
        .then(pl.lit("origin ") + pl.col("country_origin") + pl.lit(" is not eligible for ") + claim)
        .otherwise(pl.lit("the schedule gives no ") + claim + pl.lit(" rate for HTS ") + pl.col("hts"))
    )
    return (
        pl.when(pl.col("cause") == Cause.match.value)
        .then(head + pl.lit(": paid ") + paid + pl.lit(", owed ") + charged + pl.lit("."))
        .when(pl.col("cause") == Cause.rounding.value)
        .then(head + pl.lit(": paid ") + paid + pl.lit(", owed ") + owed + pl.lit(": one cent of rounding."))
        .when(pl.col("cause") == Cause.expected_unknown.value)
        .then(
            head
            + pl.lit(": the amount owed is unknown (")
            + pl.coalesce(pl.col("_issue"), pl.lit("an input the measure needs is missing"))
            + pl.lit("); paid ")
            + paid
            + pl.lit(".")
        )
        .when((pl.col("cause") == Cause.programme_claimed.value) & (slot == COLUMN_1))
        .then(
            pl.when(pl.col("measures").list.contains("preference_fta"))
            .then(
                pl.lit("column 1: the line claims ")
                + claim
                + pl.lit(", whose rate ")
                + rate
                + pl.lit(" gives ")
                + owed
                + pl.lit("; paid ")
                + paid
                + pl.lit(" (the claim may not have been accepted).")
            )
            .otherwise(
                pl.lit("column 1: the line claims ")
                + claim
                + pl.lit(", but ")
                + claim_reason
                + pl.lit(", so the general rate applies: ")
                + charged
                + pl.lit("; paid ")
                + paid
                + pl.lit(".")
            )
        )
        .when((pl.col("cause") == Cause.programme_claimed.value) & pl.col("in_expected"))
        .then(
            head
            + pl.lit(" owed ")
            + charged
            + pl.lit(": the line claims ")
            + claim
            + pl.lit(", but ")
            + pl.col("claim_text")
            + pl.lit(" and origin ")
            + pl.col("country_origin")
            + pl.lit(" is not among them; paid ")
            + paid
            + pl.lit(".")
        )
        .when(pl.col("cause") == Cause.basis_differs.value)
        .then(
            head
            + pl.lit(": paid ")
            + paid
            + pl.lit(", i.e. ")
            + rate
            + pl.lit(" of a basis of ")
            + money(implied_base)
            + pl.lit("; owed ")
            + rate
            + pl.lit(" x ")
            + base
            + pl.lit(" (")
            + content_note
            + pl.lit(") = ")
            + owed
            + pl.lit(".")
        )
        .when(pl.col("cause") == Cause.rate_differs.value)
        .then(
            pl.when(slot == COLUMN_1)
            .then(
                pl.lit("column 1 duty of HTS ")
                + pl.col("hts")
                + pl.lit(": paid ")
                + paid
                + pl.lit(" = ")
                + pct(pl.col("paid") / pl.col("customs_value_usd"))
                + pl.lit(" of ")
                + money(pl.col("customs_value_usd"))
                + pl.lit("; the schedule's rate gives ")
                + pl.when(pl.col("in_expected")).then(charged).otherwise(pl.lit("no column 1 duty"))
                + pl.lit(".")
            )
            .otherwise(
                head
                + pl.lit(": paid ")
                + paid
                + pl.lit(" = ")
                + pct(pl.col("paid") / pl.coalesce(pl.col("paid_base"), pl.col("expected_base")))
                + pl.lit(" of ")
                + money(pl.coalesce(pl.col("paid_base"), pl.col("expected_base")))
                + pl.lit("; owed ")
                + charged
                + pl.lit(".")
            )
        )
        .when(pl.col("cause") == Cause.heading_missing.value)
        .then(
            head
            + pl.lit(" owed ")
            + charged
            + pl.lit("; the line does not report ")
            + pl.when(slot.str.contains("…")).then(pl.lit("any of its headings")).otherwise(slot)
            + pl.when(pl.col("_unmatched_paid").is_not_null())
            .then(pl.lit(" (it reports ") + pl.col("_unmatched_paid") + pl.lit(", which is not owed)"))
            .otherwise(pl.lit(""))
            + pl.lit("; paid ")
            + paid
            + pl.lit(".")
        )
        .otherwise(pl.col("reason_text") + pl.lit(" Paid ") + paid + pl.lit(", owed ") + owed + pl.lit("."))
    )


# ----------------------------------------------------------------------------------------------------------
# Headings reported but not owed
# ----------------------------------------------------------------------------------------------------------

REASON_SCHEMA: dict[str, pl.DataType] = {
    "line_id": pl.String(),
    "heading": pl.String(),
    "reason_cause": pl.String(),
    "reason_text": pl.String(),
    "reason_measure": pl.String(),
    "reason_authority": pl.String(),
    "reason_citation": pl.String(),
    "reason_citation_url": pl.String(),
}

_VARIANTS = ("strict", "window", "origin", "claim", "all")


def not_owed_reasons(
    rows: pl.DataFrame,
    ledger: pl.DataFrame,
    measure_set: MeasureSet,
    measures: pl.DataFrame,
    result: DutyResult,
) -> pl.DataFrame:
    """Why each (line, heading) the line reports is not charged by the engine.

    The heading's measures are evaluated again on just those lines, alone (no stacking), as they are and
    with one condition lifted at a time; the first of these that makes a measure apply names the reason:
    as they are -> another measure excludes it; without the date window -> ``date_window``; without the
    origin rule -> ``country_group``; without the claim rule -> ``programme_claimed``; with all lifted ->
    several conditions; never -> the product is not covered. A heading no measure has is
    ``heading_not_modelled``.
    """
    if rows.height == 0:
        return pl.DataFrame(schema=REASON_SCHEMA)
    rows = rows.unique()
    candidates = rows.join(heading_table(measures), on="heading", how="left")
    ids = sorted(set(candidates.get_column("measure_id").drop_nulls().to_list()))
    by_id = measure_set.by_id()
    suspended = set(suspended_ids(measure_set))
    subset = conform(ledger.filter(pl.col("line_id").is_in(rows.get_column("line_id").unique().implode())))
    applied_full = (
        result.components.group_by("line_id", pl.col("measure_id").cast(pl.String))
        .agg((pl.col("base_amount").fill_null(1.0).abs().max() > 0).alias("_positive"))
        .with_columns(pl.lit(True).alias("in_full"))
    )
    candidates = candidates.join(applied_full, on=["line_id", "measure_id"], how="left")
    live = [by_id[i] for i in ids if i not in suspended]
    for variant in _VARIANTS:
        name = f"_v_{variant}"
        flags = pl.DataFrame(schema={"line_id": pl.String, "measure_id": pl.String, name: pl.Boolean})
        if live and subset.height:
            lifted = [_lift(m, variant) for m in live]
            found = evaluate(subset, lifted).components
            flags = (
                found.select("line_id", pl.col("measure_id").cast(pl.String))
                .unique()
                .with_columns(pl.lit(True).alias(name))
            )
        candidates = candidates.join(flags, on=["line_id", "measure_id"], how="left")
    excluders = (
        exclusion_pairs(measure_set)
        .join(
            applied_full.select("line_id", pl.col("measure_id").alias("excluder")), on="excluder", how="inner"
        )
        .group_by("line_id", "measure_id")
        .agg(pl.col("excluder").sort().str.join(", ").alias("_excluders"))
    )
    ledger_info = ledger.select("line_id", "entry_date", "hts", "country_origin", "preference_program")
    candidates = (
        candidates.join(excluders, on=["line_id", "measure_id"], how="left")
        .join(ledger_info, on="line_id", how="left")
        .join(
            measures.select(
                "measure_id",
                "authority",
                "status",
                "window",
                "origin_text",
                "claim_text",
                "citation",
                "citation_url",
            ),
            on="measure_id",
            how="left",
        )
        .with_columns(_rank().alias("_rank"))
        .sort("line_id", "heading", "_rank", "measure_id")
        .unique(["line_id", "heading"], keep="first", maintain_order=True)
    )
    return candidates.select(
        "line_id",
        "heading",
        _reason_cause().alias("reason_cause"),
        _reason_text().alias("reason_text"),
        pl.col("measure_id").alias("reason_measure"),
        pl.col("authority").alias("reason_authority"),
        pl.col("citation").alias("reason_citation"),
        pl.col("citation_url").alias("reason_citation_url"),
    ).cast(pl.Schema(REASON_SCHEMA))


def _lift(m: Measure, variant: str) -> Measure:
    """A measure with one condition (or all) lifted and its stacking cleared, for a standalone test."""
    update: dict[str, object] = {"stacking": Stacking()}
    if variant in {"window", "all"}:
        update |= {"effective_from": None, "effective_until": None}
    if variant in {"origin", "all"}:
        update["origin"] = OriginScope()
    if variant in {"claim", "all"}:
        update |= {"claim": None, "exempt_if_claimed": None}
    return m.model_copy(update=update)


REASONS: tuple[tuple[str, Cause], ...] = (
    ("compared_elsewhere", Cause.heading_not_owed),
    ("zero_basis", Cause.heading_not_owed),
    ("suspended", Cause.heading_not_owed),
    ("excluded", Cause.heading_not_owed),
    ("window", Cause.date_window),
    ("origin", Cause.country_group),
    ("claim", Cause.programme_claimed),
    ("several", Cause.heading_not_owed),
    ("product", Cause.heading_not_owed),
    ("not_modelled", Cause.heading_not_modelled),
)
"""Why a reported heading is not owed, in the order a candidate measure's reason is preferred, and the
cause each reason is reported as."""


def _reason() -> pl.Expr:
    flag = lambda name: pl.col(name).fill_null(False)  # noqa: E731 - a reading aid for the chain below
    return (
        pl.when(pl.col("measure_id").is_null())
        .then(pl.lit("not_modelled"))
        .when(flag("in_full") & flag("_positive"))
        .then(pl.lit("compared_elsewhere"))
        .when(flag("in_full"))
        .then(pl.lit("zero_basis"))
        .when(pl.col("status") == "suspended")
        .then(pl.lit("suspended"))
        .when(flag("_v_strict"))
        .then(pl.lit("excluded"))
        .when(flag("_v_window"))
        .then(pl.lit("window"))
        .when(flag("_v_origin"))
        .then(pl.lit("origin"))
        .when(flag("_v_claim"))
        .then(pl.lit("claim"))
        .when(flag("_v_all"))
        .then(pl.lit("several"))
        .otherwise(pl.lit("product"))
    )


def _rank() -> pl.Expr:
    return _reason().replace_strict({key: i for i, (key, _) in enumerate(REASONS)}, return_dtype=pl.Int32)


def _reason_cause() -> pl.Expr:
    return _reason().replace_strict({key: cause.value for key, cause in REASONS}, return_dtype=pl.String)


def _reason_text() -> pl.Expr:
    reason = _reason()
    head = pl.col("heading") + pl.lit(" (") + pl.col("measure_id") + pl.lit(")")
    return (
        pl.when(reason == "not_modelled")
        .then(
            pl.col("heading")
            + pl.lit(
                " is not a heading of any measure in critmin's library (an exemption heading or a provision "
                "it does not model), so nothing is owed under it."
            )
        )
        .when(reason == "compared_elsewhere")
        .then(head + pl.lit(" applies to the line, but its duty is compared under its other heading."))
        .when(reason == "zero_basis")
        .then(
            head
            + pl.lit(
                " applies to the line on a basis of $0: the value is charged by a measure it does not stack "
                "on (such as Section 232 on the metal content)."
            )
        )
        .when(reason == "suspended")
        .then(head + pl.lit(" is suspended: it never took effect."))
        .when(reason == "excluded")
        .then(
            head
            + pl.lit(" covers the line, but ")
            + pl.coalesce(pl.col("_excluders"), pl.lit("another measure that applies"))
            + pl.lit(" excludes it on this line (stacking).")
        )
        .when(reason == "window")
        .then(
            head
            + pl.lit(" applies to entries ")
            + pl.col("window")
            + pl.lit("; this line entered ")
            + pl.col("entry_date").cast(pl.String)
            + pl.lit(".")
        )
        .when(reason == "origin")
        .then(
            head
            + pl.lit(" covers ")
            + pl.col("origin_text")
            + pl.lit("; origin ")
            + pl.col("country_origin")
            + pl.lit(" is not covered on ")
            + pl.col("entry_date").cast(pl.String)
            + pl.lit(".")
        )
        .when(reason == "claim")
        .then(
            head
            + pl.lit(" does not apply: ")
            + pl.col("claim_text")
            + pl.lit(", and the line claims ")
            + pl.coalesce(pl.col("preference_program"), pl.lit("no programme"))
            + pl.lit(".")
        )
        .when(reason == "several")
        .then(head + pl.lit(" does not apply on this line's date, origin and claim together."))
        .otherwise(head + pl.lit(" does not cover HTS ") + pl.col("hts") + pl.lit("."))
    )


def line_totals(slots: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """Per line: paid, owed (unknown when any slot's is), the difference and the causes that are not a
    match."""
    per = slots.group_by("line_id").agg(
        pl.col("paid").sum().alias("duty_paid"),
        pl.when(pl.col("variance").null_count() == 0).then(pl.col("expected").sum()).alias("duty_expected"),
        pl.col("cause")
        .filter(~pl.col("cause").is_in([Cause.match.value, Cause.rounding.value]))
        .unique(maintain_order=True)
        .alias("causes"),
    )
    return (
        ledger.select(
            "line_id",
            "entry_number",
            "line_number",
            "entry_date",
            "hts",
            "country_origin",
            "preference_program",
            "customs_value_usd",
            "content_origin",
            "liquidation_date",
            "liquidation_status",
        )
        .join(per, on="line_id", how="left")
        .with_columns((pl.col("duty_paid") - pl.col("duty_expected")).round(2).alias("variance"))
    )


__all__ = [
    "CAUSE_TEXT",
    "Cause",
    "compare",
    "expected_slots",
    "line_totals",
    "not_owed_reasons",
    "paid_slots",
]
