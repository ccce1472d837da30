"""The retrying JSON client against a local server: timeouts, 5xx, 429 + Retry-After, truncated bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from critmin.monitor.errors import FeedHTTPError, FeedTimeoutError, MalformedResponseError
from critmin.monitor.http import JsonClient, RetryPolicy, parse_retry_after

DOC = "/api/v1/documents/2026-19417.json"


def client(sleep: Any, attempts: int = 4, timeout: float = 2.0) -> JsonClient:
    return JsonClient(
        timeout=timeout, retry=RetryPolicy(attempts=attempts, base_delay=1.0), sleep=sleep, rand=lambda: 0.5
    )


def test_recorded_document_is_read_byte_exact(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route(DOC, kit.Reply(200, kit.recorded("current-document.json")))
    result = client(no_sleep).get_json(server.url + DOC)
    assert result.data["document_number"] == "2026-19417"
    assert result.data["executive_order_number"] == "14430"
    assert result.bytes == 2898  # size of the recorded file
    assert result.attempts == 1 and no_sleep.calls == []


def test_500_then_success_backs_off_exponentially(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route(DOC, kit.Reply(200, kit.recorded("current-document.json")))
    server.fault(DOC, kit.Reply(500, b"oops"), kit.Reply(503, b"busy"), kit.Reply(502, b"bad gateway"))
    result = client(no_sleep).get_json(server.url + DOC)
    assert result.attempts == 4
    # equal jitter with rand()=0.5: d/2 + 0.5*d/2 = 0.75 d, d = 1, 2, 4 s
    assert no_sleep.calls == [0.75, 1.5, 3.0]


def test_429_honours_retry_after_seconds(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route(DOC, kit.Reply(200, kit.recorded("current-document.json")))
    server.fault(DOC, kit.Reply(429, b"slow down", {"Retry-After": "7"}))
    result = client(no_sleep).get_json(server.url + DOC)
    assert result.attempts == 2
    assert no_sleep.calls == [7.0]  # the server's wait, not the 0.75 s backoff


def test_429_retry_after_http_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now) == pytest.approx(30.0)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


def test_retry_after_too_long_is_reported_not_waited(server: Any, no_sleep: Any, kit: Any) -> None:
    server.fault(DOC, kit.Reply(429, b"", {"Retry-After": "86400"}))
    with pytest.raises(FeedHTTPError, match="asks to wait 86400 s") as info:
        client(no_sleep).get_json(server.url + DOC)
    assert info.value.status == 429
    assert no_sleep.calls == []


def test_timeout_then_success(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route(DOC, kit.Reply(200, kit.recorded("current-document.json")))
    server.fault(DOC, kit.Reply(200, kit.recorded("current-document.json"), delay=1.5))
    result = client(no_sleep, timeout=0.5).get_json(server.url + DOC)
    assert result.attempts == 2 and len(no_sleep.calls) == 1


def test_persistent_timeout_names_the_url(server: Any, no_sleep: Any, kit: Any) -> None:
    slow = kit.Reply(200, b"{}", delay=0.4)
    server.fault(DOC, slow, slow)
    with pytest.raises(FeedTimeoutError, match=r"2026-19417\.json.*Gave up after 2 attempt") as info:
        client(no_sleep, attempts=2, timeout=0.15).get_json(server.url + DOC)
    assert info.value.url.endswith(DOC)


def test_truncated_json_is_retried_then_accepted(server: Any, no_sleep: Any, kit: Any) -> None:
    body = kit.recorded("current-document.json")
    server.route(DOC, kit.Reply(200, body))
    server.fault(DOC, kit.Reply(200, body[:1000]))  # a complete HTTP message whose JSON stops mid-document
    result = client(no_sleep).get_json(server.url + DOC)
    assert result.attempts == 2 and result.data["document_number"] == "2026-19417"


def test_truncated_json_every_time_is_rejected_with_the_url(server: Any, no_sleep: Any, kit: Any) -> None:
    body = kit.recorded("current-document.json")
    server.route(DOC, kit.Reply(200, body[:1000]))
    with pytest.raises(MalformedResponseError) as info:
        client(no_sleep, attempts=3).get_json(server.url + DOC)
    message = str(info.value)
    assert server.url + DOC in message
    assert "truncated" in message and "Gave up after 3 attempt" in message


def test_connection_cut_before_content_length_is_a_truncated_body(
    server: Any, no_sleep: Any, kit: Any
) -> None:
    body = kit.recorded("current-document.json")
    server.route(DOC, kit.Reply(200, body))
    server.fault(DOC, kit.Reply(200, body, cut_at=500))  # declares 2898 bytes, sends 500, closes
    result = client(no_sleep).get_json(server.url + DOC)
    assert result.attempts == 2 and result.bytes == len(body)


def test_html_error_page_is_malformed(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route(
        DOC, kit.Reply(200, b"<!DOCTYPE html><html>Maintenance</html>", {"Content-Type": "text/html"})
    )
    with pytest.raises(MalformedResponseError, match="not JSON"):
        client(no_sleep, attempts=1).get_json(server.url + DOC)


def test_404_is_not_retried(server: Any, no_sleep: Any, kit: Any) -> None:
    with pytest.raises(FeedHTTPError, match=r"HTTP 404.*not retried") as info:
        client(no_sleep).get_json(server.url + "/api/v1/documents/nope.json")
    assert info.value.status == 404
    assert len(server.requests) == 1 and no_sleep.calls == []


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)
