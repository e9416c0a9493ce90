"""/api/v1/leads/{id}/activities/ (the timeline) and /api/v1/leads/bulk/."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Event
from leads import services
from leads.api import leads as leads_api
from leads.models import Activity, ActivityKind, Lead, Status
from tests import factories
from tests.accounts.api_support import assert_error

LEADS = "/api/v1/leads/"
BULK = "/api/v1/leads/bulk/"


# ---------------------------------------------------------------- activities


def test_timeline_newest_first(owner_api, org, owner):
    lead = factories.make_lead(org, actor=owner)
    services.set_status(lead=lead, status="contacted", actor=owner)
    body = owner_api.get(f"{LEADS}{lead.pk}/activities/").json()
    assert body["count"] == 2
    kinds = [row["kind"] for row in body["results"]]
    assert kinds == ["status_change", "created"]
    first = body["results"][0]
    assert first["data"] == {"from": "new", "to": "contacted"}
    assert first["actor"] == {"id": owner.pk, "email": owner.email, "name": owner.name}


@pytest.mark.parametrize("entries", [2, 20])
def test_timeline_query_count_is_constant(owner_api, org, owner, entries, settings):
    settings.RATELIMIT_ENABLE = False
    lead = factories.make_lead(org, actor=owner)
    for n in range(entries):
        services.add_activity(lead=lead, kind=ActivityKind.NOTE, actor=owner, body=f"n{n}")
    url = f"{LEADS}{lead.pk}/activities/"
    owner_api.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert owner_api.get(url).status_code == 200
    # API key, membership, the lead, COUNT(*) of its activities, the page with actors
    assert len(queries) == 5


def test_log_a_call(member_api_client, org, member):
    lead = factories.make_lead(org)
    response = member_api_client.post(
        f"{LEADS}{lead.pk}/activities/",
        {"kind": "call", "body": "Spoke for 10 minutes", "occurred_at": "2026-01-05T10:00:00Z"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "call" and body["body"] == "Spoke for 10 minutes"
    assert body["occurred_at"] == "2026-01-05T10:00:00Z"
    assert body["actor"]["id"] == member.pk
    activity = Activity.objects.get(pk=body["id"])
    assert activity.lead == lead and activity.organization == org


def test_a_note_without_a_time_is_now(owner_api, org):
    lead = factories.make_lead(org)
    body = owner_api.post(
        f"{LEADS}{lead.pk}/activities/", {"kind": "note", "body": "Likes golf"}, format="json"
    ).json()
    assert body["occurred_at"]
    assert Activity.objects.for_lead(lead).filter(kind="note").count() == 1


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"kind": "status_change", "body": "x"}, "kind"),
        ({"kind": "note"}, "body"),
        ({"kind": "note", "body": "x", "occurred_at": "soon"}, "occurred_at"),
        ({"kind": "note", "body": "x", "actor": 1}, "actor"),
    ],
)
def test_only_notes_calls_and_meetings_are_logged(owner_api, org, payload, field):
    lead = factories.make_lead(org)
    response = owner_api.post(f"{LEADS}{lead.pk}/activities/", payload, format="json")
    assert field in assert_error(response, 400)["details"]
    assert Activity.objects.for_lead(lead).count() == 1


def test_viewer_reads_the_timeline_but_cannot_log(viewer_api, org):
    lead = factories.make_lead(org)
    assert viewer_api.get(f"{LEADS}{lead.pk}/activities/").status_code == 200
    response = viewer_api.post(
        f"{LEADS}{lead.pk}/activities/", {"kind": "note", "body": "x"}, format="json"
    )
    assert_error(response, 403)


def test_another_organizations_timeline_is_a_404(owner_api, other_org):
    lead = factories.make_lead(other_org)
    url = f"{LEADS}{lead.pk}/activities/"
    assert_error(owner_api.get(url), 404)
    assert_error(owner_api.post(url, {"kind": "note", "body": "x"}, format="json"), 404)
    assert Activity.objects.for_lead(lead).count() == 1


# ---------------------------------------------------------------- bulk


def _bulk(client, **payload):
    return client.post(BULK, payload, format="json")


def test_bulk_status_moves_each_lead_through_the_pipeline(owner_api, org, owner):
    a, b = factories.make_lead(org), factories.make_lead(org)
    c = factories.make_lead(org)
    services.set_status(lead=c, status="qualified", actor=owner)
    response = _bulk(owner_api, ids=[a.pk, b.pk, c.pk], action="status", value="qualified")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "action": "status",
        "matched": 3,
        "updated": 2,
        "unchanged": 1,
        "not_found": [],
        "conflicts": [],
    }
    assert set(Lead.objects.values_list("status", flat=True)) == {Status.QUALIFIED}
    moves = Activity.objects.filter(kind=ActivityKind.STATUS_CHANGE, lead__in=[a, b])
    assert moves.count() == 2
    assert Event.objects.filter(type="lead.status_changed").count() == 3


def test_bulk_owner_in_bulk_with_timeline_entries(owner_api, org, owner, member):
    leads = [factories.make_lead(org) for _ in range(3)]
    factories.make_lead(org, owner=member)
    body = _bulk(owner_api, filter={}, action="owner", value=member.pk).json()
    assert body["matched"] == 4 and body["updated"] == 3
    assert Lead.objects.filter(owner=member).count() == 4
    entries = Activity.objects.filter(kind=ActivityKind.FIELD_CHANGE)
    assert entries.count() == 3
    assert entries.first().data == {"changes": {"owner": [None, member.email]}}
    assert set(entries.values_list("lead_id", flat=True)) == {lead.pk for lead in leads}
    assert Event.objects.filter(type="lead.bulk_changed").count() == 1

    body = _bulk(owner_api, ids=[leads[0].pk], action="owner", value=None).json()
    assert body["updated"] == 1
    assert Lead.objects.get(pk=leads[0].pk).owner is None


def test_bulk_owner_work_is_set_based(owner_api, org, member, settings):
    settings.RATELIMIT_ENABLE = False
    owner_api.get(LEADS)  # the key's last_used_at is written once a minute: not below
    counts = []
    for size in (3, 12):
        ids = [factories.make_lead(org).pk for _ in range(size)]
        with CaptureQueriesContext(connection) as queries:
            response = _bulk(owner_api, ids=ids, action="owner", value=member.pk)
        assert response.json()["updated"] == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_bulk_tags(owner_api, org):
    a = factories.make_lead(org, tags=["vip"])
    b = factories.make_lead(org)
    body = _bulk(owner_api, ids=[a.pk, b.pk], action="add_tags", value=["VIP", "hot"]).json()
    assert body["updated"] == 2
    assert sorted(b.tags.values_list("name", flat=True)) == ["hot", "vip"]
    body = _bulk(owner_api, ids=[a.pk, b.pk], action="remove_tags", value=["Hot"]).json()
    assert body["updated"] == 2
    assert list(a.tags.values_list("name", flat=True)) == ["vip"]
    body = _bulk(owner_api, ids=[a.pk, b.pk], action="remove_tags", value=["hot"]).json()
    assert body["updated"] == 0 and body["unchanged"] == 2


def test_bulk_archive_and_restore(owner_api, org, owner):
    a, b = factories.make_lead(org, email="a@x.example"), factories.make_lead(org)
    body = _bulk(owner_api, ids=[a.pk, b.pk], action="archive").json()
    assert body["updated"] == 2
    assert Lead.objects.for_org(org).active().count() == 0
    assert Activity.objects.filter(kind=ActivityKind.ARCHIVED).count() == 2

    taker = factories.make_lead(org, email="a@x.example")
    body = _bulk(owner_api, filter={"q": "example"}, action="restore").json()
    assert body["matched"] == 2 and body["updated"] == 1
    assert body["conflicts"] == [{"id": a.pk, "existing_id": taker.pk}]
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.archived_at is not None and b.archived_at is None
    assert Activity.objects.filter(kind=ActivityKind.RESTORED, lead=b).count() == 1


def test_bulk_restore_of_two_archived_leads_with_one_email(owner_api, org, owner):
    first = factories.make_lead(org, email="same@x.example")
    services.archive_lead(lead=first, actor=owner)
    second = factories.make_lead(org, email="same@x.example")
    services.archive_lead(lead=second, actor=owner)
    body = _bulk(owner_api, ids=[first.pk, second.pk], action="restore").json()
    assert body["updated"] == 1
    assert body["conflicts"] == [{"id": second.pk, "existing_id": first.pk}]


def test_bulk_by_filter(owner_api, org, owner):
    vip = factories.make_lead(org, tags=["vip"], source="web")
    factories.make_lead(org, source="web")
    body = _bulk(
        owner_api, filter={"tag": "vip", "status": ["new"]}, action="status", value="contacted"
    ).json()
    assert body["matched"] == 1
    vip.refresh_from_db()
    assert vip.status == "contacted"
    body = _bulk(owner_api, filter={"status": "new,contacted", "source": "web"}, action="archive")
    assert body.json()["matched"] == 2


def test_bulk_reports_ids_that_are_not_ours(owner_api, org, other_org):
    mine = factories.make_lead(org)
    foreign = factories.make_lead(other_org)
    body = _bulk(owner_api, ids=[mine.pk, foreign.pk, 99999], action="archive").json()
    assert body["matched"] == 1
    assert body["not_found"] == [foreign.pk, 99999]
    foreign.refresh_from_db()
    assert foreign.archived_at is None


def test_bulk_caps_the_number_of_leads(owner_api, org, monkeypatch):
    response = _bulk(owner_api, ids=list(range(1, 10_002)), action="archive")
    assert "ids" in assert_error(response, 400)["details"]
    monkeypatch.setattr(leads_api, "BULK_MAX", 2)
    for _ in range(3):
        factories.make_lead(org)
    response = _bulk(owner_api, filter={}, action="archive")
    error = assert_error(response, 400)
    assert "narrow" in error["details"]["filter"][0]
    assert Lead.objects.for_org(org).active().count() == 3


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"action": "archive"}, "ids"),
        ({"ids": [1], "filter": {}, "action": "archive"}, "ids"),
        ({"ids": [1], "action": "explode"}, "action"),
        ({"ids": [1], "action": "status", "value": "sleeping"}, "value"),
        ({"ids": [1], "action": "owner", "value": "bob"}, "value"),
        ({"ids": [1], "action": "add_tags", "value": "vip"}, "value"),
        ({"ids": [1], "action": "add_tags", "value": []}, "value"),
        ({"ids": [1], "action": "archive", "value": 3}, "value"),
        ({"ids": ["x"], "action": "archive"}, "ids"),
        ({"filter": {"colour": "red"}, "action": "archive"}, "filter"),
        ({"filter": {"status": ["sleeping"]}, "action": "archive"}, "filter"),
    ],
)
def test_bulk_validation(owner_api, org, payload, field):
    lead = factories.make_lead(org)
    response = owner_api.post(BULK, payload, format="json")
    assert field in assert_error(response, 400, "validation_error")["details"]
    lead.refresh_from_db()
    assert lead.archived_at is None


def test_bulk_owner_must_be_a_member(owner_api, org, outsider):
    lead = factories.make_lead(org)
    response = _bulk(owner_api, ids=[lead.pk], action="owner", value=outsider.pk)
    assert "value" in assert_error(response, 400)["details"]


def test_viewer_cannot_bulk(viewer_api, org):
    lead = factories.make_lead(org)
    assert_error(_bulk(viewer_api, ids=[lead.pk], action="archive"), 403)
    lead.refresh_from_db()
    assert lead.archived_at is None


@pytest.fixture
def member_api_client(org, member):
    from tests.accounts.api_support import key_client

    return key_client(org, member)
