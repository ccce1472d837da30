"""The canonical ledger: one row per customs entry line, whatever file it came from.

Every engine (duty, risk, simulation, optimisation, monitor) reads this schema and nothing else, so it is
the contract between ingestion and the rest of critmin. Documented for users in ``docs/ledger.md``.
"""

from __future__ import annotations

import polars as pl

from critmin.refdata.scope import CLASSIFICATION_SCHEMA

__all__ = [
    "CLASSIFICATION_SCHEMA",
    "LEDGER_COLUMNS",
    "LEDGER_SCHEMA",
    "QUARANTINE_SCHEMA",
    "REQUIRED_COLUMNS",
    "conform",
    "empty_ledger",
]

LEDGER_SCHEMA: dict[str, pl.DataType] = {
    # identity and provenance
    "line_id": pl.String(),  # stable id: given by the user, else "<file stem>:<row>"
    "entry_number": pl.String(),  # CBP entry number (may repeat across lines)
    "source_file": pl.String(),
    "source_row": pl.Int64(),  # 1-based row number in the source file (header = its own row)
    # when and what
    "entry_date": pl.Date(),
    "hts": pl.String(),  # digits only, 10 (or 8/6 when the user gave fewer); validated against the schedule
    "description": pl.String(),
    # where from
    "country_origin": pl.String(),  # ISO 3166 alpha-3
    "country_export": pl.String(),  # ISO 3166 alpha-3, null when not given
    "country_smelt_cast": pl.String(),  # ISO3, for Section 232 metals; null when not given
    "supplier": pl.String(),
    # how much and what it is worth
    "quantity": pl.Float64(),  # in `unit`
    "unit": pl.String(),  # canonical unit code: kg, g, t, lb, troy_oz, no (number), l, m, m2, m3, W, ...
    "quantity_kg": pl.Float64(),  # mass in kg when `unit` is a mass, else null
    "customs_value_usd": pl.Float64(),
    # preferences and content
    "preference_program": pl.String(),  # HTS special-programme code claimed: S (USMCA), KR, AU, ... or null
    "content_mineral": pl.String(),  # mineral id of known content, e.g. "copper", "neodymium"
    "content_kg": pl.Float64(),  # mass of that mineral in the line, when known
    "content_value_usd": pl.Float64(),  # value of that metal/mineral content (Section 232 content basis)
    # refund status and the reduced Section 232 tier
    "liquidation_date": pl.Date(),  # when the entry liquidated; null while unliquidated (or not given)
    "us_metal_content_share": pl.Float64(),  # 0..1 of the 232 metal melted/poured or smelted/cast in the US
    # links
    "part_number": pl.String(),  # the user's part/item number; links a line to a bill of materials
}

LEDGER_COLUMNS: tuple[str, ...] = tuple(LEDGER_SCHEMA)

REQUIRED_COLUMNS: tuple[str, ...] = ("entry_date", "hts", "country_origin", "customs_value_usd")
"""A line without these cannot carry a duty; it is quarantined, never guessed."""

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "column": pl.String(),  # the user's column name (or the canonical one when missing)
    "code": pl.String(),  # machine-readable reason, e.g. "hts_unknown", "country_unknown", "value_missing"
    "message": pl.String(),  # what is wrong and how to fix it
    "raw": pl.String(),  # the original row as JSON, so it can be fixed and re-imported
}


def empty_ledger() -> pl.DataFrame:
    return pl.DataFrame(schema=LEDGER_SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Add missing canonical columns as nulls and order/cast to the canonical schema."""
    missing = [
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in LEDGER_SCHEMA.items()
        if name not in frame.columns
    ]
    return frame.with_columns(missing).select(
        [pl.col(name).cast(dtype) for name, dtype in LEDGER_SCHEMA.items()]
    )
