"""What the measure library says about Chapter 99 headings, claims and content, as tables to join on.

The reconciliation compares the duty paid under each Chapter 99 heading of an entry line with the duty
the engine finds under the measure that reports that heading (a measure's ``headings`` in the library).
These tables are built once per measure set (a loop over measures, never over lines):

* :func:`measure_table` - one row per measure: its headings, the label its slot gets when the line does not
  report it, status, refund eligibility, window, origin and claim conditions in words, first citation;
* :func:`heading_table` - one row per (heading, measure);
* :func:`exclusion_pairs` - which measure excludes which (stacking ``excludes``), to name the excluder;
* :func:`claim_eligible` - whether a line's claimed programme is open to its origin on its date;
* :func:`declared_content` - the metal content an entry line declares through its Section 232 content
  headings (9903.78.01 copper content, 9903.78.02 the rest), when your own data gives none.
"""

from __future__ import annotations

import polars as pl

from critmin.policy.loader import MeasureSet, resolve_refs
from critmin.policy.models import Basis, LegalStatus, Measure
from critmin.refdata.groups import flag

REFUND_PREFIXES = ("9903.01.", "9903.02.")
"""Chapter 99 headings of the IEEPA actions (U.S. note 2 of subchapter III): refundable after the Supreme
Court's decision, whether or not the library models the heading (CSMS #68396594)."""

MEASURE_SCHEMA: dict[str, pl.DataType] = {
    "measure_id": pl.String(),
    "title": pl.String(),
    "authority": pl.String(),
    "status": pl.String(),
    "refund_eligible": pl.Boolean(),
    "headings": pl.List(pl.String()),
    "label": pl.String(),
    "window": pl.String(),
    "origin_text": pl.String(),
    "claim_text": pl.String(),
    "exempt_programmes": pl.List(pl.String()),
    "citation": pl.String(),
    "citation_url": pl.String(),
}


def slot_label(headings: list[str]) -> str:
    """How a measure's slot is named when the line reports none of its headings."""
    if not headings:
        return "column 1"
    if len(headings) <= 3:
        return " / ".join(headings)
    return f"{headings[0]} … {headings[-1]} ({len(headings)} headings by origin)"


def _origin_text(m: Measure) -> str:
    scope = m.origin
    parts: list[str] = []
    if scope.countries:
        shown = ", ".join(scope.countries[:8]) + (
            f" and {len(scope.countries) - 8} more" if len(scope.countries) > 8 else ""
        )
        parts.append(shown)
    if scope.groups:
        parts.append("members of " + ", ".join(scope.groups) + " on the entry date")
    text = "; ".join(parts) if parts else "every origin"
    excluded = [*scope.exclude_countries, *(f"members of {g}" for g in scope.exclude_groups)]
    if excluded:
        text += " except " + ", ".join(excluded[:8])
    return text


def _claim_text(m: Measure) -> str:
    if m.exempt_if_claimed is not None:
        items = []
        for code, origin in m.exempt_if_claimed.programmes.items():
            who = ", ".join([*origin.countries, *origin.groups]) or "any origin"
            items.append(f"{code} ({who})")
        return "goods claiming " + "; ".join(items) + " are exempt"
    if m.claim is not None:
        return "needs a claim of " + ", ".join(m.claim.programmes)
    return ""


def measure_table(measure_set: MeasureSet) -> pl.DataFrame:
    """One row per measure of the set (see the module docstring)."""
    rows = [
        {
            "measure_id": m.id,
            "title": m.title,
            "authority": m.authority.value,
            "status": m.status.value,
            "refund_eligible": m.refund_eligible,
            "headings": list(m.headings),
            "label": slot_label(list(m.headings)),
            "window": m.window_text(),
            "origin_text": _origin_text(m),
            "claim_text": _claim_text(m),
            "exempt_programmes": list(m.exempt_if_claimed.programmes) if m.exempt_if_claimed else [],
            "citation": m.citations[0].document,
            "citation_url": m.citations[0].url,
        }
        for m in measure_set.measures
    ]
    return pl.DataFrame(rows, schema=MEASURE_SCHEMA)


def heading_table(measures: pl.DataFrame) -> pl.DataFrame:
    """(heading, measure_id) for every heading a measure reports."""
    return (
        measures.select("measure_id", "headings")
        .explode("headings", empty_as_null=False)
        .drop_nulls("headings")
        .rename({"headings": "heading"})
    )


def refund_headings(measures: pl.DataFrame) -> pl.Expr:
    """True for a heading of a refund-eligible (invalidated) measure or of the IEEPA subchapter."""
    library = heading_table(measures.filter(pl.col("refund_eligible"))).get_column("heading").unique()
    heading = pl.col("heading")
    prefix = pl.any_horizontal(*(heading.str.starts_with(p) for p in REFUND_PREFIXES))
    return (heading.is_in(library.implode()) | prefix).fill_null(False)


def exclusion_pairs(measure_set: MeasureSet) -> pl.DataFrame:
    """(excluder, excluded) for every stacking exclusion in the set."""
    measures = measure_set.measures
    pairs = [
        (m.id, target)
        for m in measures
        for ref in m.stacking.excludes
        for target in resolve_refs(ref, measures, self_id=m.id)
    ]
    return pl.DataFrame(
        {"excluder": [a for a, _ in pairs], "measure_id": [b for _, b in pairs]},
        schema={"excluder": pl.String, "measure_id": pl.String},
    )


