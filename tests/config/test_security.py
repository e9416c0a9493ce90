"""Security headers on every response and a nonce-based Content Security Policy on pages."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def csp_nonce(header: str) -> str:
    match = re.search(r"'nonce-([^']+)'", header)
    assert match, header
    return match.group(1)


def test_pages_carry_a_csp_with_a_fresh_nonce_used_by_their_scripts(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    nonce = csp_nonce(policy)
    assert f'nonce="{nonce}"' in response.text
    again = client.get("/accounts/login/")
    assert csp_nonce(again["Content-Security-Policy"]) != nonce


def test_signed_in_pages_carry_the_csp_too(owner_client, org):
    response = owner_client.get(f"/o/{org.slug}/")
    assert response.status_code == 200
    nonce = csp_nonce(response["Content-Security-Policy"])
    assert f'nonce="{nonce}"' in response.text


@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/no-such-page/"])
def test_security_headers_are_on_every_response(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_hsts_is_sent_over_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/healthz", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/healthz")


def test_plain_http_is_redirected_to_https_when_asked(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


def test_session_cookie_is_http_only(client, owner):
    from tests.factories import PASSWORD

    response = client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["sessionid"]["httponly"]
    assert client.cookies["sessionid"]["samesite"] == "Lax"
