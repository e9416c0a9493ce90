"""Imports outside a transaction, as a worker runs them. On PostgreSQL each chunk is written
and committed on a second connection while the run prepares the next (running._ChunkWriter);
elsewhere, and inside a transaction, chunks run one after another. Either way the outcome
must be the serial run's: the same decisions across chunk boundaries, every row accounted
for, a failed write redone, a lost claim or an error stopping the run."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, connection

from leads.importing import request_revert, running, writing
from leads.models import Activity, ImportChange, ImportJob, ImportStatus, Lead
from leads.tasks import run_import
from tests import factories
from tests.leads.test_import_formats import assert_accounted, draft

pytestmark = pytest.mark.django_db(transaction=True)
PIPELINED = connection.vendor == "postgresql"

# Chunks of three rows. A chunk repeats someone of the chunk just before it: by name and
# company domain where the earlier lead has no email (line 5) or the later row has none
# (line 9), by email in another case (line 11). Others come back from further back (13,
# 16, 18, 19), and someone twice in one chunk (14 and 15, by name) makes that chunk run
# serially.
ROWS = [
    "Ada,Lovelace,ada@engines.com,Countess,Engines,engines.com,vip",
    "Grace,Hopper,,Admiral,Navy,us-navy.com,",
    "Alan,Turing,alan@bletchley.org,,Bletchley,,",
    "Grace,Hopper,grace@us-navy.com,Rear Admiral,,us-navy.com,navy",
    "Linus,Torvalds,linus@kernel.org,,Kernel,kernel.org,",
    "Tim,Berners-Lee,tim@w3.org,,W3C,w3.org,",
    "Broken,Row,not-an-email,,,,",
    "linus,TORVALDS,,Maintainer,,kernel.org,",
    "Margaret,Hamilton,margaret@apollo.com,,Apollo,apollo.com,",
    "Margaret,Hamilton,MARGARET@apollo.com,Programmer,,,",
    "Katherine,Johnson,katherine@nasa.gov,,NASA,nasa.gov,",
    "Ada,Lovelace,ada@engines.com,Enchantress,,,",
    "Dorothy,Vaughan,,,NASA,nasa.gov,",
    "dorothy,vaughan,,Supervisor,,nasa.gov,",
    "Alan,Turing,alan@bletchley.org,Cryptanalyst,,,",
    "Edsger,Dijkstra,edsger@eindhoven.nl,,Eindhoven,eindhoven.nl,",
    "Timothy,Berners-Lee,tim@w3.org,Director,,,",
    "Katherine,Johnson,katherine@nasa.gov,Mathematician,,,",
]
CONTENT = (
    "First Name,Last Name,Email,Title,Company,Website,Tags\r\n" + "\r\n".join(ROWS) + "\r\n"
).encode()


@pytest.fixture
def chunks_of_three(monkeypatch):
    monkeypatch.setattr(running, "CHUNK_ROWS", 3)


@pytest.fixture
def written(monkeypatch):
    """Positions of the chunks the second connection wrote."""
    positions = []
    real = running._write_prepared

    def spy(job, position, count, writes):
        written = real(job, position, count, writes)
        positions.append(position)
        return written

    monkeypatch.setattr(running, "_write_prepared", spy)
    return positions


def run(org, owner, content=CONTENT, **kwargs) -> ImportJob:
    job = draft(org, owner, "x.csv", content, **kwargs)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    run_import(org.pk, job.pk)
    job.refresh_from_db()
    return job


def outcome(job: ImportJob) -> dict:
    """What an import did, with lead ids (which differ between organizations) named by the
    lead's email or name."""
    leads = Lead.objects.for_org(job.organization).select_related("company")
    names = {lead.pk: lead.email or f"{lead.first_name} {lead.last_name}" for lead in leads}
    return {
        "counts": (job.created_count, job.updated_count, job.skipped_count, job.failed_count),
        "errors": [
            (line, re.sub(r"#(\d+)", lambda m: "#" + names[int(m[1])], reason))
            for line, reason in job.row_errors.order_by("line_number").values_list(
                "line_number", "reason"
            )
        ],
        "leads": sorted(
            (
                lead.email,
                lead.first_name,
                lead.last_name,
                lead.title,
                lead.company.domain if lead.company else None,
                sorted(lead.tags.values_list("name", flat=True)),
            )
            for lead in leads
        ),
        "activities": Activity.objects.for_org(job.organization).filter(kind="import").count(),
        "changes": sorted(ImportChange.objects.filter(job=job).values_list("action", flat=True)),
    }


