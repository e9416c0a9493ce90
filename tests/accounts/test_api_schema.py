"""The OpenAPI schema documents every route with its bodies and errors; the docs are local."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

SCHEMA_URL = "/api/schema/"


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_generates_and_validates_without_warnings(tmp_path):
    # --fail-on-warn turns every warning or error of drf-spectacular into a failure.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["openapi"].startswith("3.")


EXPECTED = {
    "/api/v1/auth/register/": {"post"},
    "/api/v1/auth/token/": {"post", "delete"},
    "/api/v1/auth/me/": {"get"},
    "/api/v1/api-keys/": {"get", "post"},
    "/api/v1/api-keys/{id}/": {"get", "delete"},
    "/api/v1/organization/": {"get"},
    "/api/v1/organization/members/": {"get"},
    "/api/v1/organization/members/{id}/": {"get", "patch", "delete"},
    "/api/v1/organization/invitations/": {"get", "post"},
    "/api/v1/organization/invitations/{id}/": {"get", "delete"},
    "/api/v1/webhooks/": {"get", "post"},
    "/api/v1/webhooks/{id}/": {"get", "delete"},
    "/api/v1/webhooks/{id}/test/": {"post"},
    "/api/v1/webhooks/{id}/enable/": {"post"},
    "/api/v1/webhooks/{id}/deliveries/": {"get"},
    "/api/v1/events/": {"get"},
    "/api/v1/events/{id}/": {"get"},
    "/api/v1/admin/users/": {"get"},
    "/api/v1/admin/organizations/": {"get"},
    "/api/v1/admin/usage/": {"get"},
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_schema_lists_every_route(schema):
    found = {path: set(item) & HTTP_METHODS for path, item in schema["paths"].items()}
    for path, methods in EXPECTED.items():
        assert found.get(path) == methods, path


def _api_routes(resolver=None, prefix=""):
    """Every URL pattern under /api/v1/, as a regex string."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        regex = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_routes(pattern, regex)
        elif isinstance(pattern, URLPattern) and regex.startswith("api/v1/"):
            yield regex


def test_every_api_route_is_in_the_schema(schema):
    # Routes added later are checked too: each must appear in the schema.
    documented = [re.sub(r"\{[^}]+\}", "X", path) for path in schema["paths"]]
    for route in _api_routes():
        if "(?P<format>" in route:
            continue
        sample = re.sub(r"\(\?P<[^>]+>[^)]+\)", "X", route).replace("^", "").replace("$", "")
        sample = "/" + sample.replace("/?", "/")
        assert sample in documented, f"{route} is not in the schema"


def test_every_operation_documents_its_responses(schema):
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, (path, method)
        for code in success:
            if code != "204":
                assert "content" in responses[code], (path, method, code)
        errors = [code for code in responses if code[0] in "45"]
        assert "404" in errors and "429" in errors, (path, method)
        for code in errors:
            ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error", (path, method, code)
        if operation.get("security") != [{}]:
            assert {"401", "403"} <= set(errors), (path, method)
        if method in ("post", "patch", "put") and "requestBody" in operation:
            assert {"400", "415"} <= set(errors), (path, method)
        assert operation.get("summary") or operation.get("description"), (path, method)


def test_write_operations_document_their_request_bodies(schema):
    bodies = {
        (path, method): operation.get("requestBody")
        for path, method, operation in _operations(schema)
    }
    for key in [
        ("/api/v1/auth/register/", "post"),
        ("/api/v1/auth/token/", "post"),
        ("/api/v1/api-keys/", "post"),
        ("/api/v1/organization/members/{id}/", "patch"),
        ("/api/v1/organization/invitations/", "post"),
        ("/api/v1/webhooks/", "post"),
    ]:
        assert bodies[key] and bodies[key]["content"], key
    token = bodies[("/api/v1/auth/token/", "post")]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(token)


def test_the_error_shape_and_conflicts_are_documented(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["properties"]["error"]["$ref"] == "#/components/schemas/ErrorDetail"
    assert set(components["ErrorDetail"]["properties"]) == {
        "code",
        "message",
        "details",
        "request_id",
    }
    paths = schema["paths"]
    assert "409" in paths["/api/v1/auth/register/"]["post"]["responses"]
    assert "409" in paths["/api/v1/organization/members/{id}/"]["patch"]["responses"]
    assert "409" in paths["/api/v1/organization/members/{id}/"]["delete"]["responses"]


def test_public_endpoints_need_no_credentials(schema):
    paths = schema["paths"]
    assert paths["/api/v1/auth/register/"]["post"]["security"] == [{}]
    assert paths["/api/v1/auth/token/"]["post"]["security"] == [{}]
    me = paths["/api/v1/auth/me/"]["get"]["security"]
    assert {"bearer": []} in me and {"apiKey": []} in me and {"cookieAuth": []} in me


def test_paginated_lists_have_the_envelope(schema):
    keys = schema["paths"]["/api/v1/api-keys/"]["get"]["responses"]["200"]["content"]
    ref = keys["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    props = schema["components"]["schemas"][ref]["properties"]
    assert set(props) == {"count", "next", "previous", "results"}


def test_the_schema_is_served(client, db):
    response = client.get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/api-keys/" in response.json()["paths"]


def test_the_docs_page_uses_only_local_assets(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert not re.match(r"^(https?:)?//", source), source
    assert any("swagger-ui" in source and source.startswith("/static/") for source in sources)
    # The inline-free initializer is served from our own URL too.
    script = next(s for s in sources if "script" in s and not s.startswith("/static/"))
    init = client.get(script.replace("&amp;", "&"))
    assert init.status_code == 200
    assert "http://" not in init.content.decode() and "https://" not in init.content.decode()
    assert (
        client.get(next(s for s in sources if s.endswith("swagger-ui-bundle.js"))).status_code
        == 200
    )
