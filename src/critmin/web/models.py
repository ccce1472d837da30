"""Response models of the JSON API; they are what the OpenAPI schema publishes."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

Scalar = str | int | float | bool | None


class Health(BaseModel):
    status: str
    version: str


class ErrorOut(BaseModel):
    detail: str = Field(description="what went wrong and how to fix it")


class Column(BaseModel):
    name: str
    type: str = Field(description="Polars data type of the column")


class Table(BaseModel):
    """A result table: column names and types, then one object per row."""

    columns: list[Column]
    rows: list[dict[str, Scalar | list[Scalar]]]
    total_rows: int = Field(description="rows in the full table (``rows`` may be a first page)")


class FigureOut(BaseModel):
    """A Plotly figure: pass ``data`` and ``layout`` to ``Plotly.newPlot``."""

    data: list[dict[str, Any]]
    layout: dict[str, Any]


class Dataset(BaseModel):
    id: str
    title: str
    source: str
    licence: str
    vintage: str
    retrieved: str
    description: str
    file: str
    sha256: str
    rows: int
    columns: list[dict[str, str]]
    raw_inputs: list[dict[str, str]]


class LedgerOut(BaseModel):
    import_id: int
    label: str = Field(description="the file name the user gave (for display only)")
    source_file: str
    format: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_blank: int
    duplicates: int
    imported_at: str
    sha256: str


class ImportOut(BaseModel):
    status: str = Field(description="imported, or unchanged when this exact file was imported before")
    ledger: LedgerOut
    issue_counts: dict[str, int]
    quarantine: Table = Field(
        description="the first 1,000 quarantined rows; all: /api/v1/ledgers/{id}/quarantine"
    )


class DeletedOut(BaseModel):
    """What deleting an import removed, as row counts (all in one transaction)."""

    import_id: int
    source_file: str
    lines: int
    quarantined: int
    warnings: int
    classification: int = Field(description="scope-map classification rows of the deleted lines")
    content: int = Field(description="mineral-content rows of the deleted lines")
    superseded_imports: list[int] = Field(
        description="earlier versions of the same file, left without lines, removed with it"
    )
    runs_unlinked: int = Field(description="recorded exposure runs kept, no longer pointing at the import")


class Selection(BaseModel):
    """What a view was computed for."""

    ledger: int
    as_of: date
    scenario: str | None = None


class ScenarioOut(BaseModel):
    id: str
    title: str
    description: str
    eval_date: date = Field(description="the date every line is evaluated on under this scenario")
    baseline: bool
    duty: float = Field(description="duty on the whole ledger, USD")


class ScenariosOut(BaseModel):
    selection: Selection
    scenarios: list[ScenarioOut]


class TableOut(BaseModel):
    selection: Selection
    table: Table


class TablesOut(BaseModel):
    selection: Selection
    tables: dict[str, Table]


class RiskOut(BaseModel):
    selection: Selection
    concentration: Table
    partner_shares: Table
    dfars_flags: Table = Field(
        description="the first 1,000 flagged lines; all of them: /api/v1/risk/dfars-flags"
    )
    dfars_summary: dict[str, float]
    geopolrisk: Table
    assumptions: list[str]


class SourcingOut(BaseModel):
    """The optimised supply mix of the configured sourcing problem (null fields when none is configured)."""

    selection: Selection
    summary: dict[str, Scalar] | None
    mix: Table | None
    binding: Table | None


class InvestmentOut(BaseModel):
    selection: Selection
    results: Table | None
    branches: Table | None


class MonitorOut(BaseModel):
    selection: Selection
    deadlines: Table = Field(description="upcoming and ongoing events on the report date")
    timeline: Table = Field(description="every event of the legal calendar, past and future")
    alerts: Table = Field(description="alerts stored in the workspace by `critmin monitor run`")
    documents: Table = Field(description="Federal Register documents stored in the workspace")


class SummaryOut(BaseModel):
    """The executive summary: headline numbers (see ``critmin.views.executive_summary``) and the sentences
    that say them."""

    selection: Selection
    numbers: dict[str, Any]
    sentences: list[str]


class SimulationOut(BaseModel):
    """The Monte Carlo over the scenario tree (empty tables when the server runs without draws)."""

    selection: Selection
    summary: Table
    branches: Table
    by_mineral: Table
    tornado: Table


class SourcesOut(BaseModel):
    """Every measure behind a number with its citations, and every dataset with its vintage."""

    selection: Selection
    measures: Table
    datasets: Table


# ---------------------------------------------------------------------------------------------------------
# inputs of the analysis


class ProblemOut(BaseModel):
    """One thing wrong with an input, placed so it can be fixed."""

    file: str = Field(description="the uploaded file's name, the scenario id, or the form ('simulation')")
    line: int | None = Field(description="1-based line in the file, where known")
    field: str = Field(description="the parameter, form field or dotted YAML key; empty for the whole file")
    message: str
    fix: str


class ProblemsOut(BaseModel):
    """An input refused: every problem found, each with its field and the fix."""

    detail: str = Field(description="the problems in one text")
    problems: list[ProblemOut] = Field(
        default_factory=list, description="each problem; empty when the request body itself was unreadable"
    )


class ParametersIn(BaseModel):
    """Scenario parameter overrides, as ``critmin exposure --set name=value`` takes them."""

    set: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="parameter name (or dotted key into a mapping) -> value as typed on the command line, "
        "e.g. {'rate': '40%'}; a rate takes 40% or 0.4, never a bare 40. Empty: back to the scenario's own "
        "values.",
        examples=[{"rate": "40%"}],
    )


class ScenarioParametersOut(BaseModel):
    scenario: str
    values: dict[str, str] = Field(description="every parameter's value in effect, as --set text")
    overrides: list[str] = Field(description="the name=value items set here")


class InputsOut(BaseModel):
    """What every analysis of this server uses besides the ledger and the report date."""

    parameters: list[ScenarioParametersOut]
    tree: str = Field(description="scenario tree: a shipped tree id, or the id inside the uploaded file")
    tree_file: str | None = Field(description="name of the uploaded tree file, if one is in use")
    draws: int = Field(description="Monte Carlo draws (0: no simulation)")
    sourcing: str | None = Field(description="sourcing problem: shipped example name or uploaded file name")
    sourcing_uploaded: bool
    projects: list[str] = Field(description="projects appraised: their names")
    projects_uploaded: bool


# ---------------------------------------------------------------------------------------------------------
# reconciliation of ACE entry-summary exports (critmin.reconcile; docs/reconcile.md)


class ReconcileSampleOut(BaseModel):
    """A shipped sample ACE export: synthetic, with planted differences (critmin/samples/ace/README.md)."""

    name: str
    file: str
    company: str
    description: str


class ReconcileSourceOut(BaseModel):
    """Which export was reconciled, and the day refund statuses and protest windows are judged on."""

    sample: str | None = Field(description="the shipped sample's name, when a sample was reconciled")
    result: str | None = Field(
        description="the id of an uploaded export on this server (POST /api/v1/reconcile returns it)"
    )
    file: str = Field(description="the sample's file, or the name the upload was given (a label only)")
    sha256: str
    today: date = Field(description="the day refund statuses and protest windows are judged on")
    law: str = Field(description="how current the law is: the line `critmin policy currency` prints")


class ReconcileRowsOut(BaseModel):
    """How the export's rows were accounted for: loaded or quarantined, never dropped."""

    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_blank: int
    quarantined_by_code: dict[str, int]
    lines: int = Field(description="entry summary lines (goods rows with their Chapter 99 rows)")
    entries: int
    chapter99_rows: int


