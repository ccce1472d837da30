"""The duty engine behind alerts: current duty per line, and the change a measure or scenario makes.

``measure`` in a watchlist names either a **scenario** (a shipped one such as ``s232_tariff_non_partners``, or
the path of a scenario YAML file) or a **measure of the in-force library** (such as
``s301_2026_graphite_magnets_batteries``). The dollar change is:

* scenario: duty under the scenario minus duty under the in-force library;
* library measure: duty under the in-force library minus duty without that measure (what it costs).

Both sides are evaluated with every trailing-year ledger line re-dated to one day, ``as_of``: today, or the
first day the changed measures take effect when that is later. The question answered is "if the last twelve
months of imports entered under this measure, what would they pay", which is what a document announcing a
future measure means for the business. Current duty, in contrast, is evaluated on each line's own entry date.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from critmin.errors import CritminError
from critmin.monitor.alerts import MeasureChange

if TYPE_CHECKING:
    from critmin.duty.engine import ContentCase


class EngineDutyModel:
    """:class:`~critmin.monitor.alerts.DutyModel` over ``critmin.duty.engine.evaluate``."""

    def __init__(self, *, today: date | None = None, content: ContentCase = "central") -> None:
        self.today = today or date.today()
        self.content = content

    def current(self, ledger: pl.DataFrame) -> pl.DataFrame:
        from critmin.duty.engine import evaluate
        from critmin.policy.loader import in_force_set

        result = evaluate(ledger, in_force_set(), content=self.content)
        return result.lines.select("line_id", pl.col("duty").alias("duty_usd"))

    def change(self, ledger: pl.DataFrame, measure_id: str) -> MeasureChange:
        from critmin.duty.engine import evaluate
        from critmin.policy.loader import MeasureSet, in_force_set, library_ids, load_scenario

        try:
            before: MeasureSet
            after: MeasureSet
            if measure_id in library_ids():
                after = in_force_set()
                before = MeasureSet(
                    "in_force_without",
                    f"In force without {measure_id}",
                    "The in-force library minus one measure.",
                    tuple(m for m in after.measures if m.id != measure_id),
                )
                changed = [m for m in after.measures if m.id == measure_id]
                title = changed[0].title
            else:
                before = in_force_set()
                after = load_scenario(measure_id)
                known = {m.id for m in before.measures}
                changed = [m for m in after.measures if m.id not in known]
                title = after.title
            starts = [m.effective_from for m in changed if m.effective_from is not None]
            as_of = max([self.today, *([min(starts)] if starts else [])])
            lines_before = evaluate(ledger, before, as_of=as_of, content=self.content)
            lines_after = evaluate(ledger, after, as_of=as_of, content=self.content)
        except CritminError as exc:
            return MeasureChange(
                measure_id, pl.DataFrame(schema={"line_id": pl.String}), None, None, f"cannot evaluate: {exc}"
            )
        frame = lines_before.lines.select("line_id", pl.col("duty").alias("duty_before_usd")).join(
            lines_after.lines.select("line_id", pl.col("duty").alias("duty_after_usd")),
            on="line_id",
            how="full",
            coalesce=True,
        )
        return MeasureChange(measure_id, frame, as_of, title)


def unknown_measures(measure_ids: list[str], *, base: Path | None = None) -> list[str]:
    """Ids that are neither a library measure, a shipped scenario, nor an existing scenario file."""
    from critmin.policy.loader import library_ids, shipped_scenario_paths

    known = set(library_ids()) | set(shipped_scenario_paths())
    out = []
    for measure in measure_ids:
        path = Path(measure)
        if not path.is_absolute() and base is not None:
            path = base / path
        if measure not in known and not path.is_file():
            out.append(measure)
    return out
