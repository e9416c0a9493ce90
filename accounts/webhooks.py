"""Outbound webhooks: endpoints, Standard Webhooks signing, delivery with retries, auto-disable.

Deliveries are created by `accounts.events.emit()` in the transaction of the change and posted
by the worker (`accounts.tasks.deliver_webhook`) through the app's one fetcher
(`enrichment.web.fetch`), so a webhook URL obeys the same public-address-only rules as every
other outbound request.

Signing follows https://www.standardwebhooks.com: headers `webhook-id`, `webhook-timestamp`
and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
base64-decoded part of the endpoint's `whsec_` secret.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import math
import random
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import events
from accounts.models import (
    Event,
    Membership,
    Organization,
    Role,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from enrichment.web import netguard
from enrichment.web.fetch import Fetcher, FetchError

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
# Waits after each failed attempt: the first try plus 8 retries spread over about a day.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Up to this share is added to each wait so that receivers coming back up are not stampeded.
RETRY_JITTER = 0.1
# A receiver's Retry-After (429/503) is honoured within these bounds.
MIN_RETRY_AFTER = timedelta(seconds=5)
MAX_RETRY_AFTER = RETRY_DELAYS[-1]
RESPONSE_READ_BYTES = 64 * 1024
RESPONSE_KEEP_CHARS = 2048
USER_AGENT = "Prospector-Webhooks/1.0"
# Deliveries in flight at once to one receiver host, per worker process.
WEBHOOK_PER_HOST_LIMIT = 8


# --- Signing ----------------------------------------------------------------------------------


def generate_secret() -> str:
    """A new signing secret: "whsec_" + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value for one message: "v1,<base64 HMAC-SHA256>"."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def build_payload(event: Event, organization: Organization) -> str:
    """The JSON body of an event's deliveries; the same bytes on every attempt."""
    created = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    data = {**event.payload, "event_id": event.webhook_id, "organization": organization.slug}
    payload = {"type": event.type, "timestamp": created, "data": data}
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True)


def signed_headers(secret: str, msg_id: str, body: str, now: datetime) -> dict[str, str]:
    timestamp = math.floor(now.timestamp())
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


# --- Validation for forms and serializers -----------------------------------------------------


def check_webhook_url(url: str, *, resolver: netguard.Resolver | None = None) -> str | None:
    """What is wrong with `url` as a webhook target, as a sentence for a form; None if fine.

    http(s) only, and the host must resolve to public addresses (or be on FETCH_ALLOW_HOSTS).
    Delivery checks again at every attempt, because DNS answers can change.
    """
    url = (url or "").strip()
    max_length = WebhookEndpoint._meta.get_field("url").max_length or 500
    if len(url) > max_length:
        return f"The URL must be at most {max_length} characters."
    try:
        netguard.check_url(url, allow_hosts=settings.FETCH_ALLOW_HOSTS, resolver=resolver)
    except netguard.ResolutionError:
        return "The host name of this URL could not be found."
    except netguard.UnsafeURL as exc:
        return str(exc)
    return None


# --- Services -----------------------------------------------------------------------------


def create_endpoint(
    *,
    organization: Organization,
    url: str,
    event_types: Sequence[str],
    description: str,
    actor: User | None,
) -> WebhookEndpoint:
    """Subscribe `url` to `event_types` (["*"]: all) with a new secret. Atomic.

    Expects a URL already accepted by `check_webhook_url` (the form or serializer checks).
    """
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url=url.strip(),
            event_types=list(event_types) or ["*"],
            description=description,
            secret=generate_secret(),
            created_by=actor,
        )
        events.emit(
            organization,
            "webhook.created",
            {**_describe(endpoint), "event_types": endpoint.event_types},
            actor=actor,
            webhooks=False,
        )
    return endpoint


def delete_endpoint(*, endpoint: WebhookEndpoint, actor: User | None) -> None:
    """Delete the endpoint and its delivery log. Atomic."""
    with transaction.atomic():
        events.emit(
            endpoint.organization,
            "webhook.deleted",
            _describe(endpoint),
            actor=actor,
            webhooks=False,
        )
        endpoint.delete()


def enable_endpoint(*, endpoint: WebhookEndpoint, actor: User | None) -> WebhookEndpoint:
    """Turn delivery back on (after auto-disable) with a clean failure count. Atomic."""
    with transaction.atomic():
        endpoint.is_active = True
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.save(
            update_fields=["is_active", "consecutive_failures", "disabled_at", "disabled_reason"]
        )
        events.emit(
            endpoint.organization,
            "webhook.enabled",
            _describe(endpoint),
            actor=actor,
            webhooks=False,
        )
    return endpoint


