"""Findings of the security review and of fuzzing the API, pinned as tests.

The nasty-input table at the end is the fuzzing run (schemathesis plus hand-made bodies)
turned into a fast, deterministic test: every body is refused with a 4xx in the error shape,
on whichever database the suite runs (PostgreSQL refuses NUL and overlong strings that
SQLite stores).
"""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import services
from accounts.forms import InviteForm
from accounts.models import ApiKey, Invitation, Membership, Role, Scope
from config.api_auth import HasOrganizationAccess, IsStaff
from tests import factories
from tests.accounts.api_support import (
    assert_error,
    enable_mfa,
    key_client,
    session_client,
    token_client,
)

pytestmark = pytest.mark.django_db

WRITE_ENDPOINTS = [
    "/api/v1/api-keys/",
    "/api/v1/webhooks/",
    "/api/v1/organization/invitations/",
    "/api/v1/auth/register",
    "/api/v1/auth/token",
]


# ---------------------------------------------------------------- bodies DRF let through as 500s


@pytest.mark.parametrize("url", WRITE_ENDPOINTS)
def test_json_nested_past_the_recursion_limit_is_a_400(owner_api, url):
    body = b"[" * 100_000 + b"]" * 100_000
    response = owner_api.post(url, body, content_type="application/json")
    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize("url", WRITE_ENDPOINTS)
