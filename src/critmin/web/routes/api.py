"""The JSON API under ``/api/v1``: one endpoint per view, each a thin call into :mod:`critmin.web.queries`."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date
from enum import Enum, StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import polars as pl
from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from critmin import __version__, refdata
from critmin.policy.trees import shipped_trees
from critmin.reconcile.samples import SAMPLE_EXPORTS
from critmin.web import inputs as i
from critmin.web import models as m
from critmin.web import queries
from critmin.web.catalog import SPECS, FigureName, figure_json
from critmin.web.deps import dashboard, require_selection
from critmin.web.ingest import import_upload, read_yaml_upload
from critmin.web.present import table
from critmin.web.queries import Selection
from critmin.web.reconciling import (
    RESULT_PATTERN,
    Source,
    check_day,
    choose_source,
    reconcile_upload,
    reconciliation,
    reconciliation_of,
    refunds_of,
    source_label,
)
from critmin.web.state import SAMPLE_LEDGERS, Dashboard, ImportOutcome, LedgerRecord, UnknownLedgerError

By = Literal["mineral", "origin", "supplier", "hts", "measure"]
SampleName = Enum("SampleName", {name: name for name in SAMPLE_LEDGERS}, type=str)  # type: ignore[misc]
# Enumerations of what ships, so no request value names a file.
ParameterScenario = Enum(  # type: ignore[misc]
    "ParameterScenario", {name: name for name in i.parameter_scenarios()}, type=str
)
TreeId = Enum("TreeId", {name: name for name in shipped_trees()}, type=str)  # type: ignore[misc]

REPORT_MEDIA = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class ReportFormat(StrEnum):
    html = "html"
    xlsx = "xlsx"
    pdf = "pdf"


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": m.ErrorOut,
        "description": "the input cannot be used; the message says why and how to fix it",
    },
    404: {"model": m.ErrorOut, "description": "no such ledger import (or no ledger imported yet)"},
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {
        "model": m.ErrorOut,
        "description": "a change sent without an Authorization header or the CSRF token (X-CSRF-Token)",
    },
}
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, **FORBIDDEN}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    400: ERRORS[400],
    **FORBIDDEN,
    413: {"model": m.ErrorOut, "description": "the file is larger than the server's upload limit"},
}

INPUT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": m.ProblemsOut,
        "description": "the input cannot be used: every problem with its file, line, field and fix",
    },
    **FORBIDDEN,
}
INPUT_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **INPUT_ERRORS,
    413: {"model": m.ProblemsOut, "description": "the file is larger than the limit for input files"},
}
YamlFile = Annotated[UploadFile, File(description="a YAML file, up to 1 MB; anchors and aliases are refused")]

SelectionDep = Annotated[Selection, Depends(require_selection)]
ImportId = Annotated[int, Path(ge=1, le=2**62, description="ledger import id")]
Offset = Annotated[int, Query(ge=0, le=2**62, description="first row to return (0-based)")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="rows to return at most")]
FIRST_PAGE = 1000  # long tables inside a view's body are cut here; each has an endpoint that pages
DashboardDep = Annotated[Dashboard, Depends(dashboard)]


def echo(sel: Selection) -> m.Selection:
    return m.Selection(ledger=sel.record.import_id, as_of=sel.as_of, scenario=sel.scenario)


def ledger_out(record: LedgerRecord) -> m.LedgerOut:
    return m.LedgerOut(**record.__dict__)


def import_out(dash: Dashboard, outcome: ImportOutcome) -> m.ImportOut:
    return m.ImportOut(
        status=outcome.status,
        ledger=ledger_out(outcome.record),
        issue_counts=outcome.issue_counts,
        quarantine=table(dash.quarantine(outcome.record), limit=FIRST_PAGE),
    )


def cached_json(
    dash: Dashboard, sel: Selection, name: str, build: Callable[[], BaseModel], *args: Hashable
) -> Response:
    """The response body of a view, serialised once per selection: a repeat request costs a dictionary lookup.

    The endpoint declares its model (``response_model``) for the schema; ``build`` makes that model.
    """
    body = dash.cached(
        ("json", *sel.key, sel.scenario, name, args), lambda: build().model_dump_json().encode()
    )
    return Response(body, media_type="application/json")


def tabled(
    dash: Dashboard, sel: Selection, name: str, fn: Callable[..., pl.DataFrame], *args: Hashable
) -> m.TableOut:
    return m.TableOut(selection=echo(sel), table=table(queries.view(dash, sel, name, fn, *args)))


def paged(
    dash: Dashboard, key: tuple[Hashable, ...], frame: Callable[[], pl.DataFrame], offset: int, limit: int
) -> Response:
    """One page of a long table as JSON (``total_rows`` is the whole table), kept per page once served."""

    def build() -> bytes:
        whole = frame()
        page = table(whole.slice(offset, limit))
        return (
            m.Table(columns=page.columns, rows=page.rows, total_rows=whole.height).model_dump_json().encode()
        )

    # A cache of its own, so a client paging through a long ledger does not push the views out.
    return Response(dash.pages.get_or_compute((*key, offset, limit), build), media_type="application/json")


def inputs_out(inputs: i.AnalysisInputs) -> m.InputsOut:
    projects = (
        [inputs.project_upload.value.name]
        if inputs.project_upload is not None
        else list(inputs.project_names)
    )
    return m.InputsOut(
        parameters=[
            m.ScenarioParametersOut(
                scenario=name,
                values=inputs.parameter_values(name),
                overrides=list(inputs.parameters.get(name, ())),
            )
            for name in i.parameter_scenarios()
        ],
        tree=inputs.tree,
        tree_file=inputs.tree_upload.label if inputs.tree_upload is not None else None,
        draws=inputs.draws,
        sourcing=inputs.sourcing_upload.label if inputs.sourcing_upload is not None else inputs.sourcing_name,
        sourcing_uploaded=inputs.sourcing_upload is not None,
        projects=projects,
        projects_uploaded=inputs.project_upload is not None,
    )


def _record(dash: Dashboard, import_id: int) -> LedgerRecord:
    try:
        record = dash.ledger(import_id)
    except UnknownLedgerError as exc:
        raise HTTPException(404, str(exc)) from exc
    assert record is not None
    return record


def api_router() -> APIRouter:
    import critmin.views as v
    from critmin.views.risk import risk_assumptions

    router = APIRouter(prefix="/api/v1", tags=["api"])

    @router.get("/health")
    def health() -> m.Health:
        return m.Health(status="ok", version=__version__)

    @router.get("/datasets")
    def datasets() -> list[m.Dataset]:
        """Shipped reference datasets with their provenance."""
        return [m.Dataset(**r.as_dict()) for r in refdata.read_manifest()]

    # ------------------------------------------------------------------------------------------ ledgers
    @router.get("/ledgers")
    def ledgers(dash: DashboardDep) -> list[m.LedgerOut]:
        """Every ledger imported into the workspace, oldest first."""
        return [ledger_out(r) for r in dash.ledgers()]

    @router.post("/ledgers", responses=UPLOAD_ERRORS)
    async def upload_ledger(
        request: Request, file: Annotated[UploadFile, File(description="CSV, TSV, Excel (.xlsx) or Parquet")]
    ) -> m.ImportOut:
        """Import a ledger file: every row is loaded or quarantined; quarantined rows come with reasons."""
        dash = dashboard(request)
        outcome = await import_upload(dash, file)
        return await run_in_threadpool(import_out, dash, outcome)

    @router.post("/ledgers/samples/{name}", responses=CHANGE_ERRORS)
    def import_sample(dash: DashboardDep, name: Annotated[SampleName, Path()]) -> m.ImportOut:
        """Import one of the shipped sample ledgers (illustrative companies)."""
        return import_out(dash, dash.import_sample(name.value))

    @router.get("/ledgers/{import_id}", responses=ERRORS)
    def ledger(dash: DashboardDep, import_id: ImportId) -> m.LedgerOut:
        return ledger_out(_record(dash, import_id))

    @router.delete("/ledgers/{import_id}", responses={404: ERRORS[404], **FORBIDDEN})
    def delete_ledger(dash: DashboardDep, import_id: ImportId) -> m.DeletedOut:
        """Delete an import with its lines, quarantined rows, warnings, classification and content."""
        try:
            deleted = dash.delete_import(import_id)
        except UnknownLedgerError as exc:
            raise HTTPException(404, str(exc)) from exc
        return m.DeletedOut(**deleted.as_dict())

    @router.get("/ledgers/{import_id}/quarantine", responses=ERRORS, response_model=m.Table)
    def quarantine(
        dash: DashboardDep, import_id: ImportId, offset: Offset = 0, limit: Limit = 1000
    ) -> Response:
        """Rows that were not loaded (source row, columns, issue codes, messages, original cells), paged."""
        record = _record(dash, import_id)
        return paged(dash, ("quarantine", record.import_id), lambda: dash.quarantine(record), offset, limit)

    @router.get("/ledgers/{import_id}/lines", responses=ERRORS, response_model=m.Table)
    def lines(dash: DashboardDep, import_id: ImportId, offset: Offset = 0, limit: Limit = 100) -> Response:
        """The canonical lines of an import, a page at a time (``total_rows`` is the whole import)."""
        record = _record(dash, import_id)
        return paged(dash, ("lines", record.import_id), lambda: dash.lines(record.import_id), offset, limit)

    # ------------------------------------------------------------------------------------------ inputs
    @router.get("/inputs")
    def analysis_inputs(dash: DashboardDep) -> m.InputsOut:
        """Scenario parameters, scenario tree and draws, sourcing problem and projects every view uses."""
        return inputs_out(dash.inputs)

    @router.put("/inputs/parameters/{scenario}", responses=INPUT_ERRORS)
    def set_parameters(
        dash: DashboardDep,
        scenario: Annotated[ParameterScenario, Path(description="shipped scenario id")],
        body: Annotated[m.ParametersIn, Body()],
    ) -> m.InputsOut:
        """Set a scenario's parameters (``--set name=value``); an empty ``set`` restores the file's values."""
        items = [
            f"{name}={i.value_text(value) if not isinstance(value, str) else value}"
            for name, value in body.set.items()
        ]
        return inputs_out(dash.change_inputs(lambda now: i.set_parameters(now, scenario.value, items)))

    @router.post("/inputs/simulation", responses=INPUT_UPLOAD_ERRORS)
    async def set_simulation(
        dash: DashboardDep,
        draws: Annotated[int, Form(description=f"Monte Carlo draws, 0 (no simulation) to {i.MAX_DRAWS:,}")],
        tree: Annotated[TreeId | None, Form(description="a shipped scenario tree")] = None,
        file: Annotated[
            UploadFile | None, File(description="a scenario tree file (YAML); wins over tree")
        ] = None,
    ) -> m.InputsOut:
        """Choose the scenario tree (shipped, or a file) and the number of draws of the simulation."""
        i.check_draws(draws)
        upload = None
        if file is not None and file.filename:
            upload = await read_yaml_upload(dash, file, i.read_uploaded_tree)
        chosen = tree.value if tree is not None else None
        changed = await run_in_threadpool(
            dash.change_inputs, lambda now: i.set_simulation(now, draws, chosen, upload)
        )
        return inputs_out(changed)

    @router.post("/inputs/sourcing", responses=INPUT_UPLOAD_ERRORS)
    async def upload_sourcing(dash: DashboardDep, file: YamlFile) -> m.InputsOut:
        """Use an uploaded sourcing problem (see docs/optimize.md) instead of the shipped example."""
        upload = await read_yaml_upload(dash, file, i.read_uploaded_problem)
        changed = await run_in_threadpool(dash.change_inputs, lambda now: i.set_sourcing(now, upload))
        return inputs_out(changed)

    @router.delete("/inputs/sourcing", responses=FORBIDDEN)
    def reset_sourcing(dash: DashboardDep) -> m.InputsOut:
        """Back to the sourcing problem the server was started with."""
        return inputs_out(dash.change_inputs(lambda now: i.set_sourcing(now, None)))

    @router.post("/inputs/projects", responses=INPUT_UPLOAD_ERRORS)
    async def upload_project(dash: DashboardDep, file: YamlFile) -> m.InputsOut:
        """Appraise an uploaded project (see docs/invest.md) instead of the shipped examples."""
        upload = await read_yaml_upload(dash, file, i.read_uploaded_project)
        changed = await run_in_threadpool(dash.change_inputs, lambda now: i.set_project(now, upload))
        return inputs_out(changed)

    @router.delete("/inputs/projects", responses=FORBIDDEN)
    def reset_projects(dash: DashboardDep) -> m.InputsOut:
        """Back to the projects the server was started with."""
        return inputs_out(dash.change_inputs(lambda now: i.set_project(now, None)))

    # ------------------------------------------------------------------------------------------- views
    @router.get("/summary", responses=ERRORS, response_model=m.SummaryOut)
    def summary(dash: DashboardDep, sel: SelectionDep) -> Response:
        """Headline numbers (duty today, under each scenario, simulated mean and 95th percentile) in words."""

        def build() -> m.SummaryOut:
            found = queries.view(dash, sel, "executive_summary", v.executive_summary)
            return m.SummaryOut(selection=echo(sel), numbers=found["numbers"], sentences=found["sentences"])

        return cached_json(dash, sel, "summary", build)

    @router.get("/simulation", responses=ERRORS, response_model=m.SimulationOut)
    def simulation(dash: DashboardDep, sel: SelectionDep) -> Response:
        """Distribution of annual duty over the scenario tree, by branch and mineral, and the tornado."""

        def build() -> m.SimulationOut:
            return m.SimulationOut(
                selection=echo(sel),
                summary=table(queries.view(dash, sel, "simulation_summary", v.simulation_summary)),
                branches=table(queries.view(dash, sel, "simulation_branches", v.simulation_branches)),
                by_mineral=table(queries.view(dash, sel, "simulation_by_mineral", v.simulation_by_mineral)),
                tornado=table(queries.view(dash, sel, "tornado", v.tornado)),
            )

        return cached_json(dash, sel, "simulation", build)

    @router.get("/sources", responses=ERRORS, response_model=m.SourcesOut)
    def sources(dash: DashboardDep, sel: SelectionDep) -> Response:
        """The sources appendix: measures with citations and the runs using them, datasets with vintages."""

        def build() -> m.SourcesOut:
            return m.SourcesOut(
                selection=echo(sel),
                measures=table(queries.view(dash, sel, "measure_sources", v.measure_sources)),
                datasets=table(queries.view(dash, sel, "dataset_sources", v.dataset_sources)),
            )

        return cached_json(dash, sel, "sources", build)

    @router.get("/scenarios", responses=ERRORS, response_model=m.ScenariosOut)
    def scenario_runs(dash: DashboardDep, sel: SelectionDep) -> Response:
        """The runs of the analysis: duty in force on the report date, then each shipped scenario."""
        runs = queries.view(
            dash,
            sel,
            "runs",
            lambda a: [
                m.ScenarioOut(
                    id=r.id,
                    title=r.title,
                    description=r.description,
                    eval_date=r.eval_date,
                    baseline=r.baseline,
                    duty=r.duty,
                )
                for r in a.runs
            ],
        )
        return cached_json(
            dash, sel, "scenarios", lambda: m.ScenariosOut(selection=echo(sel), scenarios=runs)
        )

    @router.get("/scenarios/comparison", responses=ERRORS, response_model=m.TableOut)
    def scenario_comparison(dash: DashboardDep, sel: SelectionDep) -> Response:
        """Duty on the ledger and per year under each scenario, and the change against today."""
        return cached_json(
            dash, sel, "comparison", lambda: tabled(dash, sel, "scenario_comparison", v.scenario_comparison)
        )

    @router.get("/exposure", responses=ERRORS, response_model=m.TableOut)
    def exposure_by(dash: DashboardDep, sel: SelectionDep, by: By = "mineral") -> Response:
        """Duty under the chosen scenario (default: in force) by mineral, origin, supplier, HTS or measure."""
        return cached_json(
            dash, sel, "exposure", lambda: tabled(dash, sel, "exposure", v.exposure, by, sel.scenario), by
        )

    @router.get("/flows", responses=ERRORS, response_model=m.TableOut)
    def flows(dash: DashboardDep, sel: SelectionDep) -> Response:
        """Customs value and duty from each origin through each mineral to each product heading."""
        return cached_json(dash, sel, "flows", lambda: tabled(dash, sel, "flows", v.flows, sel.scenario))

    @router.get("/import-sources", responses=ERRORS, response_model=m.TableOut)
    def import_sources(dash: DashboardDep, sel: SelectionDep) -> Response:
        """Value and duty by origin with its FEOC and agreement-partner standing on the report date."""
        return cached_json(
            dash, sel, "import_sources", lambda: tabled(dash, sel, "import_sources", v.import_sources)
        )

    @router.get("/risk", responses=ERRORS, response_model=m.RiskOut)
    def risk_view(dash: DashboardDep, sel: SelectionDep) -> Response:
        """Concentration of purchases, FEOC and partner shares, DFARS flags and company GeoPolRisk."""
        return cached_json(dash, sel, "risk", lambda: risk_out(dash, sel))

    def risk_out(dash: Dashboard, sel: Selection) -> m.RiskOut:
        return m.RiskOut(
            selection=echo(sel),
            concentration=table(queries.view(dash, sel, "concentration", v.concentration)),
            partner_shares=table(queries.view(dash, sel, "partner_shares", v.partner_shares)),
            dfars_flags=table(queries.view(dash, sel, "dfars_flags", v.dfars_flags), limit=FIRST_PAGE),
            dfars_summary={
                k: float(x) for k, x in queries.view(dash, sel, "dfars_summary", v.dfars_summary).items()
            },
            geopolrisk=table(queries.view(dash, sel, "geopolrisk", v.geopolrisk)),
            assumptions=queries.view(dash, sel, "risk_assumptions", risk_assumptions),
        )

    @router.get("/risk/dfars-flags", responses=ERRORS, response_model=m.Table)
    def dfars_flags(
        dash: DashboardDep, sel: SelectionDep, offset: Offset = 0, limit: Limit = 1000
    ) -> Response:
        """Every ledger line holding a DFARS-covered material, prohibited first, a page at a time."""
        return paged(
            dash,
            ("dfars_flags", *sel.key),
            lambda: queries.view(dash, sel, "dfars_flags", v.dfars_flags),
            offset,
            limit,
        )

    @router.get("/monitor", responses=ERRORS, response_model=m.MonitorOut)
    def monitor(dash: DashboardDep, sel: SelectionDep) -> Response:
        """The legal calendar on the report date and what `critmin monitor run` stored in the workspace."""
        return cached_json(dash, sel, "monitor", lambda: monitor_out(dash, sel))

    def monitor_out(dash: Dashboard, sel: Selection) -> m.MonitorOut:
        from critmin.web.monitoring import alerts, documents, full_timeline

        return m.MonitorOut(
            selection=echo(sel),
            deadlines=table(queries.view(dash, sel, "deadlines", v.deadlines, None)),
            timeline=table(full_timeline(dash, sel.as_of)),
            alerts=table(alerts(dash)),
            documents=table(documents(dash)),
        )

    @router.get("/sourcing", responses=ERRORS, response_model=m.SourcingOut)
    def sourcing(dash: DashboardDep, sel: SelectionDep) -> Response:
        """The optimised supply mix for the configured sourcing problem, with binding constraints."""
        return cached_json(dash, sel, "sourcing", lambda: sourcing_out(dash, sel))

    def sourcing_out(dash: Dashboard, sel: Selection) -> m.SourcingOut:
        summary = queries.view(dash, sel, "sourcing_summary", v.sourcing_summary)
        mix = queries.view(dash, sel, "sourcing_results", v.sourcing_results)
        binding = queries.view(dash, sel, "sourcing_binding", v.sourcing_binding)
        return m.SourcingOut(
            selection=echo(sel),
            summary=None if summary is None else {k: _scalar(v) for k, v in summary.items()},
            mix=None if mix is None else table(mix),
            binding=None if binding is None else table(binding),
        )

    @router.get("/investment", responses=ERRORS, response_model=m.InvestmentOut)
    def investment(dash: DashboardDep, sel: SelectionDep) -> Response:
        """NPV, IRR, payback and break-even floor of the configured projects, and NPV by policy branch."""
        return cached_json(dash, sel, "investment", lambda: investment_out(dash, sel))

    def investment_out(dash: Dashboard, sel: Selection) -> m.InvestmentOut:
        results = queries.view(dash, sel, "investment_results", v.investment_results)
        branches = queries.view(dash, sel, "investment_branches", v.investment_branches)
        return m.InvestmentOut(
            selection=echo(sel),
            results=None if results is None else table(results),
            branches=None if branches is None else table(branches),
        )

    @router.get("/figures/{name}", responses=ERRORS, response_model=m.FigureOut)
    def figure(dash: DashboardDep, sel: SelectionDep, name: FigureName, by: By = "mineral") -> Response:
        """A chart as Plotly JSON (``data`` and ``layout``); draw it with ``Plotly.newPlot``."""
        text = figure_json(dash, sel, name, by)
        if text is None:
            raise HTTPException(404, f"No {SPECS[name].title.lower()} for this analysis.")
        return Response(text, media_type="application/json")  # the cached JSON the pages embed

    @router.get(
        "/report/{fmt}",
        responses={
            **ERRORS,
            200: {
                "description": "the report file, as an attachment",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in REPORT_MEDIA.values()
                },
            },
        },
        response_class=Response,
    )
    def report(dash: DashboardDep, sel: SelectionDep, fmt: ReportFormat) -> Response:
        """The report for this ledger and date: self-contained HTML, an Excel workbook or a PDF."""
        from critmin.web.reports import report_bytes

        content = report_bytes(dash, sel, fmt.value)
        name = f"critmin-report-ledger{sel.record.import_id}-{sel.as_of.isoformat()}.{fmt.value}"
        return Response(
            content,
            media_type=REPORT_MEDIA[fmt.value],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -------------------------------------------------------------------------------------- reconcile
    @router.get("/reconcile/samples")
    def reconcile_samples() -> list[m.ReconcileSampleOut]:
        """The shipped sample ACE exports (synthetic, each with planted differences)."""
        return [
            m.ReconcileSampleOut(name=s.name, file=s.file, company=s.company, description=s.description)
            for s in SAMPLE_EXPORTS.values()
        ]

    @router.get("/reconcile", responses=RECONCILE_ERRORS, response_model=m.ReconciliationOut)
    def reconciliation_view(dash: DashboardDep, source: SourceDep) -> Response:
        """Duty paid against the duty engine's per entry line and heading, to the cent; each difference with
        its cause and measure; MPF and HMF per entry; totals (as `critmin reconcile --format json`)."""
        return _cached_body(dash, "reconciliation", source, lambda: reconciliation_out(dash, source))

    @router.post("/reconcile", responses=RECONCILE_UPLOAD_ERRORS)
    async def reconcile_export(
        dash: DashboardDep,
        file: Annotated[UploadFile, File(description="an ACE entry-summary export (ES-003), CSV or .xlsx")],
        today: Annotated[
            date | None, Form(description="judge refund statuses on this day (default today)")
        ] = None,
    ) -> m.ReconciliationOut:
        """Reconcile an uploaded export. It is kept in memory under ``source.result``, the id the other
        reconcile endpoints take (the file itself is deleted once read)."""
        source = await reconcile_upload(dash, file, check_day(today))
        return await run_in_threadpool(reconciliation_out, dash, source)

    @router.get("/reconcile/refunds", responses=RECONCILE_ERRORS, response_model=m.RefundsOut)
    def refunds_view(dash: DashboardDep, source: SourceDep) -> Response:
        """IEEPA duty that can come back: by status (unliquidated, in the 180-day protest window with its
        deadline, finally liquidated and contested), per entry and line, and the CAPE-ready rows."""
        return _cached_body(dash, "refunds", source, lambda: refunds_out(dash, source))

    @router.get(
        "/reconcile/cape.csv",
        responses={
            **RECONCILE_ERRORS,
            200: {"description": "the CAPE-ready CSV", "content": {CSV_MEDIA: {}}},
        },
        response_class=Response,
    )
    def cape(dash: DashboardDep, source: SourceDep) -> Response:
        """The CAPE-ready CSV of refundable lines: entry_number, line_number, hts, chapter99_heading,
        amount_usd, status, protest_deadline (as `critmin reconcile --cape`)."""
        text = refunds_csv(dash, source)
        return Response(text, media_type=CSV_MEDIA, headers=_attachment(source, "cape", "csv"))

    @router.get(
        "/reconcile/workbook",
        responses={
            **RECONCILE_ERRORS,
            200: {"description": "every table of the reconciliation", "content": {XLSX_MEDIA: {}}},
        },
        response_class=Response,
    )
    def workbook(dash: DashboardDep, source: SourceDep) -> Response:
        """Every table of the reconciliation in one workbook (as `critmin reconcile --format xlsx`)."""
        content = dash.cached(
            ("reconcile_xlsx", *source.key), lambda: reconciliation(dash, source).xlsx_bytes()
        )
        return Response(content, media_type=XLSX_MEDIA, headers=_attachment(source, "reconciliation", "xlsx"))

    return router


# ------------------------------------------------------------------------------------------------ reconcile
CSV_MEDIA = "text/csv; charset=utf-8"
XLSX_MEDIA = REPORT_MEDIA["xlsx"]
SampleExportName = Enum(  # type: ignore[misc]
    "SampleExportName", {name: name for name in SAMPLE_EXPORTS}, type=str
)
RECONCILE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": m.ErrorOut,
        "description": "neither or both of sample and result, or a day outside 2000-01-01 to 2100-12-31",
    },
    404: {"model": m.ErrorOut, "description": "no reconciliation with that id on this server: upload again"},
}
RECONCILE_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": m.ProblemsOut,
        "description": "the file cannot be reconciled: why, and each problem by file, row and column",
    },
    **FORBIDDEN,
    413: {"model": m.ProblemsOut, "description": "the file is larger than the server's upload limit"},
}


def reconcile_source(
    request: Request,
    sample: Annotated[
        SampleExportName | None, Query(description="a shipped sample export (GET /api/v1/reconcile/samples)")
    ] = None,
    result: Annotated[
        str | None,
        Query(pattern=RESULT_PATTERN, description="an uploaded export's id (POST /api/v1/reconcile)"),
    ] = None,
    today: Annotated[
        date | None,
        Query(description="judge refund statuses and protest windows on this day (default today)"),
    ] = None,
) -> Source:
    """The export a reconcile view is of: exactly one of ``sample`` and ``result``; an id this server
    does not hold is a 404 before anything is computed."""
    source = choose_source(sample.value if sample is not None else None, result, check_day(today))
    if source.result is not None:
        dashboard(request).exports.get(source.result)
    return source


SourceDep = Annotated[Source, Depends(reconcile_source)]


def _links(source: Source) -> dict[str, str]:
    query = urlencode(source.query())
    return {
        "reconciliation": f"/api/v1/reconcile?{query}",
        "refunds": f"/api/v1/reconcile/refunds?{query}",
        "cape_csv": f"/api/v1/reconcile/cape.csv?{query}",
        "workbook": f"/api/v1/reconcile/workbook?{query}",
        "page": f"/reconcile?{query}",
    }


def _source_out(dash: Dashboard, source: Source, facts: dict[str, Any], law: str) -> m.ReconcileSourceOut:
    return m.ReconcileSourceOut(
        sample=source.sample,
        result=source.result,
        file=source_label(dash, source),
        sha256=facts["sha256"],
        today=source.today,
        law=law,
    )


def _rows_out(facts: dict[str, Any]) -> m.ReconcileRowsOut:
    return m.ReconcileRowsOut(**{k: v for k, v in facts.items() if k in m.ReconcileRowsOut.model_fields})


def reconciliation_out(dash: Dashboard, source: Source) -> m.ReconciliationOut:
    """The reconciliation view as the API returns it (tables that grow with the export cut at 1,000 rows;
    the workbook has every row)."""
    view = reconciliation_of(dash, source)
    return m.ReconciliationOut(
        source=_source_out(dash, source, view.file, view.law),
        rows=_rows_out(view.file),
        totals=view.totals,
        by_cause=table(view.by_cause),
        by_measure=table(view.by_measure, limit=FIRST_PAGE),
        differences=table(view.differences, limit=FIRST_PAGE),
        lines=table(view.lines, limit=FIRST_PAGE),
        fees=table(view.fees, limit=FIRST_PAGE),
        issues=table(view.issues, limit=FIRST_PAGE),
        measures=table(view.measures),
        links=_links(source),
    )


def refunds_out(dash: Dashboard, source: Source) -> m.RefundsOut:
    """The refunds view as the API returns it."""
    view = refunds_of(dash, source)
    return m.RefundsOut(
        source=_source_out(dash, source, view.file, view.law),
        rows=_rows_out(view.file),
        by_status=view.by_status,
        refundable=view.refundable,
        statuses=table(view.statuses),
        deadlines=table(view.deadlines, limit=FIRST_PAGE),
        refunds=table(view.refunds, limit=FIRST_PAGE),
        cape=table(view.cape, limit=FIRST_PAGE),
        cape_entries=view.cape_entries,
        links=_links(source),
    )


def refunds_csv(dash: Dashboard, source: Source) -> str:
    """The CAPE-ready CSV of the source (:meth:`critmin.reconcile.result.Reconciliation.cape_csv`)."""
    return dash.cached(("reconcile_cape", *source.key), lambda: reconciliation(dash, source).cape_csv())


def _cached_body(dash: Dashboard, name: str, source: Source, build: Callable[[], BaseModel]) -> Response:
    body = dash.cached(("json", name, *source.key), lambda: build().model_dump_json().encode())
    return Response(body, media_type="application/json")


def _attachment(source: Source, what: str, suffix: str) -> dict[str, str]:
    """A download's file name: the sample's name or the result id (both plain ASCII), and the day."""
    name = source.sample or f"upload-{source.result}"
    return {
        "Content-Disposition": f'attachment; filename="{what}-{name}-{source.today.isoformat()}.{suffix}"'
    }


def _scalar(value: object) -> m.Scalar:
    from critmin.web.present import scalar

    return scalar(value)
