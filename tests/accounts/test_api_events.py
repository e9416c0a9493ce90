"""GET /api/v1/events/: the organization's audit log."""

from __future__ import annotations

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from accounts import events
from accounts.models import Event
from tests.accounts.api_support import assert_error, key_client

EVENTS = "/api/v1/events/"


def _event(org, type="lead.created", *, days_ago=0, actor=None, **payload) -> Event:
    event = events.emit(org, type, payload, actor=actor)
    if days_ago:
        Event.objects.filter(pk=event.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    return event


def test_an_admin_reads_the_log_newest_first(org, admin_user, owner):
    client = key_client(org, admin_user, {"organization": "read"})
    Event.objects.all().delete()
    old = _event(org, "lead.created", days_ago=2, actor=owner, name="Ada")
    new = _event(org, "member.joined", user="x@example.com")
    body = client.get(EVENTS).json()
    assert [row["id"] for row in body["results"]] == [new.pk, old.pk]
    row = body["results"][1]
    assert row["type"] == "lead.created"
    assert row["payload"] == {"name": "Ada"}
    assert row["actor"] == {"id": owner.pk, "label": "owner@example.com"}
    assert body["results"][0]["actor"] == {"id": None, "label": "system"}


def test_filter_by_type_and_prefix(owner_api, org):
    _event(org, "lead.created")
    _event(org, "lead.status_changed")
    _event(org, "member.joined")
    types = [r["type"] for r in owner_api.get(EVENTS, {"type": "lead.created"}).json()["results"]]
    assert types == ["lead.created"]
    rows = owner_api.get(EVENTS, {"type_prefix": "lead."}).json()["results"]
    assert {r["type"] for r in rows} == {"lead.created", "lead.status_changed"}


def test_filter_by_created_at_range(owner_api, org):
    Event.objects.all().delete()
    _event(org, "a", days_ago=10)
    middle = _event(org, "b", days_ago=5)
    _event(org, "c")
    after = (timezone.now() - timedelta(days=7)).isoformat()
    before = (timezone.now() - timedelta(days=1)).isoformat()
    body = owner_api.get(EVENTS, {"created_at_after": after, "created_at_before": before}).json()
    assert [r["id"] for r in body["results"]] == [middle.pk]
    body = owner_api.get(EVENTS, {"created_at_after": after}).json()
    assert [r["type"] for r in body["results"]] == ["c", "b"]


def test_a_malformed_date_is_a_400(owner_api):
    error = assert_error(owner_api.get(EVENTS, {"created_at_after": "last tuesday"}), 400)
    assert "created_at" in error["details"]


def test_only_our_events_are_listed(owner_api, org, other_org):
    _event(other_org, "secret.thing")
    types = {r["type"] for r in owner_api.get(EVENTS, {"limit": 500}).json()["results"]}
    assert "secret.thing" not in types
    assert "organization.created" in types


def test_outsider_gets_404_for_our_events(outsider_api, org):
    event = _event(org)
    assert_error(outsider_api.get(f"{EVENTS}{event.pk}/"), 404, "not_found")


def test_detail(owner_api, org):
    event = _event(org, "lead.created", name="Ada")
    assert owner_api.get(f"{EVENTS}{event.pk}/").json()["payload"] == {"name": "Ada"}


def test_the_log_is_read_only(owner_api, org):
    event = _event(org)
    assert_error(owner_api.post(EVENTS, {"type": "x"}, format="json"), 405)
    assert_error(owner_api.delete(f"{EVENTS}{event.pk}/"), 405)


def test_list_query_count(owner_api, org, owner, django_assert_num_queries):
    owner_api.get(EVENTS)
    for n in range(6):
        _event(org, actor=owner, n=n)
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4):
        # credential; membership; count; events
        assert owner_api.get(EVENTS).json()["count"] >= 6
