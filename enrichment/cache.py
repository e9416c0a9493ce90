"""The fetcher's response cache in the database, shared by every web and worker process."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connections, router, transaction
from django.utils import timezone

from enrichment.models import FetchCacheEntry
from enrichment.web.fetch import FetchResult, cookie_names

DEFAULT_MAX_BYTES = 2 * 1024 * 1024


class DatabaseCache:
    """`ResponseCache` over `FetchCacheEntry`: expired rows are ignored (and pruned daily by
    `enrichment.tasks.prune_fetch_cache`), bodies larger than `max_bytes` are never stored,
    and `set` replaces the row of the same key in one statement."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes

    def get(self, key: str) -> FetchResult | None:
        rows = FetchCacheEntry.objects.filter(key=key, expires_at__gt=timezone.now()).values_list(
            "url", "final_url", "status", "headers", "body"
        )[:1]
        if not rows:
            return None
        url, final_url, status, headers, body = rows[0]
        headers = headers if isinstance(headers, dict) else {}
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            headers=headers,
            body=bytes(body),
            from_cache=True,
            cookies=cookie_names(headers),
        )

    def set(self, key: str, result: FetchResult, ttl: int) -> None:
        if ttl <= 0 or len(result.body) > self.max_bytes:
            return
        now = timezone.now()
        # PostgreSQL's text and jsonb cannot hold NUL characters.
        headers = {
            str(name).replace("\x00", ""): str(value).replace("\x00", "")
            for name, value in result.headers.items()
        }
        entry = FetchCacheEntry(
            key=key,
            url=result.url.replace("\x00", ""),
            final_url=result.final_url.replace("\x00", ""),
            status=result.status,
            headers=headers,
            body=bytes(result.body),
            fetched_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        connection = connections[router.db_for_write(FetchCacheEntry)]
        if connection.in_atomic_block or connection.vendor != "postgresql":
            _upsert(entry)
            return
        # A cache entry lost in a crash is only fetched again: in its own transaction, the
        # write need not wait for the WAL flush (about 4 ms -> under 2 ms here).
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            _upsert(entry)


_UPDATED = ["url", "final_url", "status", "headers", "body", "fetched_at", "expires_at"]


def _upsert(entry: FetchCacheEntry) -> None:
    FetchCacheEntry.objects.bulk_create(
        [entry], update_conflicts=True, unique_fields=["key"], update_fields=_UPDATED
    )


def prune_expired(now: datetime | None = None) -> int:
    """Delete the entries that have expired; returns how many."""
    deleted, _ = FetchCacheEntry.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
