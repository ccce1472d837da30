"""`critmin simulate`: JSON keys, tables, and errors that say what to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.cli.app import app
from critmin.paths import SAMPLES_DIR

LEDGER = SAMPLES_DIR / "ledger" / "magnet_maker_ledger.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def payload() -> dict[str, object]:
    result = runner.invoke(
        app,
        [
            "simulate",
            "pcmdp_window_2026",
            "--ledger",
            str(LEDGER),
            "--draws",
            "400",
            "--seed",
            "7",
            "--format",
            "json",
            "--switch",
            "Baotou Rare Earth Metals Co.=Hai Phong Rare Earth JSC",
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_has_the_documented_keys(payload: dict[str, object]) -> None:
    for key in (
        "mean",
        "p5",
        "p50",
        "p95",
        "var95",
        "cvar95",
        "var99",
        "cvar99",
        "by_branch",
        "by_mineral",
        "tornado",
        "monthly",
        "by_origin",
        "by_supplier",
        "switching",
        "landed_cost",
        "prices",
    ):
        assert key in payload, key
    assert isinstance(payload["mean"], float) and payload["p5"] <= payload["p50"] <= payload["p95"]  # type: ignore[operator]
    branches = payload["by_branch"]
    assert isinstance(branches, list) and len(branches) == 6
    assert sum(b["probability"] for b in branches) == pytest.approx(1.0)
    switching = payload["switching"]
    assert isinstance(switching, list) and switching[0]["to"] == "Hai Phong Rare Earth JSC"


def test_tables() -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            "pcmdp_window_2026",
            "--ledger",
            str(LEDGER),
            "--draws",
            "300",
            "--no-switching",
            "--price-scale",
            "0",
            "--volume-sd",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    for title in ("Annual policy cost", "By branch", "Monthly cost, fan bands", "Tornado", "CVaR 95%"):
        assert title in result.stdout, title


def test_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "pcmdp_window_2062", "--ledger", str(LEDGER)])
    assert result.exit_code == 2 and "is neither a shipped tree nor a file" in result.output
    result = runner.invoke(
        app, ["simulate", "pcmdp_window_2026", "--ledger", str(LEDGER), "--switch", "Nobody"]
    )
    assert result.exit_code == 2 and "FROM=TO" in result.output
    result = runner.invoke(
        app, ["simulate", "pcmdp_window_2026", "--ledger", str(LEDGER), "--switch", "X=Y", "--draws", "10"]
    )
    assert result.exit_code == 2 and "Supplier 'X' is not in the ledger" in result.output
