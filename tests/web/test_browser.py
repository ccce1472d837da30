"""The dashboard in real headless Chromium (Debian's, driven by Playwright) against a real uvicorn server.

One browser session walks what a user does: upload the sample ledger through the form, read the counts and
the quarantined rows, visit every page (each chart drawn, no script error, nothing fetched from anywhere but
this server), pick a report date and switch scenarios, checking that the duty shown is the duty engine's,
and download the report. Screenshots are saved under tests/artifacts/browser.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from critmin.duty import evaluate
from critmin.ledger.ingest import ImportResult
from critmin.policy import load_scenario
from critmin.web.render import PAGES

from .conftest import BrowserSession as Session
from .conftest import browser_session

pytestmark = pytest.mark.slow

AS_OF = date(2027, 1, 1)  # on or after every shipped scenario's start, so each is evaluated on this date
SCENARIOS = (
    "combined",
    "minimum_import_price",
    "price_floor_partners_tariff_others",
    "s232_tariff_non_partners",
    "trq",
)


def dollars(value: float) -> str:
    """How the page prints a dollar amount: whole dollars with thousands separators."""
    return f"{'-' if value < 0 else ''}${abs(value):,.0f}"


def engine_duty(ledger: ImportResult, scenario: str) -> float:
    return float(evaluate(ledger.lines, load_scenario(scenario), as_of=AS_OF).totals()["duty"])


@pytest.fixture(scope="module")
def session(browser: Browser, live_server: Any, artifacts: Path) -> Iterator[Session]:
    with browser_session(browser, live_server.url, artifacts / "browser") as s:
        yield s


@pytest.fixture(scope="module")
def uploaded(session: Session, sample_ledger: ImportResult, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Upload the sample through the form, under a name of the user's choosing; returns the landing URL."""
    folder = tmp_path_factory.mktemp("upload")
    path = folder / "Aegis entries 2025-26.csv"
    shutil.copy(sample_ledger.source.path, path)
    page = session.page
    page.goto(session.base + "/")
    assert page.locator("h1").inner_text() == "Overview"
    session.shot("01-welcome")
    page.set_input_files("#upload-form input[type=file]", str(path))
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")
    return page.url


def test_upload_shows_counts_and_quarantine(
    session: Session, uploaded: str, sample_ledger: ImportResult
) -> None:
    assert uploaded.endswith("/ledger?ledger=1&status=imported")
    page = session.page
    assert page.get_by_role("status").inner_text() == "Imported Aegis entries 2025-26.csv."
    assert session.number("rows-in") == (sample_ledger.rows_in, f"{sample_ledger.rows_in:,}")
    assert session.number("rows-loaded") == (sample_ledger.rows_loaded, f"{sample_ledger.rows_loaded:,}")
    assert session.number("rows-quarantined")[0] == sample_ledger.rows_quarantined == 9
    rows = page.locator('[data-table="quarantine"] tbody tr')
    assert rows.count() == 9
    expected_rows = sorted(sample_ledger.quarantine["source_row"].unique().to_list())
    shown_rows = [int(rows.nth(i).locator('td[data-column="source_row"]').inner_text()) for i in range(9)]
    assert shown_rows == expected_rows
    assert "Did you mean: China?" in page.locator('[data-table="quarantine"]').inner_text()
    session.shot("02-ledger-after-upload")


def test_every_page_renders_offline(session: Session, uploaded: str) -> None:
    page = session.page
    page.goto(f"{session.base}/?ledger=1&as_of={AS_OF.isoformat()}")
    for index, (key, label, _href) in enumerate(PAGES):
        with page.expect_navigation():
            page.get_by_role("navigation", name="pages").get_by_role("link", name=label, exact=True).click()
        assert page.locator("nav a[aria-current=page]").inner_text() == label
        assert f"as_of={AS_OF.isoformat()}" in page.url  # the selection travels with the navigation
        session.wait_for_charts()
        session.shot(f"{10 + index:02d}-{key}")
    assert session.console_errors == []
    assert session.foreign_requests == []  # no CDN, no map tiles, no fonts from elsewhere
    page.goto(f"{session.base}/exposure?ledger=1&as_of={AS_OF.isoformat()}")
    session.wait_for_charts()
    assert page.locator("#chart-world_map .geo").count() == 1  # the map drew from the shipped outline


