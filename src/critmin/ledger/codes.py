"""Code columns — HTS numbers, countries, preference programmes, units and minerals — resolved once per
distinct value and joined back onto each chunk.

A ledger of a million lines has a few hundred distinct HTS codes and a few dozen country spellings, so the
reference lookups (:mod:`critmin.refdata.hts`, :mod:`critmin.refdata.countries`) run on the distinct values
only, and a :class:`LookupCache` carries what earlier chunks already resolved.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import polars as pl

from critmin.ledger.minerals import resolve_minerals
from critmin.ledger.units import SCHEDULE_UNIT_DIMENSIONS, resolve_units
from critmin.refdata import countries
from critmin.refdata import hts as hts_ref

# ----------------------------------------------------------------------------------------------------------
# Preference programmes (HTS "Special" column indicators)
# ----------------------------------------------------------------------------------------------------------

PROGRAMS: dict[str, str] = {
    "A": "Generalized System of Preferences (GSP)",
    "A*": "GSP, some beneficiaries excluded for this line",
    "A+": "GSP, least-developed beneficiaries only",
    "AU": "United States-Australia Free Trade Agreement",
    "B": "Automotive Products Trade Act",
    "BH": "United States-Bahrain Free Trade Agreement",
    "C": "Agreement on Trade in Civil Aircraft",
    "CL": "United States-Chile Free Trade Agreement",
    "CO": "United States-Colombia Trade Promotion Agreement",
    "D": "African Growth and Opportunity Act (AGOA)",
    "E": "Caribbean Basin Economic Recovery Act (CBERA)",
    "E*": "CBERA, some beneficiaries excluded for this line",
    "IL": "United States-Israel Free Trade Area",
    "JO": "United States-Jordan Free Trade Area",
    "JP": "United States-Japan Trade Agreement",
    "K": "Agreement on Trade in Pharmaceutical Products",
    "KR": "United States-Korea Free Trade Agreement (KORUS)",
    "L": "Uruguay Round concessions on intermediate chemicals for dyes",
    "MA": "United States-Morocco Free Trade Agreement",
    "NP": "Nepal Preference Program",
    "OM": "United States-Oman Free Trade Agreement",
    "P": "Dominican Republic-Central America-United States FTA (CAFTA-DR)",
    "P+": "CAFTA-DR, some parties only for this line",
    "PA": "United States-Panama Trade Promotion Agreement",
    "PE": "United States-Peru Trade Promotion Agreement",
    "R": "Caribbean Basin Trade Partnership Act (CBTPA)",
    "S": "United States-Mexico-Canada Agreement (USMCA)",
    "S+": "USMCA, some parties only for this line",
    "SG": "United States-Singapore Free Trade Agreement",
}

_PROGRAM_ALIASES: dict[str, str] = {
    "USMCA": "S",
    "CUSMA": "S",
    "TMEC": "S",
    "KORUS": "KR",
    "KORUSFTA": "KR",
    "KOREAFTA": "KR",
    "AUSFTA": "AU",
    "AUFTA": "AU",
    "AUSTRALIAFTA": "AU",
    "GSP": "A",
    "CAFTA": "P",
    "CAFTADR": "P",
    "CHILEFTA": "CL",
    "COLOMBIATPA": "CO",
    "PERUTPA": "PE",
    "PANAMATPA": "PA",
    "SINGAPOREFTA": "SG",
    "MOROCCOFTA": "MA",
    "OMANFTA": "OM",
    "BAHRAINFTA": "BH",
    "JORDANFTA": "JO",
    "ISRAELFTA": "IL",
    "AGOA": "D",
    "CBERA": "E",
    "CBI": "E",
    "CBTPA": "R",
    "USJTA": "JP",
    "JAPANTA": "JP",
    "USJAPANTRADEAGREEMENT": "JP",
}

NO_CLAIM = {"", "N", "NO", "NONE", "NA", "NIL", "0", "-", "--"}
"""Spellings of "no preference claimed"."""


def program_key(text: str) -> str:
    """Upper case without spaces, hyphens, dots or slashes; ``*`` and ``+`` are kept (``A*`` is a code)."""
    return re.sub(r"[\s\-./_()]", "", text.strip().upper())


def resolve_programs(values: pl.Series) -> pl.DataFrame:
    """Distinct raw preference texts -> (programme code or null, known flag)."""
    distinct = values.drop_nulls().unique().to_list()
    codes: list[str | None] = []
    known: list[bool] = []
    for value in distinct:
        key = program_key(value)
        if key in NO_CLAIM:
            codes.append(None)
            known.append(True)
        elif key in PROGRAMS:
            codes.append(key)
            known.append(True)
        elif key in _PROGRAM_ALIASES:
            codes.append(_PROGRAM_ALIASES[key])
            known.append(True)
        else:
            codes.append(None)
            known.append(False)
    return pl.DataFrame(
        {"raw": distinct, "program": codes, "known": known},
        schema={"raw": pl.String, "program": pl.String, "known": pl.Boolean},
    )


# ----------------------------------------------------------------------------------------------------------
# HTS
# ----------------------------------------------------------------------------------------------------------

HTS_LOOKUP_SCHEMA: dict[str, pl.DataType] = {
    "raw": pl.String(),
    "hts": pl.String(),
    "status": pl.String(),  # valid | valid_prefix | unknown | malformed
    "repaired": pl.Boolean(),
    "suggestions": pl.String(),  # dotted codes joined with ", "
}


def dotted(code: str) -> str:
    """``8505110070`` -> ``8505.11.00.70`` (the form users read)."""
    parts = [code[:4], code[4:6], code[6:8], code[8:10]]
    return ".".join(part for part in parts if part)


def _repair_candidates(values: pl.Series) -> pl.DataFrame:
    """Undo what spreadsheets do to HTS numbers stored as numbers.

    A code typed as ``8112.9210`` and stored as a number comes back ``8112.921`` (trailing zero lost);
    a 10-digit code of chapters 01-09 loses its leading zero. Dotted codes with an odd number of digits
    after a 4-digit heading get the zero back on the right; plain digit strings of odd length get it back
    on the left. The repair is kept only if the schedule accepts the result.
    """
    text = values.str.strip_chars()
    digits = text.str.replace_all(r"[\s.\-]", "")
    n = digits.str.len_chars()
    odd = (n % 2 == 1) & (n >= 5) & (n <= 9)
    trailing = text.str.contains(r"^\d{4}\.\d+$") & odd
    leading = text.str.contains(r"^\d+$") & odd
    repaired = (
        pl.when(trailing).then(digits + pl.lit("0")).when(leading).then(pl.lit("0") + digits).otherwise(None)
    )
    return pl.DataFrame({"raw": values}).with_columns(
        pl.Series("candidate", pl.select(repaired).to_series(), dtype=pl.String)
    )


def _expand_single_suffix(frame: pl.DataFrame) -> pl.DataFrame:
    """An 8-digit code whose only statistical suffix is ``00`` *is* that 10-digit line: use the 10 digits.

    Lossless, and it lets 8-digit ledgers join scope maps and rates keyed on the full number.
    """
    leaves = hts_ref.schedule().filter(pl.col("is_leaf") & (pl.col("level") == 10)).select("hts")
    single = (
        leaves.with_columns(pl.col("hts").str.slice(0, 8).alias("hts8"))
        .group_by("hts8")
        .agg(pl.col("hts").first().alias("only"), pl.len().alias("n"))
        .filter((pl.col("n") == 1) & pl.col("only").str.ends_with("00"))
        .select("hts8", "only")
    )
    eight = (pl.col("hts").str.len_chars() == 8) & (pl.col("status") == "valid_prefix")
    return (
        frame.join(single, left_on="hts", right_on="hts8", how="left", maintain_order="left")
        .with_columns(
            pl.when(eight & pl.col("only").is_not_null())
            .then(pl.col("only"))
            .otherwise(pl.col("hts"))
            .alias("hts"),
            pl.when(eight & pl.col("only").is_not_null())
            .then(pl.lit("valid"))
            .otherwise(pl.col("status"))
            .alias("status"),
        )
        .drop("only")
    )


def resolve_hts(values: pl.Series) -> pl.DataFrame:
    """Distinct raw HTS texts -> normalised code, schedule status, repair flag and nearest valid codes.

    A code is ASCII: text with any other character (digits of another script, a stray symbol) is
    ``malformed`` here without a look-up, since the schedule's search works on ASCII digits.
    """
    distinct = values.drop_nulls().unique()
    foreign = distinct.str.len_bytes() != distinct.str.len_chars()
    if not foreign.any():
        return _resolve_ascii_hts(distinct)
    malformed = pl.DataFrame({"raw": distinct.filter(foreign)}).with_columns(
        pl.lit(None, dtype=pl.String).alias("hts"),
        pl.lit("malformed").alias("status"),
        pl.lit(False).alias("repaired"),
        pl.lit("", dtype=pl.String).alias("suggestions"),
    )
    return pl.concat(
        [_resolve_ascii_hts(distinct.filter(~foreign)), malformed.select(list(HTS_LOOKUP_SCHEMA))],
        how="vertical",
    )


def _resolve_ascii_hts(distinct: pl.Series) -> pl.DataFrame:
    if distinct.len() == 0:
        return pl.DataFrame(schema=HTS_LOOKUP_SCHEMA)
    normal = hts_ref.normalise_hts(distinct)
    checked = hts_ref.validate_codes(distinct)
    frame = pl.DataFrame(
        {
            "raw": distinct,
            "hts": normal,
            "status": checked.get_column("status"),
            "suggestions": checked.get_column("suggestions"),
        }
    ).with_columns(
        pl.when(pl.col("hts").is_null())
        .then(pl.lit("malformed"))
        .otherwise(pl.col("status"))
        .alias("status"),
        pl.lit(False).alias("repaired"),
    )
    repairs = _repair_candidates(distinct).filter(pl.col("candidate").is_not_null())
    needing = frame.filter(pl.col("status").is_in(["malformed", "unknown"])).select("raw")
    repairs = repairs.join(needing, on="raw", how="inner")
    if repairs.height:
        fixed = hts_ref.validate_codes(repairs.get_column("candidate"))
        repairs = repairs.with_columns(
            fixed.get_column("hts").alias("fixed_hts"), fixed.get_column("status").alias("fixed_status")
        ).filter(pl.col("fixed_status").is_in(["valid", "valid_prefix"]))
        frame = (
            frame.join(repairs.select("raw", "fixed_hts", "fixed_status"), on="raw", how="left")
            .with_columns(
                pl.coalesce("fixed_hts", "hts").alias("hts"),
                pl.coalesce("fixed_status", "status").alias("status"),
                pl.col("fixed_hts").is_not_null().alias("repaired"),
            )
            .drop("fixed_hts", "fixed_status")
        )
    frame = _expand_single_suffix(frame)
    frame = frame.with_columns(
        pl.col("suggestions")
        .list.eval(
            pl.concat_str(
                [
                    pl.element().str.slice(0, 4),
                    pl.lit("."),
                    pl.element().str.slice(4, 2),
                    pl.lit("."),
                    pl.element().str.slice(6, 2),
                    pl.lit("."),
                    pl.element().str.slice(8, 2),
                ]
            ).str.strip_chars_end(".")
        )
        .list.join(", ")
        .alias("suggestions")
    )
    return frame.select([pl.col(name).cast(dtype) for name, dtype in HTS_LOOKUP_SCHEMA.items()])


def hts_unit_table() -> pl.DataFrame:
    """Per schedule code: the dimensions its units of quantity measure and the printed units.

    Columns ``hts``, ``hts_dimensions`` (list: mass, count, ...), ``hts_units_text`` ("No., kg"). Used to
    warn when a line's quantity cannot serve a specific duty or a per-kg price floor.
    """
    dims = pl.DataFrame(
        {"code": list(SCHEDULE_UNIT_DIMENSIONS), "dim": list(SCHEDULE_UNIT_DIMENSIONS.values())},
        schema={"code": pl.String, "dim": pl.String},
    )
    schedule = hts_ref.schedule().filter(pl.col("unit").is_not_null())
    long = (
        schedule.select("hts", pl.concat_list("unit", "unit2").alias("code"))
        .explode("code", empty_as_null=True)
        .drop_nulls()
    )
    table = (
        long.join(dims, on="code", how="left")
        .group_by("hts")
        .agg(pl.col("dim").drop_nulls().unique().sort().alias("hts_dimensions"))
    )
    texts = schedule.select("hts", pl.col("units").list.join(", ").alias("hts_units_text"))
    return table.join(texts, on="hts", how="left").sort("hts")


# ----------------------------------------------------------------------------------------------------------
# Countries
# ----------------------------------------------------------------------------------------------------------

COUNTRY_LOOKUP_SCHEMA: dict[str, pl.DataType] = {
    "raw": pl.String(),
    "iso3": pl.String(),
    "suggestions": pl.String(),
}


def resolve_countries(values: pl.Series) -> pl.DataFrame:
    """Distinct raw country texts -> ISO3 (null when unknown) and, for unknown ones, the closest names."""
    distinct = values.drop_nulls().unique()
    if distinct.len() == 0:
        return pl.DataFrame(schema=COUNTRY_LOOKUP_SCHEMA)
    iso3 = countries.resolve_series(distinct)
    suggestions = [
        ", ".join(countries.suggest(value)) if code is None else None
        for value, code in zip(distinct.to_list(), iso3.to_list(), strict=True)
    ]
    return pl.DataFrame(
        {"raw": distinct, "iso3": iso3, "suggestions": suggestions}, schema=COUNTRY_LOOKUP_SCHEMA
    )


# ----------------------------------------------------------------------------------------------------------
# Cache across chunks
# ----------------------------------------------------------------------------------------------------------


class LookupCache:
    """Resolved distinct values per kind, so each spelling is looked up once per import."""

    def __init__(self, unit_aliases: dict[str, str] | None = None) -> None:
        self._resolvers: dict[str, Callable[[pl.Series], pl.DataFrame]] = {
            "hts": resolve_hts,
            "country": resolve_countries,
            "program": resolve_programs,
            "unit": lambda values: resolve_units(values, unit_aliases),
            "mineral": resolve_minerals,
        }
        self._known: dict[str, pl.DataFrame] = {}
        self._lock = threading.Lock()  # chunks are normalised on two threads; each spelling resolved once

    def lookup(self, kind: str, values: pl.Series) -> pl.DataFrame:
        """Lookup rows (``raw`` + result columns) covering every distinct non-null value of ``values``."""
        distinct = values.drop_nulls().unique().rename("raw").cast(pl.String)
        with self._lock:
            known = self._known.get(kind)
            if known is not None:
                missing = distinct.filter(~distinct.is_in(known.get_column("raw").implode()))
            else:
                missing = distinct
            if missing.len() or known is None:
                fresh = self._resolvers[kind](missing)
                known = fresh if known is None else pl.concat([known, fresh], how="vertical")
                self._known[kind] = known
        return known  # a few hundred spellings at most: joining against all of them is cheaper than picking
