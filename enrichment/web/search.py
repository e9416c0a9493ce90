"""Web and news search behind one interface: Brave Search API and SearXNG.

Providers send their requests through the app's `Fetcher` (so the SSRF guard, timeouts and
the response cache apply), skip robots.txt (these are APIs, called as their owners document)
and the per-host politeness delay (the API meters us by key and answers 429 when it wants
less), and keep answers for a short while only.

This module is a leaf library: it imports no project module. Callers pass the fetcher, keys
and base URLs in.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from enrichment.web.fetch import Fetcher, FetchError, FetchResult

# Search answers change; a company researched twice in an hour reuses them.
SEARCH_CACHE_TTL = 3600
KINDS = ("web", "news")


class SearchError(Exception):
    """A search could not be made or its answer could not be read; the message says why."""


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str
    published: str | None  # as the provider gives it (ISO date, or "2 days ago")
    provider: str


class SearchProvider(Protocol):
    name: str

    def search(self, query: str, *, count: int = 10, kind: str = "web") -> list[SearchResult]: ...


_TAG = re.compile(r"<[^>]+>")


def _plain(value: Any) -> str:
    """Text without the highlighting markup providers put in titles and snippets."""
    if not isinstance(value, str):
        return ""
    return html.unescape(_TAG.sub("", value)).strip()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")


def _api_get(
    fetcher: Fetcher, label: str, url: str, headers: dict[str, str], cache_ttl: int
) -> FetchResult:
    try:
        return fetcher.request(
            "GET",
            url,
            headers=headers,
            use_cache=cache_ttl > 0,
            cache_ttl=cache_ttl,
            check_robots=False,
            polite=False,
        )
    except FetchError as exc:
        raise SearchError(f"{label} could not be reached: {exc}") from exc


def _json(label: str, result: FetchResult) -> dict[str, Any]:
    if result.truncated:
        raise SearchError(f"{label} sent an answer larger than the size limit.")
    try:
        data = json.loads(result.body)
    except ValueError:
        raise SearchError(f"{label} answered with malformed JSON.") from None
    if not isinstance(data, dict):
        raise SearchError(f"{label} answered with JSON of an unexpected shape.")
    return data


def _results_list(label: str, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SearchError(f"{label} answered with JSON of an unexpected shape.")
    return [item for item in value if isinstance(item, dict)]


class BraveSearch:
    """The Brave Search API: GET {base}/web/search and {base}/news/search with `q` and
    `count`, the key in `X-Subscription-Token`. Web results are in `web.results`, news
    results in `results`; each has `title`, `url`, `description` and `page_age`/`age`."""

    name = "brave"
    label = "Brave Search"
    MAX_COUNT = {"web": 20, "news": 50}

    def __init__(
        self,
        fetcher: Fetcher,
        api_key: str,
        base_url: str = "https://api.search.brave.com/res/v1",
        *,
        cache_ttl: int = SEARCH_CACHE_TTL,
    ) -> None:
        self.fetcher = fetcher
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.cache_ttl = cache_ttl

    def search(self, query: str, *, count: int = 10, kind: str = "web") -> list[SearchResult]:
        _check_kind(kind)
        count = max(1, min(count, self.MAX_COUNT[kind]))
        url = f"{self.base_url}/{kind}/search?" + urlencode({"q": query, "count": count})
        headers = {"Accept": "application/json", "X-Subscription-Token": self.api_key}
        result = _api_get(self.fetcher, self.label, url, headers, self.cache_ttl)
        if not result.ok:
            raise SearchError(self._error_message(result))
        data = _json(self.label, result)
        if kind == "web":
            web = data.get("web") or {}
            items = _results_list(self.label, web.get("results") if isinstance(web, dict) else [])
        else:
            items = _results_list(self.label, data.get("results"))
        found = []
        for item in items:
            url_found = item.get("url")
            if not isinstance(url_found, str) or not url_found:
                continue
            published = item.get("page_age") or item.get("age")
            found.append(
                SearchResult(
                    title=_plain(item.get("title")),
                    url=url_found,
                    snippet=_plain(item.get("description")),
                    published=published if isinstance(published, str) else None,
                    provider=self.name,
                )
            )
        return found[:count]

    def _error_message(self, result: FetchResult) -> str:
        detail = ""
        code = ""
        try:
            error = json.loads(result.body).get("error") or {}
            detail = str(error.get("detail") or "")
            code = str(error.get("code") or "")
        except (ValueError, AttributeError):
            pass
        suffix = f" ({detail})" if detail else ""
        if result.status in (401, 403) or code == "SUBSCRIPTION_TOKEN_INVALID":
            return (
                f"{self.label} refused the API key (HTTP {result.status}){suffix}: "
                "check BRAVE_API_KEY."
            )
        if result.status == 429:
            return (
                f"{self.label} rate limit or monthly quota reached (HTTP 429){suffix}; "
                "try again later."
            )
        return f"{self.label} answered HTTP {result.status}{suffix}."


class SearXNG:
    """A SearXNG instance's JSON API: GET {base}/search?q=..&format=json&categories=general
    (or news); results in `results`, each with `url`, `title`, `content`, `publishedDate`.
    The instance must list "json" in its `search.formats` setting."""

    name = "searxng"
    label = "SearXNG"

    def __init__(self, fetcher: Fetcher, base_url: str, *, cache_ttl: int = SEARCH_CACHE_TTL):
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.cache_ttl = cache_ttl

    def search(self, query: str, *, count: int = 10, kind: str = "web") -> list[SearchResult]:
        _check_kind(kind)
        category = "news" if kind == "news" else "general"
        url = f"{self.base_url}/search?" + urlencode(
            {"q": query, "format": "json", "categories": category}
        )
        result = _api_get(
            self.fetcher, self.label, url, {"Accept": "application/json"}, self.cache_ttl
        )
        if result.status == 403:
            raise SearchError(
                f"{self.label} refused the request (HTTP 403): is 'json' enabled in the "
                "instance's search.formats?"
            )
        if result.status == 429:
            raise SearchError(f"{self.label} is rate limiting us (HTTP 429); try again later.")
        if not result.ok:
            raise SearchError(f"{self.label} answered HTTP {result.status}.")
        data = _json(self.label, result)
        found = []
        for item in _results_list(self.label, data.get("results")):
            url_found = item.get("url")
            if not isinstance(url_found, str) or not url_found:
                continue
            published = item.get("publishedDate")
            found.append(
                SearchResult(
                    title=_plain(item.get("title")),
                    url=url_found,
                    snippet=_plain(item.get("content")),
                    published=published if isinstance(published, str) and published else None,
                    provider=self.name,
                )
            )
            if len(found) >= count:
                break
        return found
