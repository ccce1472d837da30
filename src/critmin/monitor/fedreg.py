"""Federal Register API v1 client: document search, single documents and public inspection.

No key is needed. The base URL comes from ``CRITMIN_FEDREG_URL`` (default
``https://www.federalregister.gov/api/v1``) so tests and air-gapped users can point it at a mirror; links the
API returns (``next_page_url``, ``raw_text_url``) name the public host, so they are rebased onto the
configured base before being followed, and a mirror never leaks requests to the internet.

Paging follows ``next_page_url`` exactly as the API gives it. The API has two quirks handled here: a search
with no hits has ``count: 0`` and no ``results`` key at all, and a misbehaving server (or mirror) can send a
``next_page_url`` already read, which would loop forever; that raises :class:`PagingLoopError` after the pages
already read have been handed to the caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from critmin.monitor.errors import MalformedResponseError, PagingLoopError
from critmin.monitor.http import FetchResult, JsonClient

ENV_BASE_URL = "CRITMIN_FEDREG_URL"
PUBLIC_BASE_URL = "https://www.federalregister.gov/api/v1"
PUBLIC_HOSTS = frozenset({"www.federalregister.gov", "federalregister.gov"})


class DocumentType(StrEnum):
    """The API's document type codes (``conditions[type][]``)."""

    RULE = "RULE"
    PRORULE = "PRORULE"
    NOTICE = "NOTICE"
    PRESDOCU = "PRESDOCU"


class Endpoint(StrEnum):
    """Which list a document came from."""

    documents = "documents"
    public_inspection = "public_inspection"


DOCUMENT_FIELDS: tuple[str, ...] = (
    "document_number",
    "title",
    "type",
    "subtype",
    "abstract",
    "action",
    "agencies",
    "publication_date",
    "signing_date",
    "effective_on",
    "comments_close_on",
    "dates",
    "citation",
    "executive_order_number",
    "proclamation_number",
    "docket_ids",
    "topics",
    "excerpts",
    "html_url",
    "pdf_url",
    "raw_text_url",
)
"""Fields a watch run asks for: enough to match (title, abstract, excerpts), date, cite and link."""

PUBLIC_INSPECTION_FIELDS: tuple[str, ...] = (
    "document_number",
    "title",
    "type",
    "agencies",
    "filed_at",
    "publication_date",
    "filing_type",
    "toc_subject",
    "toc_doc",
    "docket_numbers",
    "excerpts",
    "html_url",
    "pdf_url",
)


def base_url_from_env() -> str:
    return os.environ.get(ENV_BASE_URL, PUBLIC_BASE_URL).rstrip("/")


@dataclass(frozen=True)
class DocumentQuery:
    """A search: the API's ``conditions`` plus fields, order and page size.

    ``order="oldest"`` is the default on purpose: documents published while a run pages through the results
    are appended at the end instead of shifting every later page, so nothing is skipped.
    """

    term: str | None = None
    agencies: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    published_gte: date | None = None
    published_lte: date | None = None
    fields: tuple[str, ...] = DOCUMENT_FIELDS
    order: str = "oldest"
    per_page: int = 100

    def params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.term:
            out.append(("conditions[term]", self.term))
        out += [("conditions[agencies][]", agency) for agency in self.agencies]
        out += [("conditions[type][]", kind) for kind in self.types]
        if self.published_gte:
            out.append(("conditions[publication_date][gte]", self.published_gte.isoformat()))
        if self.published_lte:
            out.append(("conditions[publication_date][lte]", self.published_lte.isoformat()))
        out += [("fields[]", name) for name in self.fields]
        out += [("order", self.order), ("per_page", str(self.per_page))]
        return out


