"""`/api/v1/tasks/`: follow-up tasks over the API."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from leads.models import LeadTask
from tests import factories
from tests.accounts.api_support import assert_error

URL = "/api/v1/tasks/"


@pytest.fixture
def lead(org):
    return factories.make_lead(org, email="ada@example.com")


def _task(org, lead, **fields):
    fields.setdefault("title", "Call back")
    return LeadTask.objects.create(organization=org, lead=lead, **fields)


def test_create_and_read(owner_api, org, owner, member, lead):
    response = owner_api.post(
        URL,
        {
            "lead_id": lead.pk,
            "title": "Send the deck",
            "due_date": "2026-12-01",
            "assignee_id": member.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    task = LeadTask.objects.get(pk=data["id"])
    assert task.organization == org
    assert task.lead == lead
    assert task.assignee == member
    assert task.created_by == owner
    assert task.due_date == date(2026, 12, 1)
    assert data["done"] is False
    assert data["done_at"] is None
    assert data["lead_id"] == lead.pk
    assert data["assignee_id"] == member.pk
    assert owner_api.get(f"{URL}{task.pk}/").json()["title"] == "Send the deck"


def test_create_done(owner_api, lead):
    response = owner_api.post(
        URL, {"lead_id": lead.pk, "title": "Already did it", "done": True}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["done"] is True
    assert LeadTask.objects.get(pk=response.json()["id"]).done_at is not None


def test_patch_done_sets_and_clears_done_at(owner_api, org, lead):
    task = _task(org, lead)
    response = owner_api.patch(f"{URL}{task.pk}/", {"done": True}, format="json")
    assert response.status_code == 200
    task.refresh_from_db()
    first = task.done_at
    assert first is not None
    assert response.json()["done"] is True
    # Done again keeps the first completion time.
    owner_api.patch(f"{URL}{task.pk}/", {"done": True}, format="json")
    task.refresh_from_db()
    assert task.done_at == first
    response = owner_api.patch(f"{URL}{task.pk}/", {"done": False}, format="json")
    task.refresh_from_db()
    assert task.done_at is None
    assert response.json()["done"] is False


def test_patch_fields(owner_api, org, lead, member):
    task = _task(org, lead, assignee=member)
    response = owner_api.patch(
        f"{URL}{task.pk}/",
        {"title": "Call on Monday", "due_date": "2026-11-30", "assignee_id": None},
        format="json",
    )
    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert task.title == "Call on Monday"
    assert task.due_date == date(2026, 11, 30)
    assert task.assignee is None


def test_the_lead_is_not_changed_by_patch(owner_api, org, lead):
    other = factories.make_lead(org, email="bob@example.com")
    task = _task(org, lead)
    owner_api.patch(f"{URL}{task.pk}/", {"lead_id": other.pk}, format="json")
    task.refresh_from_db()
    assert task.lead == lead


def test_put_is_not_allowed(owner_api, org, lead):
    task = _task(org, lead)
    assert_error(owner_api.put(f"{URL}{task.pk}/", {"title": "x"}, format="json"), 405)


def test_delete(owner_api, org, lead):
    task = _task(org, lead)
    assert owner_api.delete(f"{URL}{task.pk}/").status_code == 204
    assert not LeadTask.objects.filter(pk=task.pk).exists()


def test_list_filters(owner_api, org, owner, member, lead):
    other_lead = factories.make_lead(org, email="bob@example.com")
    mine = _task(org, lead, title="Mine", assignee=owner, due_date=date(2026, 11, 20))
    theirs = _task(org, other_lead, title="Theirs", assignee=member, due_date=date(2026, 12, 5))
    finished = _task(org, lead, title="Finished", done_at="2026-11-01T10:00:00Z")

    def ids(**params):
        response = owner_api.get(URL, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    # Open tasks first, by due date; done ones last.
    assert ids() == [mine.pk, theirs.pk, finished.pk]
    assert ids(assignee="me") == [mine.pk]
    assert ids(assignee=member.pk) == [theirs.pk]
    assert ids(lead=lead.pk) == [mine.pk, finished.pk]
    assert ids(done="true") == [finished.pk]
    assert ids(done="false") == [mine.pk, theirs.pk]
    assert ids(due_before="2026-11-30") == [mine.pk]
    assert ids(due_after="2026-11-30") == [theirs.pk]
    assert ids(due_after="2026-11-01", due_before="2026-12-31", assignee=member.pk) == [theirs.pk]


@pytest.mark.parametrize(
    "params",
    [{"done": "maybe"}, {"due_before": "next week"}, {"due_after": "2026-13-01"}, {"lead": "x"}],
)
def test_bad_filters_are_400(owner_api, params):
    error = assert_error(owner_api.get(URL, params), 400)
    assert set(error["details"]) == set(params)


def test_validation_error_shape(owner_api, lead):
    error = assert_error(owner_api.post(URL, {"lead_id": lead.pk}, format="json"), 400)
    assert "title" in error["details"]


def test_unknown_field_is_refused(owner_api, lead):
    error = assert_error(
        owner_api.post(URL, {"lead_id": lead.pk, "title": "x", "priority": 1}, format="json"),
        400,
    )
    assert "priority" in error["details"]


def test_foreign_lead_is_400(owner_api, other_org):
    foreign = factories.make_lead(other_org, email="foreign@example.com")
    error = assert_error(
        owner_api.post(URL, {"lead_id": foreign.pk, "title": "x"}, format="json"), 400
    )
    assert "lead_id" in error["details"]
    assert not LeadTask.objects.exists()


def test_assignee_must_be_a_member(owner_api, org, lead, outsider):
    error = assert_error(
        owner_api.post(
            URL, {"lead_id": lead.pk, "title": "x", "assignee_id": outsider.pk}, format="json"
        ),
        400,
    )
    assert "assignee_id" in error["details"]
    task = _task(org, lead)
    error = assert_error(
        owner_api.patch(f"{URL}{task.pk}/", {"assignee_id": outsider.pk}, format="json"), 400
    )
    assert "assignee_id" in error["details"]


def test_foreign_task_is_404(owner_api, other_org):
    foreign = _task(other_org, factories.make_lead(other_org, email="f@example.com"))
    assert_error(owner_api.get(f"{URL}{foreign.pk}/"), 404)
    assert_error(owner_api.patch(f"{URL}{foreign.pk}/", {"done": True}, format="json"), 404)
    assert_error(owner_api.delete(f"{URL}{foreign.pk}/"), 404)
    assert LeadTask.objects.filter(pk=foreign.pk, done_at__isnull=True).exists()
    assert owner_api.get(URL).json()["count"] == 0


def test_viewer_reads_but_cannot_write(viewer_api, org, lead):
    task = _task(org, lead)
    assert viewer_api.get(URL).json()["count"] == 1
    assert_error(viewer_api.post(URL, {"lead_id": lead.pk, "title": "x"}, format="json"), 403)
    assert_error(viewer_api.patch(f"{URL}{task.pk}/", {"done": True}, format="json"), 403)
    assert_error(viewer_api.delete(f"{URL}{task.pk}/"), 403)
    task.refresh_from_db()
    assert task.done_at is None


def test_outsider_gets_nothing(outsider_api, org, lead):
    task = _task(org, lead)
    assert outsider_api.get(f"{URL}{task.pk}/").status_code in (403, 404)
    assert outsider_api.get(URL).json().get("count", 0) == 0


def test_list_query_count_is_pinned(owner_api, org, owner, lead, django_assert_num_queries):
    for n in range(6):
        _task(org, lead, title=f"Task {n}", assignee=owner)
    owner_api.get(URL)  # the key's first use records last_used_at
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4):
        # credential; membership; count; tasks (ids only, no joins)
        response = owner_api.get(URL)
    assert response.json()["count"] == 6
