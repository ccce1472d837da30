"""Read an ACE entry-summary export (CSV or .xlsx) into lines, tariff rows and entries, losing nothing.

The file is opened by the ledger ingest's readers (:func:`critmin.ledger.readers.open_source`: encoding,
delimiter, sheet and header-row detection, row numbers as the user sees them), its headers are mapped by
:func:`critmin.ledger.headers.map_headers` with the ACE field set (:mod:`critmin.reconcile.layout`), and
numbers, dates, HTS codes, countries and programme codes are read with the ledger ingest's parsers. Every
check is a whole-column Polars expression.

Each row is a *tariff row*: the goods classification of an entry line or one Chapter 99 number reported on
it. Chapter 99 rows are attached to the goods row with the same entry summary number and line number.
Every row of the file ends up in exactly one place: loaded (in ``tariffs``, and its line in ``lines``) or
quarantined with its reasons, each naming the file, row, column and fix
(``rows_in == rows_loaded + rows_quarantined``; blank rows are counted apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from critmin.errors import InputError
from critmin.ledger.codes import resolve_countries, resolve_hts, resolve_programs
from critmin.ledger.dates import in_window, infer_order, parse_dates
from critmin.ledger.headers import ColumnMapping, DateOrder, MappingSpec, map_headers, parse_header
from critmin.ledger.minerals import resolve_minerals
from critmin.ledger.normalise import NOT_LIQUIDATED
from critmin.ledger.numbers import parse_money, parse_share
from critmin.ledger.readers import ROW, SourceInfo, open_source
from critmin.ledger.schema import LEDGER_SCHEMA, conform
from critmin.ledger.units import resolve_units, unit_table
from critmin.reconcile.issues import issues_where, no_issues, quoted
from critmin.reconcile.layout import ACE_FIELDS, WideCh99, wide_ch99_columns

CHUNK_ROWS = 200_000
"""Rows per read block; an export is read whole, block by block."""

COLUMN_1 = "column 1"
"""The slot of a line's column-1 duty: its goods row, plus 9902 (temporary reduction) and chapter 98 rows."""

Kind = str
GOODS: Kind = "goods"
CH99: Kind = "ch99"
OTHER: Kind = "column1_other"

_AMOUNTS = ("goods_value", "duty_amount", "line_mpf", "line_hmf", "entry_mpf", "entry_hmf")
_UNLIQUIDATED = r"unliq|not liq|open|pending|extend|suspend|in process|scheduled"
_LIQUIDATED = r"liq|final|closed"
_NO_UNIT = {"X", "NONE", "N/A", "NA", "-"}

TARIFF_SCHEMA: dict[str, pl.DataType] = {
    "line_id": pl.String(),
    "entry_number": pl.String(),
    "line_number": pl.Int64(),
    "source_row": pl.Int64(),
    "tariff_ordinal": pl.Int64(),
    "kind": pl.String(),
    "hts": pl.String(),
    "heading": pl.String(),
    "declared_value": pl.Float64(),
    "duty_paid": pl.Float64(),
}


@dataclass
class AceExport:
    """An ACE export read: one row per goods line (``lines``), per loaded tariff row (``tariffs``), per
    entry summary (``entries``), and the rows not loaded (``quarantine``) with every issue (``issues``)."""

    source: SourceInfo
    mapping: ColumnMapping
    lines: pl.DataFrame
    tariffs: pl.DataFrame
    entries: pl.DataFrame
    quarantine: pl.DataFrame
    issues: pl.DataFrame
    rows_in: int
    rows_blank: int
    date_order: DateOrder
    wide_columns: list[WideCh99] = field(default_factory=list)

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.height

    @property
    def rows_loaded(self) -> int:
        return self.rows_in - self.rows_quarantined

    def quarantined_by_code(self) -> dict[str, int]:
        """Quarantined rows per code (a row with two problems counts under both)."""
        errors = self.issues.filter(pl.col("severity") == "error").unique(["source_row", "code"])
        counts = errors.group_by("code").len().sort("code")
        return {str(code): int(n) for code, n in counts.iter_rows()}

    def counts(self) -> dict[str, Any]:
        """How the rows of the file were accounted for (they always add up)."""
        return {
            "file": str(self.source.path),
            "rows_in": self.rows_in,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "rows_blank": self.rows_blank,
            "quarantined_by_code": self.quarantined_by_code(),
            "lines": self.lines.height,
            "entries": self.entries.height,
            "chapter99_rows": int(self.tariffs.filter(pl.col("kind") == CH99).height),
        }

    def ledger(self) -> pl.DataFrame:
        """The goods lines as a canonical ledger (:data:`critmin.ledger.schema.LEDGER_SCHEMA`), for the
        duty engine."""
        return conform(self.lines.select([c for c in self.lines.columns if c in LEDGER_SCHEMA]))


