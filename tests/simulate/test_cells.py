"""Placing the ledger on the tree's horizon (one typical year) and grouping lines into cells."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest

from critmin.errors import InputError
from critmin.simulate.cells import Horizon, cells, place


def _ledger(kit: Any, rows: list[tuple[str, dt.date, float, str]]) -> pl.DataFrame:
    return kit.ledger(
        [
            kit.line(i, day, kit.oxide, "CHN", supplier, 10.0, usd)
            for i, (_, day, usd, supplier) in enumerate(rows)
        ]
    )


def test_lines_keep_month_and_day_and_are_weighted_by_the_years_the_ledger_covers(kit: Any) -> None:
    # The ledger spans 2024-07 .. 2025-12 (18 months): July to December occur twice (weight 1/2),
    # January to June once (weight 1).
    frame = _ledger(
        kit,
        [
            ("jul-24", dt.date(2024, 7, 10), 1000.0, "A"),
            ("jul-25", dt.date(2025, 7, 20), 3000.0, "A"),
            ("feb-25", dt.date(2025, 2, 28), 500.0, "A"),
            ("dec-24", dt.date(2024, 12, 31), 200.0, "B"),
            ("dec-25", dt.date(2025, 12, 20), 800.0, "B"),
        ],
    )
    placed = place(frame, Horizon.of(dt.date(2026, 7, 1), 12))
    got = placed.frame.select(
        "source_line_id", "entry_date", "customs_value_usd", "quantity_kg", "weight", "month"
    )
    assert got.rows() == [
        ("L0", dt.date(2026, 7, 10), 500.0, 5.0, 0.5, 0),  # 1000 x 1/2
        ("L1", dt.date(2026, 7, 20), 1500.0, 5.0, 0.5, 0),  # 3000 x 1/2
        ("L4", dt.date(2026, 12, 20), 400.0, 5.0, 0.5, 5),  # 800 x 1/2
        ("L3", dt.date(2026, 12, 31), 100.0, 5.0, 0.5, 5),  # 200 x 1/2
        ("L2", dt.date(2027, 2, 28), 500.0, 10.0, 1.0, 7),  # January-June occur once
    ]
    # rows are in entry-date order and line_id is the row number (what the engine sees)
    assert placed.frame.get_column("line_id").to_list() == ["0", "1", "2", "3", "4"]
    # annual total = 1000/2 + 3000/2 + 500 + 200/2 + 800/2
    assert placed.frame.get_column("customs_value_usd").sum() == pytest.approx(3000.0)


def test_latest_basis_keeps_the_last_twelve_months_unweighted(kit: Any) -> None:
    frame = _ledger(
        kit,
        [
            ("old", dt.date(2024, 7, 10), 1000.0, "A"),
            ("new", dt.date(2025, 7, 20), 3000.0, "A"),
            ("end", dt.date(2025, 12, 20), 800.0, "A"),
        ],
    )
    placed = place(frame, Horizon.of(dt.date(2026, 7, 1), 12), "latest")
    assert placed.frame.select("source_line_id", "customs_value_usd").rows() == [
        ("L1", 3000.0),
        ("L2", 800.0),
    ]
    assert placed.notes == []
    # a ledger spanning July-December says the other months carry no imports
    short = place(frame[1:], Horizon.of(dt.date(2026, 7, 1), 12))
    assert any(
        "covers 6 calendar month(s)" in note and "(Jan, Feb, Mar, Apr, May, Jun)" in note
        for note in short.notes
    )


def test_leap_day_and_a_horizon_starting_mid_month(kit: Any) -> None:
    frame = _ledger(kit, [("leap", dt.date(2024, 2, 29), 100.0, "A")])
    placed = place(frame, Horizon.of(dt.date(2026, 7, 1), 12))
    assert placed.frame.get_column("entry_date").to_list() == [dt.date(2027, 2, 28)]

    horizon = Horizon.of(dt.date(2026, 7, 14), 12)  # 2026-07-14 .. 2027-07-13: July occurs at both ends
    assert horizon.labels[0] == "2026-07" and horizon.labels[-1] == "2027-07" and horizon.size == 13
    frame = _ledger(
        kit, [("early", dt.date(2025, 7, 5), 100.0, "A"), ("late", dt.date(2025, 7, 20), 100.0, "A")]
    )
    placed = place(frame, horizon)
    assert placed.frame.select("entry_date", "month").rows() == [
        (dt.date(2026, 7, 20), 0),
        (dt.date(2027, 7, 5), 12),
    ]


def test_lines_outside_the_horizon_and_missing_columns(kit: Any) -> None:
    frame = _ledger(kit, [("jan", dt.date(2025, 1, 5), 100.0, "A")])
    with pytest.raises(InputError, match="No ledger line falls in the simulated months"):
        place(frame, Horizon.of(dt.date(2026, 7, 1), 3))  # July-September only
    two = _ledger(kit, [("jan", dt.date(2025, 1, 5), 100.0, "A"), ("aug", dt.date(2025, 8, 5), 100.0, "A")])
    placed = place(two, Horizon.of(dt.date(2026, 7, 1), 3))
    assert placed.n == 1
    assert any("1 ledger line(s) fall in calendar months outside" in n for n in placed.notes)
    with pytest.raises(InputError, match="lacks column"):
        place(frame.drop("customs_value_usd"), Horizon.of(dt.date(2026, 7, 1), 12))


def test_cells_group_hts_origin_mineral_supplier_month(kit: Any) -> None:
    frame = _ledger(
        kit,
        [
            ("a", dt.date(2025, 8, 1), 100.0, "A"),
            ("b", dt.date(2025, 8, 20), 50.0, "A"),  # same cell as a
            ("c", dt.date(2025, 8, 21), 70.0, "B"),  # another supplier
            ("d", dt.date(2025, 9, 1), 30.0, "A"),  # another month
        ],
    )
    placed = place(frame, Horizon.of(dt.date(2026, 7, 1), 12))
    minerals = pl.DataFrame(
        {
            "mineral_id": ["rare_earths", "rare_earths", "rare_earths", None],
            "stage": ["oxide_salt_compound"] * 4,
        }
    )
    grid = cells(placed, minerals)
    assert grid.minerals == ("rare_earths", "unmapped")
    table = grid.table.select("supplier", "mineral_id", "month", "customs_value_usd", "lines")
    assert table.rows() == [
        ("A", "rare_earths", 1, 150.0, 2),
        ("B", "rare_earths", 1, 70.0, 1),
        ("A", "unmapped", 2, 30.0, 1),
    ]
    np.testing.assert_array_equal(grid.line_cell, [0, 0, 1, 2])
    np.testing.assert_array_equal(grid.line_mineral, [0, 0, 0, 1])
