"""One chunk of raw text columns -> canonical ledger columns plus the issues found on the way.

Each field is parsed by a Polars expression over the whole chunk (dates, numbers) or by a join against
the distinct values already resolved (HTS, countries, units, programmes, minerals). Every check produces
issue rows through :func:`critmin.ledger.validate.issues_where`; nothing here decides whether a row is
loaded — :mod:`critmin.ledger.ingest` does that from the issues' severities.

Codes, numbers and dates are read in ASCII: compatibility forms (full-width ``８５０５．１１``, ligatures,
superscripts) are folded to it by Unicode NFKC first, since they are the same characters typed through a
CJK input method. Digits of another script (Arabic-Indic ``٨٥٠٥``) are different characters whose
separators differ by locale, so they are not guessed: the cell is quarantined as ``digits_not_ascii``.
That code and ``number_not_finite`` are *precise* (:data:`critmin.ledger.validate.PRECISE_CODES`): when
either explains a cell, the generic complaint about the same cell (``hts_malformed``, ``value_invalid``
...) is not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

import polars as pl

from critmin.ledger import validate as v
from critmin.ledger.codes import LookupCache
from critmin.ledger.dates import in_window, parse_dates
from critmin.ledger.fields import FIELDS_BY_NAME, INPUT_FIELDS
from critmin.ledger.headers import ColumnMapping, DateOrder
from critmin.ledger.numbers import (
    normalise_currency_code,
    not_finite,
    parse_money,
    parse_number,
    parse_share,
    split_quantity,
)
from critmin.ledger.readers import ROW
from critmin.ledger.schema import LEDGER_COLUMNS
from critmin.ledger.spellings import by_spelling
from critmin.ledger.units import to_kg_factor, unit_table

NORMALISED_COLUMNS: tuple[str, ...] = (ROW, *LEDGER_COLUMNS, "__user_id")
"""The canonical ledger columns, plus the chunk row number and the user's own line id while normalising."""


@dataclass
class NormaliseContext:
    """Everything about the file that applies to every chunk."""

    mapping: ColumnMapping
    source_name: str
    date_order: DateOrder = "mdy"
    decimal_comma: bool = False
    cache: LookupCache = field(default_factory=LookupCache)
    hts_units: pl.DataFrame | None = None
    """Optional (hts, dimensions) table: the dimensions (mass, count, ...) of each code's unit of quantity."""

    def column_label(self, name: str) -> str:
        """Where a field's value came from, as the user knows it: their header, or the constant."""
        column = self.mapping.fields.get(name)
        if column is not None:
            return column
        if name in self.mapping.constants:
            return f"{name} (constant)"
        return name


ASCII_FIELDS: tuple[str, ...] = (
    "entry_date",
    "liquidation_date",
    "hts",
    "country_origin",
    "country_export",
    "country_smelt_cast",
    "quantity",
    "unit",
    "weight",
    "customs_value_usd",
    "currency",
    "preference_program",
    "content_mineral",
    "content_kg",
    "content_value_usd",
    "us_metal_content_share",
    "line_number",
    "source_row",
    "weight_unit",
    "content_unit",
)
"""Fields read as codes, numbers or dates: NFKC-folded, and checked for digits of other scripts. Free text
and identifiers (description, supplier, part and entry numbers, line ids) are kept exactly as written."""

_OTHER_DIGITS = r"[\p{Nd}--0-9]"

DATE_ORDER_TEXT = {"mdy": "month/day/year", "dmy": "day/month/year", "ymd": "year/month/day"}
"""How slash dates are read, in words, for the messages of every date column."""


def _source(raw: pl.DataFrame, ctx: NormaliseContext) -> pl.DataFrame:
    """The raw chunk re-labelled by ledger field; fields without a column take their constant or null."""
    names = [f.name for f in INPUT_FIELDS] + ["weight_unit", "content_unit"]
    exprs: list[pl.Expr] = [pl.col(ROW)]
    for name in names:
        column = ctx.mapping.fields.get(name)
        if column is not None:
            exprs.append(pl.col(column).cast(pl.String).alias(name))
        else:
            constant = ctx.mapping.constants.get(name)
            value = constant.strip() if constant is not None and constant.strip() else None
            exprs.append(pl.lit(value, dtype=pl.String).alias(name))
    return raw.select(exprs)


