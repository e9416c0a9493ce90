"""Search providers against local servers answering in the real Brave and SearXNG formats."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from enrichment.web.fetch import Fetcher, cache_key
from enrichment.web.search import (
    SEARCH_CACHE_TTL,
    BraveSearch,
    SearchError,
    SearchResult,
    SearXNG,
)
from tests.enrichment.localserver import LocalServer, Recorded, Reply
from tests.enrichment.test_fetch import USER_AGENT, DictCache

JSON = {"Content-Type": "application/json"}

BRAVE_WEB = {
    "type": "search",
    "query": {
        "original": "acme funding",
        "show_strict_warning": False,
        "more_results_available": True,
    },
    "mixed": {
        "type": "mixed",
        "main": [{"type": "web", "index": 0, "all": False}],
        "top": [],
        "side": [],
    },
    "web": {
        "type": "search",
        "family_friendly": True,
        "results": [
            {
                "type": "search_result",
                "subtype": "generic",
                "title": "Acme raises <strong>$20M</strong> Series B",
                "url": "https://news.example/acme-series-b",
                "description": "Acme Corp &amp; partners announced a <strong>$20M</strong> round.",
                "page_age": "2025-11-04T09:12:00",
                "age": "November 4, 2025",
                "language": "en",
                "family_friendly": True,
                "profile": {"name": "News Example", "url": "https://news.example/"},
                "meta_url": {
                    "scheme": "https",
                    "netloc": "news.example",
                    "hostname": "news.example",
                    "path": "› acme-series-b",
                },
            },
            {
                "type": "search_result",
                "title": "Acme Corp — Home",
                "url": "https://acme.example/",
                "description": "We make anvils.",
                "meta_url": {
                    "scheme": "https",
                    "netloc": "acme.example",
                    "hostname": "acme.example",
                    "path": "",
                },
            },
        ],
    },
}

BRAVE_NEWS = {
    "type": "news",
    "query": {"original": "acme"},
    "results": [
        {
            "type": "news_result",
            "title": "Acme opens a Berlin office",
            "url": "https://press.example/acme-berlin",
            "description": "The anvil maker expands to <strong>Europe</strong>.",
            "age": "2 days ago",
            "page_age": "2026-02-28T10:00:00",
            "meta_url": {
                "scheme": "https",
                "netloc": "press.example",
                "hostname": "press.example",
                "path": "",
            },
            "thumbnail": {"src": "https://imgs.search.brave.com/x.jpg"},
        }
    ],
}

BRAVE_BAD_KEY = {
    "type": "ErrorResponse",
    "error": {
        "id": "8a1c2d3e-0000-4000-8000-000000000000",
        "status": 422,
        "code": "SUBSCRIPTION_TOKEN_INVALID",
        "detail": "The provided subscription token is invalid.",
        "meta": {"component": "authentication"},
    },
    "time": 1767225600,
}

BRAVE_RATE_LIMITED = {
    "type": "ErrorResponse",
    "error": {
        "id": "8a1c2d3e-0000-4000-8000-000000000001",
        "status": 429,
        "code": "RATE_LIMITED",
        "detail": "Request rate limit exceeded for plan.",
        "meta": {"plan": "Free", "rate_limit": 1, "rate_current": 2, "component": "rate_limiter"},
    },
    "time": 1767225600,
}

SEARXNG_WEB = {
    "query": "acme",
    "number_of_results": 0,
    "results": [
        {
            "url": "https://acme.example/",
            "title": "Acme Corp",
            "content": "We make anvils.",
            "engine": "duckduckgo",
            "engines": ["duckduckgo", "brave"],
            "positions": [1, 1],
            "parsed_url": ["https", "acme.example", "/", "", "", ""],
            "template": "default.html",
            "publishedDate": None,
            "score": 4.0,
            "category": "general",
        },
        {
            "url": "https://wiki.example/Acme",
            "title": "Acme - Wiki",
            "content": "Acme Corporation is a fictional company.",
            "engine": "wikipedia",
            "engines": ["wikipedia"],
            "publishedDate": None,
            "score": 1.0,
            "category": "general",
        },
    ],
    "answers": [],
    "corrections": [],
    "infoboxes": [],
    "suggestions": ["acme anvils"],
    "unresponsive_engines": [],
}

SEARXNG_NEWS = {
    "query": "acme",
    "number_of_results": 0,
    "results": [
        {
            "url": "https://press.example/acme-berlin",
            "title": "Acme opens a Berlin office",
            "content": "The anvil maker expands.",
            "engine": "bing news",
            "publishedDate": "2026-02-28T10:00:00",
            "category": "news",
        }
    ],
    "answers": [],
    "suggestions": [],
    "unresponsive_engines": [],
}


def json_reply(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(data).encode(), {**JSON, **(headers or {})})


def query_of(request: Recorded) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.path).query).items()}


@pytest.fixture
def api() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


def make_fetcher(server: LocalServer, **options) -> Fetcher:
    settings = {
        "user_agent": USER_AGENT,
        "allow_hosts": [server.netloc],
        "timeout": (1.0, 1.0),
        "retry_backoff": 0.01,
        # Page politeness must not slow an API down: the delay is skipped for it.
        "per_host_delay": 5.0,
    }
    settings.update(options)
    return Fetcher(**settings)


def brave(server: LocalServer, **options) -> BraveSearch:
    return BraveSearch(make_fetcher(server, **options), "BSA-secret", server.url("/res/v1"))


# --- Brave ------------------------------------------------------------------------------------


def test_brave_web_search_speaks_the_documented_wire_format(api):
    api.default = json_reply(BRAVE_WEB)
    results = brave(api).search("acme funding", count=5)
    (request,) = api.requests  # no robots.txt for an API
    assert urlsplit(request.path).path == "/res/v1/web/search"
    assert query_of(request) == {"q": "acme funding", "count": "5"}
    assert request.headers["x-subscription-token"] == "BSA-secret"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == USER_AGENT
    assert results == [
        SearchResult(
            title="Acme raises $20M Series B",
            url="https://news.example/acme-series-b",
            snippet="Acme Corp & partners announced a $20M round.",
            published="2025-11-04T09:12:00",
            provider="brave",
        ),
        SearchResult(
            title="Acme Corp — Home",
            url="https://acme.example/",
            snippet="We make anvils.",
            published=None,
            provider="brave",
        ),
    ]


def test_brave_news_search_reads_the_top_level_results(api):
    api.default = json_reply(BRAVE_NEWS)
    (result,) = brave(api).search("acme", kind="news", count=100)
    (request,) = api.requests
    assert urlsplit(request.path).path == "/res/v1/news/search"
    assert query_of(request)["count"] == "50"  # the API's maximum for news
    assert result == SearchResult(
        title="Acme opens a Berlin office",
        url="https://press.example/acme-berlin",
        snippet="The anvil maker expands to Europe.",
        published="2026-02-28T10:00:00",
        provider="brave",
    )


def test_brave_with_no_results_is_an_empty_list(api):
    api.default = json_reply({"type": "search", "query": {"original": "zzzz"}})
    assert brave(api).search("zzzz") == []


@pytest.mark.parametrize(
    ("status", "body"),
    [(422, BRAVE_BAD_KEY), (401, {"error": "unauthorized"}), (403, "forbidden")],
)
def test_a_bad_brave_key_is_a_search_error_that_says_so(api, status, body):
    api.default = json_reply(body, status)
    with pytest.raises(SearchError, match=r"refused the API key.*BRAVE_API_KEY"):
        brave(api).search("acme")
    assert len(api.requests) == 1  # not retried


def test_brave_quota_exhausted_is_a_search_error_after_the_retries(api):
    api.default = json_reply(BRAVE_RATE_LIMITED, 429, {"Retry-After": "0"})
    with pytest.raises(SearchError, match=r"rate limit or monthly quota.*exceeded for plan"):
        brave(api, max_retries=2).search("acme")
    assert len(api.requests) == 3


def test_a_429_then_an_answer_succeeds(api):
    api.queue(json_reply(BRAVE_RATE_LIMITED, 429, {"Retry-After": "0"}), json_reply(BRAVE_WEB))
    assert len(brave(api).search("acme")) == 2


@pytest.mark.parametrize(
    "body",
    [b"<html>Bad gateway</html>", b'{"web": {"results": [', b"[1, 2]", b'{"web": {"results": 3}}'],
)
def test_malformed_json_is_a_search_error(api, body):
    api.default = Reply(200, body, JSON)
    with pytest.raises(
        SearchError,
        match=r"Brave Search answered with (malformed JSON|JSON of an unexpected shape)",
    ):
        brave(api).search("acme")


def test_an_unreachable_provider_is_a_search_error(api):
    api.default = Reply(200, b"{}", delay=1.0)
    with pytest.raises(SearchError, match=r"Brave Search could not be reached: .*did not answer"):
        brave(api, timeout=(0.2, 0.2)).search("acme")


def test_search_answers_are_cached_briefly(api):
    api.default = json_reply(BRAVE_WEB)
    cache = DictCache()
    provider = brave(api, cache=cache, cache_ttl=86_400)
    first = provider.search("acme", count=3)
    assert provider.search("acme", count=3) == first
    assert len(api.requests) == 1
    url = api.url("/res/v1/web/search?q=acme&count=3")
    assert cache.ttls == {cache_key("GET", url): SEARCH_CACHE_TTL}


def test_api_calls_skip_robots_and_the_politeness_delay(api):
    api.default = json_reply(BRAVE_WEB)
    provider = brave(api, respect_robots=True, per_host_delay=5.0, per_host_limit=1)
    started = time.monotonic()
    for query in ("a", "b", "c"):
        provider.search(query)
    assert time.monotonic() - started < 2.0
    assert [urlsplit(r.path).path for r in api.requests] == ["/res/v1/web/search"] * 3


def test_an_unknown_kind_is_refused(api):
    with pytest.raises(ValueError, match="kind"):
        brave(api).search("acme", kind="images")


# --- SearXNG ----------------------------------------------------------------------------------


def searxng(server: LocalServer, **options) -> SearXNG:
    return SearXNG(make_fetcher(server, **options), server.url("/"))


def test_searxng_web_search_speaks_its_json_api(api):
    api.default = json_reply(SEARXNG_WEB)
    results = searxng(api).search("acme", count=1)
    (request,) = api.requests
    assert urlsplit(request.path).path == "/search"
    assert query_of(request) == {"q": "acme", "format": "json", "categories": "general"}
    assert results == [
        SearchResult(
            title="Acme Corp",
            url="https://acme.example/",
            snippet="We make anvils.",
            published=None,
            provider="searxng",
        )
    ]


def test_searxng_news_asks_the_news_category(api):
    api.default = json_reply(SEARXNG_NEWS)
    (result,) = searxng(api).search("acme", kind="news")
    assert query_of(api.requests[0])["categories"] == "news"
    assert (result.title, result.published, result.provider) == (
        "Acme opens a Berlin office",
        "2026-02-28T10:00:00",
        "searxng",
    )


def test_searxng_without_json_output_says_how_to_fix_it(api):
    api.default = Reply(403, b"<html>403 Forbidden</html>", {"Content-Type": "text/html"})
    with pytest.raises(SearchError, match=r"search\.formats"):
        searxng(api).search("acme")


def test_searxng_rate_limiting_and_malformed_json_are_search_errors(api):
    api.default = Reply(429, b"Too Many Requests")
    with pytest.raises(SearchError, match="HTTP 429"):
        searxng(api, max_retries=0).search("acme")
    api.default = Reply(200, b"<html>not json</html>", JSON)
    with pytest.raises(SearchError, match="SearXNG answered with malformed JSON"):
        searxng(api).search("acme")
