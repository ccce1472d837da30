"""Errors raised by the monitor.

::

    CritminError
      FeedError                  a feed could not be read; names the URL
        FeedHTTPError            the server answered with an error status (after retries for 429/5xx)
        FeedTimeoutError         no answer within the timeout, on every attempt
        MalformedResponseError   the body was not the JSON the API documents (truncated, HTML, wrong shape)
        PagingLoopError          next_page_url pointed back at a page already read
      InputError
        WatchlistError           a watchlist YAML file is invalid; names the file, the entry and the field
        EventsFileError          a timeline events YAML file is invalid
      DeliveryError              a webhook or e-mail delivery failed (recorded, retried on the next run)
"""

from __future__ import annotations

from critmin.errors import CritminError, InputError


class FeedError(CritminError):
    """A feed request failed; ``url`` says which one, so the user can retry it by hand."""

    def __init__(self, message: str, *, url: str) -> None:
        self.url = url
        super().__init__(message)


class FeedHTTPError(FeedError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, url: str, status: int) -> None:
        self.status = status
        super().__init__(message, url=url)


class FeedTimeoutError(FeedError):
    """Every attempt timed out or lost the connection."""


class MalformedResponseError(FeedError):
    """The body could not be used: truncated, not JSON, or not the documented shape."""


class PagingLoopError(FeedError):
    """The server sent us back to a page already read (a ``next_page_url`` loop)."""


class WatchlistError(InputError):
    """A watchlist file is invalid."""


class EventsFileError(InputError):
    """A timeline events file is invalid."""


class DeliveryError(CritminError):
    """An alert could not be delivered on a channel."""

    def __init__(self, message: str, *, channel: str) -> None:
        self.channel = channel
        super().__init__(message)
