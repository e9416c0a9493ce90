"""GET /api/v1/organization/, members and invitations."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts import services, usage
from accounts.models import AccessToken, ApiKey, Event, Invitation, Membership, Plan, Role
from tests import factories
from tests.accounts.api_support import assert_error, bearer_client, key_client, token_client

ORG = "/api/v1/organization/"
MEMBERS = "/api/v1/organization/members/"
INVITATIONS = "/api/v1/organization/invitations/"


def _membership(org, user) -> Membership:
    return Membership.objects.get(organization=org, user=user)


# ---------------------------------------------------------------- the organization


def test_organization_shows_plan_and_this_months_usage(org, viewer):
    plan = Plan.objects.create(
        code="starter", name="Starter", limits={"agents.run": 100}, api_rate_limit="100/m"
    )
    org.plan = plan
    org.save(update_fields=["plan"])
    usage.record(org, "agents.run", 7)
    usage.record(org, "agents.run", 3)
    last_month = usage.record(org, "agents.run", 50)
    last_month.created_at = timezone.now() - timedelta(days=40)
    last_month.save(update_fields=["created_at"])
    body = key_client(org, viewer, {"organization": "read"}).get(ORG).json()
    assert body["id"] == org.pk and body["slug"] == org.slug and body["name"] == org.name
    assert body["role"] == "viewer"
    assert body["plan"] == {
        "code": "starter",
        "name": "Starter",
        "limits": {"agents.run": 100},
        "api_rate_limit": "100/m",
    }
    assert body["usage"]["month"] == timezone.now().strftime("%Y-%m")
    lines = {line["action"]: line for line in body["usage"]["actions"]}
    assert lines["agents.run"] == {
        "action": "agents.run",
        "label": "AI agent runs",
        "used": 10,
        "limit": 100,
    }
    assert lines["campaigns.email"]["limit"] is None


def test_organization_is_the_one_of_the_credential(outsider_api, other_org, org):
    assert outsider_api.get(ORG).json()["slug"] == other_org.slug


def test_organization_needs_the_organization_scope(org, owner):
    client = key_client(org, owner, {"leads": "write"})
    assert_error(client.get(ORG), 403, "insufficient_scope")


def test_organization_is_read_only(owner_api):
    assert_error(owner_api.post(ORG, {"name": "x"}, format="json"), 405, "method_not_allowed")


# ---------------------------------------------------------------- members


def test_members_are_listed_with_their_users(org, owner, member, viewer, other_org):
    body = key_client(org, viewer).get(MEMBERS).json()
    assert body["count"] == 3
    rows = {row["user"]["email"]: row for row in body["results"]}
    assert set(rows) == {"owner@example.com", "member@example.com", "viewer@example.com"}
    assert rows["member@example.com"]["role"] == "member"
    assert rows["member@example.com"]["id"] == _membership(org, member).pk
    assert set(rows["owner@example.com"]) == {"id", "user", "role", "joined_at"}


def test_members_list_query_count(owner_api, org, django_assert_num_queries):
    owner_api.get(MEMBERS)
    for _ in range(5):
        factories.add_member(org)
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4):
        # credential; membership; count; memberships with their users
        assert owner_api.get(MEMBERS).json()["count"] == 6


def test_admin_changes_a_role(org, admin_user, member):
    target = _membership(org, member)
    response = key_client(org, admin_user).patch(
        f"{MEMBERS}{target.pk}/", {"role": "viewer"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "viewer"
    target.refresh_from_db()
    assert target.role == Role.VIEWER
    event = Event.objects.get(organization=org, type="member.role_changed")
    assert event.payload == {"user": member.email, "from": "member", "to": "viewer"}


def test_patch_validates_the_role(owner_api, org, member):
    target = _membership(org, member)
    response = owner_api.patch(f"{MEMBERS}{target.pk}/", {"role": "king"}, format="json")
    assert "role" in assert_error(response, 400, "validation_error")["details"]
    response = owner_api.patch(f"{MEMBERS}{target.pk}/", {"role": "admin", "x": 1}, format="json")
    assert assert_error(response, 400)["details"] == {"x": ["Unknown field."]}


def test_only_an_owner_makes_or_unmakes_owners(org, owner, admin_user, member):
    admin = key_client(org, admin_user)
    response = admin.patch(
        f"{MEMBERS}{_membership(org, member).pk}/", {"role": "owner"}, format="json"
    )
    assert_error(response, 403, "permission_denied")
    response = admin.patch(
        f"{MEMBERS}{_membership(org, owner).pk}/", {"role": "member"}, format="json"
    )
    assert_error(response, 403, "permission_denied")
    assert_error(admin.delete(f"{MEMBERS}{_membership(org, owner).pk}/"), 403)
    owner_client = key_client(org, owner)
    response = owner_client.patch(
        f"{MEMBERS}{_membership(org, member).pk}/", {"role": "owner"}, format="json"
    )
    assert response.json()["role"] == "owner"


def test_the_last_owner_cannot_be_demoted_or_leave(owner_api, org, owner):
    mine = _membership(org, owner)
    response = owner_api.patch(f"{MEMBERS}{mine.pk}/", {"role": "admin"}, format="json")
    assert "last owner" in assert_error(response, 409, "conflict")["message"]
    assert "last owner" in assert_error(owner_api.delete(f"{MEMBERS}{mine.pk}/"), 409)["message"]
    mine.refresh_from_db()
    assert mine.role == Role.OWNER


def test_member_and_viewer_cannot_change_roles(org, member, viewer):
    target = _membership(org, viewer)
    for user in (member, viewer):
        response = key_client(org, user).patch(
            f"{MEMBERS}{target.pk}/", {"role": "admin"}, format="json"
        )
        assert_error(response, 403, "permission_denied")


def test_admin_removes_a_member_and_their_credentials(org, admin_user, member):
    key, raw = factories.make_api_key(org, member)
    services.issue_access_token(organization=org, user=member)
    target = _membership(org, member)
    assert key_client(org, admin_user).delete(f"{MEMBERS}{target.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert not AccessToken.objects.filter(user=member, revoked_at__isnull=True).exists()
    assert_error(bearer_client(raw).get("/api/v1/auth/me"), 401)
    assert Event.objects.filter(organization=org, type="member.removed").exists()


def test_a_member_cannot_remove_others(org, member, viewer):
    target = _membership(org, viewer)
    response = key_client(org, member).delete(f"{MEMBERS}{target.pk}/")
    assert "Only admins" in assert_error(response, 403, "permission_denied")["message"]
    assert Membership.objects.filter(pk=target.pk).exists()


def test_anyone_may_leave(org, viewer):
    client = token_client(org, viewer)
    assert client.delete(f"{MEMBERS}{_membership(org, viewer).pk}/").status_code == 204
    assert not Membership.objects.filter(organization=org, user=viewer).exists()
    assert Event.objects.filter(organization=org, type="member.left").exists()


def test_outsider_gets_404_for_our_members(outsider_api, org, member):
    target = _membership(org, member)
    assert_error(outsider_api.get(f"{MEMBERS}{target.pk}/"), 404)
    assert_error(
        outsider_api.patch(f"{MEMBERS}{target.pk}/", {"role": "viewer"}, format="json"), 404
    )
    assert_error(outsider_api.delete(f"{MEMBERS}{target.pk}/"), 404)
    target.refresh_from_db()
    assert target.role == Role.MEMBER
    assert outsider_api.get(MEMBERS).json()["count"] == 1


def test_members_cannot_be_created_or_replaced(owner_api, org, member):
    assert_error(owner_api.post(MEMBERS, {"role": "member"}, format="json"), 405)
    target = _membership(org, member)
    assert_error(owner_api.put(f"{MEMBERS}{target.pk}/", {"role": "member"}, format="json"), 405)


# ---------------------------------------------------------------- invitations


def test_admin_invites_by_email(org, admin_user, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://prospector.example"
    client = key_client(org, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            INVITATIONS, {"email": "Newbie@Example.com", "role": "viewer"}, format="json"
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "newbie@example.com"
    assert body["role"] == "viewer"
    assert body["status"] == "pending"
    assert body["invited_by"]["email"] == "admin@example.com"
    assert body["accept_url"].startswith("https://prospector.example/invitations/")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newbie@example.com"]
    assert body["accept_url"] in mail.outbox[0].body
    # The link is not shown again.
    detail = client.get(f"{INVITATIONS}{body['id']}/").json()
    assert "accept_url" not in detail
    # The token in the link finds the invitation.
    token = body["accept_url"].rstrip("/").rsplit("/", 1)[1]
    assert services.find_invitation(token).pk == body["id"]


def test_invite_defaults_to_member(owner_api):
    body = owner_api.post(INVITATIONS, {"email": "x@example.com"}, format="json").json()
    assert body["role"] == "member"


def test_invite_validates(owner_api):
    response = owner_api.post(INVITATIONS, {"email": "not-an-email", "role": "boss"}, format="json")
    assert set(assert_error(response, 400)["details"]) == {"email", "role"}


def test_only_an_owner_invites_an_owner(org, admin_user, owner):
    response = key_client(org, admin_user).post(
        INVITATIONS, {"email": "boss@example.com", "role": "owner"}, format="json"
    )
    assert_error(response, 403, "permission_denied")
    response = key_client(org, owner).post(
        INVITATIONS, {"email": "boss@example.com", "role": "owner"}, format="json"
    )
    assert response.status_code == 201


def test_inviting_a_member_is_a_409(owner_api, member):
    response = owner_api.post(INVITATIONS, {"email": "MEMBER@example.com"}, format="json")
    assert "already a member" in assert_error(response, 409, "conflict")["message"]


def test_inviting_again_replaces_the_open_invitation(owner_api, org):
    first = owner_api.post(INVITATIONS, {"email": "x@example.com"}, format="json").json()
    second = owner_api.post(
        INVITATIONS, {"email": "x@example.com", "role": "admin"}, format="json"
    ).json()
    statuses = {row["id"]: row["status"] for row in owner_api.get(INVITATIONS).json()["results"]}
    assert statuses == {first["id"]: "revoked", second["id"]: "pending"}


def test_member_and_viewer_cannot_see_or_send_invitations(org, member, viewer):
    for user in (member, viewer):
        client = key_client(org, user)
        assert_error(client.get(INVITATIONS), 403, "permission_denied")
        assert_error(client.post(INVITATIONS, {"email": "x@example.com"}, format="json"), 403)


def _invite(org, owner, email="guest@example.com") -> Invitation:
    return services.invite_member(
        organization=org, email=email, role=Role.MEMBER, actor=owner, accept_url_base="http://x"
    )


def test_invitations_filter_by_status(owner_api, org, owner, outsider):
    pending = _invite(org, owner, "a@example.com")
    expired = _invite(org, owner, "b@example.com")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    accepted = _invite(org, owner, "outsider@example.com")
    services.accept_invitation(invitation=accepted, user=outsider)
    revoked = _invite(org, owner, "c@example.com")
    services.revoke_invitation(invitation=revoked, actor=owner)
    for status, invitation in [
        ("pending", pending),
        ("expired", expired),
        ("accepted", accepted),
        ("revoked", revoked),
    ]:
        rows = owner_api.get(INVITATIONS, {"status": status}).json()["results"]
        assert [row["id"] for row in rows] == [invitation.pk], status
        assert rows[0]["status"] == status
    assert owner_api.get(INVITATIONS).json()["count"] == 4
    assert_error(owner_api.get(INVITATIONS, {"status": "lost"}), 400, "validation_error")


def test_invitations_list_query_count(owner_api, org, owner, admin_user, django_assert_num_queries):
    owner_api.get(INVITATIONS)
    for n in range(4):
        _invite(org, owner if n % 2 else admin_user, f"g{n}@example.com")
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4):
        # credential; membership; count; invitations with who invited
        assert owner_api.get(INVITATIONS).json()["count"] == 4


def test_revoke_an_invitation(owner_api, org, owner):
    invitation = _invite(org, owner)
    assert owner_api.delete(f"{INVITATIONS}{invitation.pk}/").status_code == 204
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert owner_api.delete(f"{INVITATIONS}{invitation.pk}/").status_code == 204
    assert Event.objects.filter(type="member.invitation_revoked").count() == 1


def test_revoking_an_accepted_invitation_is_a_409(owner_api, org, owner, outsider):
    invitation = _invite(org, owner, "outsider@example.com")
    services.accept_invitation(invitation=invitation, user=outsider)
    assert_error(owner_api.delete(f"{INVITATIONS}{invitation.pk}/"), 409, "conflict")


def test_outsider_gets_404_for_our_invitations(outsider_api, org, owner):
    invitation = _invite(org, owner)
    assert_error(outsider_api.get(f"{INVITATIONS}{invitation.pk}/"), 404)
    assert_error(outsider_api.delete(f"{INVITATIONS}{invitation.pk}/"), 404)
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert outsider_api.get(INVITATIONS).json()["count"] == 0
