"""The HTML report is one self-contained file showing the library's numbers and every source."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import polars as pl

from critmin.report import render_html
from critmin.report.html import HTML_TABLE_ROWS, breakable, format_value, print_parts
from critmin.views import Analysis, measure_sources, scenario_comparison, sections
from critmin.views.formatting import usd
from critmin.views.scenarios import reach_sentences

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
    appendix = report_html[report_html.index('<section id="sources"') :].replace("<wbr>", "")  # as read
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


def _table_markup(html: str, view: str, attribute: str = "data-view") -> list[str]:
    return re.findall(rf'<table {attribute}="{view}">(.*?)</table>', html, re.DOTALL)


def test_wide_tables_scroll_on_screen_and_print_in_parts(analysis: Analysis, report_html: str) -> None:
    """The scenario comparison (19 columns) scrolls in its own box on screen, its titles wrap over a few
    lines, and on paper it prints as narrower tables that together hold every column, each led by the
    scenario."""
    block = re.search(
        r'<div class="table-block split" id="table-scenario_comparison">(.*?)\n  </div>',
        report_html,
        re.DOTALL,
    )
    assert block is not None, "a table too wide for the page is marked for splitting"
    screen = re.search(r'<div class="scroll">\s*<table data-view="scenario_comparison">', block.group(1))
    assert screen is not None
    columns = scenario_comparison(analysis).columns
    heads = re.findall(
        r'<th class="([^"]*)" title="([^"]*)">', _table_markup(report_html, "scenario_comparison")[0]
    )
    assert [name for _, name in heads] == columns
    assert (
        dict((name, css) for css, name in heads)["title"] == "text w-l"
    )  # wraps, but not to one word a line
    parts = _table_markup(report_html, "scenario_comparison", "data-view-part")
    assert len(parts) >= 2
    printed = [re.findall(r'title="([^"]*)"', part.split("</thead>")[0]) for part in parts]
    assert all(names[0] == "scenario" for names in printed)
    assert sorted({n for names in printed for n in names}) == sorted(columns)
    assert "Part 1 of " in block.group(1)


def test_narrow_tables_print_whole(report_html: str) -> None:
    assert '<div class="table-block" id="table-headline">' in report_html
    assert not _table_markup(report_html, "headline", "data-view-part")


def test_print_parts_fit_the_page_and_keep_the_key_column() -> None:
    widths = [120.0, *([50.0] * 18)]
    parts = print_parts(widths, 540.0)
    assert all(p[0] == 0 and sum(widths[i] for i in p) <= 540.0 for p in parts)
    assert sorted({i for p in parts for i in p}) == list(range(len(widths)))
    sizes = [len(p) - 1 for p in parts]
    assert max(sizes) - min(sizes) <= 1  # balanced, not 8 + 8 + 2
    assert print_parts([100.0, 200.0], 540.0) == [[0, 1]]


def test_long_identifiers_wrap_at_their_joints() -> None:
    assert (
        str(breakable("price_floor_partners_tariff_others"))
        == "price_<wbr>floor_<wbr>partners_<wbr>tariff_<wbr>others"
    )
    assert str(breakable("in_force")) == "in_force"  # short values stay whole
    assert str(breakable("<b>_long_long_long_long")) == "&lt;b&gt;_<wbr>long_<wbr>long_<wbr>long_<wbr>long"


def test_running_header_cannot_break_out_of_the_style_sheet(analysis: Analysis) -> None:
    hostile = dataclasses.replace(analysis, ledger_name='q"};</style><script>alert(1)</script>.csv')
    page = render_html(hostile)
    page_rule = re.search(r"<style>\n@page \{(.*?)\n\}\n</style>", page, re.DOTALL)
    assert page_rule is not None
    assert "<" not in page_rule.group(1) and '"};' not in page_rule.group(1)
    assert "<script>alert(1)</script>" not in page


def test_scenario_section_says_which_lines_each_scenario_reaches(
    analysis: Analysis, report_html: str
) -> None:
    section = report_html[
        report_html.index('<section id="scenarios"') : report_html.index('<section id="exposure"')
    ]
    items = re.findall(r"<li>(.*?)</li>", section, re.DOTALL)
    reach = reach_sentences(analysis)
    assert len(reach) == len(analysis.scenarios) and [html.unescape(i) for i in items] == reach
    for run in analysis.scenarios:
        assert any(f"Scenario {run.id} reaches " in text for text in reach)
    day = analysis.as_of.isoformat()
    said = html.unescape(" ".join(section.split()))
    assert (
        f"Duty today is the law in force on {day} applied to every ledger line as if it entered that day"
        in said
    )
    assert f"--scenario status_quo --as-of {day}" in said and "on its own entry date" in said