def send_test(*, endpoint: WebhookEndpoint, actor: User | None) -> WebhookDelivery:
    """Queue a "webhook.test" event to this endpoint only (even a disabled one). Atomic.

    A test is attempted once: it answers "does it work now?", so it is neither retried nor
    counted towards disabling the endpoint.
    """
    from accounts.tasks import deliver_webhook
    from config.tasks import enqueue_on_commit

    organization = endpoint.organization
    with transaction.atomic():
        event = events.emit(
            organization,
            "webhook.test",
            {**_describe(endpoint), "message": "A test event from Prospector."},
            actor=actor,
            webhooks=False,
        )
        delivery = WebhookDelivery.objects.create(
            organization=organization,
            endpoint=endpoint,
            event=event,
            is_test=True,
            next_attempt_at=event.created_at,
        )
        enqueue_on_commit(deliver_webhook, organization.pk, delivery.pk)
    return delivery


def _describe(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {"endpoint_id": endpoint.pk, "url": netguard.redact_url(endpoint.url)}


# --- Delivery ---------------------------------------------------------------------------------


def retry_delay(attempt: int, retry_after: timedelta | None = None) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based) before the next one."""
    if retry_after is not None:
        return max(MIN_RETRY_AFTER, min(retry_after, MAX_RETRY_AFTER))
    base = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
    return base * (1 + random.uniform(0, RETRY_JITTER))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def webhook_fetcher() -> Fetcher:
    """The fetcher deliveries go out through, for the current settings (rebuilt when
    FETCH_ALLOW_HOSTS or WEBHOOK_TIMEOUT_SECONDS change)."""
    return _webhook_fetcher(tuple(settings.FETCH_ALLOW_HOSTS), settings.WEBHOOK_TIMEOUT_SECONDS)


@functools.lru_cache(maxsize=4)
def _webhook_fetcher(allow_hosts: tuple[str, ...], timeout: int) -> Fetcher:
    # No cache, no robots.txt (a receiver asked for these posts), no politeness delay (the
    # receiver's own 429s are honoured by the delivery schedule), the whole exchange bounded
    # by the webhook timeout.
    return Fetcher(
        user_agent=USER_AGENT,
        allow_hosts=allow_hosts,
        cache=None,
        max_bytes=RESPONSE_READ_BYTES,
        timeout=(min(5, timeout), timeout),
        total_timeout=timeout,
        per_host_limit=WEBHOOK_PER_HOST_LIMIT,
        per_host_delay=0,
        max_retries=0,
        respect_robots=False,
    )


def max_attempts(delivery: WebhookDelivery) -> int:
    return 1 if delivery.is_test else MAX_ATTEMPTS


def deliver(delivery: WebhookDelivery) -> bool:
    """Make the delivery's next attempt if it is due and nobody else has claimed it.

    Returns whether a request was sent. The attempt is claimed with a conditional UPDATE, so
    two workers never post the same attempt; the claim also pushes `next_attempt_at` past the
    request timeout, so an attempt lost with its worker is retried by the sweeper. Outcome,
    retry schedule and the endpoint's failure count are recorded on our own rows.
    """
    endpoint = delivery.endpoint
    now = timezone.now()
    if not delivery.is_due(now):
        return False
    if not endpoint.is_active and not delivery.is_test:
        _give_up(delivery, "The endpoint is disabled.")
        return False
    if delivery.attempts >= max_attempts(delivery):
        # The worker of the last attempt died before recording it.
        _give_up(delivery, delivery.error or "The last attempt did not finish.")
        return False

    attempt = delivery.attempts + 1
    lease = timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
        attempts=delivery.attempts,
    ).update(attempts=attempt, last_attempt_at=now, next_attempt_at=now + lease)
    if claimed != 1:
        return False

    body = build_payload(delivery.event, delivery.organization)
    headers = signed_headers(endpoint.secret, delivery.event.webhook_id, body, now)
    status_code: int | None = None
    response_body = ""
    retry_after: timedelta | None = None
    started = timezone.now()
    try:
        # One try, no redirects: the delivery has its own retry schedule, and a receiver
        # that moved must be reconfigured, not followed.
        response = webhook_fetcher().request(
            "POST", endpoint.url, headers=headers, data=body.encode(), retries=0, max_redirects=0
        )
    except FetchError as exc:
        error = str(exc)
        duration_ms = int((timezone.now() - started).total_seconds() * 1000)
    else:
        status_code = response.status
        # PostgreSQL text cannot hold NUL: a receiver answering with one must not stop the
        # outcome from being recorded.
        response_body = response.text[:RESPONSE_KEEP_CHARS].replace("\x00", "\ufffd")
        duration_ms = int(response.elapsed_ms)
        error = "" if response.ok else f"The endpoint answered HTTP {status_code}."
        if status_code in (429, 503):
            retry_after = parse_retry_after(response.headers.get("retry-after"), timezone.now())

    succeeded = status_code is not None and 200 <= status_code < 300
    finished = timezone.now()
    if succeeded:
        status, next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
    elif attempt >= max_attempts(delivery):
        status, next_attempt_at = WebhookDelivery.Status.FAILED, None
    else:
        status = WebhookDelivery.Status.PENDING
        next_attempt_at = finished + retry_delay(attempt, retry_after)
    # Keyed on the attempt we claimed (not on the status): if the endpoint was disabled while
    # this request was in flight, what really happened still gets written down.
    WebhookDelivery.objects.filter(pk=delivery.pk, attempts=attempt).update(
        status=status,
        next_attempt_at=next_attempt_at,
        response_status=status_code,
        response_body=response_body,
        error=error[:500].replace("\x00", "\ufffd"),
        duration_ms=duration_ms,
    )

    if delivery.is_test:
        return True
    if succeeded:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )
    else:
        _count_failure(endpoint, error)
    return True


def _give_up(delivery: WebhookDelivery, error: str) -> None:
    WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None, error=error[:500])


def _count_failure(endpoint: WebhookEndpoint, error: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    failures = (
        WebhookEndpoint.objects.filter(pk=endpoint.pk)
        .values_list("consecutive_failures", flat=True)
        .first()
    )
    if failures is not None and failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
        disable_endpoint(endpoint=endpoint, failures=failures, last_error=error)


def disable_endpoint(*, endpoint: WebhookEndpoint, failures: int, last_error: str) -> bool:
    """Stop delivering to a failing endpoint, record why, tell its owners and admins.

    Atomic; only the caller that flips `is_active` does the rest, so concurrent failures
    disable and notify once. Pending deliveries are marked failed. Returns whether it acted.
    """
    now = timezone.now()
    reason = f"Disabled after {failures} consecutive failed deliveries. Last error: {last_error}"
    reason = reason[: WebhookEndpoint._meta.get_field("disabled_reason").max_length or 300]
    organization = endpoint.organization
    with transaction.atomic():
        flipped = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=now, disabled_reason=reason
        )
        if not flipped:
            return False
        WebhookDelivery.objects.for_org(organization).filter(
            endpoint=endpoint, status=WebhookDelivery.Status.PENDING, is_test=False
        ).update(
            status=WebhookDelivery.Status.FAILED,
            next_attempt_at=None,
            error="Not delivered: the endpoint was disabled.",
        )
        events.emit(
            organization,
            "webhook.disabled",
            {**_describe(endpoint), "reason": reason, "consecutive_failures": failures},
            actor_label="system",
        )
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason
    try:
        _notify_disabled(endpoint, reason)
    except Exception:
        # The endpoint is disabled and the event recorded; a mail outage must not undo that.
        logger.exception("Could not send the webhook-disabled notice for endpoint %s", endpoint.pk)
    return True


def _notify_disabled(endpoint: WebhookEndpoint, reason: str) -> None:
    organization = endpoint.organization
    recipients = sorted(
        Membership.objects.for_org(organization)
        .filter(role__in=[Role.OWNER, Role.ADMIN], user__is_active=True)
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return
    url = netguard.redact_url(endpoint.url)
    body = (
        f"Prospector stopped delivering webhooks of {organization.name} to {url}.\n\n"
        f"{reason}\n\n"
        "Events are still recorded in the audit log, but they are not sent to this endpoint "
        'while it is disabled. Fix the receiver, use "Send test" on the endpoint\'s page in '
        "Settings > Webhooks to check it, then enable it again.\n"
    )
    EmailMessage(
        subject=f"[Prospector] Webhook endpoint disabled: {url}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    ).send()
