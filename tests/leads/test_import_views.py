"""The import pages: list and upload, mapping with preview, start, progress, result,
failed rows, revert; roles, other organizations, HTMX fragments and query counts."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leads.models import ImportJob, ImportStatus, Lead
from tests.leads.test_import_formats import DATA, draft, run_job

CSV = b"First Name,Last Name,Email,Company\r\nAda,Lovelace,ada@example.com,Analytical\r\nBad,Row,not-an-email,X\r\n"


def url(name: str, org, job=None) -> str:
    args = [org.slug] + ([job.pk] if job else [])
    return reverse(f"leads:{name}", args=args)


@pytest.fixture
def job(org, member):
    return draft(org, member, "leads.csv", CSV)


def test_the_list_shows_past_imports_in_constant_queries(
    member_client, org, member, django_assert_num_queries
):
    for n in range(3):
        draft(org, member, f"file{n}.csv", CSV)
    member_client.get(url("imports", org))  # warm the session and caches
    # session, user, membership (+org, plan), last-org check, sidebar views, count, page of
    # jobs with their creators: the same however many imports there are.
    with django_assert_num_queries(7) as captured:
        response = member_client.get(url("imports", org))
    assert response.status_code == 200, [q["sql"] for q in captured.captured_queries]
    body = response.content.decode()
    assert "file0.csv" in body and "file2.csv" in body
    assert "Upload and map columns" in body
    for n in range(3, 8):
        draft(org, member, f"file{n}.csv", CSV)
    with django_assert_num_queries(7):
        member_client.get(url("imports", org))


def test_the_empty_list_invites_a_first_import(member_client, org):
    body = member_client.get(url("imports", org)).content.decode()
    assert "No imports yet" in body
    assert "<title>Import leads · Acme Corp · Prospector</title>" in body


def test_viewers_see_the_list_but_cannot_upload(viewer_client, org):
    response = viewer_client.get(url("imports", org))
    assert response.status_code == 200
    assert "Upload and map columns" not in response.content.decode()
    upload = SimpleUploadedFile("a.csv", CSV, content_type="text/csv")
    assert viewer_client.post(url("import_upload", org), {"file": upload}).status_code == 403


def test_outsiders_get_404(outsider_client, org, job):
    assert outsider_client.get(url("imports", org)).status_code == 404
    assert outsider_client.get(url("import_detail", org, job)).status_code == 404


def test_upload_leads_to_the_mapping_page(member_client, org):
    upload = SimpleUploadedFile("hubspot.csv", (DATA / "hubspot_contacts.csv").read_bytes())
    response = member_client.post(url("import_upload", org), {"file": upload})
    job = ImportJob.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == url("import_detail", org, job)
    body = member_client.get(response["Location"]).content.decode()
    assert "Recognized as a HubSpot export" in body
    assert "Match the columns" in body
    assert "priya.raman@northwind.io" in body  # the preview
    assert "New lead" in body


def test_a_bad_upload_is_explained_next_to_the_field(member_client, org):
    upload = SimpleUploadedFile("book.xlsx", b"PK\x03\x04" + bytes(300))
    response = member_client.post(url("import_upload", org), {"file": upload})
    assert response.status_code == 200
    assert "Excel workbook" in response.content.decode()
    assert not ImportJob.objects.for_org(org).exists()


def test_a_declared_body_over_50_mb_is_refused_before_reading(member_client, org):
    response = member_client.post(
        url("import_upload", org), {"file": ""}, CONTENT_LENGTH=str(60 * 1024 * 1024)
    )
    assert response.status_code == 200
    assert "imports take files up to 50 MB" in response.content.decode()


def test_the_preview_follows_the_edited_mapping_without_saving(member_client, org, job):
    data = {"col_0": "first_name", "col_1": "last_name", "col_2": "", "col_3": "company"}
    data |= {"on_duplicate": "skip", "tags": ""}
    response = member_client.post(url("import_preview", org, job), data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="import-preview"' in body
    assert "not-an-email" not in body and "New lead" in body  # no email column any more
    job.refresh_from_db()
    assert job.mapping["Email"] == "email"


def test_a_mapping_without_email_or_name_is_refused_in_words(member_client, org, job):
    data = {"col_0": "", "col_1": "", "col_2": "", "col_3": "company", "on_duplicate": "skip"}
    response = member_client.post(url("import_start", org, job), data)
    assert response.status_code == 200
    assert "No column is mapped to Email or to a name" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT


def test_start_runs_the_import_and_the_result_has_counts_and_failed_rows(
    member_client, org, job, django_capture_on_commit_callbacks
):
    data = {"col_0": "first_name", "col_1": "last_name", "col_2": "email", "col_3": "company"}
    data |= {"on_duplicate": "skip", "tags": "Webinar, Q3"}
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(url("import_start", org, job), data)
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created_count, job.failed_count) == (ImportStatus.COMPLETED, 1, 1)
    assert job.tags == ["Webinar", "Q3"]
    body = member_client.get(url("import_detail", org, job)).content.decode()
    assert 'data-count="created">1<' in body
    assert 'data-count="failed">1<' in body
    assert "Download the 1 row not imported" in body
    assert "Revert import" in body

    download = member_client.get(url("import_failed_rows", org, job))
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Line", "Outcome", "Reason"]
    assert rows[1][0] == "3" and rows[1][1] == "failed"
    assert rows[1][3:] == ["Bad", "Row", "not-an-email", "X"]


def test_the_progress_fragment_polls_until_done(
    member_client, org, job, django_capture_on_commit_callbacks
):
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, total_rows=200, processed_rows=50
    )
    response = member_client.get(url("import_detail", org, job), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'hx-trigger="every 2s"' in body
    assert 'value="25"' in body and "50 of 200 rows" in body
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.COMPLETED)
    response = member_client.get(url("import_detail", org, job), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert "every 2s" not in response.content.decode()


def test_revert_from_the_result_page(member_client, org, job, django_capture_on_commit_callbacks):
    job = run_job(job, django_capture_on_commit_callbacks)
    assert Lead.objects.for_org(org).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(url("import_revert", org, job))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.REVERTED
    assert not Lead.objects.for_org(org).exists()
    assert "Reverted" in member_client.get(url("import_detail", org, job)).content.decode()


def test_viewers_cannot_start_or_revert(viewer_client, org, job):
    data = {"col_0": "first_name", "on_duplicate": "skip"}
    assert viewer_client.post(url("import_start", org, job), data).status_code == 403
    assert viewer_client.post(url("import_revert", org, job)).status_code == 403
    assert viewer_client.post(url("import_discard", org, job)).status_code == 403
    assert viewer_client.get(url("import_detail", org, job)).status_code == 200


def test_discard_drops_a_draft(member_client, org, job):
    response = member_client.post(url("import_discard", org, job))
    assert response.status_code == 302
    assert not ImportJob.objects.for_org(org).exists()


def test_wrong_methods_get_405(member_client, org, job):
    assert member_client.get(url("import_start", org, job)).status_code == 405
    assert member_client.get(url("import_revert", org, job)).status_code == 405
    assert member_client.post(url("import_failed_rows", org, job)).status_code == 405


def test_the_sidebar_links_to_import(member_client, org):
    body = member_client.get(url("imports", org)).content.decode()
    assert f'href="{url("imports", org)}" aria-current="page">Import</a>' in body


def test_a_queued_import_says_when_no_worker_is_running(member_client, org, job, settings):
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    url = reverse("leads:import_detail", args=[org.slug, job.pk])
    assert "No task worker is running" not in member_client.get(url).content.decode()  # sync
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    assert "No task worker is running" in member_client.get(url).content.decode()
