"""The tool loop's limits and bookkeeping: step limit (the last turn gets no tools), time
limit, cancellation, a run claimed once, a model answer that is not the JSON asked for,
stale runs swept, and get_company_profile researching a company that never was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents import runner, services, tasks
from agents.models import AgentRun, AgentType, RunStatus, StepKind
from enrichment import outside
from tests import factories
from tests.enrichment.localserver import LocalServer, Reply

pytestmark = pytest.mark.django_db

BRIEF = {
    "summary": "S",
    "facts": [],
    "recent_events": [],
    "priorities": [],
    "fit": "F",
    "talking_points": ["a", "b", "c"],
}


@pytest.fixture
def lead(org, owner):
    company = factories.make_company(org, name="Globex", domain="globex.example")
    return factories.make_lead(org, actor=owner, first_name="Grace", company=company)


@pytest.fixture
def wired(settings, llm_server):
    settings.AI_PROVIDERS = ["openai"]
    settings.OPENAI_API_KEY = "sk-test-limits"
    settings.OPENAI_BASE_URL = llm_server.openai_base_url
    settings.AI_MAX_RETRIES = 0
    return llm_server.openai


def queued(org, owner, lead, agent_type=AgentType.RESEARCH):
    return AgentRun.objects.create(organization=org, user=owner, lead=lead, agent_type=agent_type)


def test_the_step_limit_forces_an_answer_without_tools(wired, org, owner, lead, settings):
    settings.AGENT_MAX_STEPS = 3

    def respond(body):
        if body.get("tools"):
            return wired.make_tool_call("get_lead", {})
        return wired.make_json(BRIEF)

    wired.responder = respond
    run = queued(org, owner, lead)
    assert runner.execute(run.pk) == "completed"
    bodies = wired.bodies
    assert len(bodies) == 3 and "tools" not in bodies[-1]
    assert "This is the last turn" in bodies[-1]["messages"][-1]["content"]
    run.refresh_from_db()
    assert run.success and run.steps.filter(kind=StepKind.MODEL).count() == 3


def test_an_answer_that_is_not_the_json_asked_for_is_retried(wired, org, owner, lead, settings):
    settings.AI_MAX_RETRIES = 1
    wired.reply_text("I am thinking about it.")
    wired.reply_json(BRIEF)
    run = queued(org, owner, lead)
    runner.execute(run.pk)
    run.refresh_from_db()
    assert run.success, run.error
    attempts = run.steps.get(index=0).attempts
    assert [(a["error_kind"], a["ok"]) for a in attempts] == [("malformed", False), ("", True)]


def test_a_model_that_never_answers_in_json_fails_the_run(wired, org, owner, lead):
    wired.responder = lambda body: wired.make_text("I am thinking about it.")
    run = queued(org, owner, lead)
    runner.execute(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.success is False
    assert "The structured answer is not JSON" in run.error


def test_the_time_limit_stops_a_run(wired, org, owner, lead, settings, monkeypatch):
    clock = iter([0.0, 0.0, 1000.0, 1000.0, 1000.0, 1000.0])
    monkeypatch.setattr(runner.time, "monotonic", lambda: next(clock, 1000.0))
    wired.responder = lambda body: wired.make_tool_call("get_lead", {})
    run = queued(org, owner, lead)
    runner.execute(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "time limit" in run.error


def test_a_cancelled_run_stops_before_its_next_turn(wired, org, owner, lead, monkeypatch):
    run = queued(org, owner, lead)
    real_run_tool = runner.run_tool

    def run_tool_then_cancel(*args):
        services.cancel_run(run=run, user=owner)  # a rep presses "Cancel" meanwhile
        return real_run_tool(*args)

    monkeypatch.setattr(runner, "run_tool", run_tool_then_cancel)
    wired.responder = lambda body: wired.make_tool_call("get_lead", {})
    runner.execute(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and len(wired.requests) == 1
    assert run.completed_at is not None


def test_a_run_is_executed_once(wired, org, owner, lead):
    wired.responder = lambda body: wired.make_json(BRIEF)
    run = queued(org, owner, lead)
    assert runner.execute(run.pk) == "completed"
    assert runner.execute(run.pk) == "not queued"
    assert len(wired.requests) == 1


def test_stale_running_runs_are_failed_by_the_sweeper(org, owner, lead, settings):
    old = timezone.now() - timedelta(seconds=settings.AGENT_TIME_LIMIT_SECONDS + 600)
    stale = AgentRun.objects.create(
        organization=org, lead=lead, agent_type="research", status="running", started_at=old
    )
    fresh = AgentRun.objects.create(
        organization=org,
        lead=lead,
        agent_type="research",
        status="running",
        started_at=timezone.now(),
    )
    assert tasks.fail_stale_runs() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "failed" and "worker" in stale.error
    assert fresh.status == "running"


def test_company_profile_tool_researches_a_company_never_enriched(wired, org, owner, settings):
    page = b"<html><head><title>Initech</title><meta name='description' content='Initech makes TPS report software.'></head><body>Hi</body></html>"
    site = LocalServer(default=Reply(200, page, {"Content-Type": "text/html"}))
    with site:
        settings.FETCH_ALLOW_HOSTS = [site.netloc]
        settings.FETCH_RESPECT_ROBOTS = False
        settings.FETCH_PER_HOST_DELAY = 0
        settings.BRAVE_API_KEY = ""
        settings.SEARXNG_URL = ""
        settings.AI_PROVIDERS = ["offline"]
        outside.reset_fetcher()
        company = factories.make_company(org, name="Initech", website=site.url("/"))
        lead = factories.make_lead(org, actor=owner, first_name="Peter", company=company)
        run = queued(org, owner, lead)
        assert runner.execute(run.pk) == "completed"
    outside.reset_fetcher()
    company.refresh_from_db()
    assert company.enriched_data["profile"]["description"] == "Initech makes TPS report software."
    tool = AgentRun.objects.get(pk=run.pk).steps.get(name="get_company_profile")
    assert "Enrichment ran just now." in tool.summary
    run.refresh_from_db()
    assert run.result["summary"] == "Initech makes TPS report software."
