"""The ACE entry-summary report layout: which column of an export holds which fact.

CBP's ACE Reports (ES-003 "Entry Summary Line Tariff Details", and the line-level entry summary reports)
export one row per *tariff number* of an entry summary line: the goods classification (chapters 1-97) and
each Chapter 99 number reported on the line (9903.xx.xx additional duties) are separate rows sharing the
entry summary number and line number, told apart by the tariff ordinal number. Some broker systems export
the same thing one row per line instead, with the Chapter 99 numbers in columns of their own; both shapes
are read.

Headers are recognised the way the ledger ingest recognises them (:mod:`critmin.ledger.headers`: lower
case, punctuation to spaces, ``(1)`` and units in brackets set aside), so ``HTS Number - Full``,
``hts_number_full`` and ``HTS NUMBER FULL`` are the same column. The names in :data:`ACE_NAMES` are
checked against exports of the real report; :data:`ASSUMED_NAMES` were not (see ``docs/reconcile.md``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from critmin.ledger.fields import FIELDS_BY_NAME, FieldSet, InputField
from critmin.ledger.headers import normalise_header, parse_header

ACE_DOCUMENT = (
    "U.S. Customs and Border Protection, ACE Reports: ES-003 Entry Summary Line Tariff Details "
    "(ACE Reports Data Dictionary: Trade, updated July 2018)"
)
"""The document the layout follows; cited in the output and in docs/reconcile.md."""
ACE_DOCUMENT_URL = "https://www.cbp.gov/trade/automated/ace-reports"


def _ledger_field(name: str, description: str | None = None) -> InputField:
    """A ledger field read from an ACE export with the ledger's own header spellings."""
    base = FIELDS_BY_NAME[name]
    return InputField(name, description or base.description, base.synonyms)


