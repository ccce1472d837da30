"""Alerts on a small hand-made ledger: which lines each document touches, their annual value, and the dollar
change when a document is tied to a measure; digests in md/html/json and the Atom feed."""

from __future__ import annotations

import json
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree as ET

import polars as pl
import pytest

from critmin.monitor.alerts import LedgerContext, MeasureChange, build_alerts, payloads
from critmin.monitor.digest import ATOM_NS, DigestFormat, atom_feed, render
from critmin.monitor.runner import run_monitor
from critmin.monitor.store import MonitorStore
from critmin.monitor.watchlist import parse_watchlist

NOW = datetime(2026, 11, 28, 9, 0)


def documents(kit: Any) -> pl.DataFrame:
    """The first four derived documents: PCMDP (no product), magnets from China, gallium, unrelated."""
    docs = kit.derived_documents(4)
    return pl.DataFrame(
        [
            {
                "document_number": d["document_number"],
                "title": d["title"],
                "abstract": d.get("abstract"),
                "doc_type": d["type"],
                "publication_date": date.fromisoformat(d["publication_date"]),
                "html_url": d["html_url"],
                "endpoint": "documents",
            }
            for d in docs
        ]
    )


def pairs(entry: str, numbers: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"entry_id": [entry] * len(numbers), "document_number": numbers})


WATCH = {
    "entries": [
        {
            "id": "magnets-gallium",
            "agencies": ["energy-department"],
            "hts": ["8505.11"],
            "minerals": ["gallium"],
        }
    ]
}
NUMBERS = ["2026-90000", "2026-90001", "2026-90002", "2026-90003"]