def normalise_chunk(
    raw: pl.DataFrame, ctx: NormaliseContext, ascii_columns: frozenset[str] = frozenset()
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical columns for every row of ``raw`` (``NORMALISED_COLUMNS``) and the issues found.

    ``ascii_columns``: columns of ``raw`` the reader found to hold only ASCII (nothing to fold there)."""
    frame, found = _ascii_forms(_source(raw, ctx), ctx, ascii_columns)
    issues: list[pl.DataFrame] = [_missing_columns(frame, ctx), found]
    frame, found = _dates(frame, ctx)
    issues.append(found)
    frame, found = _liquidation(frame, ctx)
    issues.append(found)
    frame, found = _hts(frame, ctx)
    issues.append(found)
    frame, found = _countries(frame, ctx)
    issues.append(found)
    frame, found = _value(frame, ctx)
    issues.append(found)
    frame, found = _quantity(frame, ctx)
    issues.append(found)
    frame, found = _programs(frame, ctx)
    issues.append(found)
    frame, found = _content(frame, ctx)
    issues.append(found)
    frame, found = _us_share(frame, ctx)
    issues.append(found)
    frame, found = _identity(frame, ctx)
    issues.append(found)
    if ctx.hts_units is not None:
        issues.append(_unit_mismatch(frame, ctx))
    return frame.select(NORMALISED_COLUMNS), v.precise_first(pl.concat(issues, how="vertical"))


def _ascii_forms(
    frame: pl.DataFrame, ctx: NormaliseContext, ascii_columns: frozenset[str] = frozenset()
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fold compatibility forms of code, number and date cells to ASCII (NFKC), and flag the cells that
    still hold digits of another script. Only columns with a non-ASCII byte are touched (the reader may
    already know a column has none; else a cheap test: a string's length in bytes and in characters
    differ), and in them only the cells that have one."""
    folded: list[pl.Expr] = []
    flagged: list[pl.DataFrame] = [v.empty_issues()]
    for name in ASCII_FIELDS:
        if name not in ctx.mapping.fields:
            continue  # constants come from the mapping file, checked on their own
        if ctx.mapping.fields[name] in ascii_columns:
            continue
        column = pl.col(name)
        wide = column.str.len_bytes() != column.str.len_chars()
        if not frame.select(wide.any()).item():
            continue
        fixed = pl.when(wide).then(column.str.normalize("NFKC")).otherwise(column)
        folded.append(fixed.alias(name))
        label = ctx.column_label(name)
        flagged.append(
            v.issues_where(
                frame,
                wide & fixed.str.contains(_OTHER_DIGITS),
                column=label,
                code="digits_not_ascii",
                message=pl.lit("Value ") + v.quoted(column) + pl.lit(" has digits other than 0-9."),
            )
        )
    if folded:
        frame = frame.with_columns(folded)
    return frame, pl.concat(flagged, how="vertical")


def _not_finite(
    frame: pl.DataFrame, values: pl.Series, raw: pl.Expr, label: str, what: str
) -> tuple[pl.Series, pl.DataFrame]:
    """Readings that are no usable number (see :func:`critmin.ledger.numbers.not_finite`) made null, and a
    ``number_not_finite`` issue for each, quoting the cell as written."""
    flagged = not_finite(values)
    if not flagged.any():
        return values, v.empty_issues()
    cells = frame.select(ROW, raw.alias("__raw")).with_columns(
        values.alias("__reading"), flagged.alias("__flagged")
    )
    issues = v.issues_where(
        cells,
        pl.col("__flagged"),
        column=label,
        code="number_not_finite",
        message=pl.lit(f"{what} ")
        + v.quoted(pl.col("__raw"))
        + pl.lit(" is infinite, not a number, or 10^15 or more (read as ")
        + pl.col("__reading").cast(pl.String)
        + pl.lit(")."),
    )
    return values.scatter(flagged.arg_true(), None), issues


def _missing_columns(frame: pl.DataFrame, ctx: NormaliseContext) -> pl.DataFrame:
    out = [v.empty_issues()]
    for name in ctx.mapping.missing_required:
        description = FIELDS_BY_NAME[name].description.split(".")[0]
        out.append(
            v.issues_where(
                frame,
                pl.lit(True),
                column=name,
                code="column_missing",
                message=v.text(f"No column of the file feeds `{name}` ({description})."),
            )
        )
    return pl.concat(out)


# ----------------------------------------------------------------------------------------------------------
# Fields
# ----------------------------------------------------------------------------------------------------------


def _all_null(frame: pl.DataFrame, *names: str) -> bool:
    """True when these fields are empty on every row of the chunk (no column, or none filled in): their
    canonical columns are then null and nothing can be wrong with them, so they are not parsed."""
    return all(frame.get_column(name).null_count() == frame.height for name in names)


def _has_column(ctx: NormaliseContext, name: str) -> pl.Expr:
    """False when the whole column is missing: ``column_missing`` already says so, once per row."""
    return pl.lit(name not in ctx.mapping.missing_required)


def _dates(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    label = ctx.column_label("entry_date")
    raw_dates = frame.get_column("entry_date")
    frame = frame.with_columns(
        raw_dates.alias("entry_date_raw"),
        by_spelling(raw_dates, lambda d: parse_dates(d, ctx.date_order), pl.Date()).alias("entry_date"),
    )
    raw, parsed = pl.col("entry_date_raw"), pl.col("entry_date")
    order_text = DATE_ORDER_TEXT[ctx.date_order]
    issues = pl.concat(
        [
            v.issues_where(
                frame,
                raw.is_null() & _has_column(ctx, "entry_date"),
                column=label,
                code="date_missing",
                message=v.text("Entry date is empty."),
            ),
            v.issues_where(
                frame,
                raw.is_not_null() & parsed.is_null(),
                column=label,
                code="date_invalid",
                message=pl.lit("Entry date ")
                + v.quoted(raw)
                + v.text(f" is not a date (slash dates are read as {order_text})."),
            ),
            v.issues_where(
                frame,
                parsed.is_not_null() & ~in_window(parsed),
                column=label,
                code="date_out_of_range",
                message=pl.lit("Entry date ")
                + v.quoted(raw)
                + pl.lit(" was read as ")
                + parsed.cast(pl.String)
                + pl.lit("."),
            ),
        ]
    )
    return frame.drop("entry_date_raw"), issues


NOT_LIQUIDATED = {"", "-", "--", "n/a", "na", "none", "unliquidated", "not liquidated", "pending", "open"}
"""Liquidation-date cells that say the entry has not liquidated (read as empty)."""


def _liquidation(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The liquidation date, read like the entry date (same forms, same day/month order)."""
    if _all_null(frame, "liquidation_date"):
        return frame.with_columns(pl.lit(None, dtype=pl.Date).alias("liquidation_date")), v.empty_issues()
    label = ctx.column_label("liquidation_date")
    given = pl.col("liquidation_date")
    pending = given.str.strip_chars().str.to_lowercase().is_in(sorted(NOT_LIQUIDATED))
    frame = frame.with_columns(pl.when(pending).then(None).otherwise(given).alias("liquidation_raw"))
    raw_dates = frame.get_column("liquidation_raw")
    frame = frame.with_columns(
        by_spelling(raw_dates, lambda d: parse_dates(d, ctx.date_order), pl.Date()).alias("liquidation_date"),
    )
    raw, parsed, entered = pl.col("liquidation_raw"), pl.col("liquidation_date"), pl.col("entry_date")
    order_text = DATE_ORDER_TEXT[ctx.date_order]
    issues = pl.concat(
        [
            v.issues_where(
                frame,
                raw.is_not_null() & parsed.is_null(),
                column=label,
                code="liquidation_date_invalid",
                message=pl.lit("Liquidation date ")
                + v.quoted(raw)
                + v.text(f" is not a date (slash dates are read as {order_text})."),
            ),
            v.issues_where(
                frame,
                parsed.is_not_null() & ~in_window(parsed),
                column=label,
                code="liquidation_date_invalid",
                message=pl.lit("Liquidation date ")
                + v.quoted(raw)
                + pl.lit(" was read as ")
                + parsed.cast(pl.String)
                + pl.lit(", outside 1980-2099."),
            ),
            v.issues_where(
                frame,
                in_window(parsed) & (parsed < entered),
                column=label,
                code="liquidation_before_entry",
                message=pl.lit("Liquidation date ")
                + v.quoted(raw)
                + pl.lit(" (read as ")
                + parsed.cast(pl.String)
                + pl.lit(") is before the entry date ")
                + entered.cast(pl.String)
                + pl.lit("."),
            ),
        ]
    )
    return frame.drop("liquidation_raw"), issues


def _hts(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    label = ctx.column_label("hts")
    lookup = ctx.cache.lookup("hts", frame.get_column("hts"))
    frame = frame.rename({"hts": "hts_raw"}).join(
        lookup.rename({"raw": "hts_raw", "suggestions": "hts_suggestions", "status": "hts_status"}),
        on="hts_raw",
        how="left",
        maintain_order="left",
    )
    raw, status = pl.col("hts_raw"), pl.col("hts_status")
    nearest = (
        pl.when(pl.col("hts_suggestions").str.len_chars() > 0)
        .then(pl.lit(" Nearest valid codes: ") + pl.col("hts_suggestions") + pl.lit("."))
        .otherwise(pl.lit(""))
    )
    issues = pl.concat(
        [
            v.issues_where(
                frame,
                raw.is_null() & _has_column(ctx, "hts"),
                column=label,
                code="hts_missing",
                message=v.text("HTS is empty."),
            ),
            v.issues_where(
                frame,
                status == "malformed",
                column=label,
                code="hts_malformed",
                message=pl.lit("HTS ") + v.quoted(raw) + pl.lit(" is not a 6, 8 or 10 digit code.") + nearest,
            ),
            v.issues_where(
                frame,
                status == "unknown",
                column=label,
                code="hts_unknown",
                message=pl.lit("HTS ")
                + v.quoted(raw)
                + pl.lit(" is not in the HTS 2025 schedule.")
                + nearest,
            ),
            v.issues_where(
                frame,
                pl.col("repaired"),
                column=label,
                code="hts_repaired",
                message=pl.lit("HTS ")
                + v.quoted(raw)
                + pl.lit(" was read as ")
                + _dotted(pl.col("hts"))
                + pl.lit("."),
            ),
        ]
    )
    ok = status.is_in(["valid", "valid_prefix"])
    frame = frame.with_columns(pl.when(ok).then(pl.col("hts")).otherwise(None).alias("hts"))
    return frame.drop("hts_raw", "hts_status", "hts_suggestions", "repaired"), issues


def _dotted(expr: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        [
            expr.str.slice(0, 4),
            pl.lit("."),
            expr.str.slice(4, 2),
            pl.lit("."),
            expr.str.slice(6, 2),
            pl.lit("."),
            expr.str.slice(8, 2),
        ]
    ).str.strip_chars_end(".")


def _countries(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    names = {
        "country_origin": "Country of origin",
        "country_export": "Country of export",
        "country_smelt_cast": "Country of smelt/cast",
    }
    lookup = ctx.cache.lookup("country", pl.concat([frame.get_column(name) for name in names]))
    raw_names = {name: f"{name}__raw" for name in names}
    frame = frame.rename(raw_names).with_columns(
        pl.col(raw_names[name])
        .replace_strict(
            lookup.get_column("raw"), lookup.get_column("iso3"), default=None, return_dtype=pl.String
        )
        .alias(name)
        for name in names
    )
    suggestions = lookup.select("raw", "suggestions")
    issues: list[pl.DataFrame] = []
    for name, what in names.items():
        label = ctx.column_label(name)
        raw = pl.col(raw_names[name])
        if name == "country_origin":
            issues.append(
                v.issues_where(
                    frame,
                    raw.is_null() & _has_column(ctx, name),
                    column=label,
                    code="country_missing",
                    message=v.text(f"{what} is empty."),
                )
            )
        # suggestions are looked up for the few unresolved cells only
        unknown = frame.filter(raw.is_not_null() & pl.col(name).is_null()).join(
            suggestions.rename({"raw": raw_names[name]}), on=raw_names[name], how="left"
        )
        hint = (
            pl.when(pl.col("suggestions").str.len_chars() > 0)
            .then(pl.lit(" Did you mean: ") + pl.col("suggestions") + pl.lit("?"))
            .otherwise(pl.lit(""))
        )
        issues.append(
            v.issues_where(
                unknown,
                pl.lit(True),
                column=label,
                code="country_unknown",
                message=pl.lit(f"{what} ") + v.quoted(raw) + pl.lit(" is not a known country.") + hint,
            )
        )
    return frame.drop(raw_names.values()), pl.concat(issues)


def _value(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    label = ctx.column_label("customs_value_usd")
    raw_values = frame.get_column("customs_value_usd")
    amount, named = parse_money(raw_values, decimal_comma=ctx.decimal_comma, finite=False)
    amount, huge = _not_finite(frame, amount, pl.col("customs_value_usd"), label, "Customs value")
    currency = normalise_currency_code(frame.get_column("currency")).fill_null(named)
    frame = frame.with_columns(
        raw_values.alias("value_raw"),
        currency.alias("value_currency"),
        amount.alias("customs_value_usd"),
    )
    raw, value = pl.col("value_raw"), pl.col("customs_value_usd")
    foreign = pl.col("value_currency").is_not_null() & (pl.col("value_currency") != "USD")
    issues = pl.concat(
        [
            huge,
            v.issues_where(
                frame,
                raw.is_null() & _has_column(ctx, "customs_value_usd"),
                column=label,
                code="value_missing",
                message=v.text("Customs value is empty."),
            ),
            v.issues_where(
                frame,
                raw.is_not_null() & value.is_null(),
                column=label,
                code="value_invalid",
                message=pl.lit("Customs value ") + v.quoted(raw) + pl.lit(" is not a number."),
            ),
            v.issues_where(
                frame,
                value < 0,
                column=label,
                code="value_negative",
                message=pl.lit("Customs value ") + v.quoted(raw) + pl.lit(" is negative."),
            ),
            v.issues_where(
                frame,
                (value == 0) & ~foreign,
                column=label,
                code="value_zero",
                message=v.text("Customs value is 0."),
            ),
            v.issues_where(
                frame,
                foreign,
                column=ctx.column_label("currency") if "currency" in ctx.mapping.fields else label,
                code="currency_not_usd",
                message=pl.lit("Value ")
                + v.quoted(raw)
                + pl.lit(" is in ")
                + pl.col("value_currency")
                + pl.lit("."),
            ),
        ]
    )
    return frame.drop("value_raw", "value_currency"), issues


def _quantity(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    q_label, u_label, w_label = (ctx.column_label(n) for n in ("quantity", "unit", "weight"))
    quantity, embedded_unit = split_quantity(
        frame.get_column("quantity"), decimal_comma=ctx.decimal_comma, finite=False
    )
    quantity, huge = _not_finite(frame, quantity, pl.col("quantity"), q_label, "Quantity")
    weight, huge_weight = _not_finite(
        frame,
        parse_number(frame.get_column("weight"), decimal_comma=ctx.decimal_comma, finite=False),
        pl.col("weight"),
        w_label,
        "Net weight",
    )
    frame = frame.with_columns(
        pl.col("quantity").alias("quantity_raw"),
        quantity.alias("quantity"),
        frame.get_column("unit").fill_null(embedded_unit).alias("unit_raw"),
    )
    lookup = ctx.cache.lookup("unit", frame.get_column("unit_raw"))
    frame = frame.drop("unit").join(
        lookup.rename({"raw": "unit_raw", "suggestions": "unit_sugg"}),
        on="unit_raw",
        how="left",
        maintain_order="left",
    )
    weight_unit = ctx.mapping.constants.get("weight_unit") or "kg"
    weight_factor = to_kg_factor(weight_unit) or 1.0
    factors = unit_table().select("unit", "dimension", "to_base")
    frame = frame.join(factors, on="unit", how="left", maintain_order="left").with_columns(
        (weight * weight_factor).alias("weight_kg"),
    )
    frame = frame.with_columns(  # a multiple of the canonical unit (kW -> W) scales the quantity
        (pl.col("quantity") * pl.col("unit_scale").fill_null(1.0)).alias("quantity")
    ).with_columns(
        pl.when(pl.col("dimension") == "mass")
        .then(pl.col("quantity") * pl.col("to_base"))
        .otherwise(pl.col("weight_kg"))
        .alias("quantity_kg")
    )
    q, unit_raw = pl.col("quantity"), pl.col("unit_raw")
    hint = (
        pl.when(pl.col("unit_sugg").str.len_chars() > 0)
        .then(pl.lit(" Did you mean: ") + pl.col("unit_sugg") + pl.lit("?"))
        .otherwise(pl.lit(""))
    )
    issues = pl.concat(
        [
            huge,
            huge_weight,
            v.issues_where(
                frame,
                pl.col("quantity_raw").is_not_null() & q.is_null(),
                column=q_label,
                code="quantity_invalid",
                message=pl.lit("Quantity ") + v.quoted(pl.col("quantity_raw")) + pl.lit(" is not a number."),
            ),
            v.issues_where(
                frame,
                q < 0,
                column=q_label,
                code="quantity_negative",
                message=pl.lit("Quantity ") + v.quoted(pl.col("quantity_raw")) + pl.lit(" is negative."),
            ),
            v.issues_where(
                frame,
                q.is_not_null() & unit_raw.is_null(),
                column=u_label if "unit" in ctx.mapping.fields else q_label,
                code="unit_missing",
                message=pl.lit("Quantity ") + v.quoted(pl.col("quantity_raw")) + pl.lit(" has no unit."),
            ),
            v.issues_where(
                frame,
                unit_raw.is_not_null() & pl.col("unit").is_null(),
                column=u_label if "unit" in ctx.mapping.fields else q_label,
                code="unit_unknown",
                message=pl.lit("Unit ") + v.quoted(unit_raw) + pl.lit(" is not recognised.") + hint,
            ),
            v.issues_where(
                frame,
                pl.col("weight").is_not_null() & (pl.col("weight_kg").is_null() | (pl.col("weight_kg") < 0)),
                column=w_label,
                code="weight_invalid",
                message=pl.lit("Net weight ")
                + v.quoted(pl.col("weight"))
                + pl.lit(" is not a non-negative number."),
            ),
        ]
    )
    frame = frame.drop(
        "quantity_raw", "unit_raw", "unit_sugg", "unit_scale", "dimension", "to_base", "weight_kg"
    )
    return frame, issues


def _programs(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    label = ctx.column_label("preference_program")
    lookup = ctx.cache.lookup("program", frame.get_column("preference_program"))
    frame = frame.rename({"preference_program": "program_raw"}).join(
        lookup.rename({"raw": "program_raw", "program": "preference_program"}),
        on="program_raw",
        how="left",
        maintain_order="left",
    )
    issues = v.issues_where(
        frame,
        pl.col("program_raw").is_not_null() & ~pl.col("known"),
        column=label,
        code="preference_unknown",
        message=pl.lit("Preference ")
        + v.quoted(pl.col("program_raw"))
        + pl.lit(" is not a known programme."),
    )
    return frame.drop("program_raw", "known"), issues


def _content(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    if _all_null(frame, "content_mineral", "content_kg", "content_value_usd"):
        empty = frame.with_columns(
            pl.lit(None, dtype=pl.String).alias("content_mineral"),
            pl.lit(None, dtype=pl.Float64).alias("content_kg"),
            pl.lit(None, dtype=pl.Float64).alias("content_value_usd"),
        )
        return empty, v.empty_issues()
    m_label, k_label, cv_label = (
        ctx.column_label(n) for n in ("content_mineral", "content_kg", "content_value_usd")
    )
    lookup = ctx.cache.lookup("mineral", frame.get_column("content_mineral"))
    content_unit = ctx.mapping.constants.get("content_unit") or "kg"
    factor = to_kg_factor(content_unit) or 1.0
    content_kg, huge_kg = _not_finite(
        frame,
        parse_number(frame.get_column("content_kg"), decimal_comma=ctx.decimal_comma, finite=False),
        pl.col("content_kg"),
        k_label,
        "Content",
    )
    content_value, huge_value = _not_finite(
        frame,
        parse_number(frame.get_column("content_value_usd"), decimal_comma=ctx.decimal_comma, finite=False),
        pl.col("content_value_usd"),
        cv_label,
        "Content value",
    )
    frame = (
        frame.rename({"content_mineral": "mineral_raw"})
        .join(
            lookup.rename({"raw": "mineral_raw", "mineral": "content_mineral"}),
            on="mineral_raw",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            pl.col("content_kg").alias("content_kg_raw"),
            pl.col("content_value_usd").alias("content_value_raw"),
            (content_kg * factor).alias("content_kg"),
            content_value.alias("content_value_usd"),
        )
    )
    kg_raw, value_raw = pl.col("content_kg_raw"), pl.col("content_value_raw")
    kg, value = pl.col("content_kg"), pl.col("content_value_usd")
    issues = pl.concat(
        [
            huge_kg,
            huge_value,
            v.issues_where(
                frame,
                pl.col("mineral_raw").is_not_null() & pl.col("content_mineral").is_null(),
                column=m_label,
                code="mineral_unknown",
                message=pl.lit("Mineral ") + v.quoted(pl.col("mineral_raw")) + pl.lit(" is not recognised."),
            ),
            v.issues_where(
                frame,
                kg_raw.is_not_null() & (kg.is_null() | (kg < 0)),
                column=k_label,
                code="content_invalid",
                message=pl.lit("Content ") + v.quoted(kg_raw) + pl.lit(" is not a non-negative number."),
            ),
            v.issues_where(
                frame,
                value_raw.is_not_null() & (value.is_null() | (value < 0)),
                column=cv_label,
                code="content_invalid",
                message=pl.lit("Content value ")
                + v.quoted(value_raw)
                + pl.lit(" is not a non-negative number."),
            ),
            v.issues_where(
                frame,
                (kg_raw.is_not_null() | value_raw.is_not_null()) & pl.col("mineral_raw").is_null(),
                column=k_label if "content_kg" in ctx.mapping.fields else cv_label,
                code="content_mineral_missing",
                message=v.text("Content is given but not which mineral it is."),
            ),
            v.issues_where(
                frame,
                kg > pl.col("quantity_kg") * 1.000001,
                column=k_label,
                code="content_exceeds_quantity",
                message=pl.lit("Content ")
                + kg.round(6).cast(pl.String)
                + pl.lit(" kg is more than the line's ")
                + pl.col("quantity_kg").round(6).cast(pl.String)
                + pl.lit(" kg."),
            ),
        ]
    )
    return frame.drop("mineral_raw", "content_kg_raw", "content_value_raw"), issues


def _us_share(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The U.S. metal content share as a fraction 0..1 (``0.9``, ``90%`` and ``90 %`` are all 0.9)."""
    if _all_null(frame, "us_metal_content_share"):
        share = pl.lit(None, dtype=pl.Float64).alias("us_metal_content_share")
        return frame.with_columns(share), v.empty_issues()
    label = ctx.column_label("us_metal_content_share")
    raw_values = frame.get_column("us_metal_content_share")
    shares, huge = _not_finite(
        frame,
        parse_share(raw_values, decimal_comma=ctx.decimal_comma, finite=False),
        pl.col("us_metal_content_share"),
        label,
        "U.S. metal content share",
    )
    frame = frame.with_columns(raw_values.alias("share_raw"), shares.alias("us_metal_content_share"))
    raw, share = pl.col("share_raw"), pl.col("us_metal_content_share")
    issues = pl.concat(
        [
            huge,
            v.issues_where(
                frame,
                raw.is_not_null() & share.is_null(),
                column=label,
                code="us_content_share_invalid",
                message=pl.lit("U.S. metal content share ") + v.quoted(raw) + pl.lit(" is not a number."),
            ),
            v.issues_where(
                frame,
                (share < 0) | (share > 1),
                column=label,
                code="us_content_share_out_of_range",
                message=pl.lit("U.S. metal content share ")
                + v.quoted(raw)
                + pl.lit(" was read as ")
                + share.round(6).cast(pl.String)
                + pl.lit(", outside 0 to 1."),
            ),
        ]
    )
    return frame.drop("share_raw"), issues


def _identity(frame: pl.DataFrame, ctx: NormaliseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Line ids and provenance; a quarantine export carries its original file and row, which win."""
    stem_of_name = PurePath(ctx.source_name).stem
    given_row = _without_point_zero(frame, "source_row").cast(pl.Int64, strict=False)
    entry_line = pl.concat_str(  # null unless both parts are given
        [pl.col("entry_number"), pl.lit("/"), _without_point_zero(frame, "line_number")]
    )
    frame = frame.with_columns(given_row.alias("__given_row"), entry_line.alias("__entry_line"))
    issues = v.issues_where(
        frame,
        pl.col("source_row").is_not_null() & (pl.col("__given_row").is_null() | (pl.col("__given_row") < 1)),
        column=ctx.column_label("source_row"),
        code="source_row_invalid",
        message=pl.lit("source_row ") + v.quoted(pl.col("source_row")) + pl.lit(" is not a row number."),
    )
    origin_row = pl.coalesce(pl.col("__given_row"), pl.col(ROW))
    user_id = pl.col("line_id").is_not_null() | pl.col("__entry_line").is_not_null()
    ids = [pl.col("line_id"), pl.col("__entry_line")]
    if not frame.select(user_id.all()).item():  # some lines are named by where they came from
        origin_stem = pl.col("source_file").str.replace(r"\.[^.]*$", "").fill_null(pl.lit(stem_of_name))
        ids.append(origin_stem + pl.lit(":") + origin_row.cast(pl.String))
    frame = frame.with_columns(
        user_id.alias("__user_id"),
        pl.coalesce(ids).alias("line_id"),
        pl.coalesce(pl.col("source_file"), pl.lit(ctx.source_name)).alias("source_file"),
        origin_row.alias("source_row"),
    )
    return frame.drop("__given_row", "__entry_line"), issues


def _without_point_zero(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A whole number as text without the ``.0`` a spreadsheet adds (``3.0`` -> ``3``); the pattern runs
    only when some cell of the column has a point (a quick search for one byte)."""
    column = pl.col(name)
    if not frame.get_column(name).str.contains(".", literal=True).any():
        return column
    return column.str.replace(r"\.0+$", "")


def _unit_mismatch(frame: pl.DataFrame, ctx: NormaliseContext) -> pl.DataFrame:
    """Warn when a line's unit measures something the HTS code is not reported in (and no kg is known)."""
    assert ctx.hts_units is not None
    dims = unit_table().select("unit", pl.col("dimension").alias("__dim"))
    keys = frame.select("hts", "unit", pl.col("quantity_kg").is_not_null().alias("__has_kg"))
    combos = (
        keys.unique()
        .join(dims, on="unit", how="inner")
        .join(ctx.hts_units, on="hts", how="inner")
        .filter(
            (pl.col("hts_dimensions").list.len() > 0)
            & ~pl.col("hts_dimensions").list.contains(pl.col("__dim"))
            & ~(pl.col("hts_dimensions").list.contains(pl.lit("mass")) & pl.col("__has_kg"))
        )
    )
    if combos.height == 0:
        return v.empty_issues()
    joined = frame.select(ROW, "hts", "unit", pl.col("quantity_kg").is_not_null().alias("__has_kg")).join(
        combos, on=["hts", "unit", "__has_kg"], how="inner"
    )
    mismatch = pl.lit(True)
    return v.issues_where(
        joined,
        mismatch,
        column=ctx.column_label("unit"),
        code="unit_mismatch",
        message=pl.lit("HTS ")
        + _dotted(pl.col("hts"))
        + pl.lit(" is reported in ")
        + pl.col("hts_units_text")
        + pl.lit("; this line gives ")
        + pl.col("unit")
        + pl.lit("."),
    )
