"""Two runs of the same ledger side by side: the dollar difference by line, mineral, origin and supplier.

Both results must come from the same lines (the same ledger, possibly re-dated); the difference is
``b - a``, so comparing status quo (a) with a scenario (b) shows what the scenario adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from critmin.duty.result import DutyResult
from critmin.errors import InputError

DIMENSIONS: dict[str, str] = {
    "line": "line_id",
    "mineral": "mineral_id",
    "origin": "country_origin",
    "supplier": "supplier",
}


@dataclass
class Comparison:
    a: DutyResult
    b: DutyResult
    tables: dict[str, pl.DataFrame]

    def totals(self) -> dict[str, Any]:
        ta, tb = self.a.totals(), self.b.totals()
        keys = (
            "customs_value",
            "duty",
            "duty_low",
            "duty_high",
            "paid_to_exporter",
            "refund_eligible",
            "unavailable_value",
        )
        return {
            "a": {k: ta[k] for k in keys},
            "b": {k: tb[k] for k in keys},
            "difference": {k: tb[k] - ta[k] for k in keys},
        }

    def payload(self, *, include_lines: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scenarios": [self.a.measure_set.id, self.b.measure_set.id],
            "as_of": self.a.as_of.isoformat() if self.a.as_of else None,
            "scenario_reach": [
                r.as_dict() if (r := x.reach()) is not None else None for x in (self.a, self.b)
            ],
            "totals": self.totals(),
        }
        for name, table in self.tables.items():
            if name == "line" and not include_lines:
                continue
            out[f"by_{name}"] = table.to_dicts()
        return out


def compare(a: DutyResult, b: DutyResult) -> Comparison:
    """Per line, mineral, origin and supplier: duty under ``a``, under ``b`` and the difference."""
    la, lb = a.lines, b.lines
    if la.height != lb.height or not la.get_column("line_id").equals(lb.get_column("line_id")):
        raise InputError(
            "The two results are not of the same ledger lines; evaluate one ledger under both scenarios."
        )
    both = la.select(*DIMENSIONS.values(), "customs_value_usd", pl.col("duty").alias("duty_a")).with_columns(
        lb.get_column("duty").alias("duty_b")
    )
    tables: dict[str, pl.DataFrame] = {}
    for name, column in DIMENSIONS.items():
        label = "unmapped" if column == "mineral_id" else "unknown"
        grouped = (
            both.group_by(pl.col(column).cast(pl.String).fill_null(label)).agg(
                pl.col("customs_value_usd").sum(), pl.col("duty_a").sum(), pl.col("duty_b").sum()
            )
            if name != "line"
            else both.select("line_id", "customs_value_usd", "duty_a", "duty_b")
        )
        grouped = grouped.with_columns((pl.col("duty_b") - pl.col("duty_a")).alias("difference"))
        tables[name] = grouped.sort(["difference", column], descending=[True, False])
    return Comparison(a, b, tables)
