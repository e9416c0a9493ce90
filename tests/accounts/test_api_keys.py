"""GET|POST /api/v1/api-keys/, GET|DELETE /api/v1/api-keys/{id}/ (owners and admins)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import ApiKey, Event, hash_secret
from tests import factories
from tests.accounts.api_support import (
    assert_error,
    bearer_client,
    key_client,
    session_client,
    token_client,
)

KEYS = "/api/v1/api-keys/"


def test_create_returns_the_full_key_once(owner_api, org, owner):
    payload = {"name": "CRM sync", "scopes": {"leads": "write", "campaigns": "read"}}
    response = owner_api.post(KEYS, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"].startswith("pk_live_")
    assert body["key"].startswith(body["prefix"])
    assert body["name"] == "CRM sync"
    assert body["scopes"] == {"leads": "write", "campaigns": "read"}
    assert body["status"] == "active"
    assert body["created_by"] == {"id": owner.pk, "email": owner.email, "name": owner.name}
    assert body["expires_at"] is None
    key = ApiKey.objects.get(pk=body["id"])
    assert key.key_hash == hash_secret(body["key"])
    assert key.organization == org and key.user == owner
    assert Event.objects.filter(organization=org, type="api_key.created").exists()

    # Later reads show the prefix only.
    detail = owner_api.get(f"{KEYS}{key.pk}/").json()
    assert "key" not in detail
    assert detail["prefix"] == body["prefix"]
    listed = owner_api.get(KEYS).json()["results"]
    assert all("key" not in item for item in listed)

    # The new key works, within its scopes.
    new = bearer_client(body["key"])
    assert new.get("/api/v1/auth/me").json()["credential"]["scopes"] == payload["scopes"]
    assert_error(new.get(KEYS), 403, "insufficient_scope")


def test_create_with_an_expiry(owner_api):
    expires = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    payload = {"name": "Temp", "scopes": {"leads": "read"}, "expires_at": expires.isoformat()}
    body = owner_api.post(KEYS, payload, format="json").json()
    assert ApiKey.objects.get(pk=body["id"]).expires_at == expires


def test_create_refuses_an_expiry_in_the_past(owner_api):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = owner_api.post(
        KEYS, {"name": "Old", "scopes": {"leads": "read"}, "expires_at": past}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {"expires_at": ["The expiry must be in the future."]}


@pytest.mark.parametrize(
    ("scopes", "details"),
    [
        ({}, {"scopes": ["Grant at least one scope."]}),
        ({"lead": "read"}, {"scopes": {"lead": ["Unknown field."]}}),
        ({"leads": "admin"}, {"scopes": {"leads": ['"admin" is not a valid choice.']}}),
        (
            "leads:read",
            {"scopes": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}},
        ),
    ],
)
def test_create_validates_scopes(owner_api, scopes, details):
    response = owner_api.post(KEYS, {"name": "K", "scopes": scopes}, format="json")
    assert assert_error(response, 400, "validation_error")["details"] == details
    assert not ApiKey.objects.filter(name="K").exists()


def test_create_requires_a_name(owner_api):
    response = owner_api.post(KEYS, {"scopes": {"leads": "read"}}, format="json")
    assert "name" in assert_error(response, 400)["details"]


def test_a_key_cannot_grant_more_than_it_holds(org, owner):
    narrow = key_client(org, owner, {"organization": "write", "leads": "read"})
    response = narrow.post(KEYS, {"name": "Wide", "scopes": {"leads": "write"}}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert "leads:write" in error["details"]["scopes"][0]
    ok = narrow.post(KEYS, {"name": "Same", "scopes": {"leads": "read"}}, format="json")
    assert ok.status_code == 201


def test_a_session_or_token_can_grant_any_scope(org, owner):
    payload = {"name": "Full", "scopes": {"leads": "write", "agents": "write"}}
    assert session_client(owner).post(KEYS, payload, format="json").status_code == 201
    assert token_client(org, owner).post(KEYS, payload, format="json").status_code == 201


def test_admin_manages_keys(org, admin_user, owner):
    key, _raw = factories.make_api_key(org, owner, name="Owner's key")
    client = key_client(org, admin_user)
    assert client.get(f"{KEYS}{key.pk}/").status_code == 200
    assert client.delete(f"{KEYS}{key.pk}/").status_code == 204


def test_member_and_viewer_cannot_see_keys(org, member, viewer):
    for user in (member, viewer):
        assert_error(key_client(org, user).get(KEYS), 403, "permission_denied")


def test_list_shows_every_key_of_the_organization_only(
    owner_api, org, owner, admin_user, outsider, other_org
):
    factories.make_api_key(org, admin_user, name="Admin key")
    revoked, _ = factories.make_api_key(org, owner, name="Revoked")
    revoked.revoked_at = timezone.now()
    revoked.save(update_fields=["revoked_at"])
    factories.make_api_key(other_org, outsider, name="Foreign")
    body = owner_api.get(KEYS).json()
    assert set(body) == {"count", "next", "previous", "results"}
    names = {item["name"]: item["status"] for item in body["results"]}
    assert names == {"Test key": "active", "Admin key": "active", "Revoked": "revoked"}


def test_list_is_paginated(owner_api, org, owner):
    for n in range(3):
        factories.make_api_key(org, owner, name=f"K{n}")
    body = owner_api.get(KEYS, {"limit": 2}).json()
    assert body["count"] == 4
    assert len(body["results"]) == 2
    assert "offset=2" in body["next"]
    assert body["previous"] is None


def test_list_query_count(owner_api, org, owner, member, django_assert_num_queries):
    owner_api.get(KEYS)  # records the key's first use
    for n in range(5):
        factories.make_api_key(org, owner if n % 2 else member, name=f"K{n}")
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4):
        # credential; membership; count; keys with their users
        response = owner_api.get(KEYS)
    assert response.json()["count"] == 6


def test_revoke_stops_the_key_at_once(owner_api, org, owner):
    key, raw = factories.make_api_key(org, owner, name="Doomed")
    victim = bearer_client(raw)
    assert victim.get("/api/v1/auth/me").status_code == 200
    assert owner_api.delete(f"{KEYS}{key.pk}/").status_code == 204
    assert_error(victim.get("/api/v1/auth/me"), 401, "authentication_failed")
    assert owner_api.get(f"{KEYS}{key.pk}/").json()["status"] == "revoked"
    event = Event.objects.get(organization=org, type="api_key.revoked")
    assert event.payload["prefix"] == key.prefix
    # Revoking again is a no-op.
    assert owner_api.delete(f"{KEYS}{key.pk}/").status_code == 204
    assert Event.objects.filter(type="api_key.revoked").count() == 1


def test_outsider_gets_404_for_our_keys(outsider_api, org, owner):
    key, raw = factories.make_api_key(org, owner)
    assert_error(outsider_api.get(f"{KEYS}{key.pk}/"), 404, "not_found")
    assert_error(outsider_api.delete(f"{KEYS}{key.pk}/"), 404, "not_found")
    assert bearer_client(raw).get("/api/v1/auth/me").status_code == 200
    assert outsider_api.get(KEYS).json()["count"] == 1  # only the outsider's own key


def test_update_is_not_allowed(owner_api, org, owner):
    key, _raw = factories.make_api_key(org, owner)
    assert_error(owner_api.patch(f"{KEYS}{key.pk}/", {"name": "x"}, format="json"), 405)
