"""2026 U.S. tariff measures: HTS 2026 Rev. 6 chapter 99 headings, Section 301 forced labor and Brazil,
Section 232 metals (April 2026 framework) and Section 232 semiconductors.

Two sources, both described in ``us-tariff-measures-2026/SOURCE.md`` of the raw-data tree:

* the USITC text of HTS 2026 Revision 6, chapter 99 (``hts_2026_rev6_chapter99.txt``, a U.S. government
  work copied from The Budget Lab at Yale's tariff-rate-tracker, MIT). It is a PDF-to-text dump in
  Latin-1; byte 0xAD stands where the HTS prints an en dash. :func:`parse_ch99_text` reads its tables;
* CSV transcriptions of the ``jasonmeasures/Klearnow-Tariff`` rule packs (no licence stated; factual
  government tariff data, transcribed as facts). Headings there are digit strings; here they are dotted
  (``9903.05.20``), rates are fractions (0.125, not 12.5) and HTS product codes are ``hts_prefix`` digit
  strings, matched against ledger codes by prefix like every other ``hts_lists`` dataset.

Reading the chapter 99 tables
-----------------------------
Each table page has a description column on the left and the rate columns (general, special, column 2)
on the right, at positions that move from page to page. The parser finds, per page, where the general
column starts (the leftmost position at which rate texts such as "The duty", "No change", "Free" or "25%"
begin on several lines) and where the special column starts, and reads the general column as a stream of
fragments. A rate starts with one of those words; "provided in the", "applicable", "subheading +" and a
percent after a trailing "+" continue the rate before it, whichever heading row they are printed beside
(9903.82.05's "15%" sits on the line of 9903.82.06).

The PDF text drifts: a rate may be printed above its heading row (9903.82.07's "10%") or several rows
below it (the 9903.88 exclusion pages, 9903.91.02-.08). A rate belongs to the last heading row above it
on its page; where a page holds exactly as many rates as heading rows they are paired in page order
instead. ``parse_note`` records every row where that changed the result, or where the text stays unclear.

Descriptions are the heading's own text, whitespace-normalised, leader dots and footnote references
dropped. Unnumbered superior text ("Articles the product of Japan:") is kept in ``superior`` for the
headings printed indented under it (the last such block; the dump loses deeper indentation levels).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.refdata.builders.country_groups import read_curated
from critmin.refdata.countries import resolve
from critmin.refdata.registry import DatasetSpec

RAW = "us-tariff-measures-2026"
RETRIEVED = "2026-12-05"
REVISION = "2026 Rev. 6"
REVISION_DATE = dt.date(2026, 4, 23)
EU_MARKER = "EU27"

CH99_FILE = "hts_2026_rev6_chapter99.txt"
YALE_COMMIT = "8315fffd697c42559141ed5f8bf7c8fa3da47ae8"
KLEARNOW = "jasonmeasures/Klearnow-Tariff"

LICENCE_REV6 = (
    "U.S. government work, public domain; copy via The Budget Lab at Yale tariff-rate-tracker (MIT)"
)
LICENCE_KLEARNOW = (
    "no licence stated; factual government tariff data (HTS numbers, rates, headings) transcribed as facts, "
    "see SOURCE.md"
)
SOURCE_REV6 = (
    "U.S. International Trade Commission, Harmonized Tariff Schedule of the United States 2026 Revision 6, "
    "chapter 99 (text), as committed in The Budget Lab at Yale, tariff-rate-tracker, "
    f"https://github.com/Budget-Lab-Yale/tariff-rate-tracker (commit {YALE_COMMIT}, 2026-05-11), file "
    "data/us_notes/chapter99_2026_rev_6.txt (git blob b8837194aa037d7cfcb332cbcb7bf8d591b87704)"
)


def _klearnow(files: str, facts: str) -> str:
    return (
        f"{KLEARNOW} (GitHub), tariff-rules/data/{files}; transcribed from {facts}. Secondary material: "
        "check against the Federal Register and the CSMS message before filing."
    )


# ------------------------------------------------------------------------------------------------ helpers


def _dotted_expr(column: str) -> pl.Expr:
    digits = pl.col(column).str.replace_all(r"[^0-9]", "")
    return (
        pl.when(digits.str.len_chars() == 8)
        .then(
            pl.concat_str(
                digits.str.slice(0, 4), digits.str.slice(4, 2), digits.str.slice(6, 2), separator="."
            )
        )
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias(column)
    )


def _digits(column: str, alias: str = "hts_prefix") -> pl.Expr:
    return pl.col(column).str.replace_all(r"[^0-9]", "").alias(alias)


def _read(raw_dir: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(raw_dir / RAW / name, infer_schema=False)


def _fraction(column: str, alias: str | None = None) -> pl.Expr:
    return (pl.col(column).replace("", None).cast(pl.Float64) / 100).alias(alias or column)


def _date(column: str) -> pl.Expr:
    return pl.col(column).replace("", None).str.to_date("%Y-%m-%d").alias(column)


def _check_dotted(frame: pl.DataFrame, columns: list[str], what: str) -> None:
    for column in columns:
        bad = frame.filter(
            pl.col(column).is_not_null() & ~pl.col(column).str.contains(r"^\d{4}\.\d{2}\.\d{2}$")
        )
        if bad.height:
            raise ReferenceDataError(
                f"{what}: {column} has values that are not 8-digit headings: {bad.head(3)}"
            )


def _iso3_of_iso2(codes: list[str], what: str) -> dict[str, str]:
    """ISO2 -> ISO3 through critmin's own country resolution (``EU`` is handled by the caller)."""
    out: dict[str, str] = {}
    for code in sorted(set(codes)):
        iso3 = resolve(code)
        if len(code) != 2 or not iso3:
            raise ReferenceDataError(f"{what}: cannot resolve country code {code!r}.")
        out[code] = iso3
    return out


