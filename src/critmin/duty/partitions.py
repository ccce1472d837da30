"""A ledger in partitions: batches in entry-date order, and the quota fill carried between them.

Quotas are the only mechanism that crosses lines: a quota fills in entry-date order over the whole ledger.
:func:`evaluate_batches` threads the fill through batches one after another; for partitions evaluated in
parallel, :func:`quota_usage` measures what each partition draws, :func:`quota_openings` /
:func:`next_opening` chain them, and each partition is then evaluated from its own opening.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date

import polars as pl

from critmin.duty.dimension import DimensionCache
from critmin.duty.engine import ContentCase, LedgerInput, as_measure_set, closing_fill, evaluate
from critmin.duty.quotas import QUOTA_FILL_SCHEMA, empty_fill
from critmin.duty.references import References, shipped_references
from critmin.duty.result import DutyResult
from critmin.duty.stacking import excluders
from critmin.errors import InputError
from critmin.policy.loader import MeasureSet
from critmin.policy.models import LegalStatus, Measure


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
    return closing_fill(ledger, subset, as_of, refs, cache)


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


__all__ = ["evaluate_batches", "next_opening", "quota_openings", "quota_usage"]
