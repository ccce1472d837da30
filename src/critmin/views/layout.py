"""Every view in report order, as sections of titled tables and figures with their number formats.

The HTML report, the workbook (one sheet per table) and the dashboard all walk this list, so they cannot
disagree about what is shown or how a column is formatted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import plotly.graph_objects as go
import polars as pl

from critmin.views import breakdown, calendar, decisions, risk, scenarios, simulation, sources, summary
from critmin.views.analysis import Analysis
from critmin.views.formatting import number, usd

ColumnFormat = Literal["usd", "usd2", "pct", "int", "float", "date", "text", "url"]
"""usd: whole dollars; usd2: dollars and cents (unit prices); pct: a fraction shown as a percentage."""

_USD_WORDS = (
    "usd",
    "duty",
    "value",
    "annual",
    "change",
    "cost",
    "npv",
    "mean",
    "price",
    "lcop",
    "p5",
    "p50",
    "p95",
    "var95",
    "cvar95",
    "low",
    "high",
    "range",
    "objective",
    "paid",
    "refund",
    "floor",
)
_PCT_WORDS = ("share", "rate", "pct", "prob", "irr", "volatility")
_INT_WORDS = ("lines", "rows", "n_", "count", "days", "measures_applied", "issues", "months", "draws")


def column_format(name: str, dtype: pl.DataType) -> ColumnFormat:
    """How a column is shown: from its type and, for numbers, its name (``*_share`` is a percentage...)."""
    lowered = name.lower()
    if dtype == pl.Date or dtype == pl.Datetime:
        return "date"
    if lowered in ("url", "source_url"):
        return "url"
    if lowered in ("year", "import_id", "run_id", "source_row"):
        return "text"
    if dtype.is_integer() or any(lowered.startswith(w) or lowered == w for w in _INT_WORDS):
        return "int" if dtype.is_numeric() else "text"
    if not dtype.is_numeric():
        return "text"
    if lowered in (
        "hhi_10000",
        "quantity",
        "current_quantity",
        "capacity",
        "payback_years",
        "shadow_price",
        "change_per_point",
        "risk",
        "hhi",
        "score",
        "cf",
    ):
        return "float"
    if any(w in lowered for w in _PCT_WORDS):
        return "pct"
    if any(w in lowered for w in _USD_WORDS):
        return "usd"
    return "float"


@dataclass(frozen=True)
class TableView:
    id: str
    title: str
    frame: pl.DataFrame
    note: str | None = None
    formats: dict[str, ColumnFormat] = field(default_factory=dict)

    def format_of(self, column: str) -> ColumnFormat:
        return self.formats.get(column) or column_format(column, self.frame.schema[column])


@dataclass(frozen=True)
class FigureView:
    id: str
    figure: go.Figure
    caption: str | None = None


@dataclass(frozen=True)
class Section:
    """A part of the report: paragraphs (``text``), then a list of parallel statements (``items``, one per
    scenario, say), then the figures and tables."""

    id: str
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    figures: list[FigureView] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


def today_basis(a: Analysis) -> str:
    """What "duty today" means in the report, and how the duty commands reproduce or differ from it.

    The report re-dates every line to the report date, while ``critmin exposure`` without ``--as-of``
    evaluates each line on its own entry date, under the law in force then; the two "status quo" figures
    differ, so the report says which one it shows.
    """
    day = a.as_of.isoformat()
    return (
        f"Duty today is the law in force on {day} applied to every ledger line as if it entered that day "
        f"(the status_quo scenario, as “critmin exposure FILE --scenario status_quo --as-of {day}” "
        "computes it), not the duty assessed when the goods entered: without --as-of, “critmin exposure "
        "FILE” evaluates each line on its own entry date under the law then in force, and so shows a "
        "different status-quo figure."
    )


def _summary(a: Analysis) -> Section:
    sentences = summary.executive_summary(a)["sentences"]
    table = TableView("headline", "Headline numbers", summary.headline_table(a), note=today_basis(a))
    return Section("summary", "Executive summary", tables=[table], items=sentences)


def _scenarios(a: Analysis) -> Section:
    text = (
        "Each scenario is evaluated by the duty engine over every ledger line, re-dated to the day the "
        "scenario "
        "is in force (the report date, or the scenario's start date if later). Annual figures scale the "
        f"ledger's {a.period.months} months of entries to twelve (× {a.period.annual_factor:.4g})."
    )
    reach = scenarios.reach_sentences(a)
    lead = "Which ledger lines each scenario's own measures reach, and why the others are not reached:"
    table = TableView("scenario_comparison", "Duty by scenario", scenarios.scenario_comparison(a))
    return Section(
        "scenarios",
        "Scenarios compared",
        [text, today_basis(a), *([lead] if reach else [])],
        [table],
        [FigureView("scenario_figure", scenarios.scenario_figure(a))],
        items=reach,
    )


def _exposure(a: Analysis) -> Section:
    today = "(in force today)"
    run_formats: dict[str, ColumnFormat] = {r.id: "usd" for r in a.runs}
    tables = [
        TableView("exposure_mineral", f"By mineral {today}", breakdown.exposure(a, "mineral")),
        TableView("exposure_origin", f"By country of origin {today}", breakdown.exposure(a, "origin")),
        TableView("exposure_supplier", f"By supplier {today}", breakdown.exposure(a, "supplier")),
        TableView("exposure_hts", f"By HTS code {today}", breakdown.exposure(a, "hts")),
        TableView("exposure_measure", f"By measure {today}", breakdown.exposure(a, "measure")),
        TableView(
            "exposure_matrix_mineral",
            "Annual duty by mineral under each scenario",
            breakdown.exposure_matrix(a, "mineral"),
            formats=run_formats,
        ),
        TableView("import_sources", "Import sources", breakdown.import_sources(a)),
        TableView("flows", "Flows: origin → mineral → product", breakdown.flows(a)),
    ]
    figures = [
        FigureView("exposure_mineral_figure", breakdown.exposure_figure(a, "mineral")),
        FigureView("exposure_origin_figure", breakdown.exposure_figure(a, "origin")),
        FigureView("sankey", breakdown.sankey_figure(a)),
        FigureView("world_map", breakdown.world_map_figure(a)),
    ]
    text = ["Duty in force on the report date, by dimension; the charts set each scenario beside it."]
    return Section("exposure", "Where the duty falls", text, tables, figures)


def _simulation(a: Analysis) -> Section | None:
    sim = a.simulation
    if sim is None:
        return None
    text = [
        f"Tree “{sim.tree_title}” ({sim.tree_id}): {sim.tree_note}",
        f"{sim.draws:,} draws (seed {sim.seed}) over {sim.months} months from {sim.start:%d %b %Y}. "
        "The cost is duty plus payments to exporters under price undertakings. The simulation places each "
        "ledger line on its calendar month inside the horizon, so measures starting or ending there apply "
        "from their dates; its status-quo branch can differ a little from the duty in force on the report "
        "date.",
        *sim.notes,
    ]
    tables = [
        TableView(
            "simulation_summary",
            "Distribution of the simulated annual cost",
            simulation.simulation_summary(a),
        ),
        TableView("simulation_branches", "Expected cost by branch", simulation.simulation_branches(a)),
        TableView("simulation_by_mineral", "Expected cost by mineral", simulation.simulation_by_mineral(a)),
        TableView("tornado", "Sensitivity (tornado)", simulation.tornado(a)),
    ]
    figures = [
        FigureView("distribution", simulation.distribution_figure(a)),
        FigureView("fan_chart", simulation.fan_chart_figure(a)),
        FigureView("tornado_figure", simulation.tornado_figure(a)),
    ]
    return Section("simulation", "Monte Carlo over the scenario tree", text, tables, figures)


def _risk(a: Analysis) -> Section:
    tables = [
        TableView("partner_shares", "FEOC and agreement-partner shares by mineral", risk.partner_shares(a)),
        TableView("concentration", "Concentration of purchases by origin (HHI)", risk.concentration(a)),
        TableView("dfars_flags", "DFARS 252.225-7052 flags", risk.dfars_flags(a)),
        TableView("geopolrisk", "Company-mode GeoPolRisk", risk.geopolrisk(a)),
    ]
    text = [f"Assumption: {note}" for note in risk.risk_assumptions(a)]
    return Section("risk", "Supply risk", text, tables, [FigureView("shares_figure", risk.shares_figure(a))])


def _deadlines(a: Analysis) -> Section:
    text = f"Events still ahead on {a.as_of:%d %B %Y}, from critmin's legal calendar, each with its source."
    table = TableView("deadlines", "Upcoming events and deadlines", calendar.deadlines(a))
    return Section("deadlines", "Upcoming deadlines", [text], [table])


def _sourcing(a: Analysis) -> Section | None:
    mix, about = decisions.sourcing_results(a), decisions.sourcing_summary(a)
    if mix is None or about is None:
        return None
    text = (
        f"{about['name']}: {about['status']}. Expected landed cost {usd(about['expected_cost'])} over the "
        f"planning periods (scenarios {about['scenarios']}); risk measure {about['risk_measure']} "
        f"({number(about['risk'])}) priced at {about['risk_price']}."
    )
    tables = [TableView("sourcing_mix", "Optimised supply mix", mix, formats={"unit_price": "usd2"})]
    binding = decisions.sourcing_binding(a)
    if binding is not None:
        tables.append(TableView("sourcing_binding", "Binding constraints", binding))
    figure = decisions.sourcing_figure(a)
    figures = [FigureView("sourcing_figure", figure)] if figure is not None else []
    return Section("sourcing", "Sourcing optimisation", [text], tables, figures)


def _investment(a: Analysis) -> Section | None:
    results = decisions.investment_results(a)
    if results is None:
        return None
    per_unit: dict[str, ColumnFormat] = {"lcop": "usd2", "breakeven_floor": "usd2"}
    tables = [TableView("investment", "Project appraisal", results, formats=per_unit)]
    branches = decisions.investment_branches(a)
    if branches is not None and not branches.is_empty():
        tables.append(TableView("investment_branches", "NPV by policy branch", branches))
    figure = decisions.investment_figure(a)
    figures = [FigureView("investment_figure", figure)] if figure is not None else []
    text = "Projects appraised under the same scenario tree; each project file names its inputs' sources."
    return Section("investment", "Domestic processing investment", [text], tables, figures)


def _sources(a: Analysis) -> Section:
    tables = [
        TableView("measure_sources", "Measures and citations", sources.measure_sources(a)),
        TableView("dataset_sources", "Inputs and reference datasets", sources.dataset_sources(a)),
    ]
    text = "Every measure that entered a calculation, with its citations, and every input with its vintage."
    return Section("sources", "Sources", [text], tables)


def line_duty_table(a: Analysis) -> TableView:
    """Duty line by line under the law in force and each scenario: a workbook sheet, too long for a page."""
    note = (
        f"Each ledger line's customs duty under the law in force on {a.as_of.isoformat()} and under each "
        "scenario (on its eval_date in scenario_comparison), every line re-dated to that day; measures_* "
        "lists the measures applied to the line with their amounts. Payments to exporters and refundable "
        "duty are not included."
    )
    formats: dict[str, ColumnFormat] = {f"duty_{r.id}": "usd2" for r in a.runs}
    return TableView("line_duty", "Duty by ledger line", breakdown.line_duty(a), note=note, formats=formats)


def sections(a: Analysis) -> list[Section]:
    """The report, section by section; optional sections (simulation, sourcing, investment) when present."""
    built = [
        _summary(a),
        _scenarios(a),
        _exposure(a),
        _simulation(a),
        _risk(a),
        _deadlines(a),
        _sourcing(a),
        _investment(a),
        _sources(a),
    ]
    return [s for s in built if s is not None]
