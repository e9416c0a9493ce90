"""Background work of the accounts app (django-q2): webhook delivery and its sweepers.

Tasks take ids, re-fetch scoped by organization, and are idempotent: running one twice, or
for a row that is no longer due, does nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts import webhooks
from accounts.models import WebhookDelivery
from config.tasks import enqueue_on_commit

SWEEP_BATCH_SIZE = 500
PRUNE_AFTER_DAYS = 30
PRUNE_CHUNK_SIZE = 5000


def deliver_webhook(organization_id: int, delivery_id: int) -> None:
    """Make the next attempt of one delivery, if it is still pending and due.

    Scoped: the delivery is looked up within its organization. Idempotent: a delivery that
    already succeeded, failed, is waiting for its next attempt or is claimed by another worker
    is left alone.
    """
    delivery = (
        WebhookDelivery.objects.for_org(organization_id)
        .select_related("endpoint", "event", "organization")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or not delivery.is_due():
        return
    webhooks.deliver(delivery)


def retry_due_webhook_deliveries() -> int:
    """Sweeper (every minute): queue one `deliver_webhook` per due delivery, oldest first.

    Crosses organizations by design, like every sweeper; each task re-fetches scoped. At most
    SWEEP_BATCH_SIZE rows per run, so a backlog drains over a few runs instead of one huge one.
    A delivery queued twice (here and by `emit`) is still posted once: the task claims it.
    Returns how many were queued.
    """
    due = list(
        WebhookDelivery.objects.due()
        .order_by("next_attempt_at", "pk")
        .values_list("organization_id", "pk")[:SWEEP_BATCH_SIZE]
    )
    for organization_id, delivery_id in due:
        enqueue_on_commit(deliver_webhook, organization_id, delivery_id)
    return len(due)


def prune_webhook_deliveries() -> int:
    """Sweeper (daily): delete finished deliveries older than PRUNE_AFTER_DAYS days.

    Deletes in chunks so no single statement holds locks for long. Returns how many it deleted.
    """
    cutoff = timezone.now() - timedelta(days=PRUNE_AFTER_DAYS)
    deleted = 0
    while True:
        ids = list(
            WebhookDelivery.objects.finished_before(cutoff).values_list("pk", flat=True)[
                :PRUNE_CHUNK_SIZE
            ]
        )
        if not ids:
            return deleted
        count, _by_model = WebhookDelivery.objects.filter(pk__in=ids).delete()
        deleted += count
