"""/invitations/<token>/: joining as a new person, an existing user, the wrong user, too late."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Membership, Role, User
from tests import factories


@pytest.fixture
def invite(org, owner):
    """(invitation, its path) for newcomer@example.com as a member."""
    invitation = services.invite_member(
        organization=org,
        email="newcomer@example.com",
        role=Role.MEMBER,
        actor=owner,
        accept_url_base="http://testserver/",
    )
    return invitation, invitation.accept_url.removeprefix("http://testserver")


def _logged_in_as(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def test_a_new_person_sees_a_signup_form_with_the_email_fixed(client, invite):
    _invitation, path = invite
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Join Acme Corp" in body
    assert 'value="newcomer@example.com" readonly autocomplete="username"' in body
    assert 'name="password"' in body
    assert 'name="email"' not in body  # the address comes from the invitation only


def test_a_new_person_creates_an_account_joins_and_is_logged_in(client, invite, org):
    invitation, path = invite
    response = client.post(path, {"name": "Nina New", "password": "a-long-unusual-passphrase"})
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/"
    user = User.objects.get(email="newcomer@example.com")
    assert user.name == "Nina New"
    assert user.check_password("a-long-unusual-passphrase")
    assert EmailAddress.objects.get(user=user).verified
    assert Membership.objects.get(organization=org, user=user).role == Role.MEMBER
    assert _logged_in_as(client) == user.pk
    invitation.refresh_from_db()
    assert invitation.status == "accepted"


def test_a_weak_password_is_refused_next_to_the_field(client, invite):
    _invitation, path = invite
    response = client.post(path, {"name": "Nina", "password": "123"})
    assert response.status_code == 200
    assert b'class="error"' in response.content
    assert b'value="Nina"' in response.content
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_an_existing_account_is_asked_to_log_in_and_come_back(client, invite):
    _invitation, path = invite
    factories.make_user("newcomer@example.com")
    response = client.get(path)
    body = response.content.decode()
    assert response.status_code == 200
    assert f"/accounts/login/?next={path}" in body
    assert 'name="password"' not in body
    # A POST does not create anything either.
    client.post(path, {"name": "X", "password": "a-long-unusual-passphrase"})
    assert User.objects.filter(email="newcomer@example.com").count() == 1


def test_the_invited_user_logged_in_confirms_and_joins(client, invite, org):
    _invitation, path = invite
    user = factories.make_user("Newcomer@Example.com".lower())
    factories.make_org("Their Own Co", owner=user)
    client.force_login(user)
    page = client.get(path)
    assert b"Join Acme Corp" in page.content
    assert not Membership.objects.filter(organization=org, user=user).exists()
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/"
    assert Membership.objects.get(organization=org, user=user).role == Role.MEMBER
    # One user, several organizations: the switcher lists both.
    switcher = client.get(f"/o/{org.slug}/").content.decode()
    assert "Their Own Co" in switcher and "Acme Corp" in switcher


def test_a_different_logged_in_user_is_told_so(client, invite, outsider, org):
    _invitation, path = invite
    client.force_login(outsider)
    response = client.get(path)
    body = response.content.decode()
    assert "signed in as <strong>outsider@example.com</strong>" in body
    assert "for <strong>newcomer@example.com</strong>" in body
    client.post(path)
    assert not Membership.objects.filter(organization=org, user=outsider).exists()


def test_an_expired_invitation_says_so(client, invite):
    invitation, path = invite
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    response = client.get(path)
    assert response.status_code == 410
    assert b"This invitation has expired" in response.content
    response = client.post(path, {"name": "Late", "password": "a-long-unusual-passphrase"})
    assert response.status_code == 410
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_a_revoked_invitation_says_so(client, invite, owner):
    invitation, path = invite
    services.revoke_invitation(invitation=invitation, actor=owner)
    response = client.get(path)
    assert response.status_code == 410
    assert b"This invitation was withdrawn" in response.content


def test_an_accepted_invitation_says_so_and_members_go_to_the_org(client, invite, org):
    _invitation, path = invite
    client.post(path, {"name": "Nina", "password": "a-long-unusual-passphrase"})
    again = client.get(path)
    assert again.status_code == 302
    assert again["Location"] == f"/o/{org.slug}/"
    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    assert b"already used" in response.content


def test_an_unknown_token_is_404(client, db):
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 404
    assert b"This invitation link is not valid" in response.content


def test_invitation_page_refuses_other_methods(client, invite):
    _invitation, path = invite
    assert client.put(path).status_code == 405
