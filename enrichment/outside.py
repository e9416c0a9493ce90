"""The app's configured door to the outside world: the process-wide fetcher and the search
providers, built from Django settings (the leaf library `enrichment.web` takes them as
arguments)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from enrichment.cache import for_database
from enrichment.web.fetch import Fetcher
from enrichment.web.search import BraveSearch, SearchProvider, SearXNG

# Settings the fetcher or the providers are built from: changing one (tests) rebuilds them.
SETTINGS = frozenset(
    {
        "FETCH_USER_AGENT",
        "FETCH_ALLOW_HOSTS",
        "FETCH_MAX_BYTES",
        "FETCH_TIMEOUT_CONNECT",
        "FETCH_TIMEOUT_READ",
        "FETCH_CACHE_TTL",
        "FETCH_PER_HOST_LIMIT",
        "FETCH_PER_HOST_DELAY",
        "FETCH_MAX_RETRIES",
        "FETCH_RESPECT_ROBOTS",
    }
)

_lock = threading.Lock()
_fetcher: Fetcher | None = None


def fetcher() -> Fetcher:
    """The process-wide Fetcher (built on first use), shared by all threads so that the
    per-host limits hold across them."""
    global _fetcher
    current = _fetcher
    if current is None:
        with _lock:
            if _fetcher is None:
                _fetcher = build_fetcher()
            current = _fetcher
    return current


def build_fetcher() -> Fetcher:
    return Fetcher(
        user_agent=settings.FETCH_USER_AGENT,
        allow_hosts=settings.FETCH_ALLOW_HOSTS,
        cache=for_database(max_bytes=settings.FETCH_MAX_BYTES),
        cache_ttl=settings.FETCH_CACHE_TTL,
        max_bytes=settings.FETCH_MAX_BYTES,
        timeout=(settings.FETCH_TIMEOUT_CONNECT, settings.FETCH_TIMEOUT_READ),
        per_host_limit=settings.FETCH_PER_HOST_LIMIT,
        per_host_delay=settings.FETCH_PER_HOST_DELAY,
        max_retries=settings.FETCH_MAX_RETRIES,
        respect_robots=settings.FETCH_RESPECT_ROBOTS,
    )


def reset_fetcher() -> None:
    """Forget the fetcher, so the next `fetcher()` is built from the current settings."""
    global _fetcher
    with _lock:
        _fetcher = None


@receiver(setting_changed)
def _rebuild_on_setting_change(*, setting: str, **kwargs: object) -> None:
    if setting in SETTINGS:
        reset_fetcher()


def search_providers() -> list[SearchProvider]:
    """The configured search providers, preferred first: Brave (BRAVE_API_KEY), then
    SearXNG (SEARXNG_URL). Empty when none is configured: search steps are then skipped."""
    providers: list[SearchProvider] = []
    if settings.BRAVE_API_KEY:
        providers.append(BraveSearch(fetcher(), settings.BRAVE_API_KEY, settings.BRAVE_API_URL))
    if settings.SEARXNG_URL:
        providers.append(SearXNG(fetcher(), settings.SEARXNG_URL))
    return providers
