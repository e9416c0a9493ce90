"""The organization's event log: audit trail and outbox for outbound webhooks.

`emit()` must be called inside the transaction that makes the change, so the event exists
exactly when the change does; webhook deliveries are created in the same transaction and
handed to the worker only after commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

if TYPE_CHECKING:
    from accounts.models import Event, Organization, User

# Event types that integrators may subscribe to; later apps extend this list.
WEBHOOK_EVENT_TYPES: dict[str, str] = {
    "lead.created": "A lead was created",
    "lead.updated": "A lead was changed",
    "lead.status_changed": "A lead moved to another pipeline status",
    "enrichment.completed": "An enrichment job finished",
    "campaign.message.sent": "A campaign email was sent",
    "campaign.reply.received": "A lead replied to a campaign email",
    "member.joined": "Someone joined the organization",
    "member.removed": "A member was removed",
    "api_key.created": "An API key was created",
    "api_key.revoked": "An API key was revoked",
    "webhook.disabled": "A webhook endpoint was disabled after repeated failures",
}


def register_event_type(name: str, description: str) -> None:
    """Let a later app add a subscribable event type (call it from AppConfig.ready)."""
    WEBHOOK_EVENT_TYPES.setdefault(name, description)


def _json_safe(payload: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def emit(
    org: Organization,
    type: str,
    payload: dict[str, Any] | None = None,
    *,
    actor: User | None = None,
    actor_label: str = "",
    webhooks: bool = True,
) -> Event:
    """Record an event and queue its webhook deliveries (after commit). Atomic with the caller.

    `webhooks=False` records it in the audit log only (the webhook machinery's own events,
    such as a test delivery, which goes to one endpoint rather than to every subscriber).
    """
    from accounts.models import Event, WebhookDelivery, WebhookEndpoint

    with transaction.atomic():
        event = Event.objects.create(
            organization=org,
            type=type,
            payload=_json_safe(payload or {}),
            actor=actor,
            actor_label=actor_label or (actor.email if actor else "system"),
        )
        endpoints = (
            [
                endpoint
                for endpoint in WebhookEndpoint.objects.for_org(org).active()
                if endpoint.wants(type)
            ]
            if webhooks
            else []
        )
        if endpoints:
            deliveries = WebhookDelivery.objects.bulk_create(
                [
                    WebhookDelivery(
                        organization=org,
                        endpoint=endpoint,
                        event=event,
                        next_attempt_at=event.created_at,
                    )
                    for endpoint in endpoints
                ]
            )
            from accounts.tasks import deliver_webhook
            from config.tasks import enqueue_on_commit

            for delivery in deliveries:
                if delivery.pk is None:  # backends without RETURNING ids
                    continue
                enqueue_on_commit(deliver_webhook, org.pk, delivery.pk)
    return event
