"""The one way to enqueue background work: after the surrounding transaction commits."""

from __future__ import annotations

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
