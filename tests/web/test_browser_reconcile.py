"""The Reconcile page in real headless Chromium (Debian's, driven by Playwright) against a real server.

One session: open the page from the navigation, reconcile a shipped sample through its form and read the
figures (each compared with :func:`critmin.reconcile.reconcile_file` for the same file and day), download
the CAPE CSV, upload an export of one's own under a name of one's choosing and read its figures and its
quarantined row, then upload a file that is no ACE export and read why, row by row. No script error, nothing
fetched from anywhere but this server. Screenshots are saved under tests/artifacts/browser-reconcile.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from critmin.reconcile import SAMPLE_EXPORTS, reconcile_file

from .conftest import BrowserSession as Session
from .conftest import browser_session

pytestmark = pytest.mark.slow

TODAY = date(2026, 12, 5)  # the day the samples' README judges refund statuses on


def cents(value: float) -> str:
    """How the page prints an amount it compares to the cent."""
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


@pytest.fixture(scope="module")
def session(browser: Browser, live_server: Any, artifacts: Path) -> Iterator[Session]:
    with browser_session(browser, live_server.url, artifacts / "browser-reconcile") as s:
        yield s


def test_a_sample_from_the_navigation(session: Session) -> None:
    page = session.page
    page.goto(session.base + "/")
    with page.expect_navigation():
        page.get_by_role("navigation", name="pages").get_by_role("link", name="Reconcile", exact=True).click()
    assert page.locator("nav a[aria-current=page]").inner_text() == "Reconcile"
    session.shot("01-reconcile-empty")
    page.select_option("#reconcile-sample-form select[name=sample]", "northstar_magnetics")
    page.fill("#reconcile-sample-form input[name=today]", TODAY.isoformat())
    with page.expect_navigation():
        page.click("#reconcile-sample-form button[type=submit]")
    assert page.url.endswith(f"/reconcile?sample=northstar_magnetics&today={TODAY.isoformat()}")

    result = reconcile_file(SAMPLE_EXPORTS["northstar_magnetics"].path, today=TODAY)
    totals = result.totals()
    for name, value in (
        ("duty-paid", totals["duty"]["paid"]),
        ("duty-owed", totals["duty"]["expected"]),
        ("duty-variance", totals["duty"]["variance"]),
        ("mpf-paid", totals["fees"]["mpf"]["paid"]),
        ("hmf-owed", totals["fees"]["hmf"]["expected"]),
        ("refund-unliquidated", totals["refund_by_status"]["unliquidated"]),
        ("refund-protest_window", totals["refund_by_status"]["protest_window"]),
        ("refund-finally_liquidated", totals["refund_by_status"]["finally_liquidated"]),
    ):
        assert session.number(name) == (pytest.approx(value), cents(value)), name
    # the README's hand arithmetic: -12,000.00 (missing heading) - 2,790.00 (wrong rate)
    assert session.number("duty-variance") == (-14790.0, "-$14,790.00")
    differences = page.locator('[data-table="reconcile-differences"] tbody tr')
    assert differences.count() == 2
    first = differences.nth(0)
    assert first.locator('td[data-column="cause"]').inner_text() == "heading_missing"
    assert first.locator('td[data-column="variance"]').inner_text() == "-$12,000.00"
    assert (
        first.locator('td[data-column="measure_id"]').inner_text() == "s301_2026_graphite_magnets_batteries"
    )
    deadline = page.locator('[data-table="refund-deadlines"] tbody tr')
    assert deadline.count() == 1
    assert deadline.locator('td[data-column="entry_number"]').inner_text() == "NS710000246"
    assert deadline.locator('td[data-column="protest_deadline"]').inner_text() == "2027-02-17"
    assert deadline.locator('td[data-column="days_left"]').inner_text() == "74"
    assert deadline.locator('td[data-column="amount"]').inner_text() == "$8,250.00"
    assert "law as of 2026-12-05" in page.locator("[data-test=law-currency]").inner_text()
    session.shot("02-northstar-sample")

    with page.expect_download() as download_info:
        page.click('a[data-download="cape"]')
    download = download_info.value
    assert download.suggested_filename == f"cape-northstar_magnetics-{TODAY.isoformat()}.csv"
    path = download.path()
    assert path is not None
    text = Path(path).read_text(encoding="utf-8")
    assert text == result.cape_csv()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8 and {r["status"] for r in rows} == {
        "unliquidated",
        "protest_window",
        "finally_liquidated",
    }
    assert session.console_errors == [] and session.foreign_requests == []


def test_an_upload_of_ones_own(session: Session, tmp_path: Path) -> None:
    page = session.page
    source = SAMPLE_EXPORTS["aegis_defense"].path
    mine = tmp_path / "Aegis ACE ES-003 FY2026.csv"
    shutil.copy(source, mine)
    page.goto(session.base + "/reconcile")
    page.set_input_files("#reconcile-upload-form input[type=file]", str(mine))
    page.fill("#reconcile-upload-form input[name=today]", TODAY.isoformat())
    with page.expect_navigation():
        page.click("#reconcile-upload-form button[type=submit]")
    assert "/reconcile?result=" in page.url and f"today={TODAY.isoformat()}" in page.url
    assert page.locator("#reconciliation h2").inner_text().startswith("Aegis ACE ES-003 FY2026.csv")

    result = reconcile_file(source, today=TODAY)
    totals = result.totals()
    assert session.number("duty-variance") == (pytest.approx(totals["duty"]["variance"]), "$12,083.98")
    assert session.number("mpf-variance") == (-0.87, "-$0.87")  # last fiscal year's minimum
    assert session.number("hmf-variance") == (37.5, "$37.50")  # HMF on an air shipment
    assert session.number("refund-protest_window") == (9000.0, "$9,000.00")
    assert session.number("rows-quarantined")[0] == 1
    issue = page.locator('[data-table="reconcile-issues"] tbody tr')
    assert issue.count() == 1
    assert issue.locator('td[data-column="source_file"]').inner_text() == "Aegis ACE ES-003 FY2026.csv"
    assert issue.locator('td[data-column="source_row"]').inner_text() == "10"
    assert issue.locator('td[data-column="code"]').inner_text() == "duplicate_row"
    session.shot("03-aegis-upload")

    # the same upload judged on another day: no second upload, the window has closed
    uploaded = page.url.split("result=")[1].split("&")[0]
    page.fill("#reconcile-day-form input[name=today]", "2026-12-24")
    with page.expect_navigation():
        page.click("#reconcile-day-form button[type=submit]")
    assert f"result={uploaded}" in page.url and "today=2026-12-24" in page.url
    assert session.number("refund-protest_window") == (0.0, "$0.00")
    assert session.number("refund-finally_liquidated") == (9000.0, "$9,000.00")
    assert session.console_errors == [] and session.foreign_requests == []


def test_a_file_that_is_no_ace_export(session: Session, tmp_path: Path) -> None:
    page = session.page
    wrong = tmp_path / "purchase orders.csv"
    wrong.write_text("po,colour\n4711,red\n4712,blue\n", encoding="utf-8")
    page.goto(session.base + "/reconcile")
    page.set_input_files("#reconcile-upload-form input[type=file]", str(wrong))
    with page.expect_navigation():
        page.click("#reconcile-upload-form button[type=submit]")
    alert = page.locator("[data-refused] [data-error]")
    assert alert.inner_text().startswith("purchase orders.csv: no entry line could be loaded from 2 rows")
    problems = page.locator("#reconcile-problems li")
    assert problems.count() >= 6
    first = problems.first
    assert first.get_attribute("data-file") == "purchase orders.csv"
    assert first.get_attribute("data-row") == "2"
    assert "Fix:" in first.inner_text()
    assert page.locator("#reconciliation").count() == 0
    session.shot("04-not-an-ace-export")
    # the page itself answered 400, which Chromium logs; no script failed
    assert [e for e in session.console_errors if "status of 400" not in e] == []
    assert session.foreign_requests == []
