"""Running an import: duplicate policies, suppression, usage, events, the resumable and
idempotent task, progress counters, and revert."""

from __future__ import annotations

import pytest

from accounts.models import Event, Plan, UsageEvent
from leads import services
from leads.importing import eta_seconds, progress_percent, request_revert, running
from leads.models import (
    Activity,
    ActivityKind,
    ImportChange,
    ImportJob,
    ImportStatus,
    Lead,
    Suppression,
)
from leads.tasks import revert_import, run_import
from tests import factories
from tests.leads.test_import_formats import assert_accounted, draft, import_file

CSV = (
    b"First Name,Last Name,Email,Title,Company,Website,Tags\r\n"
    b"Ada,Lovelace,ada@analytical-engines.com,Countess,Analytical Engines,analytical-engines.com,vip\r\n"
    b"Alan,Turing,alan@bletchley-park.org,Cryptanalyst,Bletchley Park,bletchley-park.org,\r\n"
    b"Grace,Hopper,,Rear Admiral,Navy,us-navy.com,\r\n"
)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def existing(org, owner):
    """Ada by email (with a phone the file does not have), Grace by name and domain."""
    company = factories.make_company(org, name="Navy", domain="us-navy.com")
    ada = factories.make_lead(
        org,
        first_name="Ada",
        last_name="L.",
        email="ada@analytical-engines.com",
        phone="+14155550100",
    )
    grace = factories.make_lead(
        org, first_name="grace", last_name="HOPPER", email="", company=company
    )
    return ada, grace


def test_skip_policy_skips_matches_by_email_then_by_name_and_domain(org, owner, capture, existing):
    ada, grace = existing
    job = import_file(org, owner, capture, "x.csv", CSV, on_duplicate="skip")
    assert_accounted(job)
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 0, 2)
    reasons = dict(job.row_errors.values_list("line_number", "reason"))
    assert reasons[2] == f"Skipped: already in Prospector as lead #{ada.pk} (same email address)"
    assert reasons[4] == (
        f"Skipped: already in Prospector as lead #{grace.pk} (same name and company domain)"
    )
    ada.refresh_from_db()
    assert ada.last_name == "L."


def test_update_policy_fills_in_and_records_what_it_changed(org, owner, capture, existing):
    ada, grace = existing
    job = import_file(org, owner, capture, "x.csv", CSV, on_duplicate="update", tags=["Q3"])
    assert_accounted(job)
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 2, 0)
    ada.refresh_from_db()
    assert (ada.last_name, ada.title) == ("Lovelace", "Countess")
    assert ada.phone == "+14155550100"  # an empty cell never erases a value
    assert sorted(ada.tags.values_list("name", flat=True)) == ["Q3", "vip"]
    change = ImportChange.objects.get(job=job, lead=ada)
    assert change.action == "updated"
    assert change.previous["last_name"] == "L."
    assert change.previous["title"] == ""
    assert sorted(change.previous["_tags_added"]) == ["Q3", "vip"]
    activity = Activity.objects.get(lead=ada, kind=ActivityKind.IMPORT)
    assert activity.data["changes"]["last_name"] == ["L.", "Lovelace"]
    grace.refresh_from_db()
    assert grace.title == "Rear Admiral"


def test_create_policy_creates_name_matches_but_never_a_second_email(org, owner, capture, existing):
    job = import_file(org, owner, capture, "x.csv", CSV, on_duplicate="create")
    assert_accounted(job)
    assert (job.created_count, job.skipped_count) == (2, 1)
    assert Lead.objects.for_org(org).filter(first_name__iexact="grace").count() == 2
    assert Lead.objects.for_org(org).filter(email="ada@analytical-engines.com").count() == 1
    assert "already has this email address" in job.row_errors.get().reason


def test_repeated_rows_in_one_file_follow_the_policy(org, owner, capture):
    content = b"Email,First Name,Title\r\nada@example.com,Ada,\r\nADA@example.com,Ada,Countess\r\n"
    job = import_file(org, owner, capture, "x.csv", content, on_duplicate="update")
    assert_accounted(job)
    assert (job.created_count, job.updated_count) == (1, 1)
    assert Lead.objects.for_org(org).get(email="ada@example.com").title == "Countess"


