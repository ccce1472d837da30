"""The JSON API, through FastAPI's test client: each number checked against the library that computes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from critmin.duty import evaluate
from critmin.invest import appraise, load_project
from critmin.ledger.ingest import ImportResult as Ledger
from critmin.paths import SAMPLES_DIR
from critmin.policy import load_scenario, shipped_scenarios
from critmin.policy.trees import load_tree
from critmin.simulate import simulate
from critmin.views import DEFAULT_SEED, DEFAULT_TREE
from critmin.web.app import create_app
from critmin.web.settings import WebSettings

AS_OF = date(2027, 1, 1)  # on or after every shipped scenario's start date (conftest.AS_OF)
Q = {"ledger": 1, "as_of": AS_OF.isoformat()}
MakeSettings = Callable[..., WebSettings]


def library_duty(ledger: Ledger, scenario: str) -> float:
    """Duty on the sample under a shipped scenario, every line re-dated to AS_OF (after every start date)."""
    return float(evaluate(ledger.lines, load_scenario(scenario), as_of=AS_OF).totals()["duty"])


def months(ledger: Ledger) -> int:
    first, last = ledger.lines["entry_date"].min(), ledger.lines["entry_date"].max()
    assert isinstance(first, date) and isinstance(last, date)
    return (last.year - first.year) * 12 + last.month - first.month + 1


def test_import_counts_match_the_ingester(loaded_client: TestClient, sample_ledger: Ledger) -> None:
    ledgers = loaded_client.get("/api/v1/ledgers").json()
    assert len(ledgers) == 1
    record = ledgers[0]
    assert (record["rows_in"], record["rows_loaded"], record["rows_quarantined"]) == (
        sample_ledger.rows_in,
        sample_ledger.rows_loaded,
        sample_ledger.rows_quarantined,
    )
    # the sample plants nine errors that quarantine a row each (README of the samples)
    assert record["rows_quarantined"] == 9
    assert record["rows_in"] == record["rows_loaded"] + record["rows_quarantined"]
    quarantine = loaded_client.get("/api/v1/ledgers/1/quarantine").json()
    assert quarantine["total_rows"] == 9
    codes = {code for row in quarantine["rows"] for code in str(row["codes"]).split(", ")}
    assert {"hts_unknown", "country_unknown", "value_invalid", "date_missing", "duplicate_line"} <= codes
    assert all(row["problems"] for row in quarantine["rows"])


def test_lines_are_paged(loaded_client: TestClient, sample_ledger: Ledger) -> None:
    page = loaded_client.get("/api/v1/ledgers/1/lines", params={"offset": 190, "limit": 50}).json()
    assert page["total_rows"] == sample_ledger.rows_loaded == 192
    assert len(page["rows"]) == 2
    assert {c["name"] for c in page["columns"]} >= {"line_id", "hts", "country_origin", "customs_value_usd"}


def test_each_scenario_duty_is_the_engines(loaded_client: TestClient, sample_ledger: Ledger) -> None:
    body = loaded_client.get("/api/v1/scenarios", params=Q).json()
    runs = {r["id"]: r for r in body["scenarios"]}
    assert set(runs) == {s.id for s in shipped_scenarios()}
    assert runs["status_quo"]["baseline"] is True
    for sid, run in runs.items():
        assert run["eval_date"] == AS_OF.isoformat()
        assert run["duty"] == pytest.approx(library_duty(sample_ledger, sid), rel=1e-9), sid


def test_comparison_scales_to_a_year(loaded_client: TestClient, sample_ledger: Ledger) -> None:
    table = loaded_client.get("/api/v1/scenarios/comparison", params=Q).json()["table"]
    rows = {r["scenario"]: r for r in table["rows"]}
    span = months(sample_ledger)  # 24 months of entries: a year is half the ledger
    assert span == 24
    today = library_duty(sample_ledger, "status_quo")
    combined = library_duty(sample_ledger, "combined")
    assert rows["status_quo"]["annual_duty"] == pytest.approx(today * 12 / span)
    assert rows["combined"]["annual_change"] == pytest.approx((combined - today) * 12 / span)


@pytest.mark.parametrize("by", ["mineral", "origin", "supplier", "hts", "measure"])
def test_exposure_adds_up_to_the_run(loaded_client: TestClient, sample_ledger: Ledger, by: str) -> None:
    body = loaded_client.get("/api/v1/exposure", params={**Q, "scenario": "combined", "by": by}).json()
    assert body["selection"] == {"ledger": 1, "as_of": AS_OF.isoformat(), "scenario": "combined"}
    rows = body["table"]["rows"]
    assert sum(r["duty"] for r in rows) == pytest.approx(library_duty(sample_ledger, "combined"))


def test_exposure_by_origin_matches_a_group_by(loaded_client: TestClient, sample_ledger: Ledger) -> None:
    result = evaluate(sample_ledger.lines, load_scenario("s232_tariff_non_partners"), as_of=AS_OF)
    expected = dict(result.lines.group_by("country_origin").agg(pl.col("duty").sum()).iter_rows())
    body = loaded_client.get(
        "/api/v1/exposure", params={**Q, "scenario": "s232_tariff_non_partners", "by": "origin"}
    ).json()
    shown = {r["key"]: r["duty"] for r in body["table"]["rows"]}
    assert shown == pytest.approx(expected)


def test_views_are_cached_per_selection(loaded_client: TestClient) -> None:
    dash = loaded_client.app.state.dashboard  # type: ignore[attr-defined]
    loaded_client.get("/api/v1/exposure", params={**Q, "by": "supplier"})
    analyses = dash.analyses.stats.misses
    hits = dash.cache.stats.hits
    again = loaded_client.get("/api/v1/exposure", params={**Q, "by": "supplier"})
    assert again.status_code == 200
    assert dash.cache.stats.hits > hits
    assert dash.analyses.stats.misses == analyses  # no new analysis for a view already computed
    loaded_client.get("/api/v1/exposure", params={**Q, "by": "supplier", "scenario": "trq"})
    assert dash.analyses.stats.misses == analyses  # another scenario reuses the same analysis


def test_risk_sourcing_investment_and_monitor(loaded_client: TestClient) -> None:
    risk = loaded_client.get("/api/v1/risk", params=Q).json()
    assert risk["dfars_summary"]["prohibited_lines"] == len(
        [r for r in risk["dfars_flags"]["rows"] if r["flag"] == "prohibited"]
    )
    assert risk["partner_shares"]["total_rows"] > 0
    sourcing = loaded_client.get("/api/v1/sourcing", params=Q).json()
    assert sourcing["summary"]["status"] == "optimal"
    assert sourcing["mix"]["total_rows"] > 0
    investment = loaded_client.get("/api/v1/investment", params=Q).json()
    projects = [load_project(SAMPLES_DIR / "projects" / f"{name}.yaml") for name in WebSettings().projects]
    assert {r["project"] for r in investment["results"]["rows"]} == {p.name for p in projects}
    npv = {r["project"]: r["npv"] for r in investment["results"]["rows"]}
    for project in projects:
        assert npv[project.name] == pytest.approx(appraise(project).npv)
    monitor = loaded_client.get("/api/v1/monitor", params=Q).json()
    assert monitor["timeline"]["total_rows"] >= monitor["deadlines"]["total_rows"] > 0
    assert monitor["alerts"]["total_rows"] == 0  # no monitor run in this workspace


def test_figures_are_plotly_json(loaded_client: TestClient) -> None:
    for name in ("exposure", "sankey", "world_map", "scenarios", "shares", "sourcing", "investment"):
        body = loaded_client.get(f"/api/v1/figures/{name}", params=Q).json()
        assert body["data"], name
        assert "layout" in body


def test_bad_selections_are_client_errors(loaded_client: TestClient) -> None:
    missing = loaded_client.get("/api/v1/exposure", params={"ledger": 99})
    assert missing.status_code == 404
    assert "No ledger import 99" in missing.json()["detail"]
    assert loaded_client.get("/api/v1/exposure", params={"scenario": "../../etc/passwd"}).status_code == 422
    assert loaded_client.get("/api/v1/exposure", params={"as_of": "1900-01-01"}).status_code == 422
    assert loaded_client.get("/api/v1/exposure", params={"by": "colour"}).status_code == 422


def test_no_ledger_yet_is_a_404_with_the_fix(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb")))
    response = client.get("/api/v1/exposure")
    assert response.status_code == 404
    assert "upload one" in response.json()["detail"]


def test_report_downloads(loaded_client: TestClient) -> None:
    html = loaded_client.get("/api/v1/report/html", params=Q)
    assert html.status_code == 200
    assert html.headers["content-disposition"] == (
        f'attachment; filename="critmin-report-ledger1-{AS_OF.isoformat()}.html"'
    )
    assert "defense_prime_ledger.csv" in html.text
    workbook = loaded_client.get("/api/v1/report/xlsx", params=Q)
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    pdf = loaded_client.get("/api/v1/report/pdf", params=Q)
    assert pdf.status_code == 200, pdf.text
    assert pdf.content[:5] == b"%PDF-"


def test_openapi_lists_every_view(loaded_client: TestClient) -> None:
    paths = set(loaded_client.get("/openapi.json").json()["paths"])
    assert {
        "/api/v1/health",
        "/api/v1/datasets",
        "/api/v1/ledgers",
        "/api/v1/ledgers/{import_id}/quarantine",
        "/api/v1/scenarios",
        "/api/v1/scenarios/comparison",
        "/api/v1/exposure",
        "/api/v1/flows",
        "/api/v1/import-sources",
        "/api/v1/risk",
        "/api/v1/monitor",
        "/api/v1/sourcing",
        "/api/v1/investment",
        "/api/v1/figures/{name}",
        "/api/v1/report/{fmt}",
    } <= paths
    assert not any(p.startswith(("/ledger", "/exposure", "/login")) for p in paths)  # pages stay out


def test_api_upload_with_bearer_needs_no_csrf(
    tmp_path: Path, make_settings: MakeSettings, csrf: Callable[[TestClient], str], sample_ledger: Ledger
) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb")))
    content = sample_ledger.source.path.read_bytes()
    refused = client.post("/api/v1/ledgers", files={"file": ("l.csv", content, "text/csv")})
    assert refused.status_code == 403  # a form post with neither token nor Authorization
    first = client.post(
        "/api/v1/ledgers",
        files={"file": ("l.csv", content, "text/csv")},
        headers={"Authorization": "Bearer x"},
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "imported"
    assert first.json()["ledger"]["label"] == "l.csv"
    again = client.post(
        "/api/v1/ledgers",
        files={"file": ("renamed.csv", content, "text/csv")},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert again.json()["status"] == "unchanged"
    assert again.json()["ledger"]["import_id"] == first.json()["ledger"]["import_id"]


def test_summary_simulation_and_sources(loaded_client: TestClient, sample_ledger: Ledger) -> None:
    summary = loaded_client.get("/api/v1/summary", params=Q).json()
    assert summary["numbers"]["today"]["duty"] == pytest.approx(library_duty(sample_ledger, "status_quo"))
    assert summary["numbers"]["ledger"]["rows_quarantined"] == 9
    assert any("quarantined" in s for s in summary["sentences"])
    simulation = loaded_client.get("/api/v1/simulation", params=Q).json()
    stats = {r["statistic"]: r["value"] for r in simulation["summary"]["rows"]}
    # the same Monte Carlo, run directly: the server's draws and the analysis' seed
    draws = loaded_client.app.state.settings.draws  # type: ignore[attr-defined]
    direct = simulate(load_tree(DEFAULT_TREE), sample_ledger.lines, draws=draws, seed=DEFAULT_SEED)
    assert stats["mean"] == pytest.approx(direct.summary["mean"])
    assert stats["p95"] == pytest.approx(direct.summary["p95"])
    assert simulation["tornado"]["total_rows"] > 0
    sources = loaded_client.get("/api/v1/sources", params=Q).json()
    cited = {r["measure_id"] for r in sources["measures"]["rows"]}
    assert {m.id for m in load_scenario("combined").measures} <= cited
    assert all(r["url"].startswith("https://") for r in sources["measures"]["rows"] if r["url"])


def test_long_tables_are_paged(loaded_client: TestClient) -> None:
    risk = loaded_client.get("/api/v1/risk", params=Q).json()
    total = risk["dfars_flags"]["total_rows"]
    assert total == len(risk["dfars_flags"]["rows"]) > 2  # the sample's flags fit the first page
    ids = []
    for offset in range(0, total, 2):
        page = loaded_client.get(
            "/api/v1/risk/dfars-flags", params={**Q, "offset": offset, "limit": 2}
        ).json()
        assert page["total_rows"] == total
        ids += [r["line_id"] for r in page["rows"]]
    assert ids == [r["line_id"] for r in risk["dfars_flags"]["rows"]]
    assert loaded_client.get("/api/v1/risk/dfars-flags", params={**Q, "limit": 10_001}).status_code == 422
