"""Encodings, delimiters and broken input: each file is read or refused with a clear
reason, and no row goes missing."""

from __future__ import annotations

import csv
import io

import pytest

from leads.importing import InvalidImport, failed_rows_csv
from leads.importing.reading import detect_delimiter, unique_headers
from leads.models import ImportJob, Lead
from tests.leads.test_import_formats import assert_accounted, draft, import_file, run_job

ROWS = [
    ["First Name", "Last Name", "Email", "Company"],
    ["Zoë", "Müller", "zoe.mueller@bäckerei.example", "Bäckerei Müller"],
    ["José", "Núñez", "jose@nunez.es", "Núñez & Hijos"],
    ["François", "Lefèvre", "francois@lefevre.fr", "Café Crème"],
]


def _text(delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(ROWS)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("encoding", "delimiter", "content", "detected"),
    [
        ("utf-8", ",", lambda: _text().encode("utf-8"), "utf-8"),
        ("utf-8-sig", ";", lambda: _text(";").encode("utf-8-sig"), "utf-8-sig"),
        # Excel's "Unicode text": UTF-16 little-endian with a BOM, tab-separated.
        ("utf-16-le", "\t", lambda: _text("\t").encode("utf-16"), "utf-16"),
        ("utf-16-be", "\t", lambda: b"\xfe\xff" + _text("\t").encode("utf-16-be"), "utf-16"),
        ("cp1252", ";", lambda: _text(";").encode("cp1252"), "cp1252"),
        ("cp1252", "|", lambda: _text("|").encode("cp1252"), "cp1252"),
    ],
)
def test_each_encoding_and_delimiter_is_read(
    org, owner, django_capture_on_commit_callbacks, encoding, delimiter, content, detected
):
    job = draft(org, owner, "leads.csv", content())
    assert (job.encoding, job.delimiter) == (detected, delimiter)
    assert job.headers == ROWS[0]
    job = run_job(job, django_capture_on_commit_callbacks)
    assert_accounted(job)
    assert job.created_count == 3
    zoe = Lead.objects.for_org(org).select_related("company").get(first_name="Zoë")
    assert zoe.last_name == "Müller"
    assert zoe.company.name == "Bäckerei Müller"
    assert Lead.objects.for_org(org).filter(first_name="José", last_name="Núñez").exists()


def test_the_sniffer_falls_back_to_the_most_consistent_delimiter():
    assert detect_delimiter("name;email\nAda;ada@x.io\nAlan;alan@y.io\n") == ";"
    assert detect_delimiter("email\nada@x.io\n") == ","


def test_an_empty_file_is_refused(org, owner):
    for content in (b"", b"\r\n\r\n  \n"):
        with pytest.raises(InvalidImport, match="empty"):
            draft(org, owner, "empty.csv", content)


def test_a_header_without_rows_is_refused(org, owner):
    with pytest.raises(InvalidImport, match="no rows of data"):
        draft(org, owner, "header.csv", b"First Name,Email\r\n\r\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4, "Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "old Excel"),
        (b"%PDF-1.7\n" + bytes(range(256)), "PDF"),
        (bytes(range(256)) * 8, "binary data"),
    ],
)
def test_a_binary_file_is_refused_in_words(org, owner, content, message):
    with pytest.raises(InvalidImport, match=message) as caught:
        draft(org, owner, "leads.csv", content)
    assert "save it as CSV" in str(caught.value)


def test_a_file_over_50_mb_is_refused(org, owner, tmp_path):
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from leads.importing import create_job

    path = tmp_path / "big.csv"
    line = b"Ada,Lovelace,ada@example.com,Analytical Engines,some padding text to be long\n"
    with path.open("wb") as out:
        out.write(b"First Name,Last Name,Email,Company,Notes\n")
        block = line * 10_000
        while out.tell() < 60 * 1024 * 1024:
            out.write(block)
    upload = TemporaryUploadedFile("big.csv", "text/csv", path.stat().st_size, None)
    with path.open("rb") as source:
        while chunk := source.read(1024 * 1024):
            upload.write(chunk)
    upload.seek(0)
    with pytest.raises(InvalidImport, match=r"60\.\d MB; imports take files up to 50 MB"):
        create_job(organization=org, actor=owner, upload=upload, filename="big.csv")
    upload.close()
    assert not ImportJob.objects.for_org(org).exists()


