"""`critmin risk ...` commands: output shapes and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from critmin.cli import risk as risk_cli
from critmin.risk.geopolrisk import assess

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """test root"""

    risk_cli.register(root)
    return root


def test_geopolrisk_json_keys(app: typer.Typer) -> None:
    args = [
        "risk",
        "geopolrisk",
        "--importer",
        "USA",
        "--material",
        "cobalt",
        "--year",
        "2022",
        "--format",
        "json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert list(payload) == [
        "importer",
        "material",
        "year",
        "hhi",
        "import_risk",
        "score",
        "price",
        "midpoint",
        "cf",
    ]
    assert payload["importer"] == "USA" and payload["material"] == "cobalt" and payload["year"] == 2022
    assert payload["cf"] == pytest.approx(assess("USA", "cobalt", 2022)["cf"])


def test_geopolrisk_region_and_errors(app: typer.Typer) -> None:
    region = runner.invoke(app, ["risk", "geopolrisk", "-i", "Canada,Mexico", "-m", "graphite", "-f", "json"])
    assert region.exit_code == 0, region.output
    assert json.loads(region.output)["importer"] == "CAN+MEX"
    every = runner.invoke(app, ["risk", "geopolrisk", "-i", "JPN", "-f", "json"])
    assert every.exit_code == 0 and len(json.loads(every.output)) > 40
    unknown = runner.invoke(app, ["risk", "geopolrisk", "-i", "Narnia", "-m", "cobalt"])
    assert unknown.exit_code == 2 and "Unknown country" in unknown.output
    no_year = runner.invoke(app, ["risk", "geopolrisk", "-i", "FRA", "-m", "cobalt", "-y", "2020"])
    assert no_year.exit_code == 2 and "2024" in no_year.output


def test_concentration_csv(app: typer.Typer) -> None:
    result = runner.invoke(
        app, ["risk", "concentration", "--material", "graphite", "--year", "2024", "-f", "csv"]
    )
    assert result.exit_code == 0, result.output
    header, *rows = result.output.strip().splitlines()
    assert header.startswith("basis,mineral_id,material,stage,year,n_countries,total,hhi,hhi_10000")
    assert len(rows) == 3


def test_eu_sr_and_table(app: typer.Typer) -> None:
    tungsten = runner.invoke(app, ["risk", "eu-sr", "--material", "tungsten", "-f", "json"])
    assert tungsten.exit_code == 0, tungsten.output
    row = json.loads(tungsten.output)[0]
    assert row["sr"] == 1.8 and row["sr_computed"] == pytest.approx(1.81656) and row["critical"] is True
    critical_2023 = runner.invoke(app, ["risk", "eu-sr", "--year", "2023", "--critical", "-f", "json"])
    assert len(json.loads(critical_2023.output)) == 32
    table = runner.invoke(app, ["risk", "table", "--format", "json"])
    assert table.exit_code == 0
    assert {r["mineral_id"] for r in json.loads(table.output)} >= {"cobalt", "gallium", "tungsten"}


def test_ledger_command_on_a_broker_csv(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "entries.csv"
    path.write_text(
        "Entry Number,Entry Date,HTS Number,Country of Origin,Entered Value,Quantity,Unit\n"
        "E1,2025-03-01,8505.11.0070,China,50000,1000,kg\n"
        "E2,2027-02-01,8505.11.0070,Japan,80000,1000,kg\n"
        "E3,2025-05-01,8101.10.0000,China,20000,400,kg\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["risk", "ledger", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["lines"] == 3 and payload["rows_quarantined"] == 0
    flags = {row["hts"] + row["country_origin"]: row["flag"] for row in payload["dfars"]}
    assert flags == {"8505110070CHN": "prohibited", "8505110070JPN": "review", "8101100000CHN": "prohibited"}
    neodymium = next(r for r in payload["by_mineral"] if r["mineral_id"] == "neodymium")
    assert neodymium["feoc_share_value"] == pytest.approx(50 / 130)
    assert any(r["mineral_id"] == "tungsten" and r["score"] > 0 for r in payload["geopolrisk"])
    table = runner.invoke(app, ["risk", "ledger", str(path)])
    assert table.exit_code == 0 and "DFARS 252.225-7052" in table.output