ACE_INPUT_FIELDS: tuple[InputField, ...] = (
    InputField(
        "entry_number",
        "Entry summary number: filer code, entry number and check digit (`BII-0599285-4`, `BII05992854`).",
        (
            "entry summary number",
            "entry number",
            "entry summary no",
            "entry no",
            "entry num",
            "entry nbr",
            "cbp entry number",
            "customs entry number",
            "entry",
        ),
        required=True,
    ),
    InputField(
        "line_number",
        "Entry summary line number; the Chapter 99 rows of a line carry the number of their goods line.",
        (
            "entry summary line number",
            "line number",
            "entry line number",
            "line no",
            "line nbr",
            "entry line",
            "line",
        ),
    ),
    InputField(
        "tariff_ordinal",
        "Tariff ordinal number: the order of the tariff numbers reported on one line.",
        (
            "tariff ordinal number",
            "tariff ordinal",
            "line tariff ordinal number",
            "ordinal number",
            "ordinal",
        ),
    ),
    InputField(
        "hts",
        "Tariff number of the row: the goods classification (chapters 1-97) or a Chapter 99 number "
        "(9903.xx.xx).",
        (
            "hts number full",
            "hts number",
            "line tariff number",
            "tariff number",
            "htsus number",
            "hts",
            "hts code",
            "htsus",
            "hts no",
            "tariff no",
            "harmonized tariff number",
        ),
        required=True,
    ),
    InputField(
        "entry_date",
        "Entry date: the date whose rates apply (19 CFR 141.69).",
        ("entry date", "date of entry", "importation date", "release date", "entry dt"),
        required=True,
    ),
    InputField("entry_summary_date", "Entry summary date (shown, not used).", ("entry summary date",)),
    InputField(
        "liquidation_date",
        "Liquidation date; empty while the entry is not liquidated.",
        (
            "liquidation date",
            "entry summary liquidation date",
            "liq date",
            "date of liquidation",
            "date liquidated",
        ),
    ),
    InputField(
        "liquidation_status",
        "Liquidation status as ACE shows it (`Liquidated`, `Unliquidated`, `Extended`, `Suspended` ...).",
        (
            "liquidation status",
            "entry summary liquidation status",
            "liquidation status code",
            "liquidation status description",
            "liq status",
        ),
    ),
    InputField(
        "country_origin",
        "Country of origin (ISO code).",
        (
            "country of origin code",
            "country of origin",
            "line country of origin code",
            "coo",
            "origin country",
            "origin",
        ),
        required=True,
    ),
    InputField(
        "country_export",
        "Country of export (ISO code).",
        ("country of export code", "country of export", "export country"),
    ),
    InputField(
        "preference_program",
        "Special programme indicator claimed on the line (S, KR, AU ...).",
        ("line spi code", "spi code", "spi", "special program indicator", "line spi"),
    ),
    InputField(
        "goods_value",
        "Entered value of the tariff number, USD (0 on most Chapter 99 rows).",
        (
            "line tariff goods value amount",
            "line goods value amount",
            "line entered value amount",
            "line entered value",
            "entered value",
            "goods value",
            "line value",
            "customs value",
            "value",
        ),
        required=True,
    ),
    InputField(
        "duty_amount",
        "Duty deposited for the tariff number, USD.",
        (
            "line tariff duty amount",
            "line duty amount",
            "duty amount",
            "line tariff amount",
            "duty paid",
            "duty",
        ),
        required=True,
    ),
    InputField(
        "line_mpf",
        "Merchandise processing fee of the line, USD (read once per line).",
        (
            "line mpf amount",
            "mpf amount",
            "line merchandise processing fee amount",
            "merchandise processing fee",
        ),
    ),
    InputField(
        "line_hmf",
        "Harbor maintenance fee of the line, USD (read once per line).",
        ("line hmf amount", "hmf amount", "line harbor maintenance fee amount", "harbor maintenance fee"),
    ),
    InputField(
        "entry_mpf",
        "Merchandise processing fee paid for the whole entry summary, USD (read once per entry).",
        ("total paid mpf amount", "entry mpf amount", "total mpf amount", "entry summary mpf amount"),
    ),
    InputField(
        "entry_hmf",
        "Harbor maintenance fee paid for the whole entry summary, USD (read once per entry).",
        ("total paid hmf amount", "entry hmf amount", "total hmf amount", "entry summary hmf amount"),
    ),
    InputField(
        "mode_of_transport",
        "Mode of transportation code (10 vessel, 11 vessel container, 20/21 rail, 30/31 truck, 40/41 air).",
        (
            "mode of transportation code",
            "mode of transportation",
            "mode of transport code",
            "mode of transport",
            "transport mode code",
            "mot code",
            "mot",
        ),
    ),
    InputField(
        "entry_type",
        "Entry type code (01 consumption, 03 AD/CVD, 11 informal ...).",
        ("entry type code", "entry type"),
    ),
    InputField(
        "quantity",
        "First tariff quantity of the goods row.",
        ("line tariff quantity", "tariff quantity", "quantity", "qty"),
    ),
    InputField(
        "unit",
        "Unit of that quantity (KG, NO, X ...).",
        ("line tariff uom code", "line tariff uom", "uom code", "uom", "unit of measure", "unit"),
    ),
    InputField(
        "description",
        "Goods description (shown, not used).",
        ("merchandise description", "line description", "goods description", "description"),
    ),
    InputField(
        "supplier",
        "Manufacturer (MID) or supplier (shown, not used).",
        ("manufacturer id", "manufacturer name", "manufacturer", "mid", "supplier"),
    ),
    InputField("importer_number", "Importer of record number (shown).", ("importer number", "ior number")),
    InputField("port", "Port of entry code (shown).", ("port of entry code", "port code", "port of entry")),
    InputField("protest_number", "Protest number, when a protest was filed (shown).", ("protest number",)),
    _ledger_field("country_smelt_cast", "Your column: country of smelt and cast, for Section 232 metals."),
    _ledger_field(
        "content_mineral", "Your column: the mineral of known content (copper, aluminum, steel ...)."
    ),
    _ledger_field("content_kg", "Your column: kg of that mineral in the line."),
    _ledger_field(
        "content_value_usd",
        "Your column: value of that content, USD, from your own records (the declared content is compared "
        "with it). A header such as `Copper Content Value (USD)` names the mineral.",
    ),
    _ledger_field("us_metal_content_share", "Your column: U.S. melted/poured or smelted/cast share, 0-1."),
)

