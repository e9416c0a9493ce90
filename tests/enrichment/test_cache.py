"""The fetcher's database cache, its daily pruning, and the app's configured fetcher."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django_q.models import Schedule

from accounts.management.commands.setup_schedules import collect_schedules
from config.env import env_float
from enrichment import outside
from enrichment.cache import DatabaseCache
from enrichment.models import FetchCacheEntry
from enrichment.tasks import prune_fetch_cache
from enrichment.web.fetch import Fetcher, FetchResult, cache_key
from enrichment.web.search import BraveSearch, SearXNG
from tests.enrichment.localserver import LocalServer, Reply
from tests.enrichment.test_fetch import USER_AGENT, Routes

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def page(body: bytes = b"<h1>Acme</h1>", status: int = 200) -> FetchResult:
    return FetchResult(
        url="https://acme.example/",
        final_url="https://www.acme.example/",
        status=status,
        headers={"content-type": "text/html", "set-cookie": "PHPSESSID=1; path=/"},
        body=body,
    )


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


# --- DatabaseCache ----------------------------------------------------------------------------


def test_a_stored_response_comes_back_from_the_cache():
    cache = DatabaseCache()
    cache.set("k" * 64, page(), ttl=60)
    found = cache.get("k" * 64)
    assert found is not None
    assert (found.url, found.final_url, found.status, found.body) == (
        "https://acme.example/",
        "https://www.acme.example/",
        200,
        b"<h1>Acme</h1>",
    )
    assert found.headers["content-type"] == "text/html"
    assert found.cookies == ["PHPSESSID"]
    assert found.from_cache is True
    assert cache.get("x" * 64) is None


def test_an_expired_entry_is_ignored():
    cache = DatabaseCache()
    with time_machine.travel(START, tick=False) as traveller:
        cache.set("k" * 64, page(), ttl=60)
        traveller.move_to(START + timedelta(seconds=59))
        assert cache.get("k" * 64) is not None
        traveller.move_to(START + timedelta(seconds=60))
        assert cache.get("k" * 64) is None


def test_a_body_over_the_cap_is_never_stored():
    cache = DatabaseCache(max_bytes=1024)
    cache.set("big", page(b"x" * 1025), ttl=60)
    cache.set("fits", page(b"x" * 1024), ttl=60)
    assert list(FetchCacheEntry.objects.values_list("key", flat=True)) == ["fits"]


def test_setting_a_key_again_replaces_the_entry():
    cache = DatabaseCache()
    with time_machine.travel(START, tick=False) as traveller:
        cache.set("k", page(b"old"), ttl=60)
        traveller.move_to(START + timedelta(seconds=30))
        cache.set("k", page(b"new", status=404), ttl=600)
    entry = FetchCacheEntry.objects.get()
    assert (bytes(entry.body), entry.status) == (b"new", 404)
    assert entry.expires_at == START + timedelta(seconds=630)


def test_headers_with_nul_characters_are_stored():
    cache = DatabaseCache()
    result = page()
    result.headers["x-odd"] = "a\x00b"
    cache.set("k", result, ttl=60)
    assert cache.get("k").headers["x-odd"] == "ab"


def test_the_fetcher_hits_misses_and_expires_with_the_database_cache(server):
    server.default = Routes({"/": Reply(200, b"hi"), "/gone": Reply(404, b"no")})
    fetcher = Fetcher(
        user_agent=USER_AGENT,
        allow_hosts=[server.netloc],
        cache=DatabaseCache(),
        cache_ttl=600,
        respect_robots=False,
        per_host_delay=0,
    )
    with time_machine.travel(START, tick=False) as traveller:
        assert fetcher.get(server.url("/")).from_cache is False
        hit = fetcher.get(server.url("/"))
        assert (hit.from_cache, hit.text, hit.status) == (True, "hi", 200)
        assert len(server.requests) == 1
        entry = FetchCacheEntry.objects.get(key=cache_key("GET", server.url("/")))
        assert entry.url == server.url("/")

        fetcher.get(server.url("/gone"))
        missing = FetchCacheEntry.objects.get(key=cache_key("GET", server.url("/gone")))
        assert missing.expires_at == START + timedelta(seconds=600)  # min(ttl, an hour)

        traveller.move_to(START + timedelta(seconds=601))
        assert fetcher.get(server.url("/")).from_cache is False  # expired: asked again
        assert len(server.requests) == 3


# --- Pruning ----------------------------------------------------------------------------------


def test_prune_fetch_cache_removes_expired_rows_only():
    cache = DatabaseCache()
    with time_machine.travel(START, tick=False) as traveller:
        cache.set("short", page(), ttl=60)
        cache.set("long", page(), ttl=3600)
        traveller.move_to(START + timedelta(minutes=5))
        assert prune_fetch_cache() == 1
        assert prune_fetch_cache() == 0
    assert list(FetchCacheEntry.objects.values_list("key", flat=True)) == ["long"]


def test_pruning_is_scheduled_daily():
    (periodic,) = [p for p in collect_schedules() if p.name == "enrichment.prune_fetch_cache"]
    assert periodic.func is prune_fetch_cache
    assert periodic.schedule_type == Schedule.DAILY


# --- The app's fetcher and providers ----------------------------------------------------------


@pytest.fixture
def fresh_outside() -> Iterator[None]:
    outside.reset_fetcher()
    yield
    outside.reset_fetcher()


def test_the_app_fetcher_is_built_once_from_settings(settings, fresh_outside):
    settings.FETCH_USER_AGENT = "ProspectorBot/1.0 (+https://prospector.example/bot)"
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1:8001"]
    settings.FETCH_MAX_BYTES = 4096
    settings.FETCH_TIMEOUT_CONNECT = 1.5
    settings.FETCH_TIMEOUT_READ = 2.5
    settings.FETCH_CACHE_TTL = 120
    settings.FETCH_PER_HOST_LIMIT = 3
    settings.FETCH_PER_HOST_DELAY = 0.25
    settings.FETCH_MAX_RETRIES = 1
    settings.FETCH_RESPECT_ROBOTS = False
    fetcher = outside.fetcher()
    assert outside.fetcher() is fetcher
    assert fetcher.user_agent == settings.FETCH_USER_AGENT
    assert fetcher.robots_token == "ProspectorBot"
    assert fetcher.allow.allows("127.0.0.1", 8001) and not fetcher.allow.allows("127.0.0.1", 80)
    assert (fetcher.max_bytes, fetcher.timeout, fetcher.cache_ttl) == (4096, (1.5, 2.5), 120)
    assert (fetcher.per_host_limit, fetcher.per_host_delay) == (3, 0.25)
    assert (fetcher.max_retries, fetcher.respect_robots) == (1, False)
    # Shared rows on PostgreSQL, process memory on SQLite (see enrichment.cache.for_database).
    from django.db import connection

    from enrichment.cache import MemoryCache

    expected = DatabaseCache if connection.vendor == "postgresql" else MemoryCache
    assert isinstance(fetcher.cache, expected) and fetcher.cache.max_bytes == 4096


def test_changing_a_fetch_setting_rebuilds_the_fetcher(settings, fresh_outside):
    first = outside.fetcher()
    settings.FETCH_MAX_RETRIES = 0
    second = outside.fetcher()
    assert second is not first and second.max_retries == 0
    settings.SITE_URL = "https://elsewhere.example"  # not the fetcher's business
    assert outside.fetcher() is second


def test_search_providers_are_the_configured_ones_in_order(settings, fresh_outside):
    settings.BRAVE_API_KEY = ""
    settings.SEARXNG_URL = ""
    assert outside.search_providers() == []

    settings.SEARXNG_URL = "http://127.0.0.1:8888"
    (searx,) = outside.search_providers()
    assert isinstance(searx, SearXNG) and searx.base_url == "http://127.0.0.1:8888"

    settings.BRAVE_API_KEY = "BSA-test"
    settings.BRAVE_API_URL = "http://127.0.0.1:9999/res/v1"
    brave, searx = outside.search_providers()
    assert isinstance(brave, BraveSearch) and isinstance(searx, SearXNG)
    assert (brave.api_key, brave.base_url) == ("BSA-test", "http://127.0.0.1:9999/res/v1")
    assert brave.fetcher is searx.fetcher is outside.fetcher()


def test_env_float_reads_numbers_strictly(monkeypatch):
    monkeypatch.setenv("FETCH_PER_HOST_DELAY", "0.25")
    assert env_float("FETCH_PER_HOST_DELAY", 0.5) == 0.25
    monkeypatch.setenv("FETCH_PER_HOST_DELAY", "")
    assert env_float("FETCH_PER_HOST_DELAY", 0.5) == 0.5
    for bad in ("soon", "nan", "inf"):
        monkeypatch.setenv("FETCH_PER_HOST_DELAY", bad)
        with pytest.raises(ImproperlyConfigured, match="FETCH_PER_HOST_DELAY"):
            env_float("FETCH_PER_HOST_DELAY", 0.5)
    monkeypatch.setenv("FETCH_PER_HOST_DELAY", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_float("FETCH_PER_HOST_DELAY", 0.5, minimum=0)


def test_the_memory_cache_keeps_expires_and_is_bounded():
    from enrichment.cache import MemoryCache
    from enrichment.web.fetch import FetchResult

    cache = MemoryCache(max_bytes=10, max_entries=2)
    page = FetchResult(
        url="https://a.example/",
        final_url="https://a.example/",
        status=200,
        headers={},
        body=b"hello",
    )
    cache.set("a", page, 60)
    hit = cache.get("a")
    assert hit.body == b"hello" and hit.from_cache and not page.from_cache
    cache.set(
        "big", FetchResult(url="u", final_url="u", status=200, headers={}, body=b"x" * 11), 60
    )
    assert cache.get("big") is None  # over max_bytes: never kept
    cache.set("b", page, 60)
    cache.set("c", page, 60)
    assert cache.get("a") is None and cache.get("c") is not None  # the oldest went first
    cache.set("gone", page, 0)
    assert cache.get("gone") is None


def test_the_configured_cache_follows_the_database():
    from django.db import connection

    from enrichment.cache import DatabaseCache, MemoryCache, for_database

    expected = DatabaseCache if connection.vendor == "postgresql" else MemoryCache
    assert isinstance(for_database(), expected)
