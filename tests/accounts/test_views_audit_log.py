"""settings/audit-log: the organization's events, filtered and paginated."""

from __future__ import annotations

from accounts import events
from accounts.views.org import EVENTS_PER_PAGE

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(org):
    return f"/o/{org.slug}/settings/audit-log/"


def test_audit_log_lists_events_newest_first(owner_client, org, owner):
    events.emit(org, "lead.created", {"name": "Ada"}, actor=owner)
    response = owner_client.get(url(org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Audit log · Acme Corp · Prospector</title>" in body
    assert body.index("lead.created") < body.index("organization.created", body.index("<tbody"))
    assert "owner@example.com" in body
    assert "Ada" in body


def test_audit_log_filters_by_type_and_keeps_the_filter_in_links(owner_client, org, owner):
    for n in range(EVENTS_PER_PAGE + 5):
        events.emit(org, "lead.created", {"n": n}, actor=owner)
    events.emit(org, "member.joined", {"user": "x@example.com"}, actor=owner)
    response = owner_client.get(url(org), {"type": "lead.created"})
    body = response.content.decode()
    assert f"of {EVENTS_PER_PAGE + 5} events" in body
    assert "<td><code>member.joined</code>" not in body
    assert "?type=lead.created&amp;page=2" in body
    second = owner_client.get(url(org), {"type": "lead.created", "page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_audit_log_query_count_is_pinned(owner_client, org, owner, django_assert_num_queries):
    for n in range(30):
        events.emit(org, f"type.{n % 3}", {"n": n}, actor=owner)
    # session, user, membership+org+plan, distinct types, count, one page of events,
    # the switcher's memberships
    with django_assert_num_queries(7):
        response = owner_client.get(url(org))
    assert response.status_code == 200


def test_empty_filter_result_says_so(owner_client, org):
    response = owner_client.get(url(org), {"type": "nothing.here"})
    assert b"No <code>nothing.here</code> events" in response.content


def test_members_and_viewers_get_403(member_client, org, viewer):
    assert member_client.get(url(org)).status_code == 403
    member_client.force_login(viewer)
    assert member_client.get(url(org)).status_code == 403


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(url(org)).status_code == 404


def test_audit_log_refuses_post(owner_client, org):
    assert owner_client.post(url(org)).status_code == 405


def test_htmx_filter_returns_only_the_events_fragment(owner_client, org):
    response = owner_client.get(url(org), {"type": "organization.created"}, **HTMX)
    assert b"<html" not in response.content
    assert response.content.lstrip().startswith(b'<section class="card" id="events"')
    assert b"organization.created" in response.content


def test_other_organizations_events_are_not_shown(owner_client, org, other_org, outsider):
    events.emit(other_org, "secret.thing", {"x": 1}, actor=outsider)
    assert b"secret.thing" not in owner_client.get(url(org)).content
