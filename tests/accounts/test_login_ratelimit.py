"""Per-IP limits on the browser's login and signup forms."""

import pytest
from django.test import override_settings


@pytest.mark.django_db
@override_settings(LOGIN_RATE_LIMIT="3/m")
def test_login_form_is_limited_per_ip(client):
    for _ in range(3):
        response = client.post(
            "/accounts/login/",
            {"login": "nobody@example.com", "password": "wrong"},
            REMOTE_ADDR="203.0.113.9",
        )
        assert response.status_code == 200
    blocked = client.post(
        "/accounts/login/",
        {"login": "nobody@example.com", "password": "wrong"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert blocked.status_code == 429
    assert 0 < int(blocked["Retry-After"]) <= 60
    # Another address is not affected, and reading the form is never limited.
    assert (
        client.post(
            "/accounts/login/",
            {"login": "x@example.com", "password": "wrong"},
            REMOTE_ADDR="203.0.113.10",
        ).status_code
        == 200
    )
    assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.9").status_code == 200


@pytest.mark.django_db
@override_settings(SIGNUP_RATE_LIMIT="2/h")
def test_signup_form_is_limited_per_ip(client):
    for n in range(2):
        client.post(
            "/accounts/signup/",
            {"email": "bad", "password1": "x", "name": "A", "organization_name": f"O{n}"},
            REMOTE_ADDR="198.51.100.7",
        )
    blocked = client.post(
        "/accounts/signup/",
        {"email": "bad", "password1": "x", "name": "A", "organization_name": "O"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
