"""/api/v1/webhooks/: endpoints, the test button, enabling again and the delivery log."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts import events
from accounts.models import Event, WebhookDelivery, WebhookEndpoint
from tests.accounts.api_support import assert_error, key_client
from tests.enrichment.localserver import LocalServer, Reply

HOOKS = "/api/v1/webhooks/"
# A public address literal: accepted without a DNS lookup.
PUBLIC_URL = "https://93.184.216.34/hooks/prospector"


def _endpoint(org, url=PUBLIC_URL, event_types=("*",), **extra) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        organization=org,
        url=url,
        event_types=list(event_types),
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        **extra,
    )


def test_create_returns_the_secret(owner_api, org, owner):
    payload = {
        "url": PUBLIC_URL,
        "description": "CRM",
        "event_types": ["lead.created", "member.joined", "lead.created"],
    }
    response = owner_api.post(HOOKS, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["url"] == PUBLIC_URL
    assert body["event_types"] == ["lead.created", "member.joined"]
    assert body["is_active"] is True
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.organization == org and endpoint.created_by == owner
    assert endpoint.secret == body["secret"]
    # The detail shows the secret again (integrators verify signatures with it), the list not.
    assert owner_api.get(f"{HOOKS}{endpoint.pk}/").json()["secret"] == endpoint.secret
    assert "secret" not in owner_api.get(HOOKS).json()["results"][0]


def test_create_accepts_every_type(owner_api):
    body = owner_api.post(HOOKS, {"url": PUBLIC_URL, "event_types": ["*"]}, format="json").json()
    assert body["event_types"] == ["*"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.8/hook",
        "http://localhost/hook",
        "ftp://93.184.216.34/",
    ],
)
def test_create_refuses_private_and_odd_urls(owner_api, url):
    response = owner_api.post(HOOKS, {"url": url, "event_types": ["*"]}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["url"]
    assert not WebhookEndpoint.objects.exists()


def test_create_validates_event_types(owner_api):
    response = owner_api.post(
        HOOKS, {"url": PUBLIC_URL, "event_types": ["lead.created", "lead.exploded"]}, format="json"
    )
    message = assert_error(response, 400)["details"]["event_types"][0]
    assert "lead.exploded" in message and "lead.created" in message.split("Known:")[1]
    response = owner_api.post(HOOKS, {"url": PUBLIC_URL, "event_types": []}, format="json")
    assert "event_types" in assert_error(response, 400)["details"]
    response = owner_api.post(
        HOOKS, {"url": PUBLIC_URL, "event_types": "lead.created"}, format="json"
    )
    assert "event_types" in assert_error(response, 400)["details"]


def test_an_event_type_registered_later_is_accepted(owner_api, monkeypatch):
    monkeypatch.setitem(events.WEBHOOK_EVENT_TYPES, "deal.won", "A deal was won")
    response = owner_api.post(
        HOOKS, {"url": PUBLIC_URL, "event_types": ["deal.won"]}, format="json"
    )
    assert response.status_code == 201


def test_member_and_viewer_cannot_manage_webhooks(org, member, viewer):
    endpoint = _endpoint(org)
    for user in (member, viewer):
        client = key_client(org, user)
        assert_error(client.get(HOOKS), 403, "permission_denied")
        assert_error(client.get(f"{HOOKS}{endpoint.pk}/"), 403, "permission_denied")
        response = client.post(HOOKS, {"url": PUBLIC_URL, "event_types": ["*"]}, format="json")
        assert_error(response, 403, "permission_denied")


def test_list_query_count(owner_api, org, django_assert_num_queries):
    owner_api.get(HOOKS)
    for n in range(4):
        _endpoint(org, url=f"{PUBLIC_URL}/{n}")
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4):
        # credential; membership; count; endpoints
        assert owner_api.get(HOOKS).json()["count"] == 4


def test_delete_removes_the_endpoint(owner_api, org):
    endpoint = _endpoint(org)
    assert owner_api.delete(f"{HOOKS}{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert Event.objects.filter(organization=org, type="webhook.deleted").exists()


def test_outsider_gets_404_for_our_endpoints(outsider_api, org):
    endpoint = _endpoint(org)
    for method, path in [
        ("get", f"{HOOKS}{endpoint.pk}/"),
        ("delete", f"{HOOKS}{endpoint.pk}/"),
        ("post", f"{HOOKS}{endpoint.pk}/test/"),
        ("post", f"{HOOKS}{endpoint.pk}/enable/"),
        ("get", f"{HOOKS}{endpoint.pk}/deliveries/"),
    ]:
        assert_error(getattr(outsider_api, method)(path), 404, "not_found")
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.exists()
    assert outsider_api.get(HOOKS).json()["count"] == 0


def test_send_test_delivers_a_signed_request(owner_api, org, django_capture_on_commit_callbacks):
    with LocalServer(Reply(200, b"thanks")) as server:
        endpoint = _endpoint(org, url=server.url("/receiver"))
        with (
            override_settings(FETCH_ALLOW_HOSTS=[server.netloc]),
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = owner_api.post(f"{HOOKS}{endpoint.pk}/test/")
        assert response.status_code == 202, response.content
        body = response.json()
        assert body["is_test"] is True
        assert body["event"]["type"] == "webhook.test"
        assert len(server.requests) == 1
    received = server.requests[0]
    assert received.path == "/receiver"
    assert received.headers["webhook-id"] == body["event"]["id"]
    assert received.headers["webhook-signature"].startswith("v1,")
    assert json.loads(received.body)["type"] == "webhook.test"

    log = owner_api.get(f"{HOOKS}{endpoint.pk}/deliveries/").json()
    assert log["count"] == 1
    delivery = log["results"][0]
    assert delivery["status"] == "succeeded"
    assert delivery["response_status"] == 200
    assert delivery["response_body"] == "thanks"
    assert delivery["attempts"] == 1


def test_deliveries_are_per_endpoint_and_filterable(owner_api, org, django_assert_num_queries):
    endpoint, other = _endpoint(org), _endpoint(org, url=f"{PUBLIC_URL}/other")
    for n in range(4):
        event = Event.objects.create(organization=org, type="lead.created", payload={"n": n})
        WebhookDelivery.objects.create(
            organization=org,
            endpoint=endpoint,
            event=event,
            status=WebhookDelivery.Status.FAILED if n == 0 else WebhookDelivery.Status.SUCCEEDED,
            response_status=500 if n == 0 else 204,
        )
        WebhookDelivery.objects.create(organization=org, endpoint=other, event=event)
    url = f"{HOOKS}{endpoint.pk}/deliveries/"
    owner_api.get(url)
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(5):
        # credential; membership; the endpoint; count; deliveries with their events
        body = owner_api.get(url).json()
    assert body["count"] == 4
    assert {row["event"]["type"] for row in body["results"]} == {"lead.created"}
    failed = owner_api.get(url, {"status": "failed"}).json()["results"]
    assert [row["response_status"] for row in failed] == [500]
    assert_error(owner_api.get(url, {"status": "weird"}), 400, "validation_error")
    assert owner_api.get(url, {"limit": 1}).json()["next"] is not None


def test_enable_turns_a_disabled_endpoint_back_on(owner_api, org):
    endpoint = _endpoint(
        org,
        is_active=False,
        consecutive_failures=15,
        disabled_at=timezone.now(),
        disabled_reason="Too many failures",
    )
    response = owner_api.post(f"{HOOKS}{endpoint.pk}/enable/")
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is True
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0
    assert endpoint.disabled_at is None
