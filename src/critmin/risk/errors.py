"""Errors specific to the risk indicators."""

from __future__ import annotations

from critmin.errors import NotFoundError


class RiskDataError(NotFoundError):
    """An indicator cannot be computed for the importer, material or year asked: the shipped data hold no
    inputs for it. The message says which data are missing and what they cover."""


class UnknownMaterialError(NotFoundError, LookupError):
    """A material name is not one the shipped data cover; carries the names that are."""

    def __init__(self, value: str, known: list[str], context: str = "") -> None:
        self.value = value
        self.known = known
        where = f" {context}" if context else ""
        close = [name for name in known if value.lower()[:4] in name][:5]
        hint = f" Did you mean: {', '.join(close)}?" if close else f" Known: {', '.join(known)}."
        super().__init__(f"Unknown material {value!r}{where}.{hint}")