class ReconciliationOut(BaseModel):
    """Duty paid next to the duty engine's, per entry line and heading, to the cent; fees; totals."""

    source: ReconcileSourceOut
    rows: ReconcileRowsOut
    totals: dict[str, Any] = Field(
        description="the headline numbers, as `totals` of `critmin reconcile --format json`: duty paid, owed "
        "and variance (paid - owed), MPF and HMF, refundable IEEPA duty by status"
    )
    by_cause: Table
    by_measure: Table = Field(description="the differences per measure and heading, largest first")
    differences: Table = Field(description="every slot that is not a match, with cause and explanation")
    lines: Table = Field(description="each entry line: duty paid, owed, variance and its causes")
    fees: Table = Field(description="MPF and HMF per entry summary")
    issues: Table = Field(description="each problem of the export by file, row and column, with the fix")
    measures: Table = Field(description="the library measures behind the compared amounts, with citations")
    links: dict[str, str] = Field(description="the refunds view, the CAPE CSV and the workbook")


class RefundsOut(BaseModel):
    """IEEPA duty that can come back: by status, per entry in its protest window, per line; CAPE rows."""

    source: ReconcileSourceOut
    rows: ReconcileRowsOut
    by_status: dict[str, float] = Field(
        description="refundable USD per status: unliquidated, protest_window, finally_liquidated "
        "(contested), depends_on_liquidation"
    )
    refundable: float
    statuses: Table = Field(description="each status with its lines, entries, first deadline and meaning")
    deadlines: Table = Field(
        description="entries in their 180-day protest window: deadline, days left, refundable USD"
    )
    refunds: Table = Field(description="every refundable line and heading, soonest deadline first")
    cape: Table = Field(description="the rows of the CAPE-ready CSV")
    cape_entries: list[str] = Field(description="entry numbers refundable through CAPE now")
    links: dict[str, str]
