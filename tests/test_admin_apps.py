"""Staff admin of the leads, enrichment, agents and campaigns apps: every changelist and change page opens, and
no changelist runs more queries with more rows (N+1)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrichment.models import FetchCacheEntry
from tests import factories
from tests.accounts.test_admin import staff, staff_client  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

APPS = ("leads", "enrichment", "agents", "campaigns")


def _registered():
    return sorted(
        (model._meta.app_label, model._meta.model_name)
        for model in admin.site._registry
        if model._meta.app_label in APPS
    )


def _tenant(n: int):
    from django.utils import timezone

    org = factories.make_org(f"Admin tenant {n}")
    factories.populate_org(org)
    FetchCacheEntry.objects.create(
        key=f"{n:064d}",
        url=f"https://example.com/{n}",
        final_url=f"https://example.com/{n}",
        status=200,
        headers={},
        body=b"<html></html>",
        expires_at=timezone.now(),
    )
    return org


def _queries(client, app: str, model: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == 200, (app, model, response.status_code)
    return len(captured)


def test_the_main_models_have_an_admin():
    names = {f"{app}.{model}" for app, model in _registered()}
    assert {
        "leads.lead",
        "leads.company",
        "leads.activity",
        "leads.importjob",
        "enrichment.enrichmentjob",
        "enrichment.enrichmentresult",
        "enrichment.fetchcacheentry",
        "agents.agentrun",
        "agents.draft",
        "agents.providerkey",
        "campaigns.campaign",
        "campaigns.message",
        "campaigns.sender",
    } <= names


def test_changelists_do_not_grow_with_rows(staff_client):  # noqa: F811
    _tenant(1)
    few = {key: _queries(staff_client, *key) for key in _registered()}
    for n in range(2, 5):
        _tenant(n)
    many = {key: _queries(staff_client, *key) for key in _registered()}
    assert many == few


def test_change_pages_open_and_lead_status_is_read_only(staff_client):  # noqa: F811
    _tenant(1)
    for app, model_name in _registered():
        model = next(m for m in admin.site._registry if m._meta.model_name == model_name)
        obj = model.objects.order_by("pk").first()
        assert obj is not None, model_name
        response = staff_client.get(reverse(f"admin:{app}_{model_name}_change", args=[obj.pk]))
        assert response.status_code == 200, (model_name, response.status_code)
    from leads.models import Lead

    lead = Lead.objects.order_by("pk").first()
    html = staff_client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert 'name="status"' not in html and 'name="email"' in html


def test_provider_keys_never_show_their_secret_in_admin(staff_client):  # noqa: F811
    from agents.models import ProviderKey

    org = _tenant(1)
    key = ProviderKey.objects.get(organization=org)
    html = staff_client.get(reverse("admin:agents_providerkey_change", args=[key.pk])).content
    html = html.decode()
    assert f"sk-{org.slug}-0123456789" not in html and key.encrypted_key not in html
    assert key.hint in html
