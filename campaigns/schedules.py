"""Periodic work of the campaigns app, registered by `manage.py setup_schedules`."""

from __future__ import annotations

from django_q.models import Schedule

from accounts.schedules import Periodic
from campaigns import tasks

SCHEDULES: list[Periodic] = [
    Periodic(
        name="campaigns.dispatch_campaigns",
        func=tasks.dispatch_campaigns,
        schedule_type=Schedule.MINUTES,
        minutes=1,
    ),
]
