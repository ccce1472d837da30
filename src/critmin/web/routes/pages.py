"""The nine dashboard pages, rendered on the server from the same cached views as the JSON API."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import polars as pl
from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmin import refdata
from critmin.policy.trees import shipped_trees
from critmin.reconcile.views import ReconciliationView, RefundsView
from critmin.web import inputs as i
from critmin.web import queries
from critmin.web.catalog import FigureName, figure_json
from critmin.web.deps import ScenarioId, dashboard, find_selection
from critmin.web.ingest import YAML_MAX_BYTES, import_upload, read_yaml_upload
from critmin.web.present import HtmlTable, html_table
from critmin.web.queries import Selection
from critmin.web.reconciling import (
    ExportRefusedError,
    Source,
    check_day,
    choose_source,
    reconcile_upload,
    reconciliation_of,
    refunds_of,
    source_label,
)
from critmin.web.render import personalise, render, render_shared
from critmin.web.state import SAMPLE_LEDGERS, Dashboard, LedgerRecord, UnknownLedgerError

By = Literal["mineral", "origin", "supplier", "hts", "measure"]
REPORT_FORMATS = (("html", "HTML (self-contained)"), ("xlsx", "Excel workbook"), ("pdf", "PDF"))
BY_LABELS: dict[str, str] = {
    "mineral": "Mineral",
    "origin": "Country of origin",
    "supplier": "Supplier",
    "hts": "HTS code",
    "measure": "Measure",
}


@cache
def scenario_titles() -> dict[str, str]:
    """Shipped scenario id -> title, for the scenario chooser (the baseline is offered as 'in force')."""
    from critmin.policy.loader import shipped_scenarios
    from critmin.views.analysis import BASELINE_SCENARIO

    return {s.id: s.title for s in shipped_scenarios() if s.id != BASELINE_SCENARIO}


@dataclass
class PageContext:
    """What every page's selection bar needs, and the selection itself (None until a ledger exists)."""

    dash: Dashboard
    sel: Selection | None
    ledgers: list[LedgerRecord]
    as_of_chosen: date | None

    @property
    def query(self) -> str:
        """The selection as a query string, so navigation keeps it."""
        params: dict[str, str] = {}
        if self.sel is not None:
            params["ledger"] = str(self.sel.record.import_id)
            if self.as_of_chosen is not None:
                params["as_of"] = self.as_of_chosen.isoformat()
            if self.sel.scenario:
                params["scenario"] = self.sel.scenario
        return urlencode(params)

    def values(self) -> dict[str, Any]:
        return {
            "sel": self.sel,
            "ledgers": self.ledgers,
            "as_of_chosen": self.as_of_chosen,
            "query": self.query,
            "scenario_titles": scenario_titles(),
            "samples": SAMPLE_LEDGERS,
            "max_upload_bytes": self.dash.settings.max_upload_bytes,
            "yaml_max_bytes": min(self.dash.settings.max_upload_bytes, YAML_MAX_BYTES),
        }


@dataclass
class PageQuery:
    """The selection as a page receives it: plain text, because an HTML form sends empty fields as ''."""

    ledger: str | None = None
    as_of: str | None = None
    scenario: str | None = None

    def parsed(self) -> tuple[int | None, date | None, ScenarioId | None]:
        ledger = as_of = scenario = None
        try:
            if self.ledger:
                ledger = int(self.ledger)
            if self.as_of:
                as_of = date.fromisoformat(self.as_of)
            if self.scenario:
                scenario = ScenarioId(self.scenario)
        except ValueError as exc:
            known = ", ".join(s.value for s in ScenarioId)
            raise HTTPException(
                422,
                f"Cannot use ledger={self.ledger!r}, as_of={self.as_of!r}, scenario={self.scenario!r}: "
                f"the ledger is an import number, the date is YYYY-MM-DD and the scenario one of {known}.",
            ) from exc
        return ledger, as_of, scenario