def test_report_date_and_scenarios_match_the_engine(
    session: Session, uploaded: str, sample_ledger: ImportResult
) -> None:
    page = session.page
    page.goto(f"{session.base}/exposure?ledger=1")
    page.fill("input[name=as_of]", AS_OF.isoformat())
    with page.expect_navigation():
        page.click("#selection button[type=submit]")
    assert "scenario=" not in page.url  # empty choices stay out of the address
    today = engine_duty(sample_ledger, "status_quo")
    assert session.number("scenario-duty") == (pytest.approx(today), dollars(today))
    for scenario in SCENARIOS:
        with page.expect_navigation():
            page.select_option("select[name=scenario]", scenario)  # the chooser submits itself
        assert f"scenario={scenario}" in page.url
        expected = engine_duty(sample_ledger, scenario)
        value, text = session.number("scenario-duty")
        assert value == pytest.approx(expected), scenario
        assert text == dollars(expected), scenario
        assert page.locator("p.lead").get_attribute("data-run") == scenario
    session.wait_for_charts()
    session.shot("30-exposure-trq")
    with page.expect_navigation():
        page.select_option("select[name=by]", "origin")
    rows = page.locator('[data-table="exposure"] tbody tr')
    total = sum(
        float(rows.nth(i).locator('td[data-column="duty"]').get_attribute("data-value") or 0)
        for i in range(rows.count())
    )
    assert total == pytest.approx(engine_duty(sample_ledger, "trq"))
    assert session.console_errors == []


def test_overview_headline_is_the_engines_per_year(
    session: Session, uploaded: str, sample_ledger: ImportResult
) -> None:
    page = session.page
    page.goto(f"{session.base}/?ledger=1&as_of={AS_OF.isoformat()}")
    first, last = sample_ledger.lines["entry_date"].min(), sample_ledger.lines["entry_date"].max()
    assert isinstance(first, date) and isinstance(last, date)
    months = (last.year - first.year) * 12 + last.month - first.month + 1  # 24: Jan 2025 to Dec 2026
    annual = engine_duty(sample_ledger, "status_quo") * 12 / months
    assert session.number("annual-duty-today") == (pytest.approx(annual), dollars(annual))
    highest = max(SCENARIOS, key=lambda s: engine_duty(sample_ledger, s))
    assert session.number("annual-duty-highest")[0] == pytest.approx(
        engine_duty(sample_ledger, highest) * 12 / months
    )


def test_report_downloads(session: Session, uploaded: str) -> None:
    page = session.page
    page.goto(f"{session.base}/?ledger=1&as_of={AS_OF.isoformat()}")
    with page.expect_download() as download_info:
        page.click('a[data-report="xlsx"]')
    download = download_info.value
    assert download.suggested_filename == f"critmin-report-ledger1-{AS_OF.isoformat()}.xlsx"
    path = download.path()
    assert path is not None and Path(path).read_bytes()[:2] == b"PK"


def test_a_bad_file_is_explained_on_the_page(session: Session, uploaded: str, tmp_path: Path) -> None:
    broken = tmp_path / "ledger.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook at all")
    page = session.page
    page.goto(session.base + "/ledger")
    page.set_input_files("#upload-form input[type=file]", str(broken))
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")
    alert = page.get_by_role("alert").first
    assert "ledger.xlsx" in alert.inner_text()
    assert "upload-" not in alert.inner_text()  # the server's own file name never shows
    session.shot("40-bad-upload")


def test_api_docs_render_offline_under_the_csp(session: Session) -> None:
    """Swagger UI draws the schema from files this server serves; the CSP blocks nothing it needs."""
    page = session.page
    errors_before = len(session.console_errors)
    page.goto(session.base + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
    assert "critmin" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector(".opblock-summary-path", timeout=60_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/ledgers/{import_id}" in paths and len(paths) >= 20
    assert session.console_errors[errors_before:] == []  # no CSP violation, no script error
    assert session.foreign_requests == []
    session.shot("50-api-docs")


def test_deleting_an_import_with_the_button(session: Session, uploaded: str) -> None:
    page = session.page
    errors_before = len(session.console_errors)
    page.goto(session.base + "/ledger")
    page.select_option("#sample-form select[name=name]", "battery_maker")
    with page.expect_navigation():
        page.click("#sample-form button[type=submit]")
    imported = int(page.locator("section.import").get_attribute("data-import") or 0)
    assert imported > 1
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()  # the first time, the user changes their mind
        else:
            dialog.accept()

    page.on("dialog", answer)
    page.click("#delete-form button[type=submit]")
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/ledger?ledger={imported}&status=imported")  # nothing was sent
    with page.expect_navigation():
        page.click("#delete-form button[type=submit]")
    page.remove_listener("dialog", answer)
    assert asked[0].startswith(f"Delete import #{imported} (")
    assert page.url.endswith(f"/ledger?deleted={imported}")
    assert page.get_by_role("status").inner_text().startswith(f"Deleted import #{imported}")
    imports = page.locator('[data-table="imports"] tbody tr').all_inner_texts()
    assert not any(row.startswith(f"#{imported}\t") for row in imports) and imports
    assert session.console_errors[errors_before:] == []
    session.shot("51-import-deleted")
