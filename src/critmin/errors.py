"""The exception tree. Every error a user can cause names the place and the fix."""

from __future__ import annotations


class CritminError(Exception):
    """Base class: anything critmin raises on purpose."""


class ReferenceDataError(CritminError):
    """A shipped reference dataset is missing, unknown or does not match its manifest."""


class UnknownCountryError(CritminError, LookupError):
    """A country name or code could not be resolved; carries suggestions."""

    def __init__(self, value: str, suggestions: list[str] | None = None) -> None:
        self.value = value
        self.suggestions = suggestions or []
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"Unknown country {value!r}: give an ISO 3166 alpha-2/alpha-3/numeric code, "
            f"a Census Schedule C code or a country name.{hint}"
        )


class WorkspaceError(CritminError):
    """The workspace database is missing, locked, or at an unexpected schema version."""


class InputError(CritminError):
    """A user file is malformed; the message names file, row, column and the fix."""