def test_a_lone_surrogate_escape_is_a_400(owner_api, url):
    # Valid JSON syntax, but "\ud800" is no character: echoing it in an error message, or
    # handing it to PostgreSQL, fails to encode.
    response = owner_api.post(url, b'{"name": "\\ud800"}', content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_a_lone_surrogate_in_a_member_role_is_a_400(owner_api, org, owner):
    membership = Membership.objects.get(organization=org, user=owner)
    response = owner_api.patch(
        f"/api/v1/organization/members/{membership.pk}/",
        b'{"role": "\\ud800"}',
        content_type="application/json",
    )
    assert_error(response, 400, "malformed_request")


def test_a_proper_surrogate_pair_is_a_character(owner_api):
    response = owner_api.post(
        "/api/v1/api-keys/",
        b'{"name": "rocket \\ud83d\\ude80", "scopes": {"leads": "read"}}',
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["name"] == "rocket \U0001f680"


@pytest.mark.parametrize("url", WRITE_ENDPOINTS)
def test_a_form_with_too_many_fields_is_a_400(owner_api, url):
    body = "&".join(f"f{i}=1" for i in range(2000))
    response = owner_api.post(url, body, content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "malformed_request")


# ---------------------------------------------------------------- NUL characters in addresses


def test_a_nul_in_an_api_query_string_is_a_400(owner_api):
    assert_error(owner_api.get("/api/v1/events/?type=%00"), 400, "malformed_request")


def test_a_nul_in_a_staff_usage_filter_is_a_400(org, owner):
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    enable_mfa(owner)
    client = session_client(owner)
    for param in ("organization", "action"):
        response = client.get(f"/api/v1/admin/usage/?{param}=a%00b")
        assert_error(response, 400, "malformed_request")


def test_a_nul_in_the_audit_log_filter_is_a_400_page(client, owner, org):
    client.force_login(owner)
    response = client.get(f"/o/{org.slug}/settings/audit-log/?type=%00")
    assert response.status_code == 400
    assert b"<html" in response.content


def test_ordinary_query_strings_still_pass(owner_api):
    assert owner_api.get("/api/v1/events/?type=member.joined&limit=5").status_code == 200


def test_a_session_x_organization_that_is_not_a_slug_is_a_404(org, owner):
    client = session_client(owner)
    for bad in ("a\x00b", "a b", "x" * 61):
        response = client.get("/api/v1/auth/me", HTTP_X_ORGANIZATION=bad)
        assert_error(response, 404, "not_found")


# ---------------------------------------------------------------- pagination


@pytest.mark.parametrize(
    "query, param",
    [
        ("offset=abc", "offset"),
        ("offset=-5", "offset"),
        ("offset=null", "offset"),
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("offset=%C2%B2", "offset"),  # a superscript two: isdigit() says yes, int() says no
    ],
)
def test_a_bad_limit_or_offset_is_a_400_naming_it(owner_api, query, param):
    error = assert_error(owner_api.get(f"/api/v1/events/?{query}"), 400, "validation_error")
    assert param in error["details"]


def test_a_limit_above_the_maximum_is_lowered_to_it(owner_api):
    from config.pagination import Pagination

    request = APIRequestFactory().get("/api/v1/events/?limit=100000")
    request.query_params = request.GET
    assert Pagination().get_limit(request) == 500
    assert owner_api.get("/api/v1/events/?limit=100000").status_code == 200


def test_an_offset_past_the_end_is_an_empty_page(owner_api):
    response = owner_api.get("/api/v1/events/?offset=999999999999")
    assert response.status_code == 200
    assert response.json()["results"] == []


# ---------------------------------------------------------------- API key scopes fail closed


class _ForgetfulView(APIView):
    """A view that declares no scope_family (as a later app might forget to)."""

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


def test_a_view_without_scope_family_needs_the_organization_scope(org, owner):
    _key, raw = factories.make_api_key(org, owner, {"leads": "write"})
    factory = APIRequestFactory()
    for method in ("get", "post"):
        request = getattr(factory, method)("/api/v1/forgetful/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        response = _ForgetfulView.as_view()(request)
        assert response.status_code == 403
        assert response.data["error"]["code"] == "insufficient_scope"
        assert response.data["error"]["details"]["required_scope"].startswith("organization:")


def test_a_view_without_scope_family_still_serves_an_organization_key(org, owner):
    _key, raw = factories.make_api_key(org, owner, {"organization": "read"})
    request = APIRequestFactory().get("/api/v1/forgetful/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert _ForgetfulView.as_view()(request).status_code == 200


def _api_views():
    """Every view class routed under /api/v1/, found by walking the URLconf."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None) or getattr(
                    pattern.callback, "view_class", None
                )
                if view is not None and (prefix + str(pattern.pattern)).startswith("api/v1/"):
                    yield prefix + str(pattern.pattern), view

    return sorted(set(walk(get_resolver().url_patterns)), key=lambda item: item[0])


def test_every_api_view_names_a_real_scope_family_or_needs_no_organization():
    views = _api_views()
    assert len(views) > 10
    for route, view in views:
        checks_org = any(
            issubclass(permission, (HasOrganizationAccess, IsStaff))
            for permission in view.permission_classes
        )
        if not checks_org or not getattr(view, "organization_required", True):
            continue
        assert getattr(view, "scope_family", None) in Scope.values, route


def test_a_leads_key_reaches_no_organization_endpoint(org, owner):
    client = key_client(org, owner, {"leads": "write"})
    for url in (
        "/api/v1/api-keys/",
        "/api/v1/webhooks/",
        "/api/v1/events/",
        "/api/v1/organization",
        "/api/v1/organization/members/",
        "/api/v1/organization/invitations/",
    ):
        assert_error(client.get(url), 403, "insufficient_scope")


# ---------------------------------------------------------------- audit log through the API


def test_viewers_and_members_cannot_read_the_audit_log_through_the_api(org, owner, viewer, member):
    # As on the settings page: the payloads name webhook URLs, invitees and API keys.
    from accounts import webhooks

    webhooks.create_endpoint(
        organization=org,
        url="https://93.184.215.14/services/T0/B0/receiver-secret",
        event_types=["*"],
        description="",
        actor=owner,
    )
    for user in (viewer, member):
        for client in (key_client(org, user), token_client(org, user)):
            assert_error(client.get("/api/v1/events/"), 403, "permission_denied")
    body = key_client(org, owner).get("/api/v1/events/").json()
    assert any(row["type"] == "webhook.created" for row in body["results"])


# ---------------------------------------------------------------- last owner, stale reads


def test_demoting_a_stale_membership_cannot_remove_the_last_owner(org, owner):
    # The request loaded B as an admin; meanwhile B became owner and the first owner left.
    b_user = factories.add_member(org, role=Role.ADMIN)
    stale_b = Membership.objects.get(organization=org, user=b_user)
    services.change_role(
        membership=Membership.objects.get(pk=stale_b.pk), role=Role.OWNER, actor=owner
    )
    services.remove_member(
        membership=Membership.objects.get(organization=org, user=owner), actor=owner
    )
    assert stale_b.role == Role.ADMIN

    with pytest.raises(services.LastOwnerError):
        services.change_role(membership=stale_b, role=Role.MEMBER, actor=b_user)
    assert list(Membership.objects.for_org(org).owners().values_list("user", flat=True)) == [
        b_user.pk
    ]


def test_removing_a_stale_membership_cannot_remove_the_last_owner(org, owner):
    b_user = factories.add_member(org, role=Role.ADMIN)
    stale_b = Membership.objects.get(organization=org, user=b_user)
    services.change_role(
        membership=Membership.objects.get(pk=stale_b.pk), role=Role.OWNER, actor=owner
    )
    services.remove_member(
        membership=Membership.objects.get(organization=org, user=owner), actor=owner
    )

    with pytest.raises(services.LastOwnerError):
        services.remove_member(membership=stale_b, actor=b_user)
    assert Membership.objects.for_org(org).owners().count() == 1


# ---------------------------------------------------------------- secrets in the request log


def test_the_request_log_does_not_keep_invitation_tokens(client, org, owner, caplog):
    caplog.set_level(logging.INFO, logger="prospector.request")
    invitation = services.invite_member(
        organization=org,
        email="new@example.com",
        role=Role.MEMBER,
        actor=owner,
        accept_url_base="http://testserver",
    )
    token = invitation.accept_url.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/invitations/{token}/").status_code == 200
    for path in (
        f"/accounts/password/reset/key/1a-{token}/",
        f"/accounts/confirm-email/{token}/",
    ):
        client.get(path)
    lines = [r for r in caplog.records if r.name == "prospector.request"]
    assert len(lines) == 3
    for record in lines:
        assert token not in record.getMessage()
        assert token not in record.path
        assert "[redacted]" in record.path


# ---------------------------------------------------------------- forms and column lengths


def test_the_invite_form_refuses_an_address_longer_than_the_column(org, owner):
    # 260 characters: EmailValidator takes up to 320, the column (and PostgreSQL) 254.
    email = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".com"
    membership = Membership.objects.get(organization=org, user=owner)
    form = InviteForm({"email": email, "role": Role.MEMBER}, organization=org, inviter=membership)
    assert not form.is_valid()
    assert "email" in form.errors


def test_inviting_an_overlong_address_in_the_browser_rerenders_the_form(client, org, owner):
    client.force_login(owner)
    email = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".com"
    response = client.post(
        f"/o/{org.slug}/settings/members/invite/", {"email": email, "role": "member"}
    )
    assert response.status_code == 200
    assert not Invitation.objects.for_org(org).exists()


def test_media_urls_have_a_prefix_of_their_own(settings):
    # Unset, MEDIA_URL is "/" and DEBUG's media route catches every unmatched URL.
    assert settings.MEDIA_URL.strip("/")


# ---------------------------------------------------------------- the fuzzing table

LONG = "x" * 5000
EMAIL_260 = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".com"
# Wrong for every field of every endpoint below.
NASTY_VALUES = [
    "a\x00b",
    LONG,
    99999999999999999999999999,
    -1,
    1.5,
    True,
    None,
    [],
    {},
    ["a"],
    {"a": 1},
]
# Wrong for one field in particular.
NASTY_BY_FIELD = {
    "expires_at": ["2026-02-31", "2020-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "soon"],
    "scopes": [{"leads": "admin"}, {"nope": "read"}, {"leads": None}, {"leads": "read\x00"}],
    "email": [EMAIL_260, "", "not-an-email", "a\x00@example.com"],
    "url": [
        "http://127.0.0.1/hook",
        "http://[::1]/",
        "javascript:alert(1)",
        "https://93.184.215.14/" + "a" * 600,
    ],
    "event_types": [["nope"], [1], ["a\x00"], ["x" * 81]],
    "role": ["god", "OWNER"],
    "organization_name": ["", " "],
}
GOOD_BODIES = {
    "/api/v1/api-keys/": {
        "name": "k",
        "scopes": {"leads": "read"},
        "expires_at": "2999-01-01T00:00:00Z",
    },
    "/api/v1/webhooks/": {
        "url": "https://93.184.215.14/hook",
        "description": "d",
        "event_types": ["*"],
    },
    "/api/v1/organization/invitations/": {"email": "x@example.com", "role": "member"},
    "/api/v1/auth/register": {
        "name": "N",
        "email": "r@example.com",
        "password": "Long-enough-pass-42",
        "organization_name": "O",
    },
    "/api/v1/auth/token": {"username": "nobody@example.com", "password": "x"},
}
RAW_BODIES = [
    b'{"name": ',
    b"[1, 2]",
    b'"a string"',
    b"null",
    b"1e999",
    b'{"name": "\xff\xfe"}',
    b"NaN",
]


def _nasty_cases():
    for url, good in GOOD_BODIES.items():
        for field in good:
            for value in NASTY_VALUES + NASTY_BY_FIELD.get(field, []):
                if field == "expires_at" and value is None:
                    continue  # no expiry: allowed
                yield url, {**good, field: value}
        yield url, {**good, "organization": 1, "user": 1, "is_staff": True}
        for raw in RAW_BODIES:
            yield url, raw


def test_nasty_bodies_get_a_4xx_in_the_error_shape(owner_api):
    cases = list(_nasty_cases())
    assert len(cases) > 200
    for url, body in cases:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = owner_api.post(url, data, content_type="application/json")
        assert 400 <= response.status_code < 500, (url, body, response.content[:300])
        assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/xml", b"<a/>"),
        ("text/plain", b"{}"),
        ("multipart/form-data; boundary=xx", b"--xx\r\nnonsense"),
        ("multipart/form-data", b"no boundary"),
        ("application/json; charset=nope", b"{}"),
        ("application/x-www-form-urlencoded", b"name=a%00b&scopes=x"),
    ],
)
def test_odd_content_types_get_a_4xx_in_the_error_shape(owner_api, content_type, body):
    response = owner_api.post("/api/v1/api-keys/", body, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content[:300]
    assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "path",
    [
        "api-keys/abc/",
        "api-keys/-1/",
        "api-keys/99999999999999999999/",
        "webhooks/1%00/",
        "organization/members/9223372036854775808/",
        "events/1e5/",
    ],
)
@pytest.mark.parametrize("method", ["get", "delete", "patch"])
def test_odd_ids_are_4xx_in_the_error_shape(owner_api, path, method):
    response = getattr(owner_api, method)(f"/api/v1/{path}", {"role": "member"}, format="json")
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "k", "scope_leads": "admin", "expires_at": "2026-02-31"},
        {"name": "k", "scope_leads": "read", "expires_at": "99999-01-01"},
        {"name": "k\x00", "scope_leads": "read"},
        {"name": LONG, "scope_leads": "read"},
        {"name": "k", "scope_nope": "write"},
        {},
    ],
)
def test_garbage_in_the_api_key_form_rerenders_it(client, org, owner, data):
    client.force_login(owner)
    response = client.post(f"/o/{org.slug}/settings/api-keys/new/", data)
    assert response.status_code == 200
    assert b"<form" in response.content
    assert not ApiKey.objects.for_org(org).exists()


def test_the_admin_two_factor_redirect_keeps_the_path_as_one_next_value(client):
    from urllib.parse import parse_qs, urlsplit

    user = factories.make_user("nomfa@example.com", is_staff=True, is_superuser=True)
    client.force_login(user)
    response = client.get("/admin/x&next=//evil.example/")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [
        "/admin/x&next=//evil.example/"
    ]


def test_a_plan_rate_limit_the_limiter_cannot_read_is_refused_in_admin():
    from django.core.exceptions import ValidationError

    from accounts.models import Plan

    Plan(code="ok", name="OK", api_rate_limit="100/15m").full_clean()
    with pytest.raises(ValidationError) as caught:
        Plan(code="bad", name="Bad", api_rate_limit="lots").full_clean()
    assert "api_rate_limit" in caught.value.message_dict


def test_the_schema_documents_the_bounds_of_limit_and_offset(owner_api):
    schema = owner_api.get("/api/schema/?format=json").json()
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"]
    }
    assert parameters["limit"]["minimum"] == 1
    assert parameters["offset"]["minimum"] == 0


def test_the_schema_documents_the_400_of_every_paginated_list(owner_api):
    schema = owner_api.get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        names = {p["name"] for p in (get or {}).get("parameters", [])}
        if get and "limit" in names:
            assert "400" in get["responses"], path


# ---------------------------------------------------------------- CSRF failures


def test_a_post_to_an_unknown_api_path_is_a_json_404_without_csrf(org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/no-such-thing/", {"a": "b"})
    assert_error(response, 404, "not_found")


def test_a_csrf_failure_under_api_is_in_the_error_shape(rf):
    from config.views import csrf_failure

    request = rf.post("/api/v1/anything/")
    response = csrf_failure(request, reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert json.loads(response.content)["error"]["code"] == "csrf_failed"


def test_a_csrf_failure_on_a_page_is_the_403_page(client, owner, org):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post(f"/o/{org.slug}/settings/general/", {"name": "Renamed"})
    assert response.status_code == 403
    assert b"<html" in response.content
