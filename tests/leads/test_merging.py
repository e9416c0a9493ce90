"""leads.merging: merging leads and companies, and finding likely duplicates."""

from __future__ import annotations

import pytest

from accounts.models import Event
from leads import merging, services
from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    Company,
    FormSubmission,
    ImportChange,
    ImportJob,
    Lead,
    LeadTag,
    LeadTask,
)
from tests import factories


@pytest.fixture
def pair(org, owner, member):
    acme = factories.make_company(org, name="Acme", domain="acme.example")
    keep = factories.make_lead(
        org, first_name="Ada", last_name="", email="ada@acme.example", company=acme,
        tags=["vip", "shared"], custom_fields={"a": "keep"},
    )  # fmt: skip
    other = factories.make_lead(
        org, first_name="Adeline", last_name="Lovelace", email="ada.l@gmail.com", title="CTO",
        phone="+14155550123", owner=member, tags=["shared", "other"],
        custom_fields={"a": "other", "b": "other"},
    )  # fmt: skip
    services.set_status(lead=other, status="qualified", actor=owner)
    LeadTask.objects.create(organization=org, lead=other, title="Call back")
    form = CaptureForm.objects.create(organization=org, name="F")
    FormSubmission.objects.create(organization=org, form=form, lead=other, data={})
    job = ImportJob.objects.create(organization=org, file="x.csv", original_filename="x.csv")
    ImportChange.objects.create(organization=org, job=job, lead=other, action="created")
    return keep, other


def test_merge_moves_everything_and_takes_the_chosen_fields(org, owner, member, pair):
    keep, other = pair
    other_id = other.pk
    other_activities = Activity.objects.filter(lead=other).count()
    kept = merging.merge_leads(
        keep=keep,
        other=other,
        fields={"last_name": "other", "email": "other", "status": "other", "owner": "other"},
        actor=owner,
    )
    assert not Lead.objects.filter(pk=other_id).exists()
    assert kept.pk == keep.pk
    assert (kept.first_name, kept.last_name, kept.email) == ("Ada", "Lovelace", "ada.l@gmail.com")
    assert kept.title == ""  # not chosen: the kept lead's (empty) value stays
    assert kept.status == "qualified"
    assert kept.owner == member
    assert kept.company.domain == "acme.example"
    assert kept.custom_fields == {"a": "keep", "b": "other"}
    assert sorted(kept.tags.values_list("name", flat=True)) == ["other", "shared", "vip"]
    assert LeadTag.objects.filter(lead=kept).count() == 3
    assert LeadTask.objects.get().lead_id == kept.pk
    assert FormSubmission.objects.get().lead_id == kept.pk
    assert ImportChange.objects.get().lead_id == kept.pk
    merge = Activity.objects.get(lead=kept, kind=ActivityKind.MERGE)
    assert merge.data["merged_lead"]["id"] == other_id
    assert merge.data["fields_taken"] == ["last_name", "email", "status", "owner"]
    # the other lead's timeline moved, plus the merge entry and the kept lead's status change
    assert Activity.objects.filter(lead=kept).count() >= other_activities + 2
    event = Event.objects.filter(organization=org, type="lead.merged").get()
    assert event.payload["merged_id"] == other_id


def test_phone_comes_with_its_raw_value(org, owner, pair):
    keep, other = pair
    kept = merging.merge_leads(keep=keep, other=other, fields={"phone": "other"}, actor=owner)
    assert (kept.phone, kept.phone_raw) == ("+14155550123", "+14155550123")


def test_a_lead_cannot_be_merged_into_itself(org, owner, pair):
    with pytest.raises(merging.MergeError):
        merging.merge_leads(keep=pair[0], other=pair[0], fields={}, actor=owner)


