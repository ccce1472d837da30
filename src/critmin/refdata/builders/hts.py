"""HTS 2025 basic edition: the schedule, its unparsed rates, special-programme rates and programme codes.

Source rows are the USITC CSV export (all chapters, no footnotes), read in file order. The printed
schedule is a tree expressed only through indentation, so the builder walks the rows once with a stack to
recover each line's ancestors (including the uncoded "Other:" grouping rows, which appear only inside
the description paths). Footnotes — notably the "See 9903.88.03" marks of Section 301 — come from the
USITC JSON export, which the raw tree holds for chapters 25, 26, 28, 38, 71, 72, 74-76, 78-81, 85 and 99.

Rate inheritance: in the HTS the rates of duty sit on the 8-digit tariff line and its 10-digit statistical
suffixes print no rate of their own. A 10-digit row without a general rate therefore takes the general,
special and column 2 rates of its 8-digit parent; ``rate_source`` names the row they came from and
``rate_inherited`` says it happened.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from critmin.paths import CURATED_DIR
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.refdata.hts import parse_rate, parse_rate_series
from critmin.refdata.registry import DatasetSpec

HTS_CSV = "census-schedule-c-and-hts2025-basic/usitc_hts_2025_basic_edition.csv"
JSON_DIR = "usitc-hts-2025-json"
JSON_CHAPTERS = ("25", "26", "28", "38", "71", "72", "74", "75", "76", "78", "79", "80", "81", "85", "99")
PROGRAM_CODES_FILE = "hts_program_codes.yaml"

SOURCE = (
    "USITC Harmonized Tariff Schedule of the United States 2025 Basic Edition, CSV export "
    "(https://hts.usitc.gov/), via github.com/Budget-Lab-Yale/Tariff-ETRs"
    "@ffc01053986e7d7c61e9922ed7deb16d5057ab0b resources/hts_2025_basic_edition.csv; footnotes from the "
    "USITC JSON export (https://hts.usitc.gov/reststop/exportList) via github.com/brendanxmac/hts-hero"
    "@34cdc36fb3b57789262478cedcba54bb85657f25 hts-chapters/*.json"
)
LICENCE = "Public domain (U.S. Government work, 17 U.S.C. 105)"
RETRIEVED = "2026-11-28"

_CODE_LIST = re.compile(r"\(\s*([A-Z]{1,2}[*+]?(?:[\s,.]+[A-Z]{1,2}[*+]?)*)[\s,.]*\)")
_CH99 = re.compile(r"\b(99\d\d\.\d\d\.\d\d)\b")

_BASE_UNITS = {
    "kg": "kg",
    "g": "g",
    "t": "t",
    "no.": "no",
    "no": "no",
    "doz.": "doz",
    "m²": "m2",
    "m2": "m2",
    "m3": "m3",
    "cm2": "cm2",
    "m": "m",
    "lin. m": "m",
    "prs.": "pr",
    "doz. prs.": "doz_pr",
    "dz pcs": "doz_pcs",
    "liters": "l",
    "pf.liters": "pf_l",
    "gross": "gross",
    "gr.lines": "line_gross",
    "bbl": "bbl",
    "pcs": "pcs",
    "thousands": "thousand",
    "hundreds": "hundred",
    "thousand m3": "thousand_m3",
    "thousand m": "thousand_m",
    "carat": "carat",
    "jwls.": "jewel",
    "gbq": "gbq",
    "doses": "dose",
    "square": "square",
    "mwh": "mwh",
    "pack": "pack",
    "w": "w",
}


def _canonical_unit(raw: str) -> tuple[str | None, str | None]:
    """(unit code, basis) for one printed unit: "Cu kg" -> ("kg", "Cu"), "t adw" -> ("t", "adw")."""
    text = " ".join(raw.split())
    if not text:
        return None, None
    base = _BASE_UNITS.get(text.lower())
    if base is not None:
        return base, None
    content = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*) (kg|g|t)", text)
    if content and content.group(1) not in ("kg", "g", "t"):
        return content.group(2), content.group(1)
    trailing = re.fullmatch(r"(kg|g|t|m) ([a-z ]+)", text)
    if trailing:
        return trailing.group(1), trailing.group(2)
    fibre = re.fullmatch(r"([A-Za-z]+) (m)", text)
    if fibre:
        return fibre.group(2), fibre.group(1)
    return text.lower(), None


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _read_units(raw: str | None) -> list[str]:
    if not raw or not raw.strip():
        return []
    values: list[str] = json.loads(raw)
    out: list[str] = []
    for value in values:
        for piece in value.split(" and "):
            cleaned = _clean(piece)
            if cleaned:
                out.append(cleaned)
    return out


def _footnotes(raw_dir: Path) -> dict[str, tuple[str, list[str]]]:
    """htsno (dotted) -> (footnote text, chapter 99 headings cited against the general rate)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for chapter in JSON_CHAPTERS:
        rows = json.loads((raw_dir / JSON_DIR / f"hts_chapter_{chapter}.json").read_text(encoding="utf-8"))
        for row in rows:
            code = (row.get("htsno") or "").strip()
            if not code:
                continue
            notes = row.get("footnotes") or []
            texts = []
            refs: list[str] = []
            for note in notes:
                value = _clean(note.get("value"))
                columns = note.get("columns") or []
                texts.append(f"[{','.join(columns)}] {value}")
                if "general" in columns:
                    refs.extend(m.replace(".", "") for m in _CH99.findall(value))
            out[code] = ("; ".join(texts), sorted(set(refs)))
    return out


