"""Shared fixtures: an organization with an owner, member and viewer, an outsider, and
another organization (the healthchecks personas)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests import factories

_DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


@pytest.fixture(autouse=True)
def _fresh_cache(request, django_db_blocker):
    """Rate-limit counters live in the shared cache (a table of the test database): every
    test that uses the database starts from zero, whatever an earlier transactional test
    left behind. Tests without the database are left alone (clearing the cache there would
    reach the development database, which pytest-django has not swapped out)."""
    if not (
        request.node.get_closest_marker("django_db") or _DB_FIXTURES & set(request.fixturenames)
    ):
        return
    request.getfixturevalue("django_db_setup")
    from django.core.cache import cache

    with django_db_blocker.unblock():
        cache.clear()


@pytest.fixture
def owner(db):
    return factories.make_user("owner@example.com", name="Olivia Owner")


@pytest.fixture
def org(owner):
    return factories.make_org("Acme Corp", owner=owner)


@pytest.fixture
def admin_user(org):
    return factories.add_member(
        org, factories.make_user("admin@example.com", name="Adam Admin"), Role.ADMIN
    )


@pytest.fixture
def member(org):
    return factories.add_member(
        org, factories.make_user("member@example.com", name="Mia Member"), Role.MEMBER
    )


@pytest.fixture
def viewer(org):
    return factories.add_member(
        org, factories.make_user("viewer@example.com", name="Vic Viewer"), Role.VIEWER
    )


@pytest.fixture
def outsider(db):
    return factories.make_user("outsider@example.com", name="Oscar Outsider")


@pytest.fixture
def other_org(outsider):
    return factories.make_org("Other Org", owner=outsider)


def _client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(client, owner, org):
    return _client_for(client, owner)


@pytest.fixture
def member_client(client, member):
    return _client_for(client, member)


@pytest.fixture
def viewer_client(client, viewer):
    return _client_for(client, viewer)


@pytest.fixture
def outsider_client(client, outsider, other_org):
    return _client_for(client, outsider)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def owner_api(org, owner):
    """An APIClient authenticated with an all-scopes API key of the owner."""
    _key, raw = factories.make_api_key(org, owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def viewer_api(org, viewer):
    _key, raw = factories.make_api_key(org, viewer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def outsider_api(other_org, outsider):
    _key, raw = factories.make_api_key(other_org, outsider)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
