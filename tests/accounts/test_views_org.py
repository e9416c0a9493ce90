"""Home, organization creation, general settings, usage and leaving (the dashboard is tested
in tests/leads/test_views_dashboard.py)."""

from __future__ import annotations

import pytest

from accounts import usage
from accounts.models import Event, Membership, Organization, Plan, Role, User
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}


# Home ---------------------------------------------------------------------------------


def test_home_sends_anonymous_visitors_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_lands_in_the_last_organization(client, owner, org):
    second = factories.make_org("Second Co", owner=owner)
    User.objects.filter(pk=owner.pk).update(last_organization=second)
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{second.slug}/"


def test_home_offers_to_create_an_organization_when_the_user_has_none(client, outsider):
    client.force_login(outsider)
    response = client.get("/")
    assert response.status_code == 200
    assert b"Create your organization" in response.content
    assert b'action="/orgs/new/"' in response.content


# Creating an organization -----------------------------------------------------------------


def test_it_creates_an_organization_with_the_user_as_owner(owner_client, owner):
    response = owner_client.post("/orgs/new/", {"name": "Initech"})
    org = Organization.objects.get(name="Initech")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/"
    assert Membership.objects.get(organization=org, user=owner).role == Role.OWNER


def test_a_taken_organization_name_gets_a_suffixed_slug(owner_client, org):
    owner_client.post("/orgs/new/", {"name": org.name})
    slugs = sorted(Organization.objects.filter(name=org.name).values_list("slug", flat=True))
    assert len(slugs) == 2
    assert slugs[0] == org.slug
    assert slugs[1].startswith(f"{org.slug}-") and len(slugs[1]) > len(org.slug)


