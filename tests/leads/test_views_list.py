"""The lead list: sorting, filters, pagination with a count, bulk actions with a confirm step,
the new-lead form, roles and the query count."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from leads import services
from leads.models import Activity, ActivityKind, Lead, LeadTag, Status
from leads.views import lead_list as list_views
from leads.views.lead_list import import_path
from tests import factories

pytestmark = pytest.mark.django_db


def _list(org) -> str:
    return reverse("leads:lead_list", args=[org.slug])


def _bulk(org) -> str:
    return reverse("leads:lead_bulk", args=[org.slug])


def _toasts(response) -> list[str]:
    triggers = json.loads(response.headers.get("HX-Trigger", "{}"))
    return [m["message"] for m in triggers.get("toast", {}).get("messages", [])]


@pytest.fixture
def trio(org, owner, member):
    ada = factories.make_lead(org, first_name="Ada", last_name="Lovelace", score=90, tags=["vip"])
    grace = factories.make_lead(org, first_name="Grace", last_name="Hopper", score=40)
    alan = factories.make_lead(org, first_name="Alan", last_name="Turing", score=10)
    ada.owner = member
    ada.save(update_fields=["owner"])
    services.set_status(lead=grace, status=Status.CONTACTED, actor=owner)
    return {"ada": ada, "grace": grace, "alan": alan}


def _names(response) -> list[str]:
    return [lead.display_name for lead in response.context["rows"]]


def test_the_list_shows_rows_with_their_details_and_links(member_client, org, trio):
    response = member_client.get(_list(org))
    assert response.status_code == 200
    html = response.content.decode()
    assert _names(response) == ["Alan Turing", "Grace Hopper", "Ada Lovelace"]  # newest first
    assert "Showing 1–3 of 3 leads" in html
    assert f'href="/o/{org.slug}/leads/{trio["ada"].pk}/"' in html
    assert "Contacted" in html and "Mia Member" in html and ">vip<" in html
    assert "<title>Leads · Acme Corp · Prospector</title>" in html


@pytest.mark.parametrize(
    ("sort", "expected", "aria"),
    [
        ("score", ["Alan Turing", "Grace Hopper", "Ada Lovelace"], "ascending"),
        ("-score", ["Ada Lovelace", "Grace Hopper", "Alan Turing"], "descending"),
        ("name", ["Ada Lovelace", "Alan Turing", "Grace Hopper"], "ascending"),
        ("-status", ["Grace Hopper", "Alan Turing", "Ada Lovelace"], "descending"),
    ],
)
def test_columns_sort_both_ways(member_client, org, trio, sort, expected, aria):
    response = member_client.get(f"{_list(org)}?sort={sort}")
    assert _names(response) == expected
    assert f'aria-sort="{aria}"' in response.content.decode()


def test_an_unknown_sort_falls_back_to_newest_first(member_client, org, trio):
    response = member_client.get(f"{_list(org)}?sort=password")
    assert _names(response)[0] == "Alan Turing"


def test_sort_links_keep_the_filters(member_client, org, trio):
    html = member_client.get(f"{_list(org)}?tag=vip").content.decode()
    assert 'href="?tag=vip&amp;sort=name"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=contacted", ["Grace Hopper"]),
        ("owner=null", ["Alan Turing", "Grace Hopper"]),
        ("score_min=30&score_max=50", ["Grace Hopper"]),
        ("q=turing", ["Alan Turing"]),
    ],
)
def test_filters_apply_to_the_list(member_client, org, trio, query, expected):
    assert _names(member_client.get(f"{_list(org)}?{query}")) == expected


def test_archived_leads_show_only_when_asked(member_client, org, owner, trio):
    services.archive_lead(lead=trio["alan"], actor=owner)
    assert "Alan Turing" not in _names(member_client.get(_list(org)))
    response = member_client.get(f"{_list(org)}?include_archived=true")
    assert "Alan Turing" in _names(response)
    assert "Archived" in response.content.decode()


def test_pagination_counts_filtered_leads_in_a_second_request(member_client, org):
    for _ in range(53):
        factories.make_lead(org, source="fair")
    response = member_client.get(f"{_list(org)}?source=fair")
    html = response.content.decode()
    # A full first page does not count: the total comes from a request of its own.
    assert response.context["total"] is None
    assert "Showing 1–50 of" in html and "(counting…)" in html
    assert 'Page 1<span id="page-total"></span>' in html
    assert 'hx-get="/o/acme-corp/leads/?source=fair&amp;count=1" hx-trigger="load"' in html
    assert 'href="?source=fair&amp;page=2"' in html
    counted = member_client.get(
        f"{_list(org)}?source=fair&count=1",
        headers={"HX-Request": "true", "HX-Target": "lead-total"},
    ).content.decode()
    assert "<span>53 leads matching these filters</span>" in counted
    assert '<span id="bulk-total" hx-swap-oob="true">53</span>' in counted
    assert '<span id="page-total" hx-swap-oob="true"> of 2</span>' in counted
    assert "<html" not in counted
    # Without JavaScript the link counts in the page itself.
    no_js = member_client.get(f"{_list(org)}?source=fair&count=1").content.decode()
    assert "Showing 1–50 of 53 leads matching these filters" in no_js
    assert 'Page 1<span id="page-total"> of 2</span>' in no_js
    # The last page is not full: its total is evident, no count needed.
    second = member_client.get(f"{_list(org)}?source=fair&page=2")
    assert len(second.context["rows"]) == 3
    assert "Showing 51–53 of 53 leads matching these filters" in second.content.decode()
    # Past the end: the last page, as a paginator would.
    past = member_client.get(f"{_list(org)}?source=fair&page=9")
    assert past.context["leads_page"].number == 2 and len(past.context["rows"]) == 3
    # Without filters the maintained counts give the total at once.
    plain = member_client.get(_list(org)).content.decode()
    assert "Showing 1–50 of 53 leads" in plain and '<span id="page-total"> of 2</span>' in plain


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(_list(org)).status_code == 404
    assert outsider_client.post(_bulk(org), {"action": "archive", "all": "on"}).status_code == 404


def test_viewer_reads_the_list_without_bulk_actions_and_gets_403_on_them(viewer_client, org, trio):
    html = viewer_client.get(_list(org)).content.decode()
    assert "Ada Lovelace" in html and 'name="ids"' not in html and "Bulk action" not in html
    response = viewer_client.post(_bulk(org), {"action": "archive", "all": "on", "confirmed": "on"})
    assert response.status_code == 403
    assert Lead.objects.for_org(org).active().count() == 3


def test_bulk_is_post_only(member_client, org):
    assert member_client.get(_bulk(org)).status_code == 405


def test_htmx_gets_the_results_fragment(member_client, org, trio):
    response = member_client.get(f"{_list(org)}?q=ada", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and 'id="lead-results"' in html and "Ada Lovelace" in html


def test_an_empty_list_offers_import_and_new_lead(member_client, org):
    html = member_client.get(_list(org)).content.decode()
    assert "No leads yet" in html
    assert f'href="{import_path(org.slug)}"' in html
    assert reverse("leads:lead_create", args=[org.slug]) in html


def test_export_links_carry_the_filters(member_client, org, trio):
    html = member_client.get(f"{_list(org)}?tag=vip").content.decode()
    assert "/leads/export/?tag=vip&amp;format=csv" in html
    assert "/leads/export/?tag=vip&amp;format=json" in html


@pytest.mark.parametrize("size", [3, 60])
def test_the_list_runs_a_constant_number_of_queries(
    member_client, org, owner, size, django_assert_num_queries
):
    for i in range(size):
        lead = factories.make_lead(
            org, company=factories.make_company(org), tags=["a", f"t{i % 3}"]
        )
        lead.owner = owner
        lead.save(update_fields=["owner"])
    member_client.get(_list(org))  # the first visit remembers the organization (an UPDATE)
    # session, user, membership+organization; the page of rows (company, owner joined; no
    # count: see test_pagination_counts_filtered_leads_in_a_second_request); their tags; the
    # filter bar's members and tags; the sidebar's organizations and saved views
    with django_assert_num_queries(9):
        response = member_client.get(f"{_list(org)}?tag=a&sort=-score")
    assert response.context["total"] == (size if size < 50 else None)


# Bulk actions -----------------------------------------------------------------------------


def _post(client, org, data, *, query="", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"{_bulk(org)}{'?' + query if query else ''}", data, headers=headers)


def test_bulk_status_asks_first_then_moves_each_lead_with_its_timeline(member_client, org, trio):
    ids = [trio["ada"].pk, trio["alan"].pk]
    data = {"action": "status", "status": "qualified", "ids": ids}
    response = _post(member_client, org, data, htmx=True)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Move 2 leads to Qualified?" in html
    assert Lead.objects.for_org(org).filter(status="qualified").count() == 0  # not yet

    response = _post(member_client, org, data | {"confirmed": "on"}, htmx=True)
    assert response.status_code == 200 and 'id="lead-results"' in response.content.decode()
    assert _toasts(response) == ["2 leads moved to Qualified."]
    for lead in (trio["ada"], trio["alan"]):
        lead.refresh_from_db()
        assert lead.status == Status.QUALIFIED
        assert Activity.objects.filter(lead=lead, kind=ActivityKind.STATUS_CHANGE).count() == 1
    trio["grace"].refresh_from_db()
    assert trio["grace"].status == Status.CONTACTED


def test_bulk_without_htmx_confirms_in_the_page_then_redirects(member_client, org, trio):
    data = {"action": "archive", "ids": [trio["alan"].pk]}
    response = _post(member_client, org, data, query="tag=vip")
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert "Archive 1 lead?" in response.content.decode()
    response = _post(member_client, org, data | {"confirmed": "on"}, query="tag=vip")
    assert response.status_code == 302 and response.url == f"{_list(org)}?tag=vip"
    trio["alan"].refresh_from_db()
    assert trio["alan"].archived_at is not None


def test_bulk_on_all_matching_uses_the_filters(member_client, org, trio):
    data = {"action": "add_tag", "tag": "hot", "all": "on", "confirmed": "on"}
    response = _post(member_client, org, data, query="score_min=30", htmx=True)
    assert _toasts(response) == ["Tag “hot” added to 2 leads."]
    tagged = set(
        LeadTag.objects.for_org(org).filter(tag__name="hot").values_list("lead_id", flat=True)
    )
    assert tagged == {trio["ada"].pk, trio["grace"].pk}
    response = _post(
        member_client, org, data | {"action": "remove_tag"}, query="score_min=30", htmx=True
    )
    assert _toasts(response) == ["Tag “hot” removed from 2 leads."]
    assert not LeadTag.objects.for_org(org).filter(tag__name="hot").exists()


def test_bulk_assigns_and_unassigns_owners(member_client, org, member, trio):
    ids = [trio["grace"].pk, trio["alan"].pk]
    response = _post(
        member_client,
        org,
        {"action": "owner", "owner": str(member.pk), "ids": ids, "confirmed": "on"},
        htmx=True,
    )
    assert _toasts(response) == ["2 leads assigned to Mia Member."]
    assert Lead.objects.for_org(org).filter(owner=member).count() == 3
    assert Activity.objects.filter(lead=trio["alan"], kind=ActivityKind.FIELD_CHANGE).exists()
    _post(member_client, org, {"action": "owner", "owner": "none", "ids": ids, "confirmed": "on"})
    assert Lead.objects.for_org(org).filter(owner__isnull=True).count() == 2


def test_bulk_refuses_an_owner_from_another_organization(member_client, org, outsider, trio):
    response = _post(
        member_client,
        org,
        {"action": "owner", "owner": str(outsider.pk), "ids": [trio["alan"].pk], "confirmed": "on"},
        htmx=True,
    )
    assert "Choose someone from the list." in response.content.decode()
    trio["alan"].refresh_from_db()
    assert trio["alan"].owner_id is None


def test_bulk_restore_reports_leads_whose_email_was_taken(member_client, org, owner, trio):
    for lead in (trio["ada"], trio["alan"]):
        services.archive_lead(lead=lead, actor=owner)
    factories.make_lead(org, email=trio["alan"].email)  # takes Alan's address meanwhile
    data = {"action": "restore", "all": "on", "confirmed": "on"}
    response = _post(member_client, org, data, query="include_archived=true", htmx=True)
    assert _toasts(response) == [
        "1 lead restored. 1 could not be: an active lead has their email address now."
    ]
    trio["ada"].refresh_from_db()
    trio["alan"].refresh_from_db()
    assert trio["ada"].archived_at is None and trio["alan"].archived_at is not None


def test_bulk_touches_only_the_organizations_leads(member_client, org, other_org, trio):
    foreign = factories.make_lead(other_org)
    data = {"action": "archive", "ids": [foreign.pk, trio["ada"].pk], "confirmed": "on"}
    _post(member_client, org, data)
    foreign.refresh_from_db()
    trio["ada"].refresh_from_db()
    assert foreign.archived_at is None and trio["ada"].archived_at is not None


def test_bulk_is_capped_with_a_clear_message(member_client, org, trio, monkeypatch):
    monkeypatch.setattr(list_views, "BULK_LIMIT", 2)
    data = {"action": "status", "status": "lost", "all": "on", "confirmed": "on"}
    response = _post(member_client, org, data, htmx=True)
    html = response.content.decode()
    assert "Too many leads for one bulk action" in html
    assert "More than 2 leads match, and this action changes at most 2 at a time" in html
    assert not Lead.objects.for_org(org).filter(status="lost").exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"action": "status", "status": "lost"}, "Select leads first"),
        ({"action": "status", "all": "on"}, "Choose the new status."),
        ({"action": "add_tag", "all": "on", "tag": "  "}, "Name the tag."),
        ({"action": "explode", "all": "on"}, "Select a valid choice"),
    ],
)
def test_bulk_explains_what_is_missing(member_client, org, trio, data, error):
    response = _post(member_client, org, data | {"confirmed": "on"}, htmx=True)
    assert response.status_code == 200 and error in response.content.decode()


# New lead ---------------------------------------------------------------------------------


def test_new_lead_creates_through_the_service_and_opens_it(member_client, org, member):
    url = reverse("leads:lead_create", args=[org.slug])
    assert member_client.get(url).status_code == 200
    response = member_client.post(
        url,
        {
            "first_name": "Katherine",
            "last_name": "Johnson",
            "email": "KJ@Nasa.example",
            "company": "NASA",
            "tags": "vip, space",
            "owner": str(member.pk),
        },
    )
    lead = Lead.objects.for_org(org).get(email="kj@nasa.example")
    assert response.status_code == 302 and response.url == f"/o/{org.slug}/leads/{lead.pk}/"
    assert lead.company.name == "NASA" and lead.owner == member and lead.source == "manual"
    assert sorted(lead.tags.values_list("name", flat=True)) == ["space", "vip"]
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CREATED).exists()


def test_new_lead_with_a_taken_email_links_the_existing_lead(member_client, org, trio):
    url = reverse("leads:lead_create", args=[org.slug])
    response = member_client.post(url, {"first_name": "Ada", "email": trio["ada"].email.upper()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "A lead with this email already exists" in html
    assert f'<a href="/o/{org.slug}/leads/{trio["ada"].pk}/">open it</a>' in html
    assert 'value="Ada"' in html  # what was typed is kept
    assert Lead.objects.for_org(org).count() == 3


def test_new_lead_needs_a_name_or_an_email(member_client, org):
    response = member_client.post(reverse("leads:lead_create", args=[org.slug]), {"title": "CTO"})
    assert response.status_code == 200
    assert "Give the lead a name or an email address." in response.content.decode()
    assert not Lead.objects.for_org(org).exists()


def test_viewer_cannot_create_leads(viewer_client, org):
    url = reverse("leads:lead_create", args=[org.slug])
    assert viewer_client.get(url).status_code == 403
    assert viewer_client.post(url, {"first_name": "X"}).status_code == 403


def test_past_the_cap_the_count_says_more_than(member_client, org, trio, monkeypatch):
    monkeypatch.setattr(list_views, "COUNT_CAP", 2)
    html = member_client.get(f"{_list(org)}?score_max=100&count=1").content.decode()
    assert "Showing 1–3 of more than 2 leads" in html
    # Without filters (or by status only) the maintained counts know the exact number.
    html = member_client.get(_list(org)).content.decode()
    assert "Showing 1–3 of 3 leads" in html


def test_the_filter_bar_shows_the_filters_in_use(member_client, org, trio):
    html = member_client.get(f"{_list(org)}?owner=null&status=contacted&q=hop").content.decode()
    assert '<option value="null" selected>Unassigned</option>' in html
    assert '<option value="contacted" selected>Contacted</option>' in html
    assert 'value="hop"' in html


def test_an_unknown_status_is_reported_not_applied(member_client, org, trio):
    response = member_client.get(f"{_list(org)}?status=won")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 3
    assert "Select a valid choice" in response.content.decode()
