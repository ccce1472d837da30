"""The server-rendered pages: each renders, shows the API's numbers, and handles bad input on the page."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import plotly.graph_objects as go
import pytest
from fastapi.testclient import TestClient

from critmin.ledger.ingest import ImportResult
from critmin.views.formatting import usd
from critmin.web.app import create_app
from critmin.web.present import figure_script_json
from critmin.web.render import PAGES
from critmin.web.settings import WebSettings

AS_OF = "2026-09-01"
Q = {"ledger": 1, "as_of": AS_OF}
MakeSettings = Callable[..., WebSettings]
CHARTS = {
    "/": {"scenarios"},
    "/exposure": {"exposure", "sankey", "world_map"},
    "/scenarios": {"scenarios", "distribution", "fan_chart", "tornado"},
    "/risk": {"shares"},
    "/monitor": set(),
    "/sourcing": {"sourcing"},
    "/investment": {"investment"},
    "/ledger": set(),
    "/reconcile": set(),
}


def numbers(html: str) -> dict[str, str]:
    """data-number name -> data-value, as the page carries them."""
    return dict(re.findall(r'data-number="([^"]+)" data-value="([^"]*)"', html))


def charts(html: str) -> dict[str, dict[str, object]]:
    blocks = re.findall(
        r'<script type="application/json" data-chart="chart-([^"]+)">(.*?)</script>', html, re.S
    )
    return {name: json.loads(body) for name, body in blocks}


def test_every_page_without_a_ledger_offers_the_upload(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb")))
    for _key, label, href in PAGES:
        page = client.get(href)
        assert page.status_code == 200, href
        assert f'aria-current="page">{label}</a>' in page.text
        if href != "/monitor":
            assert 'enctype="multipart/form-data"' in page.text, href
            assert re.search(r'name="csrf_token" value="[\w-]{20,}"', page.text), href
    assert "Calendar" in client.get("/monitor").text  # the calendar needs no ledger


def test_every_page_with_a_ledger(loaded_client: TestClient) -> None:
    for _key, _label, href in PAGES:
        page = loaded_client.get(href, params=Q)
        assert page.status_code == 200, (href, page.text[:400])
        assert set(charts(page.text)) == CHARTS[href], href
        assert re.search(r"<title>[^<]+</title>", page.text), href  # nothing leaked into the head
        # navigation keeps the selection
        assert f'href="/risk?ledger=1&amp;as_of={AS_OF}"' in page.text, href
        # every page says how current the law is, the same line as `critmin policy currency`
        assert "law as of 2026-12-05; verified through HTS 2026 Rev. 6 (2026-04-23)" in page.text, href


def test_overview_numbers_are_the_apis(loaded_client: TestClient) -> None:
    shown = numbers(loaded_client.get("/", params=Q).text)
    comparison = loaded_client.get("/api/v1/scenarios/comparison", params=Q).json()["table"]["rows"]
    today = next(r for r in comparison if r["baseline"])
    assert float(shown["annual-duty-today"]) == pytest.approx(today["annual_duty"])
    assert float(shown["duty-today"]) == pytest.approx(today["duty"])
    highest = max((r for r in comparison if not r["baseline"]), key=lambda r: r["annual_duty"])
    assert float(shown["annual-duty-highest"]) == pytest.approx(highest["annual_duty"])
    assert shown["rows-quarantined"] == "9"


@pytest.mark.parametrize("scenario", ["combined", "trq", "minimum_import_price"])
def test_exposure_page_shows_the_scenario(loaded_client: TestClient, scenario: str) -> None:
    page = loaded_client.get("/exposure", params={**Q, "scenario": scenario, "by": "origin"}).text
    runs = {r["id"]: r for r in loaded_client.get("/api/v1/scenarios", params=Q).json()["scenarios"]}
    duty = runs[scenario]["duty"]
    assert float(numbers(page)["scenario-duty"]) == pytest.approx(duty)
    assert f'data-value="{duty}">{usd(duty)}</span>' in page
    assert f'<option value="{scenario}" selected>' in page
    assert 'data-table="exposure"' in page and '<option value="origin" selected>' in page


def test_ledger_page_lists_quarantined_rows(loaded_client: TestClient, sample_ledger: ImportResult) -> None:
    page = loaded_client.get("/ledger", params={"ledger": 1, "status": "imported"}).text
    assert "Imported defense_prime_ledger.csv." in page
    assert numbers(page)["rows-loaded"] == str(sample_ledger.rows_loaded)
    quarantine = page.split('data-table="quarantine"')[1].split("</figure>")[0]
    assert quarantine.count("<tr>") == 1 + sample_ledger.rows_quarantined  # header + one per row
    assert "Chinaa" in quarantine and "Did you mean: China?" in quarantine


def test_bad_addresses_get_a_page_not_a_trace(loaded_client: TestClient) -> None:
    wrong_date = loaded_client.get("/exposure", params={"as_of": "31/12/2026"})
    assert wrong_date.status_code == 422
    assert "the date is YYYY-MM-DD" in wrong_date.text and "<html" in wrong_date.text
    unknown = loaded_client.get("/risk", params={"ledger": 42})
    assert unknown.status_code == 404 and "No ledger import 42" in unknown.text
    assert loaded_client.get("/exposure", params={"by": "colour"}).status_code == 422
    assert loaded_client.get("/nowhere").status_code == 404
    # the empty fields a plain HTML form sends mean "the default"
    assert (
        loaded_client.get("/exposure", params={"ledger": "", "as_of": "", "scenario": ""}).status_code == 200
    )


def test_forms_need_the_csrf_token(loaded_client: TestClient) -> None:
    response = loaded_client.post("/ledger/sample", data={"name": "defense_prime"})
    assert response.status_code == 403
    assert "CSRF check failed" in response.text


def test_file_names_are_escaped(
    tmp_path: Path, make_settings: MakeSettings, csrf: Callable[[TestClient], str]
) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb")))
    name = '<img src=x onerror="alert(1)">.csv'
    client.post(
        "/ledger",
        files={"file": (name, b"colour\nred\n")},
        data={"csrf_token": csrf(client)},
        follow_redirects=False,
    )
    page = client.get("/ledger").text
    assert "<img src=x" not in page
    assert "<h2>#1 &lt;img src=x onerror=" in page  # (the client sends the quotes as %22)


def test_figure_json_cannot_close_its_script_element() -> None:
    fig = go.Figure(go.Bar(x=["</script><script>alert(1)</script>"], y=[1]))
    text = figure_script_json(fig)
    assert "<" not in text
    assert json.loads(text)["data"][0]["x"] == ["</script><script>alert(1)</script>"]


def test_a_page_served_from_memory_carries_each_browsers_own_token(loaded_client: TestClient) -> None:
    from critmin.web.render import CSRF_MARKER
    from critmin.web.security import CSRF_COOKIE

    app = loaded_client.app
    first, second = TestClient(app), TestClient(app)  # type: ignore[arg-type]
    tokens = []
    for client in (first, second):
        client.get("/api/v1/health")
        page = client.get("/ledger", params={"ledger": 1}).text
        cookie = client.cookies.get(CSRF_COOKIE)
        assert cookie and f'name="csrf_token" value="{cookie}"' in page
        assert CSRF_MARKER not in page
        tokens.append(cookie)
    assert tokens[0] != tokens[1]


def test_an_internal_error_is_a_page_without_internals(tmp_path: Path, make_settings: MakeSettings) -> None:
    app = create_app(make_settings(tmp_path / "ws.duckdb"))

    def broken() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/broken", broken)
    app.add_api_route("/api/v1/broken", broken)
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/broken")
    assert page.status_code == 500
    assert "critmin hit an internal error (RuntimeError)" in page.text and "<html" in page.text
    assert "secret internal detail" not in page.text and "Traceback" not in page.text
    api = client.get("/api/v1/broken")
    assert api.status_code == 500 and "internal error" in api.json()["detail"]
    assert api.headers["x-frame-options"] == "DENY"
