"""Background work of the enrichment app (django-q2)."""

from __future__ import annotations

from enrichment.cache import prune_expired


def prune_fetch_cache() -> int:
    """Sweeper (daily): delete expired fetch cache entries. Not tenant data (public pages
    shared by the install), so not scoped. Idempotent. Returns how many rows went."""
    return prune_expired()
