"""Views: the numbers, tables and charts that the HTML/Excel/PDF report and the web dashboard both show.

One :class:`Analysis` holds every engine result for one ledger (duty in force and under each scenario, supply
risk, the Monte Carlo over a scenario tree, optional sourcing and investment results). Every view is a pure
function of it returning plain data, Polars frames or Plotly figures; renderers format, they never compute.

Building an analysis::

    a = analyse(lines, ledger_name="entries.csv", as_of=date(2026, 11, 28))   # canonical ledger lines
    a = analyse_file(Path("entries.csv"), scenarios=["s232_tariff_non_partners"], tree="pcmdp_after_window")

Views (all take the analysis first; ``scenario=None`` means duty in force on the report date)::

    executive_summary(a) -> {"numbers": {...}, "sentences": [...]}
    exposure(a, by, scenario=None) / exposure_matrix(a, by) / exposure_figure(a, by, scenario=None)
        by: "mineral" | "origin" | "supplier" | "hts" | "measure"
    flows(a) / sankey_figure(a)                      origin -> mineral -> product (HTS heading)
    import_sources(a) / world_map_figure(a)          needs geo_assets_script() on the page (offline map)
    scenario_comparison(a) / scenario_figure(a)
    simulation_summary(a) / simulation_branches(a) / simulation_by_mineral(a)
    distribution_figure(a) / fan_chart_figure(a) / tornado(a) / tornado_figure(a)
    concentration(a) / partner_shares(a) / shares_figure(a) / geopolrisk(a)
    dfars_flags(a) / dfars_summary(a)
    deadlines(a)
    sourcing_summary(a) / sourcing_results(a) / sourcing_binding(a) / sourcing_figure(a)     None if not given
    investment_results(a) / investment_branches(a) / investment_figure(a)                   None if not given
    measure_sources(a) / dataset_sources(a)
    sections(a) -> list[Section]                     every view in report order, with column formats

``FILTERS`` are the number formats as Jinja filters (usd, usd_short, pct, ...).
"""

from critmin.views.analysis import (
    BASELINE_SCENARIO,
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    DEFAULT_TREE,
    Analysis,
    InvestmentOutcome,
    LedgerPeriod,
    ScenarioRun,
    SourcingOutcome,
    analyse,
    analyse_file,
    default_scenarios,
)
from critmin.views.breakdown import (
    exposure,
    exposure_figure,
    exposure_matrix,
    flows,
    import_sources,
    sankey_figure,
    world_map_figure,
)
from critmin.views.calendar import deadlines
from critmin.views.decisions import (
    investment_branches,
    investment_figure,
    investment_results,
    sourcing_binding,
    sourcing_figure,
    sourcing_results,
    sourcing_summary,
)
from critmin.views.formatting import FILTERS
from critmin.views.layout import FigureView, Section, TableView, column_format, sections
from critmin.views.risk import (
    concentration,
    dfars_flags,
    dfars_summary,
    geopolrisk,
    partner_shares,
    shares_figure,
)
from critmin.views.scenarios import scenario_comparison, scenario_figure
from critmin.views.simulation import (
    distribution_figure,
    fan_chart_figure,
    simulation_branches,
    simulation_by_mineral,
    simulation_summary,
    tornado,
    tornado_figure,
)
from critmin.views.simulation_run import SimulationOutcome
from critmin.views.sources import dataset_sources, geo_assets_script, measure_sources
from critmin.views.summary import executive_summary, headline_table

__all__ = [
    "BASELINE_SCENARIO",
    "DEFAULT_DRAWS",
    "DEFAULT_SEED",
    "DEFAULT_TREE",
    "FILTERS",
    "Analysis",
    "FigureView",
    "InvestmentOutcome",
    "LedgerPeriod",
    "ScenarioRun",
    "Section",
    "SimulationOutcome",
    "SourcingOutcome",
    "TableView",
    "analyse",
    "analyse_file",
    "column_format",
    "concentration",
    "dataset_sources",
    "deadlines",
    "default_scenarios",
    "dfars_flags",
    "dfars_summary",
    "distribution_figure",
    "executive_summary",
    "exposure",
    "exposure_figure",
    "exposure_matrix",
    "fan_chart_figure",
    "flows",
    "geo_assets_script",
    "geopolrisk",
    "headline_table",
    "import_sources",
    "investment_branches",
    "investment_figure",
    "investment_results",
    "measure_sources",
    "partner_shares",
    "sankey_figure",
    "scenario_comparison",
    "scenario_figure",
    "sections",
    "shares_figure",
    "simulation_branches",
    "simulation_by_mineral",
    "simulation_summary",
    "sourcing_binding",
    "sourcing_figure",
    "sourcing_results",
    "sourcing_summary",
    "tornado",
    "tornado_figure",
    "world_map_figure",
]
