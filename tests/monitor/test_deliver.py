"""Webhook and e-mail delivery against local receivers: each alert delivered once per channel, failures
logged and retried (within the run, then on the next run)."""

from __future__ import annotations

import email
import json
from email.message import Message
from typing import Any

import pytest

from critmin.monitor.deliver import EmailChannel, WebhookChannel, deliver_pending
from critmin.monitor.http import RetryPolicy
from critmin.monitor.runner import run_monitor
from critmin.monitor.store import MonitorStore
from critmin.monitor.watchlist import EmailSettings, WebhookSettings, parse_watchlist

HOOK = "/hooks/critmin"


def seed_alerts(server: Any, workspace: Any, no_sleep: Any, kit: Any, n: int = 3) -> MonitorStore:
    kit.FederalRegisterMirror(kit.derived_documents(n)).install(server)
    watch = {
        "public_inspection": False,
        "entries": [{"id": "doe", "agencies": ["energy-department"], "hts": ["8505.11"]}],
    }
    run_monitor(
        workspace,
        parse_watchlist(watch),
        client=kit.make_client(server, no_sleep),
        ledger=kit.small_ledger(),
        classify=False,
    )
    store = MonitorStore(workspace)
    assert store.alerts().height == n
    return store


def fast(attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base_delay=0.0)


def test_webhook_delivers_each_alert_once(server: Any, workspace: Any, no_sleep: Any, kit: Any) -> None:
    store = seed_alerts(server, workspace, no_sleep, kit)
    server.route(HOOK, kit.Reply(204, b""))
    server.fault(HOOK, kit.Reply(500, b"down"))  # the first POST fails once
    channel = WebhookChannel(WebhookSettings(url=server.url + HOOK, headers={"X-Token": "abc"}))
    report = deliver_pending(store, [channel], retry=fast(), sleep=no_sleep)
    assert report.delivered == 3 and report.failed == 0
    posts = [r for r in server.hits(HOOK) if r.method == "POST"]
    assert len(posts) == 4  # 3 alerts + 1 retry
    delivered = [json.loads(r.body) for r in posts[1:]]
    ids = [body["alert"]["alert_id"] for body in delivered]
    assert ids == ["doe/2026-90000", "doe/2026-90001", "doe/2026-90002"]
    assert [r.headers["idempotency-key"] for r in posts[1:]] == ids
    assert posts[1].headers["x-token"] == "abc"
    assert delivered[1]["alert"]["exposure"]["annual_value_usd"] == 140_000.0
    log = store.deliveries()
    assert log.get_column("status").to_list() == ["delivered"] * 3
    assert log.get_column("attempts").to_list() == [2, 1, 1]

    again = deliver_pending(store, [channel], retry=fast(), sleep=no_sleep)
    assert again.delivered == 0 and len(server.hits(HOOK)) == 4  # nothing sent twice


