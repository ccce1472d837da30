"""What a duty run returns: components (line x applied measure), per-line totals, issues and provenance.

``components`` has one row per line and applied measure (two for a line straddling a quota: in-quota and
over-quota). Amounts are in USD. ``amount`` is the headline content case (central unless asked otherwise);
``amount_low``/``amount_high`` use the low/high content factors and equal ``amount`` where content is known
or does not enter. ``payer`` is ``customs`` for duties and ``exporter`` for price undertakings; components of
invalidated measures are ``refund_eligible`` and are not part of ``duty``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

import polars as pl

from critmin.duty.refunds import refund_totals
from critmin.policy.currency import law_currency
from critmin.policy.loader import MeasureSet

if TYPE_CHECKING:
    from critmin.duty.reach import ScenarioReach

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


@dataclass(frozen=True)
class Emission:
    """One charge's component rows, kept compact until the components table is read.

    ``rows`` has the batch row number ``_row`` and the values that vary by line (``base_amount``, ``rate``,
    ``amount``, and only those of ``amount_low``/``amount_high``, ``specific_rate``, ``quantity``,
    ``reference_price``, ``unit_price`` and ``content_source`` the charge has). ``constants`` holds the
    fields that are the same on every row of the charge (``measure_id``, ``authority``, ``basis``,
    ``rate_unit``, ``payer``, ``citation``, ``status``, ``refund_eligible``, ``tranche``, ``precedence``).
    Spelling these out on millions of rows would cost more than computing the amounts, and totals,
    breakdowns by measure and the list of applied measures do not need it.
    """

    constants: dict[str, Any]
    rows: pl.DataFrame


ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "line_id": pl.String(),
    "measure_id": pl.String(),
    "code": pl.String(),
    "message": pl.String(),
}


def _emission_frame(emission: Emission, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An emission as component rows (``_row`` instead of ``line_id``), absent values filled in."""
    have = set(emission.rows.columns)
    columns: list[pl.Expr] = [pl.col("_row")]
    for name in COMPONENT_COLUMNS[1:]:
        if name in have:
            columns.append(pl.col(name))
        elif name in emission.constants:
            columns.append(pl.lit(emission.constants[name]).cast(schema[name]).alias(name))
        elif name in {"amount_low", "amount_high"}:
            columns.append(pl.col("amount").alias(name))  # content does not enter: the same in every case
        else:
            columns.append(pl.lit(None).cast(schema[name]).alias(name))
    return emission.rows.select(columns)