def read_ace(
    path: Path,
    *,
    sheet: str | int | None = None,
    date_order: DateOrder | None = None,
    label: str | None = None,
) -> AceExport:
    """Read an ACE entry-summary export; raise :class:`InputError` only when the file cannot be read at
    all (the message names the file and the fix). Rows with problems are quarantined, never dropped.

    ``label`` is what messages and the result call the file, when that is not its path: the dashboard
    saves an upload under a name of its own choosing, and the user must see the name they gave.
    """
    spec = MappingSpec(sheet=sheet, date_order=date_order)
    reader = open_source(path, spec, sheet, fieldset=ACE_FIELDS)
    try:
        chunks = list(reader.chunks(CHUNK_ROWS))
    finally:
        reader.close()
    info = reader.info if label is None else replace(reader.info, path=Path(label))
    raw = pl.concat([c.frame for c in chunks], how="vertical_relaxed")
    bad = pl.concat([c.bad_rows for c in chunks], how="vertical_relaxed")
    oversize = pl.concat([c.oversize for c in chunks], how="vertical_relaxed")
    blank = sum(c.blank for c in chunks)
    mapping = map_headers(info.columns, spec, fieldset=ACE_FIELDS)
    wide = wide_ch99_columns(mapping.unused)
    name = info.name

    typed, order = _typed(raw, mapping, spec)
    tariffs = _with_wide(typed, raw, wide)
    stage1 = pl.concat(
        [
            _reader_issues(bad, oversize, name),
            _missing_column_issues(raw, mapping, wide, name),
            _row_issues(tariffs, mapping, name, has_line=("line_number" in mapping.fields)),
        ],
        how="vertical",
    )
    errors1 = stage1.filter(pl.col("severity") == "error").select("source_row").unique()
    kept = tariffs.join(errors1.rename({"source_row": ROW}), on=ROW, how="anti")
    stage2 = _line_issues(kept, mapping, name)
    issues = pl.concat([stage1, stage2], how="vertical").sort("source_row", "code", nulls_last=False)
    errors = issues.filter(pl.col("severity") == "error").select("source_row").unique()
    loaded = kept.join(errors.rename({"source_row": ROW}), on=ROW, how="anti")

    lines, tariff_rows, entries = _shape(loaded, name)
    for fee in ("mpf", "hmf"):  # a fee column left blank on an entry: nothing was paid (ACE leaves it empty)
        if f"line_{fee}" in mapping.fields or f"entry_{fee}" in mapping.fields:
            entries = entries.with_columns(pl.col(f"paid_{fee}").fill_null(0.0))
    quarantine = _quarantine(raw, bad, issues, info.columns, name)
    return AceExport(
        source=info,
        mapping=mapping,
        lines=lines,
        tariffs=tariff_rows,
        entries=entries,
        quarantine=quarantine,
        issues=issues,
        rows_in=raw.height + bad.height,
        rows_blank=blank,
        date_order=order,
        wide_columns=wide,
    )


# ----------------------------------------------------------------------------------------------------------
# Typed columns
# ----------------------------------------------------------------------------------------------------------


def _text(raw: pl.DataFrame, mapping: ColumnMapping, name: str) -> pl.Expr:
    """The field's column as trimmed text (null when empty or when the export has no such column)."""
    column = mapping.fields.get(name)
    if column is None or column not in raw.columns:
        return pl.lit(None, dtype=pl.String)
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text).otherwise(None)