def test_create_organization_shows_errors_in_the_fragment_for_htmx(owner_client):
    response = owner_client.post("/orgs/new/", {"name": "  "}, **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="org-form"' in response.content
    assert b'class="error"' in response.content


def test_create_organization_with_htmx_redirects_the_client(owner_client):
    response = owner_client.post("/orgs/new/", {"name": "Hooli"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/o/hooli")


def test_create_organization_refuses_other_methods(owner_client):
    assert owner_client.put("/orgs/new/").status_code == 405


def test_create_organization_needs_login(client, db):
    assert client.post("/orgs/new/", {"name": "X"}).status_code == 302
    assert not Organization.objects.filter(name="X").exists()


def test_settings_root_leads_to_general_settings(viewer_client, org, outsider):
    response = viewer_client.get(f"/o/{org.slug}/settings/")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/settings/general/"
    viewer_client.force_login(outsider)
    assert viewer_client.get(f"/o/{org.slug}/settings/").status_code == 404


# General settings ---------------------------------------------------------------------------


def test_admin_renames_the_organization(client, admin_user, org):
    client.force_login(admin_user)
    response = client.post(f"/o/{org.slug}/settings/general/", {"name": "Acme Global"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "Acme Global"
    assert org.slug == "acme-corp"
    assert Event.objects.for_org(org).filter(type="organization.renamed").exists()


def test_rename_with_htmx_returns_the_form_fragment_and_a_toast(owner_client, org):
    response = owner_client.post(f"/o/{org.slug}/settings/general/", {"name": "Acme 2"}, **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="org-form"' in response.content
    assert "Settings saved." in response["HX-Trigger"]


def test_the_default_country_reads_phone_numbers_without_a_country_code(owner_client, org, owner):
    from leads import services as lead_services

    page = owner_client.get(f"/o/{org.slug}/settings/general/").content.decode()
    assert '<option value="DE">Germany (+49)</option>' in page
    response = owner_client.post(
        f"/o/{org.slug}/settings/general/", {"name": org.name, "default_country": "DE"}
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.default_country == "DE"
    event = Event.objects.for_org(org).get(type="organization.updated")
    assert event.payload == {"default_country": {"from": "", "to": "DE"}}
    assert not Event.objects.for_org(org).filter(type="organization.renamed").exists()

    lead = lead_services.create_lead(
        organization=org, actor=owner, data={"first_name": "Max", "phone": "030 1234567"}
    )
    assert (lead.phone, lead.phone_raw) == ("+49301234567", "030 1234567")
    lead = lead_services.update_lead(lead=lead, actor=owner, changes={"phone": "0171 2345678"})
    assert lead.phone == "+491712345678"
    # A number with its own country code keeps it.
    lead = lead_services.update_lead(lead=lead, actor=owner, changes={"phone": "+1 415 555 0123"})
    assert lead.phone == "+14155550123"

    response = owner_client.post(
        f"/o/{org.slug}/settings/general/", {"name": org.name, "default_country": "XX"}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    org.refresh_from_db()
    assert org.default_country == "DE"


def test_member_and_viewer_may_read_but_not_rename(member_client, org, viewer):
    assert member_client.get(f"/o/{org.slug}/settings/general/").status_code == 200
    assert member_client.post(f"/o/{org.slug}/settings/general/", {"name": "X"}).status_code == 403
    member_client.force_login(viewer)
    assert member_client.post(f"/o/{org.slug}/settings/general/", {"name": "X"}).status_code == 403
    org.refresh_from_db()
    assert org.name == "Acme Corp"


def test_general_settings_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(f"/o/{org.slug}/settings/general/").status_code == 404
    assert (
        outsider_client.post(f"/o/{org.slug}/settings/general/", {"name": "X"}).status_code == 404
    )


def test_general_settings_refuses_delete(owner_client, org):
    assert owner_client.delete(f"/o/{org.slug}/settings/general/").status_code == 405


# Usage --------------------------------------------------------------------------------------------


@pytest.fixture
def limited_org(org):
    plan = Plan.objects.create(code="starter", name="Starter", limits={"enrichment.company": 200})
    org.plan = plan
    org.save(update_fields=["plan"])
    usage.record(org, "enrichment.company", 50)
    usage.record(org, "api.request", 1234)
    return org


def test_usage_shows_this_months_use_against_the_plan(viewer_client, limited_org):
    response = viewer_client.get(f"/o/{limited_org.slug}/settings/usage/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Starter plan" in body
    assert "1,234" in body  # thousands separator
    assert "25.0%" in body  # 50 of 200
    assert 'max="200" value="50"' in body


def test_usage_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(f"/o/{org.slug}/settings/usage/").status_code == 404


def test_usage_refuses_post(owner_client, org):
    assert owner_client.post(f"/o/{org.slug}/settings/usage/").status_code == 405


def test_usage_htmx_gets_the_fragment(owner_client, org):
    response = owner_client.get(f"/o/{org.slug}/settings/usage/", **HTMX)
    assert b"<html" not in response.content
    assert b'id="usage"' in response.content


# Leaving ------------------------------------------------------------------------------------------


def test_a_viewer_can_leave(viewer_client, viewer, org):
    response = viewer_client.post(f"/o/{org.slug}/leave/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Membership.objects.filter(organization=org, user=viewer).exists()


def test_the_last_owner_cannot_leave(owner_client, owner, org):
    response = owner_client.post(f"/o/{org.slug}/leave/", follow=True)
    assert Membership.objects.filter(organization=org, user=owner).exists()
    assert b"The last owner cannot leave" in response.content


def test_leave_refuses_get(owner_client, org):
    assert owner_client.get(f"/o/{org.slug}/leave/").status_code == 405


def test_leave_outsider_gets_404(outsider_client, org):
    assert outsider_client.post(f"/o/{org.slug}/leave/").status_code == 404


def test_leave_with_htmx_redirects_the_client_home(member_client, org):
    response = member_client.post(f"/o/{org.slug}/leave/", **HTMX)
    assert response["HX-Redirect"] == "/"


def test_the_postal_address_is_kept_for_email_footers(owner_client, org):
    response = owner_client.post(
        f"/o/{org.slug}/settings/general/",
        {
            "name": org.name,
            "default_country": "",
            "postal_address": "  Acme Corp\nMain St 1\n10115 Berlin ",
        },
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.postal_address == "Acme Corp\nMain St 1\n10115 Berlin"
    page = owner_client.get(f"/o/{org.slug}/settings/general/").content.decode()
    assert "Main St 1" in page
