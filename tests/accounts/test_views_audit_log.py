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
    # One "?": {% querystring %} brings its own, and "??page=2" would always show page 1.
    assert 'href="?type=lead.created&amp;page=2"' in body
    second = owner_client.get(url(org), {"type": "lead.created", "page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_audit_log_query_count_is_pinned(owner_client, org, owner, django_assert_num_queries):
    for n in range(30):
        events.emit(org, f"type.{n % 3}", {"n": n}, actor=owner)
    # session, user, membership+org+plan, distinct types, distinct actors, count,
    # one page of events, the switcher's memberships
    with django_assert_num_queries(8):
        response = owner_client.get(url(org))
    assert response.status_code == 200


def test_empty_filter_result_says_so(owner_client, org):
    response = owner_client.get(url(org), {"type": "nothing.here"})
    assert b"No events match these filters" in response.content
    assert b"Show all events" in response.content


def test_audit_log_filters_by_who_did_it(owner_client, org, owner, admin_user):
    events.emit(org, "lead.created", {"name": "by owner"}, actor=owner)
    events.emit(org, "lead.created", {"name": "by admin"}, actor=admin_user)
    body = owner_client.get(url(org), {"actor": "admin@example.com"}).content.decode()
    assert '<option value="admin@example.com" selected>' in body
    assert "by admin" in body
    assert "by owner" not in body
    assert "Clear filters" in body


def test_audit_log_sorts_oldest_first_and_keeps_filters_in_the_sort_link(owner_client, org, owner):
    events.emit(org, "lead.created", {"name": "Ada"}, actor=owner)
    body = owner_client.get(url(org), {"sort": "time"}).content.decode()
    table = body[body.index("<tbody") :]
    assert table.index("organization.created") < table.index("lead.created")
    assert 'aria-sort="ascending"' in body
    filtered = owner_client.get(url(org), {"type": "lead.created"}).content.decode()
    assert 'href="?type=lead.created&amp;sort=time"' in filtered
    assert 'aria-sort="descending"' in filtered


def test_an_unknown_sort_falls_back_to_newest_first(owner_client, org, owner):
    events.emit(org, "lead.created", {"name": "Ada"}, actor=owner)
    response = owner_client.get(url(org), {"sort": "payload"})
    assert response.status_code == 200
    table = response.content.decode()[response.content.decode().index("<tbody") :]
    assert table.index("lead.created") < table.index("organization.created")


def test_payload_lists_and_maps_read_as_text(owner_client, org, owner):
    events.emit(org, "api_key.created", {"scopes": {"leads": "write"}, "tags": ["a", "b"]})
    body = owner_client.get(url(org)).content.decode()
    assert "<dd>leads: write</dd>" in body
    assert "<dd>a, b</dd>" in body


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
