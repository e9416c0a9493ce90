"""settings/members: the list, roles, removal, invitations."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail

from accounts.models import ApiKey, Invitation, Membership, Role
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(org, tail=""):
    return f"/o/{org.slug}/settings/members/{tail}"


def membership(org, user):
    return Membership.objects.get(organization=org, user=user)


# The list -------------------------------------------------------------------------------


def test_members_page_lists_everyone_with_their_role(owner_client, org, admin_user, member, viewer):
    response = owner_client.get(url(org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Members · Acme Corp · Prospector</title>" in body
    for person in ("Olivia Owner", "Adam Admin", "Mia Member", "Vic Viewer"):
        assert person in body
    assert "4 members" in body
    assert "Invite a teammate" in body


def test_viewers_see_the_list_without_management_controls(viewer_client, org, member):
    response = viewer_client.get(url(org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mia Member" in body
    assert "Invite a teammate" not in body
    assert 'name="role"' not in body


def test_members_page_query_count_is_pinned(owner_client, org, django_assert_num_queries):
    factories.populate_org(org)
    for _ in range(5):
        factories.add_member(org)
    # session, user, membership+org+plan, members+users, pending invitations+inviter,
    # the switcher's memberships+organizations
    with django_assert_num_queries(6):
        response = owner_client.get(url(org))
    assert response.status_code == 200


def test_members_outsider_gets_404(outsider_client, org, member):
    assert outsider_client.get(url(org)).status_code == 404
    target = membership(org, member)
    assert (
        outsider_client.post(url(org, f"{target.pk}/role/"), {"role": "viewer"}).status_code == 404
    )
    assert outsider_client.post(url(org, f"{target.pk}/remove/")).status_code == 404
    assert (
        outsider_client.post(
            url(org, "invite/"), {"email": "x@example.com", "role": "member"}
        ).status_code
        == 404
    )


def test_members_page_refuses_post(owner_client, org):
    assert owner_client.post(url(org)).status_code == 405


def test_members_htmx_gets_the_fragment(owner_client, org):
    response = owner_client.get(url(org), **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert response.content.lstrip().startswith(b'<div id="members"')


# Roles --------------------------------------------------------------------------------------


def test_admin_changes_a_members_role(client, admin_user, member, org):
    client.force_login(admin_user)
    target = membership(org, member)
    response = client.post(url(org, f"{target.pk}/role/"), {"role": "viewer"})
    assert response.status_code == 302
    assert response["Location"] == url(org)
    target.refresh_from_db()
    assert target.role == Role.VIEWER


def test_role_change_with_htmx_returns_the_fragment_and_a_toast(owner_client, org, member):
    target = membership(org, member)
    response = owner_client.post(url(org, f"{target.pk}/role/"), {"role": "admin"}, **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="members"' in response.content
    assert "Mia Member is now Admin" in response["HX-Trigger"]


def test_the_last_owner_cannot_be_demoted(owner_client, owner, org):
    own = membership(org, owner)
    response = owner_client.post(url(org, f"{own.pk}/role/"), {"role": "admin"}, follow=True)
    own.refresh_from_db()
    assert own.role == Role.OWNER
    assert b"The last owner cannot be demoted" in response.content


def test_an_admin_cannot_touch_the_owner_role(client, admin_user, owner, member, org):
    client.force_login(admin_user)
    owner_membership = membership(org, owner)
    client.post(url(org, f"{owner_membership.pk}/role/"), {"role": "member"})
    target = membership(org, member)
    response = client.post(url(org, f"{target.pk}/role/"), {"role": "owner"}, follow=True)
    owner_membership.refresh_from_db()
    target.refresh_from_db()
    assert owner_membership.role == Role.OWNER
    assert target.role == Role.MEMBER
    assert b"Only an owner can grant or change the owner role" in response.content


def test_members_and_viewers_cannot_manage(member_client, org, viewer, member):
    target = membership(org, viewer)
    assert member_client.post(url(org, f"{target.pk}/role/"), {"role": "admin"}).status_code == 403
    assert member_client.post(url(org, f"{target.pk}/remove/")).status_code == 403
    member_client.force_login(viewer)
    target = membership(org, member)
    assert member_client.post(url(org, f"{target.pk}/role/"), {"role": "viewer"}).status_code == 403
    assert member_client.post(url(org, f"{target.pk}/remove/")).status_code == 403
    assert (
        member_client.post(
            url(org, "invite/"), {"email": "a@example.com", "role": "member"}
        ).status_code
        == 403
    )
    target.refresh_from_db()
    assert target.role == Role.MEMBER


def test_role_change_refuses_get(owner_client, org, member):
    target = membership(org, member)
    assert owner_client.get(url(org, f"{target.pk}/role/")).status_code == 405


def test_role_change_of_another_organizations_member_is_404(owner_client, org, other_org, outsider):
    foreign = membership(other_org, outsider)
    assert owner_client.post(url(org, f"{foreign.pk}/role/"), {"role": "viewer"}).status_code == 404


# Removal ---------------------------------------------------------------------------------------


def test_owner_removes_a_member_and_their_keys_are_revoked(owner_client, org, member):
    key, _raw = factories.make_api_key(org, member)
    target = membership(org, member)
    response = owner_client.post(url(org, f"{target.pk}/remove/"))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=target.pk).exists()
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_an_admin_cannot_remove_an_owner(client, admin_user, owner, org):
    client.force_login(admin_user)
    target = membership(org, owner)
    response = client.post(url(org, f"{target.pk}/remove/"), follow=True)
    assert Membership.objects.filter(pk=target.pk).exists()
    assert b"Only an owner can remove another owner" in response.content


def test_removing_yourself_as_last_owner_is_refused(owner_client, owner, org):
    own = membership(org, owner)
    response = owner_client.post(url(org, f"{own.pk}/remove/"), **HTMX)
    assert response.status_code == 200
    assert Membership.objects.filter(pk=own.pk).exists()
    assert "The last owner cannot leave" in response["HX-Trigger"]


def test_remove_refuses_get(owner_client, org, member):
    assert owner_client.get(url(org, f"{membership(org, member).pk}/remove/")).status_code == 405


# Invitations ----------------------------------------------------------------------------------


def test_admin_invites_by_email_and_the_mail_is_sent(
    client, admin_user, org, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(org, "invite/"), {"email": "New.Person@Example.com", "role": "viewer"}
        )
    assert response.status_code == 302
    invitation = Invitation.objects.for_org(org).get()
    assert (invitation.email, invitation.role) == ("new.person@example.com", Role.VIEWER)
    assert mail.outbox[-1].to == ["new.person@example.com"]
    # The link is built from SITE_URL, never from the request's Host header.
    assert f"{settings.SITE_URL}/invitations/" in mail.outbox[-1].body


def test_pending_invitations_are_listed_for_managers(owner_client, org, owner):
    owner_client.post(url(org, "invite/"), {"email": "pending@example.com", "role": "member"})
    response = owner_client.get(url(org))
    assert b"pending@example.com" in response.content
    assert b"Revoke invitation" in response.content


def test_invalid_invitation_keeps_the_input_and_shows_the_error(owner_client, org, member):
    response = owner_client.post(
        url(org, "invite/"), {"email": "member@example.com", "role": "member"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "This person is already a member." in body
    assert 'value="member@example.com"' in body
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner(client, admin_user, org):
    client.force_login(admin_user)
    response = client.post(url(org, "invite/"), {"email": "boss@example.com", "role": "owner"})
    assert response.status_code == 200
    assert not Invitation.objects.exists()


def test_invite_refuses_get(owner_client, org):
    assert owner_client.get(url(org, "invite/")).status_code == 405


def test_admin_revokes_an_invitation(owner_client, org):
    owner_client.post(url(org, "invite/"), {"email": "gone@example.com", "role": "member"})
    invitation = Invitation.objects.get()
    response = owner_client.post(
        f"/o/{org.slug}/settings/invitations/{invitation.pk}/revoke/", **HTMX
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert b"gone@example.com" not in response.content.split(b"Pending invitations")[1]


def test_revoke_invitation_rules(client, org, owner, member, outsider):
    invitation = Invitation.objects.create(
        organization=org,
        email="x@example.com",
        token_hash="h" * 64,
        invited_by=owner,
        expires_at=Invitation.default_expiry(),
    )
    path = f"/o/{org.slug}/settings/invitations/{invitation.pk}/revoke/"
    client.force_login(member)
    assert client.post(path).status_code == 403
    client.force_login(owner)
    assert client.get(path).status_code == 405
    client.force_login(outsider)
    assert client.post(path).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_keys_of_a_removed_member_are_not_someone_elses(owner_client, org, member):
    # Removing one member leaves the other members' keys alone.
    own_key, _ = factories.make_api_key(org, factories.add_member(org))
    owner_client.post(url(org, f"{membership(org, member).pk}/remove/"))
    assert ApiKey.objects.get(pk=own_key.pk).revoked_at is None


def _people_in_order(body: str) -> list[str]:
    return re.findall(r"<div><strong>([^<]+)</strong>", body)


def test_members_sort_by_name_role_and_joined(owner_client, org, admin_user, member, viewer):
    body = owner_client.get(url(org), {"sort": "name"}).content.decode()
    assert _people_in_order(body) == ["Adam Admin", "Mia Member", "Olivia Owner", "Vic Viewer"]
    assert 'aria-sort="ascending"' in body
    body = owner_client.get(url(org), {"sort": "-name"}).content.decode()
    assert _people_in_order(body) == ["Vic Viewer", "Olivia Owner", "Mia Member", "Adam Admin"]
    body = owner_client.get(url(org), {"sort": "role"}).content.decode()
    assert _people_in_order(body) == ["Olivia Owner", "Adam Admin", "Mia Member", "Vic Viewer"]
    body = owner_client.get(url(org)).content.decode()
    assert _people_in_order(body) == ["Olivia Owner", "Adam Admin", "Mia Member", "Vic Viewer"]
    assert 'href="?sort=-joined"' in body


def test_a_change_keeps_the_sort_of_the_list(owner_client, org, member, viewer):
    target = membership(org, member)
    body = owner_client.get(url(org), {"sort": "-name"}).content.decode()
    assert f'hx-post="/o/{org.slug}/settings/members/{target.pk}/role/?sort=-name"' in body
    response = owner_client.post(
        url(org, f"{target.pk}/role/") + "?sort=-name", {"role": "viewer"}, **HTMX
    )
    assert _people_in_order(response.content.decode())[0] == "Vic Viewer"


def test_expired_invitations_are_listed_with_a_way_to_invite_again(owner_client, org, owner):
    from datetime import timedelta

    from django.utils import timezone

    Invitation.objects.create(
        organization=org,
        email="late@example.com",
        role=Role.VIEWER,
        token_hash="e" * 64,
        invited_by=owner,
        expires_at=timezone.now() - timedelta(days=1),
    )
    body = owner_client.get(url(org)).content.decode()
    assert "late@example.com" in body
    assert "Expired" in body
    assert 'name="email" value="late@example.com"' in body
    assert 'name="role" value="viewer"' in body
    response = owner_client.post(
        url(org, "invite/"), {"email": "late@example.com", "role": "viewer"}
    )
    assert response.status_code == 302
    assert Invitation.objects.for_org(org).pending().filter(email="late@example.com").exists()