def _typed(raw: pl.DataFrame, mapping: ColumnMapping, spec: MappingSpec) -> tuple[pl.DataFrame, DateOrder]:
    """Every field as text (``*_text``) next to its parsed value; issues are judged on both."""
    texts = raw.select(
        pl.col(ROW).cast(pl.Int64),
        *(
            _text(raw, mapping, f).alias(f"{f}_text")
            for f in (
                "entry_number",
                "line_number",
                "tariff_ordinal",
                "hts",
                "entry_date",
                "entry_summary_date",
                "liquidation_date",
                "liquidation_status",
                "country_origin",
                "country_export",
                "country_smelt_cast",
                "preference_program",
                *_AMOUNTS,
                "mode_of_transport",
                "entry_type",
                "quantity",
                "unit",
                "description",
                "supplier",
                "importer_number",
                "port",
                "protest_number",
                "content_mineral",
                "content_kg",
                "content_value_usd",
                "us_metal_content_share",
            )
        ),
    )
    order: DateOrder = (
        spec.date_order
        or infer_order(
            pl.concat(
                [texts.get_column("entry_date_text"), texts.get_column("liquidation_date_text")],
                how="vertical",
            ).drop_nulls()
        )
        or "mdy"
    )
    liq_text = pl.col("liquidation_date_text")
    not_liquidated = liq_text.str.to_lowercase().is_in(sorted(NOT_LIQUIDATED))
    frame = texts.with_columns(
        pl.col("entry_number_text").str.to_uppercase().str.replace_all(r"[\s\-]", "").alias("entry_number"),
        _whole_number(pl.col("line_number_text")).alias("line_number"),
        _whole_number(pl.col("tariff_ordinal_text")).alias("tariff_ordinal"),
        pl.col("hts_text").str.replace_all(r"[\s.\-]", "").alias("hts_digits"),
        parse_dates(pl.col("entry_date_text"), order).alias("entry_date"),
        pl.when(not_liquidated).then(None).otherwise(liq_text).alias("liquidation_date_text"),
        pl.when(not_liquidated).then(None).otherwise(parse_dates(liq_text, order)).alias("liquidation_date"),
        _liquidation_status(pl.col("liquidation_status_text")).alias("liquidation_status"),
        _mode(pl.col("mode_of_transport_text")).alias("mode_of_transport"),
        pl.col("entry_type_text").str.zfill(2).alias("entry_type"),
    )
    for name in (*_AMOUNTS, "content_kg", "content_value_usd", "quantity"):
        values, _ = parse_money(frame.get_column(f"{name}_text"), finite=False)
        frame = frame.with_columns(values.alias(name))
    share = parse_share(frame.get_column("us_metal_content_share_text"), finite=False)
    frame = frame.with_columns(share.alias("us_metal_content_share"))
    frame = _kinds(frame)
    frame = _lookups(frame, mapping)
    return frame, order


def _whole_number(text: pl.Expr) -> pl.Expr:
    """``001``, ``1`` and ``1.0`` are line 1; anything else is null (and reported where required)."""
    number = text.cast(pl.Float64, strict=False)
    return pl.when(number.is_not_null() & (number == number.floor()) & (number >= 0)).then(
        number.cast(pl.Int64)
    )


def _liquidation_status(text: pl.Expr) -> pl.Expr:
    """``liquidated``, ``unliquidated`` (extended and suspended liquidations are not yet liquidated), null
    when not given, ``unknown`` for a status critmin does not read."""
    lowered = text.str.to_lowercase()
    return (
        pl.when(text.is_null())
        .then(None)
        .when(lowered.str.contains(_UNLIQUIDATED) | lowered.is_in(sorted(NOT_LIQUIDATED)))
        .then(pl.lit("unliquidated"))
        .when(lowered.str.contains(_LIQUIDATED))
        .then(pl.lit("liquidated"))
        .otherwise(pl.lit("unknown"))
    )


def _mode(text: pl.Expr) -> pl.Expr:
    padded = text.str.zfill(2)
    return pl.when(padded.str.contains(r"^\d{2}$")).then(padded)


def _kinds(frame: pl.DataFrame) -> pl.DataFrame:
    """Goods row, Chapter 99 row (9903) or another column-1 row (9902 temporary reductions, chapter 98)."""
    digits = pl.col("hts_digits")
    ch99 = digits.str.contains(r"^9903")
    other = digits.str.contains(r"^(99|98)") & ~ch99
    return frame.with_columns(
        pl.when(digits.is_null())
        .then(None)
        .when(ch99)
        .then(pl.lit(CH99))
        .when(other)
        .then(pl.lit(OTHER))
        .otherwise(pl.lit(GOODS))
        .alias("kind"),
        pl.when(ch99 & digits.str.contains(r"^\d{8}(\d{2})?$"))
        .then(digits.str.slice(0, 4) + "." + digits.str.slice(4, 2) + "." + digits.str.slice(6, 2))
        .alias("heading"),
    )