ACE_FIELDS = FieldSet(
    "ACE entry summary",
    ACE_INPUT_FIELDS,
    patterns=(
        ("hts", re.compile(r"^(?!.*\b(desc|99|ch99|chapter|additional|secondary|supplemental)\b).*\bhts\b")),
        ("liquidation_date", re.compile(r"\bliq\w*\b.*\b(date|dt)\b|\b(date|dt)\b.*\bliq")),
        ("liquidation_status", re.compile(r"\bliq\w*\b.*\bstatus\b")),
    ),
)
"""The ACE fields as one field set, for :func:`critmin.ledger.headers.map_headers` and the readers."""

ACE_NAMES: tuple[str, ...] = (
    "Entry Summary Number",
    "Entry Summary Line Number",
    "Entry Type Code",
    "Importer Number",
    "Port of Entry Code",
    "Entry Date",
    "Entry Summary Date",
    "Importation Date",
    "Country of Origin Code",
    "Country of Export Code",
    "Manufacturer ID",
    "Line SPI Code",
    "Tariff Ordinal Number",
    "HTS Number - Full",
    "Line Tariff Quantity (1)",
    "Line Tariff UOM (1) Code",
    "Line Tariff Goods Value Amount",
    "Line Tariff Duty Amount",
    "Line Goods Value Amount",
    "Line Duty Amount",
    "Line MPF Amount",
    "Line HMF Amount",
    "Total Paid MPF Amount",
    "Liquidation Date",
    "Liquidation Status",
    "Protest Number",
)
"""Column names of the ACE entry summary reports confirmed in exports of the real reports."""

ASSUMED_NAMES: tuple[str, ...] = (
    "Mode of Transportation Code",
    "Total Paid HMF Amount",
)
"""Column names used in the samples and recognised, but not confirmed in an export of the real report:
the data element is on the entry summary (CBP Form 7501, ACE CATAIR), its report column name is assumed."""


# ----------------------------------------------------------------------------------------------------------
# Chapter 99 numbers in columns of their own (one row per line)
# ----------------------------------------------------------------------------------------------------------

_CH99_STEM = r"(chapter 99|chapter99|ch 99|ch99|additional|secondary|supplemental)"
_CH99_NUMBER = re.compile(
    rf"^{_CH99_STEM}( (hts|htsus|tariff|heading))?( (number|no|code))?( (?P<index>\d+))?$"
)
_CH99_DUTY = re.compile(
    rf"^{_CH99_STEM}( (hts|htsus|tariff|heading))?( (number|no))? "
    rf"(duty|duty amount|amount)( (?P<index>\d+))?$"
)


@dataclass(frozen=True)
class WideCh99:
    """One Chapter 99 number held in a column of a one-row-per-line export, with its duty column if any."""

    index: int
    number_column: str
    duty_column: str | None


def wide_ch99_columns(columns: Sequence[str]) -> list[WideCh99]:
    """Columns such as ``Chapter 99 Number 1`` / ``Chapter 99 Duty Amount 1`` (or ``Ch99 HTS``), paired by
    their number; a duty column without a number column is left alone."""
    numbers: dict[int, str] = {}
    duties: dict[int, str] = {}
    for column in columns:
        base = parse_header(column).base or normalise_header(column)
        if (found := _CH99_DUTY.match(base)) is not None:
            duties.setdefault(int(found.group("index") or 1), column)
        elif (found := _CH99_NUMBER.match(base)) is not None:
            numbers.setdefault(int(found.group("index") or 1), column)
    return [WideCh99(i, numbers[i], duties.get(i)) for i in sorted(numbers)]


__all__ = [
    "ACE_DOCUMENT",
    "ACE_DOCUMENT_URL",
    "ACE_FIELDS",
    "ACE_INPUT_FIELDS",
    "ACE_NAMES",
    "ASSUMED_NAMES",
    "WideCh99",
    "wide_ch99_columns",
]
