"""Digests of alerts as Markdown, HTML or JSON, and an Atom feed file.

All three digest formats render the same list of stored alert payloads, so they always agree; the Atom file is
written atomically (temporary file then rename) so a feed reader never sees half a feed.

Document fields come from a feed, so nothing in them is trusted: a link is emitted only when it is an
absolute http(s) URL (:func:`web_link`); any other (``javascript:``, ``data:``, a relative path) is dropped
and the document number shown as plain text, with the alert kept. Markdown text is escaped so a title cannot
add links or HTML of its own; HTML and Atom are escaped by their writers.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree as ET

from jinja2 import Environment, select_autoescape

ATOM_NS = "http://www.w3.org/2005/Atom"
LINK_FIELDS = ("html_url", "pdf_url")
WEB_SCHEMES = frozenset({"http", "https"})
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f]")
# What lets Markdown text become a link, an image or HTML ([, ], <), end a table cell (|) or undo these
# escapes (the backslash). Other punctuation stays readable in the plain-text e-mail this Markdown also
# serves as.
_MD_SPECIAL = re.compile(r"([\\\[\]<|])")


class DigestFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


def usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.0f}"


def signed_usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    return ("+" if value >= 0 else "-") + f"${abs(value):,.0f}"


def web_link(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host, else None.

    Browsers ignore leading spaces and control characters before a scheme, so such URLs are refused rather
    than trimmed; a scheme is compared case-insensitively (``JavaScript:`` is still javascript).
    """
    if not isinstance(value, str) or not value or _UNSAFE_IN_URL.search(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    return value


def safe_links(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert with its document's links that are not http(s) set to None (a copy; the input is kept)."""
    doc = alert.get("document") or {}
    if all(doc.get(name) is None or web_link(doc.get(name)) for name in LINK_FIELDS):
        return alert
    cleaned = {**doc, **{name: web_link(doc.get(name)) for name in LINK_FIELDS if name in doc}}
    return {**alert, "document": cleaned}


def md_text(value: Any) -> str:
    """Feed text for Markdown, on one line, with the characters that could make a link or HTML escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def md_url(url: str) -> str:
    """An http(s) URL for a Markdown link target: spaces, brackets and parentheses percent-encoded."""
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def summary_line(alert: dict[str, Any]) -> str:
    """One sentence a reader can act on: what is touched, and the dollar change when there is one."""
    deadline = alert.get("deadline")
    if deadline:  # a protest window closing (critmin.monitor.deadlines): its own sentence, to the cent
        return str(deadline["summary"])
    exposure = alert["exposure"]
    parts = []
    if exposure["basis"] == "no_ledger":
        parts.append("No ledger loaded, so no lines are matched.")
    elif exposure["lines_touched"]:
        window = exposure.get("window")
        period = f" in the 12 months to {window[1]}" if window else ""
        worth = usd(exposure["annual_value_usd"])
        text = f"Touches {exposure['lines_touched']} ledger line(s) worth {worth}{period}"
        if exposure.get("annual_duty_usd") is not None:
            text += f", paying {usd(exposure['annual_duty_usd'])} duty"
        parts.append(text + ".")
    else:
        parts.append("Touches no line of the ledger.")
    impact = alert.get("impact")
    if impact and impact.get("change_usd") is not None:
        parts.append(
            f"Under {impact['measure_id']}: annual duty {usd(impact['duty_before_usd'])} -> "
            f"{usd(impact['duty_after_usd'])} ({signed_usd(impact['change_usd'])}) on "
            f"{impact['lines_affected']} line(s)."
        )
    elif impact:
        parts.append(f"Tied to {impact['measure_id']} ({impact.get('note') or 'no figure'}).")
    return " ".join(parts)


def _header(since: date | None, count: int, generated: datetime) -> str:
    window = f"since {since.isoformat()}" if since else "all alerts"
    return f"{count} alert(s), {window}; generated {generated:%Y-%m-%d %H:%M} UTC"


def render_markdown(alerts: Sequence[dict[str, Any]], *, since: date | None, generated: datetime) -> str:
    out = ["# critmin monitor digest", "", _header(since, len(alerts), generated), ""]
    for alert in alerts:
        doc = alert["document"]
        number = md_text(doc["document_number"])
        href = web_link(doc.get("html_url"))
        link = f"[{number}]({md_url(href)})" if href else number
        out += [f"## {md_text(doc.get('title') or doc['document_number'])}", ""]
        meta = [
            link,
            md_text(doc["type"]) if doc.get("type") else None,
            f"published {md_text(doc['publication_date'])}" if doc.get("publication_date") else None,
        ]
        meta += [
            md_text(doc["agencies"]) if doc.get("agencies") else None,
            f"watch: {md_text(alert['entry']['id'])}",
        ]
        out += [" · ".join(str(m) for m in meta if m), "", md_text(summary_line(alert)), ""]
        mentions = alert["mentions"]
        named = [
            f"{label}: {md_text(', '.join(mentions[key]))}"
            for key, label in (
                ("hts", "HTS"),
                ("minerals", "minerals"),
                ("countries", "countries"),
                ("chapter99", "chapter 99"),
            )
            if mentions.get(key)
        ]
        if named:
            out += ["Mentions — " + "; ".join(named), ""]
        lines = alert["exposure"]["top_lines"]
        if lines:
            out += ["| line | HTS | origin | value | duty | matched on |", "|---|---|---|---:|---:|---|"]
            for line in lines:
                cells = (md_text(line[key]) for key in ("line_id", "hts", "country_origin"))
                out.append(
                    "| {} | {} | {} | ".format(*cells) + f"{usd(line['customs_value_usd'])} "
                    f"| {usd(line['current_duty_usd'])} | {md_text(', '.join(line['via']))} |"
                )
            out.append("")
        impact = alert.get("impact")
        if impact and impact.get("top_lines"):
            out += [
                f"Largest changes under {md_text(impact['measure_id'])}:",
                "",
                "| line | HTS | origin | duty before | duty after | change |",
                "|---|---|---|---:|---:|---:|",
            ]
            for line in impact["top_lines"]:
                cells = (md_text(line[key]) for key in ("line_id", "hts", "country_origin"))
                out.append(
                    "| {} | {} | {} | ".format(*cells) + f"{usd(line['duty_before_usd'])} "
                    f"| {usd(line['duty_after_usd'])} | {signed_usd(line['change_usd'])} |"
                )
            out.append("")
    return "\n".join(out).rstrip() + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>critmin monitor digest</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem}
td.num{text-align:right}.meta{color:#555}article{border-top:1px solid #ddd;padding-top:1rem}</style></head>
<body><h1>critmin monitor digest</h1><p class="meta">{{ header }}</p>
{% for a in alerts %}{% set d = a.document %}<article id="{{ a.alert_id }}">
<h2>{{ d.title or d.document_number }}</h2>
<p class="meta">
{% if link(d.html_url) %}<a href="{{ link(d.html_url) }}">{{ d.document_number }}</a>
{%- else %}{{ d.document_number }}{% endif %}
{% if d.type %} · {{ d.type }}{% endif %}
{% if d.publication_date %} · published {{ d.publication_date }}{% endif %}
{% if d.agencies %} · {{ d.agencies }}{% endif %} · watch: {{ a.entry.id }}</p>
<p class="summary">{{ summary(a) }}</p>
{% if a.exposure.top_lines %}<table><thead><tr>
<th>line</th><th>HTS</th><th>origin</th><th>value</th><th>duty</th><th>matched on</th>
</tr></thead><tbody>
{% for l in a.exposure.top_lines %}<tr>
<td>{{ l.line_id }}</td><td>{{ l.hts }}</td><td>{{ l.country_origin }}</td>
<td class="num">{{ usd(l.customs_value_usd) }}</td><td class="num">{{ usd(l.current_duty_usd) }}</td>
<td>{{ l.via | join(", ") }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
{% if a.impact and a.impact.top_lines %}<table>
<caption>Largest changes under {{ a.impact.measure_id }}</caption>
<thead><tr><th>line</th><th>HTS</th><th>origin</th><th>before</th><th>after</th><th>change</th></tr></thead>
<tbody>
{% for l in a.impact.top_lines %}<tr>
<td>{{ l.line_id }}</td><td>{{ l.hts }}</td><td>{{ l.country_origin }}</td>
<td class="num">{{ usd(l.duty_before_usd) }}</td><td class="num">{{ usd(l.duty_after_usd) }}</td>
<td class="num">{{ signed(l.change_usd) }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
</article>{% endfor %}
</body></html>
"""


def render_html(alerts: Sequence[dict[str, Any]], *, since: date | None, generated: datetime) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(_HTML)
    return template.render(
        alerts=alerts,
        header=_header(since, len(alerts), generated),
        summary=summary_line,
        usd=usd,
        signed=signed_usd,
        link=web_link,
    )


def render_json(alerts: Sequence[dict[str, Any]], *, since: date | None, generated: datetime) -> str:
    body = {
        "generated_at": generated.isoformat(timespec="seconds"),
        "since": since.isoformat() if since else None,
        "count": len(alerts),
        "alerts": [safe_links(a) for a in alerts],
    }
    return json.dumps(body, indent=2, default=str) + "\n"


def render(
    alerts: Sequence[dict[str, Any]],
    fmt: DigestFormat,
    *,
    since: date | None,
    generated: datetime | None = None,
) -> str:
    """The alerts as one digest in ``fmt`` (Markdown, HTML or JSON); links other than http(s) are
    dropped, because their text comes from a feed."""
    when = generated or datetime.now(UTC).replace(tzinfo=None)
    renderers = {
        DigestFormat.md: render_markdown,
        DigestFormat.html: render_html,
        DigestFormat.json: render_json,
    }
    return renderers[fmt](alerts, since=since, generated=when)


def atom_feed(alerts: Sequence[dict[str, Any]], *, feed_id: str, title: str, updated: datetime) -> bytes:
    """An Atom 1.0 document, newest alert first; entry ids are stable (``urn:critmin:alert:<alert id>``)."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = feed_id
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = _rfc3339(updated)
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = "critmin monitor"
    ET.SubElement(feed, f"{{{ATOM_NS}}}generator").text = "critmin"
    for alert in sorted(alerts, key=lambda a: (a["created_at"], a["alert_id"]), reverse=True):
        doc = alert["document"]
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = f"urn:critmin:alert:{alert['alert_id']}"
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = doc.get("title") or doc["document_number"]
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = _rfc3339(
            datetime.fromisoformat(alert["created_at"])
        )
        if doc.get("publication_date"):
            ET.SubElement(entry, f"{{{ATOM_NS}}}published").text = f"{doc['publication_date']}T00:00:00Z"
        href = web_link(doc.get("html_url"))
        if href:
            ET.SubElement(entry, f"{{{ATOM_NS}}}link", {"rel": "alternate", "href": href})
        ET.SubElement(entry, f"{{{ATOM_NS}}}category", {"term": alert["entry"]["id"]})
        ET.SubElement(entry, f"{{{ATOM_NS}}}summary").text = summary_line(alert)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rfc3339(when: datetime) -> str:
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