def test_webhook_failure_is_logged_and_retried_next_run(
    server: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    store = seed_alerts(server, workspace, no_sleep, kit, n=2)
    server.route(HOOK, kit.Reply(403, b"forbidden"))
    channel = WebhookChannel(WebhookSettings(url=server.url + HOOK))
    first = deliver_pending(store, [channel], retry=fast(2), sleep=no_sleep)
    assert first.delivered == 0 and first.failed == 2 and "HTTP 403" in first.errors[0]
    log = store.deliveries()
    assert log.get_column("status").to_list() == ["failed", "failed"]
    assert log.get_column("attempts").to_list() == [2, 2]

    server.route(HOOK, kit.Reply(200, b"{}"))
    second = deliver_pending(store, [channel], retry=fast(2), sleep=no_sleep)
    assert second.delivered == 2
    log = store.deliveries()
    assert log.get_column("status").to_list() == ["delivered", "delivered"]
    assert log.get_column("attempts").to_list() == [3, 3]  # 2 failed + 1 successful, per alert


def test_webhook_header_from_environment(
    monkeypatch: pytest.MonkeyPatch, server: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    store = seed_alerts(server, workspace, no_sleep, kit, n=1)
    server.route(HOOK, kit.Reply(200, b""))
    channel = WebhookChannel(
        WebhookSettings(url=server.url + HOOK, headers={"Authorization": "env:HOOK_TOKEN"})
    )
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    missing = deliver_pending(store, [channel], retry=fast(1), sleep=no_sleep)
    assert "$HOOK_TOKEN, which is not set" in missing.errors[0]
    monkeypatch.setenv("HOOK_TOKEN", "Bearer s3cret")
    assert deliver_pending(store, [channel], retry=fast(1), sleep=no_sleep).delivered == 1
    assert server.hits(HOOK)[-1].headers["authorization"] == "Bearer s3cret"


def test_email_one_message_per_run_with_retry(
    smtp: Any, server: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    store = seed_alerts(server, workspace, no_sleep, kit)
    smtp.fail_data = 1  # the first DATA gets 451, a temporary failure
    settings = EmailSettings(
        host="127.0.0.1",
        port=smtp.port,
        sender="critmin@example.com",
        to=["trade@example.com", "gov@example.com"],
        timeout=5,
    )
    channel = EmailChannel(settings)
    report = deliver_pending(store, [channel], retry=fast(), sleep=no_sleep)
    assert report.delivered == 3 and smtp.sessions == 2 and len(smtp.messages) == 1
    sent = smtp.messages[0]
    assert sent["from"] == "critmin@example.com" and sorted(sent["to"]) == [
        "gov@example.com",
        "trade@example.com",
    ]
    message: Message = email.message_from_bytes(sent["data"])
    assert message["Subject"] == "critmin: 3 new policy alerts"
    assert message["X-Critmin-Alerts"] == "doe/2026-90000, doe/2026-90001, doe/2026-90002"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert "Touches 2 ledger line(s) worth $140,000" in parts["text/plain"]
    assert "<article" in parts["text/html"]
    assert store.deliveries().get_column("channel").unique().to_list() == [
        "email:gov@example.com,trade@example.com"
    ]

    assert deliver_pending(store, [channel], retry=fast(), sleep=no_sleep).delivered == 0
    assert len(smtp.messages) == 1


def test_email_to_a_dead_server_fails_cleanly(workspace: Any, server: Any, no_sleep: Any, kit: Any) -> None:
    store = seed_alerts(server, workspace, no_sleep, kit, n=1)
    settings = EmailSettings(
        host="127.0.0.1", port=1, sender="a@example.com", to=["b@example.com"], timeout=1
    )
    report = deliver_pending(store, [EmailChannel(settings)], retry=fast(2), sleep=no_sleep)
    assert report.failed == 1 and "127.0.0.1:1 failed" in report.errors[0]


def test_run_delivers_through_both_channels(
    smtp: Any, server: Any, workspace: Any, no_sleep: Any, kit: Any
) -> None:
    kit.FederalRegisterMirror(kit.derived_documents(2)).install(server)
    server.route(HOOK, kit.Reply(200, b""))
    watch = parse_watchlist(
        {
            "public_inspection": False,
            "entries": [{"id": "doe", "agencies": ["energy-department"]}],
            "deliver": {
                "webhook": {"url": server.url + HOOK},
                "email": {
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "sender": "c@example.com",
                    "to": ["t@example.com"],
                },
            },
        }
    )
    from critmin.monitor.deliver import channels_from

    client = kit.make_client(server, no_sleep)
    report = run_monitor(
        workspace, watch, client=client, channels=channels_from(watch.deliver), sleep=no_sleep
    )
    assert report.delivery.delivered == 4  # 2 alerts x 2 channels
    assert len(smtp.messages) == 1 and len([r for r in server.hits(HOOK) if r.method == "POST"]) == 2
    again = run_monitor(
        workspace, watch, client=client, channels=channels_from(watch.deliver), sleep=no_sleep
    )
    assert again.delivery.delivered == 0 and len(smtp.messages) == 1
