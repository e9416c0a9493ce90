"""In a real browser: sign up, log out, log in, create an API key and see it listed.

Headless Chromium (Debian's `chromium`) driven by Playwright against pytest-django's
live_server. Skipped, with the reason printed, where no Chromium binary is installed.
"""

from __future__ import annotations

import re

import pytest


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_sign_up_log_out_log_in_and_create_an_api_key(live_server, browser_page):
    from playwright.sync_api import expect

    from accounts.models import ApiKey, Membership, Role

    page = browser_page
    base = live_server.url
    email, password = "grace@example.com", "a-long-and-unusual-passphrase"

    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Organization name").fill("Cobol Corp")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_title("Dashboard · Cobol Corp · Prospector")
    membership = Membership.objects.select_related("organization").get(user__email=email)
    assert membership.role == Role.OWNER
    slug = membership.organization.slug

    # Log out from the user menu.
    page.locator("details.user-menu > summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base}/accounts/login/")

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/o/{slug}/")

    # Create an API key (an HTMX form): the full key is shown once, and the key is listed.
    page.goto(f"{base}/o/{slug}/settings/api-keys/")
    page.get_by_label("Name").fill("Browser key")
    page.get_by_role("button", name="Create key").click()
    shown = page.locator("#new-key-value")
    expect(shown).to_have_value(re.compile(r"^pk_live_"))
    expect(page.locator("#api-keys table.table")).to_contain_text("Browser key")
    expect(page.locator(".toast")).to_contain_text("created")

    key = ApiKey.objects.get(organization__slug=slug)
    assert shown.input_value().startswith(key.prefix)

    page.reload()
    expect(page.locator("#api-keys table.table")).to_contain_text("Browser key")
    expect(page.locator("#new-key-value")).to_have_count(0)

    # Nothing was blocked by the Content-Security-Policy or failed in JavaScript.
    assert not page.problems, page.problems
