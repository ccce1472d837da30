"""One analysis of the sample defense prime, built once per session, and the report files written from it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from critmin.invest import load_project
from critmin.ledger.ingest import ImportResult, ingest
from critmin.optimize import load_problem
from critmin.paths import SAMPLES_DIR
from critmin.report import ReportFiles, write_report
from critmin.views import Analysis, analyse

AS_OF = date(2026, 11, 28)
SCENARIOS = ["s232_tariff_non_partners", "price_floor_partners_tariff_others", "trq"]
LEDGER = SAMPLES_DIR / "ledger" / "defense_prime_ledger.csv"
DRAWS = 400
SEED = 7


@pytest.fixture(scope="session")
def ingested() -> ImportResult:
    return ingest(LEDGER)


@pytest.fixture(scope="session")
def lines(ingested: ImportResult) -> pl.DataFrame:
    return ingested.lines


@pytest.fixture(scope="session")
def analysis(ingested: ImportResult) -> Analysis:
    return analyse(
        ingested.lines,
        ledger_name=LEDGER.name,
        ledger_sha256=ingested.source.sha256,
        rows_in=ingested.rows_in,
        rows_quarantined=ingested.rows_quarantined,
        as_of=AS_OF,
        scenarios=SCENARIOS,
        tree="pcmdp_window_2026",
        draws=DRAWS,
        seed=SEED,
        sourcing=load_problem(SAMPLES_DIR / "sourcing" / "ndfeb_magnets.yaml"),
        projects=[load_project(SAMPLES_DIR / "projects" / "ndpr_separation.yaml")],
    )


@pytest.fixture(scope="session")
def report_files(analysis: Analysis, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return write_report(analysis, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def report_html(report_files: ReportFiles) -> str:
    assert report_files.html is not None
    return Path(report_files.html).read_text(encoding="utf-8")
