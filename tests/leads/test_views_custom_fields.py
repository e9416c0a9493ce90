"""Custom fields settings: owners and admins add, rename and delete; others read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads.models import CustomFieldDefinition, FieldType, Lead
from leads.views import custom_fields as views
from tests import factories


def _url(org, name="leads:custom_fields", *args):
    return reverse(name, args=[org.slug, *args])


@pytest.fixture
def budget(org):
    return CustomFieldDefinition.objects.create(
        organization=org, key="budget", label="Budget", field_type=FieldType.NUMBER
    )


def test_page_lists_fields_with_value_counts(owner_client, org, budget):
    factories.make_lead(org, email="a@example.com", custom_fields={"budget": 10})
    factories.make_lead(org, email="b@example.com", custom_fields={"other": 1})
    response = owner_client.get(_url(org))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Budget" in html and "<code>budget</code>" in html
    assert response.context["definitions"][0].value_count == 1
    assert "Add a field" in html
    assert 'aria-current="page">Custom fields' in html


def test_viewer_reads_without_forms(viewer_client, org, budget):
    response = viewer_client.get(_url(org))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Budget" in html
    assert "Add a field" not in html
    assert "Only owners and admins" in html


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(_url(org)).status_code == 404


def test_add_a_choice_field(owner_client, org):
    response = owner_client.post(
        _url(org),
        {
            "label": "Plan  tier",
            "key": "",
            "field_type": "choice",
            "choices": "Free\nPro, Team\nPro",
        },
    )
    assert response.status_code == 302
    definition = CustomFieldDefinition.objects.get(organization=org)
    assert definition.key == "plan_tier"
    assert definition.label == "Plan tier"
    assert definition.choices == ["Free", "Pro", "Team"]


def test_add_keeps_choices_only_for_choice_type(owner_client, org):
    owner_client.post(
        _url(org), {"label": "Renewal", "key": "renews", "field_type": "date", "choices": "x"}
    )
    definition = CustomFieldDefinition.objects.get(organization=org)
    assert (definition.key, definition.field_type, definition.choices) == ("renews", "date", [])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"label": "Budget", "key": "budget", "field_type": "text"}, "key"),
        ({"label": "Plan", "key": "", "field_type": "choice", "choices": " "}, "choices"),
        ({"label": "X", "key": "not a slug", "field_type": "text"}, "key"),
        ({"label": "X", "key": "x", "field_type": "colour"}, "field_type"),
    ],
)
def test_add_validation(owner_client, org, budget, data, field):
    response = owner_client.post(_url(org), data)
    assert response.status_code == 200
    assert field in response.context["add_form"].errors
    assert CustomFieldDefinition.objects.filter(organization=org).count() == 1


def test_key_is_unique_per_org_only(owner_client, org, other_org):
    CustomFieldDefinition.objects.create(organization=other_org, key="budget", label="B")
    response = owner_client.post(_url(org), {"label": "Budget", "field_type": "number"})
    assert response.status_code == 302
    assert CustomFieldDefinition.objects.filter(organization=org, key="budget").exists()


def test_rename(owner_client, org, budget):
    response = owner_client.post(
        _url(org, "leads:custom_field_rename", budget.pk), {f"f{budget.pk}-label": "Budget (€)"}
    )
    assert response.status_code == 302
    budget.refresh_from_db()
    assert (budget.label, budget.key) == ("Budget (€)", "budget")


def test_rename_validation(owner_client, org, budget):
    response = owner_client.post(
        _url(org, "leads:custom_field_rename", budget.pk), {f"f{budget.pk}-label": "  "}
    )
    assert response.status_code == 200
    assert "rename-error-" in response.content.decode()
    budget.refresh_from_db()
    assert budget.label == "Budget"


def test_delete_keeps_values(owner_client, org, budget):
    lead = factories.make_lead(org, email="a@example.com", custom_fields={"budget": 10})
    response = owner_client.get(_url(org))
    assert "1 lead has a value for it" in response.content.decode()
    response = owner_client.post(_url(org, "leads:custom_field_delete", budget.pk))
    assert response.status_code == 302
    assert not CustomFieldDefinition.objects.filter(pk=budget.pk).exists()
    lead.refresh_from_db()
    assert lead.custom_fields == {"budget": 10}


def test_delete_removes_values_in_chunks(owner_client, org, budget, monkeypatch):
    monkeypatch.setattr(views, "REMOVE_CHUNK", 2)
    leads = [
        factories.make_lead(org, email=f"l{n}@example.com", custom_fields={"budget": n, "k": n})
        for n in range(5)
    ]
    untouched = factories.make_lead(org, email="u@example.com", custom_fields={"k": 9})
    response = owner_client.post(
        _url(org, "leads:custom_field_delete", budget.pk), {"remove_values": "1"}
    )
    assert response.status_code == 302
    for n, lead in enumerate(leads):
        lead.refresh_from_db()
        assert lead.custom_fields == {"k": n}
    untouched.refresh_from_db()
    assert untouched.custom_fields == {"k": 9}
    assert not Lead.objects.filter(custom_fields__has_key="budget").exists()


def test_delete_htmx_redirects(owner_client, org, budget):
    response = owner_client.post(
        _url(org, "leads:custom_field_delete", budget.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == _url(org)


def test_htmx_get_is_the_fragment(owner_client, org, budget):
    response = owner_client.get(_url(org), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="custom-fields"')
    assert "<nav" not in html


@pytest.mark.parametrize("client_name", ["member_client", "viewer_client"])
def test_non_admins_cannot_change(request, org, budget, client_name):
    client = request.getfixturevalue(client_name)
    assert client.post(_url(org), {"label": "X", "field_type": "text"}).status_code == 403
    assert (
        client.post(
            _url(org, "leads:custom_field_rename", budget.pk), {f"f{budget.pk}-label": "Y"}
        ).status_code
        == 403
    )
    assert client.post(_url(org, "leads:custom_field_delete", budget.pk)).status_code == 403
    budget.refresh_from_db()
    assert budget.label == "Budget"
    assert CustomFieldDefinition.objects.filter(organization=org).count() == 1


def test_admin_can_manage(client, org, admin_user):
    client.force_login(admin_user)
    assert client.post(_url(org), {"label": "Seats", "field_type": "number"}).status_code == 302


def test_other_orgs_field_is_404(owner_client, org, other_org):
    foreign = CustomFieldDefinition.objects.create(organization=other_org, key="x", label="X")
    assert owner_client.post(_url(org, "leads:custom_field_delete", foreign.pk)).status_code == 404
    assert (
        owner_client.post(
            _url(org, "leads:custom_field_rename", foreign.pk), {f"f{foreign.pk}-label": "Y"}
        ).status_code
        == 404
    )
    assert CustomFieldDefinition.objects.filter(pk=foreign.pk, label="X").exists()


def test_methods(owner_client, org, budget):
    assert owner_client.put(_url(org)).status_code == 405
    assert owner_client.get(_url(org, "leads:custom_field_delete", budget.pk)).status_code == 405
    assert owner_client.get(_url(org, "leads:custom_field_rename", budget.pk)).status_code == 405


def test_query_count_is_pinned(owner_client, org, django_assert_num_queries):
    for n in range(5):
        CustomFieldDefinition.objects.create(organization=org, key=f"k{n}", label=f"K{n}")
    owner_client.get(_url(org))
    with django_assert_num_queries(7):
        # session; user; membership (with organization); definitions; the value counts
        # (one aggregate over the leads); sidebar memberships; sidebar saved views
        response = owner_client.get(_url(org))
    assert len(response.context["definitions"]) == 5
