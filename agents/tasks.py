"""Background work of the agents app (django-q2)."""

from __future__ import annotations


def run_agent(run_id: int) -> str:
    """Execute a queued agent run (agents.runner). Idempotent: a run already claimed by
    another worker, finished or cancelled is left alone."""
    from agents.runner import execute

    return execute(run_id)