def test_duplicate_headers_stay_distinguishable(org, owner, django_capture_on_commit_callbacks):
    assert unique_headers(["Email", "Email", "", "email", " Name "]) == [
        "Email",
        "Email (2)",
        "Column 3",
        "email (3)",
        "Name",
    ]
    content = b"Name,Email,Email\r\nAda Lovelace,,ada@example.com\r\nAlan Turing,alan@example.com,alan@home.example\r\n"
    job = draft(org, owner, "dupes.csv", content)
    assert job.headers == ["Name", "Email", "Email (2)"]
    assert job.mapping == {"Name": "full_name", "Email": "email", "Email (2)": "email"}
    job = run_job(job, django_capture_on_commit_callbacks)
    assert_accounted(job)
    # The second Email column is used where the first is empty.
    assert Lead.objects.for_org(org).filter(email="ada@example.com").exists()
    assert Lead.objects.for_org(org).filter(email="alan@example.com").exists()


def test_ragged_rows_blank_lines_and_quoted_newlines_lose_nothing(
    org, owner, django_capture_on_commit_callbacks
):
    content = (
        b"First Name,Last Name,Email,Title\r\n"
        b"Ada,Lovelace,ada@example.com,Countess\r\n"
        b"\r\n"
        b"Alan,Turing,alan@example.com\r\n"  # one cell short: the title is empty
        b'Grace,Hopper,grace@example.com,"Rear\r\nAdmiral"\r\n'
        b"Edsger,Dijkstra,edsger@example.com,Professor,extra,cells\r\n"  # too many cells
        b",,,\r\n"
        b"Barbara,Liskov,not-an-email,Professor\r\n"
        b",,,Title only\r\n"
        b"Ken,Thompson,ken@example.com,Engineer,\r\n"  # a trailing empty cell is harmless
    )
    job = draft(org, owner, "broken.csv", content)
    job = run_job(job, django_capture_on_commit_callbacks)
    assert_accounted(job)
    assert job.total_rows == 8
    assert (job.created_count, job.skipped_count, job.failed_count) == (4, 1, 3)
    grace = Lead.objects.for_org(org).get(email="grace@example.com")
    assert grace.title == "Rear Admiral"  # whitespace, the embedded newline included, folded
    errors = {e.line_number: e for e in job.row_errors.all()}
    assert set(errors) == {7, 8, 9, 10}
    assert "6 cells but the header has 4 columns" in errors[7].reason
    assert errors[7].row == [
        "Edsger",
        "Dijkstra",
        "edsger@example.com",
        "Professor",
        "extra",
        "cells",
    ]
    assert errors[8].reason == "Skipped: the row is empty"
    assert "'not-an-email' is not valid" in errors[9].reason
    assert "no email address and no name" in errors[10].reason

    rows = list(csv.reader(io.StringIO("".join(failed_rows_csv(job)))))
    assert rows[0] == ["Line", "Outcome", "Reason", "First Name", "Last Name", "Email", "Title"]
    assert rows[1][:3] == ["7", "failed", errors[7].reason]
    assert rows[1][3:] == [
        "Edsger",
        "Dijkstra",
        "edsger@example.com",
        "Professor",
        "extra",
        "cells",
    ]
    assert rows[2][:3] == ["8", "skipped", "the row is empty"]
    assert rows[3][3:] == ["Barbara", "Liskov", "not-an-email", "Professor"]


def test_failed_rows_csv_neutralizes_formulas(org, owner, django_capture_on_commit_callbacks):
    content = b'First Name,Email\r\n=HYPERLINK("http://x"),bad\r\n'
    job = run_job(draft(org, owner, "f.csv", content), django_capture_on_commit_callbacks)
    rows = list(csv.reader(io.StringIO("".join(failed_rows_csv(job)))))
    assert rows[1][3] == '\'=HYPERLINK("http://x")'


def test_long_values_fail_their_row_with_the_field_named(
    org, owner, django_capture_on_commit_callbacks
):
    content = ("First Name,Email\r\n" + "A" * 101 + ",long@example.com\r\n").encode()
    job = import_file(org, owner, django_capture_on_commit_callbacks, "long.csv", content)
    assert job.failed_count == 1
    assert job.row_errors.get().reason == "First name is longer than 100 characters"


def test_an_unreadable_phone_is_kept_as_typed(org, owner, django_capture_on_commit_callbacks):
    content = b"Email,Phone\r\nada@example.com,call the front desk\r\n"
    job = import_file(org, owner, django_capture_on_commit_callbacks, "p.csv", content)
    assert job.created_count == 1
    ada = Lead.objects.for_org(org).get(email="ada@example.com")
    assert (ada.phone, ada.phone_raw) == ("", "call the front desk")