@dataclass
class DutyResult:
    measure_set: MeasureSet
    as_of: date | None
    content_case: str
    emissions: list[Emission]
    component_schema: dict[str, pl.DataType]
    """dtypes of the components table (its enums list this run's measures, citations and rate units)."""
    lines: pl.DataFrame
    issues: pl.DataFrame
    quota_fill: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    datasets: dict[str, dict[str, str]] = field(default_factory=dict)
    reference_prices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Each price floor's reference-price table as used (own entries and shipped prices), with sources."""
    refund_today: date | None = None
    """The day refund statuses are judged on (protest windows); None: today."""
    input_lines: dict[str, Any] | None = None
    """How the ledger file's rows came to the evaluated lines (``in_file``, ``quarantined``,
    ``quarantined_by_code``), set by :func:`critmin.duty.api.exposure`; None when the engine was given a
    frame, not a file."""

    # ------------------------------------------------------------------------------------------ components

    @cached_property
    def components(self) -> pl.DataFrame:
        """One row per line and applied measure (two for a line straddling a quota), in measure order."""
        frames = [_emission_frame(e, self.component_schema) for e in self.emissions]
        if not frames:
            return pl.DataFrame(schema={name: self.component_schema[name] for name in COMPONENT_COLUMNS})
        rows = pl.concat(frames, how="vertical")
        line_ids = self.lines.get_column("line_id").gather(rows.get_column("_row"))
        return rows.select(line_ids.alias("line_id"), *COMPONENT_COLUMNS[1:])

    @property
    def component_count(self) -> int:
        return sum(e.rows.height for e in self.emissions)

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
        sums: dict[str, float] = {}
        for e in self.emissions:
            c = e.constants
            if c["payer"] == payer and c["refund_eligible"] == refund_eligible:
                amount = e.rows.get_column("amount").sum()
                sums[c["measure_id"]] = sums.get(c["measure_id"], 0.0) + float(amount or 0.0)
        return dict(sorted(sums.items()))

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
            "refund_by_status": refund_totals(self.lines, self.refund_today or date.today()),
            "unavailable_value": float(sums["unavailable_value"] or 0.0),
            "lines": self.lines.height,
            "issues": self.issues.height,
        }

    # ---------------------------------------------------------------------------------------- provenance

    def measures_used(self) -> list[dict[str, Any]]:
        applied = {e.constants["measure_id"] for e in self.emissions if e.rows.height}
        out = []
        for m in self.measure_set.measures:
            entry: dict[str, Any] = {
                "measure_id": m.id,
                "title": m.title,
                "authority": m.authority.value,
                "status": m.status.value,
                "window": m.window_text(),
                "headings": list(m.headings),
                "verification": m.verification,
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
            "law": law_currency().as_dict(),
        }

    # ---------------------------------------------------------------------------------------------- JSON

    def _line_frame(self, line_ids: list[str] | None = None) -> pl.DataFrame:
        """The ``lines`` array of the JSON output as a frame (every line, in ledger order, with its
        components in stacking order; amounts rounded to 6 decimals)."""
        lines = self.lines if line_ids is None else self.lines.filter(pl.col("line_id").is_in(line_ids))
        comps = self.components
        if line_ids is not None:
            comps = comps.filter(pl.col("line_id").is_in(line_ids))
        comps = comps.sort(["line_id", "precedence", "measure_id", "tranche"], nulls_last=True).select(
            "line_id",
            pl.struct(
                pl.col("measure_id").cast(pl.String),
                pl.col("basis").cast(pl.String),
                pl.col("base_amount").round(6),
                pl.col("rate").round(6),
                pl.col("amount").round(6),
                pl.col("citation").cast(pl.String),
                pl.col("authority").cast(pl.String),
                pl.col("payer").cast(pl.String),
                pl.col("status").cast(pl.String),
                pl.col("tranche").cast(pl.String),
                pl.col("amount_low").round(6),
                pl.col("amount_high").round(6),
            ).alias("components"),
        )
        grouped = comps.group_by("line_id", maintain_order=True).agg(pl.col("components"))
        joined = lines.select("line_id", "duty", "duty_low", "duty_high").join(
            grouped, on="line_id", how="left", maintain_order="left"
        )
        return joined.select(
            "line_id",
            pl.col("duty").round(6),
            pl.col("components").fill_null(pl.lit([], dtype=grouped.schema["components"])),
            pl.col("duty_low").round(6),
            pl.col("duty_high").round(6),
        )

    def line_payload(self, line_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """The ``lines`` array of the JSON output (every line, in ledger order, with its components)."""
        return list(json.loads(self._line_frame(line_ids).write_json()))

    def lines_json(self) -> str:
        """:meth:`line_payload` as JSON text, one line object per text line. Written by Polars: for a
        ledger of 200,000 lines this takes about a second, where building Python objects and dumping them
        took 20."""
        rows = self._line_frame().write_ndjson().rstrip("\n")
        return "[\n" + rows.replace("\n", ",\n") + "\n]" if rows else "[]"

    def line_counts(self) -> dict[str, Any]:
        """The ``input_lines`` object of the JSON output: rows of the ledger file, lines evaluated (what every
        total is over), rows quarantined and left out, and quarantined rows per quarantine code (a row with
        two problems counts under both). Without a file (a frame given to the engine) only ``evaluated`` is
        known; the other counts are null."""
        given = self.input_lines or {}
        by_code = given.get("quarantined_by_code")
        return {
            "in_file": given.get("in_file"),
            "evaluated": self.lines.height,
            "quarantined": given.get("quarantined"),
            "quarantined_by_code": dict(sorted(by_code.items())) if by_code is not None else None,
        }

    def reach(self) -> ScenarioReach | None:
        """How many lines the scenario's own measures reach and why the others are not reached
        (:func:`critmin.duty.reach.scenario_reach`; None for a run of the in-force library alone)."""
        from critmin.duty.reach import scenario_reach

        return scenario_reach(self)

    def payload(self, *, include_lines: bool = True) -> dict[str, Any]:
        """The JSON document of ``critmin exposure --format json``."""
        out: dict[str, Any] = {
            "scenario": self.measure_set.id,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "input_lines": self.line_counts(),
            "scenario_reach": reach.as_dict() if (reach := self.reach()) is not None else None,
            "totals": self.totals(),
            "lines": self.line_payload() if include_lines else [],
            "provenance": self.provenance(),
        }
        return out

    def payload_json(self) -> str:
        """:meth:`payload` as JSON text (indented, the lines one object per text line)."""
        marker = "__critmin_lines__"
        document = self.payload(include_lines=False)
        document["lines"] = marker
        text = json.dumps(document, indent=2, default=str)
        return text.replace(f'"{marker}"', self.lines_json(), 1) + "\n"
