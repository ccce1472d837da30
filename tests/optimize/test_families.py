"""The model is built from named variable blocks and named constraint families, each documented."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from critmin.optimize.algebra import Variables
from critmin.optimize.families import FAMILIES, Family, build

from .conftest import option, periods

DOCS = Path(__file__).parents[2] / "docs" / "optimize.md"


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_each_family_states_its_inequality_and_is_documented(family: Family) -> None:
    name = family.__name__
    first = (family.__doc__ or "").splitlines()[0]
    assert first.startswith(f"{name}: ")
    assert re.search(r"[≤≥=]", first), f"{name}: the first docstring line should state the inequality"
    formula = first.removeprefix(f"{name}: ").split("   ")[0].strip()
    docs = DOCS.read_text(encoding="utf-8")
    assert f"| `{name}` | `{formula}` |" in docs, f"{name}: docs/optimize.md should show `{formula}`"


def test_variable_blocks_are_contiguous_and_masked() -> None:
    v = Variables()
    x = v.add("x", ("option", "period"), np.array([[True, False], [True, True]]))
    y = v.add("y", ("option",), np.array([False, True]), upper=1.0, integer=True)
    assert x.tolist() == [[0, -1], [1, 2]]
    assert y.tolist() == [-1, 3]
    assert v.size == 4 and v.integrality.tolist() == [0, 0, 0, 1]
    assert v.upper.tolist() == [np.inf, np.inf, np.inf, 1.0]
    solution = np.array([5.0, 6.0, 7.0, 1.0])
    assert v.values("x", solution).tolist() == [[5.0, 0.0], [6.0, 7.0]]
    assert [c.tolist() for c in v.coords("x", np.array([2, 1]))] == [[1, 1], [1, 0]]


def test_rows_are_read_back_by_family_and_coordinates() -> None:
    opts = [option("au", "Australia", 40, 120, min_order=60), option("jp", "Japan", 50, 200)]
    p = periods(
        opts, {"2026": 100, "2027": 0}, constraints={"max_share_feoc": 0.3}, risk_measure="concentration"
    )
    model = build(p)
    rows = model.rows
    # 2027 has no demand: no purchase variable, no demand row, no minimum-order row there
    assert (model.variables["x"][:, 1] == -1).all()
    labels = [rows.label(r) for r in range(rows.count)]
    assert labels == [
        "demand[ndfeb,2026]",
        "capacity[au,2026]",
        "capacity[jp,2026]",
        "min_order[au,2026]",
        "supply_link[au,2026]",
    ]  # no FEOC option, so the FEOC cap has no row
    assert list(rows.families) == ["demand", "capacity", "min_order", "supply_link"]
    assert rows.structural().tolist() == [False, False, False, False, True]
