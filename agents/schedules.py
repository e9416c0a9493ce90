"""Periodic work of the agents app, registered by `manage.py setup_schedules`."""

from __future__ import annotations

from django_q.models import Schedule

from accounts.schedules import Periodic
from agents import tasks

SCHEDULES: list[Periodic] = [
    Periodic(
        name="agents.fail_stale_runs",
        func=tasks.fail_stale_runs,
        schedule_type=Schedule.MINUTES,
        minutes=5,
    ),
]
