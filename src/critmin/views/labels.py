"""Readable names for the ids the engines use (ISO3 countries, mineral ids, HTS codes), one per unique id."""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from critmin.errors import CritminError

UNMAPPED = "unmapped"
UNKNOWN = "unknown"


@lru_cache(maxsize=1)
def _mineral_names() -> dict[str, str]:
    from critmin.refdata.minerals import minerals

    return dict(minerals().select("mineral_id", "name").iter_rows())


@lru_cache(maxsize=1)
def _headings() -> dict[str, str]:
    from critmin.refdata.hts import schedule

    frame = schedule().select("hts", "level", "description", "description_path")
    headings = dict(frame.filter(pl.col("level") == 4).select("hts", "description").iter_rows())
    # A heading with a single subheading has no row of its own: take the top of its first row's path.
    first = (
        frame.with_columns(pl.col("hts").str.slice(0, 4).alias("heading"))
        .filter(~pl.col("heading").is_in(list(headings)))
        .sort("level", "hts")
        .unique("heading", keep="first")
        .select("heading", pl.col("description_path").str.split(" > ").list.first())
    )
    headings.update(dict(first.iter_rows()))
    return headings


@lru_cache(maxsize=1)
def _leaf_descriptions() -> dict[str, str]:
    from critmin.refdata.hts import schedule

    frame = schedule().filter(pl.col("is_leaf")).select("hts", "description_path")
    return dict(frame.iter_rows())


def country_name(iso3: str | None) -> str:
    from critmin.refdata.countries import display_name

    if iso3 is None or iso3 == UNKNOWN:
        return "unknown origin"
    try:
        return display_name(iso3)
    except CritminError:
        return iso3


def mineral_name(mineral_id: str | None) -> str:
    if mineral_id is None or mineral_id == UNMAPPED:
        return "not a critical mineral (unmapped)"
    return _mineral_names().get(mineral_id, mineral_id.replace("_", " "))


def heading_label(hts: str | None, width: int = 48) -> str:
    """'8505 Electromagnets; permanent magnets…' for the first four digits of an HTS code."""
    if not hts:
        return "unknown product"
    heading = hts[:4]
    text = _headings().get(heading, "").rstrip(":;, ")
    text = text if len(text) <= width else text[: width - 1].rstrip() + "…"
    return f"{heading} {text}".strip()


def hts_description(hts: str | None, width: int = 90) -> str:
    if not hts:
        return ""
    text = _leaf_descriptions().get(hts) or _headings().get(hts[:4], "")
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def hts_display(hts: str | None) -> str:
    """HTS digits as printed in the schedule: 8505110070 -> 8505.11.00.70."""
    if not hts:
        return ""
    parts = [hts[:4], hts[4:6], hts[6:8], hts[8:10]]
    return ".".join(p for p in parts if p)


def with_label(frame: pl.DataFrame, column: str, kind: str, out: str = "label") -> pl.DataFrame:
    """Add a label column for ``column`` (kind: country, mineral, heading, hts), named once per unique id."""
    namer = {
        "country": country_name,
        "mineral": mineral_name,
        "heading": heading_label,
        "hts": hts_description,
    }[kind]
    keys = frame.get_column(column).unique().to_list()
    mapping = pl.DataFrame(
        {column: keys, out: [namer(k) for k in keys]},
        schema={column: frame.schema[column], out: pl.String},
    )
    return frame.join(mapping, on=column, how="left", nulls_equal=True)