def test_unknown_choices_are_refused(org, owner, pair):
    with pytest.raises(merging.MergeError):
        merging.merge_leads(keep=pair[0], other=pair[1], fields={"score": "other"}, actor=owner)
    with pytest.raises(merging.MergeError):
        merging.merge_leads(keep=pair[0], other=pair[1], fields={"email": "both"}, actor=owner)


def test_leads_of_two_organizations_are_never_merged(org, other_org, owner, pair):
    foreign = factories.make_lead(other_org)
    with pytest.raises(merging.MergeError):
        merging.merge_leads(keep=pair[0], other=foreign, fields={}, actor=owner)


def test_company_merge_repoints_leads_and_fills_gaps(org, owner):
    keep = factories.make_company(org, name="Acme Inc", domain="", industry="")
    other = factories.make_company(org, name="ACME, LLC", domain="acme.example", industry="Tools")
    leads = [factories.make_lead(org, company=other) for _ in range(2)]
    kept = merging.merge_companies(keep=keep, other=other, actor=owner)
    assert not Company.objects.filter(pk=other.pk).exists()
    assert (kept.domain, kept.industry) == ("acme.example", "Tools")
    assert set(Lead.objects.filter(company=kept)) == set(leads)
    assert Event.objects.filter(organization=org, type="company.merged").exists()


@pytest.mark.parametrize(
    "name,normalized",
    [
        ("Acme, Inc.", "acme"),
        ("ACME Inc", "acme"),
        ("Acme LLC", "acme"),
        ("Müller GmbH", "müller"),
        ("Société Générale S.A.", "société générale"),
        ("AT&T", "at t"),
        ("Ltd", "ltd"),
        ("Big Co Ltd", "big"),
    ],
)
def test_company_names_are_normalized(name, normalized):
    assert merging.normalized_company_name(name) == normalized


def test_duplicate_leads_are_grouped(org, owner):
    acme = factories.make_company(org, name="Acme", domain="acme.example")
    a = factories.make_lead(
        org, first_name="Ada", last_name="King", email="a1@x.example", company=acme
    )
    b = factories.make_lead(
        org, first_name="ADA", last_name="king", email="a2@y.example", company=acme
    )
    c = factories.make_lead(org, email="c@z.example", phone="+1 415 555 0123")
    d = factories.make_lead(org, email="d@z.example", phone="(415) 555-0123 ")
    Lead.objects.filter(pk=d.pk).update(phone="+14155550123")
    # Imports that bypass normalization can leave differently-cased emails.
    e = factories.make_lead(org, email="dup@z.example")
    f = factories.make_lead(org, email="other@z.example")
    Lead.objects.filter(pk=f.pk).update(email="DUP@z.example")
    factories.make_lead(org, first_name="Solo")
    archived = factories.make_lead(org, email="x@archived.example", phone="+14155550123")
    services.archive_lead(lead=archived, actor=owner)
    groups = {
        (g.reason, tuple(sorted(r.pk for r in g.records)))
        for g in merging.duplicate_lead_groups(org)
    }
    assert groups == {
        ("Same email", tuple(sorted([e.pk, f.pk]))),
        ("Same name and company", tuple(sorted([a.pk, b.pk]))),
        ("Same phone", tuple(sorted([c.pk, d.pk]))),
    }


def test_duplicate_companies_are_grouped(org, other_org):
    a = factories.make_company(org, name="Acme, Inc.", domain="")
    b = factories.make_company(org, name="ACME LLC", domain="acme.example")
    factories.make_company(org, name="Acme Tools", domain="tools.example")
    factories.make_company(other_org, name="Acme Ltd", domain="")
    groups = merging.duplicate_company_groups(org)
    assert [(g.reason, g.key, [c.pk for c in g.records]) for g in groups] == [
        ("Similar name", "acme", [a.pk, b.pk])
    ]


def test_no_duplicates_costs_three_queries(org, django_assert_num_queries):
    factories.make_lead(org)
    # emails, names, phones
    with django_assert_num_queries(3):
        assert merging.duplicate_lead_groups(org) == []
