"""How many lines a scenario's own measures reach in a duty run, and why the others are not reached.

A scenario adds measures to the in-force library, each applying to entries inside its dated window (for the
shipped PCMDP scenarios, from their ``start_date`` parameter). On a ledger of past entries such a scenario
may reach few lines or none, and a total that equals the status quo is then not evidence that the scenario
costs nothing. :func:`scenario_reach` counts, over the run's evaluation dates (entry dates, or the ``--as-of``
date for every line):

* ``inside``: lines dated inside the window of at least one of the scenario's measures; ``before`` /
  ``after``: dated before every window starts / after every window ends (``between``: in a gap between
  windows; ``undated``: no evaluation date);
* ``reached``: lines one of the scenario's measures applies to (in its products and origins, not excluded
  by another measure), and ``paying``: those where it charges a non-zero amount.

``text()`` says it in one sentence with the way to change it (``--as-of``, ``--set start_date=...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from critmin.duty.lines import DATE
from critmin.policy.loader import library_ids
from critmin.policy.models import LegalStatus, Measure

if TYPE_CHECKING:
    from critmin.duty.result import DutyResult

START_PARAMETER = "start_date"


@dataclass(frozen=True)
class ScenarioReach:
    """The lines a scenario's own measures reach in one run (see the module docstring)."""

    scenario: str
    measures: tuple[str, ...]
    windows: tuple[str, ...]
    start: date | None
    """The earliest ``effective_from`` of the scenario's measures (None: one of them has no start)."""
    start_parameter: dict[str, Any] | None
    """The ``start_date`` parameter as used (``value``, ``example``, ``overridden``), if there is one."""
    as_of: date | None
    lines: int
    first_date: date | None
    last_date: date | None
    inside: int
    before: int
    after: int
    between: int
    undated: int
    reached: int
    paying: int

    def as_dict(self) -> dict[str, Any]:
        """The ``scenario_reach`` object of the JSON output."""
        return {
            "scenario": self.scenario,
            "measures": list(self.measures),
            "windows": list(self.windows),
            "start": self.start.isoformat() if self.start else None,
            "start_parameter": self.start_parameter,
            "lines": self.lines,
            "evaluation_dates": {
                "first": self.first_date.isoformat() if self.first_date else None,
                "last": self.last_date.isoformat() if self.last_date else None,
                "redated_to": self.as_of.isoformat() if self.as_of else None,
            },
            "dated_inside": self.inside,
            "dated_before": self.before,
            "dated_after": self.after,
            "dated_between": self.between,
            "undated": self.undated,
            "reached": self.reached,
            "paying": self.paying,
            "text": self.text(),
        }

    def _when(self) -> str:
        if len(self.windows) != 1:
            return "inside their windows (" + "; ".join(self.windows) + ")"
        start, _, end = self.windows[0].partition(" .. ")
        if start == "…" and end == "…":
            return "on every date"
        if end == "…":
            return f"on or after {start}"
        if start == "…":
            return f"up to {end}"
        return f"from {start} to {end}"

    def _parameter(self) -> str:
        p = self.start_parameter
        if p is None:
            return ""
        how = "set with --set" if p["overridden"] else "an example value" if p["example"] else "the default"
        return f" (parameter {START_PARAMETER} = {p['value']}, {how})"

    def text(self) -> str:
        """One sentence: how many lines the scenario reaches, and why the others are not reached."""
        head = (
            f"Scenario {self.scenario} reaches {self.reached} of {self.lines} line"
            f"{'' if self.lines == 1 else 's'}"
        )
        n = len(self.measures)
        rule = ("its measure applies" if n == 1 else f"its {n} measures apply") + (
            f" to entries {self._when()}{self._parameter()}"
        )
        if self.as_of is not None:
            dated = f"every line is evaluated as if entered on {self.as_of.isoformat()}"
        elif self.first_date is not None:
            dated = f"the lines are evaluated on their entry dates, {self.first_date} .. {self.last_date}"
        else:
            dated = "the lines have no dates"
        parts = [f"{head}: {rule}; {dated}"]
        outside = [
            f"{n} dated {label}"
            for n, label in (
                (self.before, "before " + (self.start.isoformat() if self.start else "the window")),
                (self.after, "after the window ends"),
                (self.between, "between windows"),
                (self.undated, "without a date"),
            )
            if n
        ]
        if outside:
            fix = "re-date the lines with --as-of"
            if self.start_parameter is not None and self.before:
                fix += f" or move the start with --set {START_PARAMETER}=YYYY-MM-DD"
            parts.append(", ".join(outside) + f" and so not reached ({fix})")
        if self.inside:
            are = "is" if self.reached == 1 else "are"
            scope = f"of the {self.inside} dated inside, {self.reached} {are} in its products and origins"
            other = self.inside - self.reached
            if other == 1:
                scope += " (the other one is not, or another measure excludes it there)"
            elif other:
                scope += f" (the other {other} are not, or another measure excludes it there)"
            scope += f" and {self.paying} {'pays' if self.paying == 1 else 'pay'} a non-zero amount under it"
            parts.append(scope)
        return "; ".join(parts) + "."


