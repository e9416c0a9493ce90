"""Background work of the agents app (django-q2)."""

from __future__ import annotations


def run_agent(run_id: int) -> str:
    """Execute a queued agent run (agents.runner). Idempotent: a run already claimed by
    another worker, finished or cancelled is left alone."""
    from agents.runner import execute

    return execute(run_id)


def fail_stale_runs() -> int:
    """Sweeper (every 5 minutes): a run still "running" well past the time limit lost its
    worker (killed or restarted); it is marked failed, saying so, so that its lead page
    stops waiting. Returns how many."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from agents.models import AgentRun, RunStatus

    cutoff = timezone.now() - timedelta(seconds=settings.AGENT_TIME_LIMIT_SECONDS + 300)
    return AgentRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=cutoff).update(
        status=RunStatus.FAILED,
        success=False,
        completed_at=timezone.now(),
        error="The worker running this stopped before it finished; start the agent again.",
    )
