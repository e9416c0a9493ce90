"""Periodic work, declared per app and registered by `manage.py setup_schedules`.

Every app may have a `schedules.py` with a `SCHEDULES` list of `Periodic` entries; the
command collects them from all installed apps and writes one django-q2 `Schedule` row per
entry, matched by name, so re-running it updates rather than duplicates. Entries are
sweepers (select due rows, queue one task per row), never one schedule per object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django_q.models import Schedule

from accounts import tasks


@dataclass(frozen=True)
class Periodic:
    name: str  # unique across apps; the key the command matches rows by
    func: Callable[[], object]
    schedule_type: str  # Schedule.MINUTES, Schedule.HOURLY, Schedule.DAILY, Schedule.CRON...
    minutes: int | None = None  # for Schedule.MINUTES
    cron: str | None = None  # for Schedule.CRON
    at: time | None = None  # UTC time of day of the first run (daily and slower schedules)

    @property
    def func_path(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"

    def first_run(self, now: datetime) -> datetime:
        if self.at is None:
            return now
        candidate = datetime.combine(now.astimezone(UTC).date(), self.at, tzinfo=UTC)
        return candidate if candidate > now else candidate + timedelta(days=1)


SCHEDULES: list[Periodic] = [
    Periodic(
        name="accounts.retry_due_webhook_deliveries",
        func=tasks.retry_due_webhook_deliveries,
        schedule_type=Schedule.MINUTES,
        minutes=1,
    ),
    Periodic(
        name="accounts.prune_webhook_deliveries",
        func=tasks.prune_webhook_deliveries,
        schedule_type=Schedule.DAILY,
        at=time(3, 30),
    ),
]
