"""`GET /api/v1/leads/export/`: the API's filtered, streamed export."""

from __future__ import annotations

import csv
import io
import json

from django.http import StreamingHttpResponse

from tests import factories
from tests.accounts.api_support import assert_error, key_client

URL = "/api/v1/leads/export/"


def _text(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def test_csv_by_default_with_filters(owner_api, org):
    hot = factories.make_lead(org, source="web", tags=["hot"])
    factories.make_lead(org, source="event")
    response = owner_api.get(URL, {"tag": "hot"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(_text(response).lstrip("\ufeff"))))
    assert [row["email"] for row in rows] == [hot.email]


def test_json_format(owner_api, org):
    lead = factories.make_lead(org, first_name="@risky")
    response = owner_api.get(URL + "?format=json")
    assert response.status_code == 200
    data = json.loads(_text(response))
    # JSON is data, not a spreadsheet: values stay as they are.
    assert data[0]["id"] == lead.pk and data[0]["first_name"] == "@risky"


def test_bad_filters_and_formats_are_400(owner_api, org):
    assert_error(owner_api.get(URL, {"score_min": "-3"}), 400, "validation_error")
    error = assert_error(owner_api.get(URL, {"format": "xml"}), 400, "validation_error")
    assert "format" in error["details"]


def test_needs_the_leads_read_scope(org, owner):
    client = key_client(org, owner, {"organization": "write"})
    assert_error(client.get(URL), 403, "insufficient_scope")
    reader = key_client(org, owner, {"leads": "read"})
    assert reader.get(URL).status_code == 200


def test_viewers_may_export(viewer_api, org):
    assert viewer_api.get(URL).status_code == 200


def test_only_the_keys_organization_is_exported(outsider_api, org):
    factories.make_lead(org, email="mine@acme.example")
    assert "mine@acme.example" not in _text(outsider_api.get(URL))


def test_without_credentials_401(api_client):
    assert_error(api_client.get(URL), 401)
