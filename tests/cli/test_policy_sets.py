"""`--set` on a rate: 40% and 0.40 mean the same; a bare 40 is refused instead of priced as 4,000%."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Invoke

SCENARIO = ["-s", "s232_tariff_non_partners", "--as-of", "2027-03-01", "--no-record", "--format", "json"]


def _duty(invoke: Invoke, entries: Path, rate: str) -> tuple[float, float]:
    result = invoke("exposure", entries, *SCENARIO, "--set", f"rate={rate}")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    return payload["totals"]["duty"], payload["provenance"]["parameters"]["rate"]["value"]


def test_percent_and_fraction_price_the_same(invoke: Invoke, entries: Path) -> None:
    percent, fraction = _duty(invoke, entries, "40%"), _duty(invoke, entries, "0.40")
    assert percent == pytest.approx(fraction)
    assert percent[1] == pytest.approx(0.4)
    assert percent[0] > _duty(invoke, entries, "25%")[0]


@pytest.mark.parametrize(("typed", "hint"), [("40", "write 40% or 0.40"), ("2.5", "write 2.5% or 0.025")])
def test_a_bare_number_above_one_is_refused_with_the_fix(
    invoke: Invoke, entries: Path, typed: str, hint: str
) -> None:
    result = invoke("exposure", entries, *SCENARIO, "--set", f"rate={typed}")
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert hint in said and "a bare number for a rate is a fraction of 1" in said
    assert result.stdout == ""


def test_policy_commands_read_rates_the_same_way(invoke: Invoke) -> None:
    shown = invoke("policy", "show", "s232_tariff_non_partners", "--set", "rate=40%", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["parameters"]["rate"]["value"] == pytest.approx(0.4)
    refused = invoke("policy", "show", "s232_tariff_non_partners", "--set", "rate=40")
    assert refused.exit_code == 2 and "40% or 0.40" in refused.stderr


def test_other_parameters_keep_their_units(invoke: Invoke) -> None:
    result = invoke("policy", "show", "trq", "--set", "quota_kg=150000", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["parameters"]["quota_kg"]["value"] == 150000
