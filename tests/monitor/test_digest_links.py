"""Links in digests, the Atom feed and webhook bodies: only http(s) addresses from a feed are emitted.

A hostile or broken feed can send any string as a document's ``html_url``. The alert is kept, and its
document number shown as plain text; Markdown titles cannot smuggle in links or HTML of their own.
"""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import polars as pl
import pytest

from critmin.monitor.alerts import LedgerContext, build_alerts, payloads
from critmin.monitor.deliver import WebhookChannel
from critmin.monitor.digest import ATOM_NS, DigestFormat, atom_feed, md_text, render, web_link
from critmin.monitor.watchlist import WebhookSettings, parse_watchlist

from .test_alerts import NOW, NUMBERS, WATCH, documents, pairs

HOSTILE = {
    "2026-90000": "javascript:alert(document.cookie)",
    "2026-90001": " JavaScript:alert(1)",
    "2026-90002": "data:text/html,<script>alert(1)</script>",
}
GOOD = "https://www.federalregister.gov/d/2026-90003"


@pytest.fixture
def alerts(kit: Any) -> list[dict[str, Any]]:
    docs = documents(kit).with_columns(
        pl.col("document_number").replace_strict({**HOSTILE, "2026-90003": GOOD}).alias("html_url"),
        pl.when(pl.col("document_number") == "2026-90001")
        .then(pl.lit('Rule [click here](javascript:alert(1)) <img src=x onerror="alert(1)">'))
        .otherwise(pl.col("title"))
        .alias("title"),
    )
    context = LedgerContext.build(kit.small_ledger(), None, classify=False)
    frame = build_alerts(
        pairs("magnets-gallium", NUMBERS), docs, parse_watchlist(WATCH), context, run_id="r", now=NOW
    )
    found = payloads(frame)
    assert {a["document"]["html_url"] for a in found} == {*HOSTILE.values(), GOOD}  # as the feed sent them
    return found


def test_the_rule() -> None:
    for url in ("https://example.org/a?b=1", "http://example.org", "HTTPS://EXAMPLE.ORG/x"):
        assert web_link(url) == url
    for url in (
        *HOSTILE.values(),
        "vbscript:x",
        "//evil.example/x",
        "/relative",
        "https://",
        "https://exa mple.org",
        "https://example.org/\nx",
        "\x01https://example.org",
        None,
        42,
        "",
    ):
        assert web_link(url) is None, url


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.articles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.articles += tag == "article"
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src")]


def test_html_digest(alerts: list[dict[str, Any]]) -> None:
    html = render(alerts, DigestFormat.html, since=None, generated=NOW)
    parser = _Links()
    parser.feed(html)
    assert parser.articles == 4  # every alert kept
    assert parser.hrefs == [GOOD]
    for number in HOSTILE:
        assert f"{number}" in html  # shown, as plain text
    assert "<img" not in html  # the title is text


def test_markdown_digest(alerts: list[dict[str, Any]]) -> None:
    md = render(alerts, DigestFormat.md, since=None, generated=NOW)
    assert md.count("\n## ") == 4
    assert f"[2026-90003]({GOOD})" in md
    for number, url in HOSTILE.items():
        assert url.strip() not in md
        assert f"[{number}]" not in md and f"\n{number} · " in md  # plain text, the alert kept
    assert r"\[click here\](javascript:alert(1)) \<img" in md  # the title's own link syntax is inert
    assert md_text("a|b") == r"a\|b"


def test_json_digest_and_atom_feed(alerts: list[dict[str, Any]]) -> None:
    body = json.loads(render(alerts, DigestFormat.json, since=date(2026, 1, 1), generated=NOW))
    assert body["count"] == 4
    urls = {a["document"]["document_number"]: a["document"]["html_url"] for a in body["alerts"]}
    assert urls == {"2026-90000": None, "2026-90001": None, "2026-90002": None, "2026-90003": GOOD}

    feed = ET.fromstring(atom_feed(alerts, feed_id="urn:critmin:test", title="t", updated=NOW))
    entries = feed.findall(f"{{{ATOM_NS}}}entry")
    assert len(entries) == 4
    links = [link.get("href") for e in entries for link in e.findall(f"{{{ATOM_NS}}}link")]
    assert links == [GOOD]


def test_webhook_body(alerts: list[dict[str, Any]]) -> None:
    sent: list[dict[str, Any]] = []

    def receive(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(204)

    channel = WebhookChannel(
        WebhookSettings(url="https://hooks.example/critmin"), transport=httpx.MockTransport(receive)
    )
    channel.send(alerts)
    assert len(sent) == 4
    assert {s["alert"]["document"]["html_url"] for s in sent} == {None, GOOD}
