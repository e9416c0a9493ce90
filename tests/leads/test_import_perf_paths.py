"""The importer's fast paths, on whichever database the suite runs (SQLite by default,
PostgreSQL with DATABASE_URL): lookups with array parameters or IN lists, activity data
serialized once per file, the row count without building rows, the next chunk parsed on a
second thread, and a retried chunk parsed again."""

from __future__ import annotations

import io
import json

import pytest
from django.db import IntegrityError

from leads.importing import running, writing
from leads.importing.reading import UnreadableFile, count_data_rows, iter_data_rows
from leads.importing.rows import parse_row
from leads.models import Activity, ActivityKind, ImportJob, ImportStatus, Lead, Suppression
from leads.tasks import run_import
from tests import factories
from tests.leads.test_import_formats import assert_accounted, draft, import_file


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_a_list_goes_to_postgresql_as_one_string_unless_a_value_cannot_be_joined():
    assert writing._pg_array(["a@x.com", "b@x.com"]) == (
        "string_to_array(%s, E'\\n')",
        "a@x.com\nb@x.com",
    )
    assert writing._pg_array(["a\nb", "c"]) == ("%s::text[]", ["a\nb", "c"])
    assert writing._pg_array(["", "c"]) == ("%s::text[]", ["", "c"])


def test_lookups_find_exactly_the_given_values(org):
    odd = ["o'brien@x.com", "line\nbreak@x.com", "comma,brace{}@x.com"]
    for email in odd:
        Suppression.objects.create(organization=org, email=email, reason="erased")
    Suppression.objects.create(organization=org, email="other@x.com", reason="erased")
    other_org = factories.make_org("Other")
    Suppression.objects.create(organization=other_org, email="mine@x.com", reason="erased")
    assert writing._suppressed(org.pk, {*odd, "mine@x.com", "new@x.com"}) == set(odd)

    ada = factories.make_lead(org, first_name="Ada", email="ada@x.com")
    old = factories.make_lead(org, first_name="Old", email="old@x.com")
    Lead.objects.filter(pk=old.pk).update(archived_at=old.created_at)
    factories.make_lead(other_org, first_name="Ada", email="ada2@x.com")
    assert writing._active_by_email(org.pk, {"ada@x.com", "old@x.com", "ada2@x.com"}) == {
        "ada@x.com": ada.pk
    }
    # The newline fallback of the PostgreSQL path finds the same.
    assert writing._active_by_email(org.pk, {"ada@x.com", "a\nb@x.com"}) == {"ada@x.com": ada.pk}


def test_name_lookup_takes_the_oldest_active_lead_of_the_domain(org):
    company = factories.make_company(org, name="Navy", domain="us-navy.com")
    first = factories.make_lead(
        org, first_name="Grace", last_name="HOPPER", email="", company=company
    )
    factories.make_lead(org, first_name="grace", last_name="Hopper", email="", company=company)
    factories.make_lead(
        org, first_name="Grace", last_name="Hopper", email="g@us-navy.com", company=company
    )
    row = parse_row(
        2,
        ["Grace", "Hopper", "grace@us-navy.com"],
        header_count=3,
        columns=[(0, "first_name"), (1, "last_name"), (2, "email")],
    )
    assert row.name_key == ("grace", "hopper", "us-navy.com")
    found = writing._active_by_name(org.pk, [row], without_email=True)
    assert found == {("grace", "hopper", "us-navy.com"): (first.pk, "")}
    found = writing._active_by_name(org.pk, [row], without_email=False)
    assert found[("grace", "hopper", "us-navy.com")] == (first.pk, "")


def test_activity_data_is_the_json_of_its_values(org, owner, capture):
    name = 'Q3 "list" – Zoë.csv'
    content = b"Email,First Name\r\nada@example.com,Ada\r\n"
    job = import_file(org, owner, capture, name, content)
    assert_accounted(job)
    activity = Activity.objects.get(lead__email="ada@example.com", kind=ActivityKind.IMPORT)
    assert activity.data == {"import_id": job.pk, "file": name, "line": 2, "action": "created"}
    row = parse_row(7, ["x@y.com"], header_count=1, columns=[(0, "email")])
    data = writing._activity(job, 1, row, "created", None)[5]
    assert isinstance(data, writing.JsonText)
    assert data == json.dumps({"import_id": job.pk, "file": name, "line": 7, "action": "created"})