@dataclass(frozen=True)
class FormState:
    """A refused input form, shown again: which form, what was typed, and every problem by field."""

    name: str
    problems: list[i.FieldProblem]
    values: dict[str, str]
    status: int = 400

    def on(self, name: str, field: str) -> list[i.FieldProblem]:
        """The problems of one field of form ``name`` (none when another form was sent)."""
        return [p for p in self.problems if p.field == field] if name == self.name else []

    def rest(self, name: str, fields: Sequence[str]) -> list[i.FieldProblem]:
        """The problems of form ``name`` not shown beside one of ``fields``."""
        return [p for p in self.problems if p.field not in fields] if name == self.name else []


def refused(name: str, exc: i.InvalidInputError, values: dict[str, str] | None = None) -> FormState:
    return FormState(name, exc.problems, values or {}, exc.http_status)


def page_context(request: Request, q: PageQuery) -> PageContext:
    dash = dashboard(request)
    ledger, as_of, scenario = q.parsed()
    sel = find_selection(dash, ledger, as_of, scenario)
    return PageContext(dash, sel, dash.ledgers() if sel is not None else [], as_of)


def show(
    request: Request, template: str, page: str, ctx: PageContext, status: int = 200, **values: Any
) -> Response:
    return render(request, template, page, status_code=status, **ctx.values(), **values)


def shared(
    request: Request,
    template: str,
    page: str,
    ctx: PageContext,
    extra: tuple[Hashable, ...],
    values: Callable[[], dict[str, Any]],
) -> Response:
    """A page that depends only on the selection: rendered once, then served from memory to every browser.

    Its views are cached already; this keeps the template work too, which is most of a cached page's cost.
    """
    sel = ctx.sel
    if sel is None:
        return show(request, template, page, ctx, **values())
    key = ("page", template, *sel.key, sel.scenario, ctx.as_of_chosen, extra)
    html = ctx.dash.cached(key, lambda: render_shared(template, page, **ctx.values(), **values()))
    return personalise(request, html)


