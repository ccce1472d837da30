"""`critmin monitor ...` (Federal Register watch, alerts, digests) and `critmin timeline` (legal calendar).

Commands parse options, call :mod:`critmin.monitor` and render. Exit codes: 0 done; 1 a run finished with
failed queries or deliveries (it resumes next time); 2 bad input (watchlist, dates); 3 the Federal Register
cannot be reached (offline: the run stops at the first request instead of retrying every query).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer

from critmin.cli.command import CritminCommand, command_group
from critmin.cli.output import (
    ColumnsOption,
    Format,
    TableView,
    WideOption,
    console,
    err_console,
    print_frame,
    print_json,
)
from critmin.cli.workspace import WorkspaceOption, open_workspace
from critmin.errors import InputError, WorkspaceError

app = command_group("Follow the Federal Register: watchlists, stored documents, alerts in dollars, digests.")
watchlist_app = command_group("Check watchlist files.")
app.add_typer(watchlist_app, name="watchlist")

DEFAULT_WATCHLIST = Path("watch.yaml")
EXAMPLE_WATCHLIST = "watchlist_example.yaml"
"""The commented watchlist `critmin monitor init` writes (shipped in critmin/samples/monitor/)."""


class DigestFormatOption(StrEnum):
    md = "md"
    html = "html"
    json = "json"


WatchlistOption = Annotated[
    Path,
    typer.Option("--watchlist", "-w", help="Watchlist YAML file (see docs/monitor.md).", show_default=False),
]
SinceOption = Annotated[str | None, typer.Option("--since", help="Only from this day (YYYY-MM-DD).")]
EntriesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--entries",
        help="ACE entry-summary export (ES-003, CSV or .xlsx) whose protest deadlines to add; repeatable.",
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table, json or csv.")]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{option} {value!r}: write the date as YYYY-MM-DD, e.g. 2026-07-13."
        ) from exc


@contextmanager
def _monitor_tables() -> Iterator[None]:
    """A workspace made before the monitor existed has no monitor tables: say how to add them."""
    try:
        yield
    except duckdb.CatalogException as exc:
        raise WorkspaceError(
            "This workspace has no monitor tables yet: run `critmin monitor run` (or `critmin workspace "
            "migrate`) first."
        ) from exc


@app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the watchlist.")] = DEFAULT_WATCHLIST,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an example watchlist, every field explained in comments, to edit for your own products.

    Example: critmin monitor init watch.yaml && critmin monitor watchlist validate watch.yaml
    """
    from critmin.paths import SAMPLES_DIR

    if path.exists() and not force:
        raise InputError(f"{path} already exists; choose another path or add --force to overwrite it.")
    text = (SAMPLES_DIR / "monitor" / EXAMPLE_WATCHLIST).read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    console.print(
        f"Wrote {path}. Check it with `critmin monitor watchlist validate {path}`, then run "
        f"`critmin monitor run --watchlist {path}`."
    )


