"""Every request gets an id (echoed in X-Request-ID) and one JSON log line."""

from __future__ import annotations

import json
import logging
import re

import pytest

from config.logging import JsonFormatter

pytestmark = pytest.mark.django_db

FIELDS = {"method", "path", "status", "latency_ms", "user", "organization", "request_id"}


def request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "prospector.request"]


@pytest.fixture(autouse=True)
def capture_info(caplog):
    caplog.set_level(logging.INFO, logger="prospector.request")


def test_a_given_request_id_is_echoed_and_logged(client, caplog):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-2024.abc:1")
    assert response["X-Request-ID"] == "req-2024.abc:1"
    (line,) = request_lines(caplog)
    assert line.request_id == "req-2024.abc:1"


def test_a_request_id_is_made_when_none_is_given(client, caplog):
    response = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert request_lines(caplog)[0].request_id == response["X-Request-ID"]


@pytest.mark.parametrize("bad", ["has spaces", "x" * 129, "<script>", "id\nforged-line"])
def test_an_unsafe_request_id_is_replaced(client, caplog, bad):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=bad)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_each_request_ids_differ(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_the_log_line_carries_every_field_for_an_anonymous_request(client, caplog):
    client.get("/healthz?probe=1")
    (line,) = request_lines(caplog)
    assert set(vars(line)) >= FIELDS
    assert (line.method, line.path, line.status) == ("GET", "/healthz", 200)
    assert line.user is None and line.organization is None
    assert isinstance(line.latency_ms, float) and line.latency_ms >= 0


def test_the_log_line_names_the_user_and_organization(owner_client, owner, org, caplog):
    response = owner_client.get(f"/o/{org.slug}/")
    assert response.status_code == 200
    line = request_lines(caplog)[-1]
    assert (line.user, line.organization, line.status) == (owner.pk, org.slug, 200)
    assert line.request_id == response["X-Request-ID"]


def test_api_requests_log_the_key_organization(owner_api, owner, org, caplog):
    response = owner_api.get("/api/v1/auth/me", HTTP_X_REQUEST_ID="api-call-1")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "api-call-1"
    line = request_lines(caplog)[-1]
    assert (line.user, line.organization, line.request_id) == (owner.pk, org.slug, "api-call-1")


def test_error_responses_are_logged_with_their_status(client, caplog):
    response = client.get("/no/such/page/", HTTP_X_REQUEST_ID="missing-1")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "missing-1"
    assert request_lines(caplog)[-1].status == 404


def test_the_formatter_writes_one_json_object_with_the_fields(client, caplog):
    client.get("/healthz", HTTP_X_REQUEST_ID="fmt-1")
    (line,) = request_lines(caplog)
    text = JsonFormatter().format(line)
    assert "\n" not in text
    entry = json.loads(text)
    assert set(entry) >= FIELDS
    assert entry["message"] == "GET /healthz 200"
    assert entry["level"] == "info"
    assert entry["logger"] == "prospector.request"
    assert entry["request_id"] == "fmt-1"


def test_the_formatter_includes_exceptions():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("prospector.test").makeRecord(
            "prospector.test", logging.ERROR, __file__, 1, "failed", (), exc_info=True
        )
        import sys

        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exception"]
