"""Capture forms in the browser: the list, the builder, the embed snippet, deleting."""

from __future__ import annotations

import pytest

from leads.models import CaptureForm, CustomFieldDefinition, FormSubmission
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(org, tail=""):
    return f"/o/{org.slug}/settings/forms/{tail}"


@pytest.fixture
def capture_form(org, owner):
    return CaptureForm.objects.create(
        organization=org,
        name="Newsletter",
        fields=[{"name": "email", "label": "Email", "required": True, "type": "email"}],
        created_by=owner,
        submission_count=1234,
    )


def builder_post(**extra):
    data = {
        "name": "Demo request",
        "success_message": "Thanks!",
        "redirect_url": "",
        "source": "website",
        "tags": "inbound, demo, inbound",
        "owner": "",
        "is_active": "on",
        "f_email": "1",
        "l_email": "Work email",
        "f_name": "1",
        "r_name": "1",
        "f_custom.budget": "1",
        "l_custom.budget": "Budget (EUR)",
    }
    return data | extra


def test_empty_list_offers_the_first_form(owner_client, org):
    body = owner_client.get(url(org)).content.decode()
    assert "<title>Capture forms · Acme Corp · Prospector</title>" in body
    assert "No capture forms yet" in body
    assert "Create your first form" in body


def test_list_shows_forms_with_submission_counts(owner_client, org, capture_form):
    body = owner_client.get(url(org)).content.decode()
    assert "Newsletter" in body
    assert "1,234" in body


def test_list_query_count_is_pinned(owner_client, org, owner, django_assert_num_queries):
    for n in range(6):
        CaptureForm.objects.create(organization=org, name=f"Form {n}", owner=owner)
    # session, user, membership+org+plan, forms+owners, the switcher's memberships, the
    # sidebar's saved views
    with django_assert_num_queries(6):
        response = owner_client.get(url(org))
    assert response.status_code == 200


def test_member_builds_a_form(member_client, org, member):
    CustomFieldDefinition.objects.create(organization=org, key="budget", label="Budget")
    response = member_client.post(url(org, "new/"), builder_post(owner=str(member.pk)))
    form = CaptureForm.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == url(org, f"{form.pk}/")
    assert form.fields == [
        {"name": "email", "label": "Work email", "required": True, "type": "email"},
        {"name": "name", "label": "Full name", "required": True, "type": "text"},
        {"name": "custom.budget", "label": "Budget (EUR)", "required": False, "type": "text"},
    ]
    assert form.tags == ["inbound", "demo"]
    assert form.owner == member
    assert form.created_by == member


def test_the_detail_page_has_endpoint_and_snippet(owner_client, org, capture_form, settings):
    FormSubmission.objects.create(
        organization=org,
        form=capture_form,
        data={"email": "x@y.example"},
        utm={"utm_source": "google"},
        referrer="https://www.example.org/",
    )
    body = owner_client.get(url(org, f"{capture_form.pk}/")).content.decode()
    endpoint = f"{settings.SITE_URL}/f/{capture_form.public_id}"
    assert endpoint in body
    assert f"&lt;form action=&quot;{endpoint}&quot; method=&quot;post&quot;" in body
    assert "website_url" in body
    assert "js/prospector-form" in body
    assert "https://www.example.org/" in body  # the submission log


def test_an_owner_from_another_organization_is_refused(owner_client, org, outsider, other_org):
    response = owner_client.post(url(org, "new/"), builder_post(owner=str(outsider.pk)))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not CaptureForm.objects.exists()


def test_a_form_without_fields_keeps_email(owner_client, org):
    data = builder_post()
    for key in ("f_email", "f_name", "f_custom.budget"):
        data.pop(key)
    owner_client.post(url(org, "new/"), data)
    assert CaptureForm.objects.get().fields[0]["name"] == "email"


def test_errors_keep_what_was_typed(owner_client, org):
    response = owner_client.post(url(org, "new/"), builder_post(name="", redirect_url="nope"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body
    assert "Enter a valid URL." in body
    assert 'value="Work email"' in body


def test_editing_a_form(owner_client, org, capture_form):
    response = owner_client.post(
        url(org, f"{capture_form.pk}/"), builder_post(name="Renamed", is_active="")
    )
    assert response.status_code == 302
    capture_form.refresh_from_db()
    assert capture_form.name == "Renamed"
    assert capture_form.is_active is False
    assert capture_form.submission_count == 1234


def test_htmx_gets_the_editor_fragment(owner_client, org, capture_form):
    response = owner_client.get(url(org, f"{capture_form.pk}/"), **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="editor"' in response.content


def test_deleting_a_form(member_client, org, capture_form):
    lead = factories.make_lead(org)
    FormSubmission.objects.create(organization=org, form=capture_form, lead=lead, data={})
    response = member_client.post(url(org, f"{capture_form.pk}/delete/"))
    assert response.status_code == 302
    assert not CaptureForm.objects.exists()
    lead.refresh_from_db()  # leads stay


def test_viewer_reads_but_cannot_write(viewer_client, org, capture_form):
    assert viewer_client.get(url(org)).status_code == 200
    body = viewer_client.get(url(org, f"{capture_form.pk}/")).content.decode()
    assert "Save changes" not in body
    assert viewer_client.post(url(org, "new/"), builder_post()).status_code == 403
    assert viewer_client.post(url(org, f"{capture_form.pk}/"), builder_post()).status_code == 403
    assert viewer_client.post(url(org, f"{capture_form.pk}/delete/")).status_code == 403
    assert CaptureForm.objects.get().name == "Newsletter"


def test_outsider_gets_404(outsider_client, org, capture_form):
    assert outsider_client.get(url(org)).status_code == 404
    assert outsider_client.get(url(org, f"{capture_form.pk}/")).status_code == 404


def test_another_organizations_form_is_404(owner_client, org, other_org):
    foreign = CaptureForm.objects.create(organization=other_org, name="Theirs")
    assert owner_client.get(url(org, f"{foreign.pk}/")).status_code == 404
    assert owner_client.post(url(org, f"{foreign.pk}/delete/")).status_code == 404


def test_wrong_methods_are_405(owner_client, org, capture_form):
    assert owner_client.post(url(org)).status_code == 405
    assert owner_client.get(url(org, f"{capture_form.pk}/delete/")).status_code == 405
    assert owner_client.delete(url(org, f"{capture_form.pk}/")).status_code == 405
