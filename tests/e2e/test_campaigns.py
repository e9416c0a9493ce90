"""In a real browser: add a sender, build a two-step campaign, add leads to it from the lead
list's bulk bar, launch it, let the dispatcher send (to a real SMTP sink in this process),
and read its results on the campaign page."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from tests.campaigns.conftest import Sink, _free_port


@pytest.fixture
def smtp_sink():
    sink = Sink()
    sink.port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, ready_timeout=10)
    controller.start()
    yield sink
    controller.stop()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_build_launch_and_read_a_two_step_campaign(live_server, browser_page, smtp_sink):
    from playwright.sync_api import expect

    from campaigns import sending
    from campaigns.models import Campaign
    from tests import factories

    owner = factories.make_user("rep@example.com", name="Rita Rep")
    org = factories.make_org("Mail Co", owner=owner)
    for first, email in (("Ada", "ada@lovelace.example"), ("Grace", "grace@hopper.example")):
        factories.make_lead(org, actor=owner, first_name=first, email=email)
    page = browser_page
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("rep@example.com")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/o/{org.slug}/")

    page.goto(f"{base}/o/{org.slug}/campaigns/")
    page.get_by_role("link", name="Add a sender").click()
    page.get_by_label("Name", exact=True).fill("Rita Rep")
    page.get_by_label("From address").fill("rita@mailco.example")
    page.get_by_label("SMTP host").fill("127.0.0.1")
    page.get_by_label("SMTP port").fill(str(smtp_sink.port))
    page.get_by_label("Security").select_option("none")
    page.get_by_role("button", name="Save sender").click()
    expect(page.locator(".toast")).to_contain_text("Sender rita@mailco.example saved.")

    page.goto(f"{base}/o/{org.slug}/campaigns/new/")
    page.get_by_label("Name", exact=True).fill("Welcome series")
    page.get_by_label("Sat").check()
    page.get_by_label("Sun").check()
    page.get_by_label("Window opens").fill("00:00")
    page.get_by_label("Window closes").fill("23:59")
    page.get_by_label("Time zone", exact=True).fill("UTC")
    step1, step2 = page.locator("#step-1"), page.locator("#step-2")
    step1.get_by_label("Subject").fill("Hello {{ first_name }}")
    step1.get_by_label("Body").fill("Hi {{ first_name }},\n\nA short note.\n\nRita")
    step2.get_by_label("Wait days").fill("2")
    step2.get_by_label("Subject").fill("Re: Hello {{ first_name }}")
    step2.get_by_label("Body").fill("Following up, {{ first_name }}.")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.locator(".toast")).to_contain_text("Campaign “Welcome series” saved.")
    campaign = Campaign.objects.get(organization=org)
    assert list(campaign.steps.values_list("order", "delay_days")) == [(1, 0), (2, 2)]

    page.goto(f"{base}/o/{org.slug}/leads/")
    for row in page.locator("tbody tr").all():
        row.locator('input[name="ids"]').check()
    page.get_by_role("button", name="Add to campaign").click()
    expect(page.get_by_role("heading", name="Add 2 leads to a campaign")).to_be_visible()
    page.get_by_role("button", name="Add to campaign").click()
    expect(page.locator(".toast")).to_contain_text("2 leads added to “Welcome series”.")

    page.get_by_role("button", name="Launch").click()
    expect(page.locator(".toast")).to_contain_text("Campaign launched.")

    # The worker's cycle: due enrollments become messages, the messages are sent.
    sending.materialize()
    counts = sending.dispatch()
    assert counts["sent"] == 2, counts
    assert sorted(smtp_sink.recipients) == ["ada@lovelace.example", "grace@hopper.example"]
    assert smtp_sink.to("ada@lovelace.example")[0].message["Subject"] == "Hello Ada"

    page.reload()
    stats = page.locator("#stats")
    expect(stats.locator(".stat-box", has_text="Sent")).to_contain_text("2")
    expect(stats.locator(".stat-box", has_text="Enrolled")).to_contain_text("2")
    expect(page.locator("#step-stats")).to_contain_text("1. Hello {{ first_name }}")
    expect(page.locator("#log")).to_contain_text("grace@hopper.example")
    assert not page.problems, page.problems
