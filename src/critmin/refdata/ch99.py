"""Chapter 99 headings of the HTS (2026 Revision 6): what a heading says and which rate it prints.

The shipped dataset ``hts_ch99_2026_rev6`` has one row per heading of chapter 99 subchapters II and III
(9902.xx.xx temporary reductions, 9903.xx.xx additional duties), read from the USITC text of HTS 2026 Rev. 6.
:func:`heading` looks one up by number, dotted (``"9903.82.02"``) or not (``"99038202"``).

``rate_pct`` is the additional percent of "The duty provided in the applicable subheading + X%" (0 for the
bare "The duty provided in the applicable subheading"), and null where the rate is not a single additional
percent: a rate in place of column 1 (9903.82.07 "10%", a combined total of 10 %), "No change", "Free", or
text such as "a duty of 25% upon the value of the non-U.S. content". Read ``rate_text`` for those. Headings
added after Rev. 6 (9903.82.01, the 2026 Section 301 headings 9903.05.xx) are not in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from critmin.refdata.registry import load

DATASET = "hts_ch99_2026_rev6"
_HEADING = re.compile(r"^99\d{6}$")


@dataclass(frozen=True)
class Ch99Heading:
    """One chapter 99 heading as printed in HTS 2026 Rev. 6."""

    heading: str
    description: str
    rate_text: str | None
    rate_pct: float | None


def load_ch99() -> pl.DataFrame:
    """The shipped ``hts_ch99_2026_rev6`` dataset."""
    return load(DATASET)


def normalise_heading(value: str) -> str | None:
    """``"9903.82.02"``, ``"99038202"`` or ``"9903 82 02"`` -> ``"9903.82.02"``; None if not a heading."""
    digits = re.sub(r"[\s.\-]", "", value)
    if not _HEADING.match(digits):
        return None
    return f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"


def heading(h: str) -> Ch99Heading | None:
    """The heading ``h`` (dotted or not), or None when Rev. 6 has no such heading."""
    dotted = normalise_heading(h)
    if dotted is None:
        return None
    rows = load_ch99().filter(pl.col("heading") == dotted)
    if rows.is_empty():
        return None
    row = rows.row(0, named=True)
    return Ch99Heading(
        heading=row["heading"],
        description=row["description"],
        rate_text=row["rate_text"],
        rate_pct=row["rate_pct"],
    )