def _lookups(frame: pl.DataFrame, mapping: ColumnMapping) -> pl.DataFrame:
    """HTS, country, programme, unit and mineral looked up once per distinct spelling and joined back."""
    goods = frame.filter(pl.col("kind") == GOODS)
    hts = resolve_hts(goods.get_column("hts_digits")).select(
        pl.col("raw").alias("hts_digits"),
        pl.col("hts").alias("hts_code"),
        pl.col("status").alias("hts_status"),
        pl.col("suggestions").alias("hts_suggestions"),
    )
    countries = resolve_countries(
        pl.concat([frame.get_column("country_origin_text"), frame.get_column("country_export_text")])
        .append(frame.get_column("country_smelt_cast_text"))
        .rename("raw")
    )
    origin = countries.select(
        pl.col("raw").alias("country_origin_text"),
        pl.col("iso3").alias("country_origin"),
        pl.col("suggestions").alias("origin_suggestions"),
    )
    export = countries.select(
        pl.col("raw").alias("country_export_text"), pl.col("iso3").alias("country_export")
    )
    smelt = countries.select(
        pl.col("raw").alias("country_smelt_cast_text"), pl.col("iso3").alias("country_smelt_cast")
    )
    programmes = resolve_programs(frame.get_column("preference_program_text")).select(
        pl.col("raw").alias("preference_program_text"),
        pl.col("program").alias("preference_program"),
        pl.col("known").alias("program_known"),
    )
    units = resolve_units(frame.get_column("unit_text")).select(
        pl.col("raw").alias("unit_text"), pl.col("unit"), pl.col("unit_scale")
    )
    mass = unit_table().filter(pl.col("dimension") == "mass").select("unit", pl.col("to_base").alias("to_kg"))
    minerals = resolve_minerals(frame.get_column("content_mineral_text")).select(
        pl.col("raw").alias("content_mineral_text"), pl.col("mineral").alias("content_mineral")
    )
    named = _header_mineral(mapping)
    out = frame
    for table, key in (
        (hts, "hts_digits"),
        (origin, "country_origin_text"),
        (export, "country_export_text"),
        (smelt, "country_smelt_cast_text"),
        (programmes, "preference_program_text"),
        (units, "unit_text"),
        (minerals, "content_mineral_text"),
    ):
        out = out.join(table.unique(key), on=key, how="left", maintain_order="left")
    out = out.join(mass, on="unit", how="left", maintain_order="left")
    return out.with_columns(
        (pl.col("quantity") * pl.col("unit_scale").fill_null(1.0)).alias("quantity"),
        (pl.col("quantity") * pl.col("unit_scale").fill_null(1.0) * pl.col("to_kg")).alias("quantity_kg"),
        pl.coalesce(pl.col("content_mineral"), pl.lit(named, dtype=pl.String)).alias("content_mineral"),
    )


def _header_mineral(mapping: ColumnMapping) -> str | None:
    """A mineral named in the header of your content column (``Copper Content Value (USD)``)."""
    if "content_mineral" in mapping.fields:
        return None
    for name in ("content_value_usd", "content_kg"):
        column = mapping.fields.get(name)
        if column is not None and (mineral := parse_header(column).mineral) is not None:
            return mineral
    return None


def _with_wide(typed: pl.DataFrame, raw: pl.DataFrame, wide: list[WideCh99]) -> pl.DataFrame:
    """One tariff row per Chapter 99 number held in a column of its own, next to the row's goods row."""
    frame = typed.with_columns(pl.lit(0, dtype=pl.Int64).alias("_part"))
    if not wide:
        return frame
    parts = [frame]
    keep = [
        c for c in frame.columns if c not in {"hts_text", "hts_digits", "kind", "heading", "duty_amount_text"}
    ]
    for item in wide:
        number = pl.col(item.number_column).cast(pl.String).str.strip_chars()
        duty = (
            pl.col(item.duty_column).cast(pl.String).str.strip_chars()
            if item.duty_column is not None
            else pl.lit(None, dtype=pl.String)
        )
        cells = raw.select(
            pl.col(ROW).cast(pl.Int64), number.alias("hts_text"), duty.alias("duty_amount_text")
        )
        part = (
            frame.select(keep)
            .join(cells, on=ROW, how="left", maintain_order="left")
            .filter(pl.col("hts_text").str.len_chars() > 0)
            .with_columns(
                pl.col("hts_text").str.replace_all(r"[\s.\-]", "").alias("hts_digits"),
                pl.lit(item.index, dtype=pl.Int64).alias("_part"),
                pl.lit(None, dtype=pl.Int64).alias("tariff_ordinal"),
                pl.lit(0.0).alias("goods_value"),
            )
        )
        values, _ = parse_money(part.get_column("duty_amount_text"), finite=False)
        part = _kinds(part.with_columns(values.alias("duty_amount")))
        parts.append(part.select(frame.columns))
    return pl.concat(parts, how="vertical")


# ----------------------------------------------------------------------------------------------------------
# Issues
# ----------------------------------------------------------------------------------------------------------


