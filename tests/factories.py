"""Plain builders for test data. Where realism matters they call the real services."""

from __future__ import annotations

import itertools

from accounts import services
from accounts.models import Membership, Organization, Role, User

_seq = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


def make_user(email: str | None = None, *, name: str = "", password: str = PASSWORD, **extra) -> User:
    n = next(_seq)
    return User.objects.create_user(
        email=email or f"user{n}@example.com", password=password, name=name or f"User {n}", **extra
    )


def make_org(name: str | None = None, *, owner: User | None = None) -> Organization:
    owner = owner or make_user()
    return services.create_organization(name=name or f"Org {next(_seq)}", owner=owner)


def add_member(org: Organization, user: User | None = None, role: str = Role.MEMBER) -> User:
    user = user or make_user()
    Membership.objects.create(organization=org, user=user, role=role)
    return user


def make_api_key(org: Organization, user: User, scopes: dict[str, str] | None = None, **extra):
    """Returns (ApiKey, raw key)."""
    return services.create_api_key(
        organization=org,
        user=user,
        name=extra.pop("name", "Test key"),
        scopes=scopes
        if scopes is not None
        else {s: "write" for s in ("leads", "enrichment", "agents", "campaigns", "organization")},
        **extra,
    )
