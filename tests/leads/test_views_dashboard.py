"""The organization's dashboard at /o/<slug>/: funnel, conversion, sources, owners, recent
activity, my overdue tasks and the get-started checklist."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from leads import services
from leads.models import ActivityKind, Lead, LeadTask, Status
from leads.views.dashboard import week_start
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


def _url(org) -> str:
    return f"/o/{org.slug}/"


def test_empty_dashboard_offers_import_and_new_lead(owner_client, org):
    response = owner_client.get(_url(org))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<title>Dashboard · {org.name} · Prospector</title>" in body
    assert "No leads yet" in body
    assert f'href="/o/{org.slug}/leads/import/"' in body
    assert f'href="/o/{org.slug}/leads/new/"' in body
    assert '<svg class="chart-svg"' not in body
    # The get-started checklist moved here from the accounts app.
    assert f"/o/{org.slug}/settings/api-keys/" in body
    assert "Invite your team" in body


def test_viewers_see_no_write_or_admin_actions(viewer_client, org):
    body = viewer_client.get(_url(org)).content.decode()
    assert "Create an API key" not in body
    assert "Invite your team" not in body
    assert "Pending invitations" not in body
    assert f'href="/o/{org.slug}/leads/new/"' not in body
    assert "Your role is read-only" in body


def test_checklist_ticks_two_factor_once_it_is_on(owner_client, owner, org):
    from allauth.mfa.models import Authenticator

    pattern = r'<li class="is-done">\s*<svg class="icon" aria-hidden="true"><use href="#i-shield">'
    assert not re.search(pattern, owner_client.get(_url(org)).content.decode())
    Authenticator.objects.create(user=owner, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert re.search(pattern, owner_client.get(_url(org)).content.decode())


def _pipeline(org, owner, member):
    """10 active leads: 4 new, 3 contacted, 2 converted, 1 lost; one archived lead aside."""
    leads = []
    plan = [Status.NEW] * 4 + [Status.CONTACTED] * 3 + [Status.CONVERTED] * 2 + [Status.LOST]
    for n, status in enumerate(plan):
        lead = factories.make_lead(
            org,
            actor=owner,
            source="Webinar" if n % 2 else "LinkedIn",
            owner=member if n < 6 else None,
        )
        if status != Status.NEW:
            services.set_status(lead=lead, status=status, actor=owner)
        leads.append(lead)
    archived = factories.make_lead(org, source="Webinar")
    services.set_status(lead=archived, status=Status.CONVERTED, actor=owner)
    services.archive_lead(lead=archived, actor=owner)
    return leads


def _numbers_table(body: str, title: str) -> dict[str, str]:
    """The "Show numbers" table of the chart headed `title`: {label: count}."""
    section = body.split(f">{title}</h2>", 1)[1].split("</section>", 1)[0]
    rows = re.findall(
        r'<th scope="row">(?:<a [^>]*>)?([^<]+)(?:</a>)?</th><td class="num">([^<]+)</td>', section
    )
    return dict(rows)


def test_charts_and_their_numbers_count_active_leads_by_status_source_and_owner(
    owner_client, org, owner, member
):
    _pipeline(org, owner, member)
    body = owner_client.get(_url(org)).content.decode()
    funnel = _numbers_table(body, "Leads by status")
    assert funnel == {
        "New": "4",
        "Contacted": "3",
        "Replied": "0",
        "Qualified": "0",
        "Converted": "2",
        "Lost": "1",
    }
    assert _numbers_table(body, "Leads by source") == {"LinkedIn": "5", "Webinar": "5"}
    assert _numbers_table(body, "Leads by owner") == {"Mia Member": "6", "Unassigned": "4"}
    # Conversion: 2 converted of 10 active (the archived converted lead does not count).
    assert "20.0%" in body
    assert "2 converted of 10" in body
    # Three server-drawn charts, each with a table of the same numbers.
    assert body.count('<svg class="chart-svg"') == 3
    assert body.count("<summary>Show numbers</summary>") == 3
    assert 'aria-labelledby="chart-funnel-title"' in body


def test_new_this_week_counts_from_monday(owner_client, org):
    with time_machine.travel("2026-03-11 12:00:00+00:00", tick=False):  # a Wednesday
        factories.make_lead(org)  # this week
        old = factories.make_lead(org)
        Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
        assert week_start().date().isoformat() == "2026-03-09"
        body = owner_client.get(_url(org)).content.decode()
    stat = body.split("New this week</span>", 1)[1]
    assert re.match(r'\s*<span class="stat-value">1</span>', stat)


def test_recent_activity_links_to_leads_and_shows_what_happened(owner_client, org, owner):
    lead = factories.make_lead(org, actor=owner, first_name="Ada", last_name="Lovelace")
    services.set_status(lead=lead, status=Status.CONTACTED, actor=owner)
    services.add_activity(lead=lead, kind=ActivityKind.CALL, actor=owner, body="Intro call")
    body = owner_client.get(_url(org)).content.decode()
    recent = body.split(">Recent activity</h2>", 1)[1].split("</section>", 1)[0]
    assert f'href="/o/{org.slug}/leads/{lead.pk}/">Ada Lovelace</a>' in recent
    assert "Status changed: New → Contacted" in recent
    assert "Call logged" in recent


def test_overdue_tasks_are_mine_only_and_open_only(owner_client, org, owner, member):
    lead = factories.make_lead(org)
    yesterday = timezone.localdate() - timedelta(days=1)
    LeadTask.objects.create(
        organization=org, lead=lead, title="Call back Ada", due_date=yesterday, assignee=owner
    )
    LeadTask.objects.create(
        organization=org, lead=lead, title="Someone else's", due_date=yesterday, assignee=member
    )
    LeadTask.objects.create(
        organization=org,
        lead=lead,
        title="Already done",
        due_date=yesterday,
        assignee=owner,
        done_at=timezone.now(),
    )
    LeadTask.objects.create(
        organization=org,
        lead=lead,
        title="Due today",
        due_date=timezone.localdate(),
        assignee=owner,
    )
    body = owner_client.get(_url(org)).content.decode()
    overdue = body.split(">My overdue tasks</h2>", 1)[1].split("</section>", 1)[0]
    assert "Call back Ada" in overdue
    assert "Someone else" not in overdue
    assert "Already done" not in overdue
    assert "Due today" not in overdue


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(_url(org)).status_code == 404


def test_post_is_not_allowed(owner_client, org):
    assert owner_client.post(_url(org)).status_code == 405


def test_htmx_gets_the_fragment(owner_client, org):
    response = owner_client.get(_url(org), **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="dashboard"' in response.content


def test_numbers_are_escaped_in_the_svg(owner_client, org, owner):
    factories.make_lead(org, source="<script>x</script>")
    body = owner_client.get(_url(org)).content.decode()
    assert "<script>x</script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body


@pytest.mark.parametrize("extra", [0, 25])
def test_query_count_does_not_grow_with_leads(
    owner_client, org, owner, member, extra, django_assert_num_queries
):
    _pipeline(org, owner, member)
    for n in range(extra):
        lead = factories.make_lead(org, actor=owner, source=f"Source {n}")
        services.add_activity(lead=lead, kind=ActivityKind.NOTE, actor=owner, body="Hi")
        LeadTask.objects.create(
            organization=org,
            lead=lead,
            title="Late",
            due_date=timezone.localdate() - timedelta(days=2),
            assignee=owner,
        )
    owner_client.get(_url(org))  # the user's last organization is remembered once
    # session, user, membership; leads by status (with new this week), by source, by owner;
    # members, two-factor, invitations, API keys, webhooks; recent activity; overdue
    # tasks; the sidebar's organizations and saved views.
    with django_assert_num_queries(15):
        response = owner_client.get(_url(org))
    assert response.status_code == 200
