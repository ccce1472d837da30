"""Stacking rules: exclusions and portions of value a measure does not stack on.

Two rules, both declared by the measures themselves (``stacking`` in the YAML):

1. ``excludes``: where this measure applies, the listed measures do not (a preference replaces MFN where it
   is claimed and eligible; a 2024 Section 301 increase replaces the earlier list rate on the same goods).
2. ``not_on``: this measure's value basis loses the portion of value that the listed measures charge (Section
   122 does not stack on Section 232 for the same portion: on a copper article it is charged on the non-copper
   value only; on a steel article, on nothing).

Measures are computed in an order where every excluder and every ``not_on`` target comes first
(:func:`critmin.policy.loader.order_measures`), so both rules are plain column expressions.
"""

from __future__ import annotations

from collections.abc import Sequence

from critmin.policy.loader import not_on_targets, resolve_refs
from critmin.policy.models import Measure


def excluders(measures: Sequence[Measure]) -> dict[str, list[str]]:
    """Measure id -> ids of measures whose application excludes it."""
    out: dict[str, list[str]] = {m.id: [] for m in measures}
    for m in measures:
        for ref in m.stacking.excludes:
            for target in resolve_refs(ref, measures, self_id=m.id):
                out[target].append(m.id)
    return out


def claims_value(measure: Measure) -> bool:
    """See :attr:`critmin.policy.models.Measure.claims_value`."""
    return measure.claims_value


__all__ = ["claims_value", "excluders", "not_on_targets"]
