"""Saved views: save the filters in use under a name, find them in the sidebar, open them on
the list or the board, rename and delete them; each person's own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads.models import SavedView
from tests import factories

pytestmark = pytest.mark.django_db


def _create(org) -> str:
    return reverse("leads:saved_view_create", args=[org.slug])


def _manage(org) -> str:
    return reverse("leads:saved_views", args=[org.slug])


def test_saving_the_lists_filters_returns_to_them_and_lists_the_view_in_the_sidebar(
    member_client, org, member
):
    response = member_client.post(
        _create(org),
        {"name": "Hot  VIPs", "query": "tag=vip&score_min=70&page=3&csrf=x", "page": "list"},
    )
    view = SavedView.objects.get(organization=org, user=member)
    assert view.name == "Hot VIPs"
    assert view.query == "tag=vip&score_min=70"  # only filters, in a stable order
    list_url = reverse("leads:lead_list", args=[org.slug])
    assert response.status_code == 302 and response.url == f"{list_url}?{view.query}"
    page = member_client.get(response.url)
    html = page.content.decode()
    assert "Hot VIPs" in html and f'href="{list_url}?{view.query.replace("&", "&amp;")}"' in html
    assert 'aria-current="page">Hot VIPs' in html  # the view in use is marked
    assert "It is in the sidebar under Leads" in html  # the toast


def test_a_view_saved_from_the_board_opens_the_board(member_client, org):
    response = member_client.post(
        _create(org), {"name": "Mine", "query": "source=fair", "page": "board"}
    )
    assert response.url == reverse("leads:board", args=[org.slug]) + "?source=fair"


def test_sidebar_shows_only_my_views(member_client, org, member, owner):
    SavedView.objects.create(organization=org, user=owner, name="Owner's secret", query="")
    SavedView.objects.create(organization=org, user=member, name="Mine", query="tag=a")
    html = member_client.get(reverse("leads:board", args=[org.slug])).content.decode()
    assert "Mine" in html and "Owner&#x27;s secret" not in html and "Owner's secret" not in html


def test_invalid_filters_or_a_taken_name_are_refused_on_the_views_page(member_client, org, member):
    response = member_client.post(_create(org), {"name": "Bad", "query": "score_min=lots"})
    html = response.content.decode()
    assert response.status_code == 200 and "These filters are not valid" in html
    assert 'value="Bad"' in html  # what was typed is kept
    SavedView.objects.create(organization=org, user=member, name="Taken", query="")
    response = member_client.post(_create(org), {"name": "Taken", "query": ""})
    assert "You already have a view named “Taken”." in response.content.decode()
    assert SavedView.objects.filter(user=member).count() == 1


def test_the_same_name_may_be_used_by_someone_else(member_client, org, owner, member):
    SavedView.objects.create(organization=org, user=owner, name="Hot", query="")
    member_client.post(_create(org), {"name": "Hot", "query": ""})
    assert SavedView.objects.filter(user=member, name="Hot").exists()


def test_rename_and_delete_my_view(member_client, org, member):
    view = SavedView.objects.create(organization=org, user=member, name="Old", query="tag=a")
    url = reverse("leads:saved_view_rename", args=[org.slug, view.pk])
    response = member_client.post(url, {f"v{view.pk}-name": "New"})
    assert response.status_code == 302 and response.url == _manage(org)
    view.refresh_from_db()
    assert view.name == "New"
    response = member_client.post(reverse("leads:saved_view_delete", args=[org.slug, view.pk]))
    assert response.status_code == 302 and not SavedView.objects.filter(pk=view.pk).exists()


def test_a_rename_to_a_taken_name_shows_the_error_next_to_it(member_client, org, member):
    SavedView.objects.create(organization=org, user=member, name="A", query="")
    view = SavedView.objects.create(organization=org, user=member, name="B", query="")
    url = reverse("leads:saved_view_rename", args=[org.slug, view.pk])
    response = member_client.post(url, {f"v{view.pk}-name": "A"})
    assert response.status_code == 200
    assert "You already have a view named “A”." in response.content.decode()
    view.refresh_from_db()
    assert view.name == "B"


def test_someone_elses_view_is_a_404(member_client, org, owner):
    theirs = SavedView.objects.create(organization=org, user=owner, name="Theirs", query="")
    rename = reverse("leads:saved_view_rename", args=[org.slug, theirs.pk])
    delete = reverse("leads:saved_view_delete", args=[org.slug, theirs.pk])
    assert member_client.post(rename, {f"v{theirs.pk}-name": "Mine now"}).status_code == 404
    assert member_client.post(delete).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_the_views_page_lists_mine_with_list_and_board_links(member_client, org, member, owner):
    SavedView.objects.create(organization=org, user=member, name="Mine", query="tag=a")
    SavedView.objects.create(organization=org, user=owner, name="Not mine", query="")
    response = member_client.get(_manage(org))
    html = response.content.decode()
    assert [v.name for v in response.context["views"]] == ["Mine"]
    assert reverse("leads:board", args=[org.slug]) + "?tag=a" in html


def test_an_empty_views_page_explains_how_to_make_one(member_client, org):
    assert "No saved views yet" in member_client.get(_manage(org)).content.decode()


def test_viewers_keep_their_own_views(viewer_client, org, viewer):
    response = viewer_client.post(_create(org), {"name": "Read only", "query": "tag=a"})
    assert response.status_code == 302
    assert SavedView.objects.filter(user=viewer).exists()


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(_manage(org)).status_code == 404
    assert outsider_client.post(_create(org), {"name": "x", "query": ""}).status_code == 404


def test_wrong_methods_get_405(member_client, org, member):
    view = SavedView.objects.create(organization=org, user=member, name="V", query="")
    assert member_client.get(_create(org)).status_code == 405
    assert (
        member_client.get(reverse("leads:saved_view_delete", args=[org.slug, view.pk])).status_code
        == 405
    )
    assert member_client.post(_manage(org)).status_code == 405


def test_htmx_gets_the_views_fragment(member_client, org):
    response = member_client.get(_manage(org), headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()


def test_another_organizations_membership_does_not_leak_views(client, org, other_org, outsider):
    factories.add_member(org, outsider)
    SavedView.objects.create(organization=other_org, user=outsider, name="Elsewhere", query="")
    client.force_login(outsider)
    html = client.get(reverse("leads:lead_list", args=[org.slug])).content.decode()
    assert "Elsewhere" not in html


def test_filters_are_described_in_words(member_client, org, member):
    query = f"q=ada&status=new&status=qualified&owner={member.pk}&tag=vip&score_min=50&sort=-score"
    SavedView.objects.create(organization=org, user=member, name="Words", query=query)
    SavedView.objects.create(organization=org, user=member, name="All", query="")
    html = member_client.get(_manage(org)).content.decode()
    assert (
        "Search “ada” · Status: New, Qualified · Owner: Mia Member · Tag: vip · Score 50–100"
        " · sorted by score (descending)"
    ) in html.replace("&#x27;", "'")
    assert "Every lead" in html
