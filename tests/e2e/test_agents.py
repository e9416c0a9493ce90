"""In a real browser: on a lead page, run the research agent through the AI panel, watch it
go from queued to a brief (the panel polls by itself), draft a first email, edit it and
save it, and read how it was written on the run's timeline.

The model is the official OpenAI client talking to the local fake of the OpenAI API
(tests/agents/llm_servers.py); the run's task is held on a thread until the test has seen
the panel waiting, so the panel must catch up by polling alone.
"""

from __future__ import annotations

import threading

import pytest

from tests.agents.llm_servers import FakeLLMServer

BRIEF = {
    "summary": "Globex makes dispatch software for freight carriers.",
    "facts": [{"text": "Headquartered in Rotterdam", "source": "https://globex.example/about"}],
    "recent_events": [
        {"text": "Opened a Hamburg office (Oct 2026)", "source": "https://news.example/globex"}
    ],
    "priorities": [
        {"text": "Hiring account executives", "source": "https://globex.example/careers"}
    ],
    "fit": "Route planning fits a growing dispatch team.",
    "talking_points": ["The Hamburg opening", "Scaling dispatch", "Hiring AEs"],
}
EMAIL = {
    "subject": "Hamburg and dispatch",
    "body": "Hi Grace,\n\nCongratulations on the Hamburg office.\n\nBest,\nRita",
    "notes": "News hook",
}


@pytest.fixture
def fake_openai(settings):
    with FakeLLMServer() as server:
        openai = server.openai

        def respond(body):
            name = body["response_format"]["json_schema"]["name"]
            done_tools = any(m["role"] == "tool" for m in body["messages"])
            if name == "research" and not done_tools:
                return openai.make_tool_calls(
                    [("get_lead", {}), ("get_company_profile", {})], usage=(800, 30)
                )
            return openai.make_json(BRIEF if name == "research" else EMAIL, usage=(1500, 250))

        openai.responder = respond
        settings.AI_PROVIDERS = ["openai"]
        settings.OPENAI_API_KEY = "sk-e2e-test-key"
        settings.OPENAI_BASE_URL = server.openai_base_url
        settings.OPENAI_MODEL = "gpt-4.1-mini"
        yield server


@pytest.fixture
def held_worker(monkeypatch):
    """Runs start on a thread that waits for `go` (a worker slow to pick them up)."""
    from django.db import connections

    from agents import runner

    real = runner.execute
    go = threading.Event()
    threads: list[threading.Thread] = []

    def run_later(run_id):
        def work():
            try:
                if go.wait(30):
                    real(run_id)
            finally:
                connections.close_all()

        thread = threading.Thread(target=work, daemon=True)
        threads.append(thread)
        thread.start()
        return "queued"

    monkeypatch.setattr(runner, "execute", run_later)
    yield go
    go.set()
    for thread in threads:
        thread.join(30)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_research_a_lead_then_draft_and_edit_an_email(
    live_server, browser_page, fake_openai, held_worker
):
    from playwright.sync_api import expect

    from agents.models import AgentRun, AISettings, Draft
    from tests import factories

    go = held_worker
    owner = factories.make_user("rep@example.com", name="Rita Rep")
    org = factories.make_org("Route Co", owner=owner)
    AISettings.objects.create(organization=org, offer="Route planning for freight fleets")
    company = factories.make_company(org, name="Globex", domain="globex.example")
    lead = factories.make_lead(
        org,
        actor=owner,
        first_name="Grace",
        last_name="Hopper",
        email="grace@globex.example",
        company=company,
    )
    page = browser_page
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("rep@example.com")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/o/{org.slug}/")

    page.goto(f"{base}/o/{org.slug}/leads/{lead.pk}/")
    panel = page.locator("#ai-panel")
    expect(panel.get_by_role("heading", name="AI assistant")).to_be_visible()
    expect(panel).to_contain_text("OpenAI (gpt-4.1-mini)")
    panel.get_by_role("button", name="Research").click()
    expect(panel).to_contain_text("Research brief queued")
    assert panel.get_attribute("hx-trigger") == "every 1s"

    go.set()
    brief = page.locator("#brief")
    expect(brief).to_contain_text(
        "Globex makes dispatch software for freight carriers.", timeout=15_000
    )
    expect(brief.get_by_role("link", name="news.example")).to_have_attribute(
        "href", "https://news.example/globex"
    )
    expect(brief).to_contain_text("The Hamburg opening")
    expect(page.locator("#ai-panel")).not_to_have_attribute("hx-trigger", "every 1s")

    page.locator("#ai-panel").get_by_role("button", name="Draft first email").click()
    subject = page.get_by_label("Subject")
    expect(subject).to_have_value("Hamburg and dispatch", timeout=15_000)
    body = page.get_by_label("Body")
    body.fill("Hi Grace,\n\nCongratulations on Hamburg. Worth a call on routing?\n\nBest,\nRita")
    page.locator("#ai-panel").get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".toast")).to_contain_text("Draft saved.")

    draft = Draft.objects.get(lead=lead)
    assert draft.edited and "Worth a call on routing?" in draft.body
    research = AgentRun.objects.get(lead=lead, agent_type="research")
    assert (research.tokens_input, research.tokens_output, research.provider) == (
        2300,
        280,
        "openai",
    )

    page.locator(f"#draft-{draft.pk}").get_by_role("link", name="how it was written").click()
    trajectory = page.locator("#trajectory")
    expect(trajectory).to_contain_text("Model turn")
    expect(page.locator("#result")).to_contain_text("Hamburg and dispatch")
    assert not page.problems, page.problems