@pytest.mark.parametrize(
    "content",
    [
        "A,B\r\n1,2\r\n\r\n3,4\r\n",
        'A,B\r\n"multi\nline",2\r\n , \r\n \r\n5,6',
        "A\r\n",
        "",
        'A,B\r\n"unclosed,2\r\n',
    ],
)
def test_the_row_count_is_what_the_run_reads(content):
    def reading(function):
        try:
            return function(io.BytesIO(content.encode()), "utf-8", ","), None
        except UnreadableFile as exc:
            return None, str(exc)

    counted, counted_error = reading(count_data_rows)
    rows, rows_error = reading(lambda *args: list(iter_data_rows(*args)))
    assert counted_error == rows_error
    if rows is not None:
        assert counted == len(rows)


def test_each_chunk_is_parsed_ahead_once(org, owner, capture, monkeypatch):
    monkeypatch.setattr(running, "CHUNK_ROWS", 2)
    parsed_ahead = []
    real = running._run_chunk

    def spy(job, position, records, parsed=None):
        parsed_ahead.append(parsed is not None and len(parsed) == len(records))
        return real(job, position, records, parsed)

    monkeypatch.setattr(running, "_run_chunk", spy)
    lines = "".join(f"Lead{n},lead{n}@example.com\r\n" for n in range(5))
    job = import_file(org, owner, capture, "x.csv", ("First Name,Email\r\n" + lines).encode())
    assert_accounted(job)
    assert parsed_ahead == [True, True, True]
    assert Lead.objects.for_org(org).count() == 5


def test_a_retried_chunk_is_decided_again_from_fresh_rows(org, owner, capture, monkeypatch):
    content = b"First Name,Email\r\nAda,ada@example.com\r\nAlan,alan@example.com\r\n"
    job = draft(org, owner, "x.csv", content)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    real_write, batches = running.write, []

    def write_once_too_late(job_, batch, tags):
        batches.append(batch)
        if len(batches) == 1:
            # Another worker took an email between our lookup and our insert.
            raise IntegrityError("duplicate key value violates unique constraint")
        return real_write(job_, batch, tags)

    monkeypatch.setattr(running, "write", write_once_too_late)
    assert run_import(org.pk, job.pk) == ImportStatus.COMPLETED
    job.refresh_from_db()
    assert_accounted(job)
    assert job.created_count == 2
    first, retry = batches
    # The retry parsed the records again rather than reusing rows the first attempt decided.
    assert all(a is not b for a, b in zip(first, retry, strict=True))
    assert [row.line for row in retry] == [2, 3]
    assert Lead.objects.for_org(org).count() == 2


@pytest.mark.parametrize("same_body", [True, False])
def test_inserted_rows_read_back_as_written(org, owner, same_body):
    """Values COPY must escape, in a column that varies and in one formatted once for all
    rows (same_body), and JSON, times and NULLs, come back unchanged."""
    from django.utils import timezone

    leads = [factories.make_lead(org, email=f"l{n}@example.com") for n in range(3)]
    now = timezone.now()
    tricky = 'tab\there, new\nline, cr\rreturn, back\\slash \\N, quote " and zoë'
    rows = [
        (
            org.pk,
            lead.pk,
            ActivityKind.IMPORT.value,
            None,
            tricky if same_body else f"{tricky} {n}",
            {"line": n, "text": tricky} if not same_body else {"text": tricky},
            now,
            now,
        )
        for n, lead in enumerate(leads)
    ]
    writing.insert_rows(Activity, writing.ACTIVITY_COLUMNS, rows)
    found = Activity.objects.filter(kind=ActivityKind.IMPORT, lead__in=leads).order_by("lead_id")
    assert [(a.lead_id, a.actor_id, a.body, a.data, a.occurred_at) for a in found] == [
        (row[1], None, row[4], row[5], now) for row in rows
    ]
