"""The fetcher's response cache in the database, shared by every web and worker process."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from enrichment.models import FetchCacheEntry
from enrichment.web.fetch import FetchResult, cookie_names

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
logger = logging.getLogger("prospector.fetch_cache")


class DatabaseCache:
    """`ResponseCache` over `FetchCacheEntry`: expired rows are ignored (and pruned daily by
    `enrichment.tasks.prune_fetch_cache`), bodies larger than `max_bytes` are never stored,
    and `set` replaces the row of the same key in one statement. A cache is never a reason
    for a fetch to fail: a database error (SQLite busy with another writer, say) is logged
    and the page fetched as if it had not been cached."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes

    def get(self, key: str) -> FetchResult | None:
        query = FetchCacheEntry.objects.filter(key=key, expires_at__gt=timezone.now())
        try:
            with _savepoint_if_in_transaction():
                rows = list(query.values_list("url", "final_url", "status", "headers", "body")[:1])
        except DatabaseError as exc:
            logger.warning("fetch cache not read: %s", exc)
            return None
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
        try:
            if connection.in_atomic_block or connection.vendor != "postgresql":
                with transaction.atomic(using=connection.alias):  # a savepoint in a transaction
                    _upsert(entry)
                return
            # A cache entry lost in a crash is only fetched again: in its own transaction,
            # the write need not wait for the WAL flush (about 4 ms -> under 2 ms here).
            with transaction.atomic(using=connection.alias):
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                _upsert(entry)
        except DatabaseError as exc:
            logger.warning("fetch cache not written: %s", exc)


class MemoryCache:
    """`ResponseCache` in this process's memory, for SQLite (development): SQLite has one
    writer at a time, and an enrichment job's threads writing the cache would make the job's
    own writes wait or fail. Bounded: the oldest entries go first past `max_entries`."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES, max_entries: int = 2000) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._entries: dict[str, tuple[float, FetchResult]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> FetchResult | None:
        with self._lock:
            found = self._entries.get(key)
        if found is None or found[0] <= time.monotonic():
            return None
        return replace(found[1], from_cache=True)

    def set(self, key: str, result: FetchResult, ttl: int) -> None:
        if ttl <= 0 or len(result.body) > self.max_bytes:
            return
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (time.monotonic() + ttl, result)


def for_database(alias: str = "default", *, max_bytes: int = DEFAULT_MAX_BYTES):
    """The response cache suited to the database: shared rows on PostgreSQL (every process
    sees them), process memory on SQLite."""
    if connections[alias].vendor == "postgresql":
        return DatabaseCache(max_bytes=max_bytes)
    return MemoryCache(max_bytes=max_bytes)


def _savepoint_if_in_transaction():
    """A savepoint when inside a transaction (a failed read must not break it), else nothing."""
    connection = connections[router.db_for_read(FetchCacheEntry)]
    if connection.in_atomic_block:
        return transaction.atomic(using=connection.alias)
    return contextlib.nullcontext()


_UPDATED = ["url", "final_url", "status", "headers", "body", "fetched_at", "expires_at"]


def _upsert(entry: FetchCacheEntry) -> None:
    FetchCacheEntry.objects.bulk_create(
        [entry], update_conflicts=True, unique_fields=["key"], update_fields=_UPDATED
    )


def prune_expired(now: datetime | None = None) -> int:
    """Delete the entries that have expired; returns how many."""
    deleted, _ = FetchCacheEntry.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
