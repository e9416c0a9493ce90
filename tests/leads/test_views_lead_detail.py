"""The lead page: in-place edits through the services, tags, timeline, notes, calls and
meetings, archive and restore; the Edit page without JavaScript; roles and tenancy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from leads import services
from leads.models import Activity, ActivityKind, Company, Lead, Status
from leads.views.lead_detail import TIMELINE_PAGE
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def lead(org, owner):
    company = factories.make_company(org, name="Analytical Engines", domain="engines.example")
    return factories.make_lead(
        org,
        actor=owner,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@engines.example",
        title="CTO",
        company=company,
        tags=["vip"],
    )


def _url(org, lead, rest: str = "") -> str:
    return f"/o/{org.slug}/leads/{lead.pk}/{rest}"


def _csp_safe(body: str) -> None:
    assert not re.search(r"\sstyle=", body)
    assert not re.search(r"\son[a-z]+=", body)
    assert "hx-on" not in body


def test_page_shows_fields_tags_company_and_timeline(member_client, org, lead):
    response = member_client.get(_url(org, lead))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<title>Ada Lovelace · {org.name} · Prospector</title>" in body
    assert 'href="mailto:ada@engines.example"' in body
    assert f'href="/o/{org.slug}/companies/{lead.company_id}/"' in body
    assert "vip" in body
    assert "Lead created" in body
    assert f'hx-get="/o/{org.slug}/leads/{lead.pk}/fields/email/edit/"' in body
    _csp_safe(body)


def test_viewer_sees_no_edit_controls_and_cannot_post(viewer_client, org, lead):
    body = viewer_client.get(_url(org, lead)).content.decode()
    assert "/fields/email/edit/" not in body
    assert "Save to timeline" not in body
    assert "Archive lead" not in body
    for path, data in [
        ("fields/email/", {"email": "x@y.example"}),
        ("edit/", {"status": "new"}),
        ("tags/add/", {"name": "x"}),
        ("activities/new/", {"kind": "note", "body": "hi"}),
        ("archive/", {}),
        ("restore/", {}),
        ("tasks/new/", {"title": "x"}),
    ]:
        assert viewer_client.post(_url(org, lead, path), data).status_code == 403, path
    assert viewer_client.get(_url(org, lead, "fields/email/edit/"), **HTMX).status_code == 403
    lead.refresh_from_db()
    assert lead.email == "ada@engines.example" and not lead.is_archived


def test_outsider_gets_404(outsider_client, org, lead):
    assert outsider_client.get(_url(org, lead)).status_code == 404
    assert outsider_client.post(_url(org, lead, "archive/")).status_code == 404


def test_another_organizations_lead_is_404(owner_client, org, other_org):
    foreign = factories.make_lead(other_org)
    assert owner_client.get(_url(org, foreign)).status_code == 404
    assert owner_client.post(_url(org, foreign, "fields/title/"), {"title": "x"}).status_code == 404


def test_page_refuses_post_and_actions_refuse_get(member_client, org, lead):
    assert member_client.post(_url(org, lead)).status_code == 405
    assert member_client.get(_url(org, lead, "archive/")).status_code == 405
    assert member_client.get(_url(org, lead, "activities/new/")).status_code == 405


def test_unknown_field_is_404(member_client, org, lead):
    assert member_client.get(_url(org, lead, "fields/score/edit/"), **HTMX).status_code == 404
    assert member_client.post(_url(org, lead, "fields/score/"), {"score": 99}).status_code == 404


# In-place edits --------------------------------------------------------------------------


def test_field_edit_form_is_a_fragment(member_client, org, lead):
    response = member_client.get(_url(org, lead, "fields/title/edit/"), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="field-title"' in body
    assert 'name="title"' in body and 'value="CTO"' in body
    # Without JavaScript, the same link leads to the Edit page.
    response = member_client.get(_url(org, lead, "fields/title/edit/"))
    assert response.status_code == 302
    assert response["Location"] == _url(org, lead, "edit/")


def test_saving_a_field_records_what_changed(member_client, member, org, lead):
    response = member_client.post(_url(org, lead, "fields/title/"), {"title": "CEO"}, **HTMX)
    assert response.status_code == 200
    assert "CEO" in response.content.decode()
    assert "<html" not in response.content.decode()
    lead.refresh_from_db()
    assert lead.title == "CEO"
    activity = Activity.objects.for_lead(lead).filter(kind=ActivityKind.FIELD_CHANGE).get()
    assert activity.actor == member
    assert activity.data["changes"] == {"title": ["CTO", "CEO"]}
    body = member_client.get(_url(org, lead)).content.decode()
    assert "Edited Job title" in body
    assert "Job title: CTO → CEO" in body


def test_status_goes_through_set_status(member_client, org, lead):
    member_client.post(_url(org, lead, "fields/status/"), {"status": "converted"}, **HTMX)
    lead.refresh_from_db()
    assert lead.status == Status.CONVERTED and lead.converted_at is not None
    activity = Activity.objects.for_lead(lead).filter(kind=ActivityKind.STATUS_CHANGE).get()
    assert activity.data == {"from": "new", "to": "converted"}
    assert "Status changed: New → Converted" in member_client.get(_url(org, lead)).content.decode()


def test_owner_is_chosen_among_members_only(member_client, org, lead, member, outsider):
    response = member_client.post(_url(org, lead, "fields/owner/"), {"owner": outsider.pk}, **HTMX)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner is None
    member_client.post(_url(org, lead, "fields/owner/"), {"owner": member.pk}, **HTMX)
    lead.refresh_from_db()
    assert lead.owner == member


def test_company_is_matched_or_created_by_name(member_client, org, lead):
    existing = factories.make_company(org, name="Difference Engines Ltd")
    member_client.post(
        _url(org, lead, "fields/company/"), {"company": "difference engines ltd"}, **HTMX
    )
    lead.refresh_from_db()
    assert lead.company == existing
    member_client.post(_url(org, lead, "fields/company/"), {"company": "Brand New Co"}, **HTMX)
    lead.refresh_from_db()
    assert lead.company.name == "Brand New Co"
    assert Company.objects.for_org(org).filter(name="Brand New Co").count() == 1
    member_client.post(_url(org, lead, "fields/company/"), {"company": ""}, **HTMX)
    lead.refresh_from_db()
    assert lead.company is None


def test_duplicate_email_is_shown_next_to_the_field_with_a_link(member_client, org, lead):
    other = factories.make_lead(org, email="grace@navy.example")
    response = member_client.post(
        _url(org, lead, "fields/email/"), {"email": "Grace@Navy.example"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Another lead already has this email address." in body
    assert f'href="/o/{org.slug}/leads/{other.pk}/"' in body
    assert 'value="Grace@Navy.example"' in body  # what was typed is kept
    lead.refresh_from_db()
    assert lead.email == "ada@engines.example"


def test_invalid_value_is_rerendered_with_its_error(member_client, org, lead):
    response = member_client.post(
        _url(org, lead, "fields/linkedin_url/"), {"linkedin_url": "not a url"}, **HTMX
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()


def test_field_post_without_htmx_redirects_back(member_client, org, lead):
    response = member_client.post(_url(org, lead, "fields/location/"), {"location": "London"})
    assert response.status_code == 302
    assert response["Location"] == _url(org, lead)
    lead.refresh_from_db()
    assert lead.location == "London"


def test_cancel_shows_the_field_again(member_client, org, lead):
    response = member_client.get(_url(org, lead, "fields/title/"), **HTMX)
    body = response.content.decode()
    assert 'id="field-title"' in body and "CTO" in body and "<form" not in body


# The Edit page ---------------------------------------------------------------------------


def test_edit_page_saves_everything_and_redirects(member_client, member, org, lead):
    response = member_client.get(_url(org, lead, "edit/"))
    assert response.status_code == 200
    assert 'value="vip"' in response.content.decode()
    data = {
        "first_name": "Augusta Ada",
        "last_name": "King",
        "email": "ada@engines.example",
        "phone": "+44 20 7946 0958",
        "title": "Countess",
        "company": "Analytical Engines",
        "status": "qualified",
        "owner": member.pk,
        "source": "Referral",
        "location": "London",
        "linkedin_url": "https://www.linkedin.com/in/ada",
        "tags": "math, pioneer",
    }
    response = member_client.post(_url(org, lead, "edit/"), data)
    assert response.status_code == 302
    assert response["Location"] == _url(org, lead)
    lead.refresh_from_db()
    assert (lead.first_name, lead.status, lead.owner, lead.phone) == (
        "Augusta Ada",
        "qualified",
        member,
        "+442079460958",
    )
    assert sorted(t.name for t in lead.tags.all()) == ["math", "pioneer"]


def test_edit_page_keeps_input_on_duplicate_email(member_client, org, lead):
    factories.make_lead(org, email="taken@example.com")
    data = {"email": "taken@example.com", "status": "new", "first_name": "Changed"}
    response = member_client.post(_url(org, lead, "edit/"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Another lead already has this email address." in body
    assert 'value="Changed"' in body
    lead.refresh_from_db()
    assert lead.first_name == "Ada"  # nothing half-saved


# Tags ------------------------------------------------------------------------------------


def test_tags_are_added_and_removed(member_client, org, lead):
    response = member_client.post(_url(org, lead, "tags/add/"), {"name": "q3, Enterprise"}, **HTMX)
    assert response.status_code == 200
    assert 'id="tags"' in response.content.decode()
    assert sorted(t.name for t in lead.tags.all()) == ["Enterprise", "q3", "vip"]
    member_client.post(_url(org, lead, "tags/remove/"), {"name": "vip"}, **HTMX)
    assert sorted(t.name for t in lead.tags.all()) == ["Enterprise", "q3"]
    assert member_client.post(_url(org, lead, "tags/rename/"), {"name": "x"}).status_code == 404


# Timeline --------------------------------------------------------------------------------


def test_note_call_and_meeting_are_logged(member_client, member, org, lead):
    response = member_client.post(
        _url(org, lead, "activities/new/"), {"kind": "note", "body": "Likes tea"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "Likes tea" in body
    when = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    member_client.post(
        _url(org, lead, "activities/new/"),
        {"kind": "call", "body": "Discovery call", "occurred_at": when},
    )
    call = Activity.objects.for_lead(lead).get(kind=ActivityKind.CALL)
    assert call.actor == member and call.body == "Discovery call"
    assert timezone.localtime(call.occurred_at).strftime("%Y-%m-%dT%H:%M") == when
    lead.refresh_from_db()
    assert lead.last_contacted_at == call.occurred_at
    member_client.post(_url(org, lead, "activities/new/"), {"kind": "meeting", "body": "Demo"})
    body = member_client.get(_url(org, lead)).content.decode()
    assert "Call logged" in body and "Meeting logged" in body


def test_empty_note_is_refused_with_an_error(member_client, org, lead):
    response = member_client.post(
        _url(org, lead, "activities/new/"), {"kind": "note", "body": ""}, **HTMX
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Activity.objects.for_lead(lead).filter(kind=ActivityKind.NOTE).exists()


def test_every_kind_reads_as_words(member_client, org, lead, owner):
    samples = {
        ActivityKind.IMPORT: ({"filename": "hubspot.csv"}, "Imported from hubspot.csv"),
        ActivityKind.EMAIL_SENT: ({"subject": "Hello Ada"}, "Email sent: Hello Ada"),
        ActivityKind.EMAIL_RECEIVED: ({"subject": "Re: Hello"}, "Email received: Re: Hello"),
        ActivityKind.AGENT_RUN: ({"agent": "research"}, "Agent run: research"),
        ActivityKind.ENRICHMENT: ({"fields": ["industry"]}, "Enriched: industry"),
        ActivityKind.FORM_SUBMISSION: ({"form_name": "Demo"}, "Submitted the form “Demo”"),
        ActivityKind.MERGE: ({"other_name": "Ada L."}, "Merged with Ada L."),
        ActivityKind.ARCHIVED: ({}, "Archived"),
        ActivityKind.RESTORED: ({}, "Restored"),
    }
    for kind, (data, _title) in samples.items():
        services.add_activity(lead=lead, kind=kind, actor=owner, data=data)
    services.add_activity(
        lead=lead, kind=ActivityKind.ENRICHMENT, data={"provider": "web", "pages": 3}
    )
    body = member_client.get(_url(org, lead)).content.decode()
    for _kind, (_data, title) in samples.items():
        assert title in body, title
    # Facts without a dedicated wording are still listed.
    assert "Provider: web" in body and "Pages: 3" in body


def test_timeline_loads_older_entries_page_by_page(member_client, org, lead, owner):
    start = timezone.now() - timedelta(days=10)
    for n in range(TIMELINE_PAGE + 5):
        services.add_activity(
            lead=lead,
            kind=ActivityKind.NOTE,
            actor=owner,
            body=f"Note number {n:02d}",
            occurred_at=start + timedelta(hours=n),
        )
    body = member_client.get(_url(org, lead)).content.decode()
    assert f"Note number {TIMELINE_PAGE + 4:02d}" in body
    assert "Note number 04" not in body
    assert "Lead created" in body  # now: the newest entry
    more = re.search(r'hx-get="([^"]+\?before=[^"]+)"', body).group(1).replace("&amp;", "&")
    response = member_client.get(more, HTTP_HX_TARGET="timeline-more", **HTMX)
    page_two = response.content.decode()
    assert "<html" not in page_two
    assert "Note number 04" in page_two and "Note number 00" in page_two
    assert f"Note number {TIMELINE_PAGE + 4:02d}" not in page_two
    assert 'id="timeline-more"' not in page_two
    assert member_client.get(_url(org, lead) + "?before=garbage").status_code == 404


# Archive and restore ---------------------------------------------------------------------


def test_archive_and_restore(member_client, org, lead):
    response = member_client.post(_url(org, lead, "archive/"))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.is_archived
    body = member_client.get(_url(org, lead)).content.decode()
    assert "Archived" in body and ">Restore</button>" in body
    member_client.post(_url(org, lead, "restore/"))
    lead.refresh_from_db()
    assert not lead.is_archived


def test_restore_refuses_when_the_email_was_taken_meanwhile(member_client, org, lead, owner):
    services.archive_lead(lead=lead, actor=owner)
    factories.make_lead(org, email="ada@engines.example")
    response = member_client.post(_url(org, lead, "restore/"), follow=True)
    assert "Another active lead has ada@engines.example" in response.content.decode()
    lead.refresh_from_db()
    assert lead.is_archived


def test_archive_with_htmx_redirects_the_page(member_client, org, lead):
    response = member_client.post(_url(org, lead, "archive/"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == _url(org, lead)


# Queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 30])
def test_query_count_does_not_grow_with_timeline_tags_or_tasks(
    owner_client, org, owner, lead, extra, django_assert_num_queries
):
    from leads.models import LeadTask

    services.add_tags(leads=[lead], names=[f"t{n}" for n in range(extra)], organization=org)
    from leads.models import CustomFieldDefinition

    for n in range(extra):
        CustomFieldDefinition.objects.create(organization=org, key=f"k{n}", label=f"K{n}")
        services.add_activity(lead=lead, kind=ActivityKind.NOTE, actor=owner, body=f"n{n}")
        LeadTask.objects.create(organization=org, lead=lead, title=f"Task {n}", assignee=owner)
    owner_client.get(_url(org, lead))
    # session, user, membership; the lead with company and owner; tags; a page of the
    # timeline with actors; tasks with assignees; the custom field definitions; the assignee
    # choices; the sidebar's organizations and saved views.
    with django_assert_num_queries(11):
        response = owner_client.get(_url(org, lead))
    assert response.status_code == 200
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_privacy_actions_follow_the_role(client, org, lead, owner, member, viewer):
    erase_url = f"/o/{org.slug}/leads/{lead.pk}/erase/"
    seen = {}
    for user in (owner, member, viewer):
        client.force_login(user)
        html = client.get(f"/o/{org.slug}/leads/{lead.pk}/").content.decode()
        seen[user.email] = ("Download data" in html, erase_url in html)
    assert seen == {
        owner.email: (True, True),
        member.email: (True, False),
        viewer.email: (False, False),
    }


# Custom fields ----------------------------------------------------------------------------


def _custom(org, key, label, field_type="text", choices=()):
    from leads.models import CustomFieldDefinition

    return CustomFieldDefinition.objects.create(
        organization=org, key=key, label=label, field_type=field_type, choices=list(choices)
    )


def _custom_url(org, lead, definition, rest=""):
    return _url(org, lead, f"custom-fields/{definition.pk}/{rest}")


def test_custom_fields_card_lists_every_definition(member_client, org, lead):
    _custom(org, "budget", "Budget", "number")
    _custom(org, "trial", "On trial", "boolean")
    site = _custom(org, "site", "Website", "url")
    _custom(org, "plan", "Plan", "choice", ["Free", "Pro"])
    Lead.objects.filter(pk=lead.pk).update(
        custom_fields={"budget": 1200, "trial": True, "site": "https://engines.example"}
    )
    response = member_client.get(_url(org, lead))
    html = response.content.decode()
    assert "Custom fields" in html
    rows = {c["definition"].key: c["value"] for c in response.context["custom_fields"]}
    assert rows == {"budget": "1200", "trial": "Yes", "site": "https://engines.example", "plan": ""}
    assert 'href="https://engines.example"' in html
    assert f'id="edit-custom-{site.pk}"' in html
    _csp_safe(html)


def test_custom_field_edit_form_is_a_fragment(member_client, org, lead):
    plan = _custom(org, "plan", "Plan", "choice", ["Free", "Pro"])
    Lead.objects.filter(pk=lead.pk).update(custom_fields={"plan": "Pro"})
    response = member_client.get(_custom_url(org, lead, plan, "edit/"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<div class="field-row is-editing" id="custom-{plan.pk}"')
    assert '<option value="Pro" selected>' in html
    assert "<nav" not in html
    # Cancel: the value again.
    response = member_client.get(_custom_url(org, lead, plan), **HTMX)
    assert f'id="custom-{plan.pk}"' in response.content.decode()
    assert "is-editing" not in response.content.decode()


@pytest.mark.parametrize(
    ("field_type", "choices", "posted", "stored"),
    [
        ("number", (), "12.5", 12.5),
        ("number", (), "40", 40),
        ("date", (), "2026-12-01", "2026-12-01"),
        ("boolean", (), "false", False),
        ("choice", ("Free", "Pro"), "Pro", "Pro"),
        ("url", (), "https://x.example/a", "https://x.example/a"),
        ("text", (), "  Hello ", "Hello"),
    ],
)
def test_custom_field_is_saved_by_type_on_the_timeline(
    member_client, member, org, lead, field_type, choices, posted, stored
):
    definition = _custom(org, "thing", "Thing", field_type, choices)
    Lead.objects.filter(pk=lead.pk).update(custom_fields={"other": "kept"})
    response = member_client.post(_custom_url(org, lead, definition), {"value": posted}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger-After-Swap"] == "leadChanged"
    lead.refresh_from_db()
    assert lead.custom_fields == {"other": "kept", "thing": stored}
    change = Activity.objects.filter(lead=lead, kind=ActivityKind.FIELD_CHANGE).latest("id")
    assert change.actor == member
    assert change.data["changes"]["custom_fields"] == [{"other": "kept"}, lead.custom_fields]
    # The timeline reads only the key that changed.
    html = member_client.get(_url(org, lead)).content.decode()
    assert "Custom fields: thing: — →" in html
    assert "other: kept" not in html


def test_emptying_a_custom_field_removes_the_key(member_client, org, lead):
    definition = _custom(org, "budget", "Budget", "number")
    Lead.objects.filter(pk=lead.pk).update(custom_fields={"budget": 5})
    member_client.post(_custom_url(org, lead, definition), {"value": ""}, **HTMX)
    lead.refresh_from_db()
    assert lead.custom_fields == {}


@pytest.mark.parametrize(
    ("field_type", "choices", "posted", "message"),
    [
        ("number", (), "lots", "Enter a number."),
        ("date", (), "01/12/2026", "Enter a date as YYYY-MM-DD."),
        ("boolean", (), "maybe", "Select a valid choice."),
        ("choice", ("Free", "Pro"), "Gold", "Select a valid choice."),
        ("url", (), "not a url", "Enter a valid URL."),
    ],
)
def test_invalid_custom_value_is_rerendered_with_its_error(
    member_client, org, lead, field_type, choices, posted, message
):
    definition = _custom(org, "thing", "Thing", field_type, choices)
    response = member_client.post(_custom_url(org, lead, definition), {"value": posted}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "is-editing" in html
    assert message in html
    lead.refresh_from_db()
    assert "thing" not in lead.custom_fields


def test_custom_field_without_javascript(member_client, org, lead):
    definition = _custom(org, "budget", "Budget", "number")
    # The Edit link opens the page with the form in place.
    response = member_client.get(_custom_url(org, lead, definition, "edit/"))
    assert response.status_code == 200
    assert "Timeline" in response.content.decode()
    assert f'id="id_custom_{definition.pk}"' in response.content.decode()
    # An error keeps the whole page with the form; a valid value goes back to the page.
    response = member_client.post(_custom_url(org, lead, definition), {"value": "x"})
    assert response.status_code == 200
    assert "Enter a number." in response.content.decode()
    response = member_client.post(_custom_url(org, lead, definition), {"value": "7"})
    assert response.status_code == 302
    assert response["Location"] == _url(org, lead)
    lead.refresh_from_db()
    assert lead.custom_fields == {"budget": 7}


def test_viewer_cannot_edit_custom_fields(viewer_client, org, lead):
    definition = _custom(org, "budget", "Budget", "number")
    html = viewer_client.get(_url(org, lead)).content.decode()
    assert "Budget" in html
    assert "edit-custom-" not in html
    assert viewer_client.post(_custom_url(org, lead, definition), {"value": "1"}).status_code == 403
    assert viewer_client.get(_custom_url(org, lead, definition, "edit/"), **HTMX).status_code == 403
    lead.refresh_from_db()
    assert lead.custom_fields == {}


def test_custom_field_outsider_gets_404(outsider_client, org, lead):
    definition = _custom(org, "budget", "Budget", "number")
    url = _custom_url(org, lead, definition)
    assert outsider_client.get(f"{url}edit/", **HTMX).status_code == 404
    assert outsider_client.post(url, {"value": "1"}).status_code == 404


def test_custom_field_tenancy_and_methods(member_client, org, other_org, lead):
    definition = _custom(org, "budget", "Budget", "number")
    foreign = _custom(other_org, "budget", "Budget", "number")
    assert member_client.post(_custom_url(org, lead, foreign), {"value": "1"}).status_code == 404
    assert member_client.get(_custom_url(org, lead, foreign, "edit/"), **HTMX).status_code == 404
    assert member_client.put(_custom_url(org, lead, definition)).status_code == 405
    assert member_client.post(_custom_url(org, lead, definition, "edit/")).status_code == 405
