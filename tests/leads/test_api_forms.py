"""`/api/v1/forms/`: capture forms over the API."""

from __future__ import annotations

import pytest
from django.test import override_settings

from leads.models import CaptureForm
from tests.accounts.api_support import assert_error, key_client

URL = "/api/v1/forms/"


@pytest.fixture
def capture_form(org):
    return CaptureForm.objects.create(
        organization=org,
        name="Newsletter",
        fields=[{"name": "email", "label": "Email", "required": True, "type": "email"}],
    )


def test_create_and_read(owner_api, org, member, settings):
    response = owner_api.post(
        URL,
        {
            "name": "Demo",
            "fields": [{"name": "email"}, {"name": "phone", "label": "Mobile", "required": True}],
            "tags": ["inbound"],
            "owner": member.pk,
            "redirect_url": "https://www.example.org/thanks",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    form = CaptureForm.objects.get(pk=data["id"])
    assert data["endpoint"] == f"{settings.SITE_URL}/f/{form.public_id}"
    assert data["fields"] == [
        {"name": "email", "label": "Email", "required": True, "type": "email"},
        {"name": "phone", "label": "Mobile", "required": True, "type": "tel"},
    ]
    assert data["owner"] == member.pk
    assert data["submission_count"] == 0
    assert form.organization == org
    assert owner_api.get(f"{URL}{form.pk}/").json()["name"] == "Demo"


def test_list(owner_api, capture_form):
    response = owner_api.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["results"][0]["public_id"] == capture_form.public_id


def test_fields_are_validated(owner_api):
    error = assert_error(
        owner_api.post(URL, {"name": "X", "fields": [{"name": "password"}]}, format="json"), 400
    )
    assert "fields" in error["details"]
    error = assert_error(
        owner_api.post(URL, {"name": "X", "fields": [{"name": "phone"}]}, format="json"), 400
    )
    assert "email" in str(error["details"]["fields"])


def test_a_foreign_owner_is_rejected(owner_api, outsider, other_org):
    error = assert_error(
        owner_api.post(
            URL, {"name": "X", "fields": [{"name": "email"}], "owner": outsider.pk}, format="json"
        ),
        400,
    )
    assert "owner" in error["details"]


def test_update_and_delete(owner_api, capture_form):
    response = owner_api.patch(
        f"{URL}{capture_form.pk}/", {"is_active": False, "name": "Old"}, format="json"
    )
    assert response.status_code == 200
    capture_form.refresh_from_db()
    assert (capture_form.is_active, capture_form.name) == (False, "Old")
    assert_error(
        owner_api.patch(f"{URL}{capture_form.pk}/", {"public_id": "mine"}, format="json"), 400
    )
    assert owner_api.delete(f"{URL}{capture_form.pk}/").status_code == 204
    assert not CaptureForm.objects.exists()


def test_viewer_reads_but_cannot_write(viewer_api, capture_form):
    assert viewer_api.get(URL).status_code == 200
    assert_error(viewer_api.post(URL, {"name": "X", "fields": []}, format="json"), 403)
    assert_error(viewer_api.delete(f"{URL}{capture_form.pk}/"), 403)


def test_another_organizations_form_is_404(outsider_api, capture_form):
    assert_error(outsider_api.get(f"{URL}{capture_form.pk}/"), 404)
    assert outsider_api.get(URL).json()["count"] == 0


def test_needs_the_leads_scope(org, owner):
    client = key_client(org, owner, {"campaigns": "write"})
    assert_error(client.get(URL), 403, "insufficient_scope")


def test_list_query_count_is_pinned(owner_api, org, owner, django_assert_num_queries):
    for n in range(5):
        CaptureForm.objects.create(organization=org, name=f"Form {n}", owner=owner)
    owner_api.get(URL)  # the key's first use records last_used_at
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4):
        # credential; membership; count; forms
        response = owner_api.get(URL)
    assert response.json()["count"] == 5