def test_suppressed_emails_are_skipped_with_the_reason(org, owner, capture):
    Suppression.objects.create(organization=org, email="alan@bletchley-park.org", reason="erased")
    job = import_file(org, owner, capture, "x.csv", CSV)
    assert_accounted(job)
    assert job.skipped_count == 1
    assert "suppression list" in job.row_errors.get().reason
    assert not services.active_lead_with_email(org, "alan@bletchley-park.org")


def test_a_run_meters_usage_and_emits_one_summary_event(org, owner, capture):
    job = import_file(org, owner, capture, "x.csv", CSV)
    assert (
        sum(
            UsageEvent.objects.for_org(org)
            .filter(action="leads.import_row")
            .values_list("quantity", flat=True)
        )
        == 3
    )
    event = Event.objects.for_org(org).get(type="leads.imported")
    assert event.payload == {
        "import_id": job.pk,
        "file": "x.csv",
        "total": 3,
        "created": 3,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert not Event.objects.for_org(org).filter(type="lead.created").exists()


def test_a_plan_without_enough_rows_left_fails_the_job_in_words(org, owner, capture):
    plan = Plan.objects.create(name="Tiny", limits={"leads.import_row": 2})
    org.plan = plan
    org.save(update_fields=["plan"])
    job = import_file(org, owner, capture, "x.csv", CSV)
    assert job.status == ImportStatus.FAILED
    assert "Monthly limit reached for imported lead rows" in job.error
    assert not Lead.objects.for_org(org).exists()


def test_the_task_is_idempotent(org, owner, capture):
    job = import_file(org, owner, capture, "x.csv", CSV)
    assert run_import(org.pk, job.pk) == ImportStatus.COMPLETED
    job.refresh_from_db()
    assert job.created_count == 3
    assert Lead.objects.for_org(org).count() == 3
    # Another organization's id finds nothing.
    assert run_import(org.pk + 1000, job.pk) == "missing"


def test_a_crashed_run_resumes_after_its_last_chunk(org, owner, capture, monkeypatch):
    monkeypatch.setattr(running, "CHUNK_ROWS", 2)
    lines = [f"Lead{n},lead{n}@example.com" for n in range(7)]
    content = ("First Name,Email\r\n" + "\r\n".join(lines) + "\r\n").encode()
    job = draft(org, owner, "x.csv", content)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)

    real = running._run_chunk
    calls = {"n": 0}

    def crash_on_third(job_, position, records, *parsed):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")  # not an Exception: nothing marks the job failed
        return real(job_, position, records, *parsed)

    monkeypatch.setattr(running, "_run_chunk", crash_on_third)
    with pytest.raises(SystemExit):
        run_import(org.pk, job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.total_rows) == (
        ImportStatus.RUNNING,
        4,
        4,
        7,
    )
    assert progress_percent(job) == 57
    assert eta_seconds(job) is not None

    monkeypatch.setattr(running, "_run_chunk", real)
    assert run_import(org.pk, job.pk) == ImportStatus.COMPLETED
    job.refresh_from_db()
    assert_accounted(job)
    assert job.created_count == 7
    assert Lead.objects.for_org(org).count() == 7


def test_a_second_worker_cannot_write_a_claimed_chunk(org, owner, capture):
    job = draft(org, owner, "x.csv", CSV)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, total_rows=3, processed_rows=0
    )
    job.refresh_from_db()
    # Another worker committed the first chunk meanwhile.
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=3)
    assert running._run_chunk(job, 0, [(2, ["A", "B", "a@b.example", "", "", "", ""])]) is False
    assert not Lead.objects.for_org(org).exists()


def test_a_long_file_continues_in_a_fresh_task(org, owner, capture, monkeypatch):
    monkeypatch.setattr(running, "CHUNK_ROWS", 1)
    monkeypatch.setattr(running, "TIME_BUDGET_SECONDS", -1)
    job = import_file(org, owner, capture, "x.csv", CSV)
    assert_accounted(job)
    assert job.created_count == 3