def by_id(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {p["document"]["document_number"]: p for p in payloads(frame)}


def test_lines_touched_and_annual_value(kit: Any) -> None:
    context = LedgerContext.build(kit.small_ledger(), None, classify=False)
    assert context.window == (date(2025, 6, 2), date(2026, 6, 1))  # 12 months to the latest entry (L4)
    alerts = build_alerts(
        pairs("magnets-gallium", NUMBERS),
        documents(kit),
        parse_watchlist(WATCH),
        context,
        run_id="r",
        now=NOW,
    )
    got = by_id(alerts)

    magnets = got["2026-90001"]  # "... magnets of subheading 8505.11.0070 from China"
    assert magnets["mentions"] == {
        "hts": ["8505110070"],
        "minerals": ["neodymium"],
        "countries": ["CHN"],
        "chapter99": [],
    }
    assert magnets["exposure"]["basis"] == "document"
    # L1 (CHN, $100,000) + L2 (JPN, $40,000) = $140,000; L1's origin is named, so it is listed first
    assert magnets["exposure"]["annual_value_usd"] == 140_000.0
    assert [line["line_id"] for line in magnets["exposure"]["top_lines"]] == ["L1", "L2"]
    assert magnets["exposure"]["lines_from_mentioned_countries"] == 1
    assert magnets["exposure"]["top_lines"][0]["via"] == ["hts:8505110070", "mineral:neodymium"]

    gallium = got["2026-90002"]  # "Gallium and germanium (8112.92.10) ..."
    assert gallium["mentions"]["hts"] == ["81129210"]
    assert gallium["mentions"]["minerals"] == ["gallium", "germanium"]
    assert [line["line_id"] for line in gallium["exposure"]["top_lines"]] == ["L3"]
    assert gallium["exposure"]["annual_value_usd"] == 25_000.0

    # No product or country named: the entry's scope (8505.11 and gallium) applies: L1 + L2 + L3 = $165,000.
    # L5 (copper, January 2025) is outside the 12-month window and never counts.
    for number in ("2026-90000", "2026-90003"):
        assert got[number]["exposure"]["basis"] == "watchlist"
        assert got[number]["exposure"]["annual_value_usd"] == 165_000.0
        assert got[number]["exposure"]["lines_touched"] == 3
    assert alerts.get_column("status").to_list() == ["active"] * 4


def test_require_mention_suppresses_documents_naming_nothing_in_scope(kit: Any) -> None:
    watch = {"entries": [dict(WATCH["entries"][0], require_mention=True)]}
    context = LedgerContext.build(kit.small_ledger(), None, classify=False)
    alerts = build_alerts(
        pairs("magnets-gallium", NUMBERS),
        documents(kit),
        parse_watchlist(watch),
        context,
        run_id="r",
        now=NOW,
    )
    status = dict(zip(alerts.get_column("document_number"), alerts.get_column("status"), strict=True))
    assert status == {
        "2026-90000": "suppressed",
        "2026-90001": "active",
        "2026-90002": "active",
        "2026-90003": "suppressed",
    }


def test_entry_countries_narrow_the_lines(kit: Any) -> None:
    watch = {"entries": [dict(WATCH["entries"][0], countries=["China"])]}
    context = LedgerContext.build(kit.small_ledger(), None, classify=False)
    got = by_id(
        build_alerts(
            pairs("magnets-gallium", NUMBERS),
            documents(kit),
            parse_watchlist(watch),
            context,
            run_id="r",
            now=NOW,
        )
    )
    assert [line["line_id"] for line in got["2026-90001"]["exposure"]["top_lines"]] == [
        "L1"
    ]  # JPN line dropped
    assert got["2026-90000"]["exposure"]["annual_value_usd"] == 125_000.0  # L1 + L3, both CHN


class ToyDuty:
    """A DutyModel written out by hand so the alert arithmetic can be checked with pencil and paper (the real
    engine is exercised in test_impact.py): 2.1% on 8505.11, 3.0% on 8112.92; "cn_25" adds 25% on China."""

    @staticmethod
    def _duty(ledger: pl.DataFrame, measure: str | None) -> pl.Expr:
        base = (
            pl.when(pl.col("hts").str.starts_with("850511"))
            .then(0.021)
            .when(pl.col("hts").str.starts_with("811292"))
            .then(0.03)
            .otherwise(0.0)
        )
        extra = (
            pl.when(pl.lit(measure == "cn_25") & (pl.col("country_origin") == "CHN"))
            .then(0.25)
            .otherwise(0.0)
        )
        return (base + extra) * pl.col("customs_value_usd")

    def current(self, ledger: pl.DataFrame) -> pl.DataFrame:
        return ledger.select("line_id", self._duty(ledger, None).alias("duty_usd"))

    def change(self, ledger: pl.DataFrame, measure_id: str) -> MeasureChange:
        frame = ledger.select(
            "line_id",
            self._duty(ledger, None).alias("duty_before_usd"),
            self._duty(ledger, measure_id).alias("duty_after_usd"),
        )
        return MeasureChange(measure_id, frame, date(2026, 11, 28), "25% on China")


toy_duty = ToyDuty()


def test_dollar_change_when_tied_to_a_measure(kit: Any) -> None:
    watch = dict(WATCH, documents={"2026-90001": "cn_25"})
    context = LedgerContext.build(kit.small_ledger(), toy_duty, classify=False)
    got = by_id(
        build_alerts(
            pairs("magnets-gallium", NUMBERS),
            documents(kit),
            parse_watchlist(watch),
            context,
            run_id="r",
            now=NOW,
            duty=toy_duty,
        )
    )
    impact = got["2026-90001"]["impact"]
    # before: 2.1% x 100,000 + 2.1% x 40,000 + 3% x 25,000 = 2,100 + 840 + 750 = 3,690
    # after:  3,690 + 25% x (100,000 + 25,000) = 3,690 + 31,250 = 34,940
    assert impact["duty_before_usd"] == 3_690.0
    assert impact["duty_after_usd"] == 34_940.0
    assert impact["change_usd"] == 31_250.0
    assert impact["lines_affected"] == 2
    assert [(line["line_id"], line["change_usd"]) for line in impact["top_lines"]] == [
        ("L1", 25_000.0),
        ("L3", 6_250.0),
    ]
    # current duty on the lines the document touches: L1 2,100 + L2 840 = 2,940
    assert got["2026-90001"]["exposure"]["annual_duty_usd"] == 2_940.0
    assert got["2026-90000"]["impact"] is None  # not tied to a measure

    md = render([got["2026-90001"]], DigestFormat.md, since=None, generated=NOW)
    assert "annual duty $3,690 -> $34,940 (+$31,250) on 2 line(s)" in md
    assert "| L1 | 8505110070 | CHN | $2,100 | $27,100 | +$25,000 |" in md


def test_entry_measure_applies_to_every_document_of_the_entry(kit: Any) -> None:
    watch = {"entries": [dict(WATCH["entries"][0], measure="cn_25")]}
    context = LedgerContext.build(kit.small_ledger(), toy_duty, classify=False)
    alerts = build_alerts(
        pairs("magnets-gallium", NUMBERS),
        documents(kit),
        parse_watchlist(watch),
        context,
        run_id="r",
        now=NOW,
        duty=toy_duty,
    )
    assert alerts.get_column("measure_id").to_list() == ["cn_25"] * 4
    assert alerts.get_column("duty_after_usd").to_list() == [34_940.0] * 4


def test_no_ledger_still_alerts(kit: Any) -> None:
    alerts = build_alerts(
        pairs("magnets-gallium", NUMBERS[:1]),
        documents(kit),
        parse_watchlist(WATCH),
        LedgerContext.build(None, None),
        run_id="r",
        now=NOW,
    )
    payload = payloads(alerts)[0]
    assert payload["exposure"]["basis"] == "no_ledger" and payload["exposure"]["lines_touched"] == 0


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.articles: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.articles.append(dict(attrs)["id"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_digest_formats_and_atom_agree(kit: Any) -> None:
    context = LedgerContext.build(kit.small_ledger(), None, classify=False)
    docs = documents(kit).with_columns(
        pl.when(pl.col("document_number") == "2026-90003")
        .then(pl.lit("Notice <script>alert(1)</script> & more"))
        .otherwise(pl.col("title"))
        .alias("title")
    )
    alerts = payloads(
        build_alerts(
            pairs("magnets-gallium", NUMBERS), docs, parse_watchlist(WATCH), context, run_id="r", now=NOW
        )
    )
    as_json = json.loads(render(alerts, DigestFormat.json, since=date(2026, 11, 1), generated=NOW))
    assert as_json["count"] == 4 and as_json["since"] == "2026-11-01"
    assert [a["alert_id"] for a in as_json["alerts"]] == [f"magnets-gallium/{n}" for n in NUMBERS]

    html = render(alerts, DigestFormat.html, since=None, generated=NOW)
    parser = _Tags()
    parser.feed(html)
    assert parser.articles == [f"magnets-gallium/{n}" for n in NUMBERS]
    assert "<script>" not in html and "&lt;script&gt;" in html  # titles are escaped
    assert "Touches 2 ledger line(s) worth $140,000 in the 12 months to 2026-06-01." in "".join(parser.text)

    md = render(alerts, DigestFormat.md, since=None, generated=NOW)
    assert md.count("\n## ") == 4
    assert "Mentions — HTS: 8505110070; minerals: neodymium; countries: CHN" in md

    feed = ET.fromstring(atom_feed(alerts, feed_id="urn:critmin:test", title="t", updated=NOW))
    entries = feed.findall(f"{{{ATOM_NS}}}entry")
    ids = [e.findtext(f"{{{ATOM_NS}}}id") for e in entries]
    assert len(ids) == 4 and len(set(ids)) == 4 and "urn:critmin:alert:magnets-gallium/2026-90001" in ids
    assert feed.findtext(f"{{{ATOM_NS}}}updated") == "2026-11-28T09:00:00Z"


def test_run_writes_alerts_and_atom_feed(
    server: Any, workspace: Any, no_sleep: Any, kit: Any, tmp_path: Any
) -> None:
    mirror = kit.FederalRegisterMirror(kit.derived_documents(8))
    mirror.install(server)
    feed = tmp_path / "feed" / "alerts.atom"
    watch = dict(WATCH, public_inspection=False, deliver={"atom": str(feed)})
    report = run_monitor(
        workspace,
        parse_watchlist(watch),
        client=kit.make_client(server, no_sleep),
        ledger=kit.small_ledger(),
        classify=False,
    )
    assert report.alerts_new == 8 and report.atom_path == feed
    entries = ET.parse(feed).getroot().findall(f"{{{ATOM_NS}}}entry")
    assert len(entries) == 8
    stored = MonitorStore(workspace).alerts()
    assert stored.filter(pl.col("document_number") == "2026-90001").get_column(
        "annual_value_usd"
    ).to_list() == [140_000.0]


@pytest.mark.parametrize("fmt", list(DigestFormat))
def test_empty_digest(fmt: DigestFormat) -> None:
    out = render([], fmt, since=date(2026, 1, 1), generated=NOW)
    assert "0 alert(s)" in out or json.loads(out)["count"] == 0


def test_minerals_from_the_scope_classification(kit: Any) -> None:
    """With classification on, lines get their minerals from the PCMDP scope map (critmin.refdata.scope):
    a document about rare earths touches the magnet lines (Nd, Pr, Dy, Tb content) and the rare-earth
    compounds line (2846), none of which states a rare-earth content_mineral itself."""
    docs = pl.DataFrame({"document_number": ["d1"], "title": ["Export controls on rare earth elements"]})
    watch = parse_watchlist({"entries": [{"id": "ree", "terms": ["rare earth"]}]})
    context = LedgerContext.build(kit.small_ledger(), None, classify=True)
    alert = payloads(build_alerts(pairs("ree", ["d1"]), docs, watch, context, run_id="r", now=NOW))[0]
    touched = {line["line_id"] for line in alert["exposure"]["top_lines"]}
    assert touched == {"L1", "L2", "L4"}
    # L1 $100,000 + L2 $40,000 + L4 $10,000 = $150,000
    assert alert["exposure"]["annual_value_usd"] == 150_000.0