def _reader_issues(bad: pl.DataFrame, oversize: pl.DataFrame, source: str) -> pl.DataFrame:
    """Rows the reader could not split, and cells over the size limit."""
    split = issues_where(
        bad,
        pl.lit(True),
        source=source,
        column="(row)",
        code="field_count",
        message=pl.lit("the row has ")
        + pl.col("fields").cast(pl.String)
        + pl.lit(" fields where the header has ")
        + pl.col("expected").cast(pl.String)
        + pl.lit("."),
    )
    big = [
        issues_where(
            group,
            pl.lit(True),
            source=source,
            column=str(column),
            code="cell_too_large",
            message=pl.lit("the cell is ") + pl.col("bytes").cast(pl.String) + pl.lit(" bytes long."),
        )
        for (column,), group in oversize.group_by("column", maintain_order=True)
    ]
    return pl.concat([split, *big], how="vertical")


def _missing_column_issues(
    raw: pl.DataFrame, mapping: ColumnMapping, wide: list[WideCh99], source: str
) -> pl.DataFrame:
    """Every row, once per required field the export has no column for (the mapping shows it missing)."""
    found = [
        issues_where(
            raw,
            pl.lit(True),
            source=source,
            column=name,
            code="column_missing",
            message=pl.lit(f"the export has no column for {name} (e.g. '{_example(name)}')."),
        )
        for name in mapping.missing_required
    ]
    found += [
        issues_where(
            raw,
            pl.col(item.number_column).is_not_null(),
            source=source,
            column=item.number_column,
            code="column_missing",
            message=pl.lit(
                f"the Chapter 99 number column '{item.number_column}' has no duty column beside it "
                f"(e.g. 'Chapter 99 Duty Amount {item.index}'), so the duty paid under it is unknown."
            ),
        )
        for item in wide
        if item.duty_column is None
    ]
    return pl.concat([no_issues(), *found], how="vertical")


def _example(name: str) -> str:
    return {
        "entry_number": "Entry Summary Number",
        "hts": "HTS Number - Full",
        "entry_date": "Entry Date",
        "duty_amount": "Line Tariff Duty Amount",
    }.get(name, name)


