"""The fields a user's ledger file can supply, and the header spellings critmin recognises for each.

This table is the single description of ingest input: header recognition reads the synonyms, the mapping
file is checked against the field names, and ``docs/ledger.md`` lists the same fields (a test keeps them in
step). Synonyms are written in *normalised* form (see :func:`critmin.ledger.headers.normalise_header`):
lower case, every run of punctuation or spaces turned into one space, ``#`` read as ``no``. Earlier
synonyms win when a file has two candidate columns for one field ("Entered Value" beats "Invoice Value").

The bill-of-materials fields (:data:`BOM_FIELDS`) live here too: a mapping file may name either kind, so
header recognition needs both, and neither should have to import the module that reads BOMs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class InputField:
    """One thing a ledger file can tell critmin."""

    name: str
    description: str
    synonyms: tuple[str, ...]
    required: bool = False


INPUT_FIELDS: tuple[InputField, ...] = (
    InputField(
        "line_id",
        "Your own stable id for the line. Default: `<entry number>/<line number>` when both are given, "
        "else `<file stem>:<row>`.",
        ("line id", "line key", "lineid", "record id", "row id", "transaction id", "id"),
    ),
    InputField(
        "entry_number",
        "CBP entry (or entry summary) number; repeats across the lines of one entry.",
        (
            "entry number",
            "entry no",
            "entry num",
            "entry nbr",
            "entry summary number",
            "customs entry number",
            "cbp entry number",
            "import entry number",
            "entry",
            "entry id",
        ),
    ),
    InputField(
        "line_number",
        "Line number within the entry; combined with the entry number to make the line id.",
        (
            "line number",
            "line no",
            "line nbr",
            "entry line number",
            "entry line",
            "entry summary line number",
            "line",
        ),
    ),
    InputField(
        "entry_date",
        "Date of entry (or release/import date). ISO, US m/d/Y, d-Mon-Y, Mon d, Y and Excel serial numbers "
        "are read.",
        (
            "entry date",
            "date of entry",
            "entry summary date",
            "import date",
            "date of importation",
            "importation date",
            "release date",
            "arrival date",
            "entered date",
            "entry dt",
            "customs date",
            "date",
        ),
        required=True,
    ),
    InputField(
        "hts",
        "HTS (HTSUS) code, with or without dots, 6, 8 or 10 digits; checked against the shipped schedule.",
        (
            "hts",
            "hts number",
            "hts no",
            "hts code",
            "hts 10",
            "hts10",
            "htsus",
            "htsus number",
            "htsus code",
            "hts number full",
            "line tariff number",
            "tariff number",
            "tariff no",
            "tariff code",
            "tariff item",
            "tariff",
            "tariff classification",
            "harmonized tariff number",
            "harmonized code",
            "hs code",
            "hs",
            "commodity code",
            "classification",
        ),
        required=True,
    ),
    InputField(
        "description",
        "Free-text description of the goods.",
        (
            "description",
            "goods description",
            "item description",
            "product description",
            "commodity description",
            "merchandise description",
            "line description",
            "part description",
            "material description",
            "desc",
        ),
    ),
    InputField(
        "country_origin",
        "Country of origin: any ISO 3166 code (alpha-2, alpha-3, numeric), Census code or English name.",
        (
            "country of origin",
            "country of origin code",
            "coo",
            "coo code",
            "origin country",
            "country origin",
            "ctry of origin",
            "ctry origin",
            "origin",
            "origin code",
            "made in",
            "country",
        ),
        required=True,
    ),
    InputField(
        "country_export",
        "Country of export, any code or name.",
        (
            "country of export",
            "country of export code",
            "country of exportation",
            "export country",
            "exporting country",
            "ctry of export",
            "coe",
            "shipped from",
        ),
    ),
    InputField(
        "country_smelt_cast",
        "Country where the metal was smelted/cast (or melted and poured), for Section 232 metals.",
        (
            "country of smelt and cast",
            "country of smelt cast",
            "country of smelt",
            "smelt country",
            "country of cast",
            "country of melt and pour",
            "melt and pour country",
            "country of melt",
            "smelt cast country",
        ),
    ),
    InputField(
        "supplier",
        "Supplier, manufacturer or foreign exporter (name or MID).",
        (
            "supplier",
            "supplier name",
            "vendor",
            "vendor name",
            "manufacturer",
            "manufacturer name",
            "manufacturer id",
            "mid",
            "foreign exporter",
            "exporter",
            "seller",
            "shipper",
        ),
    ),
    InputField(
        "part_number",
        "Your part, item or material number; links a ledger line to a bill of materials.",
        (
            "part number",
            "part no",
            "part id",
            "item number",
            "item no",
            "material number",
            "material no",
            "sku",
            "product code",
            "article number",
            "part",
            "pn",
        ),
    ),
    InputField(
        "quantity",
        "Quantity in `unit` (the HTS unit of quantity where you have it). A value such as `12.5 kg` is "
        "split into quantity and unit.",
        (
            "quantity",
            "qty",
            "quantity 1",
            "qty 1",
            "line tariff quantity",
            "tariff quantity",
            "reported quantity",
            "hts quantity",
        ),
    ),
    InputField(
        "unit",
        "Unit of the quantity: kg, g, t, lb, troy oz, No. (number), doz, l, m, m2, m3, W (watts; kW and MW "
        "are converted) ... in any common spelling (KGS, MT, LBS, PCS, EA, Wp ...).",
        (
            "unit",
            "uom",
            "unit of measure",
            "units of measure",
            "quantity unit",
            "qty unit",
            "uom 1",
            "unit 1",
            "line tariff uom code",
            "tariff uom",
            "uom code",
            "um",
        ),
    ),
    InputField(
        "weight",
        "Net weight of the line (kg unless the header names another mass unit, e.g. `Net Weight (lb)`); "
        "gives `quantity_kg` when the quantity is a count.",
        ("net weight", "net wt", "net mass", "weight", "net weight kg"),
    ),
    InputField(
        "customs_value_usd",
        "Customs (entered) value of the line in US dollars.",
        (
            "entered value",
            "customs value",
            "line entered value",
            "line goods value amount",
            "line goods value",
            "goods value",
            "line value",
            "declared value",
            "dutiable value",
            "transaction value",
            "value",
            "value usd",
            "usd value",
            "total value",
            "extended value",
            "invoice value",
        ),
        required=True,
    ),
    InputField(
        "currency",
        "Currency of the value column; anything but USD is quarantined (critmin does not guess exchange "
        "rates).",
        ("currency", "currency code", "ccy", "curr"),
    ),
    InputField(
        "preference_program",
        "Preference programme claimed: the HTS special-programme indicator (S, KR, AU, A ...) or its name "
        "(USMCA, KORUS, AUSFTA, GSP ...).",
        (
            "spi",
            "spi code",
            "line spi code",
            "special program indicator",
            "special program",
            "preference program",
            "preference",
            "preferential program",
            "preference claimed",
            "fta claimed",
            "trade program",
            "program",
            "fta",
        ),
    ),
    InputField(
        "content_mineral",
        "Mineral of known content (a critmin mineral id, name or element symbol: copper, Cu, neodymium, Nd).",
        ("content mineral", "mineral", "content metal", "metal"),
    ),
    InputField(
        "content_kg",
        "Mass of that mineral in the line, kg (a header such as `Copper content (kg)` also names the "
        "mineral).",
        ("content kg", "content", "mineral content", "metal content", "contained metal", "content weight"),
    ),
    InputField(
        "content_value_usd",
        "Value of that metal/mineral content in US dollars (Section 232 content basis).",
        ("content value", "content value usd", "metal content value", "value of metal content"),
    ),
    InputField(
        "liquidation_date",
        "Date the entry was liquidated, for the refund status of duties later invalidated (IEEPA): empty, "
        "`unliquidated` or `pending` while it is not. Read like the entry date.",
        (
            "liquidation date",
            "liq date",
            "liq dt",
            "liquidation dt",
            "date of liquidation",
            "liquidated date",
            "date liquidated",
            "liquidated on",
            "entry liquidation date",
            "entry summary liquidation date",
            "liquidation",
        ),
    ),
    InputField(
        "us_metal_content_share",
        "Share of the Section 232 metal in the article that was melted and poured or smelted and cast in "
        "the United States: a fraction (`0.9`) or a percentage with its sign (`90%`).",
        (
            "us metal content",
            "u s metal content",
            "us metal content share",
            "u s metal content share",
            "us metal content percent",
            "us metal share",
            "us content",
            "u s content",
            "us content share",
            "us content percent",
            "us content pct",
            "percent us content",
            "us melted and poured",
            "us melt and pour",
            "us melt and pour share",
            "us smelted and cast",
            "us smelt and cast",
            "us smelt and cast share",
            "domestic metal content",
            "domestic metal share",
        ),
    ),
    InputField(
        "source_file",
        "Original file name, present in a quarantine export so a fixed row keeps its identity.",
        ("source file",),
    ),
    InputField(
        "source_row",
        "Original row number, present in a quarantine export.",
        ("source row",),
    ),
)

FIELDS_BY_NAME: dict[str, InputField] = {field.name: field for field in INPUT_FIELDS}

REQUIRED_FIELDS: tuple[str, ...] = tuple(field.name for field in INPUT_FIELDS if field.required)

TEXT_FIELDS: tuple[str, ...] = (
    "line_id",
    "entry_number",
    "line_number",
    "description",
    "supplier",
    "part_number",
)
"""Fields copied as trimmed text, without parsing."""


@dataclass(frozen=True)
class FieldSet:
    """A family of fields recognised together (a ledger, a bill of materials)."""

    kind: str
    fields: tuple[InputField, ...]
    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()
    """(field, regex over the normalised header) tried after exact synonyms, with a low rank."""
    index: dict[str, tuple[str, int]] = field(default_factory=dict, compare=False, repr=False)
    matched: dict[str, tuple[str, int] | None] = field(default_factory=dict, compare=False, repr=False)
    """header text -> what :func:`critmin.ledger.headers.match_header` found (a cache: header detection
    asks about the same cells once per candidate delimiter)"""

    def __post_init__(self) -> None:
        for item in self.fields:
            for rank, synonym in enumerate(item.synonyms):
                self.index.setdefault(synonym, (item.name, rank))

    @property
    def by_name(self) -> dict[str, InputField]:
        return {item.name: item for item in self.fields}

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.fields if item.required)


LEDGER_FIELDS = FieldSet(
    "ledger",
    INPUT_FIELDS,
    patterns=(
        ("hts", re.compile(r"^(?!.*\bdesc).*\b(hts|htsus)\b")),
        ("country_origin", re.compile(r"^(?!.*\b(export|smelt|cast|melt)\b).*\borigin\b")),
        (
            "country_export",
            re.compile(r"\bexport(ation)?\b.*\b(country|ctry)\b|\b(country|ctry)\b.*\bexport"),
        ),
        (
            "us_metal_content_share",
            re.compile(
                r"^(?!.*\b(value|usd|kg|weight|country)\b)(?=.*\b(us|u s|usa|united states|domestic)\b)"
                r".*\b(content|share|percent|pct|melted|poured|smelted|cast)\b"
            ),
        ),
        ("country_smelt_cast", re.compile(r"\bsmelt|\bmelt and pour\b")),
        ("liquidation_date", re.compile(r"\bliq\w*\b.*\b(date|dt)\b|\b(date|dt)\b.*\bliq")),
    ),
)

BOM_FIELDS = FieldSet(  # read by critmin.ledger.bom
    "bill-of-materials",
    (
        InputField(
            "parent",
            "The assembly or part this row belongs to (or use `level`).",
            (
                "parent",
                "parent part",
                "parent part number",
                "parent item",
                "parent id",
                "parent assembly",
                "assembly",
                "top level",
                "finished good",
                "bom parent",
            ),
        ),
        InputField(
            "level", "Indent level of an indented BOM (1, 2, 3 or .1, ..2).", ("level", "bom level", "lvl")
        ),
        InputField(
            "component",
            "The part or material used (for a content row, optional: the mineral names it).",
            (
                "component",
                "component part",
                "component part number",
                "component id",
                "child",
                "child part",
                "child item",
                "part",
                "part number",
                "part no",
                "item",
                "item number",
                "material",
                "material number",
            ),
            required=True,
        ),
        InputField(
            "qty_per_parent",
            "Quantity of the component in one unit of the parent; for a content row, mass of the mineral.",
            (
                "qty per parent",
                "quantity per parent",
                "qty per",
                "quantity per",
                "qty per assembly",
                "quantity per assembly",
                "usage",
                "qty",
                "quantity",
                "content",
                "content per unit",
            ),
            required=True,
        ),
        InputField(
            "unit",
            "Unit of that quantity (No., kg, g, lb ...).",
            ("unit", "uom", "unit of measure", "qty unit"),
        ),
        InputField(
            "unit_weight",
            "Mass of one piece in kg, for counted parts (lets reference content factors apply).",
            (
                "unit weight",
                "unit weight kg",
                "unit mass",
                "mass per unit",
                "weight per unit",
                "piece weight",
            ),
        ),
        InputField(
            "hts",
            "HTS code of the component as imported.",
            ("hts", "hts code", "hts number", "component hts", "tariff code", "tariff number", "hs code"),
        ),
        InputField(
            "origin",
            "Country of origin of the component.",
            ("origin", "country of origin", "coo", "component origin", "origin country"),
        ),
        InputField(
            "description",
            "Description of the component.",
            ("description", "component description", "part description", "item description"),
        ),
        InputField("supplier", "Supplier of the component.", ("supplier", "vendor", "manufacturer")),
        InputField(
            "mineral",
            "Marks a content row: the mineral contained in the parent.",
            ("mineral", "content mineral", "contained mineral", "element"),
        ),
        InputField(
            "content_low", "Low end of the content range (default: the quantity).", ("content low", "low")
        ),
        InputField(
            "content_high", "High end of the content range (default: the quantity).", ("content high", "high")
        ),
    ),
)