def eu_members(on: dt.date) -> list[str]:
    """ISO3 codes of the EU member states on ``on``, from the curated ``eu27`` country group."""
    group = read_curated().groups["eu27"]
    members = []
    for member in group.members:
        joined = member.joined or group.joined
        left = member.left or group.left
        if joined is not None and joined <= on and (left is None or on < left):
            members.append(member.iso3)
    if len(members) != 27:
        raise ReferenceDataError(f"Expected 27 EU member states on {on}, found {len(members)}.")
    return sorted(members)


# ------------------------------------------------------------------------------------ chapter 99 (Rev 6)

_PAGE_MARK = "Harmonized Tariff Schedule of the United States Revision 6 (2026)"
_HEADING_ROW = re.compile(r"^\s{0,3}(99\d\d\.\d\d\.\d\d)((?:\s+\d?/)*)(\s+)(\S.*)?$")
_SEGMENT = re.compile(r"\S+(?: \S+)*")
_RATE_START = re.compile(r"^(?:The duty|No change|no change|Free|\d+(?:\.\d+)?%|\d+(?:\.\d+)?¢|\$|See )")
_PERCENT = re.compile(r"^\d+(?:\.\d+)?%")
_PAGE_HEADER = re.compile(
    r"Heading/|Stat\.|Subheading|Suf-|\bfix\b|General|Special|Quantity|Article Description|Rates of Duty|"
    r"\bUnit\b|\bof\b|XXII|99 ?- ?[IVX]+ ?- ?\d+|Annotated for Statistical Reporting Purposes|"
    r"Effective|Period|(?<!\S)[12](?!\S)"
)
# A numbered superior text: "9903.92      Effective with respect to entries ... of overhead cranes ...:"
_SUPERIOR_NUMBER = re.compile(r"^\s{0,3}99\d\d\.\d\d(?=\s{2,}\S)")
_HEADER_WORDS = frozenset({"General", "Special", "Quantity", "Unit", "of", "1", "2", "Rates of Duty"})
_FOOTNOTE = re.compile(r"^\s{0,3}\d/\s")
_FOOTNOTE_REF = re.compile(r"(?<=[A-Za-z%)])\d/")
_LEADER_END = re.compile(r"\s*(?:\.{3,}[\s.]*(?:\d?/)?|\.{2,}\s*\d?/)\s*$")  # "...... 1/", ".. 1/"
_UNIT_ONLY = re.compile(r"^(?:\d?/\s*)+$")
_SUBHEADING = "The duty provided in the applicable subheading"
_ADDITIONAL = re.compile(r"^The duty provided in ?the applicable subheading ?(?:\+|plus) ?(\d+(?:\.\d+)?)%$")
_INDENTED_FROM = 18  # heading text starting further right than this is printed under a superior text
_SUBCHAPTERS = ("9902", "9903")  # 9901 (two ethyl-alcohol headings, expired 2012) is laid out too irregularly