@pytest.mark.parametrize("policy", ["skip", "update", "create"])
def test_chunks_decide_as_a_serial_run_does(owner, chunks_of_three, written, monkeypatch, policy):
    pipelined_org = factories.make_org("Pipelined", owner=owner)
    job = run(pipelined_org, owner, on_duplicate=policy, tags=["Q3"])
    assert_accounted(job)
    if PIPELINED:
        # Every chunk but the fifth (Dorothy twice: run serially) went to the writer.
        assert written == [0, 3, 6, 9, 15]
    else:
        assert written == []

    monkeypatch.setattr(running, "_may_pipeline", lambda: False)
    serial_org = factories.make_org("Serial", owner=owner)
    serial = run(serial_org, owner, on_duplicate=policy, tags=["Q3"])
    assert_accounted(serial)
    assert outcome(job) == outcome(serial)


def test_a_later_chunk_finds_the_leads_an_earlier_one_created(owner, org, chunks_of_three):
    job = run(org, owner, on_duplicate="skip")
    assert_accounted(job)
    assert (job.created_count, job.skipped_count, job.failed_count) == (9, 8, 1)
    lead = {lead.first_name: lead.pk for lead in Lead.objects.for_org(org)}
    reasons = dict(job.row_errors.values_list("line_number", "reason"))
    by_name, by_email = "same name and company domain", "same email address"
    assert reasons == {
        5: f"Skipped: already in Prospector as lead #{lead['Grace']} ({by_name})",
        8: "The email address 'not-an-email' is not valid",
        9: f"Skipped: already in Prospector as lead #{lead['Linus']} ({by_name})",
        11: f"Skipped: already in Prospector as lead #{lead['Margaret']} ({by_email})",
        13: f"Skipped: already in Prospector as lead #{lead['Ada']} ({by_email})",
        15: f"Skipped: already in Prospector as lead #{lead['Dorothy']} ({by_name})",
        16: f"Skipped: already in Prospector as lead #{lead['Alan']} ({by_email})",
        18: f"Skipped: already in Prospector as lead #{lead['Tim']} ({by_email})",
        19: f"Skipped: already in Prospector as lead #{lead['Katherine']} ({by_email})",
    }


def test_updates_carry_over_from_chunk_to_chunk(owner, org, chunks_of_three):
    job = run(org, owner, on_duplicate="update")
    assert_accounted(job)
    assert (job.created_count, job.updated_count) == (9, 8)
    title = dict(Lead.objects.for_org(org).values_list("email", "title"))
    assert title == {
        "ada@engines.com": "Enchantress",
        "grace@us-navy.com": "Rear Admiral",  # the name match gave Grace her email
        "alan@bletchley.org": "Cryptanalyst",
        "linus@kernel.org": "Maintainer",
        "tim@w3.org": "Director",
        "margaret@apollo.com": "Programmer",
        "katherine@nasa.gov": "Mathematician",
        "": "Supervisor",  # Dorothy, twice without an email
        "edsger@eindhoven.nl": "",
    }
    ada = Lead.objects.for_org(org).get(email="ada@engines.com")
    assert sorted(ada.tags.values_list("name", flat=True)) == ["vip"]


def test_a_company_an_update_gives_a_lead_counts_for_the_next_chunk(owner, org, chunks_of_three):
    sam = factories.make_lead(
        org, first_name="Sam", last_name="Roe", email="sam@roe.com", company=None
    )
    assert sam.company_id is None
    content = (
        b"First Name,Last Name,Email,Title,Company,Website\r\n"
        b"Sam,Roe,sam@roe.com,,Roe Inc,roe.com\r\n"  # the update gives Sam a company
        b"Ann,Lee,ann@lee.com,,,\r\n"
        b"Bo,Ray,bo@ray.com,,,\r\n"
        b"sam,roe,,Founder,,roe.com\r\n"  # no email: found by name and the new company
    )
    job = run(org, owner, content, on_duplicate="update")
    assert_accounted(job)
    assert (job.created_count, job.updated_count) == (2, 2)
    sam.refresh_from_db()
    assert (sam.company.domain, sam.title) == ("roe.com", "Founder")


