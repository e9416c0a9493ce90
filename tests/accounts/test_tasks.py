"""Accounts tasks and sweepers, called directly as the worker would, and setup_schedules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils.module_loading import import_string
from django_q.models import Schedule

from accounts import tasks, webhooks
from accounts.events import emit
from accounts.management.commands.setup_schedules import collect_schedules
from accounts.models import WebhookDelivery, WebhookEndpoint
from tests.enrichment.localserver import LocalServer

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def receiver(settings) -> Iterator[LocalServer]:
    with LocalServer() as server:
        settings.FETCH_ALLOW_HOSTS = [server.netloc]
        yield server


@pytest.fixture
def endpoint(org, owner, receiver) -> WebhookEndpoint:
    return webhooks.create_endpoint(
        organization=org, url=receiver.url("/hooks"), event_types=["*"], description="", actor=owner
    )


def pending_delivery(org, endpoint) -> WebhookDelivery:
    """A delivery as emit() leaves it: pending, due now, its task not run (no commit here)."""
    with transaction.atomic():
        event = emit(org, "lead.created", {"lead_id": 1})
    return WebhookDelivery.objects.for_org(org).get(event=event, endpoint=endpoint)


# --- deliver_webhook ----------------------------------------------------------------------------


def test_deliver_webhook_posts_a_due_delivery(org, endpoint, receiver):
    delivery = pending_delivery(org, endpoint)
    tasks.deliver_webhook(org.pk, delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert len(receiver.requests) == 1


def test_deliver_webhook_is_idempotent(org, endpoint, receiver):
    delivery = pending_delivery(org, endpoint)
    tasks.deliver_webhook(org.pk, delivery.pk)
    tasks.deliver_webhook(org.pk, delivery.pk)
    assert len(receiver.requests) == 1


def test_deliver_webhook_is_scoped_to_the_organization(org, other_org, endpoint, receiver):
    delivery = pending_delivery(org, endpoint)
    tasks.deliver_webhook(other_org.pk, delivery.pk)
    tasks.deliver_webhook(org.pk, delivery.pk + 1000)  # gone or never existed
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_deliver_webhook_leaves_a_delivery_that_is_not_due_yet(org, endpoint, receiver):
    delivery = pending_delivery(org, endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.next_attempt_at + timedelta(minutes=5)
    )
    tasks.deliver_webhook(org.pk, delivery.pk)
    assert receiver.requests == []


# --- retry_due_webhook_deliveries -------------------------------------------------------------


def test_the_sweeper_queues_due_deliveries_only(
    org, other_org, outsider, endpoint, receiver, django_capture_on_commit_callbacks
):
    foreign = webhooks.create_endpoint(
        organization=other_org,
        url=receiver.url("/foreign"),
        event_types=["*"],
        description="",
        actor=outsider,
    )
    with time_machine.travel(START, tick=False) as traveller:
        due = pending_delivery(org, endpoint)
        foreign_due = pending_delivery(other_org, foreign)
        later = pending_delivery(org, endpoint)
        WebhookDelivery.objects.filter(pk=later.pk).update(
            next_attempt_at=START + timedelta(hours=1)
        )
        done = pending_delivery(org, endpoint)
        WebhookDelivery.objects.filter(pk=done.pk).update(status=WebhookDelivery.Status.SUCCEEDED)

        traveller.move_to(START + timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert tasks.retry_due_webhook_deliveries() == 2
        assert len(callbacks) == 2

    assert sorted(r.path for r in receiver.requests) == ["/foreign", "/hooks"]
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses[due.pk] == statuses[foreign_due.pk] == "succeeded"
    assert statuses[later.pk] == "pending"


def test_the_sweeper_takes_a_bounded_batch_oldest_first(
    org, endpoint, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks, "SWEEP_BATCH_SIZE", 2)
    with time_machine.travel(START, tick=False) as traveller:
        deliveries = []
        for minute in (3, 1, 2):
            traveller.move_to(START + timedelta(minutes=minute))
            deliveries.append(pending_delivery(org, endpoint))
        traveller.move_to(START + timedelta(minutes=10))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert tasks.retry_due_webhook_deliveries() == 2
        assert len(callbacks) == 2
        for expected in (2, 1, 0):  # the worker drains the backlog batch by batch
            with django_capture_on_commit_callbacks(execute=True):
                assert tasks.retry_due_webhook_deliveries() == expected
    statuses = [WebhookDelivery.objects.get(pk=d.pk).status for d in deliveries]
    assert statuses == ["succeeded"] * 3
    # The oldest two went first.
    first_two = {r.headers["webhook-id"] for r in receiver.requests[:2]}
    assert first_two == {f"evt_{deliveries[1].event_id}", f"evt_{deliveries[2].event_id}"}


# --- prune_webhook_deliveries -------------------------------------------------------------------


def test_pruning_deletes_finished_deliveries_older_than_30_days(
    org, endpoint, receiver, monkeypatch
):
    monkeypatch.setattr(tasks, "PRUNE_CHUNK_SIZE", 2)  # exercise the chunking too
    with time_machine.travel(START - timedelta(days=31), tick=False):
        old = [pending_delivery(org, endpoint) for _ in range(4)]
    recent = pending_delivery(org, endpoint)
    WebhookDelivery.objects.filter(pk__in=[old[0].pk, old[1].pk, old[2].pk, recent.pk]).update(
        status=WebhookDelivery.Status.SUCCEEDED
    )
    WebhookDelivery.objects.filter(pk=old[2].pk).update(status=WebhookDelivery.Status.FAILED)
    # old[3] is still pending (retrying): it stays.
    with time_machine.travel(START, tick=False):
        assert tasks.prune_webhook_deliveries() == 3
    remaining = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert remaining == {old[3].pk, recent.pk}


# --- setup_schedules ----------------------------------------------------------------------------


def run_setup_schedules() -> str:
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_setup_schedules_registers_the_sweepers():
    with time_machine.travel(START, tick=False):
        output = run_setup_schedules()
    assert f"{len(collect_schedules())} new" in output
    retry = Schedule.objects.get(name="accounts.retry_due_webhook_deliveries")
    assert (retry.func, retry.schedule_type, retry.minutes, retry.repeats) == (
        "accounts.tasks.retry_due_webhook_deliveries",
        Schedule.MINUTES,
        1,
        -1,
    )
    prune = Schedule.objects.get(name="accounts.prune_webhook_deliveries")
    assert (prune.func, prune.schedule_type) == (
        "accounts.tasks.prune_webhook_deliveries",
        Schedule.DAILY,
    )
    assert prune.next_run == datetime(2026, 3, 3, 3, 30, tzinfo=UTC)
    for schedule in (retry, prune):
        assert callable(import_string(schedule.func))


@pytest.mark.django_db
def test_setup_schedules_is_idempotent_and_repairs_drift():
    run_setup_schedules()
    count = Schedule.objects.count()
    retry = Schedule.objects.get(name="accounts.retry_due_webhook_deliveries")
    Schedule.objects.filter(pk=retry.pk).update(minutes=60, func="accounts.tasks.gone")
    Schedule.objects.create(
        name=retry.name, func="accounts.tasks.gone", schedule_type=Schedule.HOURLY
    )
    next_run = Schedule.objects.get(name="accounts.prune_webhook_deliveries").next_run

    output = run_setup_schedules()
    assert "0 new" in output
    assert Schedule.objects.count() == count
    retry = Schedule.objects.get(name="accounts.retry_due_webhook_deliveries")
    assert (retry.func, retry.minutes) == ("accounts.tasks.retry_due_webhook_deliveries", 1)
    assert Schedule.objects.get(name="accounts.prune_webhook_deliveries").next_run == next_run


def test_schedules_are_collected_from_every_app():
    names = [periodic.name for periodic in collect_schedules()]
    assert "accounts.retry_due_webhook_deliveries" in names
    assert len(names) == len(set(names))
