"""Follow-up tasks: adding one on a lead, "My tasks" (overdue, today, upcoming), marking done
inline, everyone's tasks for admins; roles and tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads import services
from leads.models import LeadTask
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def lead(org, owner):
    return factories.make_lead(org, actor=owner, first_name="Ada", last_name="Lovelace")


def _task(org, lead, title, assignee, days=None, done=False):
    return LeadTask.objects.create(
        organization=org,
        lead=lead,
        title=title,
        assignee=assignee,
        due_date=timezone.localdate() + timedelta(days=days) if days is not None else None,
        done_at=timezone.now() if done else None,
    )


def test_a_follow_up_is_added_on_the_lead(member_client, member, org, lead):
    due = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = member_client.post(
        f"/o/{org.slug}/leads/{lead.pk}/tasks/new/",
        {"title": "Send the proposal", "due_date": due, "assignee": member.pk},
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="tasks"' in body and "Send the proposal" in body
    task = LeadTask.objects.for_org(org).get(lead=lead)
    assert (task.title, task.due_date.isoformat(), task.assignee, task.created_by) == (
        "Send the proposal",
        due,
        member,
        member,
    )


def test_a_follow_up_needs_a_title_and_a_member_as_assignee(member_client, org, lead, outsider):
    response = member_client.post(
        f"/o/{org.slug}/leads/{lead.pk}/tasks/new/", {"title": "", "assignee": outsider.pk}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body and "Select a valid choice" in body
    assert not LeadTask.objects.for_org(org).exists()


def test_my_tasks_lists_overdue_then_today_then_upcoming(member_client, member, owner, org, lead):
    _task(org, lead, "Late one", member, days=-3)
    _task(org, lead, "Today one", member, days=0)
    _task(org, lead, "Next week", member, days=7)
    _task(org, lead, "Whenever", member)
    _task(org, lead, "Not mine", owner, days=-1)
    _task(org, lead, "Finished", member, days=-1, done=True)
    archived = factories.make_lead(org)
    _task(org, archived, "On an archived lead", member, days=-1)
    services.archive_lead(lead=archived, actor=owner)
    response = member_client.get(f"/o/{org.slug}/tasks/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<title>My tasks · {org.name} · Prospector</title>" in body
    positions = [body.index(t) for t in ("Overdue", "Late one", "Due today", "Today one")]
    positions += [body.index(t) for t in ("Upcoming", "Next week", "No due date", "Whenever")]
    assert positions == sorted(positions)
    for hidden in ("Not mine", "Finished", "On an archived lead"):
        assert hidden not in body
    assert f'href="/o/{org.slug}/leads/{lead.pk}/">Ada Lovelace</a>' in body
    # Members do not get the "everyone" switch; asking for it shows their own.
    assert "Everyone&#x27;s" not in body
    assert "Not mine" not in member_client.get(f"/o/{org.slug}/tasks/?who=all").content.decode()


def test_admins_can_see_everyones_tasks(owner_client, owner, member, org, lead):
    _task(org, lead, "Member's task", member, days=1)
    assert "Member&#x27;s task" not in owner_client.get(f"/o/{org.slug}/tasks/").content.decode()
    body = owner_client.get(f"/o/{org.slug}/tasks/?who=all").content.decode()
    assert "Member&#x27;s task" in body and "Mia Member" in body


def test_empty_state_says_what_the_page_is_for(member_client, org):
    body = member_client.get(f"/o/{org.slug}/tasks/").content.decode()
    assert "You are all caught up" in body
    assert "Follow-ups are added on a lead" in body


def test_marking_done_and_reopening(member_client, member, org, lead):
    task = _task(org, lead, "Call back", member, days=0)
    response = member_client.post(f"/o/{org.slug}/tasks/{task.pk}/done/", {"done": "1"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and f'id="task-{task.pk}"' in body and "is-done" in body
    task.refresh_from_db()
    first_done = task.done_at
    assert first_done is not None
    # A second click (double submit) keeps the first completion time.
    member_client.post(f"/o/{org.slug}/tasks/{task.pk}/done/", {"done": "1"}, **HTMX)
    task.refresh_from_db()
    assert task.done_at == first_done
    response = member_client.post(f"/o/{org.slug}/tasks/{task.pk}/done/", {"done": "0"})
    assert response.status_code == 302 and response["Location"] == f"/o/{org.slug}/tasks/"
    task.refresh_from_db()
    assert task.done_at is None
    response = member_client.post(
        f"/o/{org.slug}/tasks/{task.pk}/done/", {"done": "1", "next": "lead"}
    )
    assert response["Location"] == f"/o/{org.slug}/leads/{lead.pk}/"


def test_viewer_reads_but_cannot_change(viewer_client, viewer, org, lead):
    task = _task(org, lead, "Viewer's task", viewer, days=0)
    body = viewer_client.get(f"/o/{org.slug}/tasks/").content.decode()
    assert "Viewer&#x27;s task" in body and "Mark done" not in body
    assert viewer_client.post(f"/o/{org.slug}/tasks/{task.pk}/done/").status_code == 403
    task.refresh_from_db()
    assert task.done_at is None


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(f"/o/{org.slug}/tasks/").status_code == 404


def test_another_organizations_task_is_404(owner_client, org, other_org):
    foreign = _task(other_org, factories.make_lead(other_org), "Foreign", None, days=0)
    assert owner_client.post(f"/o/{org.slug}/tasks/{foreign.pk}/done/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.done_at is None


def test_wrong_methods(member_client, org, lead):
    task = _task(org, lead, "x", None)
    assert member_client.post(f"/o/{org.slug}/tasks/").status_code == 405
    assert member_client.get(f"/o/{org.slug}/tasks/{task.pk}/done/").status_code == 405


def test_htmx_gets_the_list_fragment(member_client, org):
    response = member_client.get(f"/o/{org.slug}/tasks/", **HTMX)
    assert b"<html" not in response.content and b'id="task-list"' in response.content


@pytest.mark.parametrize("count", [1, 30])
def test_query_count_does_not_grow_with_tasks(
    member_client, member, org, lead, count, django_assert_num_queries
):
    for n in range(count):
        other = factories.make_lead(org, company=factories.make_company(org))
        _task(org, other, f"Task {n}", member, days=n - 10)
    member_client.get(f"/o/{org.slug}/tasks/")
    # session, user, membership; count of open tasks; the page of tasks with their lead,
    # company and assignee; the sidebar's organizations and saved views.
    with django_assert_num_queries(7):
        response = member_client.get(f"/o/{org.slug}/tasks/")
    assert response.content.decode().count('class="task"') == count
