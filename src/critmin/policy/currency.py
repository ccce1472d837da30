"""How current the law in the shipped library is, said the same way in every output.

"What you pay under the law in force" is only as good as the day the library was last reviewed. The
library states that day, the HTS revision its headings and rates were checked against, the measures that
rest on secondary sources only (``verification: reported``) and what was looked for and not found. Every
exposure, explanation, report and dashboard page carries :meth:`LawCurrency.line`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from critmin.policy._yaml import read_yaml
from critmin.policy.errors import PolicyError
from critmin.policy.loader import LIBRARY_DIR, library
from critmin.policy.models import LegalStatus, Measure

CURRENCY_FILE = LIBRARY_DIR / "currency.yaml"


@dataclass(frozen=True)
class LawCurrency:
    as_of: date
    verified_revision: str
    verified_date: date
    reported: tuple[Measure, ...]
    unknown: tuple[str, ...]

    @property
    def reported_to(self) -> date | None:
        """The latest start among the in-force measures that are only reported."""
        starts = [m.effective_from for m in self.reported if m.effective_from is not None]
        return max(starts) if starts else None

    def line(self) -> str:
        """One line: law as of ...; verified through ...; reported to ...: ...; unknown: ..."""
        later = [m for m in self.reported if m.effective_from and m.effective_from > self.verified_date]
        named = sorted({_short(m) for m in later}, key=lambda text: text[-11:-1])
        earlier = len(self.reported) - len(later)
        parts = [
            f"law as of {self.as_of.isoformat()}",
            f"verified through {self.verified_revision} ({self.verified_date.isoformat()})",
        ]
        if self.reported_to is not None:
            tail = f"; {earlier} earlier measure(s) also reported only" if earlier else ""
            parts.append(f"reported to {self.reported_to.isoformat()}: {', '.join(named)}{tail}")
        parts.append(f"unknown: {len(self.unknown)} open questions (critmin policy currency)")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "verified_through": {
                "revision": self.verified_revision,
                "date": self.verified_date.isoformat(),
            },
            "reported_to": self.reported_to.isoformat() if self.reported_to else None,
            "reported_measures": [m.id for m in self.reported],
            "unknown": list(self.unknown),
            "line": self.line(),
        }

    def after_as_of(self, day: date | None) -> bool:
        return day is not None and day > self.as_of


def _short(measure: Measure) -> str:
    """The programme a reported measure belongs to, e.g. 'Section 301 forced labor (2026-07-24)'."""
    name = measure.family or measure.id
    labels = {
        "s301_fl": "Section 301 forced labor",
        "s301_brazil": "Section 301 Brazil",
        "s232_polysilicon": "Section 232 polysilicon",
        "s232_metals_2026": "Section 232 metal tiers",
    }
    label = labels.get(name, measure.title.split(",")[0])
    start = measure.effective_from.isoformat() if measure.effective_from else "…"
    return f"{label} ({start})"


@cache
def law_currency() -> LawCurrency:
    data = read_yaml(CURRENCY_FILE).data
    try:
        verified = data["verified_through"]
        as_of = date.fromisoformat(str(data["as_of"]))
        revision = str(verified["revision"])
        verified_date = date.fromisoformat(str(verified["date"]))
        unknown = tuple(str(x) for x in data.get("unknown", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError.single(
            str(CURRENCY_FILE),
            "currency",
            f"is malformed ({exc}).",
            "give as_of, verified_through and unknown",
        ) from exc
    reported = tuple(
        m
        for m in library().measures
        if m.verification == "reported"
        and m.status is LegalStatus.in_force
        and m.authority.value not in {"mfn", "preference"}
    )
    return LawCurrency(as_of, revision, verified_date, reported, unknown)


__all__ = ["LawCurrency", "law_currency"]
