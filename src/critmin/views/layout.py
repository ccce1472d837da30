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

ColumnFormat = Literal["usd", "pct", "int", "float", "date", "text", "url"]

_USD_WORDS = ("usd", "duty", "value", "annual", "change", "cost", "npv", "mean", "price", "lcop", "p5", "p50", "p95",
              "var95", "cvar95", "low", "high", "range", "objective", "paid", "refund", "floor")
_PCT_WORDS = ("share", "rate", "pct", "prob", "irr", "volatility")
_INT_WORDS = ("lines", "rows", "n_", "count", "days", "measures_applied", "issues", "months", "draws")


def column_format(name: str, dtype: pl.DataType) -> ColumnFormat:
    """How a column is shown: from its type and, for numbers, its name (``*_share`` is a percentage...)."""
    lowered = name.lower()
    if dtype == pl.Date or dtype == pl.Datetime:
        return "date"
    if lowered in ("url", "source_url"):
        return "url"
    if dtype.is_integer() or any(lowered.startswith(w) or lowered == w for w in _INT_WORDS):
        return "int" if dtype.is_numeric() else "text"
    if not dtype.is_numeric():
        return "text"
    if lowered in ("hhi_10000", "quantity", "current_quantity", "capacity", "payback_years", "shadow_price",
                   "change_per_point", "risk", "hhi", "score", "cf"):
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
    id: str
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    figures: list[FigureView] = field(default_factory=list)


def sections(a: Analysis) -> list[Section]:
    """The report, section by section; optional sections (sourcing, investment) only when given."""
    es = summary.executive_summary(a)
    run_ids: list[str] = [r.id for r in a.runs]
    out = [
        Section("summary", "Executive summary", es["sentences"], [TableView("headline", "Headline numbers", summary.headline_table(a))]),
        Section(
            "scenarios",
            "Scenarios compared",
            [
                "Each scenario is evaluated by the duty engine over every ledger line, re-dated to the day the "
                "scenario is in force (the report date, or the scenario's start date if later). Annual figures "
                f"scale the ledger's {a.period.months} months of entries to twelve (× {a.period.annual_factor:.4g})."
            ],
            [TableView("scenario_comparison", "Duty by scenario", scenarios.scenario_comparison(a))],
            [FigureView("scenario_figure", scenarios.scenario_figure(a))],
        ),
        Section(
            "exposure",
            "Where the duty falls",
            ["Duty in force on the report date, by dimension. The figures compare each scenario."],
            [
                TableView("exposure_mineral", "By mineral (in force today)", breakdown.exposure(a, "mineral")),
                TableView("exposure_origin", "By country of origin (in force today)", breakdown.exposure(a, "origin")),
                TableView("exposure_supplier", "By supplier (in force today)", breakdown.exposure(a, "supplier")),
                TableView("exposure_hts", "By HTS code (in force today)", breakdown.exposure(a, "hts")),
                TableView("exposure_measure", "By measure (in force today)", breakdown.exposure(a, "measure")),
                TableView("exposure_matrix_mineral", "Annual duty by mineral under each scenario",
                          breakdown.exposure_matrix(a, "mineral"), formats=dict.fromkeys(run_ids, "usd")),
                TableView("import_sources", "Import sources", breakdown.import_sources(a)),
                TableView("flows", "Flows: origin → mineral → product", breakdown.flows(a)),
            ],
            [
                FigureView("exposure_mineral_figure", breakdown.exposure_figure(a, "mineral")),
                FigureView("exposure_origin_figure", breakdown.exposure_figure(a, "origin")),
                FigureView("sankey", breakdown.sankey_figure(a)),
                FigureView("world_map", breakdown.world_map_figure(a)),
            ],
        ),
    ]
    if a.simulation is not None:
        out.append(
            Section(
                "simulation",
                "Monte Carlo over the scenario tree",
                [
                    f"Tree “{a.simulation.tree_title}” ({a.simulation.tree_id}): {a.simulation.tree_note}",
                    f"{a.simulation.draws:,} draws (seed {a.simulation.seed}) over {a.simulation.months} months "
                    f"from {a.simulation.start:%d %b %Y}.",
                ],
                [
                    TableView("simulation_summary", "Distribution of duty over the simulated year",
                              simulation.simulation_summary(a)),
                    TableView("simulation_branches", "Expected duty by branch", simulation.simulation_branches(a)),
                    TableView("simulation_by_mineral", "Expected duty by mineral", simulation.simulation_by_mineral(a)),
                    TableView("tornado", "Sensitivity (tornado)", simulation.tornado(a)),
                ],
                [
                    FigureView("distribution", simulation.distribution_figure(a)),
                    FigureView("fan_chart", simulation.fan_chart_figure(a)),
                    FigureView("tornado_figure", simulation.tornado_figure(a)),
                ],
            )
        )
    out.append(
        Section(
            "risk",
            "Supply risk",
            [f"Assumption: {text}" for text in risk.risk_assumptions(a)],
            [
                TableView("partner_shares", "FEOC and agreement-partner shares by mineral", risk.partner_shares(a)),
                TableView("concentration", "Concentration of purchases by origin (HHI)", risk.concentration(a)),
                TableView("dfars_flags", "DFARS 252.225-7052 flags", risk.dfars_flags(a)),
                TableView("geopolrisk", "Company-mode GeoPolRisk", risk.geopolrisk(a)),
            ],
            [FigureView("shares_figure", risk.shares_figure(a))],
        )
    )
    out.append(
        Section(
            "deadlines",
            "Upcoming deadlines",
            [f"Events still ahead on {a.as_of:%d %B %Y}, from critmin's legal calendar (each with its source)."],
            [TableView("deadlines", "Upcoming events and deadlines", calendar.deadlines(a))],
        )
    )
    sourcing_table = decisions.sourcing_results(a)
    if sourcing_table is not None:
        summary_row = decisions.sourcing_summary(a) or {}
        binding = decisions.sourcing_binding(a)
        figure = decisions.sourcing_figure(a)
        out.append(
            Section(
                "sourcing",
                "Sourcing optimisation",
                [f"{summary_row['name']}: {summary_row['status']}; scenarios {summary_row['scenarios']}; risk measure "
                 f"{summary_row['risk_measure']} priced at {summary_row['risk_price']}."],
                [TableView("sourcing_mix", "Optimised supply mix", sourcing_table),
                 *([TableView("sourcing_binding", "Binding constraints", binding)] if binding is not None else [])],
                [FigureView("sourcing_figure", figure)] if figure is not None else [],
            )
        )
    invest_table = decisions.investment_results(a)
    if invest_table is not None:
        branches = decisions.investment_branches(a)
        figure = decisions.investment_figure(a)
        out.append(
            Section(
                "investment",
                "Domestic processing investment",
                ["Projects appraised under the same scenario tree; inputs and their sources are in each project file."],
                [TableView("investment", "Project appraisal", invest_table),
                 *([TableView("investment_branches", "NPV by policy branch", branches)] if branches is not None else [])],
                [FigureView("investment_figure", figure)] if figure is not None else [],
            )
        )
    out.append(
        Section(
            "sources",
            "Sources",
            ["Every measure that entered a calculation, with its citations, and every input with its vintage."],
            [
                TableView("measure_sources", "Measures and citations", sources.measure_sources(a)),
                TableView("dataset_sources", "Inputs and reference datasets", sources.dataset_sources(a)),
            ],
        )
    )
    return out
