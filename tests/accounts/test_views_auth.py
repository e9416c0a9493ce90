"""Sign up, log in and out, password reset and change, and allauth's pages in our layout."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Membership, Organization, Role, User
from tests import factories

SIGNUP = {
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "organization_name": "Acme Corp",
    "password1": "a-long-and-unusual-passphrase",
}


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_signup_page_asks_for_name_email_organization_and_password(client, db):
    response = client.get("/accounts/signup/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Create your account · Prospector</title>" in body
    positions = [
        body.index(f'name="{field}"')
        for field in ("name", "email", "organization_name", "password1")
    ]
    assert positions == sorted(positions)


def test_signup_creates_the_user_the_organization_and_the_owner_membership(client, org):
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    user = User.objects.get(email="grace@example.com")
    membership = Membership.objects.select_related("organization").get(user=user)
    assert membership.role == Role.OWNER
    assert membership.organization.name == "Acme Corp"
    # "Acme Corp" was taken by the org fixture: the new slug gets a short suffix.
    assert membership.organization.slug != org.slug
    assert re.fullmatch(r"acme-corp-[0-9a-f]{4}", membership.organization.slug)
    assert _logged_in(client)
    landing = client.get("/", follow=True)
    assert landing.redirect_chain[-1][0] == f"/o/{membership.organization.slug}/"


def test_signup_errors_stay_next_to_their_fields_and_keep_the_input(client, db):
    response = client.post(
        "/accounts/signup/", {**SIGNUP, "email": "not-an-email", "password1": "short"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="error"') >= 2
    assert 'value="Grace Hopper"' in body
    assert 'value="Acme Corp"' in body
    assert not Organization.objects.exists()


def test_login_and_logout(client, owner, org):
    page = client.get("/accounts/login/")
    assert b"Forgot your password?" in page.content
    response = client.post(
        "/accounts/login/", {"login": owner.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert _logged_in(client)
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == f"/o/{org.slug}/"
    confirm = client.get("/accounts/logout/")
    assert b"Log out?" in confirm.content
    client.post("/accounts/logout/")
    assert not _logged_in(client)


def test_a_wrong_password_says_so(client, owner):
    response = client.post("/accounts/login/", {"login": owner.email, "password": "nope"})
    assert response.status_code == 200
    assert b'class="alert alert-error"' in response.content
    assert not _logged_in(client)


def test_password_reset_sends_a_mail_whose_link_sets_a_new_password(client, owner):
    response = client.post("/accounts/password/reset/", {"email": owner.email})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    message = mail.outbox[-1]
    assert message.to == [owner.email]
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+", message.body).group(0)
    path = "/" + link.split("/", 3)[3]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else path
    done = client.post(
        action, {"password1": "brand-new-passphrase-42", "password2": "brand-new-passphrase-42"}
    )
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("brand-new-passphrase-42")


def test_password_change(owner_client, owner):
    page = owner_client.get("/accounts/password/change/")
    assert page.status_code == 200
    assert b'aria-current="page">Password</a>' in page.content
    owner_client.post(
        "/accounts/password/change/",
        {
            "oldpassword": factories.PASSWORD,
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )
    owner.refresh_from_db()
    assert owner.check_password("another-long-passphrase")


@pytest.fixture
def signed_in(client, owner, org):
    """Logged in and freshly reauthenticated, as allauth wants before two-factor setup."""
    client.force_login(owner)
    response = client.post("/accounts/reauthenticate/", {"password": factories.PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/activate/",
    ],
)
def test_account_pages_render_inside_the_app_shell(signed_in, org, path):
    response = signed_in.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="sidebar"' in body
    assert "Your account" in body
    assert f"/o/{org.slug}/" in body  # the sidebar still leads back to the organization


def test_totp_activation_shows_the_qr_code(signed_in):
    body = signed_in.get("/accounts/2fa/totp/activate/").content.decode()
    assert '<img src="data:image/svg+xml' in body
    assert 'class="qr"' in body
    assert 'id="authenticator_secret"' in body


def test_sensitive_pages_ask_to_reauthenticate_in_our_layout(owner_client):
    response = owner_client.get("/accounts/2fa/totp/activate/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/reauthenticate/")
    assert (
        b'class="card account-card"' in response.content or b'class="auth-card' in response.content
    )
    assert b'name="password"' in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
    ],
)
def test_logged_out_pages_use_the_auth_layout(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="auth-card' in body
    assert 'class="sidebar"' not in body
