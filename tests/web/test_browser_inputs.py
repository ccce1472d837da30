"""Setting the analysis's inputs in real headless Chromium (Debian's, driven by Playwright).

One session: import the sample, set a scenario parameter and watch the scenario chart move, type a rate the
library refuses and read the problem beside the field, upload a scenario tree with a number of draws and
see the simulation run on it, upload a broken project file and read each field's problem. Screenshots are
saved under tests/artifacts/browser-inputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from critmin.duty import evaluate
from critmin.ledger.ingest import ImportResult
from critmin.policy import load_scenario
from critmin.views.analysis import LedgerPeriod

from .conftest import TREE, BrowserSession, browser_session

pytestmark = pytest.mark.slow

AS_OF = date(2027, 1, 1)  # on or after every shipped scenario's start
SCENARIO = "s232_tariff_non_partners"
BROKEN_PROJECT = """\
name: My refinery
product: lithium hydroxide
capacity_per_year: lots
"""


class Session(BrowserSession):
    def scenario_bar(self, scenario: str) -> float:
        """The height of a scenario's bar in the chart as Plotly drew it."""
        trace: dict[str, Any] = self.page.evaluate(
            "() => { const t = document.getElementById('chart-scenarios').data[0];"
            " return {x: Array.from(t.x), y: Array.from(t.y)}; }"
        )
        return float(trace["y"][trace["x"].index(scenario)])


@pytest.fixture(scope="module")
def session(browser: Browser, live_server: Any, artifacts: Path) -> Iterator[Session]:
    with browser_session(browser, live_server.url, artifacts / "browser-inputs", Session) as s:
        page = s.page
        page.goto(s.base + "/ledger")
        page.select_option("#sample-form select[name=name]", "defense_prime")
        with page.expect_navigation():
            page.click("#sample-form button[type=submit]")
        yield s


@pytest.fixture
def scenarios_page(session: Session) -> Page:
    session.page.goto(f"{session.base}/scenarios?as_of={AS_OF.isoformat()}")
    session.wait_for_charts()
    return session.page


def test_a_parameter_moves_the_scenario_chart(
    session: Session, scenarios_page: Page, sample_ledger: ImportResult
) -> None:
    page = scenarios_page
    before = session.scenario_bar(SCENARIO)
    page.click(f"#parameters-{SCENARIO} summary")
    page.fill(f"#param-{SCENARIO}-rate", "40%")
    session.shot("01-parameter-typed")
    with page.expect_navigation():
        page.click(f"#parameters-{SCENARIO} button:not([name])")
    session.wait_for_charts()
    assert page.url.endswith(f"#parameters-{SCENARIO}")
    after = session.scenario_bar(SCENARIO)
    measures = load_scenario(SCENARIO, ["rate=40%"])
    duty = float(evaluate(sample_ledger.lines, measures, as_of=AS_OF).totals()["duty"])
    assert after == pytest.approx(duty * LedgerPeriod.of(sample_ledger.lines).annual_factor)
    assert after > before
    assert page.locator(f"#param-{SCENARIO}-rate").input_value() == "0.4"
    assert page.locator(f'[data-overridden="{SCENARIO}"]').is_visible()
    session.shot("02-parameter-applied")


def test_a_bare_number_for_a_rate_is_refused_beside_the_field(session: Session, scenarios_page: Page) -> None:
    page = scenarios_page
    chart_before = session.scenario_bar(SCENARIO)
    page.fill(f"#param-{SCENARIO}-rate", "40")  # the form is open: the scenario has a value set here
    with page.expect_navigation():
        page.click(f"#parameters-{SCENARIO} button:not([name])")
    problem = page.locator(f"#problem-{SCENARIO}-rate")
    assert problem.is_visible()
    assert "4,000%" in problem.inner_text() and "write 40% or 0.40" in problem.inner_text()
    assert page.locator(f"#param-{SCENARIO}-rate").get_attribute("aria-invalid") == "true"
    assert page.locator(f"#param-{SCENARIO}-rate").input_value() == "40"  # what was typed, to correct
    assert page.locator(f"#problem-{SCENARIO}-derivative_rate").count() == 0
    session.wait_for_charts()
    assert session.scenario_bar(SCENARIO) == pytest.approx(chart_before)  # nothing changed
    page.locator(f"#problem-{SCENARIO}-rate").scroll_into_view_if_needed()
    session.shot("03-parameter-refused")


def test_an_uploaded_tree_is_simulated_with_the_chosen_draws(
    session: Session, scenarios_page: Page, tmp_path: Path
) -> None:
    page = scenarios_page
    tree = tmp_path / "my tree.yaml"
    tree.write_text(TREE)
    page.set_input_files("#simulation-form input[type=file]", str(tree))
    page.fill("#simulation-form input[name=draws]", "300")
    with page.expect_navigation():
        page.click("#simulation-form button[type=submit]")
    session.wait_for_charts()
    draws = page.locator('[data-number="simulation-draws"]')
    assert draws.get_attribute("data-value") == "300" and draws.inner_text() == "300"
    assert page.locator("[data-simulation-tree]").get_attribute("data-simulation-tree") == "my_two_branches"
    assert "my tree.yaml" in page.locator("[data-simulation-tree]").inner_text()
    assert page.locator('[data-table="simulation_branches"] tbody tr').count() == 2
    assert page.locator("#simulation-form select[name=tree]").input_value() == ""  # "uploaded: ..."
    for name in ("distribution", "fan_chart", "tornado"):
        assert page.locator(f"#chart-{name}").get_attribute("data-rendered") == "true"
    page.locator("#simulation").scroll_into_view_if_needed()
    session.shot("04-tree-uploaded")


def test_a_broken_project_shows_each_fields_problem(session: Session, tmp_path: Path) -> None:
    page = session.page
    page.goto(f"{session.base}/investment?as_of={AS_OF.isoformat()}")
    session.wait_for_charts()
    broken = tmp_path / "my refinery.yaml"
    broken.write_text(BROKEN_PROJECT)
    page.set_input_files("#project-form input[type=file]", str(broken))
    with page.expect_navigation():
        page.click("#project-form button[type=submit]")
    problems = page.locator("#project-form-problems")
    assert problems.is_visible()
    item = problems.locator('li[data-field="capacity_per_year"]')
    assert item.get_attribute("data-line") == "3"
    assert "my refinery.yaml, line 3" in item.inner_text() and "number" in item.inner_text()
    assert problems.locator('li[data-field="stage"]').count() == 1  # every problem, not just the first
    assert page.locator("#project-reset").count() == 0  # the shipped projects are still appraised
    problems.scroll_into_view_if_needed()
    session.shot("05-project-refused")


def test_no_script_error_and_nothing_fetched_elsewhere(session: Session) -> None:
    assert session.console_errors == [] or all("400" in e for e in session.console_errors)
    assert session.foreign_requests == []
