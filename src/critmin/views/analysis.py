"""One ledger's complete analysis: the results every view, report and web page is drawn from.

``analyse`` runs the engines once (duty today and under each scenario, supply risk, the Monte Carlo over a
scenario tree, optionally sourcing and investment appraisal) and keeps their results unchanged, so a number
shown anywhere can be recomputed by calling the same engine with the same inputs. Views only select,
aggregate and label these results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from critmin.duty.engine import ContentCase, evaluate
from critmin.duty.result import DutyResult
from critmin.errors import InputError
from critmin.invest import Appraisal, Project
from critmin.optimize import Problem, Solution
from critmin.policy.loader import MeasureSet, library_ids, load_scenario, shipped_scenario_paths
from critmin.policy.trees import Tree
from critmin.risk.company import LedgerRisk, ledger_risk
from critmin.views.simulation_run import SimulationOutcome, run_simulation

BASELINE_SCENARIO = "status_quo"
DEFAULT_TREE = "pcmdp_after_window"
DEFAULT_DRAWS = 2000
DEFAULT_SEED = 2026

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LedgerPeriod:
    """The calendar months the ledger's entries span, and the factor that turns its totals into a year.

    A ledger of 24 months of entries pays, per year, half of what the whole ledger pays: ``annual_factor``
    is 12 / months. Months are counted from the first entry's month to the last's, inclusive.
    """

    first: date | None
    last: date | None
    months: int

    @property
    def annual_factor(self) -> float:
        return 12.0 / self.months if self.months else 1.0

    @classmethod
    def of(cls, lines: pl.DataFrame) -> LedgerPeriod:
        dates = lines.get_column("entry_date").drop_nulls()
        if dates.is_empty():
            return cls(None, None, 12)
        first, last = dates.min(), dates.max()
        assert isinstance(first, date) and isinstance(last, date)
        months = (last.year - first.year) * 12 + (last.month - first.month) + 1
        return cls(first, last, months)


@dataclass(frozen=True)
class ScenarioRun:
    """A duty-engine run: the scenario's measures over every ledger line re-dated to ``eval_date``."""

    id: str
    title: str
    description: str
    eval_date: date
    result: DutyResult
    baseline: bool = False

    @property
    def duty(self) -> float:
        """Duty on the whole ledger, as the engine totals it (``DutyResult.totals()['duty']``)."""
        return float(self.result.totals()["duty"])


@dataclass(frozen=True)
class SourcingOutcome:
    name: str
    problem: Problem
    solution: Solution


@dataclass(frozen=True)
class InvestmentOutcome:
    name: str
    label: str
    unit: str
    project: Project
    appraisal: Appraisal