def pages_router() -> APIRouter:
    import critmin.views as v
    from critmin.views.risk import risk_assumptions

    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request, q: Annotated[PageQuery, Depends()]) -> Response:
        ctx = page_context(request, q)
        datasets = ctx.dash.cached(("datasets",), refdata.read_manifest)
        if ctx.sel is None:
            return show(request, "welcome.html", "overview", ctx, datasets=datasets)
        dash, sel = ctx.dash, ctx.sel
        return shared(
            request,
            "overview.html",
            "overview",
            ctx,
            (),
            lambda: dict(
                datasets=datasets,
                summary=queries.view(dash, sel, "executive_summary", v.executive_summary),
                deadlines=queries.html(dash, sel, "deadlines", v.deadlines, 5, title="Next on the calendar"),
                charts={"scenarios": figure_json(dash, sel, FigureName.scenarios)},
                report_formats=REPORT_FORMATS,
            ),
        )

    @router.get("/ledger", response_class=HTMLResponse)
    def ledger_page(
        request: Request,
        q: Annotated[PageQuery, Depends()],
        status: Annotated[Literal["imported", "unchanged"] | None, Query()] = None,
        deleted: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    ) -> Response:
        ctx = page_context(request, q)
        return ledger_view(request, ctx, status=status, deleted=deleted)

    @router.post("/ledger", response_class=HTMLResponse)
    async def upload(request: Request, file: Annotated[UploadFile, File()]) -> Response:
        dash = dashboard(request)
        try:
            outcome = await import_upload(dash, file)
        except HTTPException as exc:
            ctx = page_context(request, PageQuery())
            return ledger_view(request, ctx, error=str(exc.detail), status_code=exc.status_code)
        return RedirectResponse(
            f"/ledger?ledger={outcome.record.import_id}&status={outcome.status}", status_code=303
        )

    @router.post("/ledger/sample", response_class=HTMLResponse)
    def import_sample(request: Request, name: Annotated[str, Form()]) -> Response:
        dash = dashboard(request)
        if name not in SAMPLE_LEDGERS:
            ctx = page_context(request, PageQuery())
            return ledger_view(request, ctx, error=f"No sample ledger {name!r}.", status_code=400)
        outcome = dash.import_sample(name)
        return RedirectResponse(
            f"/ledger?ledger={outcome.record.import_id}&status={outcome.status}", status_code=303
        )

    @router.post("/ledger/{import_id}/delete", response_class=HTMLResponse)
    def delete_ledger(request: Request, import_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
        dash = dashboard(request)
        try:
            dash.delete_import(import_id)
        except UnknownLedgerError as exc:
            ctx = page_context(request, PageQuery())
            return ledger_view(request, ctx, error=str(exc), status_code=404)
        return RedirectResponse(f"/ledger?deleted={import_id}", status_code=303)

    @router.get("/exposure", response_class=HTMLResponse)
    def exposure_page(
        request: Request,
        q: Annotated[PageQuery, Depends()],
        by: By = "mineral",
    ) -> Response:
        ctx = page_context(request, q)
        if ctx.sel is None:
            return show(request, "empty.html", "exposure", ctx)
        dash, sel = ctx.dash, ctx.sel
        run = queries.view(dash, sel, "run", lambda a, s: a.run(s), sel.scenario)
        totals = queries.view(dash, sel, "run_totals", lambda a, s: a.run(s).result.totals(), sel.scenario)
        factor = queries.view(dash, sel, "annual_factor", lambda a: a.period.annual_factor)
        return shared(
            request,
            "exposure.html",
            "exposure",
            ctx,
            (by,),
            lambda: dict(
                by=by,
                by_labels=BY_LABELS,
                run=run,
                totals=totals,
                annual_factor=factor,
                table=queries.html(
                    dash,
                    sel,
                    "exposure",
                    v.exposure,
                    by,
                    sel.scenario,
                    title=f"Duty by {BY_LABELS[by].lower()}",
                    api="/api/v1/exposure",
                ),
                sources=queries.html(
                    dash,
                    sel,
                    "import_sources",
                    v.import_sources,
                    title="Import sources",
                    api="/api/v1/import-sources",
                ),
                charts={
                    "exposure": figure_json(dash, sel, FigureName.exposure, by),
                    "sankey": figure_json(dash, sel, FigureName.sankey),
                    "world_map": figure_json(dash, sel, FigureName.world_map),
                },
            ),
        )

    @router.get("/scenarios", response_class=HTMLResponse)
    def scenarios_page(request: Request, q: Annotated[PageQuery, Depends()]) -> Response:
        return scenarios_view(request, page_context(request, q))

    @router.post("/scenarios/parameters/{name}", response_class=HTMLResponse)
    async def set_parameters(
        request: Request, name: Annotated[str, Path()], q: Annotated[PageQuery, Depends()]
    ) -> Response:
        # the path names the scenario whose form was sent; the query keeps the page's own selection
        scenario = name
        if scenario not in i.parameter_scenarios():
            raise HTTPException(404, f"No shipped scenario {scenario!r} with parameters.")
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str) and k not in ("csrf_token", "action")}
        dash = dashboard(request)
        try:
            items = [] if form.get("action") == "reset" else i.changed_items(scenario, fields)
            await run_in_threadpool(dash.change_inputs, lambda now: i.set_parameters(now, scenario, items))
        except i.InvalidInputError as exc:
            state = refused(f"parameters:{scenario}", exc, fields)
            return scenarios_view(request, page_context(request, q), state)
        return back(request, "/scenarios", q, f"parameters-{scenario}")

    @router.post("/scenarios/simulation", response_class=HTMLResponse)
    async def set_simulation(
        request: Request,
        q: Annotated[PageQuery, Depends()],
        draws: Annotated[str, Form()],
        tree: Annotated[str, Form()] = "",
        file: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        dash = dashboard(request)
        values = {"draws": draws, "tree": tree}
        try:
            count = i.parse_draws(draws)
            upload = None
            if file is not None and file.filename:
                upload = await read_yaml_upload(dash, file, i.read_uploaded_tree)
            await run_in_threadpool(
                dash.change_inputs, lambda now: i.set_simulation(now, count, tree or None, upload)
            )
        except i.InvalidInputError as exc:
            return scenarios_view(request, page_context(request, q), refused("simulation", exc, values))
        return back(request, "/scenarios", q, "simulation")

    @router.get("/risk", response_class=HTMLResponse)
    def risk_page(request: Request, q: Annotated[PageQuery, Depends()]) -> Response:
        ctx = page_context(request, q)
        if ctx.sel is None:
            return show(request, "empty.html", "risk", ctx)
        dash, sel = ctx.dash, ctx.sel
        return shared(
            request,
            "risk.html",
            "risk",
            ctx,
            (),
            lambda: dict(
                dfars=queries.view(dash, sel, "dfars_summary", v.dfars_summary),
                assumptions=queries.view(dash, sel, "risk_assumptions", risk_assumptions),
                tables=[
                    queries.html(
                        dash,
                        sel,
                        "partner_shares",
                        v.partner_shares,
                        title="FEOC and agreement-partner shares by mineral",
                        api="/api/v1/risk",
                    ),
                    queries.html(
                        dash,
                        sel,
                        "concentration",
                        v.concentration,
                        title="Concentration of purchases by origin (HHI)",
                        api="/api/v1/risk",
                    ),
                    queries.html(
                        dash,
                        sel,
                        "dfars_flags",
                        v.dfars_flags,
                        title="DFARS 252.225-7052 flags",
                        api="/api/v1/risk",
                    ),
                    queries.html(
                        dash,
                        sel,
                        "geopolrisk",
                        v.geopolrisk,
                        title="Company-mode GeoPolRisk",
                        api="/api/v1/risk",
                    ),
                ],
                charts={"shares": figure_json(dash, sel, FigureName.shares)},
            ),
        )

    @router.get("/monitor", response_class=HTMLResponse)
    def monitor_page(request: Request, q: Annotated[PageQuery, Depends()]) -> Response:
        from critmin.web.monitoring import alerts, documents, full_timeline

        ctx = page_context(request, q)
        dash = ctx.dash
        today = ctx.sel.as_of if ctx.sel is not None else (ctx.as_of_chosen or date.today())
        deadlines = (
            queries.html(
                dash,
                ctx.sel,
                "deadlines",
                v.deadlines,
                None,
                title="Upcoming deadlines",
                api="/api/v1/monitor",
            )
            if ctx.sel is not None
            else None
        )
        return shared(
            request,
            "monitor.html",
            "monitor",
            ctx,
            (),
            lambda: dict(
                today=today,
                deadlines=deadlines,
                timeline=html_table(full_timeline(dash, today), "timeline", "The legal calendar", limit=500),
                alerts=html_table(alerts(dash), "alerts", "Alerts stored by critmin monitor run"),
                documents=html_table(
                    documents(dash), "documents", "Federal Register documents in the workspace"
                ),
            ),
        )

    @router.post("/sourcing/problem", response_class=HTMLResponse)
    async def upload_problem(
        request: Request, q: Annotated[PageQuery, Depends()], file: Annotated[UploadFile, File()]
    ) -> Response:
        dash = dashboard(request)
        try:
            upload = await read_yaml_upload(dash, file, i.read_uploaded_problem)
        except i.InvalidInputError as exc:
            return sourcing_view(request, page_context(request, q), refused("sourcing", exc))
        await run_in_threadpool(dash.change_inputs, lambda now: i.set_sourcing(now, upload))
        return back(request, "/sourcing", q, "sourcing-input")

    @router.post("/sourcing/problem/reset", response_class=HTMLResponse)
    def reset_problem(request: Request, q: Annotated[PageQuery, Depends()]) -> Response:
        dashboard(request).change_inputs(lambda now: i.set_sourcing(now, None))
        return back(request, "/sourcing", q, "sourcing-input")

    @router.post("/investment/project", response_class=HTMLResponse)
    async def upload_project(
        request: Request, q: Annotated[PageQuery, Depends()], file: Annotated[UploadFile, File()]
    ) -> Response:
        dash = dashboard(request)
        try:
            upload = await read_yaml_upload(dash, file, i.read_uploaded_project)
        except i.InvalidInputError as exc:
            return investment_view(request, page_context(request, q), refused("project", exc))
        await run_in_threadpool(dash.change_inputs, lambda now: i.set_project(now, upload))
        return back(request, "/investment", q, "project-input")

    @router.post("/investment/project/reset", response_class=HTMLResponse)
    def reset_project(request: Request, q: Annotated[PageQuery, Depends()]) -> Response:
        dashboard(request).change_inputs(lambda now: i.set_project(now, None))
        return back(request, "/investment", q, "project-input")

    @router.get("/reconcile", response_class=HTMLResponse)
    def reconcile_page(
        request: Request,
        q: Annotated[PageQuery, Depends()],
        sample: Annotated[str | None, Query()] = None,
        result: Annotated[str | None, Query()] = None,
        today: Annotated[str | None, Query()] = None,
    ) -> Response:
        ctx = page_context(request, q)
        day = parse_day(today)
        source = None if not (sample or result) else choose_source(sample or None, result or None, day)
        return reconcile_view(request, ctx, source, day)

    @router.post("/reconcile", response_class=HTMLResponse)
    async def reconcile_upload_page(
        request: Request,
        q: Annotated[PageQuery, Depends()],
        file: Annotated[UploadFile, File()],
        today: Annotated[str, Form()] = "",
    ) -> Response:
        dash = dashboard(request)
        day = parse_day(today)
        try:
            source = await reconcile_upload(dash, file, day)
        except ExportRefusedError as exc:
            return reconcile_view(request, page_context(request, q), None, day, refused=exc)
        return RedirectResponse(reconcile_address(page_context(request, q), source), status_code=303)

    @router.get("/sourcing", response_class=HTMLResponse)
    def sourcing_page(request: Request, q: Annotated[PageQuery, Depends()]) -> Response:
        return sourcing_view(request, page_context(request, q))

    @router.get("/investment", response_class=HTMLResponse)
    def investment_page(request: Request, q: Annotated[PageQuery, Depends()]) -> Response:
        return investment_view(request, page_context(request, q))

    return router


def ledger_view(
    request: Request,
    ctx: PageContext,
    *,
    status: str | None = None,
    deleted: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The Ledger page: upload form, the chosen import's counts, its quarantined rows and first lines."""
    dash, sel = ctx.dash, ctx.sel
    quarantine = lines = None
    if sel is not None:
        record = sel.record
        api = f"/api/v1/ledgers/{record.import_id}"
        quarantine = dash.cached(
            ("ledger_html", "quarantine", record.import_id),
            lambda: html_table(
                dash.quarantine(record), "quarantine", "Quarantined rows", limit=500, api=f"{api}/quarantine"
            ),
        )
        # The stored file name is the server's; the page shows the user's label above instead.
        lines = dash.cached(
            ("ledger_html", "lines", record.import_id),
            lambda: html_table(
                dash.lines(record.import_id).drop("source_file"),
                "lines",
                "Lines (first 100)",
                limit=100,
                api=f"{api}/lines",
            ),
        )
    values = {
        "import_status": status,
        "deleted": deleted,
        "error": error,
        "quarantine": quarantine,
        "lines": lines,
    }
    if error is None:
        return shared(request, "ledger.html", "ledger", ctx, (status, deleted), lambda: values)
    return show(request, "ledger.html", "ledger", ctx, status_code, **values)


def back(request: Request, path: str, q: PageQuery, anchor: str) -> Response:
    """After a change, the page it was made on, with the same selection, scrolled to the form."""
    query = page_context(request, q).query
    return RedirectResponse(f"{path}{'?' + query if query else ''}#{anchor}", status_code=303)


def with_form(
    request: Request,
    template: str,
    page: str,
    ctx: PageContext,
    form: FormState | None,
    values: Callable[[], dict[str, Any]],
) -> Response:
    """A page that holds input forms: shared while no form was refused, else rendered with the problems."""
    if form is None:
        return shared(request, template, page, ctx, (), lambda: {"form": None, **values()})
    return show(request, template, page, ctx, form.status, form=form, **values())


def scenarios_view(request: Request, ctx: PageContext, form: FormState | None = None) -> Response:
    """The Scenarios page: comparison, simulation, the scenario-parameter and simulation forms."""
    import critmin.views as v

    if ctx.sel is None:
        return show(request, "empty.html", "scenarios", ctx, form.status if form else 200)
    dash, sel = ctx.dash, ctx.sel
    has_simulation = queries.view(dash, sel, "has_simulation", lambda a: a.simulation is not None)
    return with_form(
        request,
        "scenarios.html",
        "scenarios",
        ctx,
        form,
        lambda: dict(
            inputs=dash.inputs,
            parameter_forms=i.parameter_forms(dash.inputs),
            trees=shipped_trees(),
            max_draws=i.MAX_DRAWS,
            simulation=queries.view(dash, sel, "simulation_run", simulation_facts),
            comparison=queries.html(
                dash,
                sel,
                "scenario_comparison",
                v.scenario_comparison,
                title="Duty by scenario",
                api="/api/v1/scenarios/comparison",
            ),
            has_simulation=has_simulation,
            sim_summary=queries.html(
                dash,
                sel,
                "simulation_summary",
                v.simulation_summary,
                title="Distribution of duty over the simulated year",
            ),
            branches=queries.html(
                dash,
                sel,
                "simulation_branches",
                v.simulation_branches,
                title="Expected duty by branch of the tree",
            ),
            tornado=queries.html(dash, sel, "tornado", v.tornado, title="Sensitivity (tornado)"),
            measures=queries.html(
                dash,
                sel,
                "measure_sources",
                v.measure_sources,
                title="Measures behind these numbers, with their citations",
                limit=500,
                api="/api/v1/sources",
            ),
            charts={
                "scenarios": figure_json(dash, sel, FigureName.scenarios),
                **(
                    {
                        "distribution": figure_json(dash, sel, FigureName.distribution),
                        "fan_chart": figure_json(dash, sel, FigureName.fan_chart),
                        "tornado": figure_json(dash, sel, FigureName.tornado),
                    }
                    if has_simulation
                    else {}
                ),
            },
        ),
    )


def parse_day(text: str | None) -> date | None:
    """The Reconcile page's day (refund statuses are judged on it); empty means today."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise HTTPException(422, f"Cannot use today={text!r}: write the day as YYYY-MM-DD.") from exc
    return check_day(day)


def reconcile_address(ctx: PageContext, source: Source) -> str:
    """The Reconcile page of a source, keeping the page's own selection (ledger, report date)."""
    query = "&".join(part for part in (urlencode(source.query()), ctx.query) if part)
    return f"/reconcile?{query}"


def reconcile_view(
    request: Request,
    ctx: PageContext,
    source: Source | None,
    day: date | None,
    *,
    refused: ExportRefusedError | None = None,
) -> Response:
    """The Reconcile page: the two forms (a shipped sample, an upload) and, for a chosen export, what it
    paid against what it owed and what can come back. Every figure is the reconcile views'."""
    from critmin.reconcile.samples import SAMPLE_EXPORTS

    dash = ctx.dash
    values: dict[str, Any] = {
        "ace_samples": SAMPLE_EXPORTS,
        "source": source,
        "today": (source.today if source is not None else day or date.today()).isoformat(),
        "refused": refused,
        "view": None,
    }
    if source is not None:
        view = reconciliation_of(dash, source)
        refunds = refunds_of(dash, source)
        query = urlencode(source.query())
        values.update(
            view=view,
            refunds=refunds,
            label=source_label(dash, source),
            api_query=query,
            tables=dash.cached(
                ("reconcile_html", *source.key), lambda: reconcile_tables(view, refunds, query)
            ),
        )
    status = refused.http_status if refused is not None else 200
    return show(request, "reconcile.html", "reconcile", ctx, status, **values)


def reconcile_tables(view: ReconciliationView, refunds: RefundsView, query: str) -> dict[str, HtmlTable]:
    """The page's tables, amounts to the cent; a long table shows its first rows and names its endpoint."""
    from critmin.reconcile.views import AMOUNT_COLUMNS

    cents = dict.fromkeys(AMOUNT_COLUMNS, "usd2")
    api = f"/api/v1/reconcile?{query}"
    refund_api = f"/api/v1/reconcile/refunds?{query}"

    def html(frame: pl.DataFrame, id: str, title: str, url: str, limit: int = 500) -> HtmlTable:
        return html_table(frame, id, title, limit=limit, api=url, formats=cents)

    return {
        "by_cause": html(view.by_cause, "reconcile-causes", "Paid against owed, by cause", api),
        "by_measure": html(view.by_measure, "reconcile-measures", "Differences by measure and heading", api),
        "differences": html(view.differences, "reconcile-differences", "Differences, largest first", api),
        "fees": html(view.fees, "reconcile-fees", "MPF and HMF per entry", api),
        "lines": html(view.lines, "reconcile-lines", "Entry lines: duty paid against duty owed", api),
        "issues": html(view.issues, "reconcile-issues", "Rows with problems (file, row, column)", api),
        "measures": html(view.measures, "reconcile-sources", "Measures behind these numbers", api),
        "statuses": html(refunds.statuses, "refund-statuses", "Refundable IEEPA duty by status", refund_api),
        "deadlines": html(
            refunds.deadlines, "refund-deadlines", "Entries in their protest window", refund_api
        ),
        "refunds": html(refunds.refunds, "refunds", "Refundable lines, soonest deadline first", refund_api),
    }


def simulation_facts(a: Any) -> dict[str, Any] | None:
    """The tree and the draws the analysis's simulation ran with (None without a simulation)."""
    s = a.simulation
    if s is None:
        return None
    return {"tree_id": s.tree_id, "tree_title": s.tree_title, "draws": s.draws}


def sourcing_view(request: Request, ctx: PageContext, form: FormState | None = None) -> Response:
    import critmin.views as v

    if ctx.sel is None:
        return show(request, "empty.html", "sourcing", ctx, form.status if form else 200)
    dash, sel = ctx.dash, ctx.sel
    return with_form(
        request,
        "sourcing.html",
        "sourcing",
        ctx,
        form,
        lambda: dict(
            inputs=dash.inputs,
            summary=queries.view(dash, sel, "sourcing_summary", v.sourcing_summary),
            mix=queries.html(
                dash,
                sel,
                "sourcing_results",
                v.sourcing_results,
                title="Optimised supply mix",
                api="/api/v1/sourcing",
            ),
            binding=queries.html(
                dash,
                sel,
                "sourcing_binding",
                v.sourcing_binding,
                title="Binding constraints and shadow prices",
                api="/api/v1/sourcing",
            ),
            charts={"sourcing": figure_json(dash, sel, FigureName.sourcing)},
        ),
    )


def investment_view(request: Request, ctx: PageContext, form: FormState | None = None) -> Response:
    import critmin.views as v

    if ctx.sel is None:
        return show(request, "empty.html", "investment", ctx, form.status if form else 200)
    dash, sel = ctx.dash, ctx.sel
    return with_form(
        request,
        "investment.html",
        "investment",
        ctx,
        form,
        lambda: dict(
            inputs=dash.inputs,
            results=queries.html(
                dash,
                sel,
                "investment_results",
                v.investment_results,
                title="Project appraisal",
                api="/api/v1/investment",
            ),
            branches=queries.html(
                dash,
                sel,
                "investment_branches",
                v.investment_branches,
                title="NPV by policy branch",
                api="/api/v1/investment",
            ),
            charts={"investment": figure_json(dash, sel, FigureName.investment)},
        ),
    )
