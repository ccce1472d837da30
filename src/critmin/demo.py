"""The demo: the main job end to end on the shipped sample defense prime, written to one directory.

Import the sample ledger into a workspace (classifying every line), evaluate duty under the law in force on
the report date (today by default) and under each PCMDP scenario (each from its ``start_date``, 2027-01-01 by
default, including the polysilicon-template remedy), assess supply risk, simulate the scenario tree
``pcmdp_after_window`` (2027 branches drawn after the Proclamation 11001 window closed), optimise the magnet
sourcing sample, appraise the NdPr separation sample, record each duty run in the workspace and write the
report. It calls the same library functions as the commands, so a passing demo is an end-to-end test of the
chain.

A newcomer may have Python and make but no Chromium: the demo then writes everything but the PDF and
says, in :attr:`DemoResult.pdf_skipped`, why (the PDF is the one output that needs another program).
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from critmin import __version__
from critmin.paths import SAMPLES_DIR
from critmin.report import ChromiumNotFoundError, ReportFiles, find_chromium, write_report
from critmin.report.paper import DEFAULT_PAPER, Paper
from critmin.report.pdf import pdf_skipped_note
from critmin.views import Analysis, analyse, headline_table
from critmin.views.scenarios import scenario_comparison
from critmin.views.summary import executive_summary

SAMPLE_LEDGER = SAMPLES_DIR / "ledger" / "defense_prime_ledger.csv"
SAMPLE_SOURCING = SAMPLES_DIR / "sourcing" / "ndfeb_magnets.yaml"
SAMPLE_PROJECT = SAMPLES_DIR / "projects" / "ndpr_separation.yaml"
WORKSPACE_NAME = "critmin.duckdb"
DEMO_TREE = "pcmdp_after_window"
"""The scenario tree the demo simulates: the law in force today, then illustrative 2027 branches."""
DEFAULT_DRAWS = 2000


@dataclass
class DemoResult:
    out_dir: Path
    analysis: Analysis
    report: ReportFiles
    workspace: Path
    import_summary: dict[str, Any]
    run_ids: dict[str, int]
    tables: list[tuple[str, pl.DataFrame]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    pdf_skipped: str | None = None
    """Why report.pdf was not printed, how to get Chromium and the command to run then (one line)."""


def _classification_counts(classification: pl.DataFrame) -> pl.DataFrame:
    """Lines by classification confidence (a line mapped to several minerals counts once, at its best)."""
    rank = {"exact": 0, "partial": 1, "basket": 2, "unmapped": 3}
    best = (
        classification.with_columns(pl.col("confidence").replace_strict(rank, default=4).alias("_rank"))
        .group_by("line_id")
        .agg(pl.col("confidence").sort_by("_rank").first())
    )
    return best.group_by("confidence").agg(pl.len().cast(pl.Int64).alias("lines")).sort("confidence")


def run_demo(
    out_dir: Path,
    progress: Callable[[str], None] = lambda _step: None,
    *,
    as_of: date | None = None,
    draws: int = DEFAULT_DRAWS,
    pdf: bool = True,
    paper: Paper | str = DEFAULT_PAPER,
) -> DemoResult:
    """Run the demo into ``out_dir`` (created; the workspace in it is reused on a second run).

    Without Chromium the PDF is skipped, not the demo: everything else is written and
    :attr:`DemoResult.pdf_skipped` says how to get the PDF.
    """
    from critmin.duty.runs import LedgerSource, record_run
    from critmin.invest import load_project
    from critmin.ledger import store
    from critmin.optimize import load_problem
    from critmin.workspace import Workspace

    started = time.perf_counter()
    browser: Path | None = None
    skipped: str | None = None
    if pdf:
        try:
            browser = find_chromium()  # look now, not after the analysis
        except ChromiumNotFoundError as exc:
            skipped = pdf_skipped_note(exc, demo_command(out_dir, as_of=as_of, draws=draws, paper=paper))
    out_dir.mkdir(parents=True, exist_ok=True)
    workspace_path = out_dir / WORKSPACE_NAME
    progress("importing the sample defense prime into the workspace")
    with Workspace.open(workspace_path, create=True) as ws:
        stored = store.import_ledger(ws, SAMPLE_LEDGER, classify=True)
        import_summary = stored.summary()
        lines = store.lines(ws, import_id=stored.import_id)
        classified = _classification_counts(store.classification(ws))
        quarantined = store.quarantine(ws, source_file=SAMPLE_LEDGER.name)
    rows_in = int(import_summary["rows_in"])
    analysis = analyse(
        lines,
        ledger_name=SAMPLE_LEDGER.name,
        ledger_sha256=str(import_summary.get("sha256") or _sha256(SAMPLE_LEDGER)),
        rows_in=rows_in,
        rows_quarantined=int(import_summary["rows_quarantined"]),
        as_of=as_of,
        tree=DEMO_TREE,
        draws=draws,
        sourcing=load_problem(SAMPLE_SOURCING),
        sourcing_name=SAMPLE_SOURCING.name,
        projects=[load_project(SAMPLE_PROJECT)],
        progress=progress,
    )
    progress("recording the duty runs in the workspace")
    run_ids: dict[str, int] = {}
    with Workspace.open(workspace_path) as ws:
        source = LedgerSource(str(SAMPLE_LEDGER), analysis.ledger_sha256, stored.import_id)
        for run in analysis.runs:
            run_ids[run.id] = record_run(ws, run.result, source)
    formats = ("html", "xlsx", "pdf") if browser is not None else ("html", "xlsx")
    files = write_report(analysis, out_dir, formats=formats, progress=progress, paper=paper, browser=browser)
    summary_path = _write_summary(out_dir, analysis, import_summary, run_ids)
    result = DemoResult(
        out_dir=out_dir,
        analysis=analysis,
        report=files,
        workspace=workspace_path,
        import_summary=import_summary,
        run_ids=run_ids,
        files=[*files.paths(), summary_path, workspace_path],
        pdf_skipped=skipped,
    )
    result.tables = [
        ("Lines imported into the workspace, by classification", classified),
        (
            f"Quarantined rows ({quarantined.height}; fix and re-import)",
            quarantined.select("source_row", "code", "column"),
        ),
        (f"{analysis.ledger_name}: annual duty (USD)", headline_table(analysis)),
        (
            f"Scenarios against the law in force on {analysis.as_of.isoformat()} "
            f"(scenario tree: {DEMO_TREE})",
            _scenario_reach_table(analysis),
        ),
    ]
    result.seconds = time.perf_counter() - started
    return result


def demo_command(
    out_dir: Path,
    *,
    as_of: date | None = None,
    draws: int = DEFAULT_DRAWS,
    paper: Paper | str = DEFAULT_PAPER,
) -> str:
    """The ``critmin demo`` command line that runs the demo again with these options (it reuses the
    workspace and rewrites the report)."""
    words = ["critmin", "demo", "--out", str(out_dir)]
    if as_of is not None:
        words += ["--as-of", as_of.isoformat()]
    if draws != DEFAULT_DRAWS:
        words += ["--draws", str(draws)]
    if str(paper).lower() != DEFAULT_PAPER.value:
        words += ["--paper", str(paper).lower()]
    return shlex.join(words)


def _scenario_reach_table(analysis: Analysis) -> pl.DataFrame:
    """Each scenario's evaluation date, the ledger lines its own measures reach and its annual duty."""
    return scenario_comparison(analysis).select(
        "scenario", "eval_date", "lines_reached", "lines_paying", "annual_duty", "annual_change"
    )


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_summary(
    out_dir: Path, analysis: Analysis, import_summary: dict[str, Any], run_ids: dict[str, int]
) -> Path:
    """summary.json: the headline numbers in machine-readable form, with the workspace run ids."""
    numbers = executive_summary(analysis)["numbers"]
    payload = {
        "critmin_version": __version__,
        "ledger": str(SAMPLE_LEDGER.name),
        "import": import_summary,
        "workspace_runs": run_ids,
        "numbers": numbers,
        "timings_seconds": {k: round(v, 3) for k, v in analysis.timings.items()},
    }
    path = out_dir / "summary.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path
