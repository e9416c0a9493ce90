"""Every API failure answers with the one error shape, the right status and X-Request-ID."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import include, path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts import usage
from accounts.models import ApiKey, Membership, Plan, Role
from tests import factories
from tests.accounts.api_support import assert_error, bearer_client, key_client, session_client

KEYS = "/api/v1/api-keys/"
ME = "/api/v1/auth/me"


# ---------------------------------------------------------------- views local to these tests


class SpendView(APIView):
    """Spends one agent run, like a capability that costs credits will."""

    def post(self, request):
        usage.spend(request.org, "agents.run", user=request.user)
        return Response({"ok": True})


class BrokenView(APIView):
    organization_required = False

    def get(self, request):
        raise RuntimeError("kaboom")


def broken_django_view(request):
    raise RuntimeError("kaboom outside DRF")


urlpatterns = [
    path("api/v1/test/spend", SpendView.as_view()),
    path("api/v1/test/broken", BrokenView.as_view()),
    path("api/v1/test/broken-plain", broken_django_view),
    path("", include("config.urls")),
]
handler500 = "config.views.server_error"
handler404 = "config.views.page_not_found"


# ---------------------------------------------------------------- 400


def test_malformed_json_is_a_400(owner_api):
    response = owner_api.post(KEYS, data='{"name": "x",', content_type="application/json")
    error = assert_error(response, 400, "malformed_request")
    assert "JSON" in error["message"]


def test_wrong_types_get_details_per_field(owner_api):
    response = owner_api.post(KEYS, {"name": ["a", "list"], "scopes": "everything"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert set(error["details"]) == {"name", "scopes"}
    assert error["message"].startswith("The request is not valid")


def test_unknown_fields_are_refused_by_name(owner_api):
    response = owner_api.post(
        KEYS, {"name": "k", "scopes": {"leads": "read"}, "colour": "red"}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {"colour": ["Unknown field."]}
    assert not ApiKey.objects.filter(name="k").exists()


def test_a_json_list_instead_of_an_object_is_a_400(owner_api):
    response = owner_api.post(KEYS, [1, 2], format="json")
    error = assert_error(response, 400, "validation_error")
    assert "non_field_errors" in error["details"]


# ---------------------------------------------------------------- 401


def test_no_credentials_is_a_401_with_a_challenge(api_client, org):
    response = api_client.get(ME)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("raw", ["pk_live_doesnotexist", "pt_doesnotexist", "something-else"])
def test_an_unknown_key_is_a_401(org, raw):
    assert_error(bearer_client(raw).get(ME), 401, "authentication_failed")


def test_an_unknown_key_in_x_api_key_is_a_401(org):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY="pk_live_nope")
    assert_error(client.get(ME), 401, "authentication_failed")


def test_x_api_key_authenticates(org, owner):
    _key, raw = factories.make_api_key(org, owner)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    assert client.get(ME).json()["email"] == owner.email


def test_an_empty_bearer_is_a_401(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer ")
    assert_error(client.get(ME), 401, "authentication_failed")


def test_a_revoked_key_is_a_401(org, owner):
    key, raw = factories.make_api_key(org, owner)
    client = bearer_client(raw)
    assert client.get(ME).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    error = assert_error(client.get(ME), 401, "authentication_failed")
    assert "revoked" in error["message"]


def test_an_expired_key_is_a_401(org, owner):
    _key, raw = factories.make_api_key(org, owner, expires_at=timezone.now() - timedelta(seconds=1))
    error = assert_error(bearer_client(raw).get(ME), 401, "authentication_failed")
    assert "expired" in error["message"]


def test_the_key_of_a_user_no_longer_in_the_org_is_a_401(org, member):
    _key, raw = factories.make_api_key(org, member)
    Membership.objects.filter(organization=org, user=member).delete()
    error = assert_error(bearer_client(raw).get(ME), 401, "authentication_failed")
    assert "no longer a member" in error["message"]


def test_the_key_of_a_deactivated_user_is_a_401(org, member):
    _key, raw = factories.make_api_key(org, member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert_error(bearer_client(raw).get(ME), 401, "authentication_failed")


# ---------------------------------------------------------------- 403


def test_a_viewer_cannot_write(org, viewer):
    client = key_client(org, viewer)
    response = client.patch(
        f"/api/v1/organization/members/{viewer.memberships.get().pk}/",
        {"role": "owner"},
        format="json",
    )
    error = assert_error(response, 403, "permission_denied")
    assert "viewer" in error["message"]


def test_a_key_without_the_scope_gets_insufficient_scope(org, owner):
    client = key_client(org, owner, {"leads": "write"})
    error = assert_error(client.get("/api/v1/events/"), 403, "insufficient_scope")
    assert error["details"] == {"required_scope": "organization:read"}


def test_a_read_only_key_cannot_write(org, owner):
    client = key_client(org, owner, {"organization": "read"})
    assert client.get(KEYS).status_code == 200
    response = client.post(KEYS, {"name": "x", "scopes": {"leads": "read"}}, format="json")
    error = assert_error(response, 403, "insufficient_scope")
    assert error["details"] == {"required_scope": "organization:write"}


def test_a_member_cannot_manage_keys(org, member):
    client = key_client(org, member)
    assert_error(client.get(KEYS), 403, "permission_denied")
    response = client.post(KEYS, {"name": "x", "scopes": {"leads": "read"}}, format="json")
    assert_error(response, 403, "permission_denied")


def test_a_user_without_organization_gets_403_on_organization_endpoints(outsider):
    client = session_client(outsider)
    error = assert_error(client.get("/api/v1/events/"), 403, "permission_denied")
    assert "not a member" in error["message"]


# ---------------------------------------------------------------- 404 and 405


def test_an_unknown_api_url_is_a_json_404(owner_api):
    response = owner_api.get("/api/v1/no-such-thing/")
    assert_error(response, 404, "not_found")


def test_a_foreign_id_is_a_404(owner_api, other_org, outsider):
    key, _raw = factories.make_api_key(other_org, outsider)
    assert_error(owner_api.get(f"{KEYS}{key.pk}/"), 404, "not_found")
    assert_error(owner_api.delete(f"{KEYS}{key.pk}/"), 404, "not_found")
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999", "-1", "1.5"])
def test_an_odd_id_is_a_404(owner_api, pk):
    assert_error(owner_api.get(f"{KEYS}{pk}/"), 404, "not_found")
    assert_error(owner_api.delete(f"/api/v1/organization/members/{pk}/"), 404, "not_found")


def test_a_wrong_method_is_a_405(owner_api, org, owner):
    key, _raw = factories.make_api_key(org, owner)
    response = owner_api.put(f"{KEYS}{key.pk}/", {"name": "x"}, format="json")
    error = assert_error(response, 405, "method_not_allowed")
    assert "PUT" in error["message"]
    assert_error(owner_api.get("/api/v1/auth/register"), 405, "method_not_allowed")


# ---------------------------------------------------------------- 413, 415


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_limit_is_a_413(owner_api):
    body = json.dumps({"name": "x" * 2000, "scopes": {"leads": "read"}})
    response = owner_api.post(KEYS, data=body, content_type="application/json")
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"limit": 1024}
    assert not ApiKey.objects.filter(name__startswith="xxx").exists()


def test_a_text_plain_body_is_a_415(owner_api):
    response = owner_api.post(KEYS, data="name=x", content_type="text/plain")
    error = assert_error(response, 415, "unsupported_media_type")
    assert "text/plain" in error["message"]


# ---------------------------------------------------------------- 429


@override_settings(API_RATE_LIMIT="2/m")
def test_the_per_key_rate_limit_is_a_429_with_retry_after(owner_api, org, owner):
    assert owner_api.get(ME).status_code == 200
    assert owner_api.get(ME).status_code == 200
    response = owner_api.get(ME)
    error = assert_error(response, 429, "rate_limited")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert error["details"] == {"retry_after": retry_after}
    # Another key of the same user has its own budget.
    assert key_client(org, owner).get(ME).status_code == 200


@override_settings(API_RATE_LIMIT="2/m")
def test_the_plans_rate_limit_wins_over_the_default(owner_api, org):
    org.plan = Plan.objects.create(code="big", name="Big", api_rate_limit="5/m")
    org.save(update_fields=["plan"])
    statuses = [owner_api.get(ME).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


# ---------------------------------------------------------------- 402 and 500


@pytest.mark.urls(__name__)
def test_spending_over_the_plans_quota_is_a_402(owner_api, org):
    org.plan = Plan.objects.create(code="tiny", name="Tiny", limits={"agents.run": 1})
    org.save(update_fields=["plan"])
    assert owner_api.post("/api/v1/test/spend", {}, format="json").status_code == 200
    response = owner_api.post("/api/v1/test/spend", {}, format="json")
    error = assert_error(response, 402, "quota_exceeded")
    assert error["details"] == {"action": "agents.run", "limit": 1, "used": 1, "requested": 1}
    assert "Monthly limit" in error["message"]


@pytest.mark.urls(__name__)
def test_an_unexpected_error_is_a_500_in_the_error_shape(owner_api, caplog):
    response = owner_api.get("/api/v1/test/broken")
    error = assert_error(response, 500, "server_error")
    assert "kaboom" not in json.dumps(error)
    assert "kaboom" in caplog.text


@pytest.mark.urls(__name__)
def test_an_error_outside_drf_under_api_is_json_too(org):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test/broken-plain", HTTP_X_REQUEST_ID="trace-500")
    error = assert_error(response, 500, "server_error")
    assert error["request_id"] == "trace-500"


# ---------------------------------------------------------------- request ids


def test_every_response_carries_a_request_id(owner_api, api_client, org):
    ok = owner_api.get(ME)
    failed = api_client.get(ME)
    assert len(ok["X-Request-ID"]) == 32
    assert failed["X-Request-ID"] != ok["X-Request-ID"]


def test_an_incoming_request_id_is_echoed(owner_api, api_client, org):
    assert owner_api.get(ME, HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    error = assert_error(api_client.get(ME, HTTP_X_REQUEST_ID="abc-456"), 401)
    assert error["request_id"] == "abc-456"


def test_a_malformed_request_id_is_replaced(owner_api):
    response = owner_api.get(ME, HTTP_X_REQUEST_ID="not ok\n<script>")
    assert response["X-Request-ID"] != "not ok\n<script>"
    assert len(response["X-Request-ID"]) == 32


# ---------------------------------------------------------------- the browser session


def test_session_auth_needs_the_csrf_token_for_writes(org, owner):
    client = session_client(owner, enforce_csrf_checks=True)
    assert client.get(KEYS).status_code == 200
    payload = {"email": "new@example.com", "role": "member"}
    response = client.post("/api/v1/organization/invitations/", payload, format="json")
    error = assert_error(response, 403, "csrf_failed")
    assert "CSRF" in error["message"]

    token = "a" * 32
    client.cookies["csrftoken"] = token
    response = client.post(
        "/api/v1/organization/invitations/", payload, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.content


def test_session_acts_in_the_organization_named_by_x_organization(org, owner, other_org):
    second = factories.make_org("Second Co", owner=owner)
    client = session_client(owner)
    assert client.get(ME).json()["organization"]["slug"] == second.slug  # the last one made
    me = client.get(ME, HTTP_X_ORGANIZATION=org.slug).json()
    assert me["organization"]["slug"] == org.slug
    assert me["role"] == Role.OWNER
    # Another organization's slug looks exactly like a missing one.
    assert_error(client.get(ME, HTTP_X_ORGANIZATION=other_org.slug), 404, "not_found")
    assert_error(client.get(ME, HTTP_X_ORGANIZATION="no-such-org"), 404, "not_found")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        ME,
        KEYS,
        "/api/v1/organization/",
        "/api/v1/organization/members/",
        "/api/v1/organization/invitations/",
        "/api/v1/webhooks/",
        "/api/v1/events/",
    ],
)
def test_options_and_head_answer_without_errors(owner_api, url):
    response = owner_api.options(url)
    assert response.status_code == 200, response.content
    assert response.json()["name"]
    assert owner_api.head(url).status_code in (200, 405)
