"""A small HTTP client for JSON APIs that fail in the ways real government APIs fail.

The Federal Register and Census APIs time out, answer 5xx under load, throttle with 429 and ``Retry-After``,
and occasionally cut a body short. Every feed client goes through :class:`JsonClient` so those cases are
handled once: timeouts, retries with exponential backoff and jitter, ``Retry-After`` honoured, and bodies
that are not complete JSON rejected with an error naming the URL. Sleep and randomness are injectable so
tests run the real retry loop without waiting.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from critmin import __version__
from critmin.monitor.errors import (
    FeedError,
    FeedHTTPError,
    FeedTimeoutError,
    FeedUnreachableError,
    MalformedResponseError,
)

log = logging.getLogger("critmin.monitor")

SleepFn = Callable[[float], None]
RandomFn = Callable[[], float]
Params = Mapping[str, Any] | list[tuple[str, Any]] | None

USER_AGENT = f"critmin/{__version__} (+https://github.com/critmin/critmin)"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up.

    ``attempts`` counts every request, the first included. The wait before retry *n* (0-based) is
    ``d/2 + U(0, 1) * d/2`` with ``d = min(max_delay, base_delay * 2**n)`` ("equal jitter"): it grows
    exponentially, never drops below half the nominal delay, and spreads clients that failed together.
    A ``Retry-After`` header replaces the computed wait; one longer than ``max_retry_after`` is not waited
    out but reported, because a client that sleeps for an hour looks hung.
    """

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 900.0
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({408, 425, 429, 500, 502, 503, 504})
    )

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must be zero or positive")

    def backoff(self, retry: int, rand: RandomFn) -> float:
        nominal = min(self.max_delay, self.base_delay * (2**retry))
        return nominal / 2 + rand() * nominal / 2


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class FetchResult:
    """One successful request: what was asked, what came back and how many attempts it took."""

    url: str
    status: int
    attempts: int
    data: Any
    bytes: int


class JsonClient:
    """GET JSON with timeouts, retries, backoff and strict body checks.

    ``transport`` lets callers plug any ``httpx`` transport (a proxy, a mock); tests instead point the base
    URL at a local server so the real network stack runs.
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: SleepFn = time.sleep,
        rand: RandomFn = random.random,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rand = rand
        base_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        base_headers.update(headers or {})
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), transport=transport, headers=base_headers, follow_redirects=True
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, url: str, params: Params = None, *, allow_empty: bool = False) -> FetchResult:
        """GET ``url`` and decode its JSON body; ``allow_empty`` accepts 204/empty bodies as ``None``."""
        return self._request(url, params, decode=lambda body, shown: _decode_json(body, shown, allow_empty))

    def get_text(self, url: str, params: Params = None) -> FetchResult:
        """GET a text body (e.g. a document's full text), with the same retries."""
        return self._request(url, params, decode=lambda body, shown: body.decode("utf-8", errors="replace"))

    def _request(self, url: str, params: Params, *, decode: Callable[[bytes, str], Any]) -> FetchResult:
        shown = url
        last_error: FeedError | None = None
        for attempt in range(1, self.retry.attempts + 1):
            wait: float | None = None
            try:
                response = self._client.get(url, params=params)
                shown = str(response.request.url)
                body = response.content
            except httpx.TimeoutException as exc:
                last_error = FeedTimeoutError(
                    f"No answer from {shown} within the timeout ({type(exc).__name__}).", url=shown
                )
            except httpx.RemoteProtocolError as exc:
                last_error = MalformedResponseError(
                    f"The response from {shown} was cut off before its end ({exc}); the body is incomplete.",
                    url=shown,
                )
            except httpx.ConnectError as exc:
                if _unresolvable(exc):
                    host = httpx.URL(url).host
                    raise FeedUnreachableError(
                        f"Cannot resolve {host}: this machine looks offline, or the address is wrong. "
                        "Nothing was retried; run again when the network is back.",
                        url=shown,
                    ) from exc
                last_error = FeedError(f"Could not reach {shown}: {exc}.", url=shown)
            except httpx.TransportError as exc:
                last_error = FeedError(f"Could not reach {shown}: {exc}.", url=shown)
            else:
                status = response.status_code
                if status in self.retry.retry_statuses:
                    wait = parse_retry_after(response.headers.get("Retry-After"))
                    last_error = FeedHTTPError(
                        f"{shown} answered HTTP {status} {response.reason_phrase}.", url=shown, status=status
                    )
                    if wait is not None and wait > self.retry.max_retry_after:
                        raise FeedHTTPError(
                            f"{shown} answered HTTP {status} and asks to wait {wait:.0f} s (Retry-After), "
                            "longer "
                            f"than the {self.retry.max_retry_after:.0f} s critmin waits; run again later.",
                            url=shown,
                            status=status,
                        )
                elif status >= 400:
                    raise FeedHTTPError(
                        f"{shown} answered HTTP {status} {response.reason_phrase}: {_snippet(body)}. "
                        "Check the query parameters (this error is not retried).",
                        url=shown,
                        status=status,
                    )
                else:
                    try:
                        data = decode(body, shown)
                    except MalformedResponseError as exc:
                        last_error = exc
                    else:
                        return FetchResult(
                            url=shown, status=status, attempts=attempt, data=data, bytes=len(body)
                        )
            if attempt < self.retry.attempts:
                delay = wait if wait is not None else self.retry.backoff(attempt - 1, self._rand)
                log.warning(
                    "%s (attempt %d of %d); retrying in %.2f s",
                    last_error,
                    attempt,
                    self.retry.attempts,
                    delay,
                )
                self._sleep(delay)
        assert last_error is not None
        raise type(last_error)(**_error_kwargs(last_error, self.retry.attempts)) from last_error


def _unresolvable(exc: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve (``socket.gaierror`` somewhere in
    the chain httpx and httpcore keep): no backoff makes a name resolve, unlike a refused or reset
    connection."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _error_kwargs(error: FeedError, attempts: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"url": error.url, "message": f"{error} Gave up after {attempts} attempt(s)."}
    if isinstance(error, FeedHTTPError):
        kwargs["status"] = error.status
    return kwargs


def _decode_json(body: bytes, url: str, allow_empty: bool) -> Any:
    if not body.strip():
        if allow_empty:
            return None
        raise MalformedResponseError(f"{url} returned an empty body where JSON was expected.", url=url)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at byte {exc.pos} of {len(body)}" if isinstance(exc, json.JSONDecodeError) else ""
        stripped = body.strip()
        opened, closed = stripped[:1], stripped[-1:]
        truncated = (opened == b"{" and closed != b"}") or (opened == b"[" and closed != b"]")
        hint = "it stops mid-document, so the response was truncated" if truncated else "the body is not JSON"
        raise MalformedResponseError(
            f"{url} returned a body that cannot be decoded as JSON{where} ({hint}): {_snippet(body)}", url=url
        ) from exc


def _snippet(body: bytes, limit: int = 160) -> str:
    text = body[:limit].decode("utf-8", errors="replace").replace("\n", " ").strip()
    return repr(text + ("…" if len(body) > limit else ""))