def claim_eligible(lines: pl.DataFrame, measure_set: MeasureSet) -> pl.DataFrame:
    """``lines`` with ``claim_eligible``: null without a claim, else whether the claimed programme is
    open to the line's origin on its entry date (from the library's ``claim`` programmes; a programme the
    library does not list is taken as open). Group membership is looked up once per group."""
    countries: list[tuple[str, str]] = []
    groups: list[tuple[str, str]] = []
    for m in measure_set.measures:
        if m.claim is None:
            continue
        for code, origin in m.claim.programmes.items():
            countries += [(code, c) for c in origin.countries]
            groups += [(code, g) for g in origin.groups]
    listed = {code for code, _ in [*countries, *groups]}
    frame = lines.with_columns(pl.lit(False).alias("_eligible"))
    by_country = pl.DataFrame(
        {"preference_program": [c for c, _ in countries], "country_origin": [x for _, x in countries]},
        schema={"preference_program": pl.String, "country_origin": pl.String},
    ).unique()
    frame = frame.join(
        by_country.with_columns(pl.lit(True).alias("_by_country")),
        on=["preference_program", "country_origin"],
        how="left",
        maintain_order="left",
    ).with_columns((pl.col("_eligible") | pl.col("_by_country").fill_null(False)).alias("_eligible"))
    for group in sorted({g for _, g in groups}):
        codes = sorted({c for c, g in groups if g == group})
        frame = flag(frame, group, country_col="country_origin", date_col="entry_date", out="_member")
        frame = frame.with_columns(
            (pl.col("_eligible") | (pl.col("preference_program").is_in(codes) & pl.col("_member"))).alias(
                "_eligible"
            )
        ).drop("_member")
    spi = pl.col("preference_program")
    return frame.with_columns(
        pl.when(spi.is_null())
        .then(None)
        .when(~spi.is_in(sorted(listed)))
        .then(pl.lit(True))
        .otherwise(pl.col("_eligible").fill_null(False))
        .alias("claim_eligible")
    ).drop("_eligible", "_by_country")


def content_headings(measure_set: MeasureSet) -> pl.DataFrame:
    """(heading, mineral, part) for the headings of single-heading Section 232 content measures: ``part``
    ``content`` (a content-value basis) or ``rest`` (the non-content value). Measures that list several
    headings do not say which is which, and are left out."""
    rows: list[tuple[str, str, str]] = []
    for m in measure_set.measures:
        if len(m.headings) != 1 or m.content is None or not isinstance(m.content.minerals, list):
            continue
        if m.basis is Basis.content_value:
            rows += [(m.headings[0], mineral, "content") for mineral in m.content.minerals]
        elif m.basis is Basis.non_content_value:
            rows += [(m.headings[0], mineral, "rest") for mineral in m.content.minerals]
    return pl.DataFrame(
        {"heading": [r[0] for r in rows], "mineral": [r[1] for r in rows], "part": [r[2] for r in rows]},
        schema={"heading": pl.String, "mineral": pl.String, "part": pl.String},
    ).unique()


def declared_content(lines: pl.DataFrame, tariffs: pl.DataFrame, measure_set: MeasureSet) -> pl.DataFrame:
    """``lines`` with the content the engine uses and where it comes from (``content_origin``).

    Your own content columns win (``your data``). Otherwise a line that reports only the content heading
    of a metal (9903.78.01) declares its whole value as that content; one that reports only the other
    heading (9903.78.02, the non-copper part of a split line) declares none; one that reports both declares
    the content row's own value when the export gives it. Without either, the engine applies CBP's rule
    (unknown content counts as the whole value) and says so.
    """
    table = content_headings(measure_set)
    reported = tariffs.filter(pl.col("kind") == "ch99").join(table, on="heading", how="inner")
    per_line = reported.group_by("line_id", "mineral").agg(
        (pl.col("part") == "content").any().alias("_content"),
        (pl.col("part") == "rest").any().alias("_rest"),
        pl.col("declared_value")
        .filter((pl.col("part") == "content") & (pl.col("declared_value") > 0))
        .sum()
        .alias("_row_value"),
    )
    per_line = per_line.sort("line_id", "mineral").unique("line_id", keep="first")
    frame = lines.join(per_line, on="line_id", how="left", maintain_order="left")
    declared_value = (
        pl.when(pl.col("_content") & ~pl.col("_rest"))
        .then(pl.col("customs_value_usd"))
        .when(~pl.col("_content") & pl.col("_rest"))
        .then(pl.lit(0.0))
        .when(pl.col("_row_value") > 0)
        .then(pl.col("_row_value"))
    )
    own = pl.col("content_value_usd").is_not_null() | pl.col("content_kg").is_not_null()
    return frame.with_columns(
        pl.when(own)
        .then(pl.lit("your data"))
        .when(declared_value.is_not_null())
        .then(pl.lit("declared"))
        .alias("content_origin"),
        pl.when(own).then(pl.col("content_mineral")).otherwise(pl.col("mineral")).alias("content_mineral"),
        pl.when(own).then(pl.col("content_value_usd")).otherwise(declared_value).alias("content_value_usd"),
        pl.when(own).then(declared_value).alias("declared_content_value"),
    ).drop("_content", "_rest", "_row_value", "mineral")


def suspended_ids(measure_set: MeasureSet) -> list[str]:
    """Measures that never took effect."""
    return [m.id for m in measure_set.measures if m.status is LegalStatus.suspended]


__all__ = [
    "REFUND_PREFIXES",
    "claim_eligible",
    "content_headings",
    "declared_content",
    "exclusion_pairs",
    "heading_table",
    "measure_table",
    "refund_headings",
    "slot_label",
    "suspended_ids",
]
