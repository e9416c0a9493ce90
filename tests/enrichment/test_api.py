"""Enrichment over the API against the same local sites and search server as test_jobs:
jobs (create from companies or leads, status, results, export, cancel), the synchronous
enrich endpoint, the error shape, scopes and roles, the quota."""

from __future__ import annotations

import csv
import io

import pytest

from accounts.models import Plan
from enrichment.models import EnrichmentJob, JobStatus
from tests import factories
from tests.accounts.api_support import assert_error, key_client
from tests.enrichment.test_jobs import web  # noqa: F401 (the local sites fixture)

pytestmark = pytest.mark.django_db(transaction=True)

JOBS = "/api/v1/enrichment/jobs/"
ENRICH = "/api/v1/enrichment/enrich/"


def test_a_job_from_companies_runs_and_reports(owner_api, org, web):  # noqa: F811
    port = web
    response = owner_api.post(
        JOBS,
        {
            "companies": [
                {"name": "Acme Robotics", "website": f"http://acme-robotics.io:{port}/"},
                {"domain": "down-site.io", "website": f"http://down-site.io:{port}/"},
            ]
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["total"] == 2 and body["status"] in ("queued", "running", "completed")
    job_id = body["id"]

    job = owner_api.get(f"{JOBS}{job_id}/").json()
    assert (job["status"], job["completed"], job["failed"], job["progress"]) == (
        "completed",
        1,
        1,
        1.0,
    )
    assert job["seconds"] is not None and job["seconds"] >= 0

    results = owner_api.get(f"{JOBS}{job_id}/results/").json()
    assert results["count"] == 2
    acme, down = results["results"]
    assert acme["status"] == "succeeded" and acme["profile"]["name"] == "Acme Robotics"
    assert acme["field_sources"]["founded_year"]["method"] == "json-ld"
    assert down["status"] == "failed" and "HTTP 500" in down["error"]

    export = owner_api.get(f"{JOBS}{job_id}/export/")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["name"] == "Acme Robotics" and rows[1]["status"] == "failed"

    assert_error(owner_api.post(f"{JOBS}{job_id}/cancel/"), 409, "conflict")
    listed = owner_api.get(JOBS).json()
    assert [j["id"] for j in listed["results"]] == [job_id]


def test_a_job_from_leads(owner_api, org, web):  # noqa: F811
    port = web
    company = factories.make_company(org, name="Acme Robotics", domain="")
    company.website = f"http://acme-robotics.io:{port}/"
    company.save()
    lead = factories.make_lead(org, company=company)
    response = owner_api.post(JOBS, {"lead_ids": [lead.pk]}, format="json")
    assert response.status_code == 202
    job = EnrichmentJob.objects.get(pk=response.json()["id"])
    assert job.source == "leads" and job.completed == 1

    other_org_lead = factories.make_lead(factories.make_org("Elsewhere"))
    error = assert_error(
        owner_api.post(JOBS, {"lead_ids": [lead.pk, other_org_lead.pk]}, format="json"), 400
    )
    assert str(other_org_lead.pk) in str(error["details"])


def test_bad_requests_get_the_error_shape(owner_api, org, web):  # noqa: F811
    assert_error(owner_api.post(JOBS, {}, format="json"), 400)
    assert_error(
        owner_api.post(JOBS, {"companies": [{"name": "A"}], "lead_ids": [1]}, format="json"), 400
    )
    assert_error(owner_api.post(JOBS, {"companies": [{"name": ""}]}, format="json"), 400)
    assert_error(owner_api.post(JOBS, {"companies": [{"nme": "typo"}]}, format="json"), 400)
    assert_error(owner_api.post(ENRICH, {}, format="json"), 400)
    assert_error(owner_api.get(f"{JOBS}999999/"), 404)


def test_enrich_one_company_now(owner_api, org, web):  # noqa: F811
    port = web
    response = owner_api.post(
        ENRICH, {"website": f"http://acme-robotics.io:{port}/"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Acme Robotics"
    assert body["founded_year"] == 2016 and body["employee_range"] == "51-200"
    assert body["social"] == {"linkedin": "https://www.linkedin.com/company/acme-robotics"}
    assert isinstance(body["investors"], list) and "Atomico" in body["investors"]
    assert body["field_sources"]["name"] == {
        "url": f"http://acme-robotics.io:{port}/",
        "method": "json-ld",
        "confidence": 0.9,
    }
    assert body["status"] == "succeeded" and body["reconciled_by"] == "offline"
    # Every profile field is there, empty ones as null, [] or {}.
    assert {"products", "competitors", "recent_news", "logo"} <= set(body)
    # It is kept as a job of one company, visible like any other.
    assert EnrichmentJob.objects.get(pk=body["job_id"]).status == JobStatus.COMPLETED


def test_the_sync_time_limit_skips_steps_not_started(owner_api, org, web, settings):  # noqa: F811
    port = web
    settings.ENRICH_SYNC_SECONDS = 0
    body = owner_api.post(
        ENRICH, {"name": "Acme", "website": f"http://acme-robotics.io:{port}/"}, format="json"
    ).json()
    steps = {s["step"]: s for s in body["steps"]}
    assert steps["find website"]["status"] == "skipped"
    assert "time limit" in steps["find website"]["note"]
    assert all(s["status"] == "skipped" for name, s in steps.items() if name != "reconcile")
    assert body["name"] == "Acme"  # what was asked is still answered


def test_scopes_roles_and_quota(org, owner, viewer, web):  # noqa: F811
    read_only = key_client(org, owner, {"enrichment": "read"})
    assert read_only.get(JOBS).status_code == 200
    assert_error(read_only.post(ENRICH, {"domain": "acme.io"}, format="json"), 403)
    leads_only = key_client(org, owner, {"leads": "write"})
    assert_error(leads_only.get(JOBS), 403)
    viewer_key = key_client(org, viewer)
    assert_error(viewer_key.post(JOBS, {"companies": [{"name": "A"}]}, format="json"), 403)

    org.plan = Plan.objects.create(code="none", name="None", limits={"enrichment.company": 0})
    org.save()
    writer = key_client(org, owner)
    error = assert_error(
        writer.post(JOBS, {"companies": [{"name": "A"}]}, format="json"), 402, "quota_exceeded"
    )
    assert error["details"]["action"] == "enrichment.company"
    assert_error(writer.post(ENRICH, {"name": "A"}, format="json"), 402, "quota_exceeded")
