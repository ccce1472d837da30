"""What a Federal Register document mentions, and which of the user's ledger lines that touches.

Mentions are read from a document's title, abstract, excerpts, table-of-contents text and (when fetched)
full text, for every document at once with Polars regular expressions:

* **HTS codes** in the printed forms ``8505.11``, ``2805.30.00``, ``8112.92.10.00``, ``8505.11.0070``, and
  undotted after a keyword (``heading 2846``, ``HTSUS 8505110070``). CFR section numbers (``40 CFR 1065.10``),
  money (``$1234.56``) and codes that are not in the schedule are dropped. Chapter 99 numbers
  (``9903.78.01``) name tariff actions, not goods; they are kept as ``chapter99`` mentions for the reader
  but never matched to ledger lines.
* **Minerals**, from the phrase list in ``mineral_terms.yaml`` (case-insensitive, word boundaries).
* **Countries**, by name (case-sensitive, longest name first, so "Papua New Guinea" is not "Guinea" and
  "New Mexico" is not Mexico). The United States is not reported: nearly every document names it.

Matching to the ledger is a set of joins, never a loop over lines: each line's HTS code is expanded into its
4/6/8/10-digit prefixes and joined to the mentioned codes; minerals join through the line's classification
(with the rare-earth and platinum-group aggregates expanded both ways); countries join on origin.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

import polars as pl
import pycountry

from critmin import yamlfile
from critmin.errors import CritminError

log = logging.getLogger("critmin.monitor")

REE_IDS = frozenset(
    {
        "scandium",
        "yttrium",
        "lanthanum",
        "cerium",
        "praseodymium",
        "neodymium",
        "promethium",
        "samarium",
        "europium",
        "gadolinium",
        "terbium",
        "dysprosium",
        "holmium",
        "erbium",
        "thulium",
        "ytterbium",
        "lutetium",
    }
)
PGM_IDS = frozenset({"platinum", "palladium", "iridium", "rhodium", "ruthenium"})
AGGREGATES = {"rare_earths": REE_IDS, "platinum_group_metals": PGM_IDS}

MENTION_SCHEMA: dict[str, pl.DataType] = {
    "document_number": pl.String(),
    "kind": pl.String(),  # hts | chapter99 | mineral | country
    "value": pl.String(),  # HTS digits, mineral id or ISO3
    "term": pl.String(),  # the text as found
}

LINE_SCHEMA: dict[str, pl.DataType] = {
    "line_id": pl.String(),
    "hts": pl.String(),
    "country_origin": pl.String(),
    "entry_date": pl.Date(),
    "customs_value_usd": pl.Float64(),
    "description": pl.String(),
    "supplier": pl.String(),
}

_TEXT_COLUMNS = ("title", "abstract", "action", "toc_subject", "toc_doc", "excerpts", "full_text")

# 4+2 digits, then optionally .2.2 / .4 / .2; not preceded by a digit, '$' or '.'; optional CFR/§/part prefix
# captured so such section numbers can be dropped afterwards.
_DOTTED_HTS = (
    r"(?:^|[^\d$.])(?:(?i:cfr|part|parts|section|sec\.|§|§§)\s*)?"
    r"\d{4}\.\d{2}(?:\.\d{2}\.\d{2}|\.\d{4}|\.\d{2})?\b"
)
_KEYWORD_HTS = (
    r"(?i)\b(?:(?:sub)?headings?|HTS(?:US)?)\s+(?:(?:no\.|number)\s*)?\d{4}(?:\.?\d{2}){0,3}(?:\.?\d{2})?\b"
)
_NOT_HTS_PREFIX = re.compile(r"(?i)cfr|part|section|sec\.|§")


class VocabularyError(CritminError):
    """The shipped mineral phrase list is malformed (a packaging error, not a user error)."""


@dataclass(frozen=True)
class Vocabulary:
    """Compiled phrase lists for minerals and countries."""

    mineral_ids: frozenset[str]
    mineral_terms: pl.DataFrame  # key (lowercased unless exact), mineral_id
    mineral_pattern_ci: str
    mineral_pattern_cs: str | None
    country_terms: pl.DataFrame  # key, iso3 (null: a name to swallow, e.g. "New Mexico")
    country_pattern: str


def _alternation(terms: list[str]) -> str:
    ordered = sorted(set(terms), key=lambda t: (-len(t), t))
    return r"\b(?:" + "|".join(re.escape(t) for t in ordered) + r")\b"


@cache
def vocabulary() -> Vocabulary:
    raw = yamlfile.load(resources.files("critmin.monitor").joinpath("mineral_terms.yaml").read_text("utf-8"))
    if not isinstance(raw, dict):
        raise VocabularyError("mineral_terms.yaml must map mineral ids to {terms, exact}.")
    rows: list[dict[str, Any]] = []
    ci_terms: list[str] = []
    cs_terms: list[str] = []
    for mineral_id, spec in raw.items():
        if not isinstance(spec, dict) or not set(spec) <= {"terms", "exact"}:
            raise VocabularyError(
                f"mineral_terms.yaml: {mineral_id!r} must have 'terms' and/or 'exact' lists."
            )
        for term in spec.get("terms", []):
            rows.append({"key": str(term).lower(), "mineral_id": mineral_id})
            ci_terms.append(str(term))
        for term in spec.get("exact", []):
            rows.append({"key": str(term), "mineral_id": mineral_id})
            cs_terms.append(str(term))
    countries = _country_terms()
    return Vocabulary(
        mineral_ids=frozenset(raw),
        mineral_terms=pl.DataFrame(rows, schema={"key": pl.String, "mineral_id": pl.String}).unique(),
        mineral_pattern_ci="(?i)" + _alternation(ci_terms),
        mineral_pattern_cs=_alternation(cs_terms) if cs_terms else None,
        country_terms=countries,
        country_pattern=_alternation(countries.get_column("key").to_list()),
    )


# Names that would otherwise be read as a country, or everyday names pycountry lacks.
_COUNTRY_ALIASES: dict[str, str | None] = {
    "China": "CHN",
    "People's Republic of China": "CHN",
    "PRC": "CHN",
    "Chinese": "CHN",
    "Hong Kong": "HKG",
    "Russia": "RUS",
    "Russian": "RUS",
    "Iran": "IRN",
    "Iranian": "IRN",
    "North Korea": "PRK",
    "DPRK": "PRK",
    "South Korea": "KOR",
    "Republic of Korea": "KOR",
    "Korea": "KOR",
    "Democratic Republic of the Congo": "COD",
    "Democratic Republic of Congo": "COD",
    "DR Congo": "COD",
    "DRC": "COD",
    "Congolese": "COD",
    "Congo": None,  # ambiguous between COD and COG
    "Republic of the Congo": "COG",
    "Vietnam": "VNM",
    "Vietnamese": "VNM",
    "Taiwan": "TWN",
    "Laos": "LAO",
    "Burma": "MMR",
    "Turkey": "TUR",
    "Türkiye": "TUR",
    "Czech Republic": "CZE",
    "Ivory Coast": "CIV",
    "Cote d'Ivoire": "CIV",
    "UK": "GBR",
    "Britain": "GBR",
    "Great Britain": "GBR",
    "Japanese": "JPN",
    "Canadian": "CAN",
    "Mexican": "MEX",
    "Australian": "AUS",
    "Indonesian": "IDN",
    "Brazilian": "BRA",
    "Chilean": "CHL",
    "Peruvian": "PER",
    "Bolivia": "BOL",
    "Venezuela": "VEN",
    "Tanzania": "TZA",
    "Syria": "SYR",
    "Moldova": "MDA",
    "UAE": "ARE",
    "Emirates": "ARE",
    # swallowed: U.S. states and phrases that contain a country name
    "New Mexico": None,
    "New Jersey": None,
    "Georgia": None,  # far more often the U.S. state in the Federal Register
    "United States": None,
    "United States of America": None,
    "American Samoa": None,
}


def _country_terms() -> pl.DataFrame:
    names: dict[str, str | None] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value and "," not in value and "(" not in value:
                names[str(value)] = str(country.alpha_3)
    names.update(_COUNTRY_ALIASES)
    names = {key: (None if value == "USA" else value) for key, value in names.items()}
    return pl.DataFrame(
        {"key": list(names), "iso3": list(names.values())}, schema={"key": pl.String, "iso3": pl.String}
    )


# ---------------------------------------------------------------------------------------------- mentions


def document_text(docs: pl.DataFrame) -> pl.DataFrame:
    """One searchable text per document: the text fields joined, HTML tags stripped, quotes straightened."""
    present = [pl.col(name).cast(pl.String) for name in _TEXT_COLUMNS if name in docs.columns]
    if not present:
        raise ValueError(f"documents need at least one of {', '.join(_TEXT_COLUMNS)} to be matched")
    return docs.select(
        pl.col("document_number"),
        pl.concat_str(present, separator="\n", ignore_nulls=True)
        .str.replace_all(r"<[^>]+>", " ")
        .str.replace_all("[’‘]", "'")
        .alias("text"),
    )


def extract_mentions(docs: pl.DataFrame, *, known_hts: pl.Series | None = None) -> pl.DataFrame:
    """Every HTS code, mineral and country mentioned by each document (``MENTION_SCHEMA``, deduplicated).

    ``known_hts``: prefixes that exist in the schedule (see :func:`schedule_prefixes`); HTS mentions outside
    it are dropped. Without it only the chapter is checked (01-97 for goods, 99 for tariff actions).
    """
    texts = document_text(docs)
    vocab = vocabulary()
    frames = [
        _hts_mentions(texts, known_hts),
        _mineral_mentions(texts, vocab),
        _country_mentions(texts, vocab),
    ]
    return (
        pl.concat(frames, how="vertical")
        .unique(subset=["document_number", "kind", "value"], keep="first", maintain_order=True)
        .sort(["document_number", "kind", "value"])
    )


def _found(texts: pl.DataFrame, pattern: str) -> pl.DataFrame:
    return (
        texts.select(pl.col("document_number"), pl.col("text").str.extract_all(pattern).alias("term"))
        .explode("term", empty_as_null=True)
        .drop_nulls("term")
    )


def _hts_mentions(texts: pl.DataFrame, known_hts: pl.Series | None) -> pl.DataFrame:
    dotted = _found(texts, _DOTTED_HTS).filter(~pl.col("term").str.contains(_NOT_HTS_PREFIX.pattern))
    keyword = _found(texts, _KEYWORD_HTS)
    found = (
        pl.concat([dotted, keyword])
        .with_columns(pl.col("term").str.strip_chars().str.replace(r"^[^\dA-Za-z§]+", ""))
        .with_columns(pl.col("term").str.extract(r"(\d{4}[\d.]*)$").str.replace_all(r"\.", "").alias("value"))
        .filter(pl.col("value").str.len_chars().is_in([4, 6, 8, 10]))
        .with_columns(pl.col("value").str.slice(0, 2).cast(pl.Int32).alias("chapter"))
    )
    chapter99 = found.filter(pl.col("chapter") == 99).with_columns(pl.lit("chapter99").alias("kind"))
    goods = found.filter(pl.col("chapter").is_between(1, 97))
    if known_hts is not None:
        goods = goods.filter(pl.col("value").is_in(known_hts.implode()))
    goods = goods.with_columns(pl.lit("hts").alias("kind"))
    return pl.concat([goods, chapter99]).select(list(MENTION_SCHEMA)).cast(MENTION_SCHEMA)  # type: ignore[arg-type]


def _mineral_mentions(texts: pl.DataFrame, vocab: Vocabulary) -> pl.DataFrame:
    insensitive = _found(texts, vocab.mineral_pattern_ci).with_columns(
        pl.col("term").str.to_lowercase().alias("key")
    )
    parts = [insensitive]
    if vocab.mineral_pattern_cs:
        parts.append(_found(texts, vocab.mineral_pattern_cs).with_columns(pl.col("term").alias("key")))
    return (
        pl.concat(parts)
        .join(vocab.mineral_terms, on="key", how="inner")
        .select(
            pl.col("document_number"),
            pl.lit("mineral").alias("kind"),
            pl.col("mineral_id").alias("value"),
            pl.col("term"),
        )
    )


def _country_mentions(texts: pl.DataFrame, vocab: Vocabulary) -> pl.DataFrame:
    return (
        _found(texts, vocab.country_pattern)
        .join(vocab.country_terms.rename({"key": "term"}), on="term", how="inner")
        .drop_nulls("iso3")
        .select(
            pl.col("document_number"),
            pl.lit("country").alias("kind"),
            pl.col("iso3").alias("value"),
            pl.col("term"),
        )
    )


def schedule_prefixes() -> pl.Series | None:
    """Every 4/6/8/10-digit prefix of a code in the shipped HTS schedule, or None if it is not built."""
    try:
        from critmin.refdata.hts import schedule
    except ImportError:
        return None
    try:
        codes = schedule().get_column("hts").cast(pl.String)
    except CritminError as exc:
        log.info("HTS schedule not available (%s); HTS mentions are checked by chapter only", exc)
        return None
    return pl.concat([codes.str.slice(0, n) for n in (4, 6, 8, 10)]).unique().rename("prefix")


# ---------------------------------------------------------------------------------------------- ledger


def ledger_lines(ledger: pl.DataFrame, *, classify: bool = True) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The columns matching needs, and the line -> mineral table (content mineral + scope classification).

    With ``classify`` the classification comes from ``critmin.refdata.scope.classify`` when it is available;
    the ledger's own ``content_mineral`` always counts.
    """
    lines = ledger.select([pl.col(name).cast(dtype) for name, dtype in LINE_SCHEMA.items()])
    minerals = [
        ledger.select(pl.col("line_id"), pl.col("content_mineral").alias("mineral_id")).drop_nulls(
            "mineral_id"
        )
    ]
    classified = _classify(lines) if classify else None
    if classified is not None:
        minerals.append(classified)
    line_minerals = pl.concat(minerals, how="vertical").unique()
    return lines, line_minerals


