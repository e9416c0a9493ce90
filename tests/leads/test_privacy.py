"""Privacy: everything about one lead as JSON, and erasing a lead for good."""

from __future__ import annotations

import json

import pytest

from accounts.models import Event
from leads import services
from leads.models import (
    Activity,
    CaptureForm,
    FormSubmission,
    ImportChange,
    ImportJob,
    Lead,
    LeadTag,
    LeadTask,
    Suppression,
)
from tests import factories


def url(org, lead, tail):
    return f"/o/{org.slug}/leads/{lead.pk}/{tail}"


@pytest.fixture
def lead(org, owner):
    company = factories.make_company(org, name="Acme", domain="acme.example")
    lead = factories.make_lead(
        org, actor=owner, email="ada@acme.example", company=company, tags=["vip"], owner=owner
    )
    services.add_activity(lead=lead, kind="note", actor=owner, body="Met at the fair")
    LeadTask.objects.create(organization=org, lead=lead, title="Send deck")
    form = CaptureForm.objects.create(organization=org, name="Demo")
    FormSubmission.objects.create(
        organization=org, form=form, lead=lead, data={"email": lead.email, "message": "hi"}
    )
    job = ImportJob.objects.create(organization=org, file="x.csv", original_filename="x.csv")
    ImportChange.objects.create(
        organization=org, job=job, lead=lead, action="updated", previous={"title": "Old"}
    )
    return lead


def test_the_json_export_holds_everything(member_client, org, owner, lead):
    response = member_client.get(url(org, lead, "export.json"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="lead-{lead.pk}-')
    data = json.loads(response.content)
    assert data["lead"]["email"] == "ada@acme.example"
    assert data["company"]["domain"] == "acme.example"
    assert data["owner"] == owner.email
    assert data["tags"] == ["vip"]
    assert {a["body"] for a in data["activities"]} >= {"Met at the fair"}
    assert data["tasks"][0]["title"] == "Send deck"
    assert data["form_submissions"][0]["data"]["message"] == "hi"
    assert data["import_changes"][0]["previous"] == {"title": "Old"}
    assert data["suppressed"] is False
    assert "organization" not in data["lead"]


def test_erase_asks_for_the_email_first(owner_client, org, lead):
    response = owner_client.get(url(org, lead, "erase/"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This cannot be undone" in body
    assert "<code>ada@acme.example</code>" in body
    response = owner_client.post(url(org, lead, "erase/"), {"confirm": "someone@else.example"})
    assert response.status_code == 200
    assert "Type ada@acme.example exactly to confirm." in response.content.decode()
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_erasing_deletes_everything_and_suppresses_the_address(owner_client, org, owner, lead):
    lead_id = lead.pk
    response = owner_client.post(url(org, lead, "erase/"), {"confirm": "ADA@acme.example "})
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/leads/"
    assert not Lead.objects.filter(pk=lead_id).exists()
    assert not Activity.objects.filter(lead_id=lead_id).exists()
    assert not LeadTask.objects.exists()
    assert not LeadTag.objects.exists()
    assert not FormSubmission.objects.exists()
    assert not ImportChange.objects.exists()
    suppression = Suppression.objects.get(organization=org)
    assert (suppression.email, suppression.reason) == ("ada@acme.example", "erased")
    erased = Event.objects.get(organization=org, type="lead.erased")
    assert erased.payload == {"id": lead_id}
    # Earlier events about the lead no longer carry the address.
    for event in Event.objects.filter(organization=org, type__startswith="lead."):
        assert "ada@acme.example" not in json.dumps(event.payload)
    # The address can never come back through the services that check suppression.
    assert services.is_suppressed(org, "Ada@Acme.example")


def test_a_lead_without_email_is_erased_by_typing_erase(owner_client, org):
    lead = factories.make_lead(org, email="")
    owner_client.post(url(org, lead, "erase/"), {"confirm": "erase"})
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert not Suppression.objects.exists()


def test_members_export_but_only_admins_erase(member_client, viewer_client, org, lead):
    assert viewer_client.get(url(org, lead, "export.json")).status_code == 403
    assert member_client.get(url(org, lead, "erase/")).status_code == 403
    response = member_client.post(url(org, lead, "erase/"), {"confirm": lead.email})
    assert response.status_code == 403
    assert viewer_client.post(url(org, lead, "erase/"), {"confirm": lead.email}).status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_admin_erases(client, org, admin_user, lead):
    client.force_login(admin_user)
    assert client.post(url(org, lead, "erase/"), {"confirm": lead.email}).status_code == 302


def test_another_organizations_lead_is_404(owner_client, org, other_org):
    foreign = factories.make_lead(other_org)
    assert owner_client.get(url(org, foreign, "export.json")).status_code == 404
    assert (
        owner_client.post(url(org, foreign, "erase/"), {"confirm": foreign.email}).status_code
        == 404
    )
    assert Lead.objects.filter(pk=foreign.pk).exists()


def test_outsider_gets_404(outsider_client, org, lead):
    assert outsider_client.get(url(org, lead, "export.json")).status_code == 404
    assert outsider_client.get(url(org, lead, "erase/")).status_code == 404


def test_wrong_methods_are_405(owner_client, org, lead):
    assert owner_client.post(url(org, lead, "export.json")).status_code == 405
    assert owner_client.delete(url(org, lead, "erase/")).status_code == 405