def _row_issues(frame: pl.DataFrame, mapping: ColumnMapping, source: str, *, has_line: bool) -> pl.DataFrame:
    """Cell-level checks, one whole-column expression each."""
    goods = pl.col("kind") == GOODS

    def label(name: str) -> str:
        return mapping.fields.get(name, name)

    def check(condition: pl.Expr, name: str, code: str, message: pl.Expr) -> pl.DataFrame:
        return issues_where(frame, condition, source=source, column=label(name), code=code, message=message)

    found = [
        check(
            pl.col("entry_number").is_null() & pl.lit("entry_number" in mapping.fields),
            "entry_number",
            "entry_number_missing",
            pl.lit("no entry summary number."),
        ),
        check(
            pl.col("hts_digits").is_null() & pl.lit("hts" in mapping.fields),
            "hts",
            "hts_missing",
            pl.lit("no tariff number."),
        ),
        check(
            goods & pl.col("hts_status").is_in(["unknown", "malformed"]),
            "hts",
            "hts_unknown",
            quoted(pl.col("hts_text"))
            + pl.lit(" is not an HTS 2025 code")
            + pl.when(pl.col("hts_suggestions").str.len_chars() > 0)
            .then(pl.lit("; nearest: ") + pl.col("hts_suggestions"))
            .otherwise(pl.lit(""))
            + pl.lit("."),
        ),
        check(
            (pl.col("kind") == CH99) & pl.col("heading").is_null(),
            "hts",
            "heading_malformed",
            quoted(pl.col("hts_text")) + pl.lit(" is not a Chapter 99 number of 8 digits."),
        ),
        check(
            goods & pl.col("entry_date_text").is_null() & pl.lit("entry_date" in mapping.fields),
            "entry_date",
            "date_missing",
            pl.lit("no entry date on the goods row."),
        ),
        check(
            pl.col("entry_date_text").is_not_null()
            & (pl.col("entry_date").is_null() | ~in_window(pl.col("entry_date"))),
            "entry_date",
            "date_invalid",
            quoted(pl.col("entry_date_text")) + pl.lit(" is not a date between 1980 and 2099."),
        ),
        check(
            pl.col("liquidation_date_text").is_not_null()
            & (
                pl.col("liquidation_date").is_null()
                | ~in_window(pl.col("liquidation_date"))
                | (pl.col("liquidation_date") < pl.col("entry_date"))
            ),
            "liquidation_date",
            "liquidation_date_invalid",
            quoted(pl.col("liquidation_date_text"))
            + pl.lit(" is not a date on or after the entry date ")
            + pl.col("entry_date").cast(pl.String).fill_null("(none)")
            + pl.lit("."),
        ),
        check(
            goods & pl.col("country_origin_text").is_null() & pl.lit("country_origin" in mapping.fields),
            "country_origin",
            "country_missing",
            pl.lit("no country of origin on the goods row."),
        ),
        check(
            goods & pl.col("country_origin_text").is_not_null() & pl.col("country_origin").is_null(),
            "country_origin",
            "country_unknown",
            quoted(pl.col("country_origin_text"))
            + pl.lit(" is not a country")
            + pl.when(pl.col("origin_suggestions").str.len_chars() > 0)
            .then(pl.lit("; did you mean ") + pl.col("origin_suggestions"))
            .otherwise(pl.lit(""))
            + pl.lit("."),
        ),
        check(
            goods & pl.col("goods_value_text").is_null() & pl.lit("goods_value" in mapping.fields),
            "goods_value",
            "value_missing",
            pl.lit("no entered value on the goods row."),
        ),
        check(
            pl.col("duty_amount_text").is_null() & pl.lit("duty_amount" in mapping.fields),
            "duty_amount",
            "duty_missing",
            pl.lit("no duty amount on the row."),
        ),
        check(
            goods
            & pl.col("preference_program_text").is_not_null()
            & ~pl.col("program_known").fill_null(True),
            "preference_program",
            "preference_unknown",
            quoted(pl.col("preference_program_text")) + pl.lit(" is not a special programme indicator."),
        ),
        check(
            pl.col("content_mineral_text").is_not_null() & pl.col("content_mineral").is_null(),
            "content_mineral",
            "mineral_unknown",
            quoted(pl.col("content_mineral_text")) + pl.lit(" is not a mineral critmin knows."),
        ),
        check(
            goods
            & pl.col("unit_text").is_not_null()
            & pl.col("unit").is_null()
            & ~pl.col("unit_text").str.to_uppercase().is_in(sorted(_NO_UNIT)),
            "unit",
            "unit_unknown",
            quoted(pl.col("unit_text")) + pl.lit(" is not a unit critmin knows; the quantity has no unit."),
        ),
        check(
            pl.col("liquidation_status") == "unknown",
            "liquidation_status",
            "liquidation_status_unknown",
            quoted(pl.col("liquidation_status_text")) + pl.lit(" is not a liquidation status critmin reads."),
        ),
        check(
            pl.col("mode_of_transport_text").is_not_null() & pl.col("mode_of_transport").is_null(),
            "mode_of_transport",
            "mode_of_transport_unknown",
            quoted(pl.col("mode_of_transport_text")) + pl.lit(" is not a two-digit mode of transportation."),
        ),
    ]
    if has_line:
        found.append(
            check(
                pl.col("line_number").is_null(),
                "line_number",
                "line_number_invalid",
                quoted(pl.col("line_number_text")) + pl.lit(" is not a line number."),
            )
        )
    else:
        found.append(
            check(
                pl.col("kind") != GOODS,
                "line_number",
                "line_number_invalid",
                pl.lit(
                    "the export has no line number, so this Chapter 99 row cannot be attached to its line."
                ),
            )
        )
        found.append(
            check(
                goods & (pl.col("_part") == 0),
                "line_number",
                "line_number_assumed",
                pl.lit("line number taken from the order of the goods rows of the entry."),
            )
        )
    for name in (*_AMOUNTS, "content_kg", "content_value_usd", "quantity"):
        text, value = pl.col(f"{name}_text"), pl.col(name)
        found.append(
            check(
                text.is_not_null() & value.is_not_null() & (~value.is_finite() | (value.abs() >= 1e15)),
                name,
                "number_not_finite",
                quoted(text) + pl.lit(" is not a finite amount below 10^15."),
            )
        )
        found.append(
            check(
                text.is_not_null() & (value.is_null() | (value < 0)),
                name,
                "amount_invalid",
                quoted(text) + pl.lit(" is not a non-negative amount."),
            )
        )
    share = pl.col("us_metal_content_share")
    found.append(
        check(
            pl.col("us_metal_content_share_text").is_not_null()
            & (share.is_null() | (share < 0) | (share > 1)),
            "us_metal_content_share",
            "amount_invalid",
            quoted(pl.col("us_metal_content_share_text")) + pl.lit(" is not a share between 0 and 1."),
        )
    )
    return pl.concat([no_issues(), *found], how="vertical")


