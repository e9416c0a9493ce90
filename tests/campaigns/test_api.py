"""Campaigns over the API: senders (the SMTP password write-only and encrypted), campaigns
with their window and steps (templates checked), enrolling, launching and its conflicts,
pause/resume/cancel, stats counted from the message log, the message log itself and the
suppression list; other organizations' ids, roles and key scopes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import override_settings

from accounts import crypto
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Enrollment,
    EnrollmentStatus,
    Message,
    MessageStatus,
    Sender,
    Step,
)
from leads.models import CustomFieldDefinition, Lead, Suppression
from tests import factories
from tests.accounts.api_support import assert_error, key_client

pytestmark = pytest.mark.django_db

SENDERS = "/api/v1/senders/"
CAMPAIGNS = "/api/v1/campaigns/"
SUPPRESSIONS = "/api/v1/suppressions/"
PASSWORD = "s3cret-smtp-Passw0rd"
OPENED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _sender(org, **fields) -> Sender:
    fields.setdefault("name", "Rita")
    fields.setdefault("email", "rita@acme.example")
    return Sender.objects.create(organization=org, **fields)


def _campaign(org, sender=None, steps=1, **fields) -> Campaign:
    campaign = Campaign.objects.create(
        organization=org, name=fields.pop("name", "Q4"), sender=sender or _sender(org), **fields
    )
    for order in range(1, steps + 1):
        Step.objects.create(
            organization=org,
            campaign=campaign,
            order=order,
            subject=f"Step {order} for {{{{ first_name }}}}",
            body='Hi {{ first_name|default:"there" }}',
        )
    return campaign


def _lead(org, email, **fields) -> Lead:
    fields.setdefault("first_name", "Ada")
    return factories.make_lead(org, email=email, **fields)


def url(campaign, tail: str = "") -> str:
    return f"{CAMPAIGNS}{campaign.pk}/{tail}"


# ---------------------------------------------------------------- senders


def test_a_sender_round_trip_never_echoes_the_password(owner_api, org):
    body = {
        "name": "Rita Sales",
        "email": "rita@acme.example",
        "reply_to": "replies@acme.example",
        "signature": "Rita, Acme",
        "daily_cap": 150,
        "rate_per_minute": 10,
        "ramp_up": True,
        "smtp": {
            "host": "SMTP.Acme.example",
            "username": "rita",
            "password": PASSWORD,
            "security": "ssl",
        },
    }
    response = owner_api.post(SENDERS, body, format="json")

    assert response.status_code == 201, response.content
    assert PASSWORD.encode() not in response.content
    created = response.json()
    assert created["smtp"] == {
        "host": "smtp.acme.example",
        "port": 465,
        "username": "rita",
        "security": "ssl",
        "password_set": True,
    }
    assert {k: created[k] for k in ("name", "daily_cap", "rate_per_minute", "ramp_up")} == {
        "name": "Rita Sales",
        "daily_cap": 150,
        "rate_per_minute": 10,
        "ramp_up": True,
    }
    row = Sender.objects.get(pk=created["id"])
    assert row.organization_id == org.pk
    assert PASSWORD not in row.smtp_password_encrypted
    assert crypto.decrypt(row.smtp_password_encrypted) == PASSWORD

    read = owner_api.get(f"{SENDERS}{row.pk}/")
    assert read.json() == created and PASSWORD.encode() not in read.content
    listed = owner_api.get(SENDERS)
    assert [s["id"] for s in listed.json()["results"]] == [row.pk]
    assert PASSWORD.encode() not in listed.content


def test_changing_a_sender_keeps_clears_or_drops_its_smtp(owner_api, org):
    created = owner_api.post(
        SENDERS,
        {
            "name": "Rita",
            "email": "rita@acme.example",
            "smtp": {"host": "smtp.acme.example", "username": "rita", "password": PASSWORD},
        },
        format="json",
    ).json()
    detail = f"{SENDERS}{created['id']}/"
    assert created["smtp"]["port"] == 587  # starttls by default

    # Another port, the password left out: it stays.
    changed = owner_api.patch(detail, {"smtp": {"port": 2525}}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["smtp"]["port"] == 2525 and changed.json()["smtp"]["password_set"]
    row = Sender.objects.get(pk=created["id"])
    assert crypto.decrypt(row.smtp_password_encrypted) == PASSWORD and row.smtp_port == 2525

    # A new password replaces it; an empty one removes it.
    owner_api.patch(detail, {"smtp": {"password": "other-pass"}}, format="json")
    row.refresh_from_db()
    assert crypto.decrypt(row.smtp_password_encrypted) == "other-pass"
    cleared = owner_api.patch(detail, {"smtp": {"password": ""}}, format="json").json()
    assert cleared["smtp"]["password_set"] is False
    row.refresh_from_db()
    assert row.smtp_password_encrypted == "" and row.smtp_username == "rita"

    # null: the install's own server, with nothing of the old one left.
    owner_api.patch(detail, {"smtp": {"password": PASSWORD}}, format="json")
    dropped = owner_api.patch(detail, {"smtp": None, "name": "Rita B"}, format="json").json()
    assert dropped["smtp"] == {
        "host": "",
        "port": None,
        "username": "",
        "security": "starttls",
        "password_set": False,
    }
    row.refresh_from_db()
    assert (row.name, row.smtp_host, row.smtp_username, row.smtp_password_encrypted) == (
        "Rita B",
        "",
        "",
        "",
    )


def test_a_sender_without_smtp_uses_the_install_server(owner_api):
    created = owner_api.post(SENDERS, {"name": "Rita", "email": "rita@acme.example"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["smtp"]["host"] == "" and created.json()["smtp"]["password_set"] is False
    assert (created.json()["daily_cap"], created.json()["rate_per_minute"]) == (200, 20)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"smtp": {"username": "rita", "password": "x"}}, "smtp"),
        ({"smtp": {"host": "bad host!"}}, "smtp"),
        ({"smtp": {"host": "smtp.acme.example", "port": 70000}}, "smtp"),
        ({"smtp": {"host": "smtp.acme.example", "security": "tls9"}}, "smtp"),
        ({"smtp": {"host": "smtp.acme.example", "pass": "x"}}, "smtp"),
        ({"email": "not-an-address"}, "email"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"rate_per_minute": -1}, "rate_per_minute"),
        ({"password": "x"}, "password"),
    ],
)
def test_a_bad_sender_is_a_400_naming_the_field(owner_api, body, field):
    response = owner_api.post(
        SENDERS, {"name": "Rita", "email": "rita@acme.example", **body}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert field in error["details"], error
    assert not Sender.objects.exists()


def test_a_sender_in_use_cannot_be_deleted(owner_api, org):
    used = _sender(org)
    _campaign(org, used)
    unused = _sender(org, name="Spare", email="spare@acme.example")

    assert_error(owner_api.delete(f"{SENDERS}{used.pk}/"), 409, "conflict")
    assert Sender.objects.filter(pk=used.pk).exists()
    assert owner_api.delete(f"{SENDERS}{unused.pk}/").status_code == 204
    assert not Sender.objects.filter(pk=unused.pk).exists()


# ---------------------------------------------------------------- campaigns

CAMPAIGN_BODY = {
    "name": "Q4 outreach",
    "track_opens": True,
    "track_clicks": False,
    "stop_on_reply": True,
    "stop_company_on_reply": True,
    "start_at": "2026-12-01T08:00:00Z",
    "window": {
        "days": [4, 0, 2, 2],
        "start": "08:30",
        "end": "17:00",
        "time_zone": "Europe/Berlin",
        "lead_time_zone": True,
    },
    "steps": [
        {
            "subject": "Hi {{ first_name }}",
            "body": 'About {{ company|default:"your team" }}.\n\n{{ unsubscribe_url }}',
            "variants": [
                {
                    "key": "B",
                    "subject": "{{ first_name|upper }}, a question",
                    "body": "Short one. {{ custom.plan }}",
                    "weight": 30,
                }
            ],
        },
        {"delay_days": 3, "delay_hours": 4, "subject": "Re: hi", "body": "Following up."},
    ],
}


def test_a_campaign_round_trip_with_window_and_steps(owner_api, org, owner):
    CustomFieldDefinition.objects.create(organization=org, key="plan", label="Plan")
    sender = _sender(org)
    response = owner_api.post(CAMPAIGNS, {**CAMPAIGN_BODY, "sender": sender.pk}, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "draft" and created["sender"] == sender.pk
    assert created["created_by"] == owner.pk
    assert created["window"] == {
        "days": [0, 2, 4],
        "start": "08:30",
        "end": "17:00",
        "time_zone": "Europe/Berlin",
        "lead_time_zone": True,
    }
    steps = created["steps"]
    assert [(s["order"], s["delay_days"], s["delay_hours"]) for s in steps] == [
        (1, 0, 0),
        (2, 3, 4),
    ]
    assert steps[0]["variants"] == CAMPAIGN_BODY["steps"][0]["variants"]
    assert steps[1]["variants"] == []

    campaign = Campaign.objects.get(pk=created["id"])
    assert campaign.organization_id == org.pk and campaign.lead_timezone
    assert campaign.window_days == [0, 2, 4] and str(campaign.window_start) == "08:30:00"
    assert list(campaign.steps.values_list("order", "subject")) == [
        (1, "Hi {{ first_name }}"),
        (2, "Re: hi"),
    ]
    assert owner_api.get(url(campaign)).json() == created


def test_a_draft_gets_its_steps_replaced_keeping_rows_by_order(owner_api, org):
    campaign = _campaign(org, steps=3)
    first, second, third = campaign.steps.order_by("order")
    response = owner_api.patch(
        url(campaign),
        {
            "steps": [
                {"order": 1, "subject": "New first", "body": "Hi"},
                {"order": 3, "subject": third.subject, "body": third.body},
                {"order": 5, "subject": "Added", "body": "Bye"},
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    steps = response.json()["steps"]
    assert [(s["order"], s["subject"]) for s in steps] == [
        (1, "New first"),
        (3, third.subject),
        (5, "Added"),
    ]
    assert steps[0]["id"] == first.pk and steps[1]["id"] == third.pk
    assert not Step.objects.filter(pk=second.pk).exists()
    # Without `steps`, the steps stay as they are.
    renamed = owner_api.patch(url(campaign), {"name": "Renamed"}, format="json").json()
    assert renamed["name"] == "Renamed" and [s["order"] for s in renamed["steps"]] == [1, 3, 5]


def test_steps_in_a_patch_are_given_whole(owner_api, org):
    campaign = _campaign(org, steps=2)
    before = list(campaign.steps.values_list("pk", "order", "subject"))
    error = assert_error(
        owner_api.patch(url(campaign), {"steps": [{"order": 1, "body": "x"}]}, format="json"),
        400,
        "validation_error",
    )
    assert error["details"] == {"steps": {"0": {"subject": ["This field is required."]}}}
    assert list(campaign.steps.values_list("pk", "order", "subject")) == before
    emptied = owner_api.patch(url(campaign), {"steps": []}, format="json")
    assert emptied.status_code == 200 and emptied.json()["steps"] == []
    assert not campaign.steps.exists()


def test_a_window_can_change_field_by_field(owner_api, org):
    campaign = _campaign(org)
    response = owner_api.patch(url(campaign), {"window": {"end": "12:15"}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["window"]["start"] == "09:00"
    assert response.json()["window"]["end"] == "12:15"
    early = owner_api.patch(url(campaign), {"window": {"end": "08:00"}}, format="json")
    error = assert_error(early, 400, "validation_error")
    assert error["details"] == {"window": {"end": ["The window must end after it starts."]}}


def test_template_problems_come_back_per_step_and_variant(owner_api, org):
    sender = _sender(org)
    body = {
        "name": "Broken",
        "sender": sender.pk,
        "steps": [
            {
                "subject": "Fine {{ first_name }}",
                "body": "Fine",
                "variants": [{"key": "B", "subject": "{{ password }}", "body": "ok", "weight": 50}],
            },
            {"subject": "Ok", "body": "{% if x %}no{% endif %}"},
        ],
    }
    error = assert_error(owner_api.post(CAMPAIGNS, body, format="json"), 400, "validation_error")

    # Keyed by the step's position in the list given (and the variant's in its list).
    steps = error["details"]["steps"]
    assert list(steps) == ["0", "1"]
    assert steps["0"] == {"variants": {"0": {"subject": ["Unknown variable “password”."]}}}
    assert list(steps["1"]) == ["body"] and "Only {{ variables }}" in steps["1"]["body"][0]
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"window": {"time_zone": "Mars/Olympus"}}, ("window", "time_zone")),
        ({"window": {"time_zone": "posix/Europe/Berlin"}}, ("window", "time_zone")),
        ({"window": {"days": [7]}}, ("window", "days")),
        ({"window": {"days": []}}, ("window", "days")),
        ({"window": {"start": "25:00"}}, ("window", "start")),
        ({"window": {"start": "18:00"}}, ("window", "end")),
        ({"window": {"colour": "red"}}, ("window", "colour")),
        ({"steps": [{"order": 2, "subject": "a", "body": "b"}] * 2}, ("steps",)),
        (
            {"steps": [{"subject": "a", "body": "b", "variants": [{"key": "A"}]}]},
            ("steps",),
        ),
        (
            {
                "steps": [
                    {
                        "subject": "a",
                        "body": "b",
                        "variants": [
                            {"key": "B", "subject": "b", "body": "b", "weight": 60},
                            {"key": "C", "subject": "c", "body": "c", "weight": 40},
                        ],
                    }
                ]
            },
            ("steps",),
        ),
        ({"name": ""}, ("name",)),
        ({"sender": None}, ("sender",)),
    ],
)
def test_a_bad_campaign_is_a_400_naming_the_field(owner_api, org, change, path):
    body = {"name": "Q4", "sender": _sender(org).pk, **change}
    error = assert_error(owner_api.post(CAMPAIGNS, body, format="json"), 400, "validation_error")
    details = error["details"]
    for key in path:
        assert key in details, error
        details = details[key]
    assert not Campaign.objects.exists()


def test_another_organizations_sender_is_refused(owner_api, org, other_org):
    foreign = _sender(other_org)
    error = assert_error(
        owner_api.post(CAMPAIGNS, {"name": "Q4", "sender": foreign.pk}, format="json"),
        400,
        "validation_error",
    )
    assert "sender" in error["details"]
    campaign = _campaign(org)
    assert_error(
        owner_api.patch(url(campaign), {"sender": foreign.pk}, format="json"),
        400,
        "validation_error",
    )
    assert Campaign.objects.get(pk=campaign.pk).sender.organization_id == org.pk


@pytest.mark.parametrize("status", ["running", "scheduled", "completed", "cancelled"])
def test_steps_only_change_while_draft_or_paused(owner_api, org, status):
    campaign = _campaign(org, status=status)
    step = campaign.steps.get()
    error = assert_error(
        owner_api.patch(
            url(campaign), {"steps": [{"subject": "New", "body": "New"}]}, format="json"
        ),
        409,
        "conflict",
    )
    assert "pause it" in error["message"]
    assert list(campaign.steps.values_list("pk", "subject")) == [(step.pk, step.subject)]
    # Other fields still change.
    renamed = owner_api.patch(url(campaign), {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["status"] == status


def test_a_paused_campaign_can_change_its_steps(owner_api, org):
    campaign = _campaign(org, status="paused")
    response = owner_api.put(
        url(campaign),
        {
            "name": "Q4",
            "sender": campaign.sender_id,
            "steps": [{"subject": "Better", "body": "Copy"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [s["subject"] for s in response.json()["steps"]] == ["Better"]


def test_deleting_a_campaign_under_way_is_a_conflict(owner_api, org):
    running = _campaign(org, status="running")
    assert_error(owner_api.delete(url(running)), 409, "conflict")
    assert Campaign.objects.filter(pk=running.pk).exists()
    draft = _campaign(org, name="Draft")
    assert owner_api.delete(url(draft)).status_code == 204
    assert not Campaign.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize("rows", [1, 5])
def test_the_campaign_list_query_count_does_not_grow(
    owner_api, org, rows, django_assert_num_queries
):
    sender = _sender(org)
    for n in range(rows):
        _campaign(org, sender, steps=2, name=f"C{n}")
    _campaign(org, sender, name="Done", status="completed")
    owner_api.get(CAMPAIGNS)  # the key's first use records last_used_at
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(5):
        # credential; membership; count; the page of campaigns; their steps
        response = owner_api.get(f"{CAMPAIGNS}?status=draft")
    body = response.json()
    assert body["count"] == rows and all(len(c["steps"]) == 2 for c in body["results"])


# ---------------------------------------------------------------- enroll


def test_enrolling_by_ids_counts_every_skip_and_foreign_ids(owner_api, org, other_org):
    campaign = _campaign(org)
    ok = _lead(org, "ok@x.example")
    other_ok = _lead(org, "ok2@x.example")
    no_email = _lead(org, "")
    suppressed = _lead(org, "gone@x.example")
    Suppression.objects.create(organization=org, email="gone@x.example", reason="manual")
    archived = _lead(org, "old@x.example")
    Lead.objects.filter(pk=archived.pk).update(archived_at=datetime(2026, 1, 1, tzinfo=UTC))
    foreign = _lead(other_org, "foreign@x.example")
    ids = [ok.pk, other_ok.pk, no_email.pk, suppressed.pk, archived.pk, foreign.pk, 99_999_999]

    response = owner_api.post(url(campaign, "enroll/"), {"lead_ids": ids}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "enrolled": 2,
        "skipped": {"no_email": 1, "suppressed": 1, "archived": 1, "not_found": 2},
        "skipped_total": 5,
    }
    assert set(campaign.enrollments.values_list("lead_id", flat=True)) == {ok.pk, other_ok.pk}
    assert not Enrollment.objects.filter(lead=foreign).exists()
    again = owner_api.post(url(campaign, "enroll/"), {"lead_ids": [ok.pk, ok.pk]}, format="json")
    assert again.json() == {"enrolled": 0, "skipped": {"already_enrolled": 1}, "skipped_total": 1}


def test_enrolling_by_filter_and_other_sequences(owner_api, org):
    campaign = _campaign(org)
    other = _campaign(org, campaign.sender, name="Other", status="running")
    busy = _lead(org, "busy@x.example", status="contacted")
    Enrollment.objects.create(organization=org, campaign=other, lead=busy)
    fresh = _lead(org, "new@x.example")
    _lead(org, "lost@x.example", status="lost")

    response = owner_api.post(
        url(campaign, "enroll/"),
        {"filter": {"status": ["new", "contacted"]}},
        format="json",
    )
    assert response.json() == {
        "enrolled": 1,
        "skipped": {"in_other_sequence": 1},
        "skipped_total": 1,
    }
    assert list(campaign.enrollments.values_list("lead_id", flat=True)) == [fresh.pk]
    allowed = owner_api.post(
        url(campaign, "enroll/"),
        {"filter": {"status": "contacted", "q": "busy"}, "allow_other_sequences": True},
        format="json",
    )
    assert allowed.json()["enrolled"] == 1
    assert campaign.enrollments.filter(lead=busy).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "lead_ids"),
        ({"lead_ids": [1], "filter": {}}, "lead_ids"),
        ({"lead_ids": []}, "lead_ids"),
        ({"lead_ids": ["x"]}, "lead_ids"),
        ({"filter": {"colour": "red"}}, "filter"),
        ({"filter": {"status": ["sleeping"]}}, "filter"),
        ({"filter": {"score_min": {"a": 1}}}, "filter"),
        ({"filter": {"q": "a\x00b"}}, "filter"),
        ({"filter": {"created_after": "yesterday"}}, "filter"),
        ({"lead_ids": [1], "everyone": True}, "everyone"),
    ],
)
def test_a_bad_enroll_body_is_a_400(owner_api, org, body, field):
    campaign = _campaign(org)
    error = assert_error(
        owner_api.post(url(campaign, "enroll/"), body, format="json"), 400, "validation_error"
    )
    assert field in error["details"], error


def test_enrolling_into_a_cancelled_campaign_is_a_conflict(owner_api, org):
    campaign = _campaign(org, status="cancelled")
    lead = _lead(org, "ok@x.example")
    error = assert_error(
        owner_api.post(url(campaign, "enroll/"), {"lead_ids": [lead.pk]}, format="json"),
        409,
        "conflict",
    )
    assert "cancelled" in error["message"]
    assert not campaign.enrollments.exists()


# ---------------------------------------------------------------- launch and states


def test_launch_refuses_with_the_leads_missing_values_then_skips_them(owner_api, org):
    campaign = _campaign(org)
    campaign.steps.update(subject="For {{ title }}")
    titled = _lead(org, "ok@x.example", title="CTO")
    untitled = _lead(org, "anon@x.example", title="")
    owner_api.post(url(campaign, "enroll/"), {"lead_ids": [titled.pk, untitled.pk]}, format="json")

    error = assert_error(owner_api.post(url(campaign, "launch/")), 409, "conflict")
    assert error["details"] == {
        "missing": [{"lead_id": untitled.pk, "name": "Ada Example", "missing": ["title"]}],
        "missing_total": 1,
    }
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"

    launched = owner_api.post(url(campaign, "launch/"), {"skip_missing": True}, format="json")
    assert launched.status_code == 200, launched.content
    assert launched.json()["status"] == "running" and launched.json()["launched_at"]
    statuses = dict(campaign.enrollments.values_list("lead_id", "status"))
    assert statuses == {titled.pk: EnrollmentStatus.ACTIVE, untitled.pk: EnrollmentStatus.STOPPED}
    # Launched already: a conflict, as is a campaign without steps.
    assert_error(owner_api.post(url(campaign, "launch/")), 409, "conflict")
    empty = _campaign(org, campaign.sender, steps=0, name="Empty")
    error = assert_error(owner_api.post(url(empty, "launch/")), 409, "conflict")
    assert "at least one step" in error["message"]


def test_launch_refuses_broken_templates_with_the_problems(owner_api, org):
    campaign = _campaign(org)
    campaign.steps.update(body="{{ custom.gone }}")  # a custom field removed since
    error = assert_error(owner_api.post(url(campaign, "launch/")), 409, "conflict")
    assert error["details"] == {"problems": ["Step 1 body: Unknown variable “custom.gone”."]}


def test_a_campaign_with_a_later_start_is_scheduled(owner_api, org):
    campaign = _campaign(org, start_at=datetime(2099, 1, 1, tzinfo=UTC))
    assert owner_api.post(url(campaign, "launch/")).json()["status"] == "scheduled"


def test_pause_resume_cancel(owner_api, org):
    campaign = _campaign(org)
    assert_error(owner_api.post(url(campaign, "pause/")), 409, "conflict")
    assert_error(owner_api.post(url(campaign, "resume/")), 409, "conflict")
    owner_api.post(url(campaign, "launch/"))

    paused = owner_api.post(url(campaign, "pause/"), {"reason": "Checking copy"}, format="json")
    assert paused.status_code == 200, paused.content
    assert (paused.json()["status"], paused.json()["paused_reason"]) == ("paused", "Checking copy")
    resumed = owner_api.post(url(campaign, "resume/"))
    assert (resumed.json()["status"], resumed.json()["paused_reason"]) == ("running", "")
    cancelled = owner_api.post(url(campaign, "cancel/"))
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"]
    assert_error(owner_api.post(url(campaign, "cancel/")), 409, "conflict")
    assert_error(
        owner_api.post(url(campaign, "pause/"), {"why": "x"}, format="json"),
        400,
        "validation_error",
    )


# ---------------------------------------------------------------- stats


def _message(campaign, step, lead, variant="", **fields) -> Message:
    enrollment, _ = Enrollment.objects.get_or_create(
        organization=campaign.organization, campaign=campaign, lead=lead
    )
    fields.setdefault("status", MessageStatus.SENT)
    if fields["status"] != MessageStatus.QUEUED:
        fields.setdefault("sent_at", datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    return Message.objects.create(
        organization=campaign.organization,
        enrollment=enrollment,
        campaign=campaign,
        step=step,
        lead=lead,
        sender=campaign.sender,
        variant=variant,
        to_email=lead.email,
        subject=fields.pop("subject", f"Hello {lead.email}"),
        body_text="Hello",
        message_id=f"{campaign.pk}.{step.pk}.{lead.pk}@test",
        **fields,
    )


@pytest.fixture
def stats_campaign(org):
    """Step 1 (A/B) to five leads, step 2 to two of them, from hand-made message rows."""
    campaign = _campaign(org, steps=2, time_zone="Europe/Berlin")
    first, second = campaign.steps.order_by("order")
    first.variants = [{"key": "B", "subject": "b", "body": "b", "weight": 50}]
    first.save()
    leads = [_lead(org, f"l{n}@x.example") for n in range(6)]
    day1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 3 March in Berlin
    day3 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    _message(campaign, first, leads[0], opened_at=day1, clicked_at=late, replied_at=day3)
    _message(campaign, first, leads[1], opened_at=late)
    _message(campaign, first, leads[2], status=MessageStatus.BOUNCED)
    _message(campaign, first, leads[3], "B", opened_at=late)
    _message(campaign, first, leads[4], "B", sent_at=late)
    _message(campaign, second, leads[0], sent_at=day3)
    _message(campaign, second, leads[1], status=MessageStatus.QUEUED)
    # An unsubscribe counts for the last message the lead was sent: lead 4's only one
    # (variant B), lead 0's step 2.
    Enrollment.objects.filter(lead__in=[leads[0], leads[4]]).update(
        status=EnrollmentStatus.UNSUBSCRIBED
    )
    Enrollment.objects.create(organization=org, campaign=campaign, lead=leads[5])
    return campaign


def _counts(row):
    return {k: row[k] for k in ("enrolled", "sent", "delivered", "opened", "clicked")} | {
        k: row[k] for k in ("replied", "bounced", "unsubscribed")
    }


def test_stats_per_campaign_step_and_variant(owner_api, stats_campaign):
    response = owner_api.get(url(stats_campaign, "stats/"))
    assert response.status_code == 200, response.content
    stats = response.json()
    first, second = stats_campaign.steps.order_by("order")

    assert stats["campaign"] == stats_campaign.pk
    totals = stats["totals"]
    assert _counts(totals) == {
        "enrolled": 6,
        "sent": 6,
        "delivered": 5,
        "opened": 3,
        "clicked": 1,
        "replied": 1,
        "bounced": 1,
        "unsubscribed": 2,
    }
    assert totals["rates"] == {
        "delivered": 0.8333,
        "opened": 0.5,
        "clicked": 0.1667,
        "replied": 0.1667,
        "bounced": 0.1667,
        "unsubscribed": 0.3333,
    }
    step1, step2 = stats["steps"]
    assert (step1["id"], step1["order"], step2["id"]) == (first.pk, 1, second.pk)
    assert _counts(step1) == {
        "enrolled": 5,
        "sent": 5,
        "delivered": 4,
        "opened": 3,
        "clicked": 1,
        "replied": 1,
        "bounced": 1,
        "unsubscribed": 1,
    }
    a, b = step1["variants"]
    assert (a["key"], b["key"]) == ("A", "B")
    assert _counts(a) == {
        "enrolled": 3,
        "sent": 3,
        "delivered": 2,
        "opened": 2,
        "clicked": 1,
        "replied": 1,
        "bounced": 1,
        "unsubscribed": 0,
    }
    assert a["rates"]["opened"] == 0.6667 and a["rates"]["bounced"] == 0.3333
    assert _counts(b) | {"opened_rate": b["rates"]["opened"]} == {
        "enrolled": 2,
        "sent": 2,
        "delivered": 2,
        "opened": 1,
        "clicked": 0,
        "replied": 0,
        "bounced": 0,
        "unsubscribed": 1,
        "opened_rate": 0.5,
    }
    # Step 2: one sent, one still queued (addressed, not sent).
    assert _counts(step2) == {
        "enrolled": 2,
        "sent": 1,
        "delivered": 1,
        "opened": 0,
        "clicked": 0,
        "replied": 0,
        "bounced": 0,
        "unsubscribed": 1,
    }
    assert [v["key"] for v in step2["variants"]] == ["A"]
    # Each event on its own day, in Berlin: 23:30 UTC on the 2nd is the 3rd there.
    assert stats["by_day"] == [
        {"date": "2026-03-02", "sent": 4, "opened": 1, "clicked": 0, "replied": 0},
        {"date": "2026-03-03", "sent": 1, "opened": 2, "clicked": 1, "replied": 0},
        {"date": "2026-03-04", "sent": 1, "opened": 0, "clicked": 0, "replied": 1},
    ]


def test_stats_of_a_campaign_without_messages(owner_api, org):
    campaign = _campaign(org)
    stats = owner_api.get(url(campaign, "stats/")).json()
    assert stats["totals"]["sent"] == 0 and stats["totals"]["rates"]["opened"] is None
    assert [v["key"] for v in stats["steps"][0]["variants"]] == ["A"]
    assert stats["by_day"] == []


@pytest.mark.parametrize("extra", [0, 8])
def test_the_stats_query_count_does_not_grow(
    owner_api, org, stats_campaign, extra, django_assert_num_queries
):
    step = stats_campaign.steps.order_by("order").first()
    for n in range(extra):
        _message(stats_campaign, step, _lead(org, f"more{n}@x.example"), opened_at=OPENED)
    owner_api.get(url(stats_campaign, "stats/"))
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(7):
        # credential; membership; campaign; message counts per step and variant;
        # enrollments; steps; events per day (one UNION query)
        response = owner_api.get(url(stats_campaign, "stats/"))
    assert response.json()["totals"]["sent"] == 6 + extra


# ---------------------------------------------------------------- message log


def test_the_message_log_filters_and_pages(owner_api, stats_campaign):
    messages = f"{url(stats_campaign)}messages/"
    everything = owner_api.get(messages).json()
    assert everything["count"] == 7
    row = everything["results"][0]
    assert set(row) == {
        "id",
        "lead",
        "enrollment",
        "step",
        "step_order",
        "variant",
        "to_email",
        "subject",
        "status",
        "message_id",
        "attempts",
        "smtp_response",
        "error",
        "created_at",
        "sent_at",
        "opened_at",
        "open_count",
        "clicked_at",
        "click_count",
        "replied_at",
    }

    def emails(query: str) -> list[str]:
        return sorted(m["to_email"] for m in owner_api.get(f"{messages}?{query}").json()["results"])

    assert emails("status=bounced") == ["l2@x.example"]
    assert emails("status=queued") == ["l1@x.example"]
    assert emails("q=L3@X") == ["l3@x.example"]
    assert emails("q=hello l4") == ["l4@x.example"]
    assert emails("status=sent&q=l0") == ["l0@x.example", "l0@x.example"]
    page = owner_api.get(f"{messages}?limit=2&offset=6").json()
    assert page["count"] == 7 and len(page["results"]) == 1 and page["next"] is None
    assert_error(owner_api.get(f"{messages}?status=lost"), 400, "validation_error")


@pytest.mark.parametrize("extra", [0, 6])
def test_the_message_log_query_count_does_not_grow(
    owner_api, org, stats_campaign, extra, django_assert_num_queries
):
    step = stats_campaign.steps.order_by("order").first()
    for n in range(extra):
        _message(stats_campaign, step, _lead(org, f"more{n}@x.example"))
    messages = f"{url(stats_campaign)}messages/"
    owner_api.get(messages)
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(5):
        # credential; membership; campaign; count; the page of messages with their steps
        response = owner_api.get(messages)
    body = response.json()
    assert body["count"] == 7 + extra and all(m["step_order"] for m in body["results"])


# ---------------------------------------------------------------- suppressions


def test_suppressions_add_list_search_and_remove(owner_api, org):
    created = owner_api.post(SUPPRESSIONS, {"email": "  Ada@Example.COM "}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["email"], body["reason"]) == ("ada@example.com", "manual")
    assert Suppression.objects.get(pk=body["id"]).organization_id == org.pk

    twice = owner_api.post(SUPPRESSIONS, {"email": "ADA@example.com"}, format="json")
    error = assert_error(twice, 409, "conflict")
    assert error["details"] == {"id": body["id"]}
    owner_api.post(SUPPRESSIONS, {"email": "bob@else.example", "reason": "bounced"}, format="json")

    listed = owner_api.get(SUPPRESSIONS).json()
    assert [s["email"] for s in listed["results"]] == ["bob@else.example", "ada@example.com"]
    found = owner_api.get(f"{SUPPRESSIONS}?q=EXAMPLE.com").json()
    assert [s["email"] for s in found["results"]] == ["ada@example.com"]

    assert owner_api.delete(f"{SUPPRESSIONS}{body['id']}/").status_code == 204
    assert not Suppression.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "a@b.example", "reason": "erased"}, "reason"),
        ({"email": "a@b.example", "lead": 1}, "lead"),
        ({}, "email"),
    ],
)
def test_a_bad_suppression_is_a_400(owner_api, body, field):
    error = assert_error(owner_api.post(SUPPRESSIONS, body, format="json"), 400)
    assert field in error["details"]


def test_a_suppressed_address_is_skipped_when_enrolling(owner_api, org):
    campaign = _campaign(org)
    lead = _lead(org, "ada@example.com")
    owner_api.post(SUPPRESSIONS, {"email": "ADA@example.com"}, format="json")
    result = owner_api.post(url(campaign, "enroll/"), {"lead_ids": [lead.pk]}, format="json")
    assert result.json()["skipped"] == {"suppressed": 1}


# ---------------------------------------------------------------- tenancy, roles, scopes


def test_another_organizations_ids_are_404(owner_api, other_org):
    sender = _sender(other_org)
    campaign = _campaign(other_org, sender)
    lead = _lead(other_org, "theirs@x.example")
    suppression = Suppression.objects.create(
        organization=other_org, email="theirs@x.example", reason="manual"
    )
    for method, path, body in [
        ("get", f"{SENDERS}{sender.pk}/", None),
        ("patch", f"{SENDERS}{sender.pk}/", {"name": "Mine"}),
        ("delete", f"{SENDERS}{sender.pk}/", None),
        ("get", url(campaign), None),
        ("put", url(campaign), {"name": "Mine", "sender": sender.pk}),
        ("delete", url(campaign), None),
        ("post", url(campaign, "enroll/"), {"lead_ids": [lead.pk]}),
        ("post", url(campaign, "launch/"), {}),
        ("post", url(campaign, "pause/"), {}),
        ("post", url(campaign, "cancel/"), {}),
        ("get", url(campaign, "stats/"), None),
        ("get", url(campaign, "messages/"), None),
        ("get", f"{SUPPRESSIONS}{suppression.pk}/", None),
        ("delete", f"{SUPPRESSIONS}{suppression.pk}/", None),
    ]:
        response = getattr(owner_api, method)(path, body, format="json")
        assert_error(response, 404, "not_found")
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Q4", "draft")
    assert Sender.objects.filter(pk=sender.pk, name="Rita").exists()
    assert Suppression.objects.filter(pk=suppression.pk).exists()
    assert not campaign.enrollments.exists()
    assert owner_api.get(SENDERS).json()["count"] == 0
    assert owner_api.get(CAMPAIGNS).json()["count"] == 0
    assert owner_api.get(SUPPRESSIONS).json()["count"] == 0


def test_a_read_only_key_reads_but_cannot_write(org, owner):
    campaign = _campaign(org)
    client = key_client(org, owner, {"campaigns": "read"})
    assert client.get(CAMPAIGNS).status_code == 200
    assert client.get(url(campaign, "stats/")).status_code == 200
    assert client.get(url(campaign, "messages/")).status_code == 200
    assert client.get(SENDERS).status_code == 200
    for path, body in [
        (CAMPAIGNS, {"name": "X", "sender": campaign.sender_id}),
        (url(campaign, "launch/"), {}),
        (SENDERS, {"name": "X", "email": "x@x.example"}),
        (SUPPRESSIONS, {"email": "x@x.example"}),
    ]:
        error = assert_error(client.post(path, body, format="json"), 403, "insufficient_scope")
        assert error["details"] == {"required_scope": "campaigns:write"}
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    assert not Suppression.objects.exists()


def test_a_key_without_the_campaigns_scope_reads_nothing(org, owner):
    client = key_client(org, owner, {"leads": "write"})
    assert_error(client.get(CAMPAIGNS), 403, "insufficient_scope")
    assert_error(client.get(SUPPRESSIONS), 403, "insufficient_scope")


def test_a_viewer_reads_but_cannot_write(viewer_api, org):
    campaign = _campaign(org)
    assert viewer_api.get(url(campaign)).status_code == 200
    assert viewer_api.get(SUPPRESSIONS).status_code == 200
    assert_error(viewer_api.post(url(campaign, "launch/")), 403, "permission_denied")
    assert_error(viewer_api.delete(url(campaign)), 403, "permission_denied")
    assert_error(
        viewer_api.post(SUPPRESSIONS, {"email": "x@x.example"}, format="json"),
        403,
        "permission_denied",
    )
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT


def test_wrong_methods_are_405(owner_api, org):
    campaign = _campaign(org)
    assert_error(owner_api.get(url(campaign, "launch/")), 405, "method_not_allowed")
    assert_error(owner_api.post(url(campaign, "stats/")), 405, "method_not_allowed")
    assert_error(owner_api.post(url(campaign, "messages/")), 405, "method_not_allowed")
    assert_error(owner_api.patch(f"{SUPPRESSIONS}1/", {}, format="json"), 405)
