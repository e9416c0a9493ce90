"""Lead exports: streamed CSV and JSON of the list's filter (`leads:export`)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db.models.query import QuerySet
from django.http import StreamingHttpResponse

from leads import exports, services
from leads.models import CustomFieldDefinition
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(org, query=""):
    return f"/o/{org.slug}/leads/export/{query}"


def body_of(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode("utf-8")


def parse_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def leads(org, owner):
    CustomFieldDefinition.objects.create(organization=org, key="budget", label="Budget")
    company = factories.make_company(org, name="Acme GmbH", domain="acme.de")
    ada = factories.make_lead(
        org,
        first_name="Ada",
        email="ada@acme.de",
        company=company,
        owner=owner,
        tags=["vip", "Berlin"],
        custom_fields={"budget": "5000"},
        source="web",
    )
    bob = factories.make_lead(org, first_name='=HYPERLINK("http://evil")', source="event")
    return ada, bob


def test_csv_export_has_every_column_and_neutralizes_formulas(owner_client, org, owner, leads):
    ada, bob = leads
    response = owner_client.get(url(org, "?format=csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="leads-{org.slug}-')
    rows = parse_csv(body_of(response))
    assert [r["id"] for r in rows] == [str(ada.pk), str(bob.pk)]
    first = rows[0]
    assert first["company_name"] == "Acme GmbH"
    assert first["company_domain"] == "acme.de"
    assert first["owner_email"] == owner.email
    assert first["tags"] == "Berlin, vip"
    assert first["custom.budget"] == "5000"
    assert first["status"] == "new"
    assert rows[1]["first_name"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+2", "'=1+2"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ada", "Ada"),
        ("a=b", "a=b"),
        (42, 42),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralized(value, expected):
    assert exports.neutralize(value) == expected


def test_export_follows_the_list_filters(owner_client, org, leads):
    ada, _bob = leads
    rows = parse_csv(body_of(owner_client.get(url(org, "?format=csv&tag=vip&page=3"))))
    assert [r["email"] for r in rows] == [ada.email]
    rows = parse_csv(body_of(owner_client.get(url(org, "?source=event"))))
    assert len(rows) == 1 and rows[0]["source"] == "event"


def test_archived_leads_only_when_asked(owner_client, org, owner, leads):
    services.archive_lead(lead=leads[1], actor=owner)
    assert len(parse_csv(body_of(owner_client.get(url(org))))) == 1
    assert len(parse_csv(body_of(owner_client.get(url(org, "?include_archived=true"))))) == 2


def test_json_export_is_a_streamed_array(owner_client, org, leads):
    ada, _bob = leads
    response = owner_client.get(url(org, "?format=json"))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith('.json"')
    data = json.loads(body_of(response))
    assert [row["id"] for row in data] == [ada.pk, leads[1].pk]
    assert data[0]["tags"] == ["Berlin", "vip"]
    assert data[0]["custom_fields"] == {"budget": "5000"}
    assert data[0]["company_domain"] == "acme.de"


def test_an_empty_export_is_valid(owner_client, org):
    assert json.loads(body_of(owner_client.get(url(org, "?format=json")))) == []
    assert parse_csv(body_of(owner_client.get(url(org)))) == []


def test_unknown_format_is_a_400(owner_client, org):
    assert owner_client.get(url(org, "?format=xlsx")).status_code == 400


def test_the_query_is_read_in_chunks(org, monkeypatch, django_assert_num_queries):
    seen = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        seen.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    for _ in range(5):
        factories.make_lead(org, tags=["x"])
    # custom field keys, the leads (one cursor), tags for each chunk of 2 (3 chunks)
    with django_assert_num_queries(5):
        rows = parse_csv("".join(exports.csv_chunks(_qs(org), org)))
    assert len(rows) == 5
    assert seen == [2]


def _qs(org):
    from leads.models import Lead

    return Lead.objects.for_org(org)


def test_production_chunk_size_is_2000():
    assert exports.CHUNK_SIZE == 2000


def test_another_organizations_leads_are_never_exported(owner_client, org, other_org):
    factories.make_lead(other_org, email="secret@other.example")
    assert "secret@other.example" not in body_of(owner_client.get(url(org)))


def test_viewers_may_export(viewer_client, org, leads):
    assert len(parse_csv(body_of(viewer_client.get(url(org))))) == 2


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(url(org)).status_code == 404


def test_post_is_405(owner_client, org):
    assert owner_client.post(url(org)).status_code == 405