def test_revert_removes_created_leads_and_restores_updated_ones(org, owner, capture, existing):
    ada, grace = existing
    before = Lead.objects.for_org(org).count()
    job = import_file(org, owner, capture, "x.csv", CSV, on_duplicate="update", tags=["Q3"])
    alan = Lead.objects.for_org(org).get(email="alan@bletchley-park.org")
    with capture(execute=True):
        assert request_revert(job=job, actor=owner)
    job.refresh_from_db()
    assert job.status == ImportStatus.REVERTED
    assert job.reverted_at is not None
    assert Lead.objects.for_org(org).count() == before
    assert not Activity.objects.filter(lead_id=alan.pk).exists()
    ada.refresh_from_db()
    assert (ada.last_name, ada.title) == ("L.", "")
    assert list(ada.tags.values_list("name", flat=True)) == []
    grace.refresh_from_db()
    assert grace.title == ""
    assert Activity.objects.filter(
        lead=ada, kind=ActivityKind.FIELD_CHANGE, data__reverted=True
    ).exists()
    assert Event.objects.for_org(org).filter(type="leads.import_reverted").count() == 1
    # Idempotent: neither the task nor a second request does anything more.
    assert revert_import(org.pk, job.pk) == ImportStatus.REVERTED
    assert request_revert(job=job, actor=owner) is False
    assert Event.objects.for_org(org).filter(type="leads.import_reverted").count() == 1


def test_revert_gives_a_lead_updated_twice_its_value_from_before_the_import(
    org, owner, capture, monkeypatch
):
    monkeypatch.setattr(running, "CHUNK_ROWS", 2)  # the revert too: changes 2 at a time
    ada = factories.make_lead(org, first_name="Ada", email="ada@example.com", title="Countess")
    content = (
        b"Email,Title,Tags\r\n"
        b"ada@example.com,Analyst,one\r\n"
        b"new@example.com,,\r\n"
        b"ADA@example.com,Enchantress,two\r\n"
    )
    job = import_file(org, owner, capture, "x.csv", content, on_duplicate="update")
    assert (job.created_count, job.updated_count) == (1, 2)
    ada.refresh_from_db()
    assert ada.title == "Enchantress"
    assert sorted(ada.tags.values_list("name", flat=True)) == ["one", "two"]
    with capture(execute=True):
        assert request_revert(job=job, actor=owner)
    ada.refresh_from_db()
    assert ada.title == "Countess"
    assert list(ada.tags.values_list("name", flat=True)) == []
    assert list(Lead.objects.for_org(org).values_list("pk", flat=True)) == [ada.pk]


def test_creations_are_recorded_per_chunk_and_reverted_in_slices(org, owner, capture, monkeypatch):
    from leads.merging import merge_leads
    from leads.privacy import erase_lead

    monkeypatch.setattr(running, "CHUNK_ROWS", 4)
    monkeypatch.setattr(running, "REVERT_DELETE_SLICE", 3)
    older = factories.make_lead(org, email="older@example.com")
    lines = [f"Lead{n},lead{n}@acme-rockets.com" for n in range(10)]
    content = ("First Name,Email\r\n" + "\r\n".join(lines) + "\r\n").encode()
    job = import_file(org, owner, capture, "x.csv", content)
    assert job.created_count == 10
    # One "created" record per chunk of the file, listing its leads (4 + 4 + 2).
    created = ImportChange.objects.filter(job=job, action="created").order_by("id")
    assert [len(c.lead_ids) for c in created] == [4, 4, 2]
    assert all(c.lead_id is None for c in created)
    imported = Lead.objects.for_org(org).filter(email__endswith="@acme-rockets.com")
    # Meanwhile one imported lead is erased and another merged into an older lead.
    erase_lead(lead=imported.get(email="lead3@acme-rockets.com"), actor=owner)
    merged = imported.get(email="lead5@acme-rockets.com")
    merge_leads(keep=older, other=merged, fields={}, actor=owner)
    with capture(execute=True):
        assert request_revert(job=job, actor=owner)
    job.refresh_from_db()
    assert job.status == ImportStatus.REVERTED
    assert not Lead.objects.for_org(org).filter(email__endswith="@acme-rockets.com").exists()
    assert not Lead.objects.for_org(org).filter(pk=merged.pk).exists()  # the merged-away copy
    assert Lead.objects.for_org(org).filter(pk=older.pk, archived_at__isnull=True).exists()
    assert not ImportChange.objects.filter(job=job).exists()


