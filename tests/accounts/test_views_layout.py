"""The shell every page shares: navigation, switcher, title, HTMX wiring, CSP safety."""

from __future__ import annotations

import re

import pytest

from tests import factories

PAGES = [
    "/o/{slug}/",
    "/o/{slug}/settings/general/",
    "/o/{slug}/settings/members/",
    "/o/{slug}/settings/api-keys/",
    "/o/{slug}/settings/webhooks/",
    "/o/{slug}/settings/audit-log/",
    "/o/{slug}/settings/usage/",
    "/orgs/new/",
    "/accounts/email/",
    "/accounts/2fa/",
]


@pytest.fixture
def busy_org(org, owner):
    factories.populate_org(org)
    return org


@pytest.mark.parametrize("template", PAGES)
def test_pages_are_csp_safe(owner_client, busy_org, template):
    response = owner_client.get(template.format(slug=busy_org.slug))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Content-Security-Policy" in response.headers
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag or "application/json" in tag or f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>\s*\S", body)
    assert not re.search(r"\sstyle=", body), (
        "inline style attributes are blocked by style-src 'self'"
    )
    assert not re.search(r"\son[a-z]+=", body), "inline event handlers are blocked by the CSP"
    assert "hx-on" not in body


def test_the_shell_wires_htmx_with_csrf_and_no_inline_indicator_styles(owner_client, org):
    body = owner_client.get(f"/o/{org.slug}/").content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx-2[^"]*\.js"', body)
    assert (
        "&quot;includeIndicatorStyles&quot;:false" in body
        or '"includeIndicatorStyles":false' in body
    )
    token = re.search(r"""hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", body)
    assert token and len(token.group(1)) >= 32


def test_the_sidebar_links_every_app(owner_client, org):
    body = owner_client.get(f"/o/{org.slug}/").content.decode()
    assert f'href="/o/{org.slug}/companies/"' in body
    assert f'href="/o/{org.slug}/tasks/"' in body
    assert f'href="/o/{org.slug}/enrichment/"' in body
    assert f'href="/o/{org.slug}/agents/"' in body
    assert f'href="/o/{org.slug}/campaigns/"' in body
    assert "coming soon" not in body
    assert (
        'aria-current="page"><svg class="icon" aria-hidden="true"><use href="#i-home"></use></svg>Dashboard'
        in body
    )


def test_the_switcher_lists_the_users_organizations_and_new_organization(owner_client, owner, org):
    second = factories.make_org("Globex", owner=owner)
    body = owner_client.get(f"/o/{org.slug}/").content.decode()
    assert f'href="/o/{second.slug}/"' in body
    assert f'href="/o/{org.slug}/" aria-current="true"' in body
    assert 'href="/orgs/new/"' in body


def test_the_user_menu_has_account_links_and_a_logout_form(owner_client, org):
    body = owner_client.get(f"/o/{org.slug}/").content.decode()
    for path in ("/accounts/email/", "/accounts/password/change/", "/accounts/2fa/"):
        assert f'href="{path}"' in body
    assert re.search(r'<form method="post" action="/accounts/logout/">', body)


def test_flash_messages_render_as_toasts(owner_client, org):
    response = owner_client.post("/orgs/new/", {"name": "Toast Co"}, follow=True)
    assert re.search(
        r'class="toast toast-success" role="status">\s*<span class="toast-text">Toast Co is ready',
        response.content.decode(),
    )


def test_error_pages_use_the_layout(owner_client, client, org):
    response = owner_client.get("/o/no-such-org/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"<title>Page not found" in response.content
