"""Email verification: optional by default, mandatory when ACCOUNT_EMAIL_VERIFICATION says so."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import override_settings

from accounts.models import Membership, User

SIGNUP = {
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "organization_name": "Cobol Corp",
    "password1": "a-long-and-unusual-passphrase",
}


def _is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_by_default_signup_logs_in_and_sends_an_optional_verification(client):
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    assert _is_logged_in(client)
    user = User.objects.get(email="grace@example.com")
    assert user.name == "Grace Hopper"
    assert Membership.objects.get(user=user).organization.name == "Cobol Corp"
    assert any("grace@example.com" in m.to for m in mail.outbox)


@pytest.mark.django_db
@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_mandatory_verification_blocks_login_until_the_link_is_followed(client):
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    assert not _is_logged_in(client)
    assert not EmailAddress.objects.get(email="grace@example.com").verified

    client.post("/accounts/login/", {"login": SIGNUP["email"], "password": SIGNUP["password1"]})
    assert not _is_logged_in(client)

    body = mail.outbox[-1].body
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", body).group(0)
    path = "/" + link.split("/", 3)[3]
    client.post(path)
    assert EmailAddress.objects.get(email="grace@example.com").verified

    client.post("/accounts/login/", {"login": SIGNUP["email"], "password": SIGNUP["password1"]})
    assert _is_logged_in(client)