@cache
def _schedule_cached(raw_dir: Path) -> pl.DataFrame:
    return _build_schedule(raw_dir)


def _build_schedule(raw_dir: Path) -> pl.DataFrame:
    raw = pl.read_csv(raw_dir / HTS_CSV, infer_schema_length=0, encoding="utf8")
    raw = raw.rename(
        {
            raw.columns[0]: "hts_display",
            "Indent": "indent",
            "Description": "description",
            "Unit of Quantity": "units_raw",
            "General Rate of Duty": "general_text",
            "Special Rate of Duty": "special_text",
            "Column 2 Rate of Duty": "col2_text",
            "Quota Quantity": "quota_quantity",
            "Additional Duties": "additional_duties",
        }
    )
    footnotes = _footnotes(raw_dir)
    records: list[dict[str, Any]] = []
    # one linear pass: a stack of (indent, description, code, chapter-99 refs) holds the open ancestors
    stack: list[tuple[int, str, str | None, list[str]]] = []
    for source_row, row in enumerate(raw.iter_rows(named=True), start=2):
        display = _clean(row["hts_display"])
        code = re.sub(r"\D", "", display) or None
        indent = int(row["indent"] or 0)
        description = _clean(row["description"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path_parts = [part[1].rstrip(":").strip() for part in stack] + [description.rstrip(":").strip()]
        parent = next((part[2] for part in reversed(stack) if part[2]), None)
        inherited_refs = sorted({ref for part in stack for ref in part[3]})
        note_text: str | None = None
        refs: list[str] | None = None
        if code and code[:2] in JSON_CHAPTERS:
            own = footnotes.get(display)
            if own is not None:
                note_text = own[0] or None
                refs = sorted(set(own[1]) | set(inherited_refs))
        stack.append((indent, description, code, refs if refs is not None else inherited_refs))
        if code is None:
            continue  # an uncoded grouping row: it lives on in its children's description paths
        units = _read_units(row["units_raw"])
        unit1 = _canonical_unit(units[0]) if units else (None, None)
        unit2 = _canonical_unit(units[1]) if len(units) > 1 else (None, None)
        records.append(
            {
                "hts": code,
                "hts_display": display,
                "level": len(code),
                "indent": indent,
                "parent": parent,
                "description": description,
                "description_path": " > ".join(p for p in path_parts if p),
                "units": units,
                "unit": unit1[0],
                "unit_basis": unit1[1],
                "unit2": unit2[0],
                "unit2_basis": unit2[1],
                "general_text_own": _clean(row["general_text"]) or None,
                "special_text_own": _clean(row["special_text"]) or None,
                "col2_text_own": _clean(row["col2_text"]) or None,
                "quota_quantity": _clean(row["quota_quantity"]) or None,
                "additional_duties": _clean(row["additional_duties"]) or None,
                "footnotes": note_text,
                "chapter99_refs": refs,
                "source_row": source_row,
            }
        )
    frame = pl.DataFrame(
        records,
        schema_overrides={"units": pl.List(pl.String), "chapter99_refs": pl.List(pl.String)},
        infer_schema_length=None,
    )
    codes = frame.get_column("hts")
    has_child = codes.is_in(frame.get_column("parent").drop_nulls().unique().implode())
    frame = frame.with_columns(
        pl.col("hts").str.slice(0, 2).alias("chapter"),
        pl.col("hts").str.slice(0, 4).alias("heading"),
        pl.when(pl.col("level") >= 6).then(pl.col("hts").str.slice(0, 6)).alias("subheading"),
        pl.when(pl.col("level") >= 8).then(pl.col("hts").str.slice(0, 8)).alias("hts8"),
        pl.when(pl.col("level") == 10).then(pl.col("hts")).alias("hts10"),
        (~has_child).alias("is_leaf"),
    )
    # rates of 8-digit lines, to hand down to statistical suffixes that print none
    eight = frame.filter((pl.col("level") == 8) & pl.col("general_text_own").is_not_null()).select(
        pl.col("hts").alias("hts8"),
        pl.col("general_text_own").alias("p_general"),
        pl.col("special_text_own").alias("p_special"),
        pl.col("col2_text_own").alias("p_col2"),
    )
    frame = frame.join(eight, on="hts8", how="left", maintain_order="left")
    inherit = (
        (pl.col("level") == 10) & pl.col("general_text_own").is_null() & pl.col("p_general").is_not_null()
    )
    frame = frame.with_columns(
        pl.when(inherit)
        .then(pl.col("p_general"))
        .otherwise(pl.col("general_text_own"))
        .alias("general_text"),
        pl.when(inherit)
        .then(pl.col("p_special"))
        .otherwise(pl.col("special_text_own"))
        .alias("special_text"),
        pl.when(inherit).then(pl.col("p_col2")).otherwise(pl.col("col2_text_own")).alias("col2_text"),
        inherit.alias("rate_inherited"),
        pl.when(inherit)
        .then(pl.col("hts8"))
        .when(pl.col("general_text_own").is_not_null())
        .then(pl.col("hts"))
        .alias("rate_source"),
    )
    general = parse_rate_series(frame.get_column("general_text"), "g").rename(
        {
            "g_kind": "rate_kind",
            "g_ad_valorem_pct": "ad_valorem_pct",
            "g_ad_valorem_basis": "ad_valorem_basis",
            "g_specific_amount": "specific_amount",
            "g_specific_unit": "specific_unit",
            "g_specific_qualifier": "specific_qualifier",
            "g_specific2_amount": "specific2_amount",
            "g_specific2_unit": "specific2_unit",
            "g_specific2_qualifier": "specific2_qualifier",
            "g_parsed": "rate_parsed",
        }
    )
    col2 = parse_rate_series(frame.get_column("col2_text"), "col2")
    frame = frame.hstack(general).hstack(col2)
    columns = [
        "hts",
        "hts_display",
        "level",
        "chapter",
        "heading",
        "subheading",
        "hts8",
        "hts10",
        "is_leaf",
        "parent",
        "indent",
        "description",
        "description_path",
        "units",
        "unit",
        "unit_basis",
        "unit2",
        "unit2_basis",
        "general_text",
        *general.columns,
        "rate_source",
        "rate_inherited",
        "special_text",
        "col2_text",
        *col2.columns,
        "quota_quantity",
        "additional_duties",
        "footnotes",
        "chapter99_refs",
        "source_row",
    ]
    return frame.select(columns).sort("source_row")


def build_schedule(raw_dir: Path) -> pl.DataFrame:
    return _schedule_cached(raw_dir)


def build_unparsed(raw_dir: Path) -> pl.DataFrame:
    """Every rate text that did not reduce to numbers, on the line that prints it (never inherited copies)."""
    frame = _schedule_cached(raw_dir).filter(~pl.col("rate_inherited"))
    general = frame.filter(pl.col("rate_parsed") == False).select(  # noqa: E712
        "hts",
        "hts_display",
        pl.lit("general").alias("rate_column"),
        pl.lit(None, pl.String).alias("program"),
        pl.col("general_text").alias("text"),
        "description_path",
    )
    col2 = frame.filter(pl.col("col2_parsed") == False).select(  # noqa: E712
        "hts",
        "hts_display",
        pl.lit("column2").alias("rate_column"),
        pl.lit(None, pl.String).alias("program"),
        pl.col("col2_text").alias("text"),
        "description_path",
    )
    special = (
        build_special_programs(raw_dir)
        .filter(~pl.col("parsed"))
        .join(frame.select("hts", "hts_display", "description_path"), on="hts", how="left")
        .select(
            "hts",
            "hts_display",
            pl.lit("special").alias("rate_column"),
            "program",
            pl.col("rate_text").alias("text"),
            "description_path",
        )
    )
    return pl.concat([general, col2, special]).sort("hts", "rate_column", "program", nulls_last=True)


def _split_special(text: str) -> list[tuple[str | None, str]]:
    """Special-column text -> [(programme code or None, rate text)], one pair per programme.

    "Free (A+,AU,BH) 2.5% (JP)" -> [("A+", "Free"), ("AU", "Free"), ("BH", "Free"), ("JP", "2.5%")]. Text
    that names no programme (rare: "5% on the full value of the imported article") is kept with None.
    """
    out: list[tuple[str | None, str]] = []
    position = 0
    for match in _CODE_LIST.finditer(text):
        rate_text = text[position : match.start()].strip()
        for code in re.split(r"[\s,.]+", match.group(1)):
            out.append((code, rate_text))
        position = match.end()
    rest = text[position:].strip()
    if rest:
        out.append((None, rest))
    return out


def build_special_programs(raw_dir: Path) -> pl.DataFrame:
    frame = _schedule_cached(raw_dir).filter(~pl.col("rate_inherited") & pl.col("special_text").is_not_null())
    rows = []
    for code, hts8, text in frame.select("hts", "hts8", "special_text").iter_rows():
        for program, rate_text in _split_special(text):
            parsed = parse_rate(rate_text) if rate_text else None
            rows.append(
                {
                    "hts": code,
                    "hts8": hts8 if hts8 is not None else code,
                    "program": program,
                    "rate_text": rate_text,
                    "kind": parsed.kind if parsed else "other",
                    "ad_valorem_pct": parsed.ad_valorem_pct if parsed else None,
                    "specific_amount": parsed.specific[0].amount if parsed and parsed.specific else None,
                    "specific_unit": parsed.specific[0].unit if parsed and parsed.specific else None,
                    "parsed": bool(parsed and parsed.parsed),
                }
            )
    schema = {
        "hts": pl.String,
        "hts8": pl.String,
        "program": pl.String,
        "rate_text": pl.String,
        "kind": pl.String,
        "ad_valorem_pct": pl.Float64,
        "specific_amount": pl.Float64,
        "specific_unit": pl.String,
        "parsed": pl.Boolean,
    }
    out = pl.DataFrame(rows, schema=schema)
    return out.unique(["hts", "program", "rate_text"], keep="first", maintain_order=True).sort(
        "hts", "program", "rate_text", nulls_last=True
    )


def build_program_codes(raw_dir: Path) -> pl.DataFrame:
    del raw_dir  # curated from the HTS General Notes; see the YAML for each code's citation
    entries = load_curated_yaml(CURATED_DIR / PROGRAM_CODES_FILE)["programs"]
    frame = pl.DataFrame(
        [
            {
                "code": str(e["code"]),
                "program": e["program"],
                "agreement_type": e["agreement_type"],
                "general_note": e.get("general_note"),
                "partners": sorted(e.get("partners") or []),
                "partners_note": e.get("partners_note"),
                "status": e["status"],
                "source": e["source"],
            }
            for e in entries
        ],
        schema={
            "code": pl.String,
            "program": pl.String,
            "agreement_type": pl.String,
            "general_note": pl.String,
            "partners": pl.List(pl.String),
            "partners_note": pl.String,
            "status": pl.String,
            "source": pl.String,
        },
    )
    return frame.sort("code")


SPECS = [
    DatasetSpec(
        id="hts_schedule",
        title="HTS 2025 basic edition: codes, hierarchy, units, parsed general and column 2 rates",
        source=SOURCE,
        licence=LICENCE,
        vintage="HTS 2025 Basic Edition (January 2025)",
        retrieved=RETRIEVED,
        description=(
            "One row per coded HTS line, all chapters, in schedule order. hts is digits only (4/6/8/10 as "
            "printed); description_path joins every ancestor including uncoded grouping rows. General and "
            "column 2 rates are kept as text and parsed into kind/ad valorem %/specific USD per unit (cents "
            "converted) with up to two specific components; statistical suffixes without a printed rate "
            "inherit their 8-digit line's rates (rate_inherited, rate_source). Unparsed rates keep their "
            "text with rate_parsed=false and are listed in hts_unparsed_rates. chapter99_refs lists "
            "Chapter 99 headings cited in general-rate footnotes (e.g. 99038803 = Section 301 list 3); "
            "null for chapters whose footnotes are not in the raw data. Pre-dates 2025 tariff actions."
        ),
        build=build_schedule,
        raw_inputs=(HTS_CSV, *(f"{JSON_DIR}/hts_chapter_{c}.json" for c in JSON_CHAPTERS)),
    ),
    DatasetSpec(
        id="hts_unparsed_rates",
        title="HTS 2025 rate texts that do not reduce to ad valorem/specific numbers",
        source=SOURCE,
        licence=LICENCE,
        vintage="HTS 2025 Basic Edition (January 2025)",
        retrieved=RETRIEVED,
        description=(
            "Every general, column 2 and special-programme rate text on the line that prints it which "
            "parse_rate could not reduce (e.g. 'The duty provided in the applicable subheading + 25%', watch "
            "rates 'on the case', sugar-degree sliding scales). These lines need a manual rate in a measure "
            "file; they are listed, never dropped."
        ),
        build=build_unparsed,
        raw_inputs=(HTS_CSV,),
    ),
    DatasetSpec(
        id="hts_special_programs",
        title="HTS 2025 special (preference) rates, one row per line and programme",
        source=SOURCE,
        licence=LICENCE,
        vintage="HTS 2025 Basic Edition (January 2025)",
        retrieved=RETRIEVED,
        description=(
            "The Special column split into (hts, programme code, rate text) with the rate parsed. hts is the "
            "line that prints the rate (usually 8 digits; hts8 always 8). Codes are explained in "
            "hts_program_codes. A fragment that names no programme is kept with program null."
        ),
        build=build_special_programs,
        raw_inputs=(HTS_CSV,),
    ),
    DatasetSpec(
        id="hts_program_codes",
        title="HTS special-programme indicators: programme, agreement, partner countries",
        source=(
            "HTS General Notes 3(c)(i) and the general notes implementing each programme "
            "(https://hts.usitc.gov/ ; table of contents https://usitc.gov/publications/docs/tata/hts/bychapter/1400gntoc)"
        ),
        licence=LICENCE,
        vintage="HTS 2025 Basic Edition (January 2025)",
        retrieved=RETRIEVED,
        description=(
            "Curated: each special-programme symbol used in the Special rate column, its programme, type, "
            "general note, partner ISO3 codes where the programme is bilateral/regional, and its status. "
            "Unilateral programmes (GSP, AGOA, CBERA) have beneficiary lists set by proclamation; they are "
            "left empty with a note rather than guessed."
        ),
        build=build_program_codes,
        raw_inputs=(f"curated:{PROGRAM_CODES_FILE}",),
    ),
]
