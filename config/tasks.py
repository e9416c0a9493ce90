"""The one way to enqueue background work: after the surrounding transaction commits; and
whether anything is there to run it."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import transaction
from django_q.tasks import async_task


def enqueue_on_commit(func: Callable, *args, **kwargs) -> None:
    """Queue `func(*args, **kwargs)` on django-q2 once the current transaction commits.

    Arguments must be ids and JSON-friendly values, never model instances. Outside a
    transaction the task is queued at once. A rollback drops it, so a task never sees
    rows that do not exist.
    """
    transaction.on_commit(lambda: async_task(func, *args, **kwargs))


def queue_status() -> dict:
    """Whether a django-q2 cluster reported its status within the last minute (`ok`), with
    how many did, or the error; always ok when tasks run synchronously. /readyz answers it,
    and pages of queued work say so when nothing would pick it up."""
    from django.conf import settings
    from django_q.status import Stat

    if settings.Q_CLUSTER.get("sync"):
        return {"ok": True, "mode": "sync", "clusters": 0}
    try:
        stats = Stat.get_all()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    now = time.time()
    recent = [stat for stat in stats if stat.timestamp and now - stat.timestamp.timestamp() < 60]
    if not recent:
        return {"ok": False, "clusters": 0, "error": "No task worker seen in the last minute."}
    return {"ok": True, "clusters": len(recent)}
