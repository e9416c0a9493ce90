"""The importer on real export layouts: HubSpot, Salesforce, Pipedrive, Apollo, Zoho,
LinkedIn Sales Navigator and Google Contacts, with the columns each one really writes.

The helpers at the top are shared by the other test_import_* files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.importing import auto_map, create_job, detect_vendor, preview, start_job
from leads.models import ActivityKind, ImportJob, ImportStatus, Lead

DATA = Path(__file__).parent / "data"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def draft(org, user, name: str, content: bytes | None = None, **kwargs) -> ImportJob:
    if content is None:
        content = (DATA / name).read_bytes()
    return create_job(
        organization=org, actor=user, upload=upload(name, content), filename=name, **kwargs
    )


def run_job(job: ImportJob, capture, *, mapping=None, on_duplicate=None, tags=()) -> ImportJob:
    """Start a draft and run it (django-q2 is synchronous under pytest)."""
    with capture(execute=True):
        assert start_job(
            job=job,
            mapping=mapping or job.mapping,
            on_duplicate=on_duplicate or job.on_duplicate,
            tags=tags,
        )
    job.refresh_from_db()
    return job


def import_file(org, user, capture, name: str, content: bytes | None = None, **kwargs):
    on_duplicate = kwargs.pop("on_duplicate", None)
    tags = kwargs.pop("tags", ())
    job = draft(org, user, name, content, **kwargs)
    return run_job(job, capture, on_duplicate=on_duplicate, tags=tags)


def assert_accounted(job: ImportJob) -> None:
    """Every row ended up somewhere: nothing silently dropped."""
    assert job.status == ImportStatus.COMPLETED, job.error
    assert job.processed_rows == job.total_rows
    assert (
        job.created_count + job.updated_count + job.skipped_count + job.failed_count
        == job.total_rows
    )
    assert job.row_errors.count() == job.skipped_count + job.failed_count


def lead(org, email: str) -> Lead:
    return Lead.objects.for_org(org).select_related("company").get(email=email)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


# ---------------------------------------------------------------- vendor detection


@pytest.mark.parametrize(
    ("name", "vendor"),
    [
        ("hubspot_contacts.csv", "hubspot"),
        ("salesforce_leads_report.csv", "salesforce"),
        ("pipedrive_people.csv", "pipedrive"),
        ("apollo_contacts.csv", "apollo"),
        ("zoho_leads.csv", "zoho"),
        ("linkedin_sales_navigator.csv", "linkedin"),
        ("google_contacts.csv", "google"),
        ("google_contacts_legacy.csv", "google"),
    ],
)
def test_it_recognizes_each_vendors_export(name, vendor):
    header = (DATA / name).read_text(encoding="utf-8").splitlines()[0]
    headers = [h.strip('"') for h in header.split(",")]
    assert detect_vendor(headers) == vendor


def test_record_id_goes_to_the_vendors_external_id():
    hubspot = auto_map(["Record ID", "First Name", "Email", "Lifecycle Stage", "Phone Number"])
    zoho = auto_map(["Record Id", "Lead Owner", "Designation", "Email", "First Name"])
    assert hubspot["Record ID"] == "external_id:hubspot"
    assert zoho["Record Id"] == "external_id:zoho"
    assert zoho["Designation"] == "title"


def test_header_matching_ignores_case_spaces_and_punctuation():
    mapping = auto_map(["  e-MAIL  address ", "FIRST_NAME", "last-name", "Job Title", "Notes"])
    assert mapping == {
        "  e-MAIL  address ": "email",
        "FIRST_NAME": "first_name",
        "last-name": "last_name",
        "Job Title": "title",
        "Notes": "",
    }


def test_custom_fields_match_on_label_or_key():
    mapping = auto_map(
        ["Email", "Annual budget", "deal_size"], {"budget": "Annual Budget", "deal_size": "Deal"}
    )
    assert mapping["Annual budget"] == "custom:budget"
    assert mapping["deal_size"] == "custom:deal_size"


# ---------------------------------------------------------------- whole files


def test_hubspot_export(org, owner, capture):
    job = import_file(org, owner, capture, "hubspot_contacts.csv")
    assert_accounted(job)
    assert job.created_count == 4
    priya = lead(org, "priya.raman@northwind.io")
    assert (priya.first_name, priya.last_name, priya.title) == ("Priya", "Raman", "VP Marketing")
    assert priya.phone == "+14155550134"
    assert priya.company.name == "Northwind Analytics"
    assert priya.company.domain == "northwind.io"
    assert priya.location == "San Francisco, California, United States"
    assert priya.external_ids == {"hubspot": "51234001"}
    assert priya.source == "HubSpot import"
    tomas = lead(org, "tomas@brightforge.es")
    assert tomas.first_name == "Tomás"
    assert tomas.company.domain == "brightforge.es"
    # A free-mail address without a company gives no company.
    assert lead(org, "hannah.lee@gmail.com").company is None
    kinds = set(priya.activities.values_list("kind", flat=True))
    assert kinds == {ActivityKind.IMPORT}
    # Lifecycle Stage (the first status column) gives new leads their starting stage.
    assert priya.status == "new"
    assert (tomas.status, lead(org, "marcus.bell@quantaloop.com").status) == ("qualified",) * 2


def test_statuses_of_other_crms_start_new_leads_in_their_stage(org, owner, capture):
    content = (
        b"Email,Lead Status\n"
        b"a@acme.io,Open - Not Contacted\n"
        b"b@acme.io,Working - Contacted\n"
        b"c@acme.io,Closed - Converted\n"
        b"d@acme.io,Closed - Not Converted\n"
        b"e@acme.io,Connected\n"
        b"f@acme.io,Sleeping\n"
        b"g@acme.io,QUALIFIED\n"
    )
    job = import_file(org, owner, capture, "statuses.csv", content)
    assert_accounted(job)
    statuses = dict(Lead.objects.for_org(org).values_list("email", "status"))
    assert statuses == {
        "a@acme.io": "new",
        "b@acme.io": "contacted",
        "c@acme.io": "converted",
        "d@acme.io": "lost",
        "e@acme.io": "replied",
        "f@acme.io": "new",  # no such stage: starts as New (the preview says so)
        "g@acme.io": "qualified",
    }
    assert lead(org, "c@acme.io").converted_at is not None
    preview_problems = [
        p for row in preview(draft(org, owner, "s.csv", content)) for p in row.problems
    ]
    assert (
        "The status 'Sleeping' matches no pipeline stage; a new lead starts as New"
        in preview_problems
    )
    # An import never moves an existing lead: statuses change through the pipeline only.
    again = b"Email,Lead Status,Job Title\nb@acme.io,Closed - Converted,CFO\n"
    job = import_file(org, owner, capture, "again.csv", again, on_duplicate="update")
    assert job.updated_count == 1
    b = lead(org, "b@acme.io")
    assert (b.status, b.title) == ("contacted", "CFO")


def test_phones_without_a_country_code_use_the_organizations_country(org, owner, capture):
    org.default_country = "DE"
    org.save()
    content = b"Email,Phone\nm@acme.de,030 1234567\nn@acme.de,+1 415 555 0134\n"
    assert_accounted(import_file(org, owner, capture, "de.csv", content))
    assert lead(org, "m@acme.de").phone == "+49301234567"
    assert lead(org, "n@acme.de").phone == "+14155550134"


def test_salesforce_leads_report(org, owner, capture):
    job = import_file(org, owner, capture, "salesforce_leads_report.csv")
    assert_accounted(job)
    assert job.created_count == 3
    grace = lead(org, "grace.kim@heliosfreight.com")
    assert grace.company.name == "Helios Freight"
    assert grace.company.industry == "Transportation"
    assert grace.company.size_range == "1001-5000"
    assert grace.source == "Web"
    assert grace.external_ids == {"salesforce": "00Q5j00000AbCdE"}
    liam = lead(org, "liam.oconnor@celticrenew.ie")
    assert liam.last_name == "O'Connor"
    assert liam.phone == "+353871234567"  # the mobile, as the phone column is empty


def test_pipedrive_people_export(org, owner, capture):
    job = import_file(org, owner, capture, "pipedrive_people.csv")
    assert_accounted(job)
    elena = lead(org, "elena.petrova@volgatech.ru")
    assert (elena.first_name, elena.last_name) == ("Elena", "Petrova")
    assert elena.title == "Chief Digital Officer"
    assert elena.company.name == "Volga Technologies"
    assert elena.external_ids == {"pipedrive": "1021"}
    assert list(elena.tags.values_list("name", flat=True)) == ["Hot lead"]
    jonas = lead(org, "jonas.berg@outlook.com")  # the home email when work is empty
    assert sorted(jonas.tags.values_list("name", flat=True)) == ["Nordics", "Warm lead"]
    assert jonas.company.name == "Fjord Outdoor AB"


def test_apollo_export(org, owner, capture):
    job = import_file(org, owner, capture, "apollo_contacts.csv")
    assert_accounted(job)
    noah = lead(org, "noah.fischer@lumenlabs.de")
    assert noah.linkedin_url == "http://www.linkedin.com/in/noahfischer"
    assert noah.company.name == "Lumen Labs GmbH"
    assert noah.company.domain == "lumenlabs.de"
    assert noah.company.industry == "Computer Software"
    assert noah.company.size_range == "11-50"
    assert noah.location == "Berlin, Berlin, Germany"
    assert noah.external_ids == {"apollo": "64f1a2b3c4d5e6f708091a2b"}
    assert lead(org, "ethan@corebridge.com").company.size_range == "1001-5000"


def test_zoho_leads_export(org, owner, capture):
    job = import_file(org, owner, capture, "zoho_leads.csv")
    assert_accounted(job)
    arjun = lead(org, "arjun.mehta@kitelogistics.in")
    assert arjun.title == "Operations Head"
    assert arjun.source == "Cold Call"
    assert arjun.external_ids == {"zoho": "zcrm_4876000000123001"}
    assert arjun.company.domain == "kitelogistics.in"
    assert sorted(arjun.tags.values_list("name", flat=True)) == ["Logistics", "Q2 push"]
    assert lead(org, "chloe@sunhill-farms.fr").first_name == "Chloé"


def test_linkedin_sales_navigator_export(org, owner, capture):
    job = import_file(org, owner, capture, "linkedin_sales_navigator.csv")
    assert_accounted(job)
    assert job.created_count == 2
    maya = Lead.objects.for_org(org).get(first_name="Maya")
    assert maya.email == ""
    assert maya.linkedin_url == "https://www.linkedin.com/in/mayacohen"
    assert maya.location == "Tel Aviv District, Israel"
    assert maya.company.name == "Tidewater Health"
    assert lead(org, "lucas.silva@pontedigital.com.br").company.domain == "pontedigital.com.br"


def test_google_contacts_export(org, owner, capture):
    job = import_file(org, owner, capture, "google_contacts.csv")
    assert_accounted(job)
    rachel = lead(org, "rachel.green@centralperkmedia.com")
    assert (rachel.first_name, rachel.last_name) == ("Rachel", "Green")
    assert rachel.title == "Buyer"
    assert rachel.company.name == "Central Perk Media"
    assert list(rachel.tags.values_list("name", flat=True)) == ["Clients"]
    assert rachel.phone == "+12125550177"


def test_google_contacts_legacy_export(org, owner, capture):
    job = import_file(org, owner, capture, "google_contacts_legacy.csv")
    assert_accounted(job)
    karl = lead(org, "karl@nordhavn-shipping.dk")
    assert (karl.first_name, karl.last_name, karl.title) == ("Karl", "Jensen", "Purchasing Lead")
    assert karl.company.name == "Nordhavn Shipping"


def test_full_name_is_split_and_tags_are_added(org, owner, capture):
    job = import_file(org, owner, capture, "full_name.csv", tags=["Conference 2026"])
    assert_accounted(job)
    ada = lead(org, "ada@analytical.engine.co.uk")
    assert (ada.first_name, ada.last_name) == ("Ada", "Lovelace")
    assert ada.company.domain == "engine.co.uk"
    assert sorted(ada.tags.values_list("name", flat=True)) == ["Conference 2026", "math", "vip"]
    alan = lead(org, "alan@bletchley.org.uk")
    assert sorted(alan.tags.values_list("name", flat=True)) == ["Conference 2026", "vip"]