def test_a_chunk_prepared_while_the_one_before_failed_is_decided_again(
    owner, org, chunks_of_three, monkeypatch
):
    """The chunk before is run again after its write failed, and meanwhile the lead one of
    its rows matched was archived: that row now creates a lead, which the next chunk's
    row of the same person must find (as a serial run would)."""
    pat = factories.make_lead(org, first_name="Pat", email="pat@smith.com")
    real_write, real_decide, writes = writing.apply_writes, running.decide, []

    def fail_the_first(job, writes_):
        writes.append(1)
        if len(writes) == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real_write(job, writes_)

    def archive_pat_before_the_second_try(job, rows):
        if rows[0].line == 2 and len(writes) == 1:
            Lead.objects.filter(pk=pat.pk).update(archived_at=pat.created_at)
        return real_decide(job, rows)

    monkeypatch.setattr(writing, "apply_writes", fail_the_first)
    monkeypatch.setattr(running, "apply_writes", fail_the_first)
    monkeypatch.setattr(running, "decide", archive_pat_before_the_second_try)
    content = (
        b"First Name,Email\r\n"
        b"Pat,pat@smith.com\r\nAnn,ann@lee.com\r\nBo,bo@ray.com\r\n"
        b"Patricia,PAT@smith.com\r\nCy,cy@fox.com\r\n"
    )
    job = run(org, owner, content)
    assert_accounted(job)
    new_pat = Lead.objects.for_org(org).get(email="pat@smith.com", archived_at__isnull=True)
    assert new_pat.pk != pat.pk
    assert job.row_errors.get().reason == (
        f"Skipped: already in Prospector as lead #{new_pat.pk} (same email address)"
    )


def test_a_write_that_fails_on_a_concurrent_change_is_redone(
    owner, org, chunks_of_three, monkeypatch
):
    real, calls = writing.apply_writes, []

    def fail_the_second(job, writes):
        calls.append(1)
        if len(calls) == 2:
            # Another process took an email between the lookup and the insert.
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(job, writes)

    monkeypatch.setattr(writing, "apply_writes", fail_the_second)
    monkeypatch.setattr(running, "apply_writes", fail_the_second)
    job = run(org, owner)
    assert_accounted(job)
    assert (job.created_count, job.skipped_count, job.failed_count) == (9, 8, 1)
    assert Lead.objects.for_org(org).count() == 9
    assert Lead.objects.for_org(org).filter(email="linus@kernel.org").count() == 1
    # One per chunk that created leads (the serial one: per batch), none of the failed write.
    assert ImportChange.objects.filter(job=job, action="created").count() == 6


def test_a_lost_claim_stops_the_run(owner, org, chunks_of_three, monkeypatch):
    real = running._claim

    def another_worker_took_the_second_chunk(job, position, count):
        if position == 3:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=6)
        return real(job, position, count)

    monkeypatch.setattr(running, "_claim", another_worker_took_the_second_chunk)
    job = draft(org, owner, "x.csv", CONTENT)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    assert run_import(org.pk, job.pk) == ImportStatus.RUNNING
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count) == (ImportStatus.RUNNING, 6, 3)
    assert Lead.objects.for_org(org).count() == 3


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_an_error_fails_the_job_keeps_what_was_committed_and_closes_the_connection(
    owner, org, chunks_of_three, monkeypatch
):
    backends = _backends() if PIPELINED else 0
    real, calls = writing.apply_writes, []

    def break_the_third(job, writes):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(job, writes)

    monkeypatch.setattr(writing, "apply_writes", break_the_third)
    monkeypatch.setattr(running, "apply_writes", break_the_third)
    job = draft(org, owner, "x.csv", CONTENT)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_import(org.pk, job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "unexpected error" in job.error
    assert (job.processed_rows, job.created_count + job.skipped_count) == (6, 6)
    assert Lead.objects.for_org(org).count() == job.created_count == 5
    if PIPELINED:
        assert _backends() == backends


def test_a_long_file_continues_in_a_fresh_task(owner, org, chunks_of_three, monkeypatch):
    monkeypatch.setattr(running, "TIME_BUDGET_SECONDS", -1)
    job = run(org, owner)
    assert_accounted(job)
    assert job.created_count == 9


def test_a_pipelined_import_is_reverted(owner, org, chunks_of_three):
    alan = factories.make_lead(org, first_name="Al", last_name="T", email="alan@bletchley.org")
    content = CONTENT.split(b"\r\n")
    job = run(org, owner, b"\r\n".join(content[:13]) + b"\r\n", on_duplicate="update")
    assert_accounted(job)
    assert (job.created_count, job.updated_count) == (6, 5)  # Alan; Grace, Linus, Margaret, Ada
    alan.refresh_from_db()
    assert (alan.first_name, alan.last_name) == ("Alan", "Turing")
    assert request_revert(job=job, actor=owner)  # queued on commit: runs at once here
    job.refresh_from_db()
    assert job.status == ImportStatus.REVERTED
    assert list(Lead.objects.for_org(org).values_list("pk", flat=True)) == [alan.pk]
    alan.refresh_from_db()
    assert (alan.first_name, alan.last_name) == ("Al", "T")
