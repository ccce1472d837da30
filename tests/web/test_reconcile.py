"""The Reconcile page and its API: the figures a user checks, for a shipped sample and for an upload.

Every figure is compared with what :func:`critmin.reconcile.reconcile_file` (the command line's function)
gives for the same file and day, and the planted differences also with the hand arithmetic of the samples'
README (as in tests/reconcile/test_samples.py). Refund statuses are judged on 2026-12-05, the samples' day.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import Headers, UploadFile

from critmin.reconcile import SAMPLE_EXPORTS, reconcile_file
from critmin.web.app import create_app
from critmin.web.reconciling import ExportTooLargeError, reconcile_upload
from critmin.web.settings import WebSettings

MakeSettings = Callable[..., WebSettings]
TODAY = date(2026, 12, 5)
DAY = TODAY.isoformat()
NORTHSTAR = SAMPLE_EXPORTS["northstar_magnetics"].path
AEGIS = SAMPLE_EXPORTS["aegis_defense"].path
CAPE_HEADER = [
    "entry_number",
    "line_number",
    "hts",
    "chapter99_heading",
    "amount_usd",
    "status",
    "protest_deadline",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, make_settings: MakeSettings) -> Iterator[TestClient]:
    """A server with an empty workspace: reconciling needs no ledger."""
    workspace = tmp_path_factory.mktemp("reconcile") / "ws.duckdb"
    with TestClient(create_app(make_settings(workspace, draws=0))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def northstar() -> Any:
    return reconcile_file(NORTHSTAR, today=TODAY)


@pytest.fixture(scope="module")
def aegis() -> Any:
    return reconcile_file(AEGIS, today=TODAY)


def token(client: TestClient) -> str:
    client.get("/api/v1/health")
    value = client.cookies.get("critmin_csrf")
    assert value
    return value


def numbers(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-number="([^"]+)" data-value="([^"]*)"', html))


def differences(body: dict[str, Any]) -> set[tuple[str, int, str, str, str, float]]:
    return {
        (r["entry_number"], r["line_number"], r["slot"], r["measure_id"], r["cause"], r["variance"])
        for r in body["differences"]["rows"]
    }


# ----------------------------------------------------------------------------------------------- samples


def test_the_samples_are_listed(client: TestClient) -> None:
    listed = client.get("/api/v1/reconcile/samples").json()
    assert [s["name"] for s in listed] == ["northstar_magnetics", "voltaris_cells", "aegis_defense"]
    assert listed[1]["file"] == "voltaris_cells_es003.xlsx"


def test_planted_differences_with_cause_and_dollars(client: TestClient, northstar: Any) -> None:
    body = client.get("/api/v1/reconcile", params={"sample": "northstar_magnetics", "today": DAY}).json()
    assert differences(body) == {
        # the 2026 Section 301 increase on magnets not reported: 25% x 48,000.00 = 12,000.00 owed, 0 paid
        ("NS710000529", 1, "9903.91.06", "s301_2026_graphite_magnets_batteries", "heading_missing", -12000.0),
        # List 3 paid at 10% of 18,600.00 = 1,860.00; owed 25% = 4,650.00
        ("NS710000452", 1, "9903.88.03", "s301_list3", "rate_differs", -2790.0),
    }
    # the same as the command line's function, row for row
    cli = {
        (r["entry_number"], r["line_number"], r["slot"], r["measure_id"], r["cause"], r["variance"])
        for r in northstar.variances.to_dicts()
    }
    assert differences(body) == cli
    duty = body["totals"]["duty"]
    assert (duty["paid"], duty["expected"], duty["variance"]) == (81289.16, 96079.16, -14790.0)
    assert body["totals"] == northstar.totals()
    assert body["source"] == {
        "sample": "northstar_magnetics",
        "result": None,
        "file": "northstar_magnetics_es003.csv",
        "sha256": northstar.export.source.sha256,
        "today": DAY,
        "law": body["source"]["law"],
    }
    assert body["source"]["law"].startswith("law as of 2026-12-05")
    # per entry line, to the cent, as the engine and the export give them
    lines = {(r["entry_number"], r["line_number"]): r for r in body["lines"]["rows"]}
    for row in northstar.lines.to_dicts():
        shown = lines[(row["entry_number"], row["line_number"])]
        assert (shown["duty_paid"], shown["duty_expected"]) == (row["duty_paid"], row["duty_expected"])
    assert len(lines) == northstar.lines.height == 8


def test_fees_and_the_other_causes(client: TestClient, aegis: Any) -> None:
    body = client.get("/api/v1/reconcile", params={"sample": "aegis_defense", "today": DAY}).json()
    assert differences(body) == {
        # tungsten from Vietnam paid the China-only 25%: 25% x 50,217.50 = 12,554.38 (rounded half up)
        ("AX710000238", 1, "9903.91.01", "s301_2024_increases_25pct", "country_group", 12554.38),
        # a KORUS claim on Japanese magnets: 2.1% x 22,400.00 = 470.40 owed, nothing paid
        ("AX710000312", 1, "column 1", "mfn_general", "programme_claimed", -470.4),
    }
    fees = {(r["entry_number"], r["fee"]): r for r in body["fees"]["rows"]}
    # the FY2025 minimum 32.71 paid on 2025-10-01, when the FY2026 minimum 33.58 applies
    mpf = fees[("AX710000155", "MPF")]
    assert (mpf["paid"], mpf["expected"], mpf["variance"], mpf["cause"]) == (
        32.71,
        33.58,
        -0.87,
        "fee_fiscal_year",
    )
    # HMF on an air shipment: 0.125% x 30,000.00 = 37.50 paid, none owed
    hmf = fees[("AX710000497", "HMF")]
    assert (hmf["paid"], hmf["expected"], hmf["cause"]) == (37.5, 0.0, "fee_not_owed")
    assert body["totals"]["fees"] == aegis.totals()["fees"]
    assert body["totals"]["variance_total"] == 12120.61
    # the duplicated row is quarantined, placed by file, row and column
    assert body["rows"]["rows_quarantined"] == 1
    (issue,) = body["issues"]["rows"]
    assert (issue["source_file"], issue["source_row"], issue["code"]) == (
        "aegis_defense_es003.csv",
        10,
        "duplicate_row",
    )
    assert issue["problem"].startswith("repeats row 4") and issue["fix"].startswith("Delete the repeated row")


def test_refunds_by_status_with_deadlines(client: TestClient, northstar: Any) -> None:
    body = client.get(
        "/api/v1/reconcile/refunds", params={"sample": "northstar_magnetics", "today": DAY}
    ).json()
    assert body["by_status"] == {
        "unliquidated": 5787.5,
        "protest_window": 8250.0,
        "finally_liquidated": 53651.39,
        "depends_on_liquidation": 0.0,
    }
    assert body["by_status"] == northstar.totals()["refund_by_status"]
    assert body["refundable"] == pytest.approx(5787.5 + 8250.0 + 53651.39)
    # liquidated 2026-08-21 after an extension: 2026-08-21 + 180 days = 2027-02-17, 74 days after 2026-12-05
    (deadline,) = body["deadlines"]["rows"]
    assert deadline == {
        "entry_number": "NS710000246",
        "liquidation_date": "2026-08-21",
        "protest_deadline": "2027-02-17",
        "days_left": 74,
        "status": "protest_window",
        "amount": 8250.0,
        "lines": 1,
        "headings": "9903.01.24",
        "hts": "2846908090",
    }
    statuses = {r["status"]: r for r in body["statuses"]["rows"]}
    assert statuses["finally_liquidated"]["through_cape"] is False
    assert (statuses["unliquidated"]["lines"], statuses["finally_liquidated"]["entries"]) == (2, 2)
    assert body["cape_entries"] == northstar.cape_entries() == ["NS710000246", "NS710000529"]
    assert body["links"]["cape_csv"] == f"/api/v1/reconcile/cape.csv?sample=northstar_magnetics&today={DAY}"


def test_the_cape_csv(client: TestClient, northstar: Any) -> None:
    response = client.get(
        "/api/v1/reconcile/cape.csv", params={"sample": "northstar_magnetics", "today": DAY}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="cape-northstar_magnetics-{DAY}.csv"'
    )
    assert response.text == northstar.cape_csv()
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == CAPE_HEADER
    assert len(rows) == northstar.refunds.height == 8
    late = [r for r in rows if r["entry_number"] == "NS710000246"]
    assert late == [
        {
            "entry_number": "NS710000246",
            "line_number": "1",
            "hts": "2846908090",
            "chapter99_heading": "9903.01.24",
            "amount_usd": "8250.0",
            "status": "protest_window",
            "protest_deadline": "2027-02-17",
        }
    ]
    assert sum(float(r["amount_usd"]) for r in rows) == pytest.approx(67688.89)


def test_the_workbook(client: TestClient) -> None:
    response = client.get("/api/v1/reconcile/workbook", params={"sample": "voltaris_cells", "today": DAY})
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert "reconciliation-voltaris_cells-2026-12-05.xlsx" in response.headers["content-disposition"]


def test_the_day_changes_the_status(client: TestClient) -> None:
    """The Aegis entry liquidated 2026-06-26 is in its window to 2026-12-23 and finally liquidated after."""
    before = client.get(
        "/api/v1/reconcile/refunds", params={"sample": "aegis_defense", "today": "2026-12-23"}
    )
    after = client.get("/api/v1/reconcile/refunds", params={"sample": "aegis_defense", "today": "2026-12-24"})
    assert before.json()["by_status"]["protest_window"] == 9000.0
    assert before.json()["deadlines"]["rows"][0]["days_left"] == 0
    assert after.json()["by_status"]["protest_window"] == 0.0
    assert after.json()["by_status"]["finally_liquidated"] == 9000.0


def test_a_bad_choice_of_export_is_a_4xx(client: TestClient) -> None:
    neither = client.get("/api/v1/reconcile")
    assert neither.status_code == 400 and "either sample" in neither.json()["detail"]
    both = client.get("/api/v1/reconcile", params={"sample": "aegis_defense", "result": "A" * 16})
    assert both.status_code == 400 and "not both" in both.json()["detail"]
    assert client.get("/api/v1/reconcile", params={"sample": "../etc/passwd"}).status_code == 422
    assert client.get("/api/v1/reconcile/refunds", params={"result": "short"}).status_code == 422
    unknown = client.get("/api/v1/reconcile/cape.csv", params={"result": "A" * 16})
    assert unknown.status_code == 404 and "Upload the export again" in unknown.json()["detail"]
    far = client.get("/api/v1/reconcile", params={"sample": "aegis_defense", "today": "1999-12-31"})
    assert far.status_code == 400 and "outside 2000-01-01 to 2100-12-31" in far.json()["detail"]


# ------------------------------------------------------------------------------------------------ uploads


def test_an_upload_gives_the_command_lines_figures(client: TestClient, aegis: Any) -> None:
    response = client.post(
        "/api/v1/reconcile",
        files={"file": ("../Aegis ES-003 2025.csv", AEGIS.read_bytes(), "text/csv")},
        data={"today": DAY},
        headers={"X-CSRF-Token": token(client)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    result = body["source"]["result"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", result)
    assert body["source"]["file"] == "Aegis ES-003 2025.csv"  # the user's name, never the server's
    assert body["totals"] == aegis.totals()
    assert body["issues"]["rows"][0]["source_file"] == "Aegis ES-003 2025.csv"
    refunds = client.get("/api/v1/reconcile/refunds", params={"result": result, "today": DAY}).json()
    assert refunds["by_status"]["protest_window"] == 9000.0
    assert refunds["deadlines"]["rows"][0]["protest_deadline"] == "2026-12-23"
    cape = client.get(body["links"]["cape_csv"])
    assert cape.text == aegis.cape_csv()
    assert f'filename="cape-upload-{result}-{DAY}.csv"' in cape.headers["content-disposition"]
    dash = client.app.state.dashboard  # type: ignore[attr-defined]
    assert list(dash.uploads_dir.iterdir()) == []  # the copy is gone once read


def test_an_upload_needs_proof_of_origin(client: TestClient) -> None:
    dash = client.app.state.dashboard  # type: ignore[attr-defined]
    kept = len(dash.exports)
    token(client)  # the browser holds the cookie, as a victim's would
    refused = client.post("/api/v1/reconcile", files={"file": ("e.csv", AEGIS.read_bytes(), "text/csv")})
    assert refused.status_code == 403 and "CSRF check failed" in refused.json()["detail"]
    forged = client.post(
        "/api/v1/reconcile",
        files={"file": ("e.csv", AEGIS.read_bytes(), "text/csv")},
        headers={"X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403
    page = client.post("/reconcile", files={"file": ("e.csv", AEGIS.read_bytes(), "text/csv")})
    assert page.status_code == 403
    assert len(dash.exports) == kept  # nothing was read or kept


def test_a_file_that_is_no_ace_export_is_a_clear_400(client: TestClient) -> None:
    response = client.post(
        "/api/v1/reconcile",
        files={"file": ("colours.csv", b"colour,size\nred,2\nblue,3\n", "text/csv")},
        headers={"X-CSRF-Token": token(client)},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("colours.csv: no entry line could be loaded from 2 rows (column_missing")
    assert "export the ACE report ES-003" in body["detail"]
    missing = {(p["line"], p["field"]) for p in body["problems"]}
    assert {(2, "entry_number"), (3, "entry_number"), (2, "hts"), (3, "duty_amount")} <= missing
    assert all(p["file"] == "colours.csv" and p["fix"] for p in body["problems"])


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("broken.xlsx", b"PK\x03\x04 not a workbook at all", "damaged ZIP file"),
        ("empty.csv", b"", "the file is empty"),
        ("noise.csv", bytes(range(256)) * 8, "binary data"),
    ],
)
def test_unreadable_files_are_a_400_never_a_500(
    client: TestClient, name: str, content: bytes, words: str
) -> None:
    response = client.post(
        "/api/v1/reconcile", files={"file": (name, content)}, headers={"X-CSRF-Token": token(client)}
    )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert words in detail and name in detail
    assert "upload-" not in detail  # the server's own file name never shows


def test_a_row_with_a_problem_is_placed_and_the_rest_reconciled(client: TestClient, tmp_path: Path) -> None:
    text = NORTHSTAR.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader([text[0]]))
    row = next(csv.reader([text[-1]]))
    row[header.index("Country of Origin Code")] = "Atlantis"
    broken = [*text[:-1], ",".join(f'"{c}"' for c in row)]
    response = client.post(
        "/api/v1/reconcile",
        files={"file": ("northstar edited.csv", "\n".join(broken).encode())},
        data={"today": DAY},
        headers={"X-CSRF-Token": token(client)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"]["rows_quarantined"] >= 1
    placed = [i for i in body["issues"]["rows"] if i["code"] == "country_unknown"]
    assert placed and placed[0]["source_row"] == len(text) and placed[0]["column"] == "Country of Origin Code"


def test_an_oversized_upload_is_refused(tmp_path: Path, make_settings: MakeSettings) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "ws.duckdb", max_upload_bytes=1000)))
    declared = client.post(
        "/api/v1/reconcile",
        files={"file": ("es003.csv", NORTHSTAR.read_bytes())},  # 2,997 bytes
        headers={"Authorization": "Bearer local"},
    )
    assert declared.status_code == 413 and "limit is 1,000 bytes" in declared.text
    # counted again while copying, whatever the request declared
    dash = client.app.state.dashboard  # type: ignore[attr-defined]
    upload = UploadFile(io.BytesIO(NORTHSTAR.read_bytes()), filename="es003.csv", headers=Headers({}))
    with pytest.raises(ExportTooLargeError) as refused:
        asyncio.run(reconcile_upload(dash, upload, TODAY))
    assert refused.value.http_status == 413
    assert "larger than the upload limit of 1,000 bytes" in str(refused.value)
    assert refused.value.problems[0].fix.startswith("reconcile it with `critmin reconcile FILE`")
    assert list(dash.uploads_dir.iterdir()) == [] and len(dash.exports) == 0


# -------------------------------------------------------------------------------------------------- page


def test_the_page_shows_the_reconcile_figures(client: TestClient, northstar: Any) -> None:
    page = client.get("/reconcile", params={"sample": "northstar_magnetics", "today": DAY})
    assert page.status_code == 200
    shown = numbers(page.text)
    totals = northstar.totals()
    assert float(shown["duty-paid"]) == totals["duty"]["paid"]
    assert float(shown["duty-owed"]) == totals["duty"]["expected"]
    assert float(shown["duty-variance"]) == totals["duty"]["variance"] == -14790.0
    assert float(shown["refund-protest_window"]) == 8250.0
    assert float(shown["refund-finally_liquidated"]) == 53651.39
    assert 'data-value="-14790.0">-$14,790.00</span>' in page.text  # to the cent
    assert 'data-value="81289.16">$81,289.16</span>' in page.text
    assert "law as of 2026-12-05; verified through HTS 2026 Rev. 6 (2026-04-23)" in page.text
    assert 'href="/api/v1/reconcile/cape.csv?sample=northstar_magnetics&amp;today=2026-12-05"' in page.text
    deadlines = page.text.split('data-table="refund-deadlines"')[1].split("</figure>")[0]
    assert "NS710000246" in deadlines and "2027-02-17" in deadlines and "$8,250.00" in deadlines
    assert '<a href="/reconcile" aria-current="page">Reconcile</a>' in page.text


def test_the_page_upload_lands_on_its_result(client: TestClient) -> None:
    posted = client.post(
        "/reconcile",
        files={"file": ("mine.csv", AEGIS.read_bytes(), "text/csv")},
        data={"csrf_token": token(client), "today": DAY},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    location = posted.headers["location"]
    assert re.fullmatch(r"/reconcile\?result=[A-Za-z0-9_-]{16}&today=2026-12-05", location)
    page = client.get(location)
    assert page.status_code == 200
    assert float(numbers(page.text)["duty-variance"]) == 12083.98
    issues = page.text.split('data-table="reconcile-issues"')[1].split("</figure>")[0]
    assert "mine.csv" in issues and "duplicate_row" in issues


def test_the_page_explains_a_refused_upload(client: TestClient) -> None:
    page = client.post(
        "/reconcile",
        files={"file": ("colours.csv", b"colour\nred\n", "text/csv")},
        data={"csrf_token": token(client)},
    )
    assert page.status_code == 400
    assert "colours.csv: no entry line could be loaded" in page.text
    assert 'data-file="colours.csv" data-row="2" data-column="entry_number"' in page.text
    assert not re.search(r"upload-[0-9a-f]{24}", page.text)  # the server's own file name never shows


def test_the_page_answers_bad_addresses_with_a_page(client: TestClient) -> None:
    assert client.get("/reconcile", params={"today": "05/12/2026"}).status_code == 422
    unknown = client.get("/reconcile", params={"result": "B" * 16})
    assert unknown.status_code == 404 and "Upload the export again" in unknown.text
    assert client.get("/reconcile", params={"sample": "nobody"}).status_code == 404
    assert client.get("/reconcile", params={"sample": "", "result": "", "today": ""}).status_code == 200
