"""Outbound webhooks against a real receiver on 127.0.0.1, verified with the reference library."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts import webhooks
from accounts.events import emit
from accounts.models import Event, WebhookDelivery, WebhookEndpoint
from accounts.tasks import deliver_webhook, retry_due_webhook_deliveries
from tests.enrichment.localserver import LocalServer, Reply

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def receiver(settings) -> Iterator[LocalServer]:
    with LocalServer() as server:
        settings.FETCH_ALLOW_HOSTS = [server.netloc]
        yield server


@pytest.fixture
def endpoint(org, owner, receiver) -> WebhookEndpoint:
    return webhooks.create_endpoint(
        organization=org,
        url=receiver.url("/hooks"),
        event_types=["lead.created", "lead.status_changed"],
        description="CRM sync",
        actor=owner,
    )


def emit_committed(capture, org, type: str = "lead.created", payload: dict | None = None) -> Event:
    """emit() in a transaction that commits, running the queued tasks as the worker would."""
    with capture(execute=True), transaction.atomic():
        return emit(org, type, payload or {"lead_id": 1})


def only_delivery(endpoint: WebhookEndpoint) -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.for_org(endpoint.organization_id).filter(
        endpoint=endpoint, is_test=False
    )
    return delivery


# --- Signing ----------------------------------------------------------------------------------


def test_secrets_have_the_standard_form():
    secret = webhooks.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert webhooks.generate_secret() != secret


def test_signatures_match_the_reference_implementation():
    secret = webhooks.generate_secret()
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = '{"type":"lead.created","data":{"name":"Zoë"}}'
    reference = Webhook(secret).sign("evt_42", when, body)
    assert webhooks.sign(secret, "evt_42", int(when.timestamp()), body) == reference


# --- Delivery after commit ----------------------------------------------------------------------


def test_an_event_is_delivered_signed_after_the_transaction_commits(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            event = emit(org, "lead.created", {"lead_id": 7, "name": "Ada"})
        assert receiver.requests == []  # nothing leaves before the commit
    assert len(callbacks) == 1

    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == f"evt_{event.pk}"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload == {
        "type": "lead.created",
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {
            "lead_id": 7,
            "name": "Ada",
            "event_id": f"evt_{event.pk}",
            "organization": org.slug,
        },
    }

    delivery = only_delivery(endpoint)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert (delivery.attempts, delivery.response_status, delivery.response_body) == (1, 200, "ok")
    assert delivery.error == "" and delivery.next_attempt_at is None
    assert delivery.duration_ms is not None and delivery.last_attempt_at is not None


def test_a_signature_does_not_verify_with_another_body_or_secret(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    emit_committed(django_capture_on_commit_callbacks, org)
    (request,) = receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body.replace(b"lead", b"lexd"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.generate_secret()).verify(request.body, request.headers)


def test_a_rolled_back_change_delivers_nothing(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        emit(org, "lead.created", {"lead_id": 1})
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert receiver.requests == []
    assert not Event.objects.for_org(org).filter(type="lead.created").exists()
    assert not WebhookDelivery.objects.for_org(org).exists()


def test_only_subscribed_event_types_are_delivered(
    org, owner, endpoint, receiver, django_capture_on_commit_callbacks
):
    everything = webhooks.create_endpoint(
        organization=org, url=receiver.url("/all"), event_types=["*"], description="", actor=owner
    )
    emit_committed(django_capture_on_commit_callbacks, org, "member.joined", {"user": "x"})
    assert [r.path for r in receiver.requests] == ["/all"]
    assert not WebhookDelivery.objects.for_org(org).filter(endpoint=endpoint).exists()
    assert WebhookDelivery.objects.for_org(org).get(endpoint=everything).status == "succeeded"


def test_an_inactive_endpoint_gets_nothing(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    emit_committed(django_capture_on_commit_callbacks, org)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.for_org(org).exists()


# --- Failures and retries -------------------------------------------------------------------


def test_a_failed_attempt_is_retried_later_and_can_then_succeed(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.queue(Reply(500, b"database down"), Reply(204, b""))
    with time_machine.travel(START, tick=False) as traveller:
        emit_committed(django_capture_on_commit_callbacks, org)
        delivery = only_delivery(endpoint)
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert (delivery.attempts, delivery.response_status) == (1, 500)
        assert delivery.response_body == "database down"
        assert delivery.error == "The endpoint answered HTTP 500."
        assert (
            START + timedelta(seconds=30)
            <= delivery.next_attempt_at
            <= START + timedelta(seconds=33)
        )
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 1

        traveller.move_to(START + timedelta(seconds=20))
        with django_capture_on_commit_callbacks(execute=True):
            assert retry_due_webhook_deliveries() == 0
        assert len(receiver.requests) == 1

        traveller.move_to(START + timedelta(seconds=40))
        with django_capture_on_commit_callbacks(execute=True):
            assert retry_due_webhook_deliveries() == 1
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.SUCCEEDED
        assert (delivery.attempts, delivery.response_status, delivery.error) == (2, 204, "")
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0

        first, second = receiver.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert (
            int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 40
        )
        assert first.body == second.body
        Webhook(endpoint.secret).verify(second.body, second.headers)


def test_retries_back_off_over_about_a_day_then_give_up(org, endpoint, receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 100
    receiver.default = Reply(502, b"bad gateway")
    with time_machine.travel(START, tick=False) as traveller:
        with transaction.atomic():
            emit(org, "lead.created", {"lead_id": 1})  # the on-commit task never runs here
        delivery = only_delivery(endpoint)
        gaps: list[timedelta] = []
        for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
            deliver_webhook(org.pk, delivery.pk)
            delivery.refresh_from_db()
            assert delivery.attempts == attempt
            if delivery.next_attempt_at is None:
                break
            gaps.append(delivery.next_attempt_at - delivery.last_attempt_at)
            # Not due a second early: the task leaves it alone.
            traveller.move_to(delivery.next_attempt_at - timedelta(seconds=1))
            deliver_webhook(org.pk, delivery.pk)
            assert len(receiver.requests) == attempt
            traveller.move_to(delivery.next_attempt_at)

    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == webhooks.MAX_ATTEMPTS == 9
    assert len(receiver.requests) == 9
    for gap, base in zip(gaps, webhooks.RETRY_DELAYS, strict=True):
        assert base <= gap <= base * 1.1
    total = sum(gaps, timedelta())
    assert timedelta(hours=22) <= total <= timedelta(hours=26)


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", timedelta(seconds=120)),
        (503, "1", timedelta(seconds=5)),  # not sooner than the floor
        (429, "999999", timedelta(hours=12)),  # not later than the longest backoff
        (503, "Mon, 02 Mar 2026 10:00:00 GMT", timedelta(hours=1)),
    ],
)
def test_retry_after_is_honoured_on_429_and_503(
    org, endpoint, receiver, status, retry_after, expected
):
    receiver.queue(Reply(status, b"slow down", {"Retry-After": retry_after}))
    with time_machine.travel(START, tick=False):
        with transaction.atomic():
            emit(org, "lead.created", {"lead_id": 1})
        delivery = only_delivery(endpoint)
        assert webhooks.deliver(delivery)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == START + expected


def test_retry_after_is_ignored_on_other_statuses(org, endpoint, receiver):
    receiver.queue(Reply(500, b"", {"Retry-After": "3600"}))
    with time_machine.travel(START, tick=False):
        with transaction.atomic():
            emit(org, "lead.created", {"lead_id": 1})
        webhooks.deliver(only_delivery(endpoint))
    assert only_delivery(endpoint).next_attempt_at <= START + timedelta(seconds=33)


def test_only_the_start_of_a_large_response_is_kept(org, endpoint, receiver):
    receiver.queue(Reply(500, b"e" * 200_000))
    with transaction.atomic():
        emit(org, "lead.created", {"lead_id": 1})
    webhooks.deliver(only_delivery(endpoint))
    assert only_delivery(endpoint).response_body == "e" * 2048


def test_a_response_with_nul_characters_is_still_recorded(org, endpoint, receiver):
    # PostgreSQL text refuses NUL: the outcome must be written down all the same.
    receiver.queue(Reply(500, b"bad\x00body", {"Content-Type": "text/plain"}))
    with transaction.atomic():
        emit(org, "lead.created", {"lead_id": 1})
    assert webhooks.deliver(only_delivery(endpoint))
    delivery = only_delivery(endpoint)
    assert delivery.response_status == 500
    assert delivery.response_body == "bad\ufffdbody"
    assert delivery.attempts == 1


def test_redirects_are_not_followed(org, endpoint, receiver):
    receiver.queue(Reply(302, b"", {"Location": receiver.url("/elsewhere")}))
    with transaction.atomic():
        emit(org, "lead.created", {"lead_id": 1})
    webhooks.deliver(only_delivery(endpoint))
    delivery = only_delivery(endpoint)
    assert (delivery.status, delivery.response_status) == ("pending", 302)
    assert [r.path for r in receiver.requests] == ["/hooks"]


def test_a_delivery_is_one_post_through_the_fetcher_without_robots_or_retries(
    org, endpoint, receiver
):
    receiver.default = Reply(503, b"busy")
    with transaction.atomic():
        emit(org, "lead.created", {"lead_id": 1})
    webhooks.deliver(only_delivery(endpoint))
    (request,) = receiver.requests  # no robots.txt, and the 503 is left to the schedule
    assert (request.method, request.path) == ("POST", "/hooks")
    assert request.headers["user-agent"] == webhooks.USER_AGENT
    fetcher = webhooks.webhook_fetcher()
    assert fetcher.cache is None and fetcher.respect_robots is False
    assert fetcher.max_bytes == webhooks.RESPONSE_READ_BYTES
    assert only_delivery(endpoint).response_status == 503


def test_a_slow_receiver_times_out_and_is_retried(org, endpoint, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.queue(Reply(200, delay=3))
    with transaction.atomic():
        emit(org, "lead.created", {"lead_id": 1})
    webhooks.deliver(only_delivery(endpoint))
    delivery = only_delivery(endpoint)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.response_status is None
    assert "did not answer within 1s" in delivery.error


def test_an_attempt_is_posted_once_even_when_two_workers_hold_the_delivery(org, endpoint, receiver):
    with transaction.atomic():
        emit(org, "lead.created", {"lead_id": 1})
    first_worker = only_delivery(endpoint)
    second_worker = only_delivery(endpoint)
    assert webhooks.deliver(first_worker) is True
    assert webhooks.deliver(second_worker) is False  # its view of `attempts` is stale
    assert len(receiver.requests) == 1
    deliver_webhook(org.pk, first_worker.pk)  # done already: nothing more
    assert len(receiver.requests) == 1


def test_an_attempt_lost_with_its_worker_is_retried_after_the_lease(
    org, endpoint, receiver, settings
):
    with time_machine.travel(START, tick=False) as traveller:
        with transaction.atomic():
            emit(org, "lead.created", {"lead_id": 1})
        delivery = only_delivery(endpoint)
        # A worker claimed the first attempt and died before recording anything.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=1,
            next_attempt_at=START + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60),
        )
        deliver_webhook(org.pk, delivery.pk)
        assert receiver.requests == []
        traveller.move_to(START + timedelta(minutes=5))
        deliver_webhook(org.pk, delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


def test_a_lost_last_attempt_marks_the_delivery_failed(org, endpoint, receiver):
    with transaction.atomic():
        emit(org, "lead.created", {"lead_id": 1})
    delivery = only_delivery(endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=webhooks.MAX_ATTEMPTS)
    deliver_webhook(org.pk, delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert receiver.requests == []


# --- Public addresses only ----------------------------------------------------------------------


def test_a_loopback_url_is_refused_when_the_endpoint_is_created(settings, receiver):
    settings.FETCH_ALLOW_HOSTS = []
    problem = webhooks.check_webhook_url(receiver.url("/hooks"))
    assert problem == "'127.0.0.1' is a loopback address; only public addresses are allowed."
    settings.FETCH_ALLOW_HOSTS = [receiver.netloc]
    assert webhooks.check_webhook_url(receiver.url("/hooks")) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/hook", "Only http and https URLs are allowed"),
        ("http://10.0.0.5/hook", "private address"),
        ("http://[::1]:8000/hook", "loopback"),
        ("http://localhost:8000/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[::ffff:192.168.0.1]/", "IPv4-mapped private"),
        ("http://0x7f000001/", "loopback"),
        ("http://internal.example.com/hook", "resolves to 10.2.3.4"),
        ("http://nowhere.example.com/hook", "could not be found"),
        ("https://example.com/" + "a" * 500, "at most 500 characters"),
    ],
)
def test_check_webhook_url_explains_what_is_wrong(settings, url, problem):
    settings.FETCH_ALLOW_HOSTS = []

    def resolver(host: str, port: int) -> list[str]:
        if host == "internal.example.com":
            return ["10.2.3.4"]
        if host == "example.com":
            return ["93.184.215.14"]
        raise webhooks.netguard.ResolutionError("no such host")

    assert problem in (webhooks.check_webhook_url(url, resolver=resolver) or "")


def test_check_webhook_url_accepts_public_addresses(settings):
    settings.FETCH_ALLOW_HOSTS = []
    assert webhooks.check_webhook_url("https://93.184.215.14/hooks") is None
    resolve = lambda host, port: ["2606:2800:21f:cb07::1"]  # noqa: E731
    assert webhooks.check_webhook_url("https://hooks.example.com/in", resolver=resolve) is None


def test_a_loopback_url_is_refused_again_at_delivery_time(
    org, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.FETCH_ALLOW_HOSTS = []  # the URL was allowed when saved, but no longer
    emit_committed(django_capture_on_commit_callbacks, org)
    assert receiver.requests == []
    delivery = only_delivery(endpoint)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert (delivery.attempts, delivery.response_status) == (1, None)
    assert delivery.error == "'127.0.0.1' is a loopback address; only public addresses are allowed."


# --- Auto-disable -------------------------------------------------------------------------------


def test_repeated_failures_disable_the_endpoint_and_notify_owners_and_admins(
    org, endpoint, receiver, settings, admin_user, member, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.default = Reply(500, b"nope")
    emit_committed(django_capture_on_commit_callbacks, org)
    emit_committed(django_capture_on_commit_callbacks, org)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.consecutive_failures) == (True, 2)
    assert mail.outbox == []

    emit_committed(django_capture_on_commit_callbacks, org)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason.startswith("Disabled after 3 consecutive failed deliveries.")
    assert "HTTP 500" in endpoint.disabled_reason

    disabled = Event.objects.for_org(org).get(type="webhook.disabled")
    assert disabled.payload["endpoint_id"] == endpoint.pk
    assert disabled.payload["consecutive_failures"] == 3
    assert disabled.actor_label == "system"

    (notice,) = mail.outbox
    assert sorted(notice.to) == ["admin@example.com", "owner@example.com"]
    assert "disabled" in notice.subject and endpoint.url in notice.subject
    assert "3 consecutive failed deliveries" in notice.body

    # The deliveries still waiting for a retry are closed with the reason.
    statuses = set(WebhookDelivery.objects.for_org(org).values_list("status", "error"))
    assert statuses == {("failed", "Not delivered: the endpoint was disabled.")}

    # Nothing more is sent to it.
    emit_committed(django_capture_on_commit_callbacks, org)
    assert len(receiver.requests) == 3
    assert len(mail.outbox) == 1


def test_a_success_in_between_resets_the_failure_count(
    org, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.queue(Reply(500), Reply(500), Reply(200), Reply(500), Reply(500))
    for _ in range(5):
        emit_committed(django_capture_on_commit_callbacks, org)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.consecutive_failures) == (True, 2)
    assert mail.outbox == []


def test_enabling_a_disabled_endpoint_resets_it(org, owner, endpoint, receiver):
    assert webhooks.disable_endpoint(endpoint=endpoint, failures=15, last_error="HTTP 500")
    assert not webhooks.disable_endpoint(endpoint=endpoint, failures=16, last_error="again")
    assert len(mail.outbox) == 1

    webhooks.enable_endpoint(endpoint=endpoint, actor=owner)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0
    assert (endpoint.disabled_at, endpoint.disabled_reason) == (None, "")
    event = Event.objects.for_org(org).get(type="webhook.enabled")
    assert (event.actor, event.payload["endpoint_id"]) == (owner, endpoint.pk)


# --- The service functions ----------------------------------------------------------------------


def test_create_endpoint_records_the_event_and_a_fresh_secret(org, owner, receiver):
    url = receiver.url("/in").replace("://", "://user:pw@")
    endpoint = webhooks.create_endpoint(
        organization=org, url=url, event_types=[], description="Zapier", actor=owner
    )
    assert endpoint.event_types == ["*"]
    assert endpoint.secret.startswith("whsec_") and endpoint.created_by == owner
    event = Event.objects.for_org(org).get(type="webhook.created")
    assert event.payload == {
        "endpoint_id": endpoint.pk,
        "url": receiver.url("/in"),
        "event_types": ["*"],
    }
    assert not WebhookDelivery.objects.for_org(org).exists()  # not announced to itself


def test_delete_endpoint_removes_it_with_its_log(org, owner, endpoint, receiver):
    with transaction.atomic():
        emit(org, "lead.created", {"lead_id": 1})
    endpoint_id = endpoint.pk
    webhooks.delete_endpoint(endpoint=endpoint, actor=owner)
    assert not WebhookEndpoint.objects.for_org(org).exists()
    assert not WebhookDelivery.objects.for_org(org).exists()
    event = Event.objects.for_org(org).get(type="webhook.deleted")
    assert event.payload == {"endpoint_id": endpoint_id, "url": endpoint.url}


def test_send_test_delivers_a_test_event_to_that_endpoint_only(
    org, owner, endpoint, receiver, django_capture_on_commit_callbacks
):
    webhooks.create_endpoint(
        organization=org, url=receiver.url("/other"), event_types=["*"], description="", actor=owner
    )
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.send_test(endpoint=endpoint, actor=owner)
    (request,) = receiver.requests
    assert request.path == "/hooks"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["endpoint_id"] == endpoint.pk

    delivery.refresh_from_db()
    assert delivery.is_test and delivery.endpoint == endpoint
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    assert delivery.event.type == "webhook.test" and delivery.event.actor == owner


def test_a_failed_test_is_not_retried_and_does_not_count_towards_disabling(
    org, owner, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.queue(Reply(404, b"no such hook"))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.send_test(endpoint=endpoint, actor=owner)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status, delivery.next_attempt_at) == (
        "failed",
        404,
        None,
    )
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_disabled_endpoint_can_still_be_tested(
    org, owner, endpoint, receiver, django_capture_on_commit_callbacks
):
    webhooks.disable_endpoint(endpoint=endpoint, failures=15, last_error="HTTP 500")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.send_test(endpoint=endpoint, actor=owner)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert len(receiver.requests) == 1
