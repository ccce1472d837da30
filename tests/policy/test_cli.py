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
    assert result.exit_code == 1
    assert f"{bad}:4" in result.stderr.replace("\n", "") and "authority" in result.stderr


def test_scenarios_json() -> None:
    result = runner.invoke(app, ["policy", "scenarios", "--format", "json"])
    assert result.exit_code == 0
    ids = [s["id"] for s in json.loads(result.stdout)]
    assert "price_floor_partners_tariff_others" in ids and "status_quo" in ids
