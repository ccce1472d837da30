"""Deliver alerts by webhook (a JSON POST per alert) and e-mail (one message per run listing the new alerts).

Each (alert, channel) pair is delivered once: the delivery log in the workspace records every attempt, and an
alert is only offered to a channel until a row says ``delivered``. A failed delivery is retried within the run
(backoff as in :class:`~critmin.monitor.http.RetryPolicy`) and, if it still fails, on the next run. The log is
written right after each success, so the only way to send twice is a crash between the receiver accepting and
that write; webhooks carry an ``Idempotency-Key`` header (the alert id) so receivers can drop such a repeat.
"""

from __future__ import annotations

import os
import random
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import partial
from typing import Any, Protocol

import httpx

from critmin import __version__
from critmin.monitor.alerts import payloads
from critmin.monitor.digest import DigestFormat, render, safe_links, summary_line
from critmin.monitor.errors import DeliveryError
from critmin.monitor.http import RandomFn, RetryPolicy, SleepFn, parse_retry_after
from critmin.monitor.store import MonitorStore
from critmin.monitor.watchlist import Delivery, EmailSettings, WebhookSettings


class Channel(Protocol):
    @property
    def key(self) -> str:
        """Name of the channel in the delivery log."""
        ...

    def send(self, alerts: Sequence[dict[str, Any]]) -> None:
        """Deliver these alerts (raise DeliveryError on failure)."""
        ...

    @property
    def batch(self) -> bool:
        """True: one send() for all pending alerts; False: one send() per alert."""
        ...


class WebhookChannel:
    """POST ``{"type": "critmin.alert", "alert": {...}}`` to a URL; any 2xx status is success."""

    batch = False

    def __init__(self, settings: WebhookSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport

    @property
    def key(self) -> str:
        return f"webhook:{self.settings.url}"

    def _headers(self, alert_id: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"critmin/{__version__}",
            "Idempotency-Key": alert_id,
        }
        for name, value in self.settings.headers.items():
            if value.startswith("env:"):
                variable = value.removeprefix("env:")
                if variable not in os.environ:
                    raise DeliveryError(
                        f"Webhook header {name} is read from ${variable}, which is not set.", channel=self.key
                    )
                value = os.environ[variable]
            headers[name] = value
        return headers

    def send(self, alerts: Sequence[dict[str, Any]]) -> None:
        for alert in alerts:
            # links from the feed that are not http(s) are dropped, as in the digests
            body = {"type": "critmin.alert", "alert": safe_links(alert), "summary": summary_line(alert)}
            try:
                with httpx.Client(timeout=self.settings.timeout, transport=self._transport) as client:
                    response = client.post(
                        self.settings.url, json=body, headers=self._headers(alert["alert_id"])
                    )
            except httpx.HTTPError as exc:
                raise DeliveryError(f"Webhook {self.settings.url} failed: {exc}", channel=self.key) from exc
            if not response.is_success:
                error = DeliveryError(
                    f"Webhook {self.settings.url} answered HTTP {response.status_code} for alert "
                    f"{alert['alert_id']}.",
                    channel=self.key,
                )
                error.retry_after = parse_retry_after(response.headers.get("Retry-After"))  # type: ignore[attr-defined]
                raise error


class EmailChannel:
    """Send one message (plain text and HTML) listing all alerts not yet e-mailed."""

    batch = True

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    @property
    def key(self) -> str:
        return f"email:{','.join(sorted(self.settings.to))}"

    def message(self, alerts: Sequence[dict[str, Any]]) -> EmailMessage:
        now = datetime.now(UTC).replace(tzinfo=None)
        message = EmailMessage()
        if len(alerts) == 1:
            title = alerts[0]["document"].get("title") or alerts[0]["document"]["document_number"]
            message["Subject"] = f"critmin alert: {title}"[:200]
        else:
            message["Subject"] = f"critmin: {len(alerts)} new policy alerts"
        message["From"] = self.settings.sender
        message["To"] = ", ".join(self.settings.to)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="critmin.local")
        message["X-Critmin-Alerts"] = ", ".join(a["alert_id"] for a in alerts)[:900]
        message.set_content(render(alerts, DigestFormat.md, since=None, generated=now))
        message.add_alternative(render(alerts, DigestFormat.html, since=None, generated=now), subtype="html")
        return message

    def _credentials(self) -> tuple[str, str] | None:
        if not self.settings.username_env:
            return None
        names = [self.settings.username_env, self.settings.password_env or ""]
        missing = [n for n in names if not n or n not in os.environ]
        if missing:
            raise DeliveryError(
                "SMTP login needs environment variable(s) "
                f"{', '.join(m or 'password_env' for m in missing)}.",
                channel=self.key,
            )
        return os.environ[names[0]], os.environ[names[1]]

    def send(self, alerts: Sequence[dict[str, Any]]) -> None:
        credentials = self._credentials()
        smtp_class = smtplib.SMTP_SSL if self.settings.ssl else smtplib.SMTP
        try:
            with smtp_class(self.settings.host, self.settings.port, timeout=self.settings.timeout) as smtp:
                if self.settings.starttls:
                    smtp.starttls()
                if credentials:
                    smtp.login(*credentials)
                smtp.send_message(self.message(alerts))
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"E-mail via {self.settings.host}:{self.settings.port} failed: {exc}", channel=self.key
            ) from exc


def channels_from(settings: Delivery) -> list[Channel]:
    """The delivery channels a watchlist configures (webhook, e-mail), in that order."""
    out: list[Channel] = []
    if settings.webhook is not None:
        out.append(WebhookChannel(settings.webhook))
    if settings.email is not None:
        out.append(EmailChannel(settings.email))
    return out


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_pending(
    store: MonitorStore,
    channels: Sequence[Channel],
    *,
    retry: RetryPolicy | None = None,
    sleep: SleepFn = time.sleep,
    rand: RandomFn = random.random,
) -> DeliveryReport:
    """Offer every undelivered alert to every channel; log each outcome as it happens."""
    policy = retry or RetryPolicy(attempts=3)
    report = DeliveryReport()
    for channel in channels:
        pending = payloads(store.undelivered(channel.key))
        if not pending:
            continue
        batches = [pending] if channel.batch else [[alert] for alert in pending]
        for batch in batches:
            store.ws.release()  # a slow webhook or mail server does not keep the workspace from others
            attempts, error = _attempt(partial(channel.send, batch), policy, sleep, rand)
            for alert in batch:
                store.record_delivery(
                    alert["alert_id"], channel.key, ok=error is None, attempts=attempts, error=error
                )
            if error is None:
                report.delivered += len(batch)
            else:
                report.failed += len(batch)
                report.errors.append(error)
    return report


def _attempt(
    send: Callable[[], None], policy: RetryPolicy, sleep: SleepFn, rand: RandomFn
) -> tuple[int, str | None]:
    error: str | None = None
    for attempt in range(1, policy.attempts + 1):
        try:
            send()
            return attempt, None
        except DeliveryError as exc:
            error = str(exc)
            if attempt < policy.attempts:
                wait = getattr(exc, "retry_after", None)
                sleep(
                    min(wait, policy.max_retry_after)
                    if wait is not None
                    else policy.backoff(attempt - 1, rand)
                )
    return policy.attempts, error
