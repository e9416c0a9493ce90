"""In a real browser: drag a lead card to another column of the pipeline board, and move one
with the keyboard through its Move to menu; both stay moved after a reload.

Headless Chromium (Debian's `chromium`) driven by Playwright against pytest-django's
live_server. Skipped, with the reason printed, where no Chromium binary is installed.
"""

from __future__ import annotations

import pytest


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_drag_a_card_and_move_one_with_the_keyboard(live_server, browser_page):
    from playwright.sync_api import expect

    from leads.models import Activity, ActivityKind, Lead, Status
    from tests import factories

    owner = factories.make_user("rep@example.com", name="Rita Rep")
    org = factories.make_org("Board Co", owner=owner)
    ada = factories.make_lead(org, actor=owner, first_name="Ada", last_name="Lovelace", score=80)
    grace = factories.make_lead(org, actor=owner, first_name="Grace", last_name="Hopper")

    page = browser_page
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("rep@example.com")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/o/{org.slug}/")

    page.goto(f"{base}/o/{org.slug}/pipeline/")
    expect(page).to_have_title("Pipeline · Board Co · Prospector")
    card = page.locator(f"#card-{ada.pk}")
    expect(page.locator("#cards-new")).to_contain_text("Ada Lovelace")
    expect(page.locator("#head-new .board-count")).to_contain_text("2")

    # Drag Ada to Qualified (HTML5 drag and drop).
    card.drag_to(page.locator("section[aria-labelledby='head-qualified']"))
    expect(page.locator("#cards-qualified")).to_contain_text("Ada Lovelace")
    expect(page.locator("#cards-new")).not_to_contain_text("Ada Lovelace")
    expect(page.locator(".toast")).to_contain_text("Lead moved to Qualified")
    expect(page.locator("#head-qualified .board-count")).to_contain_text("1")
    expect(page.locator("#head-new .board-count")).to_contain_text("1")
    # The moved card keeps the focus (once it has settled in its new column).
    expect(page.locator(f"#cards-qualified #card-{ada.pk} .move-menu summary")).to_be_focused()
    ada.refresh_from_db()
    assert ada.status == Status.QUALIFIED

    # Move Grace with the keyboard: focus her Move to menu, open it, choose Contacted.
    summary = page.locator(f"#card-{grace.pk} .move-menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    contacted = page.locator(f"#card-{grace.pk} .move-menu").get_by_role("button", name="Contacted")
    contacted.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cards-contacted")).to_contain_text("Grace Hopper")
    # Focus stays with the moved card, in its new column.
    expect(page.locator(f"#cards-contacted #card-{grace.pk} .move-menu summary")).to_be_focused()
    expect(page.locator("#head-contacted .board-count")).to_contain_text("1")

    page.reload()
    expect(page.locator("#cards-qualified")).to_contain_text("Ada Lovelace")
    expect(page.locator("#cards-contacted")).to_contain_text("Grace Hopper")
    expect(page.locator("#cards-new")).not_to_contain_text("Grace Hopper")
    assert Lead.objects.get(pk=grace.pk).status == Status.CONTACTED
    assert Activity.objects.filter(kind=ActivityKind.STATUS_CHANGE, actor=owner).count() == 2

    # Nothing was blocked by the Content-Security-Policy or failed in JavaScript.
    assert not page.problems, page.problems


def _log_in(page, base, email):
    from tests import factories

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/o/**")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_column_loads_more_on_scroll_and_the_list_changes_many_after_confirming(
    live_server, browser_page
):
    from playwright.sync_api import expect

    from leads.models import Lead, Status
    from tests import factories

    owner = factories.make_user("lead@example.com", name="Lee Lead")
    org = factories.make_org("Scroll Co", owner=owner)
    for n in range(55):
        factories.make_lead(org, first_name=f"Person{n:02d}", last_name="Example")

    page = browser_page
    base = live_server.url
    _log_in(page, base, "lead@example.com")

    page.goto(f"{base}/o/{org.slug}/pipeline/")
    cards = page.locator("#cards-new .lead-card")
    expect(cards).to_have_count(50)
    page.locator("#cards-new .column-more").scroll_into_view_if_needed()
    expect(cards).to_have_count(55)
    expect(page.locator("#cards-new .column-more")).to_have_count(0)

    # The list: tick two leads, change their status, confirm, see the result.
    page.goto(f"{base}/o/{org.slug}/leads/?q=Person0")
    expect(page.locator("#lead-results")).to_contain_text("Showing 1–10 of 10 leads")
    page.get_by_label("Select Person00 Example").check()
    page.get_by_label("Select Person01 Example").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")
    page.get_by_label("Bulk action").select_option("status")
    page.get_by_label("New status").select_option("lost")
    page.get_by_role("button", name="Apply…").click()
    confirm = page.get_by_role("button", name="Move 2 leads to Lost")
    expect(confirm).to_be_focused()
    assert Lead.objects.filter(organization=org, status=Status.LOST).count() == 0
    confirm.click()
    expect(page.locator(".toast")).to_contain_text("2 leads moved to Lost.")
    expect(page.locator("#lead-results")).to_contain_text("Lost")
    assert set(
        Lead.objects.filter(organization=org, status=Status.LOST).values_list(
            "first_name", flat=True
        )
    ) == {"Person00", "Person01"}
    assert not page.problems, page.problems
