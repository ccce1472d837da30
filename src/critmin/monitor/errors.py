"""Errors raised by the monitor.

::

    CritminError
      UnavailableError (exit 3)
        FeedError                a feed could not be read; names the URL (HTTP 502 in the web app)
          FeedUnreachableError   the host name does not resolve: offline, or a wrong base URL (not retried)
          FeedHTTPError          the server answered with an error status (after retries for 429/5xx)
          FeedTimeoutError       no answer within the timeout, on every attempt
          MalformedResponseError the body was not the JSON the API documents (truncated, HTML, wrong shape)
          PagingLoopError        next_page_url pointed back at a page already read
        DeliveryError            a webhook or e-mail delivery failed (recorded, retried on the next run)
      InputError (exit 2)
        WatchlistError           a watchlist YAML file is invalid; names the file, the entry and the field
        EventsFileError          a timeline events YAML file is invalid
"""

from __future__ import annotations

from critmin.errors import InputError, UnavailableError


class FeedError(UnavailableError):
    """A feed request failed; ``url`` says which one, so the user can retry it by hand."""

    http_status = 502  # the upstream service failed, not critmin

    def __init__(self, message: str, *, url: str) -> None:
        self.url = url
        super().__init__(message)


class FeedUnreachableError(FeedError):
    """The host name could not be resolved: the machine is offline or the base URL is wrong. Retrying
    does not help, so the run stops at the first request instead of waiting out the backoff per query."""

    http_status = 503


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


class DeliveryError(UnavailableError):
    """An alert could not be delivered on a channel."""

    def __init__(self, message: str, *, channel: str) -> None:
        self.channel = channel
        super().__init__(message)
