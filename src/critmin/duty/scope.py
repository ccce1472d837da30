"""Does a measure reach a line? Product, origin, date window and preference claim, as Boolean expressions.

Product scope is evaluated on the distinct HTS codes (the ``dim`` frame); the others are row expressions on
the prepared lines. Each test is separate so ``explain`` can say which one failed for a line.
"""

from __future__ import annotations

import polars as pl

from critmin.duty.lines import DATE, country_column, flag_column, prefix_match, to_literal_list
from critmin.duty.references import References
from critmin.policy.models import Measure, OriginScope, ProgrammeOrigin


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
        return bool(s.minerals is not None or s.stages is not None or s.classified or content_classified or floor)

    return any(uses(m) for m in measures)


def _membership(country: pl.Expr, country_name: str, countries: list[str], groups: list[str]) -> pl.Expr:
    expr = pl.lit(False)
    if countries:
        expr = country.is_in(to_literal_list(countries)).fill_null(False)
    for group in groups:
        expr = expr | pl.col(flag_column(country_name, group))
    return expr


def origin_mask(scope: OriginScope) -> pl.Expr:
    name, country = country_column(scope.country_field, scope.fallback_to_origin)
    included = pl.lit(True) if scope.covers_all else _membership(country, name, scope.countries, scope.groups)
    if scope.exclude_countries or scope.exclude_groups:
        included = included & ~_membership(country, name, scope.exclude_countries, scope.exclude_groups)
    return included & country.is_not_null()


def programme_origin_mask(eligible: ProgrammeOrigin) -> pl.Expr:
    if not eligible.countries and not eligible.groups:
        return pl.lit(True)
    return _membership(pl.col("country_origin"), "country_origin", eligible.countries, eligible.groups)


def window_mask(measure: Measure) -> pl.Expr:
    expr = pl.col(DATE).is_not_null()
    if measure.effective_from is not None:
        expr = expr & (pl.col(DATE) >= pl.lit(measure.effective_from, dtype=pl.Date))
    if measure.effective_until is not None:
        expr = expr & (pl.col(DATE) <= pl.lit(measure.effective_until, dtype=pl.Date))
    return expr.fill_null(False)


def claim_mask(measure: Measure) -> pl.Expr:
    """True where no claim is needed, or the line claims a listed programme from an eligible origin."""
    if measure.claim is None:
        return pl.lit(True)
    program = pl.col("preference_program").str.strip_chars().str.to_uppercase()
    expr = pl.lit(False)
    for code, eligible in measure.claim.programmes.items():
        expr = expr | ((program == code.upper()) & programme_origin_mask(eligible))
    return expr.fill_null(False)


def wanted_groups(measures: tuple[Measure, ...]) -> dict[str, set[str]]:
    """Country column -> groups whose dated membership the measures ask about."""
    wanted: dict[str, set[str]] = {}
    for m in measures:
        name, _ = country_column(m.origin.country_field, m.origin.fallback_to_origin)
        wanted.setdefault(name, set()).update(m.origin.group_ids())
        if m.claim is not None:
            for eligible in m.claim.programmes.values():
                wanted.setdefault("country_origin", set()).update(eligible.groups)
        if m.quota is not None:
            for allocation in m.quota.allocations:
                wanted.setdefault(name, set()).update(allocation.groups)
    return wanted


def country_columns(measures: tuple[Measure, ...]) -> dict[str, pl.Expr]:
    """Derived country columns (e.g. smelt/cast country falling back to origin) the masks refer to."""
    out: dict[str, pl.Expr] = {}
    for m in measures:
        name, expr = country_column(m.origin.country_field, m.origin.fallback_to_origin)
        if name not in {"country_origin", "country_export", "country_smelt_cast"}:
            out[name] = expr
    return out
