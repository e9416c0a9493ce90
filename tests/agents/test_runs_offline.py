"""Agent runs on the offline provider: the full loop (model turns, tool calls, answer),
what each agent leaves behind, and the run's record."""

from __future__ import annotations

import pytest
from django.test import override_settings

from agents import services
from agents.models import AgentRun, AgentType, AISettings, Draft, RunStatus, StepKind, Suggestion
from leads.models import Activity, ActivityKind, Status
from tests import factories

pytestmark = pytest.mark.django_db

OFFLINE = override_settings(AI_PROVIDERS=["offline"])

PROFILE = {
    "profile": {
        "name": "Globex",
        "description": "Globex makes logistics software for mid-size freight carriers.",
        "industry": "Logistics",
        "employee_range": "51-200",
        "headquarters": "Rotterdam, Netherlands",
        "funding_stage": "Series B",
        "hiring": [{"title": "Account Executive"}, {"title": "SDR"}],
        "recent_news": [
            {
                "title": "Globex opens a Hamburg office",
                "url": "https://news.example/globex-hamburg",
                "date": "2026-10-02",
            }
        ],
        "technologies": [{"name": "HubSpot"}, {"name": "Intercom"}],
        "products": [{"name": "Globex Dispatch"}],
    },
    "sources": {
        "description": {"url": "https://globex.example/about", "method": "json-ld"},
        "industry": {"url": "https://globex.example/", "method": "meta"},
        "hiring": {"url": "https://globex.example/careers", "method": "page text"},
    },
    "enriched_at": "2026-11-01T10:00:00+00:00",
}


@pytest.fixture
def lead(org, owner):
    company = factories.make_company(
        org,
        name="Globex",
        domain="globex.example",
        website="https://globex.example/",
        enriched_data=PROFILE,
    )
    return factories.make_lead(
        org,
        actor=owner,
        first_name="Grace",
        last_name="Hopper",
        email="grace@globex.example",
        title="VP Operations",
        company=company,
    )


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(org, owner, lead, agent_type):
        with OFFLINE, django_capture_on_commit_callbacks(execute=True):
            started = services.start_run(
                organization=org, user=owner, agent_type=agent_type, lead=lead
            )
        return AgentRun.objects.get(pk=started.pk)

    return run


def test_research_brief_offline_cites_sources(org, owner, lead, run):
    AISettings.objects.create(
        organization=org,
        offer="Route planning for freight fleets",
        ideal_customer="Logistics companies in Europe",
    )
    finished = run(org, owner, lead, AgentType.RESEARCH)
    assert finished.status == RunStatus.COMPLETED and finished.success is True, finished.error
    assert (
        finished.provider == "offline" and finished.tokens_input == 0 and finished.cost_cents == 0
    )
    brief = finished.result
    assert brief["summary"].startswith("Globex makes logistics software")
    assert {"text": "Industry: Logistics", "source": "https://globex.example/"} in brief["facts"]
    assert brief["recent_events"][0] == {
        "text": "Globex opens a Hamburg office (2026-10-02)",
        "source": "https://news.example/globex-hamburg",
    }
    assert any(
        "Growing the team: 2 open roles" in p["text"]
        and p["source"] == "https://globex.example/careers"
        for p in brief["priorities"]
    )
    assert "Logistics" in brief["fit"] and "likely relevant" in brief["fit"]
    assert len(brief["talking_points"]) == 3
    steps = list(finished.steps.order_by("index"))
    assert [(s.kind, s.name) for s in steps] == [
        (StepKind.MODEL, "offline/rules"),
        (StepKind.TOOL, "get_lead"),
        (StepKind.TOOL, "get_company_profile"),
        (StepKind.MODEL, "offline/rules"),
    ]
    assert "untrusted_web_content" in steps[2].summary
    activity = Activity.objects.get(lead=lead, kind=ActivityKind.AGENT_RUN)
    assert "Research brief finished (offline rules, no cost)" in activity.body


def test_outreach_offline_drafts_from_the_brief(org, owner, lead, run):
    owner.name = "Olivia Owner"
    owner.save()
    AISettings.objects.create(organization=org, offer="Route planning for freight fleets")
    run(org, owner, lead, AgentType.RESEARCH)
    finished = run(org, owner, lead, AgentType.OUTREACH)
    assert finished.success, finished.error
    draft = Draft.objects.get(lead=lead)
    assert draft.run == finished and finished.result["draft_id"] == draft.pk
    assert draft.subject == "Globex opens a Hamburg office"
    assert draft.body.startswith(
        "Hi Grace,\n\nI saw the news at Globex: Globex opens a Hamburg office."
    )
    assert "route planning for freight fleets" in draft.body
    assert draft.body.endswith("Olivia Owner\nAcme Corp")


def test_qualify_suggests_and_changes_nothing_until_accepted(org, owner, lead, run):
    factories_activity = Activity.objects.create(
        organization=org,
        lead=lead,
        kind=ActivityKind.EMAIL_RECEIVED,
        body="Sounds interesting",
        data={"subject": "Re: hi"},
    )
    assert factories_activity.pk
    finished = run(org, owner, lead, AgentType.QUALIFY)
    assert finished.success, finished.error
    suggestion = Suggestion.objects.get(lead=lead)
    assert suggestion.status == Status.REPLIED
    assert "They replied to an email." in suggestion.reasons
    lead.refresh_from_db()
    assert lead.status == Status.NEW
    services.accept_suggestion(suggestion=suggestion, user=owner)
    lead.refresh_from_db()
    assert lead.status == Status.REPLIED and lead.score == suggestion.score


def test_daily_focus_offline_ranks_replies_first(org, owner, lead, run):
    lead2 = factories.make_lead(
        org, actor=owner, first_name="Ada", email="ada@x.example", status=Status.REPLIED
    )
    lead.owner = owner
    lead.save()
    lead2.owner = owner
    lead2.save()
    finished = run(org, owner, None, AgentType.DAILY_FOCUS)
    assert finished.success, finished.error
    assert finished.result["leads"][0]["lead_id"] == lead2.pk
    assert "replied" in finished.result["leads"][0]["reason"].lower()
