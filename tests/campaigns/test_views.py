"""Campaign pages: senders, the builder (two steps, template errors shown), adding leads
from the lead list, launch (with the missing-values list), preview, stats, the message log,
and who may do what."""

from __future__ import annotations

import pytest

from accounts import crypto
from campaigns.models import Campaign, Enrollment, Message, Sender
from leads.models import Suppression
from tests import factories

pytestmark = pytest.mark.django_db


def url(org, path=""):
    return f"/o/{org.slug}/campaigns/{path}"


@pytest.fixture
def sender(org):
    return Sender.objects.create(organization=org, name="Rita", email="rita@acme.example")


def campaign_data(sender, **extra):
    data = {
        "name": "Q4 outreach",
        "sender": sender.pk,
        "window_days": ["0", "1", "2", "3", "4"],
        "window_start": "09:00",
        "window_end": "17:00",
        "time_zone": "Europe/Berlin",
        "stop_on_reply": "on",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "1",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-delay_days": "0",
        "steps-0-delay_hours": "0",
        "steps-0-subject": "Hi {{ first_name }}",
        "steps-0-body": 'A note for {{ company|default:"your team" }}.',
        "steps-1-delay_days": "3",
        "steps-1-delay_hours": "0",
        "steps-1-subject": "Re: Hi {{ first_name }}",
        "steps-1-body": "Following up.",
    }
    data.update(extra)
    return data


def test_sender_password_is_stored_encrypted(owner_client, org):
    response = owner_client.post(
        url(org, "senders/new/"),
        {
            "name": "Rita",
            "email": "rita@acme.example",
            "daily_cap": "100",
            "rate_per_minute": "10",
            "smtp_host": "smtp.acme.example",
            "smtp_port": "587",
            "smtp_username": "rita",
            "smtp_password": "hunter2-secret",
            "smtp_security": "starttls",
        },
    )
    assert response.status_code == 302
    sender = Sender.objects.get(organization=org)
    assert "hunter2" not in sender.smtp_password_encrypted
    assert crypto.decrypt(sender.smtp_password_encrypted) == "hunter2-secret"
    page = owner_client.get(url(org, f"senders/{sender.pk}/")).content.decode()
    assert "hunter2" not in page and "A password is stored" in page


def test_build_a_two_step_campaign(owner_client, org, sender):
    response = owner_client.post(url(org, "new/"), campaign_data(sender))
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(organization=org)
    steps = list(campaign.steps.values_list("order", "delay_days", "subject"))
    assert steps == [(1, 0, "Hi {{ first_name }}"), (2, 3, "Re: Hi {{ first_name }}")]
    assert campaign.window_days == [0, 1, 2, 3, 4] and campaign.time_zone == "Europe/Berlin"


def test_template_errors_are_shown_and_nothing_is_saved(owner_client, org, sender):
    data = campaign_data(sender, **{"steps-0-body": "{% load x %}{{ first_name|safe }}"})
    response = owner_client.post(url(org, "new/"), data)
    assert response.status_code == 400
    assert "Only {{ variables }} are supported" in response.content.decode()
    assert not Campaign.objects.exists()


def test_add_leads_from_the_lead_list_then_launch_preview_and_log(owner_client, org, owner, sender):
    owner_client.post(url(org, "new/"), campaign_data(sender))
    campaign = Campaign.objects.get()
    ada = factories.make_lead(org, actor=owner, first_name="Ada", email="ada@x.example")
    nameless = factories.make_lead(org, actor=owner, first_name="", email="anon@x.example")
    gone = factories.make_lead(org, actor=owner, first_name="Gone", email="gone@x.example")
    Suppression.objects.create(organization=org, email="gone@x.example", reason="unsubscribed")
    ids = [ada.pk, nameless.pk, gone.pk]
    chooser = owner_client.post(url(org, "add-leads/"), {"ids": ids}, HTTP_HX_REQUEST="true")
    assert chooser["HX-Redirect"] == url(org, "add-leads/")
    page = owner_client.get(url(org, "add-leads/")).content.decode()
    assert "Add 3 leads to a campaign" in page and "Q4 outreach" in page
    response = owner_client.post(url(org, "add-leads/"), {"campaign": campaign.pk}, follow=True)
    body = response.content.decode()
    assert "2 leads added to “Q4 outreach”. Skipped: 1 on the suppression list." in body
    refused = owner_client.post(url(org, f"{campaign.pk}/launch/"))
    assert refused.status_code == 409
    assert "missing values the templates use" in refused.content.decode()
    owner_client.post(url(org, f"{campaign.pk}/launch/"), {"skip_missing": "1"})
    campaign.refresh_from_db()
    assert campaign.status == "running"
    assert Enrollment.objects.get(lead=nameless).status == "stopped"
    detail = owner_client.get(url(org, f"{campaign.pk}/?preview={ada.pk}")).content.decode()
    assert "Hi Ada" in detail and "A note for your team." in detail
    Message.objects.create(
        organization=org,
        campaign=campaign,
        lead=ada,
        sender=sender,
        to_email=ada.email,
        subject="Hi Ada",
        body_text="x",
        message_id="m1@acme.example",
        status="sent",
        sent_at="2026-11-20T10:00:00Z",
        opened_at="2026-11-20T11:00:00Z",
    )
    detail = owner_client.get(url(org, f"{campaign.pk}/")).content.decode()
    assert 'id="step-stats"' in detail and "ada@x.example" in detail
    log = owner_client.get(
        url(org, f"{campaign.pk}/?q=nobody"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="log"
    )
    assert (
        "No message matches “nobody”." in log.content.decode()
        and "<html" not in log.content.decode()
    )


def test_pause_resume_cancel_from_the_page(owner_client, org, owner, sender):
    owner_client.post(url(org, "new/"), campaign_data(sender))
    campaign = Campaign.objects.get()
    owner_client.post(url(org, f"{campaign.pk}/launch/"))
    owner_client.post(url(org, f"{campaign.pk}/pause/"))
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    owner_client.post(url(org, f"{campaign.pk}/resume/"))
    owner_client.post(url(org, f"{campaign.pk}/cancel/"))
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"


def test_viewer_reads_but_cannot_change(viewer_client, org, sender):
    campaign = Campaign.objects.create(organization=org, name="C", sender=sender)
    assert viewer_client.get(url(org, f"{campaign.pk}/")).status_code == 200
    assert viewer_client.post(url(org, f"{campaign.pk}/launch/")).status_code == 403
    assert viewer_client.post(url(org, "senders/new/"), {}).status_code == 403


def test_outsider_gets_404(outsider_client, org, sender):
    campaign = Campaign.objects.create(organization=org, name="C", sender=sender)
    assert outsider_client.get(url(org, f"{campaign.pk}/")).status_code == 404
