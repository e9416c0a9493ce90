"""Templates (the sandbox), the sending window, enrollment with its skip reasons, and
launch's checks."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from campaigns import rendering, schedule, services
from campaigns.models import Campaign, CampaignStatus, Enrollment, EnrollmentStatus, Sender, Step
from leads.models import CustomFieldDefinition, Lead, Suppression
from tests import factories


def test_render_variables_with_default_and_case_filters():
    text, missing = rendering.render(
        'Hi {{ first_name|default:"there" }}, {{ company|upper }} / {{ custom.plan|lower }}',
        {"first_name": "", "company": "Acme", "custom.plan": "PRO"},
    )
    assert text == "Hi there, ACME / pro" and missing == set()
    text, missing = rendering.render("Hi {{ first_name }}!", {})
    assert text == "Hi !" and missing == {"first_name"}


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{% if x %}hi{% endif %}", "Only {{ variables }} are supported"),
        ("{{ first_name|safe }}", "unknown filter “safe”"),
        ("{{ lead.__class__ }}", "Unknown variable"),
        ("{{ first_name() }}", "is not a variable name"),
        ("{{ first_name.__dict__ }}", "Unknown variable"),
        ("Hi {{ first_name", "is not closed"),
        ("{{ first_name|default }}", "default needs a value"),
        ("{{ password }}", "Unknown variable “password”"),
    ],
)
def test_the_sandbox_refuses_everything_but_plain_variables(template, problem):
    problems = rendering.check(template)
    assert problems and problem in problems[0]


def test_values_are_plain_text_in_the_html_part():
    html = rendering.text_to_html("Hi <script>x</script>\n\nSee https://a.example/p?q=1&r=2.")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://a.example/p?q=1&amp;r=2">' in html and html.endswith(".</p>")


class Window:
    window_days = [0, 1, 2, 3, 4]
    window_start = time(9, 0)
    window_end = time(17, 0)
    time_zone = "Europe/Berlin"
    start_at = None


def test_next_open_moves_into_the_window_in_the_campaigns_zone():
    # Saturday 2026-11-21 12:00 UTC -> Monday 09:00 Berlin = 08:00 UTC.
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert schedule.next_open(Window, saturday) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    # Monday 10:00 UTC is 11:00 in Berlin: open now.
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert schedule.next_open(Window, monday) == monday
    # Monday 17:30 Berlin: closed until Tuesday 09:00.
    evening = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    assert schedule.next_open(Window, evening) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert schedule.in_window(Window, monday) and not schedule.in_window(Window, saturday)


@pytest.fixture
def campaign(org, owner):
    sender = Sender.objects.create(organization=org, name="Rita", email="rita@acme.example")
    campaign = Campaign.objects.create(organization=org, name="Q4", sender=sender, created_by=owner)
    Step.objects.create(
        organization=org,
        campaign=campaign,
        order=1,
        subject="Hi {{ first_name }}",
        body='About {{ company|default:"your team" }}. {{ unsubscribe_url }}',
    )
    return campaign


@pytest.mark.django_db
def test_enroll_counts_every_skipped_lead_by_reason(org, owner, campaign):
    ok = factories.make_lead(org, actor=owner, first_name="Ok", email="ok@x.example")
    archived = factories.make_lead(org, actor=owner, email="old@x.example")
    Lead.objects.filter(pk=archived.pk).update(archived_at="2026-01-01T00:00:00Z")
    no_email = factories.make_lead(org, actor=owner, email="")
    suppressed = factories.make_lead(org, actor=owner, email="gone@x.example")
    Suppression.objects.create(organization=org, email="gone@x.example", reason="unsubscribed")
    busy = factories.make_lead(org, actor=owner, email="busy@x.example")
    other = Campaign.objects.create(
        organization=org, name="Other", sender=campaign.sender, status="running"
    )
    Enrollment.objects.create(organization=org, campaign=other, lead=busy)
    other_org_lead = factories.make_lead(factories.make_org("Else"), email="else@x.example")

    ids = [ok.pk, archived.pk, no_email.pk, suppressed.pk, busy.pk, other_org_lead.pk]
    result = services.enroll(campaign=campaign, leads=Lead.objects.filter(pk__in=ids), user=owner)
    assert result["enrolled"] == 1
    assert result["skipped"] == {
        "archived": 1,
        "no_email": 1,
        "suppressed": 1,
        "in_other_sequence": 1,
    }
    again = services.enroll(campaign=campaign, leads=Lead.objects.filter(pk=ok.pk), user=owner)
    assert again == {"enrolled": 0, "skipped": {"already_enrolled": 1}, "skipped_total": 1}
    assert list(campaign.enrollments.values_list("lead_id", flat=True)) == [ok.pk]


@pytest.mark.django_db
def test_launch_lists_leads_with_missing_values_and_can_skip_them(org, owner, campaign):
    named = factories.make_lead(org, actor=owner, first_name="Ada", email="ada@x.example")
    nameless = factories.make_lead(org, actor=owner, first_name="", email="anon@x.example")
    services.enroll(
        campaign=campaign, leads=Lead.objects.filter(pk__in=[named.pk, nameless.pk]), user=owner
    )
    with pytest.raises(services.CampaignError) as refused:
        services.launch(campaign=campaign, user=owner)
    assert refused.value.details["missing"] == [
        {"lead_id": nameless.pk, "name": "Example", "missing": ["first_name"]}
    ]
    services.launch(campaign=campaign, user=owner, skip_missing=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    statuses = dict(campaign.enrollments.values_list("lead_id", "status"))
    assert statuses == {named.pk: EnrollmentStatus.ACTIVE, nameless.pk: EnrollmentStatus.STOPPED}
    assert campaign.enrollments.get(lead=named).next_send_at is not None


@pytest.mark.django_db
def test_launch_refuses_broken_templates_and_empty_campaigns(org, owner, campaign):
    CustomFieldDefinition.objects.create(organization=org, key="plan", label="Plan")
    step = campaign.steps.get()
    step.body = "{{ custom.plan }} {{ custom.nope }}"
    step.save()
    with pytest.raises(services.CampaignError) as refused:
        services.launch(campaign=campaign, user=owner)
    assert refused.value.details["problems"] == ["Step 1 body: Unknown variable “custom.nope”."]
    campaign.steps.all().delete()
    with pytest.raises(services.CampaignError, match="at least one step"):
        services.launch(campaign=campaign, user=owner)


@pytest.mark.django_db
def test_pause_resume_cancel(org, owner, campaign):
    services.launch(campaign=campaign, user=owner)
    services.pause(campaign=campaign, user=owner, reason="Checking copy")
    assert campaign.status == "paused" and campaign.paused_reason == "Checking copy"
    services.resume(campaign=campaign, user=owner)
    assert campaign.status == "running"
    lead = factories.make_lead(org, actor=owner, first_name="B", email="b@x.example")
    services.enroll(campaign=campaign, leads=Lead.objects.filter(pk=lead.pk), user=owner)
    services.cancel(campaign=campaign, user=owner)
    assert campaign.enrollments.get().status == EnrollmentStatus.STOPPED
    with pytest.raises(services.CampaignError):
        services.resume(campaign=campaign, user=owner)
