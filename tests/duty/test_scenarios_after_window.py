"""PCMDP scenarios after the negotiation window: every scenario starts on its `start_date` parameter
(2027-01-01 by default), the outputs say how many lines a scenario reaches and why, and the
polysilicon-template remedy computes as Proclamation 11052's design does."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.duty.engine import evaluate
from critmin.policy import load_scenario
from critmin.policy.errors import PolicyError
from critmin.policy.loader import library_ids, shipped_scenario_paths
from critmin.policy.models import AdValorem, MinimumPriceBackstop

runner = CliRunner()
DEFAULT_START = date(2027, 1, 1)

# Chinese NdPr oxide (2846.90.20.40, MFN free), 1,000 kg at USD 70,000, entered before and after 2027-01-01.
LEDGER = """\
line_id,entry_date,hts,country_origin,customs_value_usd,quantity,unit,supplier
OCT26,2026-10-01,2846.90.20.40,CN,70000,1000,kg,Shenghe
FEB27,2027-02-01,2846.90.20.40,CN,70000,1000,kg,Shenghe
"""


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "entries.csv"
    path.write_text(LEDGER, encoding="utf-8")
    return path


def _exposure(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["exposure", *args, "--no-record"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


# ---------------------------------------------------------------------------------------------------------
# item 1: start_date on every scenario, and the outputs say how many lines each reaches and why


def test_every_scenario_measure_starts_on_the_start_date_parameter() -> None:
    own = library_ids()
    for name in shipped_scenario_paths():
        measure_set = load_scenario(name)
        measures = [m for m in measure_set.measures if m.id not in own]
        if not measures:  # status_quo adds no measure, so it has nothing to date
            assert name == "status_quo" and "start_date" not in measure_set.parameters
            continue
        parameter = measure_set.parameters["start_date"]
        assert parameter.value == DEFAULT_START and parameter.example, name
        assert "first entry date" in parameter.description.lower(), name
        assert {m.effective_from for m in measures} == {DEFAULT_START}, name
        moved = load_scenario(name, ["start_date=2026-09-01"])  # as --set parses it
        assert {m.effective_from for m in moved.measures if m.id not in own} == {date(2026, 9, 1)}, name
        assert moved.parameters["start_date"].overridden


def test_a_start_date_that_is_no_date_is_reported_not_a_crash() -> None:
    with pytest.raises(PolicyError) as info:
        load_scenario("s232_tariff_non_partners", ["start_date=2026-13-01"])
    text = str(info.value)
    # refused where it is typed, before it reaches a measure's effective_from
    assert "field `start_date`" in text and "'2026-13-01' is not a date" in text
    assert "YYYY-MM-DD" in text


def test_default_start_reaches_the_2027_line_and_says_why_not_the_2026_one(ledger_file: Path) -> None:
    doc = _exposure(str(ledger_file), "-s", "s232_tariff_non_partners", "--format", "json")
    # only FEB27 is on or after 2027-01-01: 25% x 70,000 = 17,500 (China is not a partner)
    assert doc["totals"]["by_measure"]["pcmdp_s232_processed_non_partners"] == pytest.approx(17_500.0)
    by_line = {x["line_id"]: {c["measure_id"] for c in x["components"]} for x in doc["lines"]}
    assert "pcmdp_s232_processed_non_partners" in by_line["FEB27"]
    assert "pcmdp_s232_processed_non_partners" not in by_line["OCT26"]
    reach = doc["scenario_reach"]
    assert (reach["lines"], reach["reached"], reach["paying"]) == (2, 1, 1)
    assert (reach["dated_before"], reach["dated_inside"], reach["start"]) == (1, 1, "2027-01-01")
    assert reach["start_parameter"] == {"value": "2027-01-01", "example": True, "overridden": False}
    assert reach["text"].startswith("Scenario s232_tariff_non_partners reaches 1 of 2 lines")
    assert "1 dated before 2027-01-01 and so not reached" in reach["text"]
    assert "--set start_date=YYYY-MM-DD" in reach["text"]
    # the table output says the same sentence
    table = runner.invoke(
        app, ["exposure", str(ledger_file), "-s", "s232_tariff_non_partners", "--no-record"]
    )
    assert table.exit_code == 0, table.output
    flat = " ".join(table.stdout.split())
    assert "reaches 1 of 2 lines" in flat and "1 dated before 2027-01-01" in flat


def test_set_start_date_reaches_the_earlier_line(ledger_file: Path) -> None:
    doc = _exposure(
        str(ledger_file),
        "-s",
        "s232_tariff_non_partners",
        "--set",
        "start_date=2026-09-01",
        "--format",
        "json",
    )
    # both lines on or after 2026-09-01: 2 x 25% x 70,000 = 35,000
    assert doc["totals"]["by_measure"]["pcmdp_s232_processed_non_partners"] == pytest.approx(35_000.0)
    reach = doc["scenario_reach"]
    assert (reach["reached"], reach["dated_before"]) == (2, 0)
    assert reach["start_parameter"]["overridden"] is True
    assert "start_date = 2026-09-01, set with --set" in reach["text"]
    assert doc["provenance"]["parameters"]["start_date"]["overridden"] is True


def test_as_of_redates_every_line_and_the_reach_says_so(ledger_file: Path) -> None:
    doc = _exposure(
        str(ledger_file), "-s", "s232_tariff_non_partners", "--as-of", "2026-12-05", "--format", "json"
    )
    reach = doc["scenario_reach"]
    assert (reach["reached"], reach["dated_before"]) == (0, 2)
    assert reach["evaluation_dates"]["redated_to"] == "2026-12-05"
    assert "as if entered on 2026-12-05" in reach["text"] and "2 dated before 2027-01-01" in reach["text"]
    assert "pcmdp_s232_processed_non_partners" not in doc["totals"]["by_measure"]
    # the engine's own note about a scenario measure outside every line's date stays in the provenance
    assert any("re-date them with --as-of" in note for note in doc["provenance"]["notes"])


def test_status_quo_has_no_reach_and_compare_gives_both(ledger_file: Path) -> None:
    assert _exposure(str(ledger_file), "--format", "json")["scenario_reach"] is None
    result = runner.invoke(
        app,
        ["exposure", "compare", str(ledger_file), "-s", "status_quo", "-s", "trq", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    first, second = json.loads(result.stdout)["scenario_reach"]
    assert first is None and second["scenario"] == "trq" and second["reached"] == 1


def test_report_counts_the_lines_each_scenario_reaches(tmp_path: Path) -> None:
    from critmin.ledger.ingest import ingest
    from critmin.views import analyse
    from critmin.views.layout import sections
    from critmin.views.scenarios import scenario_comparison

    path = tmp_path / "three.csv"
    path.write_text(LEDGER + "JPN,2026-10-01,2846.90.20.40,JP,70000,1000,kg,Shin-Etsu\n", encoding="utf-8")
    lines = ingest(path).lines
    a = analyse(
        lines,
        ledger_name="three.csv",
        as_of=date(2026, 12, 5),
        scenarios=["s232_tariff_non_partners"],
        tree=None,
    )
    frame = scenario_comparison(a)
    row = frame.filter(pl.col("scenario") == "s232_tariff_non_partners").row(0, named=True)
    # the report evaluates a scenario on the later of the report date and its start: 2027-01-01, so every line
    # is dated inside; the two Chinese lines are reached, the Japanese one (a framework partner) is not
    assert row["eval_date"] == DEFAULT_START
    assert (row["lines_reached"], row["lines_paying"]) == (2, 2)
    assert frame.filter(pl.col("baseline")).get_column("lines_reached").to_list() == [None]
    section = next(s for s in sections(a) if s.id == "scenarios")
    text = " ".join([*section.text, *section.items])
    assert "Scenario s232_tariff_non_partners reaches 2 of 3 lines" in text
    assert "as if entered on 2027-01-01" in text and "the other one is not" in text


# ---------------------------------------------------------------------------------------------------------
# item 2: the polysilicon template on the PCMDP scope


def _frame(rows: list[tuple[str, date, str, str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "line_id": line_id,
                "entry_date": day,
                "hts": hts,
                "country_origin": origin,
                "supplier": f"supplier {origin}",
                "quantity": kg,
                "unit": "kg",
                "quantity_kg": kg,
                "customs_value_usd": usd,
            }
            for line_id, day, hts, origin, kg, usd in rows
        ],
        schema={
            "line_id": pl.String,
            "entry_date": pl.Date,
            "hts": pl.String,
            "country_origin": pl.String,
            "supplier": pl.String,
            "quantity": pl.Float64,
            "unit": pl.String,
            "quantity_kg": pl.Float64,
            "customs_value_usd": pl.Float64,
        },
    )


def test_polysilicon_template_scenario_on_hand_built_lines() -> None:
    day = date(2027, 2, 1)
    lines = _frame(
        [
            ("cn_oxide_cheap", day, "2846902040", "CHN", 1000.0, 70_000.0),  # NdPr oxide at 70 USD/kg
            ("cn_oxide_dear", day, "2846902040", "CHN", 1000.0, 120_000.0),  # 120 USD/kg
            ("vn_nd_metal", day, "2805300020", "VNM", 500.0, 50_000.0),  # neodymium metal at 100 USD/kg
            ("jp_nd_metal", day, "2805300020", "JPN", 500.0, 50_000.0),  # an ally, MFN 5%
            ("de_magnet", day, "8505110070", "DEU", 1000.0, 100_000.0),  # EU (ally), MFN 2.1%
            ("gb_magnet", day, "8505110070", "GBR", 1000.0, 100_000.0),  # treated as an ally here
            ("cn_magnet", day, "8505110070", "CHN", 1000.0, 100_000.0),  # non-ally derivative
            ("cn_polysilicon", day, "2804610000", "CHN", 1000.0, 15_000.0),  # under Proc. 11052 itself
            ("cn_oxide_2026", date(2026, 10, 1), "2846902040", "CHN", 1000.0, 70_000.0),  # before the start
        ]
    )
    result = evaluate(lines, load_scenario("polysilicon_template_pcmdp"))
    comps = result.components.with_columns(pl.col("measure_id").cast(pl.String))
    own = comps.filter(pl.col("measure_id").str.starts_with("pcmdp_polytemplate_"))
    got = {(r["line_id"], r["measure_id"]): r["amount"] for r in own.iter_rows(named=True)}
    expected = {
        # minimum import price backstop, non-allies: max(15% x value, 110 x kg - value)
        #   70 USD/kg: max(0.15 x 70,000 = 10,500, 110 x 1,000 - 70,000 = 40,000) = 40,000
        ("cn_oxide_cheap", "pcmdp_polytemplate_mip_ndpr_oxide"): 40_000.0,
        #   120 USD/kg, above the minimum: max(0.15 x 120,000 = 18,000, 110,000 - 120,000 < 0) = 18,000
        ("cn_oxide_dear", "pcmdp_polytemplate_mip_ndpr_oxide"): 18_000.0,
        #   Nd metal at 100 USD/kg: max(0.15 x 50,000 = 7,500, 140 x 500 - 50,000 = 20,000) = 20,000
        ("vn_nd_metal", "pcmdp_polytemplate_mip_ndpr_metal"): 20_000.0,
        # all-in 15% for allies, no minimum price: (15% - MFN) x value
        #   Nd metal, MFN 5%: 10% x 50,000 = 5,000
        ("jp_nd_metal", "pcmdp_polytemplate_allies"): 5_000.0,
        #   NdFeB magnet, MFN 2.1%: 12.9% x 100,000 = 12,900 (Germany as an EU member; the UK likewise)
        ("de_magnet", "pcmdp_polytemplate_allies"): 12_900.0,
        ("gb_magnet", "pcmdp_polytemplate_allies"): 12_900.0,
        # ad valorem on a non-ally's derivative, on full value as Proc. 11052 charges modules: 15% x 100,000
        ("cn_magnet", "pcmdp_polytemplate_non_allies"): 15_000.0,
    }
    assert got == pytest.approx(expected)
    # polysilicon keeps Proclamation 11052's own minimum price (21 x 1,000 - 15,000 = 6,000), nothing more
    poly = comps.filter(pl.col("line_id") == "cn_polysilicon")
    assert dict(poly.select("measure_id", "amount").iter_rows())["s232_polysilicon_mip"] == pytest.approx(
        6_000.0
    )
    reach = result.reach()
    assert reach is not None
    assert (reach.reached, reach.before, reach.inside) == (7, 1, 8)
    assert "reaches 7 of 9 lines" in reach.text() and "the other one is not" in reach.text()


def test_polysilicon_template_parameters_are_illustrative_and_settable() -> None:
    measure_set = load_scenario("polysilicon_template_pcmdp")
    assert all(p.example for p in measure_set.parameters.values())
    assert set(measure_set.parameters) == {
        "rate",
        "ally_cap",
        "ally_countries",
        "ally_groups",
        "minimum_prices",
        "start_date",
    }
    assert "Illustrative" in (measure_set.parameters["rate"].source or "")
    moved = load_scenario(
        "polysilicon_template_pcmdp", ["minimum_prices.ndpr_oxide=95", "rate=25%", "ally_countries=[JPN]"]
    )
    mip = moved.by_id()["pcmdp_polytemplate_mip_ndpr_oxide"].rate
    assert isinstance(mip, MinimumPriceBackstop) and isinstance(mip.rate, AdValorem)
    assert mip.minimum_price == 95.0 and mip.rate.rate == pytest.approx(0.25)
    assert moved.by_id()["pcmdp_polytemplate_allies"].origin.countries == ["JPN"]
