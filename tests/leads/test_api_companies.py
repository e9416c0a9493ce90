"""/api/v1/companies/: list, filters, create, read, change, delete and a company's leads."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services
from leads.models import Company, Lead, ScoringProfile
from tests import factories
from tests.accounts.api_support import assert_error, key_client

COMPANIES = "/api/v1/companies/"

COMPANY_KEYS = {
    "id",
    "name",
    "domain",
    "website",
    "industry",
    "size_range",
    "location",
    "description",
    "linkedin_url",
    "enriched_data",
    "external_ids",
    "lead_count",
    "created_at",
    "updated_at",
}


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_list_by_name_with_active_lead_counts(owner_api, org, owner, other_org):
    beta = factories.make_company(org, name="Beta")
    alpha = factories.make_company(org, name="alpha")
    factories.make_company(other_org, name="Foreign")
    factories.make_lead(org, company=beta)
    gone = factories.make_lead(org, company=beta)
    services.archive_lead(lead=gone, actor=owner)
    factories.make_lead(org, company=beta)

    body = owner_api.get(COMPANIES).json()
    assert body["count"] == 2
    rows = {row["id"]: row for row in body["results"]}
    assert set(rows[beta.pk]) == COMPANY_KEYS
    assert rows[beta.pk]["lead_count"] == 2
    assert rows[alpha.pk]["lead_count"] == 0


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(owner_api, org, rows, settings):
    settings.RATELIMIT_ENABLE = False
    for _ in range(rows):
        factories.make_lead(org, company=factories.make_company(org))
    owner_api.get(COMPANIES)
    with CaptureQueriesContext(connection) as queries:
        response = owner_api.get(COMPANIES + "?limit=100")
    assert len(response.json()["results"]) == rows
    # API key, membership, COUNT(*), the page with each lead count as a subquery
    assert len(queries) == 4


def test_filters_and_ordering(owner_api, org):
    a = factories.make_company(org, name="Anvil Co", industry="Manufacturing", size_range="11-50")
    b = factories.make_company(org, name="Bolt Inc", industry="Software", size_range="51-200")
    c = factories.make_company(org, name="Cog Ltd", domain="cog.co.uk", industry="software")
    assert _ids(owner_api.get(COMPANIES, {"q": "bolt"})) == [b.pk]
    assert _ids(owner_api.get(COMPANIES, {"q": "cog.co"})) == [c.pk]
    assert _ids(owner_api.get(COMPANIES, {"industry": "SOFTWARE"})) == [b.pk, c.pk]
    assert _ids(owner_api.get(COMPANIES + "?size=11-50&size=51-200")) == [a.pk, b.pk]
    assert _ids(owner_api.get(COMPANIES, {"domain": "https://www.cog.co.uk/about"})) == [c.pk]
    assert _ids(owner_api.get(COMPANIES, {"ordering": "-name"})) == [c.pk, b.pk, a.pk]
    assert_error(owner_api.get(COMPANIES, {"size": "huge"}), 400)
    assert_error(owner_api.get(COMPANIES, {"ordering": "lead_count"}), 400)


def test_create_normalizes_the_domain(owner_api, org):
    response = owner_api.post(
        COMPANIES,
        {"name": "Acme", "domain": "https://WWW.Acme.co.uk/about", "size_range": "11-50"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["domain"] == "acme.co.uk" and body["lead_count"] == 0
    assert Company.objects.get(pk=body["id"]).organization == org


def test_create_takes_the_domain_from_the_website(owner_api, org):
    body = owner_api.post(
        COMPANIES, {"name": "Initech", "website": "https://blog.initech.com/"}, format="json"
    ).json()
    assert body["domain"] == "initech.com"


def test_duplicate_domain_is_a_409_with_the_existing_id(owner_api, org, other_org):
    existing = factories.make_company(org, domain="acme.com")
    factories.make_company(other_org, domain="other.com")
    response = owner_api.post(COMPANIES, {"name": "Acme 2", "domain": "acme.com"}, format="json")
    assert assert_error(response, 409, "conflict")["details"]["existing_id"] == existing.pk
    # Another organization's domain is no conflict (and not revealed).
    assert (
        owner_api.post(COMPANIES, {"name": "O", "domain": "other.com"}, format="json").status_code
        == 201
    )


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "name"),
        ({"name": "A", "domain": "not a domain"}, "domain"),
        ({"name": "A", "size_range": "huge"}, "size_range"),
        ({"name": "A", "linkedin_url": "https://example.com/x"}, "linkedin_url"),
        ({"name": "A", "lead_count": 3}, "lead_count"),
        ({"name": "A", "enriched_data": {}}, "enriched_data"),
    ],
)
def test_create_validation(owner_api, org, payload, field):
    response = owner_api.post(COMPANIES, payload, format="json")
    assert field in assert_error(response, 400, "validation_error")["details"]
    assert not Company.objects.exists()


def test_retrieve_and_patch(owner_api, org):
    company = factories.make_company(org, name="Acme", domain="acme.com")
    assert owner_api.get(f"{COMPANIES}{company.pk}/").json()["name"] == "Acme"
    body = owner_api.patch(
        f"{COMPANIES}{company.pk}/",
        {"industry": "Anvils", "external_ids": {"hubspot": "9"}},
        format="json",
    ).json()
    assert body["industry"] == "Anvils" and body["domain"] == "acme.com"
    assert body["external_ids"] == {"hubspot": "9"}
    body = owner_api.patch(
        f"{COMPANIES}{company.pk}/", {"external_ids": {"hubspot": None}}, format="json"
    ).json()
    assert body["external_ids"] == {}


def test_patch_to_a_taken_domain_is_a_409(owner_api, org):
    taken = factories.make_company(org, domain="taken.com")
    company = factories.make_company(org, domain="mine.com")
    response = owner_api.patch(f"{COMPANIES}{company.pk}/", {"domain": "taken.com"}, format="json")
    assert assert_error(response, 409)["details"]["existing_id"] == taken.pk
    company.refresh_from_db()
    assert company.domain == "mine.com"


def test_put_needs_a_name(owner_api, org):
    company = factories.make_company(org)
    response = owner_api.put(f"{COMPANIES}{company.pk}/", {"industry": "x"}, format="json")
    assert "name" in assert_error(response, 400)["details"]


def test_changing_a_scored_field_rescores_its_leads(owner_api, org):
    ScoringProfile.objects.update_or_create(
        organization=org, defaults={"industries": ["Software"], "weights": {"industry": 100}}
    )
    company = factories.make_company(org, industry="Mining")
    lead = factories.make_lead(org, company=company)
    owner_api.patch(f"{COMPANIES}{company.pk}/", {"industry": "Software"}, format="json")
    lead.refresh_from_db()
    assert lead.score > 0


def test_delete_only_without_leads(owner_api, org, owner):
    empty = factories.make_company(org)
    assert owner_api.delete(f"{COMPANIES}{empty.pk}/").status_code == 204
    assert not Company.objects.filter(pk=empty.pk).exists()

    busy = factories.make_company(org)
    lead = factories.make_lead(org, company=busy)
    services.archive_lead(lead=lead, actor=owner)
    response = owner_api.delete(f"{COMPANIES}{busy.pk}/")
    assert assert_error(response, 409, "conflict")["details"]["lead_count"] == 1
    assert Company.objects.filter(pk=busy.pk).exists()


def test_a_companys_leads(owner_api, org, owner):
    company = factories.make_company(org)
    a = factories.make_lead(org, company=company, score=10)
    b = factories.make_lead(org, company=company, score=90)
    gone = factories.make_lead(org, company=company)
    services.archive_lead(lead=gone, actor=owner)
    factories.make_lead(org)
    url = f"{COMPANIES}{company.pk}/leads/"
    body = owner_api.get(url).json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [b.pk, a.pk]
    assert body["results"][0]["company"]["id"] == company.pk
    assert _ids(owner_api.get(url, {"ordering": "score"})) == [a.pk, b.pk]
    assert len(_ids(owner_api.get(url, {"include_archived": "true"}))) == 3
    assert_error(owner_api.get(url, {"ordering": "email"}), 400)


def test_another_organizations_company_is_a_404(owner_api, other_org):
    foreign = factories.make_company(other_org)
    for method in ("get", "patch", "put", "delete"):
        response = getattr(owner_api, method)(f"{COMPANIES}{foreign.pk}/", {}, format="json")
        assert_error(response, 404)
    assert_error(owner_api.get(f"{COMPANIES}{foreign.pk}/leads/"), 404)
    assert Company.objects.filter(pk=foreign.pk).exists()


def test_viewer_reads_but_cannot_write(viewer_api, org):
    company = factories.make_company(org)
    assert viewer_api.get(COMPANIES).status_code == 200
    assert viewer_api.get(f"{COMPANIES}{company.pk}/leads/").status_code == 200
    assert_error(viewer_api.post(COMPANIES, {"name": "X"}, format="json"), 403)
    assert_error(viewer_api.patch(f"{COMPANIES}{company.pk}/", {"name": "Y"}, format="json"), 403)
    assert_error(viewer_api.delete(f"{COMPANIES}{company.pk}/"), 403)
    assert Company.objects.filter(pk=company.pk, name=company.name).exists()


def test_scopes(org, owner):
    assert_error(
        key_client(org, owner, {"agents": "write"}).get(COMPANIES), 403, "insufficient_scope"
    )
    reader = key_client(org, owner, {"leads": "read"})
    assert reader.get(COMPANIES).status_code == 200
    assert_error(reader.post(COMPANIES, {"name": "X"}, format="json"), 403, "insufficient_scope")
    assert not Lead.objects.exists() and not Company.objects.exists()
