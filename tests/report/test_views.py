"""The views show the engines' numbers: every breakdown adds up to the engine's total, nothing is invented."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from critmin.duty.engine import evaluate
from critmin.ledger.schema import conform
from critmin.policy import load_scenario
from critmin.refdata import read_manifest
from critmin.views import (
    Analysis,
    LedgerPeriod,
    analyse,
    column_format,
    concentration,
    dataset_sources,
    deadlines,
    dfars_flags,
    executive_summary,
    exposure,
    exposure_matrix,
    flows,
    headline_table,
    import_sources,
    investment_results,
    measure_sources,
    partner_shares,
    sankey_figure,
    scenario_comparison,
    sections,
    simulation_summary,
    sourcing_results,
    world_map_figure,
)
from critmin.views.analysis import scenario_eval_date
from critmin.views.formatting import pct, usd, usd_short
from critmin.views.sources import cited_measure_ids

AS_OF = date(2026, 11, 28)


def test_ledger_period_counts_calendar_months() -> None:
    # 11 Jan 2025 .. 19 Dec 2026: Jan 2025 to Dec 2026 inclusive = 24 months, so a year is 12/24 = 0.5 of it.
    frame = pl.DataFrame({"entry_date": [date(2025, 1, 11), date(2026, 12, 19), None]})
    period = LedgerPeriod.of(frame)
    assert (period.first, period.last, period.months) == (date(2025, 1, 11), date(2026, 12, 19), 24)
    assert period.annual_factor == 0.5
    # 10 Mar 2025 .. 10 Feb 2026: Mar..Dec 2025 (10) + Jan..Feb 2026 (2) = 12 months, factor 1.
    assert LedgerPeriod.of(pl.DataFrame({"entry_date": [date(2025, 3, 10), date(2026, 2, 10)]})).months == 12
    # one month of entries: twelve times it makes a year
    one = LedgerPeriod.of(pl.DataFrame({"entry_date": [date(2026, 5, 1), date(2026, 5, 31)]}))
    assert (one.months, one.annual_factor) == (1, 12.0)


def test_scenario_is_evaluated_once_it_starts() -> None:
    measure_set = load_scenario("s232_tariff_non_partners")  # start_date 2027-01-01 in the shipped file
    assert scenario_eval_date(measure_set, AS_OF) == date(2027, 1, 1)
    assert scenario_eval_date(measure_set, date(2027, 3, 1)) == date(2027, 3, 1)
    assert scenario_eval_date(load_scenario("status_quo"), date(2026, 3, 1)) == date(2026, 3, 1)


def test_scenario_comparison_equals_the_duty_engine(analysis: Analysis, lines: pl.DataFrame) -> None:
    frame = scenario_comparison(analysis)
    assert frame.get_column("scenario").to_list() == [
        "status_quo",
        "s232_tariff_non_partners",
        "price_floor_partners_tariff_others",
        "trq",
    ]
    for row in frame.iter_rows(named=True):
        # an independent engine call on the same lines, scenario and date
        engine = evaluate(lines, load_scenario(row["scenario"]), as_of=row["eval_date"]).totals()
        assert row["duty"] == pytest.approx(engine["duty"], rel=1e-12)
        assert row["annual_duty"] == pytest.approx(engine["duty"] * 0.5, rel=1e-12)  # 24-month ledger
        assert row["customs_value_usd"] == pytest.approx(engine["customs_value"])
    today = frame.row(0, named=True)
    assert today["baseline"] and today["annual_change"] == 0.0
    for row in frame.filter(~pl.col("baseline")).iter_rows(named=True):
        assert row["annual_change"] == pytest.approx(row["annual_duty"] - today["annual_duty"])


@pytest.mark.parametrize("by", ["mineral", "origin", "supplier", "hts", "measure"])
def test_every_breakdown_adds_up_to_the_total(analysis: Analysis, by: str) -> None:
    for run in analysis.runs:
        frame = exposure(analysis, by, run.id)  # type: ignore[arg-type]
        assert frame.get_column("duty").sum() == pytest.approx(run.duty, rel=1e-9, abs=1e-6)
        if by != "measure":  # a line pays several measures, so values repeat across measures
            assert frame.get_column("lines").sum() == analysis.lines.height
            total_value = run.result.totals()["customs_value"]
            assert frame.get_column("customs_value_usd").sum() == pytest.approx(total_value)
        if run.duty:
            assert frame.get_column("share_of_duty").sum() == pytest.approx(1.0)
        duties = frame.get_column("duty").to_list()
        assert duties == sorted(duties, reverse=True)


def test_exposure_matrix_rows_are_each_runs_annual_duty(analysis: Analysis) -> None:
    matrix = exposure_matrix(analysis, "origin")
    for run in analysis.runs:
        assert matrix.get_column(run.id).sum() == pytest.approx(run.duty * analysis.period.annual_factor)
    china = matrix.filter(pl.col("key") == "CHN").row(0, named=True)
    assert china["label"] == "China"


def test_flows_and_sankey_carry_all_the_value(analysis: Analysis) -> None:
    frame = flows(analysis)
    assert frame.get_column("customs_value_usd").sum() == pytest.approx(
        analysis.lines["customs_value_usd"].sum()
    )
    fig = sankey_figure(analysis)
    sankey = fig.data[0]
    labels = list(sankey.node.label)
    assert "China" in labels and "Tungsten" in labels
    assert any(label.startswith("8505 ") for label in labels)  # magnets, by HTS heading
    # each stage of links (origin->mineral, mineral->product) carries the whole ledger's value
    assert sum(sankey.link.value) == pytest.approx(2 * analysis.lines["customs_value_usd"].sum())


def test_import_sources_mark_foreign_entities_of_concern(analysis: Analysis) -> None:
    frame = import_sources(analysis)
    assert frame.get_column("share_of_value").sum() == pytest.approx(1.0)
    standing = {r["iso3"]: (r["feoc"], r["partner"]) for r in frame.iter_rows(named=True)}
    assert standing["CHN"] == (True, False)
    assert standing["CAN"][1] and standing["MEX"][1]  # USMCA / FTA partners
    fig = world_map_figure(analysis)
    assert set(fig.data[0].locations) == set(frame["iso3"]) and fig.data[0].locationmode == "ISO-3"


def test_risk_views_come_from_the_risk_engine(analysis: Analysis) -> None:
    shares = partner_shares(analysis)
    by_mineral = analysis.risk.exposure.by_mineral
    assert shares.height == by_mineral.height
    tungsten = shares.filter(pl.col("mineral_id") == "tungsten").row(0, named=True)
    source = by_mineral.filter(pl.col("mineral_id") == "tungsten").row(0, named=True)
    assert tungsten["feoc_share_value"] == source["feoc_share_value"]
    hhi = concentration(analysis).get_column("hhi_10000").to_list()
    assert hhi == sorted(hhi, reverse=True) and all(0 < h <= 10_000 for h in hhi)
    flags = dfars_flags(analysis)
    assert flags.get_column("line_id").is_unique().all()
    prohibited = flags.filter(pl.col("flag") == "prohibited")
    assert prohibited.height > 0
    assert set(prohibited.get_column("country_origin")) <= {"CHN", "RUS", "IRN", "PRK"}


def test_sources_appendix_cites_every_measure_and_dataset(analysis: Analysis) -> None:
    measures = measure_sources(analysis)
    assert cited_measure_ids(analysis) <= set(measures.get_column("measure_id"))
    assert measures.get_column("url").str.contains(r"^https?://").all()
    assert measures.get_column("date").str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    datasets = dataset_sources(analysis)
    shipped = datasets.filter(pl.col("kind") == "reference data")
    assert set(shipped.get_column("id")) == {r.id for r in read_manifest()}
    assert shipped.get_column("vintage").is_not_null().all()
    engine_used = set().union(*(set(run.result.datasets) for run in analysis.runs))
    marked = set(shipped.filter(pl.col("used_by") == "duty engine").get_column("id"))
    assert marked == engine_used
    ledger = datasets.filter(pl.col("kind") == "ledger").row(0, named=True)
    assert ledger["sha256"] == analysis.ledger_sha256 and ledger["rows"] == analysis.lines.height


def test_executive_summary_states_the_engine_numbers(analysis: Analysis) -> None:
    summary = executive_summary(analysis)
    numbers, text = summary["numbers"], " ".join(summary["sentences"])
    annual_today = analysis.baseline.duty * 0.5
    assert numbers["today"]["annual_duty"] == pytest.approx(annual_today)
    assert usd(annual_today) in text
    assert f"{analysis.rows_quarantined:,} of {analysis.rows_in:,} rows were quarantined" in text
    for scenario in numbers["scenarios"]:
        assert usd(scenario["annual_duty"]) in text
    sim = analysis.simulation
    assert sim is not None and numbers["simulation"]["mean"] == sim.mean
    assert usd(sim.p95) in text and "not a forecast" in text
    table = headline_table(analysis)
    assert table.row(0)[1] == pytest.approx(annual_today)


def test_simulation_summary_matches_its_draws(analysis: Analysis) -> None:
    sim = analysis.simulation
    assert sim is not None
    frame = dict(simulation_summary(analysis).select("statistic", "value").iter_rows())
    assert frame["mean"] == pytest.approx(float(np.mean(sim.annual)), rel=1e-9)
    assert frame["p95"] == pytest.approx(float(np.percentile(sim.annual, 95)), rel=1e-6)
    assert frame["p5"] <= frame["p50"] <= frame["p95"]


def test_optional_sections_appear_when_given(analysis: Analysis) -> None:
    mix = sourcing_results(analysis)
    assert mix is not None and analysis.sourcing is not None
    assert mix.get_column("quantity").sum() == pytest.approx(70_000 + 75_000)  # demand of both periods
    invest = investment_results(analysis)
    assert invest is not None and invest.row(0, named=True)["npv"] == analysis.investments[0].appraisal.npv
    ids = [s.id for s in sections(analysis)]
    assert ids == [
        "summary",
        "scenarios",
        "exposure",
        "simulation",
        "risk",
        "deadlines",
        "sourcing",
        "investment",
        "sources",
    ]
    table_ids = [t.id for s in sections(analysis) for t in s.tables]
    assert len(table_ids) == len(set(table_ids))


def test_deadlines_are_still_ahead(analysis: Analysis) -> None:
    frame = deadlines(analysis, limit=None)
    assert frame.height > 0
    assert (frame.get_column("status") != "past").all()
    upcoming = frame.filter(pl.col("status") == "upcoming")
    assert (upcoming.get_column("date") > AS_OF).all()


def test_small_ledger_without_simulation_or_options() -> None:
    # Two lines a year apart from Japan: 8 Mar 2025 .. 8 Feb 2026 is Mar 2025..Feb 2026 = 12 months.
    lines = conform(
        pl.DataFrame(
            {
                "line_id": ["a", "b"],
                "entry_date": [date(2025, 3, 8), date(2026, 2, 8)],
                "hts": ["8505110070", "8101100000"],
                "country_origin": ["JPN", "VNM"],
                "supplier": ["Maker A", "Maker B"],
                "quantity": [100.0, 50.0],
                "unit": ["kg", "kg"],
                "quantity_kg": [100.0, 50.0],
                "customs_value_usd": [10_000.0, 4_000.0],
            }
        )
    )
    a = analyse(lines, ledger_name="two.csv", as_of=AS_OF, scenarios=["s232_tariff_non_partners"], tree=None)
    assert a.period.annual_factor == 1.0 and a.simulation is None and a.sourcing is None
    engine = evaluate(lines, load_scenario("status_quo"), as_of=AS_OF)
    per_line = dict(engine.lines.select("line_id", "duty").iter_rows())
    by_origin = dict(exposure(a, "origin").select("key", "duty").iter_rows())
    assert by_origin == pytest.approx({"JPN": per_line["a"], "VNM": per_line["b"]})
    assert [s.id for s in sections(a)] == ["summary", "scenarios", "exposure", "risk", "deadlines", "sources"]
    assert simulation_summary(a).is_empty()


def test_formats() -> None:
    assert usd(1_234_567.4) == "$1,234,567"
    assert usd(-2_500) == "-$2,500"
    assert usd_short(1_564_502) == "$1.56M" and usd_short(45_600) == "$45.6k"
    assert pct(0.1234) == "12.3%"
    assert column_format("annual_duty", pl.Float64()) == "usd"
    assert column_format("feoc_share_value", pl.Float64()) == "pct"
    assert column_format("lines", pl.Int64()) == "int"
    assert column_format("eval_date", pl.Date()) == "date"
    assert column_format("year", pl.Int32()) == "text"
    assert column_format("hhi_10000", pl.Float64()) == "float"
