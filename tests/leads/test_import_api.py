"""The import API: POST leads/import/, GET imports/{id}/, failed rows, revert."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from accounts.models import Plan
from leads.models import ImportJob, ImportStatus, Lead
from tests import factories
from tests.leads.test_import_formats import DATA, draft

CSV = b"Name,E-mail,Firm\r\nAda Lovelace,ada@example.com,Analytical\r\nNobody,,X\r\n,bad@,Y\r\n"


def _upload(content: bytes = CSV, name: str = "leads.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def post_import(client, capture, **data):
    data.setdefault("file", _upload())
    with capture(execute=True):
        return client.post("/api/v1/leads/import/", data, format="multipart")


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_import_answers_202_and_runs(owner_api, org, capture):
    response = post_import(owner_api, capture, on_duplicate="update", tags="API, Test")
    assert response.status_code == 202, response.json()
    body = response.json()
    job = ImportJob.objects.for_org(org).get()
    assert body["id"] == job.pk
    assert body["status"] == "queued"
    assert body["mapping"] == {"Name": "full_name", "E-mail": "email", "Firm": "company"}

    detail = owner_api.get(f"/api/v1/imports/{job.pk}/").json()
    assert detail["status"] == "completed"
    assert detail["progress"] == 100
    assert (detail["total"], detail["created"], detail["updated"]) == (3, 2, 0)
    assert (detail["skipped"], detail["failed"]) == (0, 1)
    assert detail["failed_rows_url"] == f"http://testserver/api/v1/imports/{job.pk}/failed-rows"
    ada = Lead.objects.for_org(org).get(email="ada@example.com")
    assert sorted(ada.tags.values_list("name", flat=True)) == ["API", "Test"]


def test_a_mapping_overrides_the_automatic_one(owner_api, org, capture):
    mapping = json.dumps({"Firm": "", "Name": "first_name"})
    response = post_import(owner_api, capture, mapping=mapping)
    assert response.status_code == 202
    ada = Lead.objects.for_org(org).get(email="ada@example.com")
    # Without the Firm column the company comes from the email's domain, named after it.
    assert (ada.first_name, ada.company.name) == ("Ada Lovelace", "example.com")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("{not json", "valid JSON"),
        (json.dumps({"Nope": "email"}), "columns the file does not have: Nope"),
        (json.dumps({"Firm": "salary"}), "Unknown fields in the mapping: salary"),
        (json.dumps({"Name": "", "E-mail": ""}), "No column is mapped to Email or to a name"),
    ],
)
def test_a_bad_mapping_is_a_400_and_nothing_is_kept(owner_api, org, capture, mapping, message):
    response = post_import(owner_api, capture, mapping=mapping)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert not ImportJob.objects.for_org(org).exists()


def test_an_unreadable_file_is_a_400_in_words(owner_api, capture):
    response = post_import(owner_api, capture, file=_upload(b"\x00\x01\x02" * 100))
    assert response.status_code == 400
    assert "binary data" in response.json()["error"]["message"]


def test_a_file_over_50_mb_is_a_413(owner_api, capture):
    response = owner_api.post(
        "/api/v1/leads/import/",
        {"file": _upload()},
        format="multipart",
        CONTENT_LENGTH=str(60 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "imports take files up to 50 MB" in response.json()["error"]["message"]


def test_no_quota_left_is_a_402(owner_api, org, capture):
    org.plan = Plan.objects.create(name="Zero", limits={"leads.import_row": 0})
    org.save(update_fields=["plan"])
    response = post_import(owner_api, capture)
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "quota_exceeded"


def test_failed_rows_download_as_csv(owner_api, org, capture):
    job_id = post_import(owner_api, capture).json()["id"]
    response = owner_api.get(f"/api/v1/imports/{job_id}/failed-rows/")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Line", "Outcome", "Reason", "Name", "E-mail", "Firm"]
    assert rows[1][:2] == ["4", "failed"]
    assert rows[1][3:] == ["", "bad@", "Y"]


def test_revert_answers_202_then_409(owner_api, org, capture):
    job_id = post_import(owner_api, capture).json()["id"]
    with capture(execute=True):
        response = owner_api.post(f"/api/v1/imports/{job_id}/revert/")
    assert response.status_code == 202
    assert owner_api.get(f"/api/v1/imports/{job_id}/").json()["status"] == "reverted"
    assert not Lead.objects.for_org(org).exists()
    again = owner_api.post(f"/api/v1/imports/{job_id}/revert/")
    assert again.status_code == 409


def test_viewers_read_but_cannot_import_or_revert(viewer_api, org, owner, capture):
    job = draft(org, owner, "hubspot_contacts.csv")
    assert viewer_api.get(f"/api/v1/imports/{job.pk}/").status_code == 200
    assert post_import(viewer_api, capture).status_code == 403
    assert viewer_api.post(f"/api/v1/imports/{job.pk}/revert/").status_code == 403


def test_another_organizations_import_is_a_404(owner_api, other_org, outsider):
    job = draft(other_org, outsider, "zoho_leads.csv")
    assert owner_api.get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert owner_api.get(f"/api/v1/imports/{job.pk}/failed-rows/").status_code == 404
    assert owner_api.post(f"/api/v1/imports/{job.pk}/revert/").status_code == 404


def test_a_key_without_the_leads_scope_is_refused(org, owner, capture):
    from rest_framework.test import APIClient

    _key, raw = factories.make_api_key(org, owner, scopes={"organization": "write"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = post_import(client, capture)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_the_list_is_paginated_in_constant_queries(
    owner_api, org, owner, django_assert_num_queries
):
    for name in ("hubspot_contacts.csv", "zoho_leads.csv", "apollo_contacts.csv"):
        draft(org, owner, name, (DATA / name).read_bytes())
    owner_api.get("/api/v1/imports/")
    # key (with org and plan), membership, count, page of jobs: whatever the count.
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4) as captured:
        response = owner_api.get("/api/v1/imports/?limit=2")
    body = response.json()
    assert response.status_code == 200, [q["sql"] for q in captured.captured_queries]
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["results"][0]["status"] == ImportStatus.DRAFT
