"""In a real browser: a filtered lead list shows its rows at once and its total when the
count (a second request) arrives, in the results bar, the pager and the bulk bar."""

from __future__ import annotations

import pytest


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_filtered_list_fills_in_its_count(live_server, browser_page):
    from playwright.sync_api import expect

    from leads.models import Lead
    from tests import factories

    owner = factories.make_user("lister@example.com", name="Lou Lister")
    org = factories.make_org("List Co", owner=owner)
    Lead.objects.bulk_create(
        [
            Lead(organization=org, first_name=f"Fair{n}", email=f"f{n}@fair.example", source="fair")
            for n in range(55)
        ]
        + [Lead(organization=org, first_name="Other", email="o@web.example", source="web")]
    )

    page = browser_page
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("lister@example.com")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/o/{org.slug}/")

    page.goto(f"{base}/o/{org.slug}/leads/?source=fair")
    results = page.locator(".results-bar")
    expect(results).to_contain_text("Showing 1–50 of 55 leads matching these filters")
    expect(page.locator(".pagination")).to_contain_text("Page 1 of 2")
    expect(page.locator(".bulk-all")).to_contain_text("All 55 matching")

    # Changing a filter replaces the results, and the new ones count themselves too.
    page.get_by_label("Source").fill("")
    page.get_by_label("Source").press("Enter")
    expect(results).to_contain_text("Showing 1–50 of 56 leads")
    assert not page.problems, page.problems
