"""`critmin policy list|show|validate|scenarios`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from critmin.cli.app import app

runner = CliRunner()


def test_list_as_of_json() -> None:
    result = runner.invoke(app, ["policy", "list", "--as-of", "2026-03-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["s122_surcharge"]["status"] == "expired"
    assert rows["s122_surcharge"]["window"] == "2026-02-24 .. 2026-07-23"
    assert "ieepa_reciprocal_baseline" not in rows


def test_list_rejects_a_bad_date() -> None:
    result = runner.invoke(app, ["policy", "list", "--as-of", "March 2026"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_show_measure_and_scenario() -> None:
    result = runner.invoke(app, ["policy", "show", "s232_copper_content", "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["basis"] == "content_value" and shown["defined_in"].endswith(
        ".yaml:" + shown["defined_in"].split(":")[-1]
    )
    result = runner.invoke(app, ["policy", "show", "trq", "--set", "quota_kg=5000", "--format", "json"])
    shown = json.loads(result.stdout)
    assert shown["parameters"]["quota_kg"] == {
        "value": 5000,
        "description": "Quota volume per calendar year, kg of product",
        "example": False,
        "overridden": True,
    }
    assert [m["id"] for m in shown["measures"]] == ["pcmdp_trq_rare_earths"]


def test_validate_ok_and_failing(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "measures:\n  - id: a_tariff\n    title: A tariff\n    authority: other\n    status: scenario\n"
        "    citations: [{document: Some source, date: 2026-01-01, url: 'https://example.org'}]\n"
        "    products: {all: true}\n    rate: {kind: ad_valorem, rate: 0.1}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["policy", "validate", str(good)])
    assert result.exit_code == 0 and "OK" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("authority: other", "authority: tarrif"), encoding="utf-8")
    result = runner.invoke(app, ["policy", "validate", str(bad)])
    assert result.exit_code == 2  # bad input, as for any command
    assert f"{bad}:4" in result.stderr.replace("\n", "") and "authority" in result.stderr


def test_scenarios_json() -> None:
    result = runner.invoke(app, ["policy", "scenarios", "--format", "json"])
    assert result.exit_code == 0
    ids = [s["id"] for s in json.loads(result.stdout)]
    assert "price_floor_partners_tariff_others" in ids and "status_quo" in ids


def test_currency_names_the_review_day_the_revision_and_what_is_only_reported() -> None:
    result = runner.invoke(app, ["policy", "currency", "--format", "json"])
    assert result.exit_code == 0, result.output
    law = json.loads(result.stdout)
    assert law["as_of"] == "2026-12-05"
    assert law["verified_through"] == {"revision": "HTS 2026 Rev. 6", "date": "2026-04-23"}
    assert law["reported_to"] == "2026-12-04"  # the polysilicon proclamation, in force the day before
    assert {"s301_fl_12_5pct", "s301_brazil", "s232_polysilicon_modules"} <= set(law["reported_measures"])
    assert "s301_list3" not in law["reported_measures"]  # verified against Rev. 6 heading 9903.88.03
    assert any("Proclamation 11001" in u for u in law["unknown"])
    assert law["line"].startswith("law as of 2026-12-05; verified through HTS 2026 Rev. 6 (2026-04-23); ")
    table = runner.invoke(app, ["policy", "currency"])
    assert table.exit_code == 0 and "Section 301 forced labor (2026-07-24)" in " ".join(table.output.split())


def test_mechanisms_lists_every_rate_kind_with_an_example() -> None:
    result = runner.invoke(app, ["policy", "mechanisms", "--format", "json"])
    assert result.exit_code == 0, result.output
    kinds = {m["kind"]: m for m in json.loads(result.stdout)}
    assert set(kinds) >= {"ad_valorem", "specific", "compound", "schedule", "price_floor", "top_up_to_cap",
                          "minimum_price_backstop"}  # fmt: skip
    assert "minimum_price" in kinds["minimum_price_backstop"]["parameters"]
    assert kinds["top_up_to_cap"]["example"] == "rate: {kind: top_up_to_cap, cap: 10%}"


def test_list_shows_headings_and_verification() -> None:
    result = runner.invoke(app, ["policy", "list", "--as-of", "2026-09-01", "--format", "json"])
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["s232_metals_annex_1a"]["headings"] == "9903.82.02"
    assert rows["s232_metals_annex_1a"]["verification"] == "verified"
    assert rows["s301_fl_eu_cap"]["verification"] == "reported"
