"""The workbook opens in any spreadsheet program, one sheet per table, numbers kept as formatted numbers."""

from __future__ import annotations

import re

import openpyxl
import pytest

from critmin.report import ReportFiles
from critmin.report.xlsx import NUMBER_FORMATS
from critmin.views import Analysis, measure_sources, sections


def test_sheets_are_the_report_tables(analysis: Analysis, report_files: ReportFiles) -> None:
    assert report_files.xlsx is not None
    book = openpyxl.load_workbook(report_files.xlsx, read_only=False)
    expected = ["summary"] + [t.id for s in sections(analysis) for t in s.tables] + ["line_duty"]
    assert book.sheetnames == expected
    for name in (
        "scenario_comparison",
        "exposure_mineral",
        "dfars_flags",
        "measure_sources",
        "dataset_sources",
        "simulation_summary",
        "sourcing_mix",
        "investment",
    ):
        assert name in book.sheetnames


def test_numbers_are_numbers_with_formats(analysis: Analysis, report_files: ReportFiles) -> None:
    assert report_files.xlsx is not None
    book = openpyxl.load_workbook(report_files.xlsx)
    sheet = book["scenario_comparison"]
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["scenario", "title", "baseline"]
    assert sheet.freeze_panes == "A4"  # title, note line, header stay in view
    col = header.index("annual_duty") + 1
    values = {
        sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=col) for r in range(4, sheet.max_row + 1)
    }
    today = values["status_quo"]
    assert isinstance(today.value, float)
    assert today.value == pytest.approx(analysis.baseline.duty * analysis.period.annual_factor)
    assert today.number_format == NUMBER_FORMATS["usd"]
    rate = sheet.cell(row=4, column=header.index("effective_rate") + 1)
    assert rate.number_format == NUMBER_FORMATS["pct"] and 0 < rate.value < 1
    date_cell = sheet.cell(row=4, column=header.index("eval_date") + 1)
    assert date_cell.is_date and date_cell.value.date() == analysis.as_of


def test_breakdown_sheet_adds_up_to_the_engine_total(analysis: Analysis, report_files: ReportFiles) -> None:
    assert report_files.xlsx is not None
    sheet = openpyxl.load_workbook(report_files.xlsx)["exposure_supplier"]
    header = [c.value for c in sheet[3]]
    duty = header.index("duty") + 1
    total = sum(sheet.cell(row=r, column=duty).value or 0.0 for r in range(4, sheet.max_row + 1))
    assert total == pytest.approx(analysis.baseline.result.totals()["duty"], rel=1e-9)


def test_sources_sheet_lists_every_citation(analysis: Analysis, report_files: ReportFiles) -> None:
    assert report_files.xlsx is not None
    sheet = openpyxl.load_workbook(report_files.xlsx)["measure_sources"]
    header = [c.value for c in sheet[3]]
    url = header.index("url") + 1
    urls = [sheet.cell(row=r, column=url) for r in range(4, sheet.max_row + 1)]
    cited = measure_sources(analysis)
    assert len(urls) == cited.height
    assert all(c.hyperlink is not None and c.hyperlink.target == c.value for c in urls)


def test_line_duty_sheet_traces_every_total_to_lines_and_measures(
    analysis: Analysis, report_files: ReportFiles
) -> None:
    """One row per ledger line: its duty under the law in force and under each scenario, and the measures
    with their amounts; each duty column adds up to the run's total, each line's measures to its duty."""
    assert report_files.xlsx is not None
    sheet = openpyxl.load_workbook(report_files.xlsx)["line_duty"]
    header = [c.value for c in sheet[3]]
    assert header[:6] == ["line_id", "entry_date", "hts", "country_origin", "supplier", "customs_value_usd"]
    assert header[6:] == [f"{kind}_{run.id}" for run in analysis.runs for kind in ("duty", "measures")]
    body = list(sheet.iter_rows(min_row=4))
    assert len(body) == analysis.lines.height
    assert {r[0].value for r in body} == set(analysis.lines.get_column("line_id"))
    assert all(r[1].is_date and r[2].data_type == "s" for r in body)  # dates are dates, HTS codes text
    for run in analysis.runs:
        duty = header.index(f"duty_{run.id}")
        measures = header.index(f"measures_{run.id}")
        assert sum(r[duty].value or 0.0 for r in body) == pytest.approx(run.duty, rel=1e-9)
        for row in body:
            text = row[measures].value or ""
            assert row[measures].data_type == "s"  # text, never a formula
            amounts = [float(v) for v in re.findall(r" \$(-?\d+\.\d\d)(?:;|$)", text)]
            assert sum(amounts) == pytest.approx(row[duty].value or 0.0, abs=0.01 * max(len(amounts), 1))
    assert body[0][header.index("duty_status_quo")].number_format == NUMBER_FORMATS["usd2"]
