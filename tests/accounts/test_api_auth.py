"""POST /api/v1/auth/register, POST|DELETE /api/v1/auth/token, GET /api/v1/auth/me."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.request import Request

from accounts import services
from accounts.models import AccessToken, Membership, Role, User
from tests import factories
from tests.accounts.api_support import (
    assert_error,
    bearer_client,
    key_client,
    session_client,
    token_client,
)

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"

SIGNUP = {
    "name": "Nora New",
    "email": "Nora@Example.com",
    "password": "a-long-unusual-passphrase-42",
    "organization_name": "Nora Labs",
}


# ---------------------------------------------------------------- register


def test_register_creates_a_user_who_owns_a_new_organization(api_client, db):
    response = api_client.post(REGISTER, SIGNUP, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "email", "name", "role", "organization", "created_at"}
    assert body["email"] == "nora@example.com"
    assert body["name"] == "Nora New"
    assert body["role"] == "owner"
    assert body["organization"]["name"] == "Nora Labs"
    assert body["organization"]["slug"] == "nora-labs"
    user = User.objects.get(pk=body["id"])
    assert user.check_password(SIGNUP["password"])
    membership = Membership.objects.get(user=user)
    assert membership.organization_id == body["organization"]["id"]
    assert membership.role == Role.OWNER
    assert "password" not in response.content.decode()


def test_register_mails_the_same_verification_link_as_the_browser(api_client, db):
    api_client.post(REGISTER, SIGNUP, format="json")
    address = EmailAddress.objects.get(email="nora@example.com")
    assert address.primary and not address.verified
    assert [m.to for m in mail.outbox] == [["nora@example.com"]]
    assert "/accounts/confirm-email/" in mail.outbox[0].body


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_mandatory_verification_holds_back_the_token(api_client, db):
    api_client.post(REGISTER, SIGNUP, format="json")
    grant = {"username": SIGNUP["email"], "password": SIGNUP["password"]}
    response = api_client.post(TOKEN, grant, format="json")
    assert "Verify your email" in assert_error(response, 403, "email_unverified")["message"]
    assert not AccessToken.objects.exists()
    EmailAddress.objects.filter(email="nora@example.com").update(verified=True)
    assert api_client.post(TOKEN, grant, format="json").status_code == 200


def test_register_then_get_a_token_and_call_me(api_client, db):
    api_client.post(REGISTER, SIGNUP, format="json")
    token = api_client.post(
        TOKEN, {"username": SIGNUP["email"], "password": SIGNUP["password"]}, format="json"
    ).json()
    me = bearer_client(token["access_token"]).get(ME).json()
    assert me["organization"]["slug"] == "nora-labs"


def test_register_with_an_existing_email_is_a_409(api_client, owner):
    response = api_client.post(REGISTER, SIGNUP | {"email": "OWNER@example.com"}, format="json")
    error = assert_error(response, 409, "conflict")
    assert "already exists" in error["message"]
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1


def test_register_with_another_accounts_secondary_email_is_a_409(api_client, owner):
    EmailAddress.objects.create(user=owner, email="nora@example.com", verified=True)
    assert_error(api_client.post(REGISTER, SIGNUP, format="json"), 409, "conflict")


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("short1", "too short"), ("password123", "too common"), ("12345678901", "entirely numeric")],
)
def test_register_applies_the_password_validators(api_client, db, password, fragment):
    response = api_client.post(REGISTER, SIGNUP | {"password": password}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert fragment in " ".join(error["details"]["password"])
    assert not User.objects.exists()


def test_register_refuses_a_password_like_the_email(api_client, db):
    response = api_client.post(
        REGISTER,
        SIGNUP | {"email": "quintessential@example.com", "password": "quintessential"},
        format="json",
    )
    error = assert_error(response, 400, "validation_error")
    assert "too similar" in " ".join(error["details"]["password"])


def test_register_reports_every_missing_field(api_client, db):
    error = assert_error(api_client.post(REGISTER, {}, format="json"), 400, "validation_error")
    assert set(error["details"]) == {"name", "email", "password", "organization_name"}


def test_register_refuses_unknown_fields(api_client, db):
    response = api_client.post(REGISTER, SIGNUP | {"tenant_id": "x"}, format="json")
    assert assert_error(response, 400)["details"] == {"tenant_id": ["Unknown field."]}


def test_register_ignores_credentials_and_csrf(db, owner):
    # A logged-in browser or a stale key must not get in the way of signing up.
    client = session_client(owner, enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION="Bearer pk_live_stale")
    assert client.post(REGISTER, SIGNUP, format="json").status_code == 201


@override_settings(SIGNUP_RATE_LIMIT="2/h")
def test_register_is_rate_limited_per_ip(api_client, db):
    for n in range(2):
        response = api_client.post(REGISTER, SIGNUP | {"email": f"n{n}@example.com"}, format="json")
        assert response.status_code == 201
    response = api_client.post(REGISTER, SIGNUP | {"email": "n3@example.com"}, format="json")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    other_ip = api_client.post(
        REGISTER, SIGNUP | {"email": "n4@example.com"}, format="json", REMOTE_ADDR="10.9.9.9"
    )
    assert other_ip.status_code == 201


# ---------------------------------------------------------------- token


def _password_grant(**extra):
    return {"username": "owner@example.com", "password": factories.PASSWORD, **extra}


def test_token_with_json_returns_a_bearer_token(api_client, org, owner):
    response = api_client.post(TOKEN, _password_grant(), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith("pt_")
    assert body["organization"] == {"id": org.pk, "name": org.name, "slug": org.slug}
    assert body["role"] == "owner"
    assert body["expires_in"] == 30 * 24 * 3600
    assert response["Cache-Control"] == "no-store"
    token = AccessToken.objects.get()
    assert token.key_hash != body["access_token"]  # stored hashed only
    assert body["access_token"].startswith(token.prefix)
    assert token.expires_at > timezone.now() + timedelta(days=29)


def test_token_accepts_the_oauth2_password_grant_form(api_client, org, owner):
    form = _password_grant(grant_type="password", scope="", client_id="", client_secret="")
    response = api_client.post(TOKEN, form)  # multipart form, as OAuth2 clients send
    assert response.status_code == 200, response.content
    response = api_client.post(
        TOKEN,
        "grant_type=password&username=owner%40example.com&password=correct-horse-battery-staple"
        "&scope=&client_id=&client_secret=",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    me = bearer_client(response.json()["access_token"]).get(ME).json()
    assert me["email"] == "owner@example.com"
    assert me["credential"]["type"] == "access_token"


def test_token_refuses_another_grant_type(api_client, org, owner):
    response = api_client.post(
        TOKEN, _password_grant(grant_type="client_credentials"), format="json"
    )
    assert "grant_type" in assert_error(response, 400, "validation_error")["details"]


def test_token_with_a_wrong_password_is_a_401(api_client, org, owner):
    response = api_client.post(TOKEN, _password_grant(password="nope"), format="json")
    error = assert_error(response, 401, "authentication_failed")
    assert "not correct" in error["message"]
    assert not AccessToken.objects.exists()


def test_token_for_an_unknown_or_inactive_user_is_a_401(api_client, org, member):
    response = api_client.post(TOKEN, _password_grant(username="ghost@example.com"), format="json")
    assert_error(response, 401)
    member.is_active = False
    member.save(update_fields=["is_active"])
    response = api_client.post(TOKEN, _password_grant(username="member@example.com"), format="json")
    assert_error(response, 401)


def test_token_email_is_case_insensitive(api_client, org, owner):
    response = api_client.post(
        TOKEN, _password_grant(username=" Owner@Example.COM "), format="json"
    )
    assert response.status_code == 200


def test_token_for_a_user_of_several_organizations(api_client, org, owner, other_org):
    second = factories.make_org("Beta Co", owner=owner)
    # The last organization worked in is the default.
    body = api_client.post(TOKEN, _password_grant(), format="json").json()
    assert body["organization"]["slug"] == second.slug
    # A slug picks another one.
    body = api_client.post(TOKEN, _password_grant(organization=org.slug), format="json").json()
    assert body["organization"]["slug"] == org.slug
    # A slug the user is not a member of is refused, listing theirs.
    response = api_client.post(TOKEN, _password_grant(organization=other_org.slug), format="json")
    error = assert_error(response, 400, "validation_error")
    assert org.slug in error["details"]["organization"][0]
    # Without a last organization the user must choose.
    User.objects.filter(pk=owner.pk).update(last_organization=None)
    response = api_client.post(TOKEN, _password_grant(), format="json")
    message = assert_error(response, 400)["details"]["organization"][0]
    assert org.slug in message and second.slug in message


def test_token_for_a_user_without_organization_is_a_400(api_client, outsider):
    response = api_client.post(
        TOKEN, _password_grant(username="outsider@example.com"), format="json"
    )
    assert "any organization" in assert_error(response, 400)["details"]["organization"][0]


def test_the_token_acts_with_the_users_role(org, viewer):
    client = token_client(org, viewer)
    assert client.get("/api/v1/organization/members/").status_code == 200
    response = client.post("/api/v1/organization/invitations/", {"email": "x@example.com"})
    assert_error(response, 403, "permission_denied")


def test_an_expired_token_is_a_401(org, owner):
    client = token_client(org, owner)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert_error(client.get(ME), 401, "authentication_failed")


def test_delete_token_revokes_the_token_in_use(org, owner):
    client = token_client(org, owner)
    other = token_client(org, owner)
    assert client.delete(TOKEN).status_code == 204
    assert_error(client.get(ME), 401, "authentication_failed")
    assert other.get(ME).status_code == 200
    assert AccessToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_delete_token_with_an_api_key_is_a_400(owner_api):
    error = assert_error(owner_api.delete(TOKEN), 400, "validation_error")
    assert "api-keys" in error["message"]


def test_delete_token_without_credentials_is_a_401(api_client, org):
    assert_error(api_client.delete(TOKEN), 401, "not_authenticated")


@override_settings(LOGIN_RATE_LIMIT="3/m")
def test_token_is_rate_limited_per_ip(api_client, org, owner):
    for _ in range(3):
        api_client.post(TOKEN, _password_grant(password="guess"), format="json")
    response = api_client.post(TOKEN, _password_grant(), format="json")
    error = assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) == error["details"]["retry_after"] > 0
    elsewhere = api_client.post(TOKEN, _password_grant(), format="json", REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 200


# ---------------------------------------------------------------- me


def test_me_with_an_api_key(org, member):
    client = key_client(org, member, {"leads": "read"})
    response = client.get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "member@example.com"
    assert body["role"] == "member"
    assert body["organization"]["slug"] == org.slug
    assert body["is_staff"] is False
    assert body["organizations"] == [
        {"id": org.pk, "name": org.name, "slug": org.slug, "role": "member"}
    ]
    assert body["credential"]["type"] == "api_key"
    assert body["credential"]["scopes"] == {"leads": "read"}


def test_me_with_a_session(org, owner):
    body = session_client(owner).get(ME).json()
    assert body["role"] == "owner"
    assert body["credential"] == {
        "type": "session",
        "prefix": None,
        "scopes": None,
        "expires_at": None,
    }


def test_me_for_a_user_without_organization(outsider):
    body = session_client(outsider).get(ME).json()
    assert body["organization"] is None
    assert body["role"] is None
    assert body["organizations"] == []


def test_me_records_key_use_once_a_minute(org, owner):
    key, raw = factories.make_api_key(org, owner)
    client = bearer_client(raw)
    client.get(ME)
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    client.get(ME)
    key.refresh_from_db()
    assert key.last_used_at == first


@pytest.mark.parametrize("kind", ["api_key", "token"])
def test_the_credential_is_loaded_as_the_orm_loads_it(org, member, kind):
    """KeyAuthentication's hand-written lookup gives the same objects and values as
    select_related("user", "organization", "organization__plan"), with or without a plan."""
    from rest_framework.test import APIRequestFactory

    from accounts.models import ApiKey, Plan
    from config.api_auth import KeyAuthentication

    if kind == "api_key":
        key, raw = factories.make_api_key(org, member, {"leads": "read", "agents": "write"})
    else:
        key, raw = services.issue_access_token(organization=org, user=member)
    model = type(key)
    for plan in (None, Plan.objects.create(code="p1", name="P1", limits={"agents.run": 3})):
        org.plan = plan
        org.save(update_fields=["plan"])
        request = Request(APIRequestFactory().get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}"))
        user, credential = KeyAuthentication().authenticate(request)
        expected = model.objects.select_related("user", "organization", "organization__plan").get(
            pk=key.pk
        )
        assert type(credential) is model and credential.pk == key.pk
        for field in model._meta.concrete_fields:
            assert getattr(credential, field.attname) == getattr(expected, field.attname)
        for field in User._meta.concrete_fields:
            assert getattr(user, field.attname) == getattr(expected.user, field.attname)
        assert credential.organization.slug == org.slug
        assert credential.organization.plan == plan
        if plan is not None:
            assert credential.organization.plan.limits == {"agents.run": 3}
        if model is ApiKey:
            assert credential.scopes == {"leads": "read", "agents": "write"}
        assert request.membership.role == Role.MEMBER
        assert request.membership.pk == Membership.objects.get(organization=org, user=member).pk
        assert request.org == org and credential._state.adding is False


def test_a_changed_role_or_membership_counts_from_the_next_request(org, member):
    client = key_client(org, member)
    assert client.get(ME).json()["role"] == "member"
    Membership.objects.filter(organization=org, user=member).update(role=Role.VIEWER)
    assert client.get(ME).json()["role"] == "viewer"
    Membership.objects.filter(organization=org, user=member).delete()
    assert_error(client.get(ME), 401, "authentication_failed")


def test_me_query_count(org, owner, django_assert_num_queries):
    client = key_client(org, owner)
    client.get(ME)  # first use records last_used_at
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(3):
        # credential with user, org and plan; membership; the user's memberships
        assert client.get(ME).status_code == 200