def test_a_running_import_cannot_be_reverted(org, owner):
    job = draft(org, owner, "x.csv", CSV)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    job.refresh_from_db()
    assert request_revert(job=job, actor=owner) is False


# Committed chunks: a stale company id shows only when the chunk's transaction commits.
@pytest.mark.django_db(transaction=True)
def test_companies_found_in_one_chunk_serve_the_next_and_a_deleted_one_is_found_again(
    org, owner, capture, monkeypatch
):
    from leads.importing import writing
    from leads.models import Company

    monkeypatch.setattr(running, "CHUNK_ROWS", 2)
    lines = [f"Lead{n},lead{n}@acme-rockets.com,Acme Rockets" for n in range(5)]
    content = ("First Name,Email,Company\r\n" + "\r\n".join(lines) + "\r\n").encode()
    job = draft(org, owner, "x.csv", content)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, total_rows=5, processed_rows=0
    )
    job.refresh_from_db()
    records = [(n + 2, line.split(",")) for n, line in enumerate(lines)]
    assert running._run_chunk(job, 0, records[:2])
    acme = Company.objects.get(organization=org, domain="acme-rockets.com")
    assert writing.company_cache(job).known == {"acme-rockets.com": acme.pk}
    assert running._run_chunk(job, 2, records[2:4])
    assert Company.objects.for_org(org).count() == 1
    # The company goes (its leads keep no company) before the last chunk: the cached id
    # fails the chunk's foreign key, the retry forgets the cache and makes the company anew.
    Lead.objects.for_org(org).update(company=None)
    acme.delete()
    assert running._run_chunk(job, 4, records[4:])
    again = Company.objects.get(organization=org, domain="acme-rockets.com")
    assert again.pk != acme.pk
    assert Lead.objects.get(organization=org, email="lead4@acme-rockets.com").company == again
    job.refresh_from_db()
    assert (job.processed_rows, job.created_count) == (5, 5)


def test_companies_are_found_by_domain_then_by_name_and_a_named_one_learns_its_domain(
    org, owner, capture
):
    from leads.models import Company

    globex = factories.make_company(org, name="Globex", domain="", website="")
    # Two companies named Initech: the one without a domain is the one a name finds.
    factories.make_company(org, name="Initech", domain="initech.com")
    initech = factories.make_company(org, name="INITECH", domain="")
    other = factories.make_company(factories.make_org("Other"), name="Hooli", domain="")
    content = (
        b"First Name,Email,Company,Website\r\n"
        b"Hank,hank@gmail.com,globex,globex.com\r\n"  # learns globex.com
        b"Mona,mona@globex.com,Globex Corp,\r\n"  # by domain: the same company
        b"Bill,bill@gmail.com,initech,\r\n"  # by name, no domain
        b"Gavin,gavin@gmail.com,Hooli,\r\n"  # another org's Hooli is not this one's
        b"Erlich,erlich@gmail.com,hooli,\r\n"  # the Hooli just made
        b"Rose,rose@acme-corp.com,,\r\n"  # a new company named after the email's domain
    )
    job = import_file(org, owner, capture, "x.csv", content)
    assert_accounted(job)
    assert job.created_count == 6
    globex.refresh_from_db()
    assert (globex.domain, globex.website) == ("globex.com", "https://globex.com")
    company = dict(Lead.objects.for_org(org).values_list("first_name", "company_id"))
    assert company["Hank"] == company["Mona"] == globex.pk
    assert company["Bill"] == initech.pk
    hooli = Company.objects.for_org(org).get(name="Hooli")
    assert hooli.pk != other.pk and hooli.domain == ""
    assert company["Gavin"] == company["Erlich"] == hooli.pk
    acme = Company.objects.for_org(org).get(domain="acme-corp.com")
    assert (acme.name, acme.website, company["Rose"]) == (
        "acme-corp.com",
        "https://acme-corp.com",
        acme.pk,
    )
    assert Company.objects.for_org(org).count() == 5
