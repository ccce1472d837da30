"""Schemathesis against the OpenAPI schema: generated requests must never produce a server error, and every
response must match the status codes, media types and response models the schema declares.

Reads run against a workspace holding the sample ledger; uploads against a workspace of their own (each
accepted upload is an import, which drops the view cache). Report dates are pinned to a few values: every
new date is a full analysis of the ledger, and the date's own validation is covered in test_api.py.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks

from critmin.web.app import create_app
from critmin.web.deps import EARLIEST, LATEST
from critmin.web.settings import WebSettings

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
TIMEOUT = 600  # seconds: a new report date is a whole analysis, on a shared machine
DATES = (date(2026, 9, 1).isoformat(), EARLIEST.isoformat(), LATEST.isoformat())


def settings_for(workspace: Path, **overrides: Any) -> WebSettings:
    # schemathesis calls the app as host "testserver", which it therefore has to allow
    return WebSettings(workspace=workspace, **{"draws": 200, "allowed_hosts": ("testserver",), **overrides})


HYPOTHESIS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


# Schemathesis reads the schema when the module is imported; the apps are cheap to create (workspaces open
# on first use) and their ledgers are imported by the fixtures below, before the first generated request.
_DIRS = Path(tempfile.mkdtemp(prefix="critmin-schemathesis-"))
atexit.register(shutil.rmtree, _DIRS, ignore_errors=True)  # also when the module is collected, not run
READ_APP = create_app(settings_for(_DIRS / "read.duckdb"))
WRITE_APP = create_app(settings_for(_DIRS / "write.duckdb", draws=0))
reads = schemathesis.openapi.from_asgi("/openapi.json", READ_APP).include(method="GET")
writes = schemathesis.openapi.from_asgi("/openapi.json", WRITE_APP).include(method=["POST", "PUT", "DELETE"])


@pytest.fixture(scope="module", autouse=True)
def _apps(csrf: Any) -> Iterator[None]:
    with TestClient(READ_APP) as read_client, TestClient(WRITE_APP):
        done = read_client.post(
            "/ledger/sample", data={"name": "defense_prime", "csrf_token": csrf(read_client)}
        )
        assert done.status_code == 200
        yield


def pin_date(case: Any) -> None:
    query = case.query or {}
    if "as_of" in query:
        query["as_of"] = DATES[len(str(query["as_of"])) % len(DATES)]  # stable, unlike hash()


@reads.parametrize()
@HYPOTHESIS
def test_reads(case: Any) -> None:
    pin_date(case)
    case.call_and_validate(checks=CHECKS, timeout=TIMEOUT)


@writes.parametrize()
@HYPOTHESIS
def test_writes_as_an_api_client(case: Any) -> None:
    """With an Authorization header, as API clients send (no token is configured, so any value passes)."""
    case.call_and_validate(checks=CHECKS, headers={"Authorization": "Bearer any"}, timeout=TIMEOUT)


@writes.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_writes_as_a_cross_site_form(case: Any) -> None:
    """Without the header or the CSRF token any change is refused (403, as documented), never a crash."""
    response = case.call_and_validate(checks=CHECKS, timeout=TIMEOUT)
    if response.status_code < 300:
        raise AssertionError(f"{case.method} {case.path} without a CSRF token or Authorization was accepted")


def test_every_operation_is_exercised() -> None:
    read_ops = {op.ok().label for op in reads.get_all_operations()}
    write_ops = {op.ok().label for op in writes.get_all_operations()}
    assert len(read_ops) >= 18 and all(label.startswith("GET /api/v1/") for label in read_ops)
    assert write_ops == {
        "POST /api/v1/ledgers",
        "POST /api/v1/ledgers/samples/{name}",
        "DELETE /api/v1/ledgers/{import_id}",
        "PUT /api/v1/inputs/parameters/{scenario}",
        "POST /api/v1/inputs/simulation",
        "POST /api/v1/inputs/sourcing",
        "DELETE /api/v1/inputs/sourcing",
        "POST /api/v1/inputs/projects",
        "DELETE /api/v1/inputs/projects",
        "POST /api/v1/reconcile",
    }