@dataclass(frozen=True)
class PublicInspectionQuery:
    """A public-inspection search; ``available_on`` picks one day's desk (default: the API's current desk)."""

    term: str | None = None
    agencies: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    available_on: date | None = None
    fields: tuple[str, ...] = PUBLIC_INSPECTION_FIELDS
    per_page: int = 100

    def params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.term:
            out.append(("conditions[term]", self.term))
        out += [("conditions[agencies][]", agency) for agency in self.agencies]
        out += [("conditions[type][]", kind) for kind in self.types]
        if self.available_on:
            out.append(("conditions[available_on]", self.available_on.isoformat()))
        out += [("fields[]", name) for name in self.fields]
        out.append(("per_page", str(self.per_page)))
        return out


@dataclass(frozen=True)
class Page:
    """One page of search results as read from the API."""

    url: str
    number: int
    count: int
    results: list[dict[str, Any]]
    next_url: str | None
    attempts: int
    bytes: int
    total_pages: int | None = None
    description: str | None = None
    per_page: int | None = None

    @property
    def document_numbers(self) -> list[str]:
        return [str(item["document_number"]) for item in self.results]


class FederalRegisterClient:
    """Read the Federal Register API; every request goes through a retrying :class:`JsonClient`."""

    def __init__(self, base_url: str | None = None, *, http: JsonClient | None = None) -> None:
        self.base_url = (base_url or base_url_from_env()).rstrip("/")
        self.http = http or JsonClient()
        self._owns_http = http is None

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> FederalRegisterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- URLs -----------------------------------------------------------------------------------------

    def url(self, path: str, params: Sequence[tuple[str, str]] = ()) -> str:
        """Absolute URL under the configured base, with the query encoded the way the API expects."""
        return str(httpx.URL(f"{self.base_url}/{path.lstrip('/')}", params=list(params)))

    def rebase(self, url: str) -> str:
        """Map a link the API returned (which names the public host) onto the configured base URL.

        ``https://www.federalregister.gov/api/v1/X`` becomes ``<base>/X``; other paths on the public host keep
        their path under the base's origin. Links to other hosts (govinfo PDFs) are returned unchanged.
        """
        parts = urlsplit(url)
        if not parts.netloc:
            return self.url(parts.path) + (f"?{parts.query}" if parts.query else "")
        if parts.netloc not in PUBLIC_HOSTS or self.base_url == PUBLIC_BASE_URL:
            return url
        base = urlsplit(self.base_url)
        api_root = urlsplit(PUBLIC_BASE_URL).path
        if parts.path.startswith(api_root + "/"):
            path = base.path.rstrip("/") + parts.path[len(api_root) :]
        else:
            path = parts.path
        return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))

    # -- documents ------------------------------------------------------------------------------------

    def search_url(self, query: DocumentQuery) -> str:
        return self.url("documents.json", query.params())

    def public_inspection_url(self, query: PublicInspectionQuery) -> str:
        return self.url("public-inspection-documents.json", query.params())

    def fetch_page(self, url: str, number: int = 1) -> Page:
        """Read one result page and check it has the documented shape."""
        result = self.http.get_json(url)
        return _parse_page(result, number, self.rebase)

    def iter_pages(
        self, start_url: str, *, max_pages: int | None = None, start_number: int = 1
    ) -> Iterator[Page]:
        """Follow ``next_page_url`` from ``start_url`` until the last page (or ``max_pages``).

        Two guards stop a server that pages forever, each raising :class:`PagingLoopError` after the pages
        already read were handed over: a ``next_page_url`` already read in this iteration, and two pages in a
        row that bring no document not already seen (a page repeated under new URLs). A single repeated page
        is passed on: its documents are deduplicated downstream.
        """
        seen_urls: set[str] = set()
        seen_docs: set[str] = set()
        stale = 0
        url: str | None = start_url
        number = start_number
        while url is not None:
            key = canonical_url(url)
            if key in seen_urls:
                raise PagingLoopError(
                    f"The Federal Register API sent page {number} back to {url}, a page already read; "
                    "stopped following next_page_url to avoid a loop.",
                    url=url,
                )
            seen_urls.add(key)
            page = self.fetch_page(url, number)
            fresh = set(page.document_numbers) - seen_docs
            stale = 0 if fresh or not page.results else stale + 1
            seen_docs |= fresh
            yield page
            if stale >= 2:
                raise PagingLoopError(
                    f"The Federal Register API sent {stale} pages in a row (up to page {number}, {url}) "
                    "holding "
                    "only documents already read; stopped following next_page_url.",
                    url=url,
                )
            if max_pages is not None and number - start_number + 1 >= max_pages:
                return
            url = page.next_url
            number += 1

    def search(self, query: DocumentQuery, *, max_pages: int | None = None) -> Iterator[Page]:
        return self.iter_pages(self.search_url(query), max_pages=max_pages)

    def public_inspection(
        self, query: PublicInspectionQuery, *, max_pages: int | None = None
    ) -> Iterator[Page]:
        return self.iter_pages(self.public_inspection_url(query), max_pages=max_pages)

    def public_inspection_current(self) -> Page:
        """Everything on the public inspection desk now (one unpaged list)."""
        return self.fetch_page(self.url("public-inspection-documents/current.json"))

    def document(self, document_number: str, fields: Sequence[str] = ()) -> dict[str, Any]:
        """One document by its number, e.g. ``2026-19417``."""
        url = self.url(f"documents/{document_number}.json", [("fields[]", name) for name in fields])
        data = self.http.get_json(url).data
        if not isinstance(data, dict) or "document_number" not in data:
            raise MalformedResponseError(
                f"{url} did not return a document object with a document_number.", url=url
            )
        return data

    def full_text(self, document: dict[str, Any]) -> str | None:
        """The plain text of a document when the API links one (``raw_text_url``); None otherwise."""
        link = document.get("raw_text_url")
        if not link:
            return None
        return str(self.http.get_text(self.rebase(str(link))).data)


