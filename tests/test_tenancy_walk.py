"""Every tenant route, UI and API, refuses another organization's ids with a 404.

The walk reads the URL resolver, so routes added later are covered without editing this
file: each path parameter is filled with the ids of the other organization's rows (every
OrgScoped model, see factories.populate_org) and `org_slug` with its slug.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.urls import get_resolver

from accounts.models import OrgScoped
from tests import factories

# Routes that are not organization data: the framework's own and token-addressed pages.
SKIP_PREFIXES = (
    "admin/",
    "accounts/",
    "static/",
    "media/",
    "api/schema",
    "api/docs",
    "invitations/",
    "api/v1/admin/",
)


def _route_templates() -> set[tuple[str, tuple[str, ...]]]:
    """(format string like 'o/%(org_slug)s/settings/members/%(pk)s/', param names)."""
    found = set()
    for _key, entries in get_resolver().reverse_dict.lists():
        for possibilities, _pattern, _defaults, _converters in entries:
            for fmt, params in possibilities:
                if params and not fmt.startswith(SKIP_PREFIXES):
                    found.add((fmt, tuple(params)))
    return found


def _tenant_models():
    return [
        model
        for model in apps.get_models()
        if issubclass(model, OrgScoped) and not model._meta.abstract
    ]


def _ids(org) -> set[int]:
    ids: set[int] = set()
    for model in _tenant_models():
        ids.update(model.objects.filter(organization=org).values_list("pk", flat=True))
    return ids


@pytest.fixture
def foreign(org, other_org):
    factories.populate_org(other_org)
    return other_org


def test_every_tenant_model_has_rows_in_the_walk(foreign):
    empty = [
        m.__name__ for m in _tenant_models() if not m.objects.filter(organization=foreign).exists()
    ]
    assert not empty, f"add these models to tests/factories.populate_org: {empty}"


def _candidate_values(org, foreign, param: str) -> list[str]:
    if param == "org_slug":
        return [org.slug]
    # Foreign ids, minus any that happen to exist in our own organization in another table.
    return [str(pk) for pk in sorted(_ids(foreign) - _ids(org))]


def _walk(client, org, foreign, fmt: str, params: tuple[str, ...], api: bool):
    methods = ("get", "post", "patch", "put", "delete") if api else ("get", "post")
    statuses: dict[str, set[int]] = {}
    id_params = [p for p in params if p != "org_slug"]
    base = {"org_slug": org.slug}
    cases = []
    if not id_params:
        # Only the organization in the URL: use the other organization's slug.
        cases.append({"org_slug": foreign.slug})
    else:
        for value in _candidate_values(org, foreign, id_params[0]):
            cases.append(base | dict.fromkeys(id_params, value))
    for values in cases:
        path = "/" + fmt % {p: values.get(p, "") for p in params}
        for method in methods:
            kwargs = (
                {"content_type": "application/json", "data": "{}"}
                if api and method != "get"
                else {}
            )
            response = getattr(client, method)(path, **kwargs)
            statuses.setdefault(path, set()).add(response.status_code)
    return statuses


def test_ui_routes_refuse_another_organizations_ids(owner_client, org, foreign):
    routes = [(f, p) for f, p in _route_templates() if not f.startswith("api/")]
    assert any("org_slug" in p for _f, p in routes), "the walk found no organization pages"
    failures = []
    for fmt, params in routes:
        for path, codes in _walk(owner_client, org, foreign, fmt, params, api=False).items():
            if not codes <= {404, 405} or 404 not in codes:
                failures.append(f"{path}: {sorted(codes)}")
    assert not failures, "routes that do not answer 404 for another organization:\n" + "\n".join(
        failures
    )


def test_api_routes_refuse_another_organizations_ids(owner_api, org, foreign, settings):
    settings.API_RATE_LIMIT = "100000/m"  # the walk sends many requests with one key
    routes = [(f, p) for f, p in _route_templates() if f.startswith("api/v1/")]
    failures = []
    for fmt, params in routes:
        if re.search(r"format", " ".join(params)):
            continue
        for path, codes in _walk(owner_api, org, foreign, fmt, params, api=True).items():
            if not codes <= {404, 405} or 404 not in codes:
                failures.append(f"{path}: {sorted(codes)}")
    assert not failures, (
        "API routes that do not answer 404 for another organization:\n" + "\n".join(failures)
    )