def own_measures(result: DutyResult) -> list[Measure]:
    """The measures the scenario adds to the in-force library (suspended ones never apply)."""
    library = library_ids()
    return [
        m
        for m in result.measure_set.measures
        if m.id not in library and m.status is not LegalStatus.suspended
    ]


def scenario_reach(result: DutyResult) -> ScenarioReach | None:
    """How many lines the scenario's own measures reach in ``result`` (None: it adds no measure)."""
    own = own_measures(result)
    if not own:
        return None
    ids = {m.id for m in own}
    dates = result.lines.get_column("eval_date") if "eval_date" in result.lines.columns else None
    height = result.lines.height
    inside = np.zeros(height, dtype=bool)
    before = np.zeros(height, dtype=bool)
    after = np.zeros(height, dtype=bool)
    undated = np.ones(height, dtype=bool)
    first = last = None
    if dates is not None and height:
        frame = pl.DataFrame({DATE: dates})
        undated = frame.get_column(DATE).is_null().to_numpy()
        first, last = frame.select(pl.col(DATE).min().alias("a"), pl.col(DATE).max().alias("b")).row(0)
        for m in own:
            cond = pl.lit(True)
            if m.effective_from is not None:
                cond = cond & (pl.col(DATE) >= m.effective_from)
            if m.effective_until is not None:
                cond = cond & (pl.col(DATE) <= m.effective_until)
            inside |= frame.select(cond.fill_null(False)).to_series().to_numpy()
        starts = [m.effective_from for m in own]
        ends = [m.effective_until for m in own]
        if all(s is not None for s in starts):
            earliest = min(s for s in starts if s is not None)
            before = frame.select((pl.col(DATE) < earliest).fill_null(False)).to_series().to_numpy()
        if all(e is not None for e in ends):
            latest = max(e for e in ends if e is not None)
            after = frame.select((pl.col(DATE) > latest).fill_null(False)).to_series().to_numpy()
    reached = np.zeros(height, dtype=bool)
    paying = np.zeros(height, dtype=bool)
    for emission in result.emissions:
        if emission.constants.get("measure_id") not in ids or not emission.rows.height:
            continue
        rows = emission.rows.get_column("_row").to_numpy()
        reached[rows] = True
        amount = emission.rows.get_column("amount").fill_null(0.0).to_numpy()
        paying[rows[amount != 0]] = True
    starts_known = [m.effective_from for m in own if m.effective_from is not None]
    start = min(starts_known) if len(starts_known) == len(own) else None
    windows = tuple(dict.fromkeys(m.window_text() for m in own))
    parameter = result.measure_set.parameters.get(START_PARAMETER)
    n_inside = int(inside.sum())
    n_before = int((before & ~inside).sum())
    n_after = int((after & ~inside).sum())
    n_undated = int(undated.sum())
    return ScenarioReach(
        scenario=result.measure_set.id,
        measures=tuple(m.id for m in own),
        windows=windows,
        start=start,
        start_parameter=(
            {
                "value": parameter.value.isoformat()
                if isinstance(parameter.value, date)
                else parameter.value,
                "example": parameter.example,
                "overridden": parameter.overridden,
            }
            if parameter is not None
            else None
        ),
        as_of=result.as_of,
        lines=height,
        first_date=first,
        last_date=last,
        inside=n_inside,
        before=n_before,
        after=n_after,
        between=height - n_inside - n_before - n_after - n_undated,
        undated=n_undated,
        reached=int(reached.sum()),
        paying=int(paying.sum()),
    )
