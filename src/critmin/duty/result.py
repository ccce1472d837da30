"""What a duty run returns: components (line x applied measure), per-line totals, issues and provenance.

``components`` has one row per line and applied measure (two for a line straddling a quota: in-quota and
over-quota). Amounts are in USD. ``amount`` is the headline content case (central unless asked otherwise);
``amount_low``/``amount_high`` use the low/high content factors and equal ``amount`` where content is known
or does not enter. ``payer`` is ``customs`` for duties and ``exporter`` for price undertakings; components of
invalidated measures are ``refund_eligible`` and are not part of ``duty``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from critmin.policy.loader import MeasureSet

COMPONENT_COLUMNS: tuple[str, ...] = (
    "line_id",
    "measure_id",
    "authority",
    "basis",
    "base_amount",
    "rate",
    "rate_unit",
    "specific_rate",
    "quantity",
    "amount",
    "amount_low",
    "amount_high",
    "payer",
    "citation",
    "status",
    "refund_eligible",
    "tranche",
    "reference_price",
    "unit_price",
    "content_source",
    "precedence",
)

ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "line_id": pl.String(),
    "measure_id": pl.String(),
    "code": pl.String(),
    "message": pl.String(),
}


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    return value


@dataclass
class DutyResult:
    measure_set: MeasureSet
    as_of: date | None
    content_case: str
    components: pl.DataFrame
    lines: pl.DataFrame
    issues: pl.DataFrame
    quota_fill: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    datasets: dict[str, dict[str, str]] = field(default_factory=dict)
    reference_prices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Each price floor's reference-price table as used (own entries and shipped prices), with sources."""

    # --------------------------------------------------------------------------------------------- totals

    def by(self, column: str) -> dict[str, float]:
        """Duty summed by a line column (mineral_id, country_origin, supplier); nulls as unmapped/unknown."""
        label = "unmapped" if column == "mineral_id" else "unknown"
        grouped = (
            self.lines.group_by(pl.col(column).cast(pl.String).fill_null(label))
            .agg(pl.col("duty").sum())
            .sort(column)
        )
        return {str(k): float(v) for k, v in grouped.iter_rows()}

    def by_measure(self, *, payer: str = "customs", refund_eligible: bool = False) -> dict[str, float]:
        parts = self.components.filter(
            (pl.col("payer") == payer) & (pl.col("refund_eligible") == refund_eligible)
        )
        grouped = (
            parts.group_by(pl.col("measure_id").cast(pl.String))
            .agg(pl.col("amount").sum())
            .sort("measure_id")
        )
        return {str(k): float(v) for k, v in grouped.iter_rows()}

    def totals(self) -> dict[str, Any]:
        sums = self.lines.select(
            pl.col("customs_value_usd").sum(),
            pl.col("duty").sum(),
            pl.col("duty_low").sum(),
            pl.col("duty_high").sum(),
            pl.col("paid_to_exporter").sum(),
            pl.col("refund_eligible").sum(),
            pl.col("unavailable_value").sum(),
        ).row(0, named=True)
        return {
            "customs_value": float(sums["customs_value_usd"] or 0.0),
            "duty": float(sums["duty"] or 0.0),
            "by_measure": self.by_measure(),
            "by_mineral": self.by("mineral_id"),
            "by_origin": self.by("country_origin"),
            "duty_low": float(sums["duty_low"] or 0.0),
            "duty_high": float(sums["duty_high"] or 0.0),
            "paid_to_exporter": float(sums["paid_to_exporter"] or 0.0),
            "refund_eligible": float(sums["refund_eligible"] or 0.0),
            "unavailable_value": float(sums["unavailable_value"] or 0.0),
            "lines": self.lines.height,
            "issues": self.issues.height,
        }

    # ---------------------------------------------------------------------------------------- provenance

    def measures_used(self) -> list[dict[str, Any]]:
        applied = set(self.components.get_column("measure_id").cast(pl.String).unique().to_list())
        out = []
        for m in self.measure_set.measures:
            entry: dict[str, Any] = {
                "measure_id": m.id,
                "title": m.title,
                "authority": m.authority.value,
                "status": m.status.value,
                "window": m.window_text(),
                "applied": m.id in applied,
                "citations": [
                    {"document": c.document, "date": c.date.isoformat(), "url": c.url} for c in m.citations
                ],
            }
            if m.id in self.reference_prices:
                entry["reference_prices"] = self.reference_prices[m.id]
            out.append(entry)
        return out

    def provenance(self) -> dict[str, Any]:
        return {
            "scenario": self.measure_set.id,
            "scenario_title": self.measure_set.title,
            "parameters": {
                p.name: {
                    "value": p.value,
                    "example": p.example,
                    "overridden": p.overridden,
                    "description": p.description,
                }
                for p in self.measure_set.parameters.values()
            },
            "measures": self.measures_used(),
            "datasets": self.datasets,
            "sources": [{"path": s.path, "sha256": s.sha256} for s in self.measure_set.sources],
            "notes": self.notes,
        }

    # ---------------------------------------------------------------------------------------------- JSON

    def line_payload(self, line_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """The ``lines`` array of the JSON output (every line, in ledger order, with its components)."""
        lines = self.lines if line_ids is None else self.lines.filter(pl.col("line_id").is_in(line_ids))
        comps = self.components
        if line_ids is not None:
            comps = comps.filter(pl.col("line_id").is_in(line_ids))
        comps = comps.sort(["line_id", "precedence", "measure_id", "tranche"], nulls_last=True).select(
            "line_id",
            pl.struct(
                pl.col("measure_id").cast(pl.String),
                pl.col("basis").cast(pl.String),
                "base_amount",
                "rate",
                "amount",
                pl.col("citation").cast(pl.String),
                pl.col("authority").cast(pl.String),
                pl.col("payer").cast(pl.String),
                pl.col("status").cast(pl.String),
                pl.col("tranche").cast(pl.String),
                "amount_low",
                "amount_high",
            ).alias("component"),
        )
        grouped = comps.group_by("line_id", maintain_order=True).agg(pl.col("component"))
        joined = lines.select("line_id", "duty", "duty_low", "duty_high").join(
            grouped, on="line_id", how="left"
        )
        out = []
        for row in joined.iter_rows(named=True):
            components = [{k: _round(v) for k, v in c.items()} for c in (row["component"] or [])]
            out.append(
                {
                    "line_id": row["line_id"],
                    "duty": _round(row["duty"]),
                    "components": components,
                    "duty_low": _round(row["duty_low"]),
                    "duty_high": _round(row["duty_high"]),
                }
            )
        return out

    def payload(self, *, include_lines: bool = True) -> dict[str, Any]:
        """The JSON document of ``critmin exposure --format json``."""
        out: dict[str, Any] = {
            "scenario": self.measure_set.id,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "totals": self.totals(),
            "lines": self.line_payload() if include_lines else [],
            "provenance": self.provenance(),
        }
        return out
