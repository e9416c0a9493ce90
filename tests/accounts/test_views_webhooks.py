"""settings/webhooks: endpoints, their secret, test sends, re-enabling and the delivery log."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts import events
from accounts.models import Event, WebhookDelivery, WebhookEndpoint

HTMX = {"HTTP_HX_REQUEST": "true"}
# A public address literal: accepted without a DNS lookup, and nothing is ever sent to it
# here (deliveries are queued on commit, which the test transaction never reaches).
PUBLIC_URL = "https://93.184.215.14/hooks/prospector"


def url(org, tail=""):
    return f"/o/{org.slug}/settings/webhooks/{tail}"


@pytest.fixture
def endpoint(org, owner):
    return WebhookEndpoint.objects.create(
        organization=org,
        url="https://hooks.example.com/in",
        description="CRM sync",
        event_types=["lead.created"],
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        created_by=owner,
    )


@pytest.fixture
def disabled(org, owner):
    return WebhookEndpoint.objects.create(
        organization=org,
        url="https://broken.example.com/in",
        event_types=["*"],
        secret="whsec_x",
        is_active=False,
        consecutive_failures=15,
        disabled_at=timezone.now(),
        disabled_reason="15 deliveries in a row failed (last: HTTP 502).",
    )


def test_webhooks_page_lists_endpoints(owner_client, org, endpoint):
    response = owner_client.get(url(org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Webhooks · Acme Corp · Prospector</title>" in body
    assert endpoint.url in body
    assert "CRM sync" in body
    assert "lead.created" in body


def test_empty_webhooks_page_explains_and_offers_the_first_endpoint(owner_client, org):
    response = owner_client.get(url(org))
    assert b"No endpoints yet" in response.content
    assert b"Add your first endpoint" in response.content


def test_an_auto_disabled_endpoint_shows_a_banner(owner_client, org, disabled):
    body = owner_client.get(url(org)).content.decode()
    assert 'class="alert alert-warning"' in body
    assert "https://broken.example.com/in is disabled." in body
    assert "15 deliveries in a row failed" in body


def test_webhooks_query_count_is_pinned(
    owner_client, org, owner, endpoint, disabled, django_assert_num_queries
):
    for n in range(5):
        WebhookEndpoint.objects.create(
            organization=org, url=f"https://h{n}.example.com/", secret="s"
        )
    # session, user, membership+org+plan, endpoints, the switcher's memberships
    with django_assert_num_queries(5):
        response = owner_client.get(url(org))
    assert response.status_code == 200


def test_creating_an_endpoint_leads_to_its_page_with_the_secret(owner_client, org):
    response = owner_client.post(
        url(org, "new/"),
        {"url": PUBLIC_URL, "description": "Ops", "event_types": ["lead.created", "member.joined"]},
    )
    endpoint = WebhookEndpoint.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == url(org, f"{endpoint.pk}/")
    assert endpoint.event_types == ["lead.created", "member.joined"]
    page = owner_client.get(response["Location"]).content.decode()
    assert endpoint.secret.startswith("whsec_")
    assert f'value="{endpoint.secret}"' in page


def test_no_event_ticked_means_every_event(owner_client, org):
    owner_client.post(url(org, "new/"), {"url": PUBLIC_URL, "description": ""})
    assert WebhookEndpoint.objects.get().event_types == ["*"]


def test_a_private_address_is_refused_next_to_the_field(owner_client, org):
    response = owner_client.post(
        url(org, "new/"), {"url": "http://127.0.0.1:8000/hook", "description": "x"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="webhooks"' in body
    assert 'class="error"' in body
    assert 'value="http://127.0.0.1:8000/hook"' in body
    assert not WebhookEndpoint.objects.exists()


def test_creating_with_htmx_redirects_the_client(owner_client, org):
    response = owner_client.post(url(org, "new/"), {"url": PUBLIC_URL, "description": ""}, **HTMX)
    endpoint = WebhookEndpoint.objects.get()
    assert response["HX-Redirect"] == url(org, f"{endpoint.pk}/")


def test_endpoint_page_shows_the_delivery_log_with_response_codes(
    owner_client, org, owner, endpoint
):
    event = events.emit(org, "lead.created", {"id": 1}, actor=owner)
    WebhookDelivery.objects.filter(endpoint=endpoint, event=event).update(
        status="failed", response_status=502, attempts=3, duration_ms=120, error="HTTP 502"
    )
    response = owner_client.get(url(org, f"{endpoint.pk}/"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Delivery log" in body
    assert ">502</code>" in body
    assert "HTTP 502" in body
    assert "120 ms" in body
    assert "1 delivery, newest first" in body


def test_delivery_times_have_thousands_separators(owner_client, org, owner, endpoint):
    event = events.emit(org, "lead.created", {"id": 1}, actor=owner)
    WebhookDelivery.objects.filter(endpoint=endpoint, event=event).update(duration_ms=12_345)
    assert "12,345 ms" in owner_client.get(url(org, f"{endpoint.pk}/")).content.decode()


def test_the_delete_confirmation_names_the_endpoint(owner_client, org, endpoint):
    body = owner_client.get(url(org, f"{endpoint.pk}/")).content.decode()
    assert "Delete the endpoint <strong" in body
    assert "https://hooks.example.com/in</strong>? Events stop going to it" in body


def test_an_endpoint_without_deliveries_offers_a_test_event(owner_client, org, endpoint):
    body = owner_client.get(url(org, f"{endpoint.pk}/")).content.decode()
    assert "No deliveries yet" in body
    assert "Send a test event</button>" in body


def test_endpoint_page_query_count_is_pinned(
    owner_client, org, owner, endpoint, django_assert_num_queries
):
    for n in range(5):
        events.emit(org, "lead.created", {"n": n}, actor=owner)
    # session, user, membership+org+plan, endpoint, deliveries+events, the switcher's memberships
    with django_assert_num_queries(6):
        response = owner_client.get(url(org, f"{endpoint.pk}/"))
    assert response.content.count(b"<code>lead.created</code>") == 5


def test_pending_deliveries_poll_only_the_log_fragment(owner_client, org, owner, endpoint):
    events.emit(org, "lead.created", {"id": 1}, actor=owner)
    page = owner_client.get(url(org, f"{endpoint.pk}/")).content.decode()
    assert 'hx-trigger="every 3s"' in page
    response = owner_client.get(
        url(org, f"{endpoint.pk}/"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="deliveries"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="deliveries"')
    assert "Signing secret" not in body
    WebhookDelivery.objects.update(status="succeeded", response_status=200)
    done = owner_client.get(
        url(org, f"{endpoint.pk}/"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="deliveries"
    )
    assert b"every 3s" not in done.content


def test_send_test_queues_a_test_delivery(owner_client, org, endpoint):
    response = owner_client.post(url(org, f"{endpoint.pk}/test/"), **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, is_test=True)
    assert delivery.status == "pending"
    assert b"webhook.test" in response.content
    assert "Test event queued" in response["HX-Trigger"]


def test_send_test_without_htmx_redirects_to_the_endpoint(owner_client, org, endpoint):
    response = owner_client.post(url(org, f"{endpoint.pk}/test/"))
    assert response.status_code == 302
    assert response["Location"] == url(org, f"{endpoint.pk}/")


def test_re_enabling_a_disabled_endpoint(owner_client, org, disabled):
    page = owner_client.get(url(org, f"{disabled.pk}/")).content.decode()
    assert "Re-enable" in page
    response = owner_client.post(url(org, f"{disabled.pk}/enable/"), **HTMX)
    assert response.status_code == 200
    disabled.refresh_from_db()
    assert disabled.is_active and disabled.consecutive_failures == 0
    assert b"This endpoint is disabled" not in response.content


def test_deleting_an_endpoint(owner_client, org, endpoint):
    response = owner_client.post(url(org, f"{endpoint.pk}/delete/"))
    assert response.status_code == 302
    assert response["Location"] == url(org)
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert Event.objects.for_org(org).filter(type="webhook.deleted").exists()


def test_members_and_viewers_get_403(member_client, org, viewer, endpoint):
    for user in (None, viewer):
        if user:
            member_client.force_login(user)
        assert member_client.get(url(org)).status_code == 403
        assert member_client.get(url(org, f"{endpoint.pk}/")).status_code == 403
        assert member_client.post(url(org, "new/"), {"url": PUBLIC_URL}).status_code == 403
        for action in ("test", "enable", "delete"):
            assert member_client.post(url(org, f"{endpoint.pk}/{action}/")).status_code == 403
    assert WebhookEndpoint.objects.count() == 1
    assert not WebhookDelivery.objects.filter(is_test=True).exists()


def test_outsider_gets_404(outsider_client, org, endpoint):
    assert outsider_client.get(url(org)).status_code == 404
    assert outsider_client.get(url(org, f"{endpoint.pk}/")).status_code == 404
    for action in ("test", "enable", "delete"):
        assert outsider_client.post(url(org, f"{endpoint.pk}/{action}/")).status_code == 404


def test_another_organizations_endpoint_is_404(owner_client, org, other_org):
    foreign = WebhookEndpoint.objects.create(
        organization=other_org, url="https://x.example.com/", secret="s"
    )
    assert owner_client.get(url(org, f"{foreign.pk}/")).status_code == 404
    assert owner_client.post(url(org, f"{foreign.pk}/delete/")).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=foreign.pk).exists()


def test_wrong_methods_get_405(owner_client, org, endpoint):
    assert owner_client.post(url(org)).status_code == 405
    assert owner_client.get(url(org, "new/")).status_code == 405
    assert owner_client.post(url(org, f"{endpoint.pk}/")).status_code == 405
    for action in ("test", "enable", "delete"):
        assert owner_client.get(url(org, f"{endpoint.pk}/{action}/")).status_code == 405


def test_htmx_get_returns_the_fragments(owner_client, org, endpoint):
    listing = owner_client.get(url(org), **HTMX)
    assert b"<html" not in listing.content
    assert listing.content.lstrip().startswith(b'<div id="webhooks"')
    detail = owner_client.get(url(org, f"{endpoint.pk}/"), **HTMX)
    assert b"<html" not in detail.content
    assert detail.content.lstrip().startswith(b'<div id="endpoint"')


def test_a_due_delivery_reads_as_queued_not_as_a_past_retry(owner_client, org, owner, endpoint):
    from datetime import timedelta

    event = events.emit(org, "lead.created", {"id": 1}, actor=owner)
    WebhookDelivery.objects.filter(endpoint=endpoint, event=event).update(
        status="pending", next_attempt_at=timezone.now() - timedelta(minutes=2)
    )
    body = owner_client.get(url(org, f"{endpoint.pk}/")).content.decode()
    assert "queued, goes out shortly" in body
    assert "next try" not in body