@dataclass
class _Rate:
    """One general-column rate: its text fragments and where its first fragment was printed."""

    parts: list[str]
    page: int
    line: int

    @property
    def text(self) -> str:
        return " ".join(self.parts)


@dataclass
class _Heading:
    heading: str
    page: int
    line: int
    indented: bool
    description: list[str] = field(default_factory=list)
    superior: str | None = None
    closed: bool = False
    rates: list[_Rate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _State:
    """What the reader carries from line to line and from page to page."""

    headings: list[_Heading] = field(default_factory=list)
    rates: list[_Rate] = field(default_factory=list)
    superior: str | None = None  # the last unnumbered (superior) text block
    pending: list[str] = field(default_factory=list)  # unnumbered text since the last closed description


def _segments(line: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _SEGMENT.finditer(line)]


def _pages(lines: list[str]) -> list[list[int]]:
    pages: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        if _PAGE_MARK in line and current:
            pages.append(current)
            current = []
        current.append(i)
    pages.append(current)
    return pages


def _columns(lines: list[str], body: list[int]) -> tuple[int, int] | None:
    """Start of the general and of the special rate column on one page, or None for a page without rates.

    The general column is the leftmost position where rate texts begin on several lines (a single stray
    position further left is ignored); the special column follows it at the most common distance.
    """
    starts: Counter[int] = Counter()
    for i in body:
        rates = [s for s in _segments(lines[i]) if s[0] >= 95 and _RATE_START.match(s[2])]
        if rates:
            starts[rates[0][0]] += 1
    if not starts:
        return None
    best = max(starts.values())
    general = min(starts)
    for position in sorted(starts):
        if sum(starts[q] for q in range(position, position + 3)) >= max(2, best // 2) or len(starts) == 1:
            general = position
            break
    gaps: Counter[int] = Counter()
    for i in body:
        segs = _segments(lines[i])
        for k, seg in enumerate(segs[:-1]):
            if general - 2 <= seg[0] <= general + 2 and _RATE_START.match(seg[2]):
                gap = segs[k + 1][0] - general
                if 8 <= gap <= 25:
                    gaps[gap] += 1
    special = general + (gaps.most_common(1)[0][0] if gaps else 18)
    return general, special


def _is_page_header(line: str) -> bool:
    """A line of the page head ("Heading/ Stat.", "Article Description ... Quantity", "General  Special")."""
    return bool(line.strip()) and not _PAGE_HEADER.sub("", line).strip(" -")


def _general_fragments(line: str, general: int, special: int) -> list[str]:
    """Text of the general column on one line. A fragment running into the special column (they are
    sometimes one space apart: "upon the value non- U.S. content") is cut at its last space before it."""
    out = []
    for start, end, text in _segments(line):
        if not general - 3 <= start < special - 2:
            continue
        if end > special - 1:
            cut = line.rfind(" ", start, special)
            text = line[start:cut] if cut > start else line[start : special - 1]
        text = text.strip()
        if text and text not in _HEADER_WORDS:
            out.append(text)
    return out


def _clean_description(parts: list[str]) -> str:
    text = " ".join(p.strip() for p in parts if p.strip())
    text = _LEADER_END.sub("", text.replace("\u00ad", "\u2013"))
    return re.sub(r"\s+", " ", text).strip()


def _clean_rate(text: str) -> str:
    text = _FOOTNOTE_REF.sub("", text.replace("\u00ad", "\u2013"))
    return re.sub(r"\s+", " ", text).strip()


def rate_kind_and_pct(rate_text: str | None) -> tuple[str | None, float | None]:
    """Classify a general-column rate text and read its single additional percent where there is one.

    ``additional`` ("The duty provided in the applicable subheading + 25%") -> 25.0;
    ``subheading`` ("The duty provided in the applicable subheading", no extra duty) -> 0.0;
    ``rate`` (a rate in place of column 1, "10%" or "7.2%"), ``free``, ``no_change`` and ``other`` -> null.
    """
    if rate_text is None:
        return None, None
    text = rate_text.rstrip(".")
    match = _ADDITIONAL.match(text)
    if match:
        return "additional", float(match.group(1))
    if text == _SUBHEADING:
        return "subheading", 0.0
    if re.fullmatch(r"\d+(?:\.\d+)?%", text):
        return "rate", None
    if text == "Free":
        return "free", None
    if text.lower() == "no change":
        return "no_change", None
    return "other", None


def _start_heading(state: _State, match: re.Match[str], page_no: int, line_no: int) -> None:
    if state.pending:  # unnumbered text since the last closed description: a superior text
        state.superior = " ".join(state.pending)
        state.pending.clear()
    indented = match.end(3) >= _INDENTED_FROM
    if not indented:
        state.superior = None
    superior = state.superior if indented else None
    state.headings.append(_Heading(match.group(1), page_no, line_no, indented, superior=superior))


def _add_description(state: _State, text: str) -> None:
    current = state.headings[-1] if state.headings else None
    if current is None or current.closed:
        state.pending.append(text)
        return
    if current.indented and text.rstrip().endswith(":"):
        # The heading number printed on a superior line ("9903.18.01 1/  Described in U.S. note 15(c) ...:").
        state.superior = " ".join([*current.description, text])
        current.superior = state.superior
        current.description.clear()
        return
    current.description.append(text)
    if _LEADER_END.search(text):
        current.closed = True


def _add_rate_fragment(state: _State, fragment: str, page_no: int, line_no: int) -> None:
    """A fragment continues the rate before it unless it starts one ("The duty", "No change", "Free", "25%");
    a percent after a trailing "+" or "plus" continues it too ("subheading +" / "15%")."""
    last = state.rates[-1] if state.rates else None
    if last is not None and (
        not _RATE_START.match(fragment)
        or (_PERCENT.match(fragment) is not None and last.text.endswith(("+", " plus")))
    ):
        last.parts.append(fragment)
    else:
        state.rates.append(_Rate([fragment], page_no, line_no))


def _read_page(lines: list[str], page: list[int], page_no: int, state: _State) -> None:
    """Add this page's headings, description lines and general-column rates to ``state``."""
    rows = [i for i in page if _HEADING_ROW.match(lines[i])]
    header = [i for i in page if _is_page_header(lines[i]) and (not rows or i < rows[0])]
    start = max(header) if header else page[0]
    end = next(
        (i for i in page if i > start and (_FOOTNOTE.match(lines[i]) or "Note: The shaded" in lines[i])),
        page[-1] + 1,
    )
    columns = _columns(lines, [i for i in page if start < i < end])
    left_limit = columns[0] - 3 if columns else 112
    for i in (i for i in page if start < i < end):
        line = lines[i]
        match = _HEADING_ROW.match(line)
        if match:
            _start_heading(state, match, page_no, i)
            line = " " * match.end(3) + line[match.end(3) :]  # the heading number is not description
        elif number := _SUPERIOR_NUMBER.match(line):  # a numbered superior text starts a new block
            if state.headings:
                state.headings[-1].closed = True
            line = " " * number.end() + line[number.end() :]
        left = [s[2] for s in _segments(line) if s[0] < left_limit and not _UNIT_ONLY.match(s[2])]
        if left:
            _add_description(state, " ".join(left))
        if columns is not None:
            for fragment in _general_fragments(line, *columns):
                _add_rate_fragment(state, fragment, page_no, i)


def _assign_rates(headings: list[_Heading], rates: list[_Rate]) -> None:
    """Give each rate to its heading, page by page.

    A rate belongs to the last heading row printed above it on its page (the first heading of the page if it
    is printed above every row). The PDF text drifts, though: on some pages the rates slide down one row
    per heading. So where a page has exactly as many rates as headings, they are paired in order; elsewhere
    a heading with two rates passes the second one to a following heading with none.
    """
    by_page: dict[int, list[int]] = {}
    for k, h in enumerate(headings):
        by_page.setdefault(h.page, []).append(k)
    rates_by_page: dict[int, list[_Rate]] = {}
    for rate in rates:
        rates_by_page.setdefault(rate.page, []).append(rate)
    for page, page_rates in rates_by_page.items():
        on_page = by_page.get(page)
        if not on_page:  # a page of rates only: they belong to the last heading before it
            before = [k for k, h in enumerate(headings) if h.page < page]
            if before:
                headings[before[-1]].rates.extend(page_rates)
            continue
        positional: dict[int, list[_Rate]] = {k: [] for k in on_page}
        for rate in page_rates:
            above = [k for k in on_page if headings[k].line <= rate.line]
            positional[above[-1] if above else on_page[0]].append(rate)
        if len(page_rates) == len(on_page):
            for k, rate in zip(on_page, page_rates, strict=True):
                if positional[k] != [rate]:
                    headings[k].notes.append("rate printed away from its heading row; paired in page order")
                headings[k].rates.append(rate)
            continue
        for k in on_page:
            headings[k].rates.extend(positional[k])
        for a, b in itertools.pairwise(on_page):
            if len(headings[a].rates) >= 2 and not headings[b].rates:
                headings[b].rates.append(headings[a].rates.pop())
                headings[b].notes.append(f"rate printed beside heading {headings[a].heading}")


def parse_ch99_text(text: str) -> pl.DataFrame:
    """One row per heading row of the chapter 99 tables of subchapters II and III (9902, 9903)."""
    lines = text.split("\n")
    state = _State()
    for page_no, page in enumerate(_pages(lines)):
        if any("Heading/" in lines[i] for i in page):
            _read_page(lines, page, page_no, state)
    _assign_rates(state.headings, state.rates)
    rows = []
    for h in state.headings:
        if not h.heading.startswith(_SUBCHAPTERS):
            continue
        rate_text = _clean_rate(h.rates[0].text) if h.rates else None
        notes = list(h.notes)
        if len(h.rates) > 1:
            notes.append("more general-column text: " + " | ".join(_clean_rate(r.text) for r in h.rates[1:]))
        if not h.closed:
            notes.append("description not closed by leader dots")
        kind, pct = rate_kind_and_pct(rate_text)
        rows.append(
            (
                h.heading,
                _clean_description(h.description),
                _clean_description([h.superior]) if h.superior else None,
                rate_text,
                kind,
                pct,
                "; ".join(notes) if notes else None,
            )
        )
    schema = {
        "heading": pl.String,
        "description": pl.String,
        "superior": pl.String,
        "rate_text": pl.String,
        "rate_kind": pl.String,
        "rate_pct": pl.Float64,
        "parse_note": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def build_ch99(raw_dir: Path) -> pl.DataFrame:
    """HTS 2026 Rev. 6 chapter 99 headings (9902, 9903): description, general-column rate text and percent."""
    text = (raw_dir / RAW / CH99_FILE).read_bytes().decode("latin-1")
    frame = parse_ch99_text(text)
    duplicated = frame.filter(pl.col("heading").is_duplicated())
    if duplicated.height:
        raise ReferenceDataError(f"Chapter 99 headings read twice: {sorted(set(duplicated['heading']))[:10]}")
    return frame.with_columns(
        pl.lit(REVISION).alias("revision"), pl.lit(REVISION_DATE).alias("revision_date")
    ).sort("heading")


# ------------------------------------------------------------------------------ Section 301 forced labor


def build_s301_fl_rates(raw_dir: Path) -> pl.DataFrame:
    """301-FL rate per economy; the EU's row is expanded to its 27 member states (``economy`` stays "European
    Union"). ``rate`` (flat) and ``cap`` (cap mechanic) are fractions."""
    frame = _read(raw_dir, "s301_forced_labor_rates.csv")
    effective = dt.date.fromisoformat(frame["effective_from"].unique().item())
    codes = _iso3_of_iso2([c for c in frame["iso2"].to_list() if c != "EU"], "s301_forced_labor_rates")
    members = eu_members(effective)
    iso3 = pl.DataFrame(
        [(k, v) for k, v in codes.items()] + [("EU", m) for m in members],
        schema={"iso2": pl.String, "iso3": pl.String},
        orient="row",
    )
    out = frame.join(iso3, on="iso2", how="left").select(
        pl.col("iso3"),
        pl.col("economy"),
        pl.col("iso2").alias("source_code"),
        pl.col("mechanic"),
        _fraction("rate_pct", "rate"),
        _fraction("cap_pct", "cap"),
        _dotted_expr("heading"),
        _dotted_expr("no_additional_duty_heading"),
        _dotted_expr("combined_to_cap_heading"),
        _date("effective_from"),
        pl.col("effective_time_note"),
        pl.col("primary_source"),
    )
    if out["iso3"].null_count() or out["iso3"].is_duplicated().any():
        raise ReferenceDataError("s301_forced_labor_rates: an economy has no ISO3 code or two rows.")
    _check_dotted(out, ["heading", "no_additional_duty_heading", "combined_to_cap_heading"], "301-FL rates")
    return out.sort("iso3")


def _applies_to(raw: list[str], what: str) -> dict[str, str]:
    codes = _iso3_of_iso2([c for c in raw if c not in ("all", "EU")], what)
    return {"all": "all", "EU": EU_MARKER, **codes}


def build_s301_fl_exemptions(raw_dir: Path) -> pl.DataFrame:
    """301-FL exemption lists: one row per (heading, HTS stem) as CBP lists them; ``applies_to`` is ``all``,
    an ISO3 code, or ``EU27`` for the EU-specific list."""
    frame = _read(raw_dir, "s301_forced_labor_exemptions.csv")
    mapping = _applies_to(frame["applies_to"].unique().to_list(), "s301_forced_labor_exemptions")
    out = frame.select(
        _digits("hts"),
        _dotted_expr("exemption_heading").alias("heading"),
        pl.col("basis"),
        pl.col("applies_to").replace_strict(mapping, return_dtype=pl.String),
    )
    if out.height != frame.height:
        raise ReferenceDataError("s301_forced_labor_exemptions: rows lost.")
    _check_dotted(out, ["heading"], "301-FL exemptions")
    return out.sort(["heading", "hts_prefix"])


def build_s301_brazil_exempt(raw_dir: Path) -> pl.DataFrame:
    """Section 301 Brazil exemption lists (9903.05.03-.06) by HTS stem."""
    frame = _read(raw_dir, "s301_brazil_exempt_hts.csv")
    out = frame.select(_digits("hts"), _dotted_expr("exemption_heading").alias("heading"), pl.col("basis"))
    _check_dotted(out, ["heading"], "301 Brazil exemptions")
    return out.unique().sort(["heading", "hts_prefix"])


# ------------------------------------------------------------------------------------- Section 232 (2026)


def build_s232_metals_products(raw_dir: Path) -> pl.DataFrame:
    """Metals HTS list (post-June 2026) in long form: HTS stem, note 16(c) list, metal, candidate heading."""
    frame = _read(raw_dir, "s232_metals_2026_products.csv")
    label = pl.col("metal").str.to_lowercase()
    out = frame.select(
        _digits("hts"),
        pl.col("note16_list"),
        label.str.extract(r"^(steel|aluminum|copper)").alias("metal"),
        label.str.contains("derivative").alias("derivative"),
        _dotted_expr("candidate_heading"),
    )
    if out["metal"].null_count():
        raise ReferenceDataError("s232_metals_2026_products: a metal label is not steel, aluminum or copper.")
    _check_dotted(out, ["candidate_heading"], "232 metals products")
    return out.unique().sort(["hts_prefix", "note16_list", "candidate_heading"])


def build_s232_metals_headings(raw_dir: Path) -> pl.DataFrame:
    """Section 232 metals headings 9903.82.01-.26 and 9903.85.67/.68: every source column, rate a fraction."""
    frame = _read(raw_dir, "s232_metals_2026.csv")
    text_columns = [
        c for c in frame.columns if c not in ("heading", "rate_pct", "effective_from", "effective_to")
    ]
    out = frame.select(
        _dotted_expr("heading"),
        _fraction("rate_pct", "rate"),
        _date("effective_from"),
        _date("effective_to"),
        *[pl.col(c).replace("", None) for c in text_columns],
    )
    _check_dotted(out, ["heading"], "232 metals headings")
    return out.sort("heading")


def build_s232_semiconductors(raw_dir: Path) -> pl.DataFrame:
    """Section 232 semiconductor headings 9903.79.01-.09; ``hts_scope`` is the ";"-joined HTS stems."""
    frame = _read(raw_dir, "s232_semiconductors_2026.csv")
    out = frame.select(
        _dotted_expr("heading"),
        _fraction("rate_pct", "rate"),
        pl.col("rate_kind"),
        pl.col("condition"),
        pl.col("note").replace("", None),
        pl.col("hts_scope"),
        _date("proclamation_date"),
        _date("effective_from"),
        pl.col("primary_source"),
    )
    _check_dotted(out, ["heading"], "232 semiconductors")
    return out.sort("heading")


# -------------------------------------------------------------------------------------------------- specs


def _spec(
    id_: str,
    title: str,
    source: str,
    licence: str,
    vintage: str,
    description: str,
    build: Callable[[Path], pl.DataFrame],
    inputs: tuple[str, ...],
) -> DatasetSpec:
    return DatasetSpec(
        id=id_,
        title=title,
        source=source,
        licence=licence,
        vintage=vintage,
        retrieved=RETRIEVED,
        description=description,
        build=build,
        raw_inputs=tuple(name if name.startswith("curated:") else f"{RAW}/{name}" for name in inputs),
    )


SPECS: list[DatasetSpec] = [
    _spec(
        "hts_ch99_2026_rev6",
        "HTS 2026 Revision 6, chapter 99 headings with their general-column rates",
        SOURCE_REV6,
        LICENCE_REV6,
        "HTS 2026 Revision 6 (effective 2026-04-23)",
        "One row per heading of chapter 99 subchapters I-III (9901.xx.xx, 9902.xx.xx, 9903.xx.xx) as printed "
        "in HTS 2026 Rev. 6: heading (dotted), description (the heading's article description, whitespace-"
        "normalised), superior (unnumbered text the heading is printed under, if any), rate_text (column 1 "
        "general rate as printed, footnote references dropped), rate_kind (additional | subheading | rate | "
        "free | no_change | other), rate_pct (the additional percent of 'The duty provided in the applicable "
        "subheading + X%', 0 for the bare 'The duty provided in the applicable subheading', else null), "
        "rate_note (where the PDF text placed the rate away from its row), revision and revision_date. "
        "Headings added after Rev. 6 (e.g. 9903.82.01, 9903.05.xx) are not in it.",
        build_ch99,
        (CH99_FILE,),
    ),
    _spec(
        "s301_forced_labor_rates",
        "Section 301 forced-labor action: additional duty by economy (from 2026-07-24)",
        _klearnow(
            "s301fl_pack.json (commit 4f8c75ee1b40cfbf7a74120f011eef6230d147c8)",
            "CBP CSMS #69326983, HSU 2617 and U.S. note 52 to subchapter III of chapter 99",
        ),
        LICENCE_KLEARNOW,
        "effective 2026-07-24 (pack as of 2026-08)",
        "One row per economy (ISO3; the European Union's row is expanded to its 27 member states, economy = "
        "'European Union', source_code 'EU'): mechanic flat (rate, fraction, one heading) or cap (cap, "
        "fraction; no_additional_duty_heading when the column 1 rate is at least the cap, "
        "combined_to_cap_heading topping the line up to the cap otherwise). Headings dotted; effective_from "
        "2026-07-24 00:01 (UTC-05:00 as the source writes it).",
        build_s301_fl_rates,
        ("s301_forced_labor_rates.csv", "curated:country_groups.yaml"),
    ),
    _spec(
        "s301_forced_labor_exemptions",
        "Section 301 forced-labor action: HTS exemption lists (9903.05.86-9903.06.21)",
        _klearnow(
            "s301fl_except_hts.json (commit 91b61038f429f73efd7e5aaa128c7d506c7ecc06)",
            "the CBP forced-labor exception HTS list attached to CSMS #69326983 (list as of 2026-08-26)",
        ),
        LICENCE_KLEARNOW,
        "list as of 2026-08-26",
        "Every (exemption heading, HTS stem) pair CBP lists: hts_prefix (8 or 10 digits; a 10-digit stem "
        "covers only that statistical line), heading (dotted), basis (U.S. note 52 paragraph), applies_to "
        "('all', the ISO3 code of the economy, or 'EU27' for the European Union list 9903.05.97). 4,070 "
        "distinct stems. Exemptions without an HTS list (9903.05.85 in transit, .90 Section 232, .91-.95) "
        "are not rows here.",
        build_s301_fl_exemptions,
        ("s301_forced_labor_exemptions.csv", "s301_forced_labor_rates.csv"),
    ),
    _spec(
        "s301_brazil_exempt_products",
        "Section 301 Brazil action: HTS exemption lists (9903.05.03-9903.05.06)",
        _klearnow(
            "s301_brazil_hts.json (commit 4f8c75ee1b40cfbf7a74120f011eef6230d147c8)",
            "the CBP CSMS #69302472 attachment (U.S. note 50; list as of 2026-08-26)",
        ),
        LICENCE_KLEARNOW,
        "list as of 2026-08-26 (action effective 2026-07-22)",
        "hts_prefix (8 or 10 digits), heading (dotted: 9903.05.03 annex list, .04 specified products, .05 "
        "civil aircraft, .06 pharmaceutical applications) and basis, for products of Brazil exempt from the "
        "25 % Section 301 duty of 9903.05.01.",
        build_s301_brazil_exempt,
        ("s301_brazil_exempt_hts.csv",),
    ),
    _spec(
        "s232_metals_2026_products",
        "Section 232 metals (2026 framework): HTS list with note 16(c) lists and candidate headings",
        _klearnow(
            "s232_metals_matrix.json (commit 4f8c75ee1b40cfbf7a74120f011eef6230d147c8)",
            "CBP CSMS #68253075 (April 2026 framework) and CSMS #68855869 Metals HTS List "
            "(Proclamation 11032, June 2026)",
        ),
        LICENCE_KLEARNOW,
        "Metals HTS List as of 2026-08-26 (post-June 2026)",
        "Long form, one row per HTS stem x note 16(c) list x candidate heading: hts_prefix (4, 6, 8 or 10 "
        "digits), note16_list ('(i)'..'(xi)'), metal (steel | aluminum | copper), derivative (the list is a "
        "derivative list), candidate_heading (dotted). A candidate heading can apply; which one does depends "
        "on origin, metal content and the column 1 rate (see s232_metals_2026_headings).",
        build_s232_metals_products,
        ("s232_metals_2026_products.csv",),
    ),
    _spec(
        "s232_metals_2026_headings",
        "Section 232 metals (2026 framework): chapter 99 headings 9903.82.01-.26 and 9903.85.67/.68",
        _klearnow(
            "ch99_codes.json and s232_metals_matrix.json (commits 115ac694a9c8dd39065e447f0c2b8a1bf38bee13, "
            "4f8c75ee1b40cfbf7a74120f011eef6230d147c8)",
            "HTS 2026 Rev. 6 chapter 99 heading text and U.S. note 16 (official) and the April 2026 "
            "proclamation annexes (via The Budget Lab at Yale tariff-rate-tracker, MIT)",
        ),
        LICENCE_KLEARNOW,
        "HTS 2026 Rev. 6 rules (April 2026); 9903.82.20-.26 from the June 2026 list",
        "One row per heading with all source columns: tier, metal_scope, note16_lists, annex, origin_scope, "
        "rate (fraction), rate_mechanic (additional on full customs value, combined total, no change, ...), "
        "col1_condition, us_content_rule, uk_content_rule, weight_rule, effective_from, effective_to, source "
        "and note. 9903.82.20-.26 have no description or rate in any source read (rate null).",
        build_s232_metals_headings,
        ("s232_metals_2026.csv",),
    ),
    _spec(
        "s232_semiconductors_2026",
        "Section 232 semiconductors: chapter 99 headings 9903.79.01-.09",
        _klearnow(
            "s232_semiconductors.json (commit 8798bfdf0372e6446ed63236b8eea2f73dcaac63)",
            "CBP CSMS #67400472, U.S. note 39 and the proclamation of 2026-01-14",
        ),
        LICENCE_KLEARNOW,
        "as of 2026-08-14 (effective 2026-01-15)",
        "heading (dotted), rate (fraction: 0.25 for 9903.79.01, 0 for the end-use headings .02-.09), "
        "rate_kind, condition (note 39(b) TPP/DRAM bands or end use), note, hts_scope (HTS stems joined by "
        "';': 847150;847180;847330), proclamation_date, effective_from, primary_source.",
        build_s232_semiconductors,
        ("s232_semiconductors_2026.csv",),
    ),
]