def _line_issues(frame: pl.DataFrame, mapping: ColumnMapping, source: str) -> pl.DataFrame:
    """Checks across the rows of one entry line: repeats, a line without its goods row, two goods rows."""
    frame = _assign_lines(frame)
    key = ["entry_number", "line_number", "tariff_ordinal", "hts_digits", "_part"]
    if "tariff_ordinal" not in mapping.fields:
        key = ["entry_number", "line_number", "hts_digits", "goods_value", "duty_amount", "_part"]
    frame = frame.with_columns(
        pl.struct(key).is_first_distinct().alias("_first"),
        pl.col(ROW).min().over(key).alias("_repeats"),
    )
    label = mapping.fields.get("line_number", "line_number")
    at = pl.lit("entry ") + pl.col("entry_number") + pl.lit(" line ") + pl.col("line_number").cast(pl.String)
    repeats = issues_where(
        frame,
        ~pl.col("_first"),
        source=source,
        column=mapping.fields.get("hts", "hts"),
        code="duplicate_row",
        message=pl.lit("repeats row ")
        + pl.col("_repeats").cast(pl.String)
        + pl.lit(" (")
        + at
        + pl.lit(")."),
    )
    first = frame.filter(pl.col("_first")).with_columns(
        (pl.col("kind") == GOODS).sum().over("entry_number", "line_number").alias("_goods")
    )
    orphan = issues_where(
        first,
        pl.col("_goods") == 0,
        source=source,
        column=label,
        code="goods_row_missing",
        message=at
        + pl.lit(" has no goods row in the export (or its goods row was quarantined: see that row)."),
    )
    ambiguous = issues_where(
        first,
        pl.col("_goods") > 1,
        source=source,
        column=label,
        code="line_ambiguous",
        message=at + pl.lit(" has ") + pl.col("_goods").cast(pl.String) + pl.lit(" goods tariff numbers."),
    )
    return pl.concat([repeats, orphan, ambiguous], how="vertical")


def _assign_lines(frame: pl.DataFrame) -> pl.DataFrame:
    """Without a line number column, each goods row is its own line, numbered in file order per entry."""
    if frame.get_column("line_number").null_count() < frame.height:
        return frame
    order = pl.col(ROW).rank("dense").over("entry_number").cast(pl.Int64)
    return frame.with_columns(pl.when(pl.col("kind") == GOODS).then(order).alias("line_number"))


# ----------------------------------------------------------------------------------------------------------
# Loaded rows -> lines, tariff rows, entries
# ----------------------------------------------------------------------------------------------------------


