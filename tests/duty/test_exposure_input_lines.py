"""The exposure JSON says how many rows of the ledger file its totals leave out, and why."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from critmin.duty import api, evaluate
from critmin.policy.loader import MeasureSet
from critmin.policy.models import Measure

LEDGER = """\
line_id,entry_date,hts,country_origin,customs_value_usd,quantity,unit
L1,2026-03-10,8505.11.00.70,CN,100000,2000,kg
L2,2026-09-01,2846.90.20.40,AU,60000,1000,kg
L3,2026-09-01,2846.90.20.40,Narnia,70000,1000,kg
L4,2026-09-01,8505.11.00.80,XX,5000,10,kg
L2,2026-09-01,2846.90.20.40,AU,60000,1000,kg
L6,2026-09-01,7408.11.60.00,CL,80000,9000,kg
"""


@pytest.fixture
def flat() -> MeasureSet:
    """One hand-built 10 % duty on everything: the counts must not depend on the shipped scenarios."""
    ten = Measure.model_validate(
        {
            "id": "ten",
            "title": "Test measure",
            "status": "scenario",
            "authority": "other",
            "products": {"all": True},
            "rate": {"kind": "ad_valorem", "rate": 0.1},
            "citations": [
                {"document": "Test citation", "date": "2026-01-01", "url": "https://example.org/t"}
            ],
        }
    )
    return MeasureSet("test", "Hand-built measures", "test", (ten,))


def test_exposure_json_counts_quarantined_lines_by_code(tmp_path: Path, flat: MeasureSet) -> None:
    path = tmp_path / "entries.csv"
    path.write_text(LEDGER, encoding="utf-8")
    ledger = api.load_ledger(path)
    result = api.exposure(ledger, flat)
    doc = json.loads(result.payload_json())

    counts = doc["input_lines"]
    assert counts == {
        "in_file": 6,
        "evaluated": 3,
        "quarantined": 3,
        # L3 unknown country; L4 unknown HTS and unknown country (counted under both); the second L2 repeats
        "quarantined_by_code": {"country_unknown": 2, "duplicate_line": 1, "hts_unknown": 1},
    }
    assert counts["in_file"] == counts["evaluated"] + counts["quarantined"]
    # the totals are over the evaluated lines only, and say so
    assert doc["totals"]["lines"] == counts["evaluated"] == len(doc["lines"])
    assert doc["totals"]["customs_value"] == pytest.approx(100_000 + 60_000 + 80_000)
    assert doc["totals"]["duty"] == pytest.approx(24_000.0)
    assert json.loads(json.dumps(result.payload(), default=str)) == doc


def test_a_clean_file_says_nothing_was_left_out(tmp_path: Path, flat: MeasureSet) -> None:
    path = tmp_path / "clean.csv"
    path.write_text("\n".join(LEDGER.splitlines()[:3]) + "\n", encoding="utf-8")
    doc = api.exposure(api.load_ledger(path), flat).payload(include_lines=False)
    assert doc["input_lines"] == {
        "in_file": 2,
        "evaluated": 2,
        "quarantined": 0,
        "quarantined_by_code": {},
    }


def test_a_frame_given_to_the_engine_has_no_file_counts(flat: MeasureSet) -> None:
    frame = pl.DataFrame(
        {
            "line_id": ["x"],
            "entry_date": [date(2026, 3, 10)],
            "hts": ["8505110070"],
            "country_origin": ["CHN"],
            "customs_value_usd": [1_000.0],
        }
    )
    doc = evaluate(frame, flat).payload(include_lines=False)
    assert doc["input_lines"] == {
        "in_file": None,
        "evaluated": 1,
        "quarantined": None,
        "quarantined_by_code": None,
    }
