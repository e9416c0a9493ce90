"""/api/v1/admin/users/, /organizations/ and /usage/: staff with two-factor authentication."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import override_settings

from accounts import usage
from accounts.models import Plan
from tests import factories
from tests.accounts.api_support import (
    assert_error,
    enable_mfa,
    key_client,
    session_client,
    token_client,
)

USERS = "/api/v1/admin/users/"
ORGS = "/api/v1/admin/organizations/"
USAGE = "/api/v1/admin/usage/"


@pytest.fixture
def staff(db):
    user = factories.make_user("staff@example.com", name="Sam Staff", is_staff=True)
    enable_mfa(user)
    return user


@pytest.fixture
def staff_api(staff):
    return session_client(staff)


@pytest.mark.parametrize("url", [USERS, ORGS, USAGE])
def test_non_staff_get_403(owner_api, url):
    error = assert_error(owner_api.get(url), 403, "permission_denied")
    assert "staff" in error["message"]


@pytest.mark.parametrize("url", [USERS, ORGS, USAGE])
def test_anonymous_get_401(api_client, url):
    assert_error(api_client.get(url), 401, "not_authenticated")


def test_staff_without_two_factor_get_403(db):
    user = factories.make_user("lax@example.com", is_staff=True)
    error = assert_error(session_client(user).get(USERS), 403, "permission_denied")
    assert "two-factor" in error["message"]


def test_staff_personal_tokens_are_refused(org, staff):
    factories.add_member(org, staff)
    error = assert_error(token_client(org, staff).get(USERS), 403, "permission_denied")
    assert "personal tokens" in error["message"]


def test_staff_api_key_needs_the_organization_scope(org, staff):
    factories.add_member(org, staff)
    assert_error(key_client(org, staff, {"leads": "write"}).get(USERS), 403, "insufficient_scope")
    assert key_client(org, staff, {"organization": "read"}).get(USERS).status_code == 200


def test_staff_lists_users_with_organization_counts(staff_api, org, owner, member, other_org):
    factories.make_org("Second", owner=owner)
    body = staff_api.get(USERS).json()
    rows = {row["email"]: row for row in body["results"]}
    assert rows["owner@example.com"]["organization_count"] == 2
    assert rows["member@example.com"]["organization_count"] == 1
    assert rows["staff@example.com"]["organization_count"] == 0
    assert rows["staff@example.com"]["is_staff"] is True
    assert "password" not in rows["owner@example.com"]
    assert [r["email"] for r in staff_api.get(USERS, {"search": "MIA"}).json()["results"]] == [
        "member@example.com"
    ]
    staff_only = staff_api.get(USERS, {"is_staff": "true"}).json()["results"]
    assert [r["email"] for r in staff_only] == ["staff@example.com"]


def test_staff_lists_organizations_with_member_counts(staff_api, org, member, viewer, other_org):
    plan = Plan.objects.create(code="pro", name="Pro")
    other_org.plan = plan
    other_org.save(update_fields=["plan"])
    rows = {row["slug"]: row for row in staff_api.get(ORGS).json()["results"]}
    assert rows[org.slug]["member_count"] == 3
    assert rows[other_org.slug]["member_count"] == 1
    assert rows[other_org.slug]["plan"] == "pro"
    filtered = staff_api.get(ORGS, {"plan": "pro"}).json()["results"]
    assert [r["slug"] for r in filtered] == [other_org.slug]
    assert [r["slug"] for r in staff_api.get(ORGS, {"search": "acme"}).json()["results"]] == [
        org.slug
    ]


def test_staff_lists_query_counts(staff_api, django_assert_num_queries):
    for n in range(4):
        org = factories.make_org(f"Org {n}")
        factories.add_member(org)
    with override_settings(RATELIMIT_ENABLE=False):
        with django_assert_num_queries(6):
            # session; user; memberships (session org); authenticators; count; orgs with counts
            assert staff_api.get(ORGS).json()["count"] == 4
        with django_assert_num_queries(6):
            # session; user; memberships; authenticators; count; users with counts
            assert staff_api.get(USERS).json()["count"] == 9


def test_staff_usage_totals_per_organization_and_action(staff_api, org, other_org):
    usage.record(org, "agents.run", 2)
    usage.record(org, "agents.run", 3)
    usage.record(org, "campaigns.email", 40)
    usage.record(other_org, "agents.run", 1)
    last_month = usage.record(org, "agents.run", 100)
    last_month.created_at = datetime(2020, 1, 31, 23, 59, tzinfo=UTC)
    last_month.save(update_fields=["created_at"])

    rows = staff_api.get(USAGE).json()["results"]
    totals = {(r["organization"]["slug"], r["action"]): (r["quantity"], r["events"]) for r in rows}
    assert totals == {
        (org.slug, "agents.run"): (5, 2),
        (org.slug, "campaigns.email"): (40, 1),
        (other_org.slug, "agents.run"): (1, 1),
    }
    assert rows[0]["organization"] == {"id": org.pk, "name": org.name, "slug": org.slug}

    january = staff_api.get(USAGE, {"month": "2020-01"}).json()
    assert january["count"] == 1
    assert january["results"][0]["quantity"] == 100
    assert staff_api.get(USAGE, {"month": "2020-02"}).json()["count"] == 0
    only = staff_api.get(USAGE, {"organization": other_org.slug}).json()["results"]
    assert [(r["organization"]["slug"], r["quantity"]) for r in only] == [(other_org.slug, 1)]
    emails = staff_api.get(USAGE, {"action": "campaigns.email"}).json()["results"]
    assert [r["quantity"] for r in emails] == [40]


def test_december_rolls_over_to_january(staff_api, org):
    event = usage.record(org, "agents.run", 9)
    event.created_at = datetime(2024, 12, 31, 23, 0, tzinfo=UTC)
    event.save(update_fields=["created_at"])
    assert staff_api.get(USAGE, {"month": "2024-12"}).json()["results"][0]["quantity"] == 9
    assert staff_api.get(USAGE, {"month": "2025-01"}).json()["count"] == 0


@pytest.mark.parametrize("month", ["2024-13", "May 2024", "2024", "9999-12"])
def test_a_malformed_month_is_a_400(staff_api, month):
    error = assert_error(staff_api.get(USAGE, {"month": month}), 400, "validation_error")
    assert error["details"] == {"month": ["Use the form YYYY-MM."]}


def test_staff_endpoints_are_read_only(staff_api):
    assert_error(staff_api.post(USERS, {"email": "x@example.com"}, format="json"), 405)
