"""Background work of the enrichment app (django-q2)."""

from __future__ import annotations

from enrichment.cache import prune_expired


def prune_fetch_cache() -> int:
    """Sweeper (daily): delete expired fetch cache entries. Not tenant data (public pages
    shared by the install), so not scoped. Idempotent. Returns how many rows went."""
    return prune_expired()


def run_enrichment_job(organization_id: int, job_id: int) -> str:
    """Research the job's pending companies, many at once (see enrichment.jobs.run_job).
    Idempotent: finished results are kept, a half-done job carries on; a long job hands
    its rest to a fresh task before the worker's timeout."""
    from enrichment.jobs import run_job

    return run_job(organization_id, job_id)
