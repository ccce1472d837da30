"""Request parameters shared by pages and API: which ledger, which report date, which scenario.

Scenario ids are an enumeration of the shipped scenarios, so a request can never name a file: the policy
loader also accepts paths, and no request value reaches it unchecked.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated

from fastapi import HTTPException, Query, Request

from critmin.policy.loader import shipped_scenario_paths
from critmin.web.queries import Selection
from critmin.web.state import Dashboard, UnknownLedgerError

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)

ScenarioId = Enum("ScenarioId", {name: name for name in shipped_scenario_paths()}, type=str)  # type: ignore[misc]

LedgerParam = Annotated[
    int | None, Query(ge=1, le=2**62, description="ledger import id (default: the latest import)")
]
AsOfParam = Annotated[
    date | None,
    Query(
        description="report date: every line is evaluated as if entered that day (default: today); "
        f"{EARLIEST.isoformat()} to {LATEST.isoformat()}"
    ),
]
ScenarioParam = Annotated[
    ScenarioId | None, Query(description="shipped scenario id (default: the measures in force)")
]


def dashboard(request: Request) -> Dashboard:
    dash: Dashboard = request.app.state.dashboard
    return dash


def check_as_of(as_of: date | None) -> date:
    chosen = as_of or date.today()
    if not EARLIEST <= chosen <= LATEST:
        raise HTTPException(
            422, f"as_of {chosen.isoformat()} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}."
        )
    return chosen


def scenario_id(scenario: ScenarioId | None) -> str | None:
    if scenario is None:
        return None
    value: str = scenario.value
    return value


def find_selection(
    dash: Dashboard, ledger: int | None, as_of: date | None, scenario: ScenarioId | None
) -> Selection | None:
    """The selection, or None when the workspace holds no ledger yet; an unknown import id is a 404."""
    when = check_as_of(as_of)
    try:
        record = dash.ledger(ledger)
    except UnknownLedgerError as exc:
        raise HTTPException(404, str(exc)) from exc
    if record is None:
        return None
    return Selection(record=record, as_of=when, scenario=scenario_id(scenario))


def require_selection(
    request: Request, ledger: LedgerParam = None, as_of: AsOfParam = None, scenario: ScenarioParam = None
) -> Selection:
    found = find_selection(dashboard(request), ledger, as_of, scenario)
    if found is None:
        raise HTTPException(
            404, "No ledger imported yet: upload one (POST /api/v1/ledgers) or import a sample."
        )
    return found


def notice_outside_changes(request: Request) -> None:
    """App-wide dependency: before anything is served from memory, notice writes by other processes.

    A plain function, so FastAPI runs it in the thread pool: the check may open the workspace.
    """
    dashboard(request).notice_outside_changes()
