"""Countries at run time: turn whatever a ledger says about origin into an ISO 3166 alpha-3 code.

Import ledgers name countries every way there is: ISO codes, Census Schedule C codes ("5700"),
BACI/Comtrade codes ("842"), official names, broker shorthand ("Korea, South", "PRC", "UK") and typos.
All of them are keys of one alias table (dataset ``country_aliases``), built once from ISO 3166, Census
and BACI files plus a curated list. Keys are normalised by :func:`normalise_key`, so case, accents,
punctuation, spacing and a few common abbreviations ("St.", "Is.", "Rep.") do not matter. Anything that
still does not match raises :class:`~critmin.errors.UnknownCountryError` with the closest names, so a user
can fix the file rather than guess.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import cache
from pathlib import Path

import polars as pl

from critmin.errors import UnknownCountryError
from critmin.paths import refdata_dir
from critmin.refdata.registry import load

# Letters that NFKD does not decompose into a base letter plus accents.
_TRANSLATE = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ı": "i",
    }
)
# Abbreviations expanded inside multi-word names ("St. Lucia", "Cayman Is.", "Dem. Rep. of the Congo").
_TOKEN_EXPANSIONS = {
    "st": "saint",
    "ste": "sainte",
    "is": "islands",
    "isl": "islands",
    "isds": "islands",
    "rep": "republic",
    "dem": "democratic",
}
_NUMERIC = re.compile(r"^\d+(?:\.0+)?$")
_APOSTROPHES = re.compile(r"['’`´‘]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

# Words too common in country names to tell two countries apart.
_GENERIC_WORDS = frozenset(
    {
        "republic",
        "democratic",
        "people",
        "peoples",
        "of",
        "the",
        "and",
        "islands",
        "island",
        "kingdom",
        "state",
        "states",
        "united",
        "federal",
        "federation",
        "socialist",
        "islamic",
        "arab",
        "plurinational",
        "bolivarian",
        "province",
        "territory",
        "territories",
        "sar",
    }
)

# Alias kinds that are names (used for suggestions; codes make poor suggestions for a misspelt name).
NAME_KINDS = ("name", "official", "common", "curated")


def normalise_key(value: object) -> str:
    """The lookup key of a country code or name.

    Digits are codes: up to three digits are ISO numeric or BACI codes and are zero-padded ("36" and "036"
    are Australia), four digits are Census codes; a trailing ".0" from a spreadsheet is dropped. Text is
    lower-cased, stripped of accents and apostrophes, "&" becomes "and", any other punctuation is a space,
    a leading or trailing "the" is dropped, and a few abbreviations are expanded in multi-word names.
    """
    text = str(value).strip()
    if _NUMERIC.match(text):
        digits = text.split(".")[0].lstrip("0") or "0"
        return digits.zfill(3) if len(digits) <= 3 else digits
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLATE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _APOSTROPHES.sub("", text.replace("&", " and "))
    tokens = _NON_ALNUM.sub(" ", text).split()
    if len(tokens) > 1:
        if tokens[0] == "the":
            tokens = tokens[1:]
        if len(tokens) > 1 and tokens[-1] == "the":
            tokens = tokens[:-1]
        tokens = [_TOKEN_EXPANSIONS.get(token, token) for token in tokens]
    return " ".join(tokens)


def countries() -> pl.DataFrame:
    """The shipped ``countries`` dataset: one row per ISO3 code with its other codes and names."""
    return load("countries")


def aliases() -> pl.DataFrame:
    """The shipped ``country_aliases`` dataset: normalised alias -> ISO3, with kind and source."""
    return load("country_aliases")


@cache
def _tables(directory: Path) -> tuple[dict[str, str], dict[str, str], tuple[str, ...]]:
    """Alias map, display names and suggestion candidates for one reference-data directory."""
    del directory  # the cache key: tests may point CRITMIN_REFDATA_DIR elsewhere
    table = aliases().unique(subset=["alias", "iso3"])
    mapping = dict(zip(table["alias"].to_list(), table["iso3"].to_list(), strict=True))
    frame = countries()
    names = dict(zip(frame["iso3"].to_list(), frame["display_name"].to_list(), strict=True))
    candidates = tuple(sorted(set(aliases().filter(pl.col("kind").is_in(NAME_KINDS))["alias"].to_list())))
    return mapping, names, candidates


def _lookup(value: object) -> str | None:
    mapping, _, _ = _tables(refdata_dir())
    return mapping.get(normalise_key(value))


def resolve(value: str | int) -> str:
    """ISO 3166 alpha-3 code for a code or name; raises :class:`UnknownCountryError` with suggestions."""
    if isinstance(value, str) and not value.strip():
        raise UnknownCountryError(value, [])
    iso3 = _lookup(value)
    if iso3 is None:
        raise UnknownCountryError(str(value), suggest(str(value)))
    return iso3


def resolve_series(values: pl.Series) -> pl.Series:
    """ISO3 for every value, null where a value is null or cannot be resolved.

    Each distinct value is normalised and looked up once, then mapped back onto the column, so a ledger of
    millions of lines with a few hundred distinct spellings costs a few hundred lookups.
    """
    text = values.cast(pl.String)
    uniques = text.drop_nulls().unique()
    mapping, _, _ = _tables(refdata_dir())
    old = uniques.to_list()
    new = [mapping.get(normalise_key(value)) for value in old]
    resolved = text.replace_strict(old, new, default=None, return_dtype=pl.String)
    return resolved.alias(values.name)


def unresolved(values: pl.Series) -> pl.DataFrame:
    """Distinct non-null values that do not resolve, with their row counts and suggestions.

    Meant for quarantine reports: one line per bad spelling instead of one per ledger row.
    """
    counts = values.cast(pl.String).rename("value").drop_nulls().value_counts(sort=True, name="rows")
    mapping, _, _ = _tables(refdata_dir())
    rows = [
        {"value": value, "rows": n, "suggestions": suggest(value)}
        for value, n in counts.iter_rows()
        if mapping.get(normalise_key(value)) is None
    ]
    return pl.DataFrame(
        rows, schema={"value": pl.String, "rows": pl.UInt32, "suggestions": pl.List(pl.String)}
    )


def suggest(value: str, k: int = 3) -> list[str]:
    """Up to ``k`` country names closest to ``value`` (for "did you mean" messages), best first."""
    mapping, names, candidates = _tables(refdata_dir())
    key = normalise_key(value)
    if not key:
        return []
    # Names sharing a distinctive word come first ("Yemen, Rep." -> Yemen, not "Hellenic Republic"), then
    # names that are spelt alike ("Germny" -> Germany).
    words = set(key.split()) - _GENERIC_WORDS
    sharing = [(len(words & set(c.split())), c) for c in candidates if words & set(c.split())]
    sharing.sort(key=lambda item: (-item[0], -difflib.SequenceMatcher(None, key, item[1]).ratio()))
    out: list[str] = []
    for cutoff in (0.75, 0.6):
        for match in [c for _, c in sharing] + difflib.get_close_matches(
            key, candidates, n=4 * k, cutoff=cutoff
        ):
            name = names[mapping[match]]
            if name not in out:
                out.append(name)
        if out:
            break
    return out[:k]


def display_name(iso3: str) -> str:
    """The readable name critmin prints for an ISO3 code ("South Korea", not "Korea, Republic of")."""
    _, names, _ = _tables(refdata_dir())
    if iso3 not in names:
        raise UnknownCountryError(iso3, suggest(iso3))
    return names[iso3]
