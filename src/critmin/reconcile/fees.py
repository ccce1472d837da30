"""Merchandise processing fee and harbor maintenance fee per entry summary, owed next to paid.

Rules (cited in ``docs/reconcile.md``):

* **MPF** (19 U.S.C. 58c(a)(9); 19 CFR 24.23(b)(1)): 0.3464% ad valorem of the entry summary's value,
  at least the fiscal year's minimum and at most its maximum (FAST Act inflation adjustments, 19 CFR
  24.22(k)); the fiscal year runs 1 October to 30 September and is the one of the entry date. Lines that
  claim a programme whose originating goods are exempt (19 CFR 24.23(c): USMCA, the other FTAs listed in
  :data:`MPF_EXEMPT_PROGRAMMES`) are left out of the value; an entry whose every line is exempt owes none.
* **HMF** (26 U.S.C. 4461; 19 CFR 24.24): 0.125% of the value of commercial cargo unloaded from a vessel:
  entries whose mode of transportation is 10 (vessel, non-container) or 11 (vessel, container). No minimum
  or maximum.

Amounts are rounded half up to the cent, per entry. A fee critmin cannot compute (an entry date outside the
fiscal years it has, an informal entry, an unknown mode of transportation) is left unknown, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from critmin.reconcile.text import cents, money

MPF_RATE = 0.003464
"""0.3464% ad valorem (19 CFR 24.23(b)(1)(i)(A)); unchanged by the FY2025 and FY2026 adjustments."""
HMF_RATE = 0.00125
"""0.125% ad valorem (26 U.S.C. 4461(c); 19 CFR 24.24(a))."""
OCEAN_MODES = ("10", "11")
"""Modes of transportation of vessel cargo (ACE CATAIR appendix B: 10 vessel, 11 vessel container)."""
FORMAL_ENTRY_TYPES = ("01", "02", "03", "06", "07", "21", "22", "23", "31", "32", "34", "38")
"""Entry types whose MPF is the ad valorem fee with minimum and maximum (informal entries, type 11, pay a
flat fee critmin does not model)."""

MPF_EXEMPT_PROGRAMMES: tuple[str, ...] = (
    "S",
    "S+",
    "CA",
    "MX",
    "AU",
    "BH",
    "CL",
    "CO",
    "IL",
    "KR",
    "MA",
    "OM",
    "P",
    "P+",
    "PA",
    "PE",
    "SG",
)
"""Special programme indicators whose originating goods are exempt from the MPF (19 CFR 24.23(c); CBP's
table of MPF treatment by programme). Claims of JO, JP, A, A* and the others pay it."""


@dataclass(frozen=True)
class MpfYear:
    """The MPF minimum and maximum of one fiscal year, with the notice that set them."""

    fiscal_year: int
    start: date
    end: date
    minimum: float
    maximum: float
    citation: str
    url: str
    verification: str


MPF_YEARS: tuple[MpfYear, ...] = (
    MpfYear(
        2024,
        date(2023, 10, 1),
        date(2024, 9, 30),
        31.67,
        614.35,
        "Former amounts stated in the FY2025 notice (FR Doc 2024-15990) and CBP CSMS #61572319",
        "https://www.federalregister.gov/d/2024-15990",
        "reported",
    ),
    MpfYear(
        2025,
        date(2024, 10, 1),
        date(2025, 9, 30),
        32.71,
        634.62,
        "CBP, Customs User Fees To Be Adjusted for Inflation in Fiscal Year 2025 (FR Doc 2024-15990, "
        "2024-07-22); CBP CSMS #61572319",
        "https://www.federalregister.gov/d/2024-15990",
        "reported",
    ),
    MpfYear(
        2026,
        date(2025, 10, 1),
        date(2026, 9, 30),
        33.58,
        651.50,
        "CBP Dec. 25-10, Customs User Fees To Be Adjusted for Inflation in Fiscal Year 2026 (90 FR 34665, "
        "FR Doc 2025-13869, 2025-07-23); CBP CSMS #65741993",
        "https://www.federalregister.gov/d/2025-13869",
        "reported",
    ),
)
"""Fiscal years critmin knows. ``reported``: the amounts are those of CBP's CSMS messages as quoted by
customs brokers; the notices were located but their tables not read. FY2027 (from 2026-10-01) was not
found: MPF on later entries is unknown."""

MPF_CITATION = "19 U.S.C. 58c(a)(9); 19 CFR 24.23(b)(1)"
HMF_CITATION = "26 U.S.C. 4461; 19 CFR 24.24"


def fiscal_year(day: pl.Expr) -> pl.Expr:
    """The U.S. government fiscal year of a date: FY N runs 1 October N-1 to 30 September N."""
    return day.dt.year() + (day.dt.month() >= 10).cast(pl.Int32)


def mpf_years() -> pl.DataFrame:
    """:data:`MPF_YEARS` as a table."""
    return pl.DataFrame(
        {
            "fiscal_year": [y.fiscal_year for y in MPF_YEARS],
            "mpf_minimum": [y.minimum for y in MPF_YEARS],
            "mpf_maximum": [y.maximum for y in MPF_YEARS],
            "mpf_citation": [y.citation for y in MPF_YEARS],
        },
        schema={
            "fiscal_year": pl.Int32,
            "mpf_minimum": pl.Float64,
            "mpf_maximum": pl.Float64,
            "mpf_citation": pl.String,
        },
    )


FEE_SCHEMA: dict[str, pl.DataType] = {
    "entry_number": pl.String(),
    "entry_date": pl.Date(),
    "fiscal_year": pl.Int32(),
    "fee": pl.String(),
    "base_value": pl.Float64(),
    "rate": pl.Float64(),
    "computed": pl.Float64(),
    "minimum": pl.Float64(),
    "maximum": pl.Float64(),
    "expected": pl.Float64(),
    "paid": pl.Float64(),
    "variance": pl.Float64(),
    "cause": pl.String(),
    "explanation": pl.String(),
    "citation": pl.String(),
}


def entry_fees(lines: pl.DataFrame, entries: pl.DataFrame) -> pl.DataFrame:
    """MPF and HMF per entry summary: value, rate, fee before and after the limits, owed, paid, the
    difference, its cause and a sentence (one row per entry and fee; whole-column expressions only).

    ``lines`` needs ``entry_number``, ``customs_value_usd`` and ``preference_program`` (and, when given,
    ``claim_eligible``: a claim the origin is not eligible for does not exempt the line); ``entries`` needs
    ``entry_number``, ``entry_date``, ``entry_type``, ``mode_of_transport``, ``paid_mpf``, ``paid_hmf``."""
    exempt = pl.col("preference_program").is_in(MPF_EXEMPT_PROGRAMMES).fill_null(False)
    if "claim_eligible" in lines.columns:  # a claim the origin is not eligible for exempts nothing
        exempt = exempt & pl.col("claim_eligible").fill_null(True)
    values = lines.group_by("entry_number").agg(
        pl.col("customs_value_usd").sum().alias("value_all"),
        pl.col("customs_value_usd").filter(~exempt).sum().alias("value_mpf"),
        exempt.any().alias("has_exempt"),
    )
    base = (
        entries.join(values, on="entry_number", how="left")
        .with_columns(fiscal_year(pl.col("entry_date")).cast(pl.Int32).alias("fiscal_year"))
        .join(mpf_years(), on="fiscal_year", how="left")
    )
    return pl.concat([_mpf(base), _hmf(base)], how="vertical").sort("entry_number", "fee")


def _mpf(base: pl.DataFrame) -> pl.DataFrame:
    raw = cents(pl.col("value_mpf") * MPF_RATE)
    formal = pl.col("entry_type").is_null() | pl.col("entry_type").is_in(FORMAL_ENTRY_TYPES)
    known = formal & pl.col("mpf_minimum").is_not_null()
    clamped = pl.min_horizontal(pl.max_horizontal(raw, pl.col("mpf_minimum")), pl.col("mpf_maximum"))
    expected = pl.when(~known).then(None).when(pl.col("value_mpf") <= 0).then(0.0).otherwise(clamped)
    frame = base.with_columns(
        pl.lit("MPF").alias("fee"),
        pl.col("value_mpf").alias("base_value"),
        pl.lit(MPF_RATE).alias("rate"),
        raw.alias("computed"),
        pl.col("mpf_minimum").alias("minimum"),
        pl.col("mpf_maximum").alias("maximum"),
        expected.alias("expected"),
        pl.col("paid_mpf").alias("paid"),
    ).with_columns((pl.col("paid") - pl.col("expected")).round(2).alias("variance"))
    # a limit of another fiscal year, paid where this year's applies: the usual October mistake
    other = mpf_years().select(
        pl.col("fiscal_year").alias("_fy"),
        pl.col("mpf_minimum").alias("_min"),
        pl.col("mpf_maximum").alias("_max"),
    )
    near = lambda a, b: (a - b).abs() < 0.005  # noqa: E731 - two cents of arithmetic, named once
    paid_year = (
        frame.select("entry_number", "fiscal_year", "paid", "expected", "minimum", "maximum")
        .join(other, how="cross")
        .filter(
            (pl.col("_fy") != pl.col("fiscal_year"))
            & (
                (near(pl.col("paid"), pl.col("_min")) & (pl.col("expected") == pl.col("minimum")))
                | (near(pl.col("paid"), pl.col("_max")) & (pl.col("expected") == pl.col("maximum")))
            )
        )
        .group_by("entry_number")
        .agg(pl.col("_fy").first().cast(pl.Int32).alias("_paid_year"))
    )
    frame = frame.join(paid_year, on="entry_number", how="left")
    known_text = (
        pl.lit("MPF owed: 0.3464% x ")
        + money(pl.col("base_value"))
        + pl.lit(" = ")
        + money(pl.col("computed"))
        + pl.when(pl.col("base_value") <= 0)
        .then(pl.lit(", none owed (every line claims an MPF-exempt programme)"))
        .when(pl.col("computed") < pl.col("minimum"))
        .then(
            pl.lit(", raised to the FY")
            + pl.col("fiscal_year").cast(pl.String)
            + pl.lit(" minimum ")
            + money(pl.col("minimum"))
        )
        .when(pl.col("computed") > pl.col("maximum"))
        .then(
            pl.lit(", capped at the FY")
            + pl.col("fiscal_year").cast(pl.String)
            + pl.lit(" maximum ")
            + money(pl.col("maximum"))
        )
        .otherwise(pl.lit(" (between the FY") + pl.col("fiscal_year").cast(pl.String) + pl.lit(" limits)"))
        + pl.when(pl.col("has_exempt"))
        .then(pl.lit("; lines claiming an exempt programme are left out of the value"))
        .otherwise(pl.lit(""))
        + pl.lit("; paid ")
        + money(pl.col("paid"))
        + pl.lit(".")
    )
    return _finish(frame, known_text, _mpf_cause(), fee="MPF")


def _mpf_cause() -> pl.Expr:
    return (
        pl.when(pl.col("expected").is_null())
        .then(pl.lit("fee_unknown"))
        .when(pl.col("paid").is_null())
        .then(pl.lit("fee_not_exported"))
        .when((pl.col("paid") == 0) & (pl.col("expected") > 0))
        .then(pl.lit("fee_not_paid"))
        .when(pl.col("variance").abs() < 0.005)
        .then(pl.lit("match"))
        .when(pl.col("variance").abs() <= 0.011)
        .then(pl.lit("rounding"))
        .when(pl.col("_paid_year").is_not_null())
        .then(pl.lit("fee_fiscal_year"))
        .when((pl.col("expected") == 0) & (pl.col("paid") > 0))
        .then(pl.lit("fee_not_owed"))
        .otherwise(pl.lit("fee_differs"))
    )


def _hmf(base: pl.DataFrame) -> pl.DataFrame:
    ocean = pl.col("mode_of_transport").is_in(OCEAN_MODES)
    computed = cents(pl.col("value_all") * HMF_RATE)
    expected = (
        pl.when(pl.col("mode_of_transport").is_null()).then(None).when(ocean).then(computed).otherwise(0.0)
    )
    frame = base.with_columns(
        pl.lit("HMF").alias("fee"),
        pl.col("value_all").alias("base_value"),
        pl.lit(HMF_RATE).alias("rate"),
        computed.alias("computed"),
        pl.lit(None, dtype=pl.Float64).alias("minimum"),
        pl.lit(None, dtype=pl.Float64).alias("maximum"),
        expected.alias("expected"),
        pl.col("paid_hmf").alias("paid"),
        pl.lit(None, dtype=pl.Int32).alias("_paid_year"),
    ).with_columns((pl.col("paid") - pl.col("expected")).round(2).alias("variance"))
    known_text = (
        pl.when(ocean)
        .then(
            pl.lit("HMF owed on vessel cargo (mode ")
            + pl.col("mode_of_transport")
            + pl.lit("): 0.125% x ")
            + money(pl.col("base_value"))
            + pl.lit(" = ")
            + money(pl.col("computed"))
        )
        .otherwise(
            pl.lit("no HMF: mode of transportation ") + pl.col("mode_of_transport") + pl.lit(" is not vessel")
        )
        + pl.lit("; paid ")
        + money(pl.col("paid"))
        + pl.lit(".")
    )
    cause = (
        pl.when(pl.col("expected").is_null())
        .then(pl.lit("fee_unknown"))
        .when(pl.col("paid").is_null())
        .then(pl.lit("fee_not_exported"))
        .when((pl.col("paid") == 0) & (pl.col("expected") > 0))
        .then(pl.lit("fee_not_paid"))
        .when(pl.col("variance").abs() < 0.005)
        .then(pl.lit("match"))
        .when(pl.col("variance").abs() <= 0.011)
        .then(pl.lit("rounding"))
        .when((pl.col("expected") == 0) & (pl.col("paid") > 0))
        .then(pl.lit("fee_not_owed"))
        .otherwise(pl.lit("fee_differs"))
    )
    return _finish(frame, known_text, cause, fee="HMF")


def _finish(frame: pl.DataFrame, known_text: pl.Expr, cause: pl.Expr, *, fee: str) -> pl.DataFrame:
    """Cause, sentence and citation; the fee's own table columns in :data:`FEE_SCHEMA` order."""
    unknown_text = (
        pl.when(pl.col("entry_date").is_null())
        .then(pl.lit(f"{fee} unknown: the entry has no date."))
        .when(pl.lit(fee == "HMF"))
        .then(pl.lit("HMF unknown: the export gives no mode of transportation for the entry."))
        .when(pl.col("entry_type").is_not_null() & ~pl.col("entry_type").is_in(FORMAL_ENTRY_TYPES))
        .then(
            pl.lit("MPF unknown: entry type ")
            + pl.col("entry_type")
            + pl.lit(" pays a fee critmin does not model.")
        )
        .otherwise(
            pl.lit("MPF unknown: critmin has no MPF minimum and maximum for FY")
            + pl.col("fiscal_year").cast(pl.String)
            + pl.lit(" (the CBP notice for that fiscal year was not found).")
        )
    )
    other_year = (
        pl.lit(" The paid amount is the FY")
        + pl.col("_paid_year").cast(pl.String)
        + pl.lit(" limit; an entry of ")
        + pl.col("entry_date").cast(pl.String)
        + pl.lit(" is in FY")
        + pl.col("fiscal_year").cast(pl.String)
        + pl.lit(" (fiscal years begin on 1 October).")
    )
    with_cause = frame.with_columns(cause.alias("cause"))
    explanation = (
        pl.when(pl.col("cause") == "fee_unknown")
        .then(unknown_text)
        .when(pl.col("cause") == "fee_fiscal_year")
        .then(known_text + other_year)
        .when(pl.col("cause") == "fee_not_exported")
        .then(
            known_text.str.replace(r"; paid .*$", "")
            + pl.lit(
                f"; the export gives no {fee} paid for the entry "
                f"(add the {fee} amount columns to the report)."
            )
        )
        .otherwise(known_text)
    )
    citation = (
        pl.coalesce(pl.lit(MPF_CITATION + "; limits: ") + pl.col("mpf_citation"), pl.lit(MPF_CITATION))
        if fee == "MPF"
        else pl.lit(HMF_CITATION)
    )
    return with_cause.select(
        "entry_number",
        "entry_date",
        "fiscal_year",
        "fee",
        "base_value",
        "rate",
        "computed",
        "minimum",
        "maximum",
        "expected",
        "paid",
        "variance",
        "cause",
        explanation.alias("explanation"),
        citation.alias("citation"),
    ).cast(pl.Schema(FEE_SCHEMA))


def mpf_for(value: float, day: date) -> float | None:
    """The MPF of one formal entry of ``value`` dollars entered on ``day`` (None when the fiscal year is
    unknown): the scalar form of :func:`entry_fees`, for examples and checks."""
    frame = pl.DataFrame({"v": [value], "d": [day]}).with_columns(
        fiscal_year(pl.col("d")).cast(pl.Int32).alias("fiscal_year")
    )
    row = frame.join(mpf_years(), on="fiscal_year", how="left").row(0, named=True)
    if row["mpf_minimum"] is None:
        return None
    if value <= 0:
        return 0.0
    raw = pl.select(cents(pl.lit(value * MPF_RATE))).item()
    return float(min(max(raw, row["mpf_minimum"]), row["mpf_maximum"]))


__all__ = [
    "FEE_SCHEMA",
    "HMF_RATE",
    "MPF_EXEMPT_PROGRAMMES",
    "MPF_RATE",
    "MPF_YEARS",
    "OCEAN_MODES",
    "MpfYear",
    "entry_fees",
    "fiscal_year",
    "mpf_for",
    "mpf_years",
]
