"""The HTML report is one self-contained file showing the library's numbers and every source."""

from __future__ import annotations

import json
import re

import polars as pl

from critmin.report.html import HTML_TABLE_ROWS, format_value
from critmin.views import Analysis, measure_sources, sections
from critmin.views.formatting import usd

SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=", re.IGNORECASE)
LINK_HREF = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)
IMPORT_URL = re.compile(r"@import\s+url\(\s*[\"']?https?://", re.IGNORECASE)


def test_nothing_is_loaded_from_the_network(report_html: str) -> None:
    assert not SCRIPT_SRC.search(report_html), "a <script src=...> would need the network"
    assert not LINK_HREF.search(report_html), "a <link href=http...> would need the network"
    assert not IMPORT_URL.search(report_html)
    assert "Plotly.newPlot" in report_html  # the charts are drawn by the embedded library
    assert "window.PlotlyGeoAssets = {topojson: {world_110m:" in report_html  # the map needs no download


def test_every_figure_is_embedded_as_json(analysis: Analysis, report_html: str) -> None:
    figures = [f for s in sections(analysis) for f in s.figures]
    for figure in figures:
        match = re.search(
            rf'<script type="application/json" id="fig-{figure.id}">(.*?)</script>', report_html, re.DOTALL
        )
        assert match, figure.id
        spec = json.loads(match.group(1))
        assert "data" in spec and "layout" in spec


def test_headline_numbers_are_the_engine_totals(analysis: Analysis, report_html: str) -> None:
    assert usd(analysis.baseline.duty) in report_html  # duty on the ledger, in force today
    assert usd(analysis.baseline.duty * analysis.period.annual_factor) in report_html  # per year
    for run in analysis.scenarios:
        assert usd(run.duty * analysis.period.annual_factor) in report_html
    assert analysis.simulation is not None
    assert usd(analysis.simulation.mean) in report_html and usd(analysis.simulation.p95) in report_html


def test_sources_appendix_is_complete(analysis: Analysis, report_html: str) -> None:
    appendix = report_html[report_html.index('<section id="sources"') :]
    cited = measure_sources(analysis)
    for measure_id in cited.get_column("measure_id").unique():
        assert f">{measure_id}<" in appendix
    for url in cited.get_column("url").unique():
        assert url.replace("&", "&amp;") in appendix
    table = re.search(r'<table data-view="measure_sources">.*?<tbody>(.*?)</tbody>', appendix, re.DOTALL)
    assert table is not None and table.group(1).count("<tr>") == cited.height  # never cut


def test_long_tables_say_where_the_rest_is(analysis: Analysis, report_html: str) -> None:
    long = [
        t
        for s in sections(analysis)
        if s.id != "sources"
        for t in s.tables
        if t.frame.height > HTML_TABLE_ROWS
    ]
    for table in long:
        assert f"sheet “{table.id}”" in report_html


def test_values_are_formatted_by_column_kind() -> None:
    assert format_value(1234.5, "usd") == "$1,234"  # whole dollars (round half to even)
    assert format_value(0.256, "pct") == "25.6%"
    assert format_value(2024, "text") == "2024"
    assert format_value(None, "usd") == "—"
    assert format_value(["CHN", "VNM"], "text") == "CHN, VNM"
    assert format_value(pl.Series([1]).to_list()[0], "int") == "1"
