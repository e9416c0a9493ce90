"""The duplicates page, the lead merge screen and company merges in the browser."""

from __future__ import annotations

import pytest

from leads.models import Company, Lead
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(org, tail=""):
    return f"/o/{org.slug}/{tail}"


@pytest.fixture
def twins(org):
    acme = factories.make_company(org, name="Acme", domain="acme.example")
    first = factories.make_lead(
        org, first_name="Ada", last_name="King", email="ada@acme.example", company=acme
    )
    second = factories.make_lead(
        org, first_name="Ada", last_name="King", email="", title="CTO", company=acme
    )
    return first, second


def test_page_lists_lead_and_company_groups(owner_client, org, twins):
    factories.make_company(org, name="Globex, Inc.", domain="")
    factories.make_company(org, name="GLOBEX LLC", domain="globex.example")
    response = owner_client.get(url(org, "leads/duplicates/"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Duplicates · Acme Corp · Prospector</title>" in body
    assert "Same name and company" in body
    assert f"leads/{twins[0].pk}/merge/?other={twins[1].pk}" in body
    assert "Similar name" in body and "GLOBEX LLC" in body


def test_empty_page_explains(owner_client, org):
    body = owner_client.get(url(org, "leads/duplicates/")).content.decode()
    assert "No duplicate leads found" in body
    assert "No duplicate companies found" in body


def test_query_count_is_pinned(owner_client, org, twins, django_assert_num_queries):
    for n in range(3):
        factories.make_lead(org, email=f"p{n}@x.example", phone="+14155550199")
        factories.make_company(org, name=f"Dup {n} Inc", domain="")
        factories.make_company(org, name=f"Dup {n} LLC", domain="")
    # session, user, membership+org+plan, lead keys by email, by name, by phone, the leads
    # of those groups, company keys by domain, all company names, the grouped companies,
    # the switcher's memberships, the sidebar's saved views
    with django_assert_num_queries(12):
        response = owner_client.get(url(org, "leads/duplicates/"))
    assert response.status_code == 200
    assert response.content.decode().count("Merge into") >= 5


def test_merge_screen_shows_both_sides_with_sensible_defaults(owner_client, org, twins):
    first, second = twins
    response = owner_client.get(url(org, f"leads/{first.pk}/merge/?other={second.pk}"))
    assert response.status_code == 200
    body = response.content.decode()
    # The kept lead has no title: the other's is preselected.
    assert 'name="field_title" value="other" checked' in body
    assert 'name="field_email" value="keep" checked' in body
    assert 'type="hidden" name="field_first_name" value="keep"' in body


def test_merging_from_the_screen(member_client, org, twins):
    first, second = twins
    response = member_client.post(
        url(org, f"leads/{first.pk}/merge/"),
        {"other": second.pk, "field_title": "other", "field_email": "keep"},
    )
    assert response.status_code == 302
    assert response["Location"] == url(org, f"leads/{first.pk}/")
    assert not Lead.objects.filter(pk=second.pk).exists()
    first.refresh_from_db()
    assert first.title == "CTO"


def test_merging_a_lead_into_itself_is_refused_on_the_page(owner_client, org, twins):
    first = twins[0]
    response = owner_client.post(url(org, f"leads/{first.pk}/merge/"), {"other": first.pk})
    assert response.status_code == 200
    assert "cannot be merged into itself" in response.content.decode()


def test_htmx_gets_the_merge_fragment(owner_client, org, twins):
    response = owner_client.get(url(org, f"leads/{twins[0].pk}/merge/?other={twins[1].pk}"), **HTMX)
    assert b"<html" not in response.content
    assert b'id="merge"' in response.content


def test_merge_needs_another_lead_of_the_organization(owner_client, org, other_org, twins):
    foreign = factories.make_lead(other_org)
    first = twins[0]
    assert owner_client.get(url(org, f"leads/{first.pk}/merge/")).status_code == 404
    response = owner_client.post(url(org, f"leads/{first.pk}/merge/"), {"other": foreign.pk})
    assert response.status_code == 404
    assert Lead.objects.filter(pk=foreign.pk).exists()


def test_viewer_sees_but_cannot_merge(viewer_client, org, twins):
    first, second = twins
    assert viewer_client.get(url(org, "leads/duplicates/")).status_code == 200
    response = viewer_client.get(url(org, f"leads/{first.pk}/merge/?other={second.pk}"))
    assert b"Merge leads" not in response.content
    response = viewer_client.post(url(org, f"leads/{first.pk}/merge/"), {"other": second.pk})
    assert response.status_code == 403
    assert Lead.objects.filter(pk=second.pk).exists()
    company = first.company
    other = factories.make_company(org, name="Acme LLC", domain="")
    assert (
        viewer_client.post(url(org, f"companies/{company.pk}/merge/"), {"other": other.pk})
    ).status_code == 403


def test_company_merge_from_the_page(member_client, org):
    keep = factories.make_company(org, name="Globex", domain="globex.example")
    other = factories.make_company(org, name="Globex LLC", domain="")
    lead = factories.make_lead(org, company=other)
    response = member_client.post(url(org, f"companies/{keep.pk}/merge/"), {"other": other.pk})
    assert response.status_code == 302
    assert response["Location"] == url(org, "leads/duplicates/")
    assert not Company.objects.filter(pk=other.pk).exists()
    lead.refresh_from_db()
    assert lead.company_id == keep.pk


def test_outsider_gets_404(outsider_client, org, twins):
    assert outsider_client.get(url(org, "leads/duplicates/")).status_code == 404
    merge = url(org, f"leads/{twins[0].pk}/merge/?other={twins[1].pk}")
    assert outsider_client.get(merge).status_code == 404


def test_wrong_methods_are_405(owner_client, org, twins):
    assert owner_client.post(url(org, "leads/duplicates/")).status_code == 405
    company = twins[0].company
    assert owner_client.get(url(org, f"companies/{company.pk}/merge/")).status_code == 405
