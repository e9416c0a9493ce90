"""Periodic work of the enrichment app, registered by `manage.py setup_schedules`."""

from __future__ import annotations

from datetime import time

from django_q.models import Schedule

from accounts.schedules import Periodic
from enrichment import tasks

SCHEDULES: list[Periodic] = [
    Periodic(
        name="enrichment.prune_fetch_cache",
        func=tasks.prune_fetch_cache,
        schedule_type=Schedule.DAILY,
        at=time(4, 0),
    ),
]