@app.command("run")
def run(
    watchlist: WatchlistOption,
    workspace: WorkspaceOption = None,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="Price alerts on this ledger file instead of the workspace's."),
    ] = None,
    mapping: Annotated[Path | None, typer.Option("--map", help="Header mapping file for --ledger.")] = None,
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", min=1, help="Read at most N pages per query (the rest next run)."),
    ] = None,
    deliver: Annotated[
        bool, typer.Option("--deliver/--no-deliver", help="Send webhook/e-mail alerts.")
    ] = True,
    duty: Annotated[bool, typer.Option("--duty/--no-duty", help="Price alerts with the duty engine.")] = True,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Evaluate measures, and judge protest windows, as of this day."),
    ] = None,
    entries: EntriesOption = None,
    protest_days: Annotated[
        int | None,
        typer.Option(
            "--protest-days",
            min=0,
            max=180,
            help="Alert on protest windows closing within N days (default: the watchlist's, else 30).",
        ),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Fetch new Federal Register documents for every watch entry, store them, raise alerts and deliver them;
    and raise one alert per entry of your ACE exports whose IEEPA protest window closes soon.

    Example: critmin monitor run --watchlist watch.yaml --ledger imports.csv --entries es003.csv
    """
    from critmin.monitor.deliver import channels_from
    from critmin.monitor.fedreg import FederalRegisterClient
    from critmin.monitor.impact import EngineDutyModel
    from critmin.monitor.runner import load_ledger, run_monitor
    from critmin.monitor.watchlist import load_watchlist

    as_of = _date(today, "--today")
    spec = load_watchlist(watchlist)
    with open_workspace(workspace, create=True) as ws, FederalRegisterClient() as client:
        frame = load_ledger(ws, ledger, mapping=mapping)
        report = run_monitor(
            ws,
            spec,
            client=client,
            ledger=frame,
            duty=EngineDutyModel(today=as_of) if duty and frame is not None else None,
            channels=channels_from(spec.deliver) if deliver else (),
            max_pages=max_pages,
            entry_files=entries or (),
            protest_days=protest_days,
            today=as_of,
        )
    rows = [
        {
            "query": q.label,
            "resumed": q.resumed,
            "pages": q.pages,
            "results": q.results,
            "new_documents": q.new_documents,
            "complete": q.complete,
            "error": q.error,
        }
        for q in report.queries
    ]
    if fmt is Format.json:
        print_json(
            {
                "run_id": report.run_id,
                "status": report.status,
                "queries": rows,
                "alerts_new": report.alerts_new,
                "alerts_suppressed": report.alerts_suppressed,
                "deadline_alerts_new": report.deadline_alerts_new,
                "delivered": report.delivery.delivered,
                "delivery_failed": report.delivery.failed,
                "warnings": report.warnings,
                "atom": str(report.atom_path) if report.atom_path else None,
            }
        )
    else:
        print_frame(pl.DataFrame(rows), fmt, title=f"monitor run {report.run_id}: {report.status}")
        if fmt is Format.table:
            console.print(
                f"{report.documents_new} new document(s), {report.alerts_new} new alert(s)"
                f" ({report.alerts_suppressed} suppressed), {report.delivery.delivered} delivered"
                f"{f', {report.delivery.failed} delivery failure(s)' if report.delivery.failed else ''}."
            )
            if report.deadline_alerts_new:
                console.print(
                    f"{report.deadline_alerts_new} new protest-deadline alert(s) for your entries "
                    "(`critmin monitor digest` lists them)."
                )
            for warning in report.warnings:
                err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    for error in report.errors:
        err_console.print(f"[red]{error}[/red]", highlight=False)
    if report.status != "complete":
        raise typer.Exit(1)


@app.command("digest")
def digest(
    workspace: WorkspaceOption = None,
    since: SinceOption = None,
    fmt: Annotated[DigestFormatOption, typer.Option("--format", "-f", help="md, html or json.")] = (
        DigestFormatOption.md
    ),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """The alerts raised so far (or since a day), as Markdown, HTML or JSON.

    Example: critmin monitor digest --since 2026-11-01 --format html --out digest.html
    """
    from critmin.monitor.alerts import payloads
    from critmin.monitor.digest import DigestFormat, render, write_atomic
    from critmin.monitor.store import MonitorStore

    start = _date(since, "--since")
    with _monitor_tables(), open_workspace(workspace, read_only=True) as ws:
        alerts = payloads(MonitorStore(ws).alerts(since=start))
    text = render(alerts, DigestFormat(fmt.value), since=start)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(out, text.encode("utf-8"))
        console.print(f"Wrote {len(alerts)} alert(s) to {out}.")


@app.command("feed")
def feed(
    out: Annotated[Path, typer.Option("--out", "-o", help="Atom file to write.", show_default=False)],
    workspace: WorkspaceOption = None,
    title: Annotated[str, typer.Option("--title", help="Feed title.")] = "critmin policy alerts",
) -> None:
    """Write every alert as an Atom feed file (for feed readers and intranet pages)."""
    from critmin.monitor.runner import write_feed
    from critmin.monitor.store import MonitorStore

    with _monitor_tables(), open_workspace(workspace, read_only=True) as ws:
        write_feed(MonitorStore(ws), out, title=title)
    console.print(f"Wrote {out}.")


@app.command("documents")
def documents(
    workspace: WorkspaceOption = None,
    since: SinceOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most N documents.")] = 50,
    fmt: FormatOption = Format.table,
) -> None:
    """Documents stored by monitor runs, newest first."""
    from critmin.monitor.store import MonitorStore

    with _monitor_tables(), open_workspace(workspace, read_only=True) as ws:
        frame = MonitorStore(ws).documents(since=_date(since, "--since"))
    shown = frame.select(
        "document_number", "publication_date", "doc_type", "title", "agencies", "endpoint", "html_url"
    ).head(limit)
    print_frame(shown, fmt, title=f"{frame.height} stored document(s)")


@app.command("runs")
def runs(workspace: WorkspaceOption = None, fmt: FormatOption = Format.table) -> None:
    """Recent monitor runs and where each watched query's cursor stands."""
    from critmin.monitor.store import MonitorStore

    with _monitor_tables(), open_workspace(workspace, read_only=True) as ws:
        store = MonitorStore(ws)
        history, cursors = store.runs(), store.cursors()
    if fmt is Format.json:
        print_json({"runs": history.to_dicts(), "cursors": cursors.to_dicts()})
        return
    print_frame(history, fmt, title="monitor runs")
    print_frame(
        cursors.select("label", "next_page", "high_water", "pages_read", "passes_completed", "updated_at"),
        fmt,
        title="cursors",
    )


@app.command("imports")
def imports(
    hts: Annotated[
        str, typer.Argument(help="HTS code at 2, 4, 6 or 10 digits (dots allowed).", show_default=False)
    ],
    start: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.", show_default=False)],
    end: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.", show_default=False)],
    country: Annotated[str | None, typer.Option("--country", help="Origin country (ISO3 or name).")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """U.S. monthly imports of an HTS code from the Census Bureau trade API (national context).

    Example: critmin monitor imports 8505.11.0070 --from 2025-01 --to 2025-12 --country CHN
    """
    from critmin.monitor.census import CensusTradeClient, ImportsQuery, census_code

    try:
        query = ImportsQuery(
            hts=hts, start=start, end=end, cty_code=census_code(country) if country else None
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with CensusTradeClient() as client:
        frame = client.imports(query)
    print_frame(frame, fmt, title=f"U.S. imports of {query.hts}, {start} to {end}")


@watchlist_app.command("validate")
def watchlist_validate(
    file: Annotated[Path, typer.Argument(help="Watchlist YAML file.", show_default=False)],
    fmt: FormatOption = Format.table,
) -> None:
    """Check a watchlist: every problem with its place in the file, and the queries it will run."""
    from critmin.monitor.impact import unknown_measures
    from critmin.monitor.watchlist import load_watchlist

    spec = load_watchlist(file)
    measures = sorted({e.measure for e in spec.entries if e.measure} | set(spec.documents.values()))
    unknown = unknown_measures(measures, base=file.parent)
    queries = [{"entry": q.entry_id, "endpoint": str(q.endpoint), "query": q.label} for q in spec.queries()]
    if fmt is Format.json:
        print_json({"valid": not unknown, "name": spec.name, "queries": queries, "unknown_measures": unknown})
    else:
        print_frame(
            pl.DataFrame(queries), fmt, title=f"{file}: {len(spec.entries)} entr(ies), {len(queries)} queries"
        )
    if unknown:
        raise InputError(
            f"{file}: unknown measure or scenario id(s): {', '.join(unknown)}. Use a measure id from "
            "`critmin policy list`, a scenario from `critmin policy scenarios`, or the path of a scenario "
            "file."
        )


TIMELINE_FIRST = ("date", "countdown", "title", "citation", "source_url", "end_date", "verification")


def timeline_command(
    upcoming: Annotated[
        bool, typer.Option("--upcoming", help="Only what is still ahead (and open windows).")
    ] = False,
    today: Annotated[
        str | None, typer.Option("--today", help="Count down from this day (YYYY-MM-DD).")
    ] = None,
    events: Annotated[
        list[Path] | None, typer.Option("--events", help="Your own events file(s) (YAML); repeatable.")
    ] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Only this topic, e.g. pcmdp_232.")] = None,
    entries: EntriesOption = None,
    fmt: FormatOption = Format.table,
    columns: ColumnsOption = None,
    wide: WideOption = False,
) -> None:
    """Dated events and deadlines of PCMDP policy with countdowns, each with its citation and source; with
    --entries, also the protest deadline of each of your entries with IEEPA duty to get back, in dollars.

    Example: critmin timeline --upcoming --today 2026-06-01 --columns date,countdown,title,source_url
    """
    from critmin.monitor.deadlines import deadline_events, protest_deadlines
    from critmin.monitor.timeline import all_events, timeline

    day = _date(today, "--today") or datetime.now(UTC).date()
    found = all_events(events)
    if entries:  # every deadline, past ones too: a passed deadline says the refund is now contested
        found += deadline_events(protest_deadlines(entries, today=day, statuses=None))
    frame = timeline(found, today=day, upcoming=upcoming)
    if topic:
        frame = frame.filter(pl.col("topic") == topic)
    if fmt is Format.table:  # what a narrow terminal shows first: when, what, and on whose word
        first = [c for c in TIMELINE_FIRST if c in frame.columns]
        frame = frame.select(*first, *(c for c in frame.columns if c not in first))
    print_frame(
        frame,
        fmt,
        title=f"timeline as of {day.isoformat()}",
        keys=("date", "countdown"),
        view=TableView.of(columns, wide),
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="monitor")
    root.command("timeline", cls=CritminCommand)(timeline_command)