def _classify(lines: pl.DataFrame) -> pl.DataFrame | None:
    try:
        from critmin.refdata.scope import classify
    except ImportError:
        return None
    try:
        result = classify(lines.select("line_id", "hts"), hts_col="hts", id_col="line_id")
    except CritminError as exc:
        log.info("scope classification not available (%s); minerals come from content_mineral only", exc)
        return None
    return result.select(pl.col("line_id").cast(pl.String), pl.col("mineral_id").cast(pl.String)).drop_nulls()


def mineral_expansion(ids: frozenset[str]) -> pl.DataFrame:
    """Pairs (mentioned, on_line) that count as the same mineral: identity plus aggregate <-> member."""
    pairs = {(mineral, mineral) for mineral in ids | set(AGGREGATES)}
    for aggregate, members in AGGREGATES.items():
        for member in members:
            pairs.add((aggregate, member))
            pairs.add((member, aggregate))
    return pl.DataFrame(sorted(pairs), schema={"mentioned": pl.String, "on_line": pl.String}, orient="row")


def hts_matches(codes: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Join (key, value=HTS digits) to lines by prefix, both ways; returns (key, line_id, via).

    A line matches when its code starts with the mentioned code (``8505.11`` touches ``8505110070``), or,
    for a line the user declared at fewer digits, when the mentioned code starts with the line's code.
    """
    prefix_lengths = (4, 6, 8, 10)
    line_prefixes = (
        lines.select(
            "line_id",
            *[pl.col("hts").str.slice(0, n).alias(f"p{n}") for n in prefix_lengths],
            pl.col("hts").str.len_chars().alias("len"),
        )
        .unpivot(index=["line_id", "len"], value_name="prefix")
        .filter(pl.col("prefix").str.len_chars() == pl.col("variable").str.slice(1).cast(pl.UInt32))
        .select("line_id", "prefix")
        .unique()
    )
    narrower = codes.join(line_prefixes, left_on="value", right_on="prefix", how="inner")
    code_prefixes = (
        codes.select(
            "key",
            "value",
            *[pl.col("value").str.slice(0, n).alias(f"p{n}") for n in prefix_lengths[:-1]],
        )
        .unpivot(index=["key", "value"], value_name="prefix")
        .filter(pl.col("prefix").str.len_chars() < pl.col("value").str.len_chars())
        .select("key", "value", "prefix")
    )
    broader = code_prefixes.join(
        lines.select("line_id", "hts"), left_on="prefix", right_on="hts", how="inner"
    )
    return (
        pl.concat([narrower.select("key", "line_id", "value"), broader.select("key", "line_id", "value")])
        .select("key", "line_id", ("hts:" + pl.col("value")).alias("via"))
        .unique()
    )


def mineral_matches(minerals: pl.DataFrame, line_minerals: pl.DataFrame) -> pl.DataFrame:
    """Join (key, value=mineral id) to lines through their minerals; returns (key, line_id, via)."""
    expansion = mineral_expansion(vocabulary().mineral_ids)
    return (
        minerals.join(expansion, left_on="value", right_on="mentioned", how="inner")
        .join(line_minerals, left_on="on_line", right_on="mineral_id", how="inner")
        .select("key", "line_id", ("mineral:" + pl.col("value")).alias("via"))
        .unique()
    )


def country_matches(countries: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Join (key, value=ISO3) to lines on country of origin; returns (key, line_id, via)."""
    return (
        countries.join(lines.select("line_id", "country_origin"), left_on="value", right_on="country_origin")
        .select("key", "line_id", ("country:" + pl.col("value")).alias("via"))
        .unique()
    )


def product_matches(criteria: pl.DataFrame, lines: pl.DataFrame, line_minerals: pl.DataFrame) -> pl.DataFrame:
    """Lines matched by HTS or mineral criteria given as (key, kind, value); (key, line_id, via)."""
    hts = hts_matches(criteria.filter(pl.col("kind") == "hts").select("key", "value"), lines)
    minerals = mineral_matches(
        criteria.filter(pl.col("kind") == "mineral").select("key", "value"), line_minerals
    )
    return pl.concat([hts, minerals])


def trailing_year(lines: pl.DataFrame) -> tuple[date, date] | None:
    """The twelve months ending at the ledger's latest entry date: the window "annual" figures use."""
    latest = lines.get_column("entry_date").max()
    if latest is None:
        return None
    assert isinstance(latest, date)
    return latest - timedelta(days=364), latest
