"""The public pages of campaign email: unsubscribe (confirmation page and RFC 8058 one-click
POST), the open pixel and click redirects. No login anywhere; the signed token is the key."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Event
from campaigns import public_views, tracking
from campaigns.models import Campaign, Enrollment, EnrollmentStatus, Message, Sender
from campaigns.public_views import PIXEL_GIF
from leads.models import Activity, ActivityKind, Suppression
from tests import factories

BODY_HTML = (
    '<p>Hi <a href="https://a.example/one">one</a>, '
    '<a href="mailto:rita@acme.example">mail me</a>, '
    '<a href="https://b.example/two?x=1&amp;y=2">two</a>, '
    '<a href="javascript:alert(1)">js</a>, '
    '<a href="//evil.example/">relative</a>, '
    '<a href="https:evil.example">no host</a></p>'
)

_ids = iter(range(1, 10_000))


def make_message(org, lead, *, campaign=None, enrollment=None, **fields) -> Message:
    campaign = campaign or enrollment.campaign
    fields.setdefault("to_email", lead.email)
    fields.setdefault("body_html", BODY_HTML)
    return Message.objects.create(
        organization=org,
        campaign=campaign,
        enrollment=enrollment,
        lead=lead,
        sender=campaign.sender,
        subject="Hello",
        body_text="Hello",
        message_id=f"test-{next(_ids)}@acme.example",
        **fields,
    )


@pytest.fixture
def sender(org):
    return Sender.objects.create(organization=org, name="Rita", email="rita@acme.example")


@pytest.fixture
def campaign(org, sender):
    return Campaign.objects.create(organization=org, name="Q4", sender=sender)


@pytest.fixture
def lead(org):
    return factories.make_lead(org, email="jane.doe@example.com", first_name="Jane")


@pytest.fixture
def enrollment(org, campaign, lead):
    return Enrollment.objects.create(organization=org, campaign=campaign, lead=lead)


@pytest.fixture
def message(org, lead, enrollment):
    return make_message(org, lead, enrollment=enrollment)


def unsubscribe_url(message_pk: int) -> str:
    return reverse(
        "campaigns:unsubscribe", args=[tracking.token(message_pk, tracking.SALT_UNSUBSCRIBE)]
    )


def open_url(message_pk: int) -> str:
    return reverse("campaigns:open", args=[tracking.token(message_pk, tracking.SALT_OPEN)])


def click_url(message_pk: int, index: int) -> str:
    return reverse("campaigns:click", args=[tracking.token(message_pk, tracking.SALT_CLICK, index)])


def forged(valid: str) -> str:
    """The same token with one character of its signature changed."""
    return ("A" if valid[0] != "A" else "B") + valid[1:]


# ---------------------------------------------------------------- unsubscribe


def test_confirmation_page_names_the_organization_and_masks_the_address(
    client, message, enrollment, django_assert_num_queries
):
    # 1: the message with its organization and lead, suppressed? and enrolled? as subqueries.
    with django_assert_num_queries(1):
        response = client.get(unsubscribe_url(message.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Unsubscribe <strong>j***@example.com</strong> from Acme Corp’s emails?" in content
    assert "jane.doe@example.com" not in content
    assert '<form method="post">' in content
    assert not Suppression.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert not Activity.objects.filter(body="Unsubscribed from email").exists()


def test_the_page_renders_for_a_visitor_who_is_not_logged_in_and_sets_no_cookie(message):
    response = Client().get(unsubscribe_url(message.pk))
    assert response.status_code == 200
    assert response.context["user"].is_anonymous
    assert "<html" in response.content.decode() and "Prospector" not in response.content.decode()
    assert not response.cookies


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
        (
            '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            "One-Click\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
    ],
)
def test_one_click_post_without_cookie_or_csrf_token_unsubscribes(
    org,
    other_org,
    campaign,
    sender,
    lead,
    enrollment,
    message,
    body,
    content_type,
    django_assert_num_queries,
):
    other_campaign = Campaign.objects.create(organization=org, name="Q1", sender=sender)
    second = Enrollment.objects.create(organization=org, campaign=other_campaign, lead=lead)
    finished = Enrollment.objects.create(
        organization=org,
        campaign=Campaign.objects.create(organization=org, name="Old", sender=sender),
        lead=lead,
        status=EnrollmentStatus.COMPLETED,
    )
    bystander = Enrollment.objects.create(
        organization=org, campaign=campaign, lead=factories.make_lead(org)
    )
    mail_provider = Client(enforce_csrf_checks=True)
    # 1 the message; the outer atomic's savepoint; savepoint, INSERT suppression, release;
    # UPDATE enrollments; INSERT activity; emit: savepoint, INSERT event, SELECT webhook
    # endpoints, release; release the outer savepoint.
    with django_assert_num_queries(12):
        response = mail_provider.post(unsubscribe_url(message.pk), body, content_type=content_type)
    assert response.status_code == 200
    assert "You’re unsubscribed" in response.content.decode()
    assert "j***@example.com" in response.content.decode()
    assert not response.cookies

    suppression = Suppression.objects.get()
    assert (suppression.organization, suppression.email, suppression.reason) == (
        org,
        "jane.doe@example.com",
        "unsubscribed",
    )
    statuses = dict(Enrollment.objects.values_list("pk", "status"))
    assert statuses == {
        enrollment.pk: EnrollmentStatus.UNSUBSCRIBED,
        second.pk: EnrollmentStatus.UNSUBSCRIBED,
        finished.pk: EnrollmentStatus.COMPLETED,
        bystander.pk: EnrollmentStatus.ACTIVE,
    }
    enrollment.refresh_from_db()
    assert enrollment.stopped_reason == "Unsubscribed from email"

    activity = Activity.objects.for_lead(lead).get(body="Unsubscribed from email")
    assert activity.kind == ActivityKind.NOTE and activity.actor is None
    assert activity.data["message_id"] == message.pk and activity.data["enrollments_stopped"] == 2
    event = Event.objects.for_org(org).get(type="lead.unsubscribed")
    assert event.payload == {
        "id": lead.pk,
        "email": "jane.doe@example.com",
        "message_id": message.pk,
        "campaign_id": campaign.pk,
        "enrollments_stopped": 2,
    }
    assert event.actor_label == "unsubscribe link"
    assert not Suppression.objects.for_org(other_org).exists()


def test_lead_unsubscribed_is_a_subscribable_webhook_event_type():
    from accounts.events import WEBHOOK_EVENT_TYPES

    assert "lead.unsubscribed" in WEBHOOK_EVENT_TYPES


def test_repeated_unsubscribes_change_nothing_more(
    client, org, lead, message, django_assert_num_queries
):
    url = unsubscribe_url(message.pk)
    assert (
        client.post(url, "List-Unsubscribe=One-Click", content_type="text/plain").status_code == 200
    )
    # 1: the message, already suppressed and with nothing active: nothing to write.
    with django_assert_num_queries(1):
        again = client.post(url, "List-Unsubscribe=One-Click", content_type="text/plain")
    assert again.status_code == 200 and "You’re unsubscribed" in again.content.decode()
    assert Suppression.objects.count() == 1
    assert Activity.objects.for_lead(lead).filter(body="Unsubscribed from email").count() == 1
    assert Event.objects.for_org(org).filter(type="lead.unsubscribed").count() == 1
    # And the link, opened later, says so instead of asking again.
    page = client.get(url).content.decode()
    assert "You’re unsubscribed" in page and "<form" not in page


def test_a_second_unsubscribe_that_read_stale_state_records_nothing(org, lead, message):
    """Two one-click POSTs at once both see no suppression; the second one's insert meets
    the unique constraint and its update finds nothing active, so it records nothing."""
    stale = Message.objects.select_related("organization", "lead").get(pk=message.pk)
    assert public_views.unsubscribe_recipient(message=message) is True
    assert public_views.unsubscribe_recipient(message=stale) is False
    assert Suppression.objects.count() == 1
    assert Activity.objects.for_lead(lead).filter(body="Unsubscribed from email").count() == 1
    assert Event.objects.for_org(org).filter(type="lead.unsubscribed").count() == 1


def test_an_address_already_suppressed_for_a_bounce_still_gets_its_enrollments_stopped(
    client, org, lead, enrollment, message
):
    Suppression.objects.create(organization=org, email="jane.doe@example.com", reason="bounced")
    assert "You’re unsubscribed" in client.get(unsubscribe_url(message.pk)).content.decode()
    assert client.post(unsubscribe_url(message.pk)).status_code == 200
    assert Suppression.objects.get().reason == "bounced"
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.UNSUBSCRIBED
    assert (
        Event.objects.for_org(org).get(type="lead.unsubscribed").payload["enrollments_stopped"] == 1
    )


def test_the_address_the_message_went_to_is_suppressed_whatever_became_of_the_lead(
    client, org, lead, enrollment
):
    message = make_message(org, lead, enrollment=enrollment, to_email="Jane.Old@Example.com")
    lead.email = "jane.new@example.com"
    lead.archived_at = datetime(2026, 1, 1, tzinfo=UTC)
    lead.save(update_fields=["email", "archived_at"])
    response = client.post(unsubscribe_url(message.pk))
    assert response.status_code == 200
    assert list(Suppression.objects.values_list("email", flat=True)) == ["jane.old@example.com"]
    assert "J***@Example.com" in response.content.decode()


def test_a_lead_in_another_organization_keeps_its_enrollments(client, other_org, message):
    other_sender = Sender.objects.create(organization=other_org, name="O", email="o@other.example")
    other_lead = factories.make_lead(other_org, email="jane.doe@example.com")
    other_enrollment = Enrollment.objects.create(
        organization=other_org,
        campaign=Campaign.objects.create(organization=other_org, name="X", sender=other_sender),
        lead=other_lead,
    )
    assert client.post(unsubscribe_url(message.pk)).status_code == 200
    other_enrollment.refresh_from_db()
    assert other_enrollment.status == EnrollmentStatus.ACTIVE
    assert not Suppression.objects.for_org(other_org).exists()


@pytest.mark.parametrize(
    "make_token",
    [
        lambda m: forged(tracking.token(m.pk, tracking.SALT_UNSUBSCRIBE)),
        lambda m: tracking.token(m.pk, tracking.SALT_OPEN),
        lambda m: tracking.token(m.pk + 1000, tracking.SALT_UNSUBSCRIBE),
        lambda m: tracking.token(m.pk, tracking.SALT_UNSUBSCRIBE).split(".")[0] + f".{m.pk + 1}",
        lambda m: "nonsense",
        lambda m: "abc.",
        lambda m: ".",
    ],
    ids=[
        "tampered",
        "other-salt",
        "unknown-message",
        "swapped-id",
        "garbage",
        "empty-value",
        "dot",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_forged_or_unknown_unsubscribe_token_is_404(client, message, make_token, method):
    url = reverse("campaigns:unsubscribe", args=[make_token(message)])
    if method == "post":
        response = client.post(url, "List-Unsubscribe=One-Click", content_type="text/plain")
    else:
        response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert not Suppression.objects.exists()
    assert not Event.objects.filter(type="lead.unsubscribed").exists()


def test_unsubscribe_refuses_other_methods(client, message):
    assert client.put(unsubscribe_url(message.pk)).status_code == 405
    assert not Suppression.objects.exists()


# ---------------------------------------------------------------- open pixel


def assert_is_the_pixel(response) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies
    body = response.content
    assert body == PIXEL_GIF
    assert body[:6] == b"GIF89a" and struct.unpack("<HH", body[6:10]) == (1, 1)
    # Graphic control extension with the transparency flag set, then one 1x1 image.
    gce = body.index(b"\x21\xf9\x04")
    assert body[gce + 3] & 0x01 == 1
    assert body[gce + 8 : gce + 9] == b","
    assert struct.unpack("<HH", body[gce + 13 : gce + 17]) == (1, 1)
    assert body.endswith(b";")


def test_open_pixel_is_a_transparent_gif_and_counts_opens(
    client, message, django_assert_num_queries
):
    first = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    # 1: UPDATE open_count = open_count + 1, opened_at = COALESCE(opened_at, now).
    with time_machine.travel(first, tick=False), django_assert_num_queries(1):
        response = client.get(open_url(message.pk))
    assert_is_the_pixel(response)
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), tick=False):
        assert_is_the_pixel(client.get(open_url(message.pk)))
    message.refresh_from_db()
    assert (message.open_count, message.opened_at) == (2, first)
    assert (message.click_count, message.clicked_at) == (0, None)


def test_head_on_the_pixel_counts_nothing(client, message):
    response = client.head(open_url(message.pk))
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    message.refresh_from_db()
    assert (message.open_count, message.opened_at) == (0, None)


@pytest.mark.parametrize(
    "make_token",
    [
        lambda m: forged(tracking.token(m.pk, tracking.SALT_OPEN)),
        lambda m: tracking.token(m.pk, tracking.SALT_UNSUBSCRIBE),
        lambda m: "nonsense",
    ],
    ids=["tampered", "other-salt", "garbage"],
)
def test_a_forged_pixel_token_still_gets_the_gif_and_records_nothing(
    client, message, make_token, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get(reverse("campaigns:open", args=[make_token(message)]))
    assert_is_the_pixel(response)
    message.refresh_from_db()
    assert (message.open_count, message.opened_at) == (0, None)


def test_a_pixel_for_a_deleted_message_is_still_the_gif(client, message):
    url = open_url(message.pk)
    message.delete()
    assert_is_the_pixel(client.get(url))


# ---------------------------------------------------------------- clicks


def test_a_click_redirects_to_the_messages_own_link_and_counts(
    client, message, django_assert_num_queries
):
    first = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    # 1 the message's body_html; 2 UPDATE the click and open counters.
    with time_machine.travel(first, tick=False), django_assert_num_queries(2):
        response = client.get(click_url(message.pk, 2))
    assert response.status_code == 302
    assert response["Location"] == "https://b.example/two?x=1&y=2"
    assert response["Cache-Control"] == "no-store"
    message.refresh_from_db()
    # The pixel was never loaded: the click counts as the open.
    assert (message.click_count, message.clicked_at) == (1, first)
    assert (message.open_count, message.opened_at) == (1, first)

    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), tick=False):
        again = client.get(click_url(message.pk, 0))
    assert again.status_code == 302 and again["Location"] == "https://a.example/one"
    message.refresh_from_db()
    assert (message.click_count, message.clicked_at) == (2, first)
    assert (message.open_count, message.opened_at) == (1, first)


def test_a_click_after_recorded_opens_leaves_them_alone(client, message):
    opened = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    Message.objects.filter(pk=message.pk).update(open_count=3, opened_at=opened)
    assert client.get(click_url(message.pk, 0)).status_code == 302
    message.refresh_from_db()
    assert (message.open_count, message.opened_at, message.click_count) == (3, opened, 1)


def test_head_on_a_click_link_redirects_without_counting(client, message):
    response = client.head(click_url(message.pk, 0))
    assert response.status_code == 302 and response["Location"] == "https://a.example/one"
    message.refresh_from_db()
    assert (message.click_count, message.open_count) == (0, 0)


def test_a_click_token_cannot_lead_to_a_url_that_is_not_in_its_message(
    client, org, lead, enrollment, message
):
    other = make_message(
        org, lead, enrollment=enrollment, body_html='<a href="https://evil.example/">x</a>'
    )
    # Message A's own link 0 is where A's token goes.
    assert client.get(click_url(message.pk, 0))["Location"] == "https://a.example/one"
    # A's signature with B's id (or another index) does not verify.
    signature = tracking.token(message.pk, tracking.SALT_CLICK, 0).split(".")[0]
    for value in (f"{other.pk}.0", f"{message.pk}.2", f"{message.pk}"):
        response = client.get(reverse("campaigns:click", args=[f"{signature}.{value}"]))
        assert response.status_code == 404 and not response.has_header("Location")
    # B's own token leads to B's own link only, and no index counts from the end.
    assert client.get(click_url(other.pk, 0))["Location"] == "https://evil.example/"
    assert client.get(click_url(other.pk, -1)).status_code == 404
    message.refresh_from_db()
    assert message.click_count == 1


@pytest.mark.parametrize(
    "make_token",
    [
        lambda m: forged(tracking.token(m.pk, tracking.SALT_CLICK, 0)),
        lambda m: tracking.token(m.pk, tracking.SALT_OPEN),
        lambda m: tracking.token(m.pk, tracking.SALT_UNSUBSCRIBE),
        lambda m: tracking.token(m.pk, tracking.SALT_CLICK),
        lambda m: tracking.token(m.pk, tracking.SALT_CLICK, 6),
        lambda m: tracking.token(m.pk, tracking.SALT_CLICK, 99),
        lambda m: tracking.token(m.pk, tracking.SALT_CLICK, -1),
        lambda m: tracking.token(m.pk + 1000, tracking.SALT_CLICK, 0),
        lambda m: tracking.token(m.pk, tracking.SALT_CLICK, 1),
        lambda m: tracking.token(m.pk, tracking.SALT_CLICK, 3),
        lambda m: tracking.token(m.pk, tracking.SALT_CLICK, 4),
        lambda m: tracking.token(m.pk, tracking.SALT_CLICK, 5),
        lambda m: "nonsense",
    ],
    ids=[
        "tampered",
        "open-salt",
        "unsubscribe-salt",
        "no-index",
        "index-past-the-end",
        "index-far-out",
        "negative-index",
        "unknown-message",
        "mailto-link",
        "javascript-link",
        "scheme-relative-link",
        "link-without-host",
        "garbage",
    ],
)
def test_a_bad_click_token_is_404_and_redirects_nowhere(client, message, make_token):
    response = client.get(reverse("campaigns:click", args=[make_token(message)]))
    assert response.status_code == 404
    assert not response.has_header("Location")
    message.refresh_from_db()
    assert (message.click_count, message.open_count) == (0, 0)


def test_click_and_pixel_refuse_post(client, message):
    assert client.post(click_url(message.pk, 0)).status_code == 405
    assert client.post(open_url(message.pk)).status_code == 405
    message.refresh_from_db()
    assert (message.click_count, message.open_count) == (0, 0)
