"""Register every app's periodic sweepers as django-q2 schedules. Safe to re-run."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule
from django_q.models import Schedule

from accounts.schedules import Periodic


def collect_schedules() -> list[Periodic]:
    """The `SCHEDULES` of every installed app that has a `schedules` module, in app order."""
    found: list[Periodic] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "schedules"):
            module = import_module(f"{config.name}.schedules")
            found.extend(getattr(module, "SCHEDULES", []))
    names = [periodic.name for periodic in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CommandError(f"Schedule names declared twice: {', '.join(duplicates)}.")
    return found


def register(periodic: Periodic) -> bool:
    """Create or update the Schedule row named `periodic.name`; True when it was created.

    An existing row keeps its `next_run`, so re-running the command does not shift the timing.
    """
    fields = {
        "func": periodic.func_path,
        "schedule_type": periodic.schedule_type,
        "minutes": periodic.minutes,
        "cron": periodic.cron,
        "repeats": -1,
    }
    with transaction.atomic():
        rows = list(Schedule.objects.select_for_update().filter(name=periodic.name).order_by("pk"))
        if not rows:
            Schedule.objects.create(
                name=periodic.name, next_run=periodic.first_run(timezone.now()), **fields
            )
            return True
        keep, *extra = rows
        Schedule.objects.filter(pk__in=[row.pk for row in extra]).delete()
        Schedule.objects.filter(pk=keep.pk).update(**fields)
    return False


class Command(BaseCommand):
    help = "Register the periodic sweepers declared in each app's schedules.py (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        created = 0
        schedules = collect_schedules()
        for periodic in schedules:
            was_created = register(periodic)
            created += was_created
            verb = "created" if was_created else "up to date"
            self.stdout.write(f"{periodic.name}: {verb} ({periodic.func_path})")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(schedules)} schedules registered ({created} new, "
                f"{len(schedules) - created} updated)."
            )
        )
