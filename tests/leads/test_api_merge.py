"""`POST /api/v1/leads/{id}/merge/`."""

from __future__ import annotations

import pytest

from leads.models import Activity, ActivityKind, Lead
from tests import factories
from tests.accounts.api_support import assert_error


def url(lead):
    return f"/api/v1/leads/{lead.pk}/merge/"


@pytest.fixture
def pair(org):
    keep = factories.make_lead(org, first_name="Ada", title="")
    other = factories.make_lead(org, first_name="Adeline", title="CTO", tags=["vip"])
    return keep, other


def test_merge(owner_api, org, pair):
    keep, other = pair
    response = owner_api.post(
        url(keep), {"other_id": other.pk, "fields": {"title": "other"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["id"] == keep.pk
    assert data["title"] == "CTO"
    assert data["first_name"] == "Ada"
    assert "vip" in str(data["tags"])
    assert not Lead.objects.filter(pk=other.pk).exists()
    assert Activity.objects.filter(lead=keep, kind=ActivityKind.MERGE).exists()


def test_without_slash_too(owner_api, pair):
    keep, other = pair
    response = owner_api.post(url(keep).rstrip("/"), {"other_id": other.pk}, format="json")
    assert response.status_code == 200


def test_merging_into_itself_is_400(owner_api, pair):
    keep = pair[0]
    error = assert_error(owner_api.post(url(keep), {"other_id": keep.pk}, format="json"), 400)
    assert "other_id" in error["details"]


def test_bad_choices_are_400(owner_api, pair):
    keep, other = pair
    body = {"other_id": other.pk, "fields": {"score": "other"}}
    assert_error(owner_api.post(url(keep), body, format="json"), 400, "validation_error")
    body = {"other_id": other.pk, "fields": {"title": "mine"}}
    assert_error(owner_api.post(url(keep), body, format="json"), 400, "validation_error")
    assert_error(owner_api.post(url(keep), {}, format="json"), 400)


def test_foreign_ids_are_404(owner_api, org, other_org, pair):
    foreign = factories.make_lead(other_org)
    keep = pair[0]
    assert_error(owner_api.post(url(keep), {"other_id": foreign.pk}, format="json"), 404)
    assert_error(owner_api.post(url(foreign), {"other_id": keep.pk}, format="json"), 404)
    assert Lead.objects.filter(pk=foreign.pk).exists()


def test_viewer_cannot_merge(viewer_api, pair):
    keep, other = pair
    assert_error(viewer_api.post(url(keep), {"other_id": other.pk}, format="json"), 403)
    assert Lead.objects.filter(pk=other.pk).exists()


def test_get_is_405(owner_api, pair):
    assert_error(owner_api.get(url(pair[0])), 405)