def canonical_url(url: str) -> str:
    """A URL reduced to what selects a page, so the same page reached two ways compares equal.

    Query parameters are sorted; the API's defaults (``format=json``, ``page=1``) and the ``.json`` suffix
    of the path, which the API treats as the same request, are dropped.
    """
    parts = urlsplit(url)
    defaults = {("format", "json"), ("page", "1")}
    query = urlencode(sorted(p for p in parse_qsl(parts.query, keep_blank_values=True) if p not in defaults))
    path = parts.path.rstrip("/").removesuffix(".json")
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, query, ""))


def _parse_page(result: FetchResult, number: int, rebase: Any) -> Page:
    data = result.data
    url = result.url
    if not isinstance(data, dict):
        raise MalformedResponseError(
            f"{url} returned JSON of type {type(data).__name__}; a search page is an object with "
            "count/results.",
            url=url,
        )
    if "errors" in data and "results" not in data:
        raise MalformedResponseError(f"{url} returned an error object: {data['errors']!r}", url=url)
    count = data.get("count", 0)
    if not isinstance(count, int):
        raise MalformedResponseError(f"{url}: 'count' is {count!r}, expected an integer.", url=url)
    # An empty search has count 0 and *no* results key (recorded: search-terminal.json).
    results = data.get("results", [])
    if not isinstance(results, list):
        raise MalformedResponseError(
            f"{url}: 'results' is {type(results).__name__}, expected a list.", url=url
        )
    for index, item in enumerate(results):
        if not isinstance(item, dict) or not item.get("document_number"):
            raise MalformedResponseError(
                f"{url}: result {index} on page {number} has no document_number; the page cannot be stored "
                "without losing track of it.",
                url=url,
            )
    next_url = data.get("next_page_url")
    total_pages = data.get("total_pages")
    per_page = dict(parse_qsl(urlsplit(url).query)).get("per_page", "")
    return Page(
        url=url,
        number=number,
        count=count,
        results=results,
        next_url=rebase(str(next_url)) if next_url else None,
        attempts=result.attempts,
        bytes=result.bytes,
        total_pages=total_pages if isinstance(total_pages, int) else None,
        description=data.get("description"),
        per_page=int(per_page) if per_page.isdigit() else None,
    )