def _shape(loaded: pl.DataFrame, source: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    frame = _assign_lines(loaded).with_columns(
        (pl.col("entry_number") + pl.lit("/") + pl.col("line_number").cast(pl.String)).alias("line_id"),
        pl.col("goods_value").fill_null(0.0),
    )
    by_line = ["entry_number", "line_number"]
    frame = (
        frame.with_columns((pl.col("kind") != GOODS).alias("_not_goods"))
        .sort([*by_line, "_not_goods", "tariff_ordinal", ROW, "_part"], nulls_last=True)
        .drop("_not_goods")
    )
    tariffs = frame.select(
        "line_id",
        "entry_number",
        "line_number",
        pl.col(ROW).alias("source_row"),
        "tariff_ordinal",
        "kind",
        pl.when(pl.col("kind") == GOODS)
        .then(pl.col("hts_code"))
        .otherwise(pl.col("hts_digits"))
        .alias("hts"),
        "heading",
        pl.col("goods_value").alias("declared_value"),
        pl.col("duty_amount").alias("duty_paid"),
    )
    per_line = frame.group_by(by_line, maintain_order=True).agg(
        pl.col("line_mpf").drop_nulls().first().alias("paid_mpf_line"),
        pl.col("line_hmf").drop_nulls().first().alias("paid_hmf_line"),
        pl.col("liquidation_date").drop_nulls().first().alias("_liq_line"),
        pl.col("heading").drop_nulls().unique(maintain_order=True).alias("headings"),
        pl.col("duty_amount").filter(pl.col("kind") != CH99).sum().alias("paid_column1"),
        pl.col("duty_amount").sum().alias("paid_duty"),
    )
    per_entry = frame.group_by("entry_number", maintain_order=True).agg(
        pl.col("entry_mpf").drop_nulls().first().alias("_entry_mpf"),
        pl.col("entry_hmf").drop_nulls().first().alias("_entry_hmf"),
        pl.col("liquidation_date").drop_nulls().first().alias("_liq_entry"),
        pl.col("liquidation_status")
        .filter(pl.col("liquidation_status").is_in(["liquidated", "unliquidated"]))
        .first()
        .alias("_status_entry"),
        pl.col("mode_of_transport").drop_nulls().first().alias("_mode_entry"),
        pl.col("entry_type").drop_nulls().first().alias("_type_entry"),
    )
    goods = frame.filter(pl.col("kind") == GOODS)
    lines = (
        goods.join(per_line, on=by_line, how="left", maintain_order="left")
        .join(per_entry, on="entry_number", how="left", maintain_order="left")
        .select(
            "line_id",
            "entry_number",
            "line_number",
            pl.lit(source, dtype=pl.String).alias("source_file"),
            pl.col(ROW).alias("source_row"),
            "entry_date",
            pl.col("hts_code").alias("hts"),
            pl.col("description_text").alias("description"),
            "country_origin",
            "country_export",
            "country_smelt_cast",
            pl.col("supplier_text").alias("supplier"),
            "quantity",
            "unit",
            "quantity_kg",
            pl.col("goods_value").alias("customs_value_usd"),
            "preference_program",
            "content_mineral",
            "content_kg",
            "content_value_usd",
            "us_metal_content_share",
            pl.coalesce("_liq_line", "_liq_entry").alias("liquidation_date"),
            pl.col("_status_entry").alias("liquidation_status"),
            pl.coalesce("mode_of_transport", "_mode_entry").alias("mode_of_transport"),
            pl.coalesce("entry_type", "_type_entry").alias("entry_type"),
            pl.col("importer_number_text").alias("importer_number"),
            pl.col("port_text").alias("port"),
            pl.col("protest_number_text").alias("protest_number"),
            "headings",
            "paid_column1",
            "paid_duty",
            "paid_mpf_line",
            "paid_hmf_line",
        )
    )
    entries = lines.group_by("entry_number", maintain_order=True).agg(
        pl.col("entry_date").min(),
        pl.col("entry_type").drop_nulls().first(),
        pl.col("mode_of_transport").drop_nulls().first(),
        pl.col("liquidation_date").drop_nulls().first(),
        pl.col("liquidation_status").drop_nulls().first(),
        pl.len().cast(pl.Int64).alias("lines"),
        pl.col("customs_value_usd").sum().alias("entered_value"),
        pl.col("paid_duty").sum(),
        pl.col("paid_mpf_line").sum().alias("_mpf_lines"),
        pl.col("paid_mpf_line").is_not_null().any().alias("_has_mpf"),
        pl.col("paid_hmf_line").sum().alias("_hmf_lines"),
        pl.col("paid_hmf_line").is_not_null().any().alias("_has_hmf"),
    )
    entries = entries.join(
        per_entry.select("entry_number", "_entry_mpf", "_entry_hmf"), on="entry_number", how="left"
    ).select(
        pl.exclude("_mpf_lines", "_has_mpf", "_hmf_lines", "_has_hmf", "_entry_mpf", "_entry_hmf"),
        pl.coalesce("_entry_mpf", pl.when(pl.col("_has_mpf")).then(pl.col("_mpf_lines"))).alias("paid_mpf"),
        pl.coalesce("_entry_hmf", pl.when(pl.col("_has_hmf")).then(pl.col("_hmf_lines"))).alias("paid_hmf"),
    )
    return lines, tariffs.cast(pl.Schema(TARIFF_SCHEMA)), entries


def _quarantine(
    raw: pl.DataFrame, bad: pl.DataFrame, issues: pl.DataFrame, columns: list[str], source: str
) -> pl.DataFrame:
    """One row per quarantined row: its codes, the messages and the original cells as JSON (to fix it)."""
    errors = issues.filter(pl.col("severity") == "error")
    grouped = errors.group_by("source_row", maintain_order=True).agg(
        pl.col("code").unique(maintain_order=True).str.join(", ").alias("codes"),
        pl.col("message").unique(maintain_order=True).str.join(" | ").alias("message"),
    )
    cells = raw.select(
        pl.col(ROW).cast(pl.Int64).alias("source_row"),
        pl.struct([pl.col(c) for c in columns]).struct.json_encode().alias("raw"),
    )
    texts = bad.select(pl.col(ROW).cast(pl.Int64).alias("source_row"), pl.col("text").alias("raw"))
    originals = pl.concat([cells, texts], how="vertical")
    return (
        grouped.join(originals, on="source_row", how="left")
        .select(
            pl.lit(source, dtype=pl.String).alias("source_file"),
            "source_row",
            "codes",
            "message",
            "raw",
        )
        .sort("source_row")
    )


def require_lines(export: AceExport) -> None:
    """Refuse an export with no loadable line, naming the reasons the rows were quarantined."""
    if export.lines.height:
        return
    reasons = ", ".join(f"{code} ({n})" for code, n in export.quarantined_by_code().items()) or "no rows"
    raise InputError(
        f"{export.source.path}: no entry line could be loaded from {export.rows_in} rows ({reasons}). "
        "Fix: export the ACE report ES-003 'Entry Summary Line Tariff Details' (or a line-level entry "
        "summary report) with Entry Summary Number, Entry Date, HTS Number - Full, Country of Origin Code, "
        "Line Tariff Goods Value Amount and Line Tariff Duty Amount."
    )


__all__ = ["COLUMN_1", "AceExport", "read_ace", "require_lines"]
