"""settings/api-keys: owners and admins list, create (shown once) and revoke keys."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from accounts.models import ApiKey, hash_secret
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}
SCOPES = {
    "scope_leads": "write",
    "scope_enrichment": "read",
    "scope_agents": "",
    "scope_campaigns": "",
    "scope_organization": "",
}


def url(org, tail=""):
    return f"/o/{org.slug}/settings/api-keys/{tail}"


def test_api_keys_page_lists_keys_with_their_details(owner_client, org, owner):
    factories.make_api_key(org, owner, name="Zapier sync", scopes={"leads": "write"})
    response = owner_client.get(url(org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>API keys · Acme Corp · Prospector</title>" in body
    assert "Zapier sync" in body
    assert "pk_live_" in body
    assert "leads: read/write" in body
    assert "Olivia Owner" in body
    assert "Never" in body  # last used, expires


def test_empty_api_keys_page_offers_the_first_key(owner_client, org):
    response = owner_client.get(url(org))
    assert b"No API keys yet" in response.content
    assert b"Create your first key" in response.content


def test_api_keys_query_count_is_pinned(owner_client, org, owner, django_assert_num_queries):
    for n in range(5):
        factories.make_api_key(org, factories.add_member(org), name=f"Key {n}")
    # session, user, membership+org+plan, keys+users, the switcher's memberships
    with django_assert_num_queries(5):
        response = owner_client.get(url(org))
    assert response.content.count(b'<code class="nowrap small">pk_live_') == 5


def test_creating_a_key_shows_it_once_after_the_redirect(owner_client, org, owner):
    response = owner_client.post(url(org, "new/"), {"name": "Warehouse", **SCOPES})
    assert response.status_code == 302
    assert response["Location"] == url(org)
    key = ApiKey.objects.for_org(org).get()
    assert key.user == owner
    assert key.scopes == {"leads": "write", "enrichment": "read"}

    page = owner_client.get(url(org)).content.decode()
    raw = re.search(r'value="(pk_live_[^"]+)"', page).group(1)
    assert hash_secret(raw) == key.key_hash
    assert "data-copy=" in page
    # Shown once: the next visit has only the prefix.
    assert raw not in owner_client.get(url(org)).content.decode()


def test_creating_a_key_with_htmx_returns_the_fragment_with_the_key(owner_client, org):
    response = owner_client.post(url(org, "new/"), {"name": "Script", **SCOPES}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    raw = re.search(r'value="(pk_live_[^"]+)"', body).group(1)
    assert ApiKey.objects.get().key_hash == hash_secret(raw)
    assert "shown once" in response["HX-Trigger"]


def test_a_key_with_an_expiry_date(owner_client, org):
    day = (timezone.localdate() + timedelta(days=30)).isoformat()
    owner_client.post(url(org, "new/"), {"name": "Temp", "expires_at": day, **SCOPES})
    key = ApiKey.objects.get()
    assert timezone.localtime(key.expires_at).date().isoformat() == day


def test_invalid_key_form_keeps_input_and_explains(owner_client, org):
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    no_scopes = dict.fromkeys(SCOPES, "")
    response = owner_client.post(
        url(org, "new/"), {"name": "Nope", "expires_at": past, **no_scopes}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose a date in the future." in body
    assert "Give the key access to at least one area." in body
    assert 'value="Nope"' in body
    assert not ApiKey.objects.exists()


def test_revoking_a_key(owner_client, org, owner):
    key, _raw = factories.make_api_key(org, owner, name="Old")
    response = owner_client.post(url(org, f"{key.pk}/revoke/"))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_revoking_with_htmx_returns_the_fragment(owner_client, org, owner):
    key, _raw = factories.make_api_key(org, owner, name="Old")
    response = owner_client.post(url(org, f"{key.pk}/revoke/"), **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Revoked" in response.content


def test_members_and_viewers_get_403(member_client, org, owner, viewer):
    key, _raw = factories.make_api_key(org, owner)
    for user in (None, viewer):
        if user:
            member_client.force_login(user)
        assert member_client.get(url(org)).status_code == 403
        assert member_client.post(url(org, "new/"), {"name": "X", **SCOPES}).status_code == 403
        assert member_client.post(url(org, f"{key.pk}/revoke/")).status_code == 403
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None


def test_admin_may_manage_keys(client, admin_user, org):
    client.force_login(admin_user)
    assert client.get(url(org)).status_code == 200
    assert client.post(url(org, "new/"), {"name": "Admin key", **SCOPES}).status_code == 302


def test_outsider_gets_404(outsider_client, org, owner):
    key, _raw = factories.make_api_key(org, owner)
    assert outsider_client.get(url(org)).status_code == 404
    assert outsider_client.post(url(org, "new/"), {"name": "X", **SCOPES}).status_code == 404
    assert outsider_client.post(url(org, f"{key.pk}/revoke/")).status_code == 404


def test_another_organizations_key_cannot_be_revoked(owner_client, org, other_org, outsider):
    foreign, _raw = factories.make_api_key(other_org, outsider)
    assert owner_client.post(url(org, f"{foreign.pk}/revoke/")).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_wrong_methods_get_405(owner_client, org, owner):
    key, _raw = factories.make_api_key(org, owner)
    assert owner_client.post(url(org)).status_code == 405
    assert owner_client.get(url(org, "new/")).status_code == 405
    assert owner_client.get(url(org, f"{key.pk}/revoke/")).status_code == 405


def test_htmx_get_returns_the_fragment(owner_client, org):
    response = owner_client.get(url(org), **HTMX)
    assert b"<html" not in response.content
    assert response.content.lstrip().startswith(b'<div id="api-keys"')


def _names_in_order(body: str) -> list[str]:
    return re.findall(r"<td><strong>([^<]+)</strong>", body)


def test_keys_sort_by_last_use_and_revoked_keys_stay_last(owner_client, org, owner):
    now = timezone.now()
    stale, _ = factories.make_api_key(org, owner, name="Stale")
    fresh, _ = factories.make_api_key(org, owner, name="Fresh")
    factories.make_api_key(org, owner, name="Unused")
    gone, _ = factories.make_api_key(org, owner, name="Gone")
    ApiKey.objects.filter(pk=stale.pk).update(last_used_at=now - timedelta(days=9))
    ApiKey.objects.filter(pk=fresh.pk).update(last_used_at=now - timedelta(minutes=3))
    ApiKey.objects.filter(pk=gone.pk).update(last_used_at=now, revoked_at=now)
    body = owner_client.get(url(org), {"sort": "-last_used"}).content.decode()
    assert _names_in_order(body) == ["Fresh", "Stale", "Unused", "Gone"]
    assert 'aria-sort="descending"' in body
    body = owner_client.get(url(org), {"sort": "last_used"}).content.decode()
    assert _names_in_order(body) == ["Stale", "Fresh", "Unused", "Gone"]


def test_keys_sort_by_creation_newest_first_by_default(owner_client, org, owner):
    for name in ("First", "Second", "Third"):
        factories.make_api_key(org, owner, name=name)
    body = owner_client.get(url(org)).content.decode()
    assert _names_in_order(body) == ["Third", "Second", "First"]
    assert 'href="?sort=created"' in body  # a second click on "Created": oldest first
    body = owner_client.get(url(org), {"sort": "created"}).content.decode()
    assert _names_in_order(body) == ["First", "Second", "Third"]


def test_a_key_about_to_expire_is_flagged(owner_client, org, owner):
    factories.make_api_key(org, owner, name="Soon", expires_at=timezone.now() + timedelta(days=3))
    body = owner_client.get(url(org)).content.decode()
    assert "expires soon" in body


def test_actions_keep_the_sort_of_the_list(owner_client, org, owner):
    key, _ = factories.make_api_key(org, owner, name="Sorted")
    body = owner_client.get(url(org), {"sort": "name"}).content.decode()
    assert f'hx-post="/o/{org.slug}/settings/api-keys/{key.pk}/revoke/?sort=name"' in body
