"""Companies: the list (search, sort, pagination, lead counts) and a company's page (fields
edited in place, enrichment, its leads); roles and tenancy."""

from __future__ import annotations

import re

import pytest

from leads import services
from leads.models import Company
from leads.views.companies import COMPANIES_PER_PAGE
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme(org, owner):
    company = factories.make_company(org, name="Acme Rockets", domain="acme.example")
    for n in range(3):
        factories.make_lead(org, actor=owner, company=company, first_name=f"Person{n}")
    gone = factories.make_lead(org, actor=owner, company=company, first_name="Gone")
    services.archive_lead(lead=gone, actor=owner)
    return company


def _names(body: str) -> list[str]:
    return re.findall(r'<a class="strong" href="/o/[^/]+/companies/\d+/">([^<]+)</a>', body)


def test_list_shows_companies_with_active_lead_counts(member_client, org, acme):
    factories.make_company(org, name="Beta Labs")
    response = member_client.get(f"/o/{org.slug}/companies/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<title>Companies · {org.name} · Prospector</title>" in body
    assert _names(body) == ["Acme Rockets", "Beta Labs"]
    row = body.split(">Acme Rockets</a>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">3</td>' in row  # the archived lead is not counted


def test_list_searches_by_name_or_domain_and_sorts(member_client, org, acme):
    factories.make_company(org, name="Beta Labs", domain="betalabs.example")
    assert _names(member_client.get(f"/o/{org.slug}/companies/?q=betalabs").content.decode()) == [
        "Beta Labs"
    ]
    body = member_client.get(f"/o/{org.slug}/companies/?q=zzz").content.decode()
    assert "No company matches" in body
    body = member_client.get(f"/o/{org.slug}/companies/?sort=-leads").content.decode()
    assert _names(body) == ["Acme Rockets", "Beta Labs"]
    body = member_client.get(f"/o/{org.slug}/companies/?sort=-name").content.decode()
    assert _names(body) == ["Beta Labs", "Acme Rockets"]
    assert 'aria-sort="descending"' in body


def test_list_paginates(member_client, org):
    for n in range(COMPANIES_PER_PAGE + 3):
        factories.make_company(org, name=f"Co {n:03d}")
    body = member_client.get(f"/o/{org.slug}/companies/").content.decode()
    assert len(_names(body)) == COMPANIES_PER_PAGE
    assert "Page 1 of 2" in body
    body = member_client.get(f"/o/{org.slug}/companies/?page=2").content.decode()
    assert len(_names(body)) == 3


def test_empty_list_offers_import(member_client, org):
    body = member_client.get(f"/o/{org.slug}/companies/").content.decode()
    assert "No companies yet" in body and f'href="/o/{org.slug}/leads/import/"' in body


def test_htmx_search_gets_the_table_fragment(member_client, org, acme):
    response = member_client.get(f"/o/{org.slug}/companies/?q=acme", **HTMX)
    assert b"<html" not in response.content and b'id="companies"' in response.content


def test_company_page_shows_fields_leads_and_enrichment_state(member_client, org, acme):
    response = member_client.get(f"/o/{org.slug}/companies/{acme.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Person0" in body and "Gone" not in body
    assert "Not enriched yet" in body
    assert f'hx-get="/o/{org.slug}/companies/{acme.pk}/fields/industry/edit/"' in body
    assert not re.search(r"\sstyle=", body)
    Company.objects.filter(pk=acme.pk).update(
        enriched_data={"employees": 120, "technologies": ["Django", "Postgres"], "empty": ""}
    )
    body = member_client.get(f"/o/{org.slug}/companies/{acme.pk}/").content.decode()
    assert "Not enriched yet" not in body
    assert "Employees" in body and "Django, Postgres" in body


def test_fields_are_edited_in_place(member_client, org, acme):
    response = member_client.get(f"/o/{org.slug}/companies/{acme.pk}/fields/industry/edit/", **HTMX)
    assert response.status_code == 200 and b'name="industry"' in response.content
    response = member_client.post(
        f"/o/{org.slug}/companies/{acme.pk}/fields/industry/", {"industry": "Aerospace"}, **HTMX
    )
    assert response.status_code == 200
    assert b"Aerospace" in response.content and b"<form" not in response.content
    acme.refresh_from_db()
    assert acme.industry == "Aerospace"


def test_domain_is_normalized_and_must_be_unique(member_client, org, acme):
    factories.make_company(org, name="Other", domain="taken.example")
    response = member_client.post(
        f"/o/{org.slug}/companies/{acme.pk}/fields/domain/",
        {"domain": "https://www.Taken.example/about"},
        **HTMX,
    )
    assert "Another company already has this domain." in response.content.decode()
    acme.refresh_from_db()
    assert acme.domain == "acme.example"
    member_client.post(
        f"/o/{org.slug}/companies/{acme.pk}/fields/domain/",
        {"domain": "https://WWW.acme-rockets.co.uk/x"},
        **HTMX,
    )
    acme.refresh_from_db()
    assert acme.domain == "acme-rockets.co.uk"


def test_edit_page_without_javascript(member_client, org, acme):
    assert member_client.get(f"/o/{org.slug}/companies/{acme.pk}/edit/").status_code == 200
    response = member_client.post(
        f"/o/{org.slug}/companies/{acme.pk}/edit/",
        {"name": "Acme Rockets Inc", "domain": "acme.example", "size_range": "51-200"},
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.size_range) == ("Acme Rockets Inc", "51-200")


def test_viewer_reads_but_cannot_edit(viewer_client, org, acme):
    body = viewer_client.get(f"/o/{org.slug}/companies/{acme.pk}/").content.decode()
    assert "/fields/industry/edit/" not in body
    url = f"/o/{org.slug}/companies/{acme.pk}/fields/industry/"
    assert viewer_client.post(url, {"industry": "x"}).status_code == 403
    assert viewer_client.post(f"/o/{org.slug}/companies/{acme.pk}/edit/", {}).status_code == 403
    acme.refresh_from_db()
    assert acme.industry == ""


def test_outsider_gets_404(outsider_client, org, acme):
    assert outsider_client.get(f"/o/{org.slug}/companies/").status_code == 404
    assert outsider_client.get(f"/o/{org.slug}/companies/{acme.pk}/").status_code == 404


def test_another_organizations_company_is_404(owner_client, org, other_org):
    foreign = factories.make_company(other_org)
    assert owner_client.get(f"/o/{org.slug}/companies/{foreign.pk}/").status_code == 404


def test_wrong_methods(member_client, org, acme):
    assert member_client.post(f"/o/{org.slug}/companies/").status_code == 405
    assert member_client.post(f"/o/{org.slug}/companies/{acme.pk}/").status_code == 405
    assert member_client.post(f"/o/{org.slug}/companies/{acme.pk}/fields/nope/").status_code == 404


@pytest.mark.parametrize("count", [2, 30])
def test_list_query_count_does_not_grow(
    member_client, org, owner, count, django_assert_num_queries
):
    for _ in range(count):
        company = factories.make_company(org)
        factories.make_lead(org, actor=owner, company=company)
    member_client.get(f"/o/{org.slug}/companies/")
    # session, user, membership; count; the page of companies with lead counts (GROUP BY);
    # the sidebar's organizations and saved views.
    with django_assert_num_queries(7):
        member_client.get(f"/o/{org.slug}/companies/")


@pytest.mark.parametrize("count", [1, 30])
def test_company_page_query_count_does_not_grow(
    member_client, org, owner, count, django_assert_num_queries
):
    company = factories.make_company(org)
    for n in range(count):
        factories.make_lead(org, actor=owner, company=company, owner=owner, tags=[f"t{n}"])
    member_client.get(f"/o/{org.slug}/companies/{company.pk}/")
    # session, user, membership; the company; count of its leads; the page of leads with
    # owner and company; their tags; the sidebar's organizations and saved views.
    with django_assert_num_queries(9):
        member_client.get(f"/o/{org.slug}/companies/{company.pk}/")
