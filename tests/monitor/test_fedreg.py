"""The Federal Register client against a local server replaying the recorded responses."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from critmin.monitor.errors import MalformedResponseError, PagingLoopError
from critmin.monitor.fedreg import (
    ENV_BASE_URL,
    PUBLIC_BASE_URL,
    DocumentQuery,
    FederalRegisterClient,
    PublicInspectionQuery,
)


def test_recorded_page_then_terminal_page(server: Any, no_sleep: Any, kit: Any) -> None:
    """Page one is the recorded response; its next_page_url (public host) is rebased onto the local server,
    where the recorded empty response (count 0, no 'results' key) ends the search."""
    first = kit.recorded("search-newest-page-one.json")
    server.route("/api/v1/documents.json", kit.Reply(200, first))
    server.route("/api/v1/documents", kit.Reply(200, kit.recorded("search-terminal.json")))
    client = kit.make_client(server, no_sleep)
    query = DocumentQuery(
        published_gte=date(2024, 1, 1),
        published_lte=date(2024, 12, 31),
        order="newest",
        per_page=2,
        fields=(),
    )
    pages = list(client.search(query))
    assert [p.number for p in pages] == [1, 2]
    assert pages[0].document_numbers == ["2024-31440", "2024-31439"]
    assert pages[0].count == 10000 and pages[0].total_pages == 50 and pages[0].per_page == 2
    assert pages[1].results == [] and pages[1].count == 0 and pages[1].next_url is None
    # the request for page 2 is exactly the recorded next_page_url, moved to the local server
    recorded_next = json.loads(first)["next_page_url"]
    second = server.hits("/api/v1/documents")[0]
    assert second.query == parse_qsl(urlsplit(recorded_next).query)
    assert ("search_after_cursor", "WzE3MzU2MDMyMDAwMDAsIjIwMjQtMzE0MzkiXQ") in second.query


def test_query_parameters_match_the_recorded_request(server: Any, no_sleep: Any, kit: Any) -> None:
    """SOURCE.md records the request behind search-newest-page-one.json; our encoding must say the same."""
    recorded_request = (
        "order=newest&per_page=2&conditions[publication_date][gte]=2024-01-01"
        "&conditions[publication_date][lte]=2024-12-31"
    )
    query = DocumentQuery(
        published_gte=date(2024, 1, 1),
        published_lte=date(2024, 12, 31),
        order="newest",
        per_page=2,
        fields=(),
    )
    client = FederalRegisterClient(PUBLIC_BASE_URL)
    built = parse_qsl(urlsplit(client.search_url(query)).query)
    assert sorted(built) == sorted(parse_qsl(recorded_request))
    eo = DocumentQuery(
        term="energy", fields=("document_number", "title"), order="executive_order_number", per_page=2
    )
    assert sorted(parse_qsl(urlsplit(client.search_url(eo)).query)) == sorted(
        parse_qsl(
            "fields[]=document_number&fields[]=title&order=executive_order_number&conditions[term]=energy&per_page=2"
        )
    )


def test_full_query_encoding() -> None:
    query = DocumentQuery(
        term="rare earth magnets",
        agencies=("industry-and-security-bureau", "trade-representative-office-of-united-states"),
        types=("RULE", "PRESDOCU"),
        published_gte=date(2026, 1, 14),
        fields=("document_number",),
    )
    params = query.params()
    assert ("conditions[term]", "rare earth magnets") in params
    assert params.count(("conditions[agencies][]", "industry-and-security-bureau")) == 1
    assert [v for k, v in params if k == "conditions[type][]"] == ["RULE", "PRESDOCU"]
    assert ("conditions[publication_date][gte]", "2026-01-14") in params
    assert ("order", "oldest") in params  # stable paging by default


def test_eo_term_fields_subset(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route("/api/v1/documents.json", kit.Reply(200, kit.recorded("eo-term.json")))
    client = kit.make_client(server, no_sleep)
    page = next(
        iter(client.search(DocumentQuery(term="energy", fields=("document_number", "title")), max_pages=1))
    )
    assert page.document_numbers == ["00-17825", "00-17784"]
    assert page.results[1]["title"] == "Aviation Noise Abatement Policy 2000"
    assert page.next_url is not None and page.next_url.startswith(server.url + "/api/v1/documents?")


def test_single_document_and_full_text(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route("/api/v1/documents/2026-19417.json", kit.Reply(200, kit.recorded("current-document.json")))
    text_path = "/documents/full_text/text/2026/09/22/2026-19417.txt"
    server.route(
        text_path,
        kit.Reply(200, b"Executive Order 14430 ... saltwater angling", {"Content-Type": "text/plain"}),
    )
    client = kit.make_client(server, no_sleep)
    doc = client.document("2026-19417")
    assert doc["citation"] == "91 FR 60293" and doc["signing_date"] == "2026-09-17"
    assert client.full_text(doc) == "Executive Order 14430 ... saltwater angling"
    assert server.hits(text_path), "raw_text_url on the public host must be rebased onto the mirror"


def test_public_inspection_search(server: Any, no_sleep: Any, kit: Any) -> None:
    server.route(
        "/api/v1/public-inspection-documents.json",
        kit.Reply(200, (kit.DATA / "public-inspection-handwritten.json").read_bytes()),
    )
    client = kit.make_client(server, no_sleep)
    pages = list(
        client.public_inspection(PublicInspectionQuery(term="magnets", available_on=date(2026, 11, 27)))
    )
    assert len(pages) == 1 and pages[0].document_numbers == ["2026-99001", "2026-99002"]
    request = server.hits("/api/v1/public-inspection-documents.json")[0]
    assert request.param("conditions[available_on]") == "2026-11-27"
    assert request.param("conditions[term]") == "magnets"


def test_paging_loop_is_detected_after_yielding_pages(server: Any, no_sleep: Any, kit: Any) -> None:
    mirror = kit.FederalRegisterMirror(kit.derived_documents(10))
    mirror.loop_back[3] = 2  # page 3 says "next: page 2"
    mirror.install(server)
    client = kit.make_client(server, no_sleep)
    got: list[int] = []
    with pytest.raises(PagingLoopError, match="already read"):
        for page in client.search(DocumentQuery(per_page=3, fields=())):
            got.append(page.number)
    assert got == [1, 2, 3]


def test_result_without_document_number_is_rejected(server: Any, no_sleep: Any, kit: Any) -> None:
    body = json.loads(kit.recorded("search-newest-page-one.json"))
    del body["results"][1]["document_number"]
    server.route("/api/v1/documents.json", kit.Reply(200, json.dumps(body).encode()))
    client = kit.make_client(server, no_sleep, attempts=1)
    with pytest.raises(MalformedResponseError, match="result 1 on page 1 has no document_number"):
        list(client.search(DocumentQuery(fields=())))


def test_rebase_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_BASE_URL, "http://mirror.local:8080/fr/api/v1/")
    client = FederalRegisterClient()
    assert client.base_url == "http://mirror.local:8080/fr/api/v1"
    assert (
        client.rebase("https://www.federalregister.gov/api/v1/documents?page=2&per_page=2")
        == "http://mirror.local:8080/fr/api/v1/documents?page=2&per_page=2"
    )
    assert (
        client.rebase("https://www.federalregister.gov/documents/full_text/text/2026/09/22/2026-19417.txt")
        == "http://mirror.local:8080/documents/full_text/text/2026/09/22/2026-19417.txt"
    )
    assert client.rebase("https://www.govinfo.gov/x.pdf") == "https://www.govinfo.gov/x.pdf"
    assert (
        FederalRegisterClient(PUBLIC_BASE_URL).rebase(
            "https://www.federalregister.gov/api/v1/documents?page=2"
        )
        == "https://www.federalregister.gov/api/v1/documents?page=2"
    )
