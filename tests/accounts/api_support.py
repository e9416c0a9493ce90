"""Helpers for the API tests: clients for each kind of credential and the error-shape check."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from rest_framework.test import APIClient

from accounts import services
from tests import factories


def assert_error(response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the one error shape with this status (and code); returns `error`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["message"]
    assert isinstance(error["details"], dict)
    assert error["request_id"] == response["X-Request-ID"]
    if code is not None:
        assert error["code"] == code, error
    return error


def key_client(org, user, scopes: dict[str, str] | None = None, **extra) -> APIClient:
    """An APIClient using a new API key of `user` in `org` (all scopes unless given)."""
    _key, raw = factories.make_api_key(org, user, scopes, **extra)
    return bearer_client(raw)


def bearer_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def token_client(org, user) -> APIClient:
    _token, raw = services.issue_access_token(organization=org, user=user)
    return bearer_client(raw)


def session_client(user, **kwargs) -> APIClient:
    client = APIClient(**kwargs)
    client.force_login(user)
    return client


def enable_mfa(user) -> None:
    """Give the user a TOTP authenticator, as after setting up two-factor authentication."""
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
