"""Recording exposure runs in the workspace (table ``runs``, migration 0004), so every reported figure can
be traced to its scenario, parameters, ledger, measures with citations and reference-data vintages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import polars as pl

from critmin import __version__
from critmin.duty.result import DutyResult
from critmin.workspace import Workspace


@dataclass(frozen=True)
class LedgerSource:
    """Where the evaluated lines came from."""

    path: str
    sha256: str | None = None
    import_id: int | None = None


def record_run(ws: Workspace, result: DutyResult, source: LedgerSource) -> int:
    """Insert one row into ``runs`` and log the event, atomically; returns the run id."""
    totals = result.totals()
    provenance = result.provenance()
    with ws.transaction() as con:
        row = con.execute(
            "INSERT INTO runs (scenario, scenario_title, parameters, as_of, content_case, ledger_source, "
            "ledger_sha256, ledger_import_id, lines, customs_value, duty, totals, measures, datasets, "
            "sources, "
            "critmin_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                result.measure_set.id,
                result.measure_set.title,
                _json(provenance["parameters"]),
                result.as_of,
                result.content_case,
                source.path,
                source.sha256,
                source.import_id,
                totals["lines"],
                totals["customs_value"],
                totals["duty"],
                _json(totals),
                _json(provenance["measures"]),
                _json(provenance["datasets"]),
                _json(provenance["sources"]),
                __version__,
            ],
        ).fetchone()
        assert row is not None
        run_id = int(row[0])
        ws.log_event(
            "duty.run",
            {
                "run_id": run_id,
                "scenario": result.measure_set.id,
                "duty": totals["duty"],
                "lines": totals["lines"],
            },
            con=con,
        )
    return run_id


def runs(ws: Workspace) -> pl.DataFrame:
    """Recorded runs, newest first (JSON columns as text)."""
    with ws.connect() as con:
        return con.execute(
            "SELECT id, created_at, scenario, as_of, content_case, ledger_source, ledger_import_id, lines, "
            "customs_value, duty, totals::VARCHAR AS totals FROM runs ORDER BY id DESC"
        ).pl()


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)
