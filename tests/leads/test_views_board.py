"""The pipeline board: columns with counts, cards, moves (drag and drop or the Move to menu),
filters, per-column pagination, roles and the query count."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import Event
from leads import services
from leads.models import Activity, ActivityKind, Lead, Status
from leads.views import board as board_views
from leads.views.lead_list import import_path
from tests import factories

pytestmark = pytest.mark.django_db


def _board(org) -> str:
    return reverse("leads:board", args=[org.slug])


def _move(org, lead) -> str:
    return reverse("leads:move", args=[org.slug, lead.pk])


def _triggers(response) -> dict:
    return json.loads(response.headers.get("HX-Trigger", "{}"))


def _toasts(response) -> list[str]:
    return [m["message"] for m in _triggers(response).get("toast", {}).get("messages", [])]


@pytest.fixture
def leads(org, owner, member):
    company = factories.make_company(org, name="Globex", domain="globex.example")
    ada = factories.make_lead(
        org, first_name="Ada", last_name="Lovelace", company=company, score=82, tags=["vip"]
    )
    ada.owner = member
    ada.save(update_fields=["owner"])
    grace = factories.make_lead(org, first_name="Grace", last_name="Hopper", source="webinar")
    services.set_status(lead=grace, status=Status.CONTACTED, actor=owner)
    alan = factories.make_lead(org, first_name="Alan", last_name="Turing", score=15)
    services.set_status(lead=alan, status=Status.QUALIFIED, actor=owner)
    return {"ada": ada, "grace": grace, "alan": alan}


def test_board_shows_a_column_per_status_with_counts_and_cards(member_client, org, leads):
    response = member_client.get(_board(org))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'id="head-{status}"') for status in Status.values]
    assert positions == sorted(positions), "columns in pipeline order"
    heads = response.context["columns"]
    assert [(c["status"], c["count"]) for c in heads] == [
        ("new", 1),
        ("contacted", 1),
        ("replied", 0),
        ("qualified", 1),
        ("converted", 0),
        ("lost", 0),
    ]
    new_column = heads[0]["cards"]
    assert [lead.pk for lead in new_column] == [leads["ada"].pk]
    assert "Ada Lovelace" in html and "Globex" in html and ">vip<" in html
    assert "Mia Member" in html  # the owner, on the card
    assert f'href="/o/{org.slug}/leads/{leads["ada"].pk}/"' in html  # the card links the lead
    assert 'draggable="true"' in html and "Move to…" in html
    assert "<title>Pipeline · Acme Corp · Prospector</title>" in html


def test_archived_leads_are_not_on_the_board(member_client, org, owner, leads):
    services.archive_lead(lead=leads["grace"], actor=owner)
    response = member_client.get(_board(org))
    assert "Grace Hopper" not in response.content.decode()
    assert response.context["columns"][1]["count"] == 0


def test_outsider_gets_404_and_anonymous_is_sent_to_log_in(outsider_client, org, client):
    assert outsider_client.get(_board(org)).status_code == 404
    outsider_client.logout()
    response = client.get(_board(org))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_viewer_sees_the_board_without_drag_handles_or_menus(viewer_client, org, leads):
    response = viewer_client.get(_board(org))
    html = response.content.decode()
    assert response.status_code == 200 and "Ada Lovelace" in html
    assert 'draggable="true"' not in html
    assert "Move to…" not in html and "data-move-url" not in html


def test_viewer_gets_403_on_the_move_endpoint(viewer_client, org, leads):
    response = viewer_client.post(_move(org, leads["ada"]), {"status": "qualified"})
    assert response.status_code == 403
    leads["ada"].refresh_from_db()
    assert leads["ada"].status == Status.NEW


def test_the_move_endpoint_is_post_only(member_client, org, leads):
    assert member_client.get(_move(org, leads["ada"])).status_code == 405


def test_moving_without_htmx_changes_status_records_it_and_redirects(
    member_client, org, member, leads
):
    ada = leads["ada"]
    response = member_client.post(
        _move(org, ada) + "?owner=" + str(member.pk), {"status": "qualified"}
    )
    assert response.status_code == 302
    assert response.url == f"{_board(org)}?owner={member.pk}"  # the filters are kept (PRG)
    ada.refresh_from_db()
    assert ada.status == Status.QUALIFIED
    change = Activity.objects.get(lead=ada, kind=ActivityKind.STATUS_CHANGE)
    assert change.data == {"from": "new", "to": "qualified"} and change.actor == member
    assert Event.objects.filter(organization=org, type="lead.status_changed").exists()
    page = member_client.get(response.url)
    assert "Lead moved to Qualified" in page.content.decode()  # the toast, after the redirect


def test_moving_with_htmx_returns_the_card_for_its_new_column_and_events(member_client, org, leads):
    ada = leads["ada"]
    response = member_client.post(
        _move(org, ada), {"status": "qualified"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'id="card-{ada.pk}"' in html
    assert html.strip().startswith('<ol hx-swap-oob="afterbegin:#cards-qualified">')
    triggers = _triggers(response)
    assert triggers["leadMoved"] == {"id": ada.pk, "status": "qualified"}
    assert _toasts(response) == ["Lead moved to Qualified: Ada Lovelace."]
    # The card's menu now offers every status but Qualified.
    assert 'value="qualified"' not in html and 'value="new"' in html
    ada.refresh_from_db()
    assert ada.status == Status.QUALIFIED


def test_an_invalid_status_changes_nothing_and_says_why(member_client, org, leads):
    ada = leads["ada"]
    response = member_client.post(
        _move(org, ada), {"status": "won"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204  # nothing swapped: the card stays
    assert _toasts(response) == ["Choose one of the pipeline's statuses."]
    ada.refresh_from_db()
    assert ada.status == Status.NEW
    assert not Activity.objects.filter(lead=ada, kind=ActivityKind.STATUS_CHANGE).exists()


def test_another_organizations_lead_and_archived_leads_cannot_be_moved(
    member_client, org, other_org, owner, leads
):
    foreign = factories.make_lead(other_org)
    assert member_client.post(_move(org, foreign), {"status": "lost"}).status_code == 404
    services.archive_lead(lead=leads["grace"], actor=owner)
    assert member_client.post(_move(org, leads["grace"]), {"status": "lost"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == Status.NEW


def test_htmx_requests_get_the_fragment_their_target_names(member_client, org, leads):
    response = member_client.get(_board(org), headers={"HX-Request": "true", "HX-Target": "board"})
    html = response.content.decode()
    assert "<html" not in html and 'id="board"' in html and "Ada Lovelace" in html
    response = member_client.get(
        _board(org), headers={"HX-Request": "true", "HX-Target": "board-heads"}
    )
    html = response.content.decode()
    assert "<html" not in html and html.strip().startswith('<div class="board-heads"')
    assert "Ada Lovelace" not in html  # the counts only
    assert 'hx-trigger="leadMoved from:body"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=lovelace", {"ada"}),
        ("tag=VIP", {"ada"}),
        ("source=webinar", {"grace"}),
        ("score_min=50", {"ada"}),
        ("score_max=20", {"grace", "alan"}),
        ("owner=null", {"grace", "alan"}),
        ("status=new", {"ada", "grace", "alan"}),  # the board's columns are the statuses
    ],
)
def test_filters_apply_to_the_board(member_client, org, leads, query, expected):
    response = member_client.get(f"{_board(org)}?{query}")
    shown = {card.pk for column in response.context["columns"] for card in column["cards"]}
    assert shown == {leads[name].pk for name in expected}


def test_owner_filter_and_filters_stay_in_links(member_client, org, member, leads):
    response = member_client.get(f"{_board(org)}?owner={member.pk}&score_min=10")
    html = response.content.decode()
    shown = {card.pk for column in response.context["columns"] for card in column["cards"]}
    assert shown == {leads["ada"].pk}
    query = f"owner={member.pk}&amp;score_min=10"
    assert f"{_move(org, leads['ada'])}?{query}" in html  # move forms keep the filters
    assert f'hx-get="{_board(org)}?{query}"' in html  # the counts refresh with them
    assert f'value="owner={member.pk}&amp;score_min=10"' in html  # Save view keeps them


def test_a_column_loads_50_cards_then_more_on_scroll(member_client, org, owner):
    created = [factories.make_lead(org) for _ in range(53)]
    response = member_client.get(_board(org))
    first = response.context["columns"][0]
    assert len(first["cards"]) == 50 and first["next"]
    html = response.content.decode()
    more = reverse("leads:board_column", args=[org.slug, "new"])
    assert (
        f'hx-get="{more}?after={first["next"]}"' in html and 'hx-trigger="intersect once"' in html
    )

    rest = member_client.get(f"{more}?after={first['next']}", headers={"HX-Request": "true"})
    html = rest.content.decode()
    assert rest.status_code == 200 and "<html" not in html
    shown = [card.pk for card in rest.context["column"]["cards"]]
    assert len(shown) == 3 and not rest.context["column"]["next"]
    assert set(shown) | {c.pk for c in first["cards"]} == {lead.pk for lead in created}
    assert "column-more" not in html


def test_the_column_url_without_htmx_opens_the_list_for_that_status(member_client, org, member):
    url = reverse("leads:board_column", args=[org.slug, "qualified"])
    response = member_client.get(f"{url}?owner={member.pk}")
    assert response.status_code == 302
    assert response.url == f"/o/{org.slug}/leads/?status=qualified&owner={member.pk}"


def test_unknown_columns_and_bad_cursors_are_404(member_client, org):
    hx = {"HX-Request": "true"}
    assert (
        member_client.get(
            reverse("leads:board_column", args=[org.slug, "won"]), headers=hx
        ).status_code
        == 404
    )
    url = reverse("leads:board_column", args=[org.slug, "new"])
    for cursor in ("abc", "1.x", "99999999999999999999.1"):
        assert member_client.get(f"{url}?after={cursor}", headers=hx).status_code == 404


def test_an_empty_pipeline_offers_the_first_actions(member_client, org):
    html = member_client.get(_board(org)).content.decode()
    assert "Your pipeline is empty" in html
    assert f'href="{import_path(org.slug)}"' in html
    assert reverse("leads:lead_create", args=[org.slug]) in html


def test_no_match_says_so_and_offers_to_clear(member_client, org, leads):
    html = member_client.get(f"{_board(org)}?q=nobody-by-this-name").content.decode()
    assert "No leads match these filters" in html and "Clear filters" in html


def _fill(org, n: int, owner) -> None:
    for i in range(n):
        company = factories.make_company(org)
        lead = factories.make_lead(org, company=company, tags=[f"t{i % 4}", "all"], score=i)
        lead.owner = owner
        lead.save(update_fields=["owner"])
        services.set_status(lead=lead, status=Status.values[i % 6], actor=owner)


@pytest.mark.parametrize(("size", "column_size"), [(3, 50), (40, 50), (40, 3)])
def test_the_board_runs_a_constant_number_of_queries(
    member_client, org, owner, size, column_size, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(board_views, "COLUMN_SIZE", column_size)
    _fill(org, size, owner)
    member_client.get(_board(org))  # the first visit remembers the organization (an UPDATE)
    # session, user, membership+organization; six columns; the cards' tags; the filter bar's
    # members and tags; the sidebar's organizations and saved views. No count: with filters,
    # columns that fit count themselves, and full ones are counted by the heads' own request.
    with django_assert_num_queries(14):
        response = member_client.get(f"{_board(org)}?tag=all&score_min=0")
    assert response.status_code == 200
    counts = [c["count"] for c in response.context["columns"]]
    if size <= column_size:
        assert sum(counts) == size
    else:
        assert counts == [None] * 6
    # Without filters the counts kept by leads.counts cost one small query.
    with django_assert_num_queries(15):
        response = member_client.get(_board(org))
    assert sum(c["count"] for c in response.context["columns"]) == size


def test_a_filtered_board_with_full_columns_loads_its_counts(
    member_client, org, owner, monkeypatch
):
    monkeypatch.setattr(board_views, "COLUMN_SIZE", 2)
    _fill(org, 14, owner)  # three leads in each of the first two columns, two in the others
    html = member_client.get(f"{_board(org)}?tag=all").content.decode()
    assert "Counting the leads that match these filters…" in html
    assert 'hx-trigger="load, leadMoved from:body"' in html
    assert html.count('…<span class="visually-hidden"> (counting)</span>') == 6
    heads = member_client.get(
        f"{_board(org)}?tag=all", headers={"HX-Request": "true", "HX-Target": "board-heads"}
    ).content.decode()
    assert 'id="head-new"' in heads and "<html" not in heads
    assert '<span class="board-count">3<span class="visually-hidden"> leads</span>' in heads
    assert (
        '<p class="muted small" id="board-total" aria-live="polite" hx-swap-oob="true">'
        "14 leads match these filters</p>"
    ) in heads
    # Columns that fit are counted by the board itself.
    html = member_client.get(f"{_board(org)}?tag=t0").content.decode()
    assert "Counting" not in html and 'hx-trigger="leadMoved from:body"' in html
    assert "4 leads match these filters" in html


def test_the_count_refresh_runs_four_queries(member_client, org, owner, django_assert_num_queries):
    _fill(org, 5, owner)
    member_client.get(_board(org))
    # session, user, membership+organization, the GROUP BY
    with django_assert_num_queries(4):
        member_client.get(_board(org), headers={"HX-Request": "true", "HX-Target": "board-heads"})


def test_cursor_round_trips_microseconds(org):
    lead = factories.make_lead(org)
    lead.refresh_from_db()
    page = board_views._after(Lead.objects.for_org(org), board_views._cursor(lead))
    assert lead not in page


def test_cards_escape_what_people_typed(member_client, org, owner):
    company = factories.make_company(org, name="<b>Evil</b> Inc")
    factories.make_lead(
        org, first_name="<script>alert(1)</script>", company=company, tags=['"><img src=x>']
    )
    html = member_client.get(_board(org)).content.decode()
    assert (
        "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )
    assert "<b>Evil</b>" not in html and "&lt;b&gt;Evil&lt;/b&gt; Inc" in html
    assert '"><img src=x>' not in html


def test_cards_name_leads_and_owners_as_every_other_page_does(member_client, org):
    nameless_owner = factories.add_member(org, factories.make_user("sam.smith@example.com"))
    nameless_owner.name = ""
    nameless_owner.save(update_fields=["name"])
    only_email = factories.make_lead(org, first_name="", last_name="", email="pat@acme.example")
    nothing = factories.make_lead(org, first_name="", last_name="", email="")
    nothing.owner = nameless_owner
    nothing.save(update_fields=["owner"])
    html = member_client.get(_board(org)).content.decode()
    assert (
        f">{only_email.display_name}</a>" in html and only_email.display_name == "pat@acme.example"
    )
    assert f">Lead #{nothing.pk}</a>" in html
    assert "Owner: sam.smith" in html  # User.display_name: the address before the @
