"""The Harmonized Tariff Schedule at run time: code normalisation, validation, neighbours and rate parsing.

Codes inside critmin are digit strings (``"8505110070"``), never the dotted print form, so a ledger joins to
the schedule with a plain equality. Users type codes every way there is (dots, spaces, 6/8/10 digits, a
spreadsheet that dropped the leading zero), so everything that takes user codes goes through
:func:`normalise_hts` first and is then checked with :func:`validate_codes`.

Rate texts in the schedule are free text ("Free", "2.1%", "1.7¢/kg + 2.5%", "12.8¢/kg on molybdenum content
+ 1.8%"). :func:`parse_rate` turns the regular forms into numbers the duty engine can use and marks the rest
``parsed=False``; the text is always kept so nothing is silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from critmin.paths import refdata_dir
from critmin.refdata.registry import load

RateKind = Literal["free", "ad_valorem", "specific", "compound", "other"]
ValidationStatus = Literal["valid", "valid_prefix", "unknown"]

VALID_LENGTHS = (6, 8, 10)


# --------------------------------------------------------------------------------------------------------
# Normalisation and validation
# --------------------------------------------------------------------------------------------------------


def normalise_hts(values: pl.Series) -> pl.Series:
    """Digit-only HTS codes, or null where the input is not a 6, 8 or 10 digit code.

    Dots, spaces and hyphens are separators and are removed; any other character makes the value null
    rather than being guessed away. Integer input (a spreadsheet column read as numbers) lost its leading
    zero for chapters 01-09, so odd-length integers are left-padded with one zero.
    """
    name = values.name
    if values.dtype.is_integer():
        text = values.cast(pl.String)
        text = pl.Series(name, text).str.zfill(text.str.len_chars() + (text.str.len_chars() % 2))
        cleaned = text
    else:
        cleaned = values.cast(pl.String).str.strip_chars().str.replace_all(r"[\s.\-]", "")
    ok = cleaned.str.contains(r"^(?:\d{6}|\d{8}|\d{10})$").fill_null(False)
    return pl.Series(name, cleaned).zip_with(ok, pl.Series(name, [None] * len(cleaned), dtype=pl.String))


def schedule() -> pl.DataFrame:
    """The shipped HTS 2025 basic edition (``hts_schedule``): one row per coded line, all chapters."""
    return load("hts_schedule")


@dataclass(frozen=True)
class _LeafIndex:
    """Declarable codes prepared once per process for membership tests and neighbour search."""

    leaf: pl.Series  # statistical reporting numbers and 8-digit lines without them
    leaf8: pl.Series  # the 8-digit declarable lines
    prefixes: pl.Series  # 6- and 8-digit codes that head declarable 10-digit numbers
    codes: np.ndarray  # leaf codes as <U10
    grid: np.ndarray  # (n, 10) characters, space-padded
    digits: np.ndarray  # (n, 10) uint8 digit values, 255 past the end of a code
    lengths: np.ndarray


@cache
def _index_for(directory: Path) -> _LeafIndex:
    del directory  # the cache key: a different CRITMIN_REFDATA_DIR gets its own index
    leaves = schedule().filter(pl.col("is_leaf")).select("hts", "level")
    leaf = leaves.get_column("hts")
    tens = leaf.filter(leaf.str.len_chars() == 10)
    prefixes = pl.concat([leaf.str.slice(0, 6), tens.str.slice(0, 8)]).unique().sort()
    codes = np.array(leaf.to_list(), dtype="<U10")
    grid = _char_grid(codes, 10)
    return _LeafIndex(
        leaf=leaf,
        leaf8=leaves.filter(pl.col("level") == 8).get_column("hts"),
        prefixes=prefixes,
        codes=codes,
        grid=grid,
        digits=_digit_grid(grid),
        lengths=np.char.str_len(codes),
    )


def _index() -> _LeafIndex:
    return _index_for(refdata_dir())


def validate_codes(codes: pl.Series) -> pl.DataFrame:
    """Check codes against the schedule, row for row in input order.

    ``valid``: a code a line can be declared under (a 10-digit statistical number, or an 8-digit line that
    has no statistical breakout, also accepted as its ``XXXXXXXX00`` form). ``valid_prefix``: a real 6 or
    8-digit heading/subheading that has 10-digit children — usable for scope and rates, but an entry line
    needs the full number. ``unknown``: anything else, with the nearest valid codes as suggestions.

    Work is done once per distinct input and joined back, so a million-line ledger with a few thousand
    distinct codes costs a few thousand checks.
    """
    index = _index()
    distinct = codes.unique(maintain_order=True).rename("__key")
    frame = pl.DataFrame(
        [
            distinct,
            distinct.cast(pl.String).rename("input"),
            normalise_hts(distinct).rename("hts"),
            distinct.cast(pl.String).str.replace_all(r"\D", "").rename("digits"),
        ]
    )
    status = (
        pl.when(pl.col("hts").is_null())
        .then(pl.lit("unknown"))
        .when(pl.col("hts").is_in(index.leaf.implode()))
        .then(pl.lit("valid"))
        .when(
            (pl.col("hts").str.len_chars() == 10)
            & pl.col("hts").str.ends_with("00")
            & pl.col("hts").str.slice(0, 8).is_in(index.leaf8.implode())
        )
        .then(pl.lit("valid"))
        .when(pl.col("hts").is_in(index.prefixes.implode()))
        .then(pl.lit("valid_prefix"))
        .otherwise(pl.lit("unknown"))
    )
    frame = frame.with_columns(status.alias("status"))
    unknown = frame.filter((pl.col("status") == "unknown") & (pl.col("digits").str.len_chars() >= 2))
    suggestions = [_nearest_from(code, index, 3) for code in unknown.get_column("digits").to_list()]
    frame = frame.join(
        unknown.select("__key", pl.Series("suggestions", suggestions, dtype=pl.List(pl.String))),
        on="__key",
        how="left",
        nulls_equal=True,
    ).with_columns(pl.col("suggestions").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    out = pl.DataFrame([codes.rename("__key")]).join(
        frame, on="__key", how="left", maintain_order="left", nulls_equal=True
    )
    return out.select("input", "hts", "status", "suggestions")


def nearest(code: str, k: int = 3) -> list[str]:
    """The ``k`` declarable codes closest to ``code``.

    Codes sharing the longest prefix come first (ordered by numeric distance, so "8505110080" suggests its
    siblings .0070 and .0090); when fewer than ``k`` share any useful prefix the rest are filled by digit
    edit distance over the whole schedule.
    """
    digits = re.sub(r"\D", "", code)
    return _nearest_from(digits, _index(), k)


def _digit_grid(grid: np.ndarray) -> np.ndarray:
    """Character grid -> uint8 digit values, 255 where a code has ended (space padding)."""
    raw = np.frombuffer("".join(grid.ravel().tolist()).encode("ascii"), dtype=np.uint8).reshape(grid.shape)
    return np.where(raw == ord(" "), 255, raw - ord("0")).astype(np.uint8)


def _char_grid(codes: np.ndarray, width: int) -> np.ndarray:
    """Codes as an (n, width) array of single characters, right-padded with spaces."""
    padded = np.char.ljust(codes.astype(f"<U{width}"), width, " ")
    return padded.view("<U1").reshape(len(codes), width)


def _nearest_from(digits: str, index: _LeafIndex, k: int) -> list[str]:
    arr = index.codes
    if not digits or k <= 0 or not len(arr):
        return []
    query = digits[:10]
    same = index.grid[:, : len(query)] == np.array(list(query), dtype="<U1")
    common = np.cumprod(same, axis=1).sum(axis=1)
    chosen: list[str] = []
    best = int(common.max())
    if best >= 4:
        pool = np.nonzero(common == best)[0]
        numbers = np.char.ljust(arr[pool], 10, "0").astype(np.int64)
        distance = np.abs(numbers - int(query.ljust(10, "0")))
        order = np.lexsort((arr[pool], distance))
        chosen = [str(code) for code in arr[pool][order] if str(code) != digits][:k]
    if len(chosen) < k:
        edits = _edit_distance(query, index)
        for j in np.lexsort((arr, -common, edits)):
            candidate = str(arr[j])
            if candidate not in chosen and candidate != digits:
                chosen.append(candidate)
            if len(chosen) >= k:
                break
    return chosen


def _edit_distance(query: str, index: _LeafIndex) -> np.ndarray:
    """Levenshtein distance from ``query`` to every code, one DP column at a time across all codes.

    Codes are held as small integers (digits 0-9, padding 255) so each step is a handful of int8 vector
    operations over the ~20,000 declarable codes.
    """
    n = len(index.codes)
    m = len(query)
    q = np.frombuffer(query.encode("ascii"), dtype=np.uint8) - ord("0")
    prev = np.tile(np.arange(m + 1, dtype=np.int16), (n, 1))
    results = np.full(n, 10**4, dtype=np.int16)
    results[index.lengths == 0] = m
    for j in range(index.digits.shape[1]):
        cur = np.empty_like(prev)
        cur[:, 0] = j + 1
        mismatch = (index.digits[:, j, None] != q[None, :]).astype(np.int16)  # (n, m)
        for i in range(1, m + 1):
            cur[:, i] = np.minimum(
                np.minimum(prev[:, i] + 1, cur[:, i - 1] + 1), prev[:, i - 1] + mismatch[:, i - 1]
            )
        prev = cur
        done = index.lengths == j + 1
        results[done] = prev[done, m]
    return results


# --------------------------------------------------------------------------------------------------------
# Rate parsing
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecificComponent:
    """A specific duty: ``amount`` US dollars per ``unit`` (cents already converted to dollars)."""

    amount: float
    unit: str
    qualifier: str | None = None
    """Basis wording after the unit, e.g. "on molybdenum content" or "on drained weight": the quantity the
    amount applies to is not the plain HTS quantity, and the duty engine must say so."""


@dataclass(frozen=True)
class ParsedRate:
    """One rate-of-duty text and what it means in numbers.

    ``kind`` is ``free`` (0 %), ``ad_valorem`` (a percentage of customs value), ``specific`` (money per unit;
    one or two components), ``compound`` (specific + ad valorem) or ``other`` (text that cannot be reduced
    to those, e.g. "The duty provided in the applicable subheading + 25%"); ``parsed`` is False only for
    ``other``.
    """

    text: str
    kind: RateKind
    ad_valorem_pct: float | None = None
    specific: tuple[SpecificComponent, ...] = field(default_factory=tuple)
    parsed: bool = True
    ad_valorem_basis: str | None = None
    """Set when the percentage is not on the whole customs value, e.g. "on the value of the lead content"
    (refined lead) or "on the case" (watches): the engine must apply it to that part only."""


_UNITS = {
    "kg": "kg",
    "g": "g",
    "t": "t",
    "liter": "l",
    "pf.liter": "pf_l",
    "doz.": "doz",
    "pr.": "pr",
    "m": "m",
    "lin.m": "m",
    "m2": "m2",
    "m3": "m3",
    "gross": "gross",
    "line/gross": "line_gross",
    "1000": "thousand",
    "1,000": "thousand",
    "thousand": "thousand",
    "thou-sand": "thousand",
    "bbl": "bbl",
    "jewel": "jewel",
    "head": "head",
    "pack": "pack",
    "article": "no",
    "each": "no",
    "clean kg": "kg",
}

_AMOUNT = r"(?:\$\s*(?P<dv>\d+(?:\.\d+)?)|(?P<cv>\d+(?:\.\d+)?)\s*¢)"
_SPECIFIC = re.compile(
    rf"^{_AMOUNT}\s*(?:/\s*(?P<unit>clean kg|pf\.\s*liter|doz\.|pr\.|lin\.\s*m|line/\s*gross|thou-\s*sand|"
    r"1,000|[a-z0-9]+)|\s+(?P<each>each))"
    r"(?P<qual>(?:\s*,)?\s+(?:on|of|including)\s+[a-z ,]{2,60})?$"
)
_AD_VALOREM = re.compile(
    r"^(?P<pct>\d+(?:\.\d+)?)(?:\s+(?P<num>\d+)/(?P<den>\d+))?\s*%"
    r"(?P<basis>\s+on\s+(?:the\s+)?[a-z ,]{2,60})?$"
)


def parse_rate(text: str) -> ParsedRate:
    """Parse a general, column 2 or special rate text.

    Components are separated by "+"; each is "Free", a percentage, or a money amount per unit
    ("1.7¢/kg", "$1.035/kg", "23¢ each"), optionally followed by its basis ("on lead content"). At most
    one ad valorem and two specific components make a parse; anything else is ``other`` with
    ``parsed=False``. Examples: "Free" -> free, 0 %; "1.7¢/kg + 2.5%" -> compound, 0.017 USD/kg and 2.5 %.
    """
    clean = " ".join(text.replace("\n", " ").split())
    if not clean:
        return ParsedRate(text=text, kind="other", parsed=False)
    if clean.lower() == "free":
        return ParsedRate(text=text, kind="free", ad_valorem_pct=0.0)
    parts = [p.strip() for p in clean.split("+")]
    ad_valorem: list[float] = []
    av_basis: str | None = None
    specifics: list[SpecificComponent] = []
    for part in parts:
        av = _AD_VALOREM.match(part)
        if av:
            fraction = int(av.group("num")) / int(av.group("den")) if av.group("den") else 0.0
            ad_valorem.append(round(float(av.group("pct")) + fraction, 10))  # "33 1/3%" occurs in column 2
            if av.group("basis"):
                av_basis = " ".join(av.group("basis").split())
            continue
        sp = _SPECIFIC.match(part)
        if sp is None:
            return ParsedRate(text=text, kind="other", parsed=False)
        unit_key = "each" if sp.group("each") else re.sub(r"\s+", "", sp.group("unit") or "")
        if sp.group("unit") == "clean kg":
            unit_key = "clean kg"
        unit = _UNITS.get(unit_key)
        if unit is None:
            return ParsedRate(text=text, kind="other", parsed=False)
        dollars = float(sp.group("dv")) if sp.group("dv") is not None else float(sp.group("cv")) / 100.0
        qualifier = sp.group("qual").strip(" ,") if sp.group("qual") else None
        if unit_key == "clean kg":
            qualifier = "clean" if qualifier is None else f"clean; {qualifier}"
        specifics.append(SpecificComponent(amount=round(dollars, 10), unit=unit, qualifier=qualifier))
    if len(ad_valorem) > 1 or len(specifics) > 2 or not (ad_valorem or specifics):
        return ParsedRate(text=text, kind="other", parsed=False)
    pct = ad_valorem[0] if ad_valorem else None
    if specifics and pct is not None:
        kind: RateKind = "compound"
    elif specifics:
        kind = "specific"
    else:
        kind = "ad_valorem"
    return ParsedRate(
        text=text, kind=kind, ad_valorem_pct=pct, specific=tuple(specifics), ad_valorem_basis=av_basis
    )


RATE_PARSE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "ad_valorem_pct": pl.Float64(),
    "ad_valorem_basis": pl.String(),
    "specific_amount": pl.Float64(),
    "specific_unit": pl.String(),
    "specific_qualifier": pl.String(),
    "specific2_amount": pl.Float64(),
    "specific2_unit": pl.String(),
    "specific2_qualifier": pl.String(),
    "parsed": pl.Boolean(),
}


def parse_rate_series(texts: pl.Series, prefix: str) -> pl.DataFrame:
    """Parse a column of rate texts into ``<prefix>_kind``, ``<prefix>_ad_valorem_pct``, ... columns.

    Each distinct text is parsed once and joined back, so a schedule of 36,000 lines costs about 1,600
    parses. Null or empty text gives null columns (no rate on that line), not an unparsed rate.
    """
    unique = texts.drop_nulls().unique().sort().to_list()
    rows = []
    for text in unique:
        if not text.strip():
            continue
        p = parse_rate(text)
        s1 = p.specific[0] if p.specific else None
        s2 = p.specific[1] if len(p.specific) > 1 else None
        rows.append(
            {
                "__text": text,
                "kind": p.kind,
                "ad_valorem_pct": p.ad_valorem_pct,
                "ad_valorem_basis": p.ad_valorem_basis,
                "specific_amount": s1.amount if s1 else None,
                "specific_unit": s1.unit if s1 else None,
                "specific_qualifier": s1.qualifier if s1 else None,
                "specific2_amount": s2.amount if s2 else None,
                "specific2_unit": s2.unit if s2 else None,
                "specific2_qualifier": s2.qualifier if s2 else None,
                "parsed": p.parsed,
            }
        )
    table = pl.DataFrame(rows, schema={"__text": pl.String(), **RATE_PARSE_SCHEMA})
    joined = pl.DataFrame({"__text": texts}).join(table, on="__text", how="left", maintain_order="left")
    return joined.drop("__text").rename({name: f"{prefix}_{name}" for name in RATE_PARSE_SCHEMA})
