"""The exception tree. Every error a user can cause names the place and the fix.

Each class carries what the two shells need to answer for it, so neither decides per error: ``exit_code``
for the ``critmin`` command and ``http_status`` for the web app and its JSON API. Subclasses raised
elsewhere keep their module but take their meaning from the branch they hang on::

    CritminError                      1  500  critmin could not do it (a bug, or shipped files are broken)
      ReferenceDataError              1  500  a shipped dataset is missing or does not match its manifest
        UnknownDatasetError           2  404  ... or the id names no dataset (also a NotFoundError)
      InputError                      2  400  the user's file, option or value is wrong; the message says how
        NotFoundError                 2  404  an id or name that names nothing (scenario, mineral, ...)
        UnknownCountryError           2  400  a country name or code that cannot be resolved
        PolicyError                   2  400  policy/errors.py: a measure or scenario file or a --set override
        WatchlistError, EventsFileError          monitor/errors.py
      WorkspaceError                  2  503  the workspace is missing, in use by another process, or newer
      UnavailableError                3  503  something critmin needs is not there: a program, a host
        CapabilityMissingError        3  503  a program is not installed (Chromium for the PDF)
        FeedError                     3  502  monitor/errors.py: a Federal Register or Census request failed

Exit code 2 is also what the command line gives for a bad option, so "you typed something wrong" is one
code whichever layer noticed. ``WorkspaceError`` exits 2 because the user chose the workspace (``--workspace``
or ``CRITMIN_WORKSPACE``) and can choose another; for the web app it is the server's workspace, so 503.
"""

from __future__ import annotations

from typing import ClassVar


class CritminError(Exception):
    """Base class: anything critmin raises on purpose. Unqualified, it is critmin's fault, not the user's."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500


class ReferenceDataError(CritminError):
    """A shipped reference dataset is missing, unknown or does not match its manifest."""


class InputError(CritminError):
    """A user file, option or value is wrong; the message names file, row, column and the fix."""

    exit_code = 2
    http_status = 400


class NotFoundError(InputError):
    """An id or name the user gave names nothing critmin knows; the message lists what exists."""

    http_status = 404


class UnknownDatasetError(ReferenceDataError, NotFoundError):
    """A dataset id that the shipped manifest does not list."""


class UnknownCountryError(InputError, LookupError):
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

    exit_code = 2
    http_status = 503


class UnavailableError(CritminError):
    """Something critmin needs from the machine or the network is not available; nothing is wrong with the
    user's input, and the same command works once it is there."""

    exit_code = 3
    http_status = 503


class CapabilityMissingError(UnavailableError):
    """A program critmin runs is not installed (headless Chromium for the PDF); the message says how to get
    it and how to do without."""
