"""The shipped sample ACE exports (``critmin/samples/ace/``), by name.

A closed list, so that a name sent by a browser or an API client can only ever pick one of these files and
never names a path. The planted differences of each file are listed in the folder's README and checked by
``tests/reconcile/test_samples.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from critmin.errors import NotFoundError
from critmin.paths import SAMPLES_DIR

ACE_SAMPLES_DIR = SAMPLES_DIR / "ace"


@dataclass(frozen=True)
class SampleExport:
    """One shipped export: its file (in :data:`ACE_SAMPLES_DIR`), the invented company and what it shows."""

    name: str
    file: str
    company: str
    description: str

    @property
    def path(self) -> Path:
        return ACE_SAMPLES_DIR / self.file


SAMPLE_EXPORTS: dict[str, SampleExport] = {
    s.name: s
    for s in (
        SampleExport(
            "northstar_magnetics",
            "northstar_magnetics_es003.csv",
            "NorthStar Magnetics (magnet maker)",
            "a missing Section 301 heading, a wrong rate, a late liquidation inside the protest window",
        ),
        SampleExport(
            "voltaris_cells",
            "voltaris_cells_es003.xlsx",
            "Voltaris Cells (battery maker)",
            "copper content declared differently (a workbook under a report banner)",
        ),
        SampleExport(
            "aegis_defense",
            "aegis_defense_es003.csv",
            "Aegis Defense Systems (defense prime)",
            "a China heading on Vietnamese goods, an ineligible claim, last year's MPF minimum, HMF on an "
            "air shipment, a duplicated row",
        ),
    )
}
"""Shipped sample exports by name, in the order the dashboard offers them."""


def sample_export(name: str) -> SampleExport:
    """The shipped sample called ``name``; :class:`NotFoundError` (listing the names) for any other."""
    try:
        return SAMPLE_EXPORTS[name]
    except KeyError:
        raise NotFoundError(
            f"No sample ACE export {name!r}; the shipped ones are {', '.join(SAMPLE_EXPORTS)}."
        ) from None


__all__ = ["ACE_SAMPLES_DIR", "SAMPLE_EXPORTS", "SampleExport", "sample_export"]