@dataclass
class Analysis:
    """Everything the report and the dashboard show for one ledger."""

    ledger_name: str
    ledger_sha256: str | None
    lines: pl.DataFrame
    rows_in: int
    rows_quarantined: int
    as_of: date
    content: str
    period: LedgerPeriod
    baseline: ScenarioRun
    scenarios: tuple[ScenarioRun, ...]
    risk: LedgerRisk
    timeline: pl.DataFrame
    simulation: SimulationOutcome | None = None
    sourcing: SourcingOutcome | None = None
    investments: tuple[InvestmentOutcome, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def runs(self) -> tuple[ScenarioRun, ...]:
        """The baseline first, then each scenario, in the order asked for."""
        return (self.baseline, *self.scenarios)

    def run(self, scenario: str | None = None) -> ScenarioRun:
        """The run of a scenario id (None = the baseline, duty in force on the report date)."""
        if scenario is None or scenario == self.baseline.id:
            return self.baseline
        for item in self.scenarios:
            if item.id == scenario:
                return item
        known = ", ".join(r.id for r in self.runs)
        raise InputError(f"No scenario {scenario!r} in this analysis; it has: {known}.")


# ---------------------------------------------------------------------------------------------------------
# building


@contextmanager
def _timed(timings: dict[str, float], step: str, progress: Progress) -> Iterator[None]:
    progress(step)
    started = time.perf_counter()
    yield
    timings[step] = time.perf_counter() - started


def scenario_eval_date(measure_set: MeasureSet, as_of: date) -> date:
    """The day a scenario is evaluated on: the report date, or later if the scenario starts later.

    Shipped PCMDP scenarios take effect on a ``start_date`` parameter; evaluating them before it would show
    the status quo under another name. Only the scenario's own measures (not the in-force library it builds
    on) decide the date.
    """
    own = library_ids()
    starts = [m.effective_from for m in measure_set.measures if m.id not in own and m.effective_from]
    return max([as_of, *starts])


def default_scenarios() -> list[str]:
    """Every shipped scenario other than the baseline, in name order."""
    return [name for name in shipped_scenario_paths() if name != BASELINE_SCENARIO]


def _scenario_run(
    name: str | Path,
    lines: pl.DataFrame,
    as_of: date,
    content: ContentCase,
    *,
    baseline: bool = False,
    overrides: Sequence[str] = (),
) -> ScenarioRun:
    measure_set = load_scenario(name, overrides)
    when = as_of if baseline else scenario_eval_date(measure_set, as_of)
    result = evaluate(lines, measure_set, as_of=when, content=content)
    return ScenarioRun(measure_set.id, measure_set.title, measure_set.description, when, result, baseline)


def analyse(
    lines: pl.DataFrame,
    *,
    ledger_name: str,
    ledger_sha256: str | None = None,
    rows_in: int | None = None,
    rows_quarantined: int = 0,
    as_of: date | None = None,
    scenarios: Sequence[str | Path] | None = None,
    parameters: Mapping[str, Sequence[str]] | None = None,
    tree: str | Path | Tree | None = DEFAULT_TREE,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    content: ContentCase = "central",
    sourcing: Problem | None = None,
    sourcing_name: str | None = None,
    projects: Sequence[Project] = (),
    progress: Progress = lambda _step: None,
) -> Analysis:
    """Run every engine once over canonical ledger ``lines`` (``critmin.ledger.schema``).

    ``as_of`` (default today) is the report date: duty "today" re-dates every line to it. ``scenarios``
    default to every shipped PCMDP scenario; each is compared with ``status_quo`` on the same lines.
    ``parameters`` maps a scenario to its ``--set`` overrides, e.g. ``{"trq": ["quota_kg=500000"]}``.
    ``tree`` (an id, a file or a loaded :class:`Tree`; None or ``draws=0`` to skip) drives the Monte Carlo.
    Sourcing and projects are optional.
    """
    from critmin.invest import appraise
    from critmin.invest.branches import branches_from_tree
    from critmin.monitor.timeline import all_events, timeline
    from critmin.optimize import solve
    from critmin.policy.trees import load_tree

    if lines.is_empty():
        raise InputError(f"{ledger_name}: the ledger has no loadable lines, so there is nothing to report.")
    when = as_of or date.today()
    # fail on a bad tree before any work
    loaded_tree = tree if isinstance(tree, Tree) or tree is None else load_tree(tree)
    overrides = parameters or {}
    timings: dict[str, float] = {}
    names = list(scenarios) if scenarios is not None else default_scenarios()
    with _timed(timings, "duty in force", progress):
        baseline = _scenario_run(BASELINE_SCENARIO, lines, when, content, baseline=True)
    runs: list[ScenarioRun] = []
    with _timed(timings, "duty under scenarios", progress):
        for name in names:
            if str(name) == BASELINE_SCENARIO:
                continue
            runs.append(_scenario_run(name, lines, when, content, overrides=overrides.get(str(name), ())))
    with _timed(timings, "supply risk", progress):
        risk = ledger_risk(lines, as_of=when)
    with _timed(timings, "deadlines", progress):
        events = timeline(all_events(), today=when, upcoming=True)
    simulation = None
    if loaded_tree is not None and draws > 0:
        with _timed(timings, "simulation", progress):
            simulation = run_simulation(lines, loaded_tree, draws=draws, seed=seed)
    sourcing_outcome = None
    if sourcing is not None:
        with _timed(timings, "sourcing optimisation", progress):
            sourcing_outcome = SourcingOutcome(sourcing_name or "sourcing problem", sourcing, solve(sourcing))
    investments: list[InvestmentOutcome] = []
    if projects:
        with _timed(timings, "investment appraisal", progress):
            for project in projects:
                branches = branches_from_tree(project, loaded_tree) if loaded_tree is not None else None
                appraisal = appraise(project, branches=branches, draws=draws, seed=seed)
                investments.append(
                    InvestmentOutcome(project.name, project.label, project.unit, project, appraisal)
                )
    return Analysis(
        ledger_name=ledger_name,
        ledger_sha256=ledger_sha256,
        lines=lines,
        rows_in=rows_in if rows_in is not None else lines.height + rows_quarantined,
        rows_quarantined=rows_quarantined,
        as_of=when,
        content=content,
        period=LedgerPeriod.of(lines),
        baseline=baseline,
        scenarios=tuple(runs),
        risk=risk,
        timeline=events,
        simulation=simulation,
        sourcing=sourcing_outcome,
        investments=tuple(investments),
        timings=timings,
    )


def analyse_file(path: Path, *, progress: Progress = lambda _step: None, **options: Any) -> Analysis:
    """Ingest a ledger file (rows that fail validation are quarantined and counted), then ``analyse`` it."""
    from critmin.ledger.ingest import ingest

    progress("reading the ledger")
    result = ingest(Path(path))
    return analyse(
        result.lines,
        ledger_name=Path(path).name,
        ledger_sha256=result.source.sha256,
        rows_in=result.rows_in,
        rows_quarantined=result.rows_quarantined,
        progress=progress,
        **options,
    )
