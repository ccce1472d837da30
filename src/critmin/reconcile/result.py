"""A reconciliation: paid next to owed per line and heading, fees per entry, refunds, and their totals.

Totals compare like with like: duty paid against duty owed over the slots whose owed amount is known
(duty paid where critmin cannot compute the owed amount is reported apart); MPF and HMF against their own
owed amounts over the entries whose fee is known and exported; refundable IEEPA duty (what was paid under
those headings) by refund status. The duty owed includes duties of invalidated measures as they were
assessed at entry, because that is what the paid amounts include; what can come back is in the refunds.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
import xlsxwriter

from critmin.policy.currency import law_currency
from critmin.policy.loader import MeasureSet
from critmin.reconcile.ace import AceExport
from critmin.reconcile.layout import ACE_DOCUMENT, ACE_DOCUMENT_URL
from critmin.reconcile.refunds import cape_csv, cape_entries, cape_frame, entry_deadlines, refund_totals
from critmin.reconcile.variance import CAUSE_TEXT, Cause
from critmin.spreadsheet import WORKBOOK_OPTIONS

_NO_DOLLARS = (Cause.match.value, Cause.rounding.value)


@dataclass
class Reconciliation:
    """The result of :func:`critmin.reconcile.reconcile` (see the module docstring)."""

    export: AceExport
    measure_set: MeasureSet
    today: date
    slots: pl.DataFrame
    """one row per entry line and slot (column 1 or a Chapter 99 heading): paid, owed, variance, cause"""
    lines: pl.DataFrame
    """one row per entry line: paid, owed, variance, the causes that are not a match"""
    fees: pl.DataFrame
    """one row per entry summary and fee (MPF, HMF)"""
    refunds: pl.DataFrame
    """one row per entry line and refundable heading paid, with status and protest deadline"""

    # ------------------------------------------------------------------------------------------- tables

    @property
    def variances(self) -> pl.DataFrame:
        """The slots that are not a match (a heading reported on one side only counts even at $0)."""
        return self.slots.filter(~pl.col("cause").is_in(_NO_DOLLARS))

    def by_cause(self) -> pl.DataFrame:
        """Slots, lines and dollars per cause, in the order of :class:`Cause`."""
        order = pl.DataFrame({"cause": [c.value for c in Cause], "_order": list(range(len(Cause)))})
        return (
            self.slots.group_by("cause")
            .agg(
                pl.len().cast(pl.Int64).alias("slots"),
                pl.col("line_id").n_unique().cast(pl.Int64).alias("lines"),
                pl.col("paid").sum().round(2).alias("paid"),
                pl.col("expected").sum().round(2).alias("expected"),
                pl.col("variance").sum().round(2).alias("variance"),
            )
            .join(order, on="cause", how="left")
            .sort("_order")
            .drop("_order")
            .with_columns(
                pl.col("cause")
                .replace_strict({c.value: t for c, t in CAUSE_TEXT.items()}, default="")
                .alias("meaning")
            )
        )

    def by_measure(self) -> pl.DataFrame:
        """Variance per measure (the measure of each slot), largest difference first."""
        return (
            self.slots.filter(pl.col("variance").abs() >= 0.005)
            .group_by("measure_id", "slot")
            .agg(
                pl.len().cast(pl.Int64).alias("slots"),
                pl.col("paid").sum().round(2).alias("paid"),
                pl.col("expected").sum().round(2).alias("expected"),
                pl.col("variance").sum().round(2).alias("variance"),
                pl.col("cause").unique().sort().str.join(", ").alias("causes"),
            )
            .sort(pl.col("variance").abs(), descending=True)
        )

    def deadlines(self, within_days: int) -> pl.DataFrame:
        """Refundable lines whose protest window closes within ``within_days`` days of ``today`` (the
        monitor's alert: act before the deadline), soonest first."""
        return self.refunds.filter(
            (pl.col("status") == "protest_window") & (pl.col("days_left") <= within_days)
        ).sort("protest_deadline", "entry_number", "line_number")

    def entry_deadlines(self, within_days: int | None = None) -> pl.DataFrame:
        """The same deadlines per entry (a protest is filed per entry), with the refundable dollars:
        :func:`critmin.reconcile.refunds.entry_deadlines`."""
        return entry_deadlines(self.refunds, within_days)

    # ------------------------------------------------------------------------------------------- totals

    def totals(self) -> dict[str, Any]:
        """The headline numbers (see the module docstring for what is compared with what)."""
        known = self.slots.filter(pl.col("variance").is_not_null())
        unknown = self.slots.filter(pl.col("variance").is_null())
        fees = {}
        for fee in ("MPF", "HMF"):
            rows = self.fees.filter(pl.col("fee") == fee)
            compared = rows.filter(pl.col("variance").is_not_null())
            fees[fee.lower()] = {
                "paid": _sum(compared, "paid"),
                "expected": _sum(compared, "expected"),
                "variance": _sum(compared, "variance"),
                "entries_compared": compared.height,
                "entries_not_compared": rows.height - compared.height,
            }
        refunds = refund_totals(self.refunds)
        duty_paid = _sum(known, "paid")
        duty_expected = _sum(known, "expected")
        fee_paid = fees["mpf"]["paid"] + fees["hmf"]["paid"]
        fee_expected = fees["mpf"]["expected"] + fees["hmf"]["expected"]
        return {
            "duty": {
                "paid": duty_paid,
                "expected": duty_expected,
                "variance": round(duty_paid - duty_expected, 2) + 0.0,
                "overpaid": _sum(known.filter(pl.col("variance") > 0), "variance"),
                "underpaid": round(-_sum(known.filter(pl.col("variance") < 0), "variance"), 2) + 0.0,
                "paid_not_compared": _sum(unknown, "paid"),
                "slots_not_compared": unknown.height,
            },
            "fees": fees,
            "paid_total": round(duty_paid + fee_paid, 2),
            "expected_total": round(duty_expected + fee_expected, 2),
            "variance_total": round(duty_paid + fee_paid - duty_expected - fee_expected, 2) + 0.0,
            "refundable": round(sum(refunds.values()), 2),
            "refund_by_status": refunds,
            "cape_entries": len(cape_entries(self.refunds)),
            "by_cause": {
                str(r["cause"]): {"slots": r["slots"], "variance": r["variance"]}
                for r in self.by_cause().to_dicts()
            },
            "lines": self.lines.height,
            "entries": self.export.entries.height,
            "variances": self.variances.height,
        }

    # -------------------------------------------------------------------------------------------- output

    def provenance(self) -> dict[str, Any]:
        """Where the numbers come from: the file, the layout read, the measures and the law's currency."""
        used = set(self.slots.get_column("measure_id").drop_nulls().to_list())
        return {
            "file": str(self.export.source.path),
            "sha256": self.export.source.sha256,
            "layout": {
                "document": ACE_DOCUMENT,
                "url": ACE_DOCUMENT_URL,
                "mapping": self.export.mapping.as_dict(),
            },
            "date_order": self.export.date_order,
            "measure_set": self.measure_set.id,
            "measures": [
                {
                    "measure_id": m.id,
                    "title": m.title,
                    "status": m.status.value,
                    "headings": list(m.headings),
                    "verification": m.verification,
                    "citations": [
                        {"document": c.document, "date": c.date.isoformat(), "url": c.url}
                        for c in m.citations
                    ],
                }
                for m in self.measure_set.measures
                if m.id in used
            ],
            "law": law_currency().as_dict(),
            "today": self.today.isoformat(),
        }

    def payload(self) -> dict[str, Any]:
        """The JSON document of ``critmin reconcile --format json``."""
        return {
            "input": self.export.counts(),
            "totals": self.totals(),
            "by_cause": self.by_cause().to_dicts(),
            "slots": _records(self.slots),
            "lines": _records(self.lines),
            "fees": _records(self.fees),
            "refunds": _records(self.refunds),
            "quarantine": _records(self.export.quarantine),
            "warnings": _records(self.export.issues.filter(pl.col("severity") == "warning")),
            "provenance": self.provenance(),
        }

    def payload_json(self) -> str:
        return json.dumps(self.payload(), indent=2, default=str) + "\n"

    def cape_csv(self) -> str:
        """The CAPE-ready CSV of refundable lines (:func:`critmin.reconcile.refunds.cape_csv`)."""
        return cape_csv(self.refunds)

    def cape_entries(self) -> list[str]:
        """Entry numbers with IEEPA duty refundable through CAPE now."""
        return cape_entries(self.refunds)

    def sheets(self) -> dict[str, pl.DataFrame]:
        """The workbook's sheets, in order."""
        t = self.totals()
        summary = pl.DataFrame(
            {
                "item": [
                    "duty paid",
                    "duty owed",
                    "duty variance (paid - owed)",
                    "duty paid where owed is unknown",
                    "MPF paid",
                    "MPF owed",
                    "HMF paid",
                    "HMF owed",
                    "total variance",
                    *(f"refundable: {k.replace('_', ' ')}" for k in t["refund_by_status"]),
                ],
                "usd": [
                    t["duty"]["paid"],
                    t["duty"]["expected"],
                    t["duty"]["variance"],
                    t["duty"]["paid_not_compared"],
                    t["fees"]["mpf"]["paid"],
                    t["fees"]["mpf"]["expected"],
                    t["fees"]["hmf"]["paid"],
                    t["fees"]["hmf"]["expected"],
                    t["variance_total"],
                    *t["refund_by_status"].values(),
                ],
            }
        )
        return {
            "Summary": summary,
            "By cause": self.by_cause(),
            "By measure": self.by_measure(),
            "Variances": self.variances,
            "Slots": self.slots,
            "Lines": self.lines.with_columns(pl.col("causes").list.join(", ")),
            "Fees": self.fees,
            "Refunds": self.refunds,
            "CAPE": cape_frame(self.refunds),
            "Quarantine": self.export.quarantine,
        }

    def write_xlsx(self, path: Path | BinaryIO) -> None:
        """One workbook with every table; text is written as text (never a formula or a link).

        ``path`` may be an open binary file, so the dashboard can serve the workbook without a file."""
        target = str(path) if isinstance(path, Path) else path
        with xlsxwriter.Workbook(target, WORKBOOK_OPTIONS) as workbook:
            for name, frame in self.sheets().items():
                frame.write_excel(workbook=workbook, worksheet=name, autofit=True)

    def xlsx_bytes(self) -> bytes:
        """The workbook of :meth:`write_xlsx`, in memory."""
        buffer = io.BytesIO()
        self.write_xlsx(buffer)
        return buffer.getvalue()


def _sum(frame: pl.DataFrame, column: str) -> float:
    value = frame.get_column(column).sum() if frame.height else 0.0
    return round(float(value or 0.0), 2) + 0.0  # never -0.0


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return list(json.loads(frame.write_json()))


__all__ = ["Reconciliation"]
