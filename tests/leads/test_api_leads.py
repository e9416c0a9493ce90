"""/api/v1/leads/: list, filters, ordering, pagination, create, read, change, archive, restore."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Event
from leads import services
from leads.api.leads import LeadPagination
from leads.api.serializers import read_lead
from leads.models import Activity, ActivityKind, Company, CustomFieldDefinition, FieldType, Lead
from tests import factories
from tests.accounts.api_support import assert_error, key_client

LEADS = "/api/v1/leads/"

LEAD_KEYS = {
    "id",
    "first_name",
    "last_name",
    "display_name",
    "email",
    "phone",
    "phone_raw",
    "title",
    "linkedin_url",
    "location",
    "source",
    "status",
    "score",
    "score_explanation",
    "owner",
    "tags",
    "company",
    "custom_fields",
    "external_ids",
    "enriched_data",
    "archived_at",
    "converted_at",
    "last_contacted_at",
    "created_at",
    "updated_at",
}


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# ---------------------------------------------------------------- list


def test_list_shows_the_lead_json_newest_first(owner_api, org, owner):
    company = factories.make_company(
        org, name="Acme", domain="acme.com", enriched_data={"summary": "Anvils"}
    )
    older = factories.make_lead(org, first_name="Ada", last_name="Lovelace", tags=["vip", "b2b"])
    older.created_at = timezone.now() - timedelta(days=1)
    older.save(update_fields=["created_at"])
    newer = factories.make_lead(org, email="grace@acme.com", company=company, owner=owner)

    body = owner_api.get(LEADS).json()

    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    first, second = body["results"]
    assert set(first) == LEAD_KEYS
    assert first["company"] == {"id": company.pk, "name": "Acme", "domain": "acme.com"}
    assert first["enriched_data"] == {"summary": "Anvils"}
    assert first["owner"] == {"id": owner.pk, "email": owner.email, "name": "Olivia Owner"}
    assert first["display_name"] == newer.display_name
    assert second["tags"] == ["b2b", "vip"]
    assert second["display_name"] == "Ada Lovelace"
    assert second["owner"] is None
    assert second["created_at"].endswith("Z")


def test_list_leaves_out_other_organizations(owner_api, org, other_org):
    mine = factories.make_lead(org)
    factories.make_lead(other_org)
    assert _ids(owner_api.get(LEADS)) == [mine.pk]


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LEADS + "?limit=100")
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(owner_api, org, owner, rows, settings):
    settings.RATELIMIT_ENABLE = False
    company = factories.make_company(org)
    for n in range(rows):
        factories.make_lead(org, company=company, owner=owner, tags=[f"t{n % 3}", "all"])
    owner_api.get(LEADS)  # the key's last_used_at is written once a minute: not here
    # API key, membership, then the page of rows (company and owner joined, tags from a
    # subquery) with its count from the maintained per-status counts (leads.counts) in the
    # same query
    assert _list_queries(owner_api) == 3
    assert len(owner_api.get(LEADS + "?limit=100").json()["results"]) == rows


def test_list_rows_are_the_lead_json_of_each_lead(owner_api, org, owner):
    """The list's rows (written by PostgreSQL on PostgreSQL) equal the lead JSON that
    reading one lead answers, for awkward values too, key order included."""
    company = factories.make_company(
        org, name="Ünïcode “Co”", enriched_data={"summary": "Línea\u2028two", "n": 1.5}
    )
    bare = factories.make_company(org, name="Bare")
    leads = [
        factories.make_lead(
            org,
            first_name="Zoë",
            last_name='O\'Brien \\ "Q"',
            company=company,
            owner=owner,
            tags=["b", "Straße", "A", "ss", "émoji 🎉"],
            custom_fields={},
            external_ids={"hubspot": "1\n2", "crm": "x\u2029y"},
        ),
        factories.make_lead(org, first_name="", last_name="", email="only@mail.example"),
        factories.make_lead(org, first_name="Solo", last_name="", company=bare),
        factories.make_lead(org, first_name=" ", last_name="Space", email=""),
    ]
    nameless = factories.make_lead(org, first_name="", last_name="", email="")
    Lead.objects.filter(pk=leads[0].pk).update(
        score=42,
        score_explanation=[{"rule": "Title", "points": 42, "matched": True}],
        converted_at=timezone.now().replace(microsecond=0),
        last_contacted_at=timezone.now().replace(microsecond=7),
    )
    Lead.objects.filter(pk=leads[1].pk).update(created_at=timezone.now().replace(microsecond=0))
    leads.append(nameless)

    for params in ({}, {"ordering": "-score,last_name"}, {"status": "new", "limit": 3}):
        response = owner_api.get(LEADS, params)
        assert response.status_code == 200
        body = response.json()
        assert list(body) == ["count", "next", "previous", "results"]
        assert body["count"] == 5
        expected = [read_lead(org, row["id"]) for row in body["results"]]
        assert body["results"] == expected
        assert [list(row) for row in body["results"]] == [list(row) for row in expected]
        assert len(body["results"]) == params.get("limit", 5)
    rows = {row["id"]: row for row in owner_api.get(LEADS).json()["results"]}
    assert rows[leads[0].pk]["tags"] == ["A", "b", "ss", "Straße", "émoji 🎉"]
    assert rows[leads[1].pk]["display_name"] == "only@mail.example"
    assert rows[leads[3].pk]["display_name"] == "  Space"
    assert rows[nameless.pk]["display_name"] == f"Lead #{nameless.pk}"
    assert rows[leads[2].pk]["enriched_data"] == {}
    assert rows[leads[1].pk]["company"] is None and rows[leads[1].pk]["enriched_data"] == {}
    assert rows[leads[1].pk]["created_at"].endswith("Z")
    assert "." not in rows[leads[1].pk]["created_at"]  # no microseconds: none written
    assert "." in rows[leads[0].pk]["last_contacted_at"]
    # JavaScript's line separators are escaped, as DRF's renderer does.
    assert "\u2028" not in owner_api.get(LEADS).content.decode()


def test_an_empty_page_still_has_the_count_and_links(owner_api, org):
    for _ in range(3):
        factories.make_lead(org)
    body = owner_api.get(LEADS, {"offset": 10, "limit": 2}).json()
    assert body["count"] == 3 and body["results"] == [] and body["next"] is None
    assert "offset=8" in body["previous"]
    assert owner_api.get(LEADS, {"status": "lost"}).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_the_list_folds_piled_up_counts(owner_api, org, monkeypatch):
    from leads import counts
    from leads.models import LeadCount

    monkeypatch.setattr("leads.api.leads.COMPACT_FROM", 3)
    for _ in range(5):
        factories.make_lead(org)
    assert LeadCount.objects.filter(organization=org).count() > 3
    assert owner_api.get(LEADS).json()["count"] == 5
    assert LeadCount.objects.filter(organization=org).count() == 1
    assert counts.status_counts(org.pk) == {"new": 5}


# ---------------------------------------------------------------- filters


def test_filters_by_status_owner_tag_source_and_score(owner_api, org, owner, member):
    a = factories.make_lead(org, owner=owner, tags=["VIP"], source="web", score=80)
    b = factories.make_lead(org, owner=member, source="event", score=20)
    c = factories.make_lead(org, tags=["cold"], score=50)
    services.set_status(lead=c, status="qualified", actor=owner)

    assert _ids(owner_api.get(LEADS, {"status": "qualified"})) == [c.pk]
    assert set(_ids(owner_api.get(LEADS + "?status=new&status=qualified"))) == {a.pk, b.pk, c.pk}
    assert _ids(owner_api.get(LEADS, {"owner": member.pk})) == [b.pk]
    assert set(_ids(owner_api.get(LEADS, {"tag": "vip,cold"}))) == {a.pk, c.pk}
    assert _ids(owner_api.get(LEADS, {"source": "WEB"})) == [a.pk]
    assert _ids(owner_api.get(LEADS, {"score_min": 60})) == [a.pk]
    assert _ids(owner_api.get(LEADS, {"score_max": 30})) == [b.pk]
    assert set(_ids(owner_api.get(LEADS, {"score_min": 20, "score_max": 50}))) == {b.pk, c.pk}


def test_filters_by_text_and_dates(owner_api, org):
    company = factories.make_company(org, name="Initech")
    ada = factories.make_lead(org, first_name="Ada", last_name="Lovelace", company=company)
    old = factories.make_lead(org, first_name="Bob")
    Lead.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=30),
        updated_at=timezone.now() - timedelta(days=30),
    )
    assert _ids(owner_api.get(LEADS, {"q": "ada love"})) == [ada.pk]
    assert _ids(owner_api.get(LEADS, {"q": "initech"})) == [ada.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert _ids(owner_api.get(LEADS, {"created_after": since})) == [ada.pk]
    assert _ids(owner_api.get(LEADS, {"updated_after": since})) == [ada.pk]


def test_archived_leads_only_with_include_archived(owner_api, org, owner):
    kept = factories.make_lead(org)
    gone = factories.make_lead(org)
    services.archive_lead(lead=gone, actor=owner)
    assert _ids(owner_api.get(LEADS)) == [kept.pk]
    assert set(_ids(owner_api.get(LEADS, {"include_archived": "true"}))) == {kept.pk, gone.pk}


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "sleeping"}, "status"),
        ({"score_min": "lots"}, "score_min"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"owner": "999999"}, "owner"),
        ({"ordering": "password"}, "ordering"),
        ({"limit": "-1"}, "limit"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(owner_api, org, params, field):
    error = assert_error(owner_api.get(LEADS, params), 400, "validation_error")
    assert field in error["details"]


def test_another_organizations_member_is_not_an_owner_filter(owner_api, org, outsider):
    error = assert_error(owner_api.get(LEADS, {"owner": outsider.pk}), 400)
    assert "owner" in error["details"]


# ---------------------------------------------------------------- ordering and pages


def test_ordering_by_score_and_name(owner_api, org):
    low = factories.make_lead(org, last_name="Zed", score=10)
    high = factories.make_lead(org, last_name="Abe", score=90)
    mid = factories.make_lead(org, last_name="Moe", score=50)
    assert _ids(owner_api.get(LEADS, {"ordering": "-score"})) == [high.pk, mid.pk, low.pk]
    assert _ids(owner_api.get(LEADS, {"ordering": "score"})) == [low.pk, mid.pk, high.pk]
    assert _ids(owner_api.get(LEADS, {"ordering": "last_name"})) == [high.pk, mid.pk, low.pk]
    assert _ids(owner_api.get(LEADS, {"ordering": "created_at"})) == [low.pk, high.pk, mid.pk]


def test_ties_are_broken_by_id_so_pages_do_not_overlap(owner_api, org):
    leads = [factories.make_lead(org, score=5) for _ in range(5)]
    seen = []
    for offset in range(0, 5, 2):
        seen += _ids(owner_api.get(LEADS, {"ordering": "score", "limit": 2, "offset": offset}))
    assert sorted(seen) == sorted(lead.pk for lead in leads)


def test_limit_and_offset_pages(owner_api, org):
    leads = [factories.make_lead(org) for _ in range(5)]
    newest_first = [lead.pk for lead in reversed(leads)]
    body = owner_api.get(LEADS, {"limit": 2, "offset": 2}).json()
    assert body["count"] == 5
    assert [row["id"] for row in body["results"]] == newest_first[2:4]
    assert "offset=4" in body["next"] and "limit=2" in body["next"]
    assert body["previous"]


def test_big_counts_are_cached_briefly_small_ones_never(owner_api, org, monkeypatch):
    web = {"source": "web"}
    for _ in range(3):
        factories.make_lead(org, source="web")
    assert owner_api.get(LEADS, web).json()["count"] == 3
    factories.make_lead(org, source="web")
    assert owner_api.get(LEADS, web).json()["count"] == 4  # below the threshold: exact

    monkeypatch.setattr(LeadPagination, "COUNT_CACHE_FROM", 4)
    assert owner_api.get(LEADS, web).json()["count"] == 4
    factories.make_lead(org, source="web")
    body = owner_api.get(LEADS, web).json()
    assert body["count"] == 4  # from the cache for a few seconds
    assert len(body["results"]) == 5  # the rows are always current
    # Another filter set is counted on its own.
    assert owner_api.get(LEADS, {"source": "web", "score_max": 100}).json()["count"] == 5


def test_unfiltered_and_status_counts_are_exact_at_once(owner_api, org, owner, monkeypatch):
    """No filter, or status only: the count comes from the maintained per-status counts,
    never from the cache, so it is exact right after a change."""
    monkeypatch.setattr(LeadPagination, "COUNT_CACHE_FROM", 1)
    leads = [factories.make_lead(org) for _ in range(3)]
    assert owner_api.get(LEADS).json()["count"] == 3
    services.set_status(lead=leads[0], status="qualified", actor=owner)
    factories.make_lead(org)
    assert owner_api.get(LEADS).json()["count"] == 4
    assert owner_api.get(LEADS, {"status": "new"}).json()["count"] == 3
    assert owner_api.get(LEADS + "?status=new&status=qualified").json()["count"] == 4
    services.archive_lead(lead=leads[1], actor=owner)
    assert owner_api.get(LEADS, {"status": "new"}).json()["count"] == 2
    assert owner_api.get(LEADS, {"include_archived": "true"}).json()["count"] == 4
    # An invalid status is a 400, not a count of nothing.
    assert owner_api.get(LEADS, {"status": "nope"}).status_code == 400


# ---------------------------------------------------------------- create


def test_create_normalizes_and_records(owner_api, org, owner, member):
    payload = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": " Ada@Analytical-Engines.com ",
        "phone": "+1 (415) 555-0123",
        "title": "Countess",
        "linkedin_url": "https://www.linkedin.com/in/ada",
        "location": "London",
        "source": "api",
        "company": "Analytical Engines",
        "owner_id": member.pk,
        "tags": ["VIP", " founders  club "],
        "external_ids": {"hubspot": "123"},
    }
    response = owner_api.post(LEADS, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == LEAD_KEYS
    assert body["email"] == "ada@analytical-engines.com"
    assert body["phone"] == "+14155550123"
    assert body["phone_raw"] == "+1 (415) 555-0123"
    assert body["company"]["name"] == "Analytical Engines"
    assert body["company"]["domain"] == "analytical-engines.com"
    assert body["owner"]["id"] == member.pk
    assert body["tags"] == ["founders club", "VIP"]
    assert body["external_ids"] == {"hubspot": "123"}
    assert body["status"] == "new"
    lead = Lead.objects.get(pk=body["id"])
    assert lead.organization == org
    activity = Activity.objects.get(lead=lead)
    assert activity.kind == ActivityKind.CREATED and activity.actor == owner
    assert Event.objects.filter(organization=org, type="lead.created").exists()


def test_create_phone_in_e164_when_it_parses(owner_api, org):
    body = owner_api.post(
        LEADS, {"email": "p@x.example", "phone": "+44 20 7946 0958"}, format="json"
    ).json()
    assert body["phone"] == "+442079460958"
    body = owner_api.post(LEADS, {"email": "q@x.example", "phone": "ext. 12"}, format="json").json()
    assert body["phone"] == "" and body["phone_raw"] == "ext. 12"


def test_create_matches_an_existing_company_by_name(owner_api, org):
    company = factories.make_company(org, name="Initech", domain="")
    body = owner_api.post(
        LEADS, {"first_name": "Peter", "company": "INITECH"}, format="json"
    ).json()
    assert body["company"]["id"] == company.pk
    assert Company.objects.for_org(org).count() == 1


def test_create_with_company_id_and_status(owner_api, org):
    company = factories.make_company(org)
    body = owner_api.post(
        LEADS,
        {"email": "x@gmail.com", "company_id": company.pk, "status": "qualified"},
        format="json",
    ).json()
    assert body["company"]["id"] == company.pk
    assert body["status"] == "qualified"


def test_create_with_an_empty_company_has_none(owner_api, org):
    body = owner_api.post(LEADS, {"email": "x@acme-widgets.com", "company": ""}, format="json")
    assert body.json()["company"] is None
    body = owner_api.post(LEADS, {"email": "y@acme-widgets.com"}, format="json").json()
    assert body["company"]["domain"] == "acme-widgets.com"


def test_create_refuses_another_organizations_company_and_owner(
    owner_api, org, other_org, outsider
):
    foreign = factories.make_company(other_org)
    response = owner_api.post(
        LEADS, {"email": "a@b.example", "company_id": foreign.pk}, format="json"
    )
    assert list(assert_error(response, 400, "validation_error")["details"]) == ["company_id"]
    response = owner_api.post(
        LEADS, {"email": "a@b.example", "owner_id": outsider.pk}, format="json"
    )
    assert list(assert_error(response, 400)["details"]) == ["owner_id"]
    assert not Lead.objects.for_org(org).exists()
    assert Lead.objects.filter(company=foreign).count() == 0


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"email": "not an email"}, "email"),
        ({"email": "a@b.example", "linkedin_url": "https://evil.example/in/x"}, "linkedin_url"),
        ({"email": "a@b.example", "linkedin_url": "linkedin"}, "linkedin_url"),
        ({"email": "a@b.example", "status": "sleeping"}, "status"),
        ({"email": "a@b.example", "score": 99}, "score"),
        ({"email": "a@b.example", "favourite_colour": "blue"}, "favourite_colour"),
        ({"email": "a@b.example", "tags": "vip"}, "tags"),
        ({"email": "a@b.example", "custom_fields": {"budget": 5}}, "custom_fields"),
        ({"email": "a@b.example", "external_ids": ["x"]}, "external_ids"),
        ({"email": "a@b.example", "external_ids": {"x": "a\x00b"}}, "external_ids"),
        ({"first_name": 12}, "first_name"),
        ({"title": "CEO"}, "email"),
    ],
)
def test_create_validation_errors_name_the_field(owner_api, org, payload, field):
    response = owner_api.post(LEADS, payload, format="json")
    error = assert_error(response, 400, "validation_error")
    assert field in error["details"], error
    assert not Lead.objects.exists()


def test_company_and_company_id_together_are_refused(owner_api, org):
    company = factories.make_company(org)
    response = owner_api.post(
        LEADS, {"email": "a@b.example", "company": "A", "company_id": company.pk}, format="json"
    )
    assert "company" in assert_error(response, 400)["details"]


def test_custom_fields_follow_their_definitions(owner_api, org):
    CustomFieldDefinition.objects.create(
        organization=org, key="budget", label="Budget", field_type=FieldType.NUMBER
    )
    CustomFieldDefinition.objects.create(
        organization=org,
        key="tier",
        label="Tier",
        field_type=FieldType.CHOICE,
        choices=["gold", "silver"],
    )
    bad = owner_api.post(
        LEADS, {"email": "a@b.example", "custom_fields": {"budget": "lots"}}, format="json"
    )
    assert "budget" in assert_error(bad, 400)["details"]["custom_fields"][0]
    bad = owner_api.post(
        LEADS, {"email": "a@b.example", "custom_fields": {"tier": "bronze"}}, format="json"
    )
    assert "gold" in assert_error(bad, 400)["details"]["custom_fields"][0]
    body = owner_api.post(
        LEADS,
        {"email": "a@b.example", "custom_fields": {"budget": 5000, "tier": "gold"}},
        format="json",
    ).json()
    assert body["custom_fields"] == {"budget": 5000, "tier": "gold"}


def test_duplicate_email_is_a_409_with_the_existing_id(owner_api, org):
    existing = factories.make_lead(org, email="ada@example.com")
    response = owner_api.post(LEADS, {"email": "ADA@example.com"}, format="json")
    error = assert_error(response, 409, "conflict")
    assert error["details"]["existing_id"] == existing.pk
    assert Lead.objects.count() == 1


def test_an_archived_leads_email_can_be_used_again(owner_api, org, owner):
    old = factories.make_lead(org, email="ada@example.com")
    services.archive_lead(lead=old, actor=owner)
    response = owner_api.post(LEADS, {"email": "ada@example.com"}, format="json")
    assert response.status_code == 201


# ---------------------------------------------------------------- retrieve


def test_retrieve_including_archived(owner_api, org, owner):
    lead = factories.make_lead(org, tags=["vip"])
    services.archive_lead(lead=lead, actor=owner)
    body = owner_api.get(f"{LEADS}{lead.pk}/").json()
    assert body["id"] == lead.pk and body["tags"] == ["vip"]
    assert body["archived_at"] is not None


def test_another_organizations_lead_is_a_404(owner_api, other_org):
    foreign = factories.make_lead(other_org)
    for method in ("get", "patch", "put", "delete"):
        response = getattr(owner_api, method)(f"{LEADS}{foreign.pk}/", {}, format="json")
        assert_error(response, 404, "not_found")
    assert_error(owner_api.post(f"{LEADS}{foreign.pk}/restore/"), 404)
    assert_error(owner_api.get(f"{LEADS}{foreign.pk}/activities/"), 404)
    foreign.refresh_from_db()
    assert foreign.archived_at is None


def test_a_non_numeric_id_is_a_404(owner_api, org):
    assert_error(owner_api.get(f"{LEADS}abc/"), 404)


# ---------------------------------------------------------------- update


def test_patch_changes_fields_through_the_timeline(owner_api, org, owner):
    lead = factories.make_lead(org, first_name="Ada", tags=["old", "keep"])
    response = owner_api.patch(
        f"{LEADS}{lead.pk}/",
        {"title": "CTO", "status": "converted", "tags": ["keep", "new"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "CTO" and body["status"] == "converted"
    assert body["converted_at"] is not None
    assert body["tags"] == ["keep", "new"]
    assert body["first_name"] == "Ada"
    kinds = list(Activity.objects.for_lead(lead).values_list("kind", "data"))
    assert (ActivityKind.STATUS_CHANGE, {"from": "new", "to": "converted"}) in kinds
    assert (ActivityKind.FIELD_CHANGE, {"changes": {"title": ["", "CTO"]}}) in kinds
    assert Event.objects.filter(type="lead.status_changed").count() == 1


def test_patch_company_and_owner(owner_api, org, member):
    lead = factories.make_lead(org, email="x@gmail.com")
    company = factories.make_company(org)
    body = owner_api.patch(
        f"{LEADS}{lead.pk}/", {"company_id": company.pk, "owner_id": member.pk}, format="json"
    ).json()
    assert body["company"]["id"] == company.pk and body["owner"]["id"] == member.pk
    body = owner_api.patch(
        f"{LEADS}{lead.pk}/", {"company": "Brand New", "owner_id": None}, format="json"
    ).json()
    assert body["company"]["name"] == "Brand New" and body["owner"] is None
    body = owner_api.patch(f"{LEADS}{lead.pk}/", {"company_id": None}, format="json").json()
    assert body["company"] is None


def test_patch_refuses_foreign_company_and_owner(owner_api, org, other_org, outsider):
    lead = factories.make_lead(org)
    foreign = factories.make_company(other_org)
    response = owner_api.patch(f"{LEADS}{lead.pk}/", {"company_id": foreign.pk}, format="json")
    assert "company_id" in assert_error(response, 400)["details"]
    response = owner_api.patch(f"{LEADS}{lead.pk}/", {"owner_id": outsider.pk}, format="json")
    assert "owner_id" in assert_error(response, 400)["details"]
    lead.refresh_from_db()
    assert lead.company_id != foreign.pk and lead.owner_id is None


def test_patch_merges_custom_fields_and_put_replaces(owner_api, org):
    for key in ("budget", "region"):
        CustomFieldDefinition.objects.create(organization=org, key=key, label=key)
    lead = factories.make_lead(org, custom_fields={"budget": "5k", "region": "EU"})
    body = owner_api.patch(
        f"{LEADS}{lead.pk}/",
        {"custom_fields": {"region": None, "budget": "6k"}, "external_ids": {"sf": "00Q1"}},
        format="json",
    ).json()
    assert body["custom_fields"] == {"budget": "6k"}
    assert body["external_ids"] == {"sf": "00Q1"}
    body = owner_api.put(
        f"{LEADS}{lead.pk}/",
        {"first_name": "Ada", "custom_fields": {"region": "US"}},
        format="json",
    ).json()
    assert body["custom_fields"] == {"region": "US"}
    assert body["external_ids"] == {"sf": "00Q1"}  # not given: kept


def test_put_needs_an_email_or_a_name(owner_api, org):
    lead = factories.make_lead(org)
    response = owner_api.put(f"{LEADS}{lead.pk}/", {"title": "CEO"}, format="json")
    assert "email" in assert_error(response, 400)["details"]


def test_patch_to_a_taken_email_is_a_409_and_changes_nothing(owner_api, org):
    taken = factories.make_lead(org, email="taken@example.com")
    lead = factories.make_lead(org, email="mine@example.com")
    response = owner_api.patch(
        f"{LEADS}{lead.pk}/",
        {"email": "Taken@example.com", "status": "contacted", "title": "CEO"},
        format="json",
    )
    assert assert_error(response, 409)["details"]["existing_id"] == taken.pk
    lead.refresh_from_db()
    assert (lead.email, lead.status, lead.title) == ("mine@example.com", "new", "")


# ---------------------------------------------------------------- archive and restore


def test_delete_archives(owner_api, org, owner):
    lead = factories.make_lead(org)
    response = owner_api.delete(f"{LEADS}{lead.pk}/")
    assert response.status_code == 200
    assert response.json() == {"message": "Lead archived"}
    lead.refresh_from_db()
    assert lead.archived_at is not None
    assert _ids(owner_api.get(LEADS)) == []
    # Twice is fine.
    assert owner_api.delete(f"{LEADS}{lead.pk}/").status_code == 200


def test_restore_brings_it_back(owner_api, org, owner):
    lead = factories.make_lead(org)
    services.archive_lead(lead=lead, actor=owner)
    response = owner_api.post(f"{LEADS}{lead.pk}/restore/")
    assert response.status_code == 200
    assert response.json()["archived_at"] is None
    assert Activity.objects.for_lead(lead).filter(kind=ActivityKind.RESTORED).exists()


def test_restore_is_a_409_when_the_email_was_taken(owner_api, org, owner):
    lead = factories.make_lead(org, email="ada@example.com")
    services.archive_lead(lead=lead, actor=owner)
    newer = factories.make_lead(org, email="ada@example.com")
    response = owner_api.post(f"{LEADS}{lead.pk}/restore/")
    assert assert_error(response, 409, "conflict")["details"]["existing_id"] == newer.pk
    lead.refresh_from_db()
    assert lead.archived_at is not None


# ---------------------------------------------------------------- who may


def test_viewer_reads_but_cannot_write(viewer_api, org):
    lead = factories.make_lead(org)
    assert viewer_api.get(LEADS).status_code == 200
    assert viewer_api.get(f"{LEADS}{lead.pk}/").status_code == 200
    assert_error(viewer_api.post(LEADS, {"email": "a@b.example"}, format="json"), 403)
    assert_error(viewer_api.patch(f"{LEADS}{lead.pk}/", {"title": "x"}, format="json"), 403)
    assert_error(viewer_api.delete(f"{LEADS}{lead.pk}/"), 403)
    assert_error(viewer_api.post(f"{LEADS}{lead.pk}/restore/"), 403)
    lead.refresh_from_db()
    assert lead.title == "" and lead.archived_at is None


def test_a_key_without_the_leads_scope_is_refused(org, owner):
    client = key_client(org, owner, {"campaigns": "write"})
    error = assert_error(client.get(LEADS), 403, "insufficient_scope")
    assert error["details"]["required_scope"] == "leads:read"


def test_a_read_only_key_cannot_write(org, owner):
    client = key_client(org, owner, {"leads": "read"})
    assert client.get(LEADS).status_code == 200
    response = client.post(LEADS, {"email": "a@b.example"}, format="json")
    assert assert_error(response, 403, "insufficient_scope")["details"]["required_scope"] == (
        "leads:write"
    )
    assert not Lead.objects.exists()


def test_member_writes(member, org):
    client = key_client(org, member)
    assert client.post(LEADS, {"email": "a@b.example"}, format="json").status_code == 201


def test_anonymous_is_a_401(api_client, db):
    assert_error(api_client.get(LEADS), 401)


def test_no_filter_and_an_empty_filter_list_the_same(owner_api, org, owner):
    kept = factories.make_lead(org)
    gone = factories.make_lead(org)
    services.archive_lead(lead=gone, actor=owner)
    assert _ids(owner_api.get(LEADS)) == [kept.pk]
    assert _ids(owner_api.get(LEADS, {"q": ""})) == [kept.pk]
    assert _ids(owner_api.get(LEADS, {"include_archived": "false"})) == [kept.pk]


def test_the_schema_documents_the_lead_and_company_routes(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    expected = {
        "/api/v1/leads/": {"get", "post"},
        "/api/v1/leads/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/leads/{id}/restore/": {"post"},
        "/api/v1/leads/{id}/activities/": {"get", "post"},
        "/api/v1/leads/bulk/": {"post"},
        "/api/v1/companies/": {"get", "post"},
        "/api/v1/companies/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/companies/{id}/leads/": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    assert "409" in paths["/api/v1/leads/"]["post"]["responses"]
    assert "409" in paths["/api/v1/companies/{id}/"]["delete"]["responses"]
    names = {p["name"] for p in paths["/api/v1/leads/"]["get"]["parameters"]}
    assert {"status", "owner", "tag", "q", "score_min", "ordering", "limit", "offset"} <= names


def test_owner_null_lists_unassigned_leads(owner_api, org, owner):
    factories.make_lead(org, owner=owner)
    nobodys = factories.make_lead(org)
    response = owner_api.get("/api/v1/leads/?owner=null")
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [nobodys.pk]
