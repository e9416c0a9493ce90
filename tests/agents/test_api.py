"""Agents over the API: starting runs (on a lead and not), reading runs with their
trajectories, cancelling, drafts (edit, send, discard, regenerate), suggestions (accept,
dismiss); the error shape for other organizations' ids, scopes and roles, the AI budget
and the plan quota."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import Plan
from agents import ai
from agents.models import (
    AgentRun,
    AgentType,
    AISettings,
    Draft,
    DraftStatus,
    RunStatus,
    Suggestion,
    SuggestionStatus,
)
from leads.models import Activity, ActivityKind, Status
from tests import factories
from tests.accounts.api_support import assert_error, key_client

pytestmark = pytest.mark.django_db

OFFLINE = override_settings(AI_PROVIDERS=["offline"])
RUNS = "/api/v1/agent-runs/"
DRAFTS = "/api/v1/drafts/"
SUGGESTIONS = "/api/v1/suggestions/"

RUN_FIELDS = {
    "id",
    "lead",
    "user",
    "agent_type",
    "status",
    "success",
    "provider",
    "model",
    "tokens_input",
    "tokens_output",
    "cost_cents",
    "error",
    "result",
    "created_at",
    "started_at",
    "completed_at",
}
STEP_FIELDS = {
    "index",
    "kind",
    "name",
    "arguments",
    "summary",
    "ok",
    "tokens_input",
    "tokens_output",
    "cost_cents",
    "latency_ms",
    "attempts",
    "created_at",
}
DRAFT_FIELDS = {
    "id",
    "lead",
    "run",
    "agent_type",
    "subject",
    "body",
    "status",
    "edited",
    "created_at",
    "updated_at",
    "sent_at",
}


def lead_runs(lead) -> str:
    return f"/api/v1/leads/{lead.pk}/agent-runs/"


def lead_drafts(lead) -> str:
    return f"/api/v1/leads/{lead.pk}/drafts/"


@pytest.fixture
def lead(org, owner):
    company = factories.make_company(
        org,
        name="Globex",
        domain="globex.example",
        website="https://globex.example/",
        enriched_data={
            "profile": {
                "name": "Globex",
                "description": "Globex makes logistics software for freight carriers.",
                "industry": "Logistics",
                "recent_news": [
                    {"title": "Globex opens a Hamburg office", "url": "https://news.example/g"}
                ],
            },
            "sources": {"industry": {"url": "https://globex.example/", "method": "meta"}},
        },
    )
    return factories.make_lead(
        org,
        actor=owner,
        first_name="Grace",
        last_name="Hopper",
        email="grace@globex.example",
        company=company,
    )


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """POST, then let the queued run execute (tasks are synchronous in tests)."""

    def start(client, url, body):
        with OFFLINE, django_capture_on_commit_callbacks(execute=True):
            return client.post(url, body, format="json")

    return start


def _run(org, lead=None, agent_type=AgentType.RESEARCH, **fields) -> AgentRun:
    return AgentRun.objects.create(organization=org, lead=lead, agent_type=agent_type, **fields)


def _draft(org, lead, **fields) -> Draft:
    fields.setdefault("subject", "Hamburg")
    fields.setdefault("body", "Hi Grace,\n\nCongratulations on Hamburg.")
    return Draft.objects.create(
        organization=org, lead=lead, agent_type=AgentType.OUTREACH, **fields
    )


# ---------------------------------------------------------------- runs


def test_starting_an_agent_on_a_lead_queues_it_and_it_runs_offline(owner_api, owner, lead, start):
    response = start(owner_api, lead_runs(lead), {"agent_type": "research"})
    assert response.status_code == 202, response.content
    queued = response.json()
    assert set(queued) == RUN_FIELDS | {"trajectory"}
    assert (queued["status"], queued["lead"], queued["agent_type"]) == (
        "queued",
        lead.pk,
        "research",
    )
    assert queued["user"]["id"] == owner.pk and queued["user"]["email"] == owner.email
    assert queued["trajectory"] == [] and queued["success"] is None

    run = owner_api.get(f"{RUNS}{queued['id']}/").json()
    assert (run["status"], run["success"], run["error"]) == ("completed", True, "")
    assert (run["provider"], run["model"], run["cost_cents"]) == ("offline", "rules", "0.000000")
    assert run["started_at"] and run["completed_at"]
    assert run["result"]["summary"].startswith("Globex makes logistics software")
    steps = run["trajectory"]
    assert [(s["index"], s["kind"], s["name"]) for s in steps] == [
        (0, "model", "offline/rules"),
        (1, "tool", "get_lead"),
        (2, "tool", "get_company_profile"),
        (3, "model", "offline/rules"),
    ]
    assert set(steps[0]) == STEP_FIELDS
    assert steps[0]["summary"] == "Asked for get_lead, get_company_profile"
    assert steps[0]["attempts"][0]["provider"] == "offline" and steps[0]["attempts"][0]["ok"]
    assert steps[1]["ok"] is True and "Grace" in steps[1]["summary"]
    # The lead's own list has it too.
    listed = owner_api.get(lead_runs(lead)).json()
    assert [r["id"] for r in listed["results"]] == [queued["id"]]


def test_daily_focus_starts_without_a_lead(owner_api, org, owner, lead, start):
    response = start(owner_api, RUNS, {"agent_type": "daily_focus"})
    assert response.status_code == 202, response.content
    run = owner_api.get(f"{RUNS}{response.json()['id']}/").json()
    assert (run["lead"], run["agent_type"], run["status"]) == (None, "daily_focus", "completed")
    assert "leads" in run["result"]
    # Any other agent may start here too, with its lead in the body.
    response = start(owner_api, RUNS, {"agent_type": "qualify", "lead": lead.pk})
    assert response.status_code == 202 and response.json()["lead"] == lead.pk
    assert AgentRun.objects.get(pk=response.json()["id"]).status == RunStatus.COMPLETED


def test_requests_an_agent_cannot_take_are_400(owner_api, org, lead, start):
    error = assert_error(
        start(owner_api, lead_runs(lead), {"agent_type": "daily_focus"}), 400, "validation_error"
    )
    assert "agent_type" in error["details"]
    error = assert_error(
        start(owner_api, RUNS, {"agent_type": "daily_focus", "lead": lead.pk}),
        400,
        "validation_error",
    )
    assert "leave `lead` out" in error["details"]["lead"][0]
    # The service refuses an agent that needs a lead without one (AgentError -> 400).
    error = assert_error(
        start(owner_api, RUNS, {"agent_type": "research"}), 400, "validation_error"
    )
    assert error["details"] == {"non_field_errors": ["This agent works on a lead: choose one."]}
    assert "works on a lead" in error["message"]
    other_lead = factories.make_lead(factories.make_org("Elsewhere"))
    error = assert_error(
        start(owner_api, RUNS, {"agent_type": "research", "lead": other_lead.pk}), 400
    )
    assert "lead" in error["details"]
    assert_error(start(owner_api, RUNS, {"agent_type": "poetry"}), 400, "validation_error")
    assert_error(start(owner_api, lead_runs(lead), {}), 400, "validation_error")
    error = assert_error(
        start(owner_api, lead_runs(lead), {"agent_type": "research", "instructions": "x"}), 400
    )
    assert error["details"] == {"instructions": ["Unknown field."]}
    assert not AgentRun.objects.exists()


def test_the_list_filters_and_leaves_trajectories_out(owner_api, org, owner, lead):
    other_lead = factories.make_lead(org)
    research = _run(org, lead, AgentType.RESEARCH, status=RunStatus.COMPLETED, user=owner)
    qualify = _run(org, lead, AgentType.QUALIFY, status=RunStatus.FAILED)
    elsewhere = _run(org, other_lead, AgentType.RESEARCH)
    focus = _run(org, None, AgentType.DAILY_FOCUS, status=RunStatus.COMPLETED)
    _run(factories.make_org("Elsewhere"), None, AgentType.DAILY_FOCUS)

    def ids(query: str = "") -> list[int]:
        body = owner_api.get(f"{RUNS}{query}").json()
        assert all(set(item) == RUN_FIELDS for item in body["results"])
        assert body["count"] == len(body["results"])
        return [item["id"] for item in body["results"]]

    assert ids() == [focus.pk, elsewhere.pk, qualify.pk, research.pk]  # newest first
    assert ids(f"?lead={lead.pk}") == [qualify.pk, research.pk]
    assert ids("?agent_type=research") == [elsewhere.pk, research.pk]
    assert ids("?status=completed") == [focus.pk, research.pk]
    assert ids(f"?lead={lead.pk}&status=failed&agent_type=qualify") == [qualify.pk]
    page = owner_api.get(f"{RUNS}?limit=2&offset=1").json()
    assert page["count"] == 4 and [r["id"] for r in page["results"]] == [elsewhere.pk, qualify.pk]
    assert_error(owner_api.get(f"{RUNS}?status=sleeping"), 400, "validation_error")
    assert_error(owner_api.get(f"{RUNS}?lead=1.5"), 400, "validation_error")


@pytest.mark.parametrize("rows", [1, 6])
def test_the_list_query_count_does_not_grow_with_rows(
    owner_api, org, owner, lead, rows, django_assert_num_queries
):
    for _ in range(rows):
        _run(org, lead, user=factories.add_member(org))
    owner_api.get(RUNS)  # the key's first use records last_used_at
    with override_settings(RATELIMIT_ENABLE=False), django_assert_num_queries(4):
        # credential; membership; count; the page of runs joined to their users
        response = owner_api.get(RUNS)
    body = response.json()
    assert body["count"] == rows and all(r["user"]["email"] for r in body["results"])


def test_cancelling_a_queued_run_and_then_again(
    owner_api, org, lead, django_capture_on_commit_callbacks
):
    with OFFLINE, django_capture_on_commit_callbacks(execute=False):
        run_id = owner_api.post(lead_runs(lead), {"agent_type": "research"}, format="json").json()[
            "id"
        ]
    response = owner_api.post(f"{RUNS}{run_id}/cancel/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (
        body["status"] == "cancelled" and body["completed_at"] and "Cancelled by" in body["error"]
    )
    error = assert_error(owner_api.post(f"{RUNS}{run_id}/cancel/"), 409, "conflict")
    assert "cancelled" in error["message"]
    finished = _run(org, lead, status=RunStatus.COMPLETED)
    assert_error(owner_api.post(f"{RUNS}{finished.pk}/cancel/"), 409, "conflict")
    assert AgentRun.objects.get(pk=finished.pk).status == RunStatus.COMPLETED


def test_budget_spent_is_402_and_nothing_starts(
    owner_api, org, lead, django_capture_on_commit_callbacks
):
    AISettings.objects.create(organization=org, monthly_budget_cents=1)
    ai.meter(org, None, Decimal("5"), metadata={})
    # A network provider with a key, so the budget applies; it is checked before any call.
    network = override_settings(AI_PROVIDERS=["openai", "offline"], OPENAI_API_KEY="sk-test")
    with network, django_capture_on_commit_callbacks(execute=True):
        on_lead = owner_api.post(lead_runs(lead), {"agent_type": "research"}, format="json")
        focus = owner_api.post(RUNS, {"agent_type": "daily_focus"}, format="json")
    for response in (on_lead, focus):
        error = assert_error(response, 402, "budget_exceeded")
        assert error["details"] == {"budget_cents": 1, "spent_cents": "5"}
        assert "AI budget is spent" in error["message"]
    assert not AgentRun.objects.exists()
    # Offline rules cost nothing: the same organization may still run them.
    with OFFLINE, django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post(lead_runs(lead), {"agent_type": "research"}, format="json")
    assert response.status_code == 202


def test_the_plan_quota_of_agent_runs_is_402(owner_api, org, lead, start):
    org.plan = Plan.objects.create(code="tiny", name="Tiny", limits={"agents.run": 1})
    org.save()
    assert start(owner_api, lead_runs(lead), {"agent_type": "research"}).status_code == 202
    error = assert_error(
        start(owner_api, lead_runs(lead), {"agent_type": "qualify"}), 402, "quota_exceeded"
    )
    assert error["details"] == {"action": "agents.run", "limit": 1, "used": 1, "requested": 1}
    assert AgentRun.objects.count() == 1


# ---------------------------------------------------------------- drafts


def test_an_outreach_run_leaves_a_draft_to_edit_send_and_discard(owner_api, org, lead, start):
    run_id = start(owner_api, lead_runs(lead), {"agent_type": "outreach"}).json()["id"]
    listed = owner_api.get(lead_drafts(lead)).json()
    assert listed["count"] == 1
    draft = listed["results"][0]
    assert set(draft) == DRAFT_FIELDS
    assert (draft["lead"], draft["run"], draft["agent_type"]) == (lead.pk, run_id, "outreach")
    assert (draft["status"], draft["edited"], draft["sent_at"]) == ("draft", False, None)
    assert draft["body"].startswith("Hi Grace,")
    url = f"{DRAFTS}{draft['id']}/"

    response = owner_api.patch(url, {"subject": "  Hamburg, congratulations  "}, format="json")
    assert response.status_code == 200, response.content
    edited = response.json()
    assert (edited["subject"], edited["body"], edited["edited"]) == (
        "Hamburg, congratulations",
        draft["body"],
        True,
    )
    assert owner_api.get(url).json()["subject"] == "Hamburg, congratulations"
    assert_error(owner_api.patch(url, {"body": ""}, format="json"), 400, "validation_error")
    assert_error(owner_api.patch(url, {"status": "sent"}, format="json"), 400)
    assert_error(owner_api.put(url, {"subject": "x", "body": "y"}, format="json"), 405)

    response = owner_api.post(f"{url}send/")
    assert response.status_code == 200, response.content
    sent = response.json()
    assert (sent["status"], sent["sent"], sent["sent_at"]) == ("ready", False, None)
    assert (
        sent["detail"]
        == "No sender is set up yet (Campaigns > Senders): the draft is marked ready to send."
    )
    assert Draft.objects.get(pk=draft["id"]).status == DraftStatus.READY

    response = owner_api.post(f"{url}discard/")
    assert response.status_code == 200 and response.json()["status"] == "discarded"
    for again in (
        owner_api.post(f"{url}discard/"),
        owner_api.post(f"{url}send/"),
        owner_api.patch(url, {"subject": "Late"}, format="json"),
    ):
        assert "discarded" in assert_error(again, 409, "conflict")["message"]
    assert Draft.objects.get(pk=draft["id"]).subject == "Hamburg, congratulations"


def test_regenerating_a_draft_starts_a_run_and_discards_the_old_one(owner_api, org, lead, start):
    old = _draft(org, lead)
    response = start(owner_api, f"{DRAFTS}{old.pk}/regenerate/", {})
    assert response.status_code == 202, response.content
    assert response.json()["agent_type"] == "outreach" and response.json()["lead"] == lead.pk
    old.refresh_from_db()
    assert old.status == DraftStatus.DISCARDED
    drafts = owner_api.get(f"{DRAFTS}?lead={lead.pk}&status=draft").json()["results"]
    assert len(drafts) == 1 and drafts[0]["run"] == response.json()["id"]


def test_the_drafts_list_filters(owner_api, org, lead):
    other_lead = factories.make_lead(org)
    first = _draft(org, lead)
    ready = _draft(org, other_lead, status=DraftStatus.READY)
    _draft(factories.make_org("Elsewhere"), factories.make_lead(org))

    def ids(url: str) -> list[int]:
        return [d["id"] for d in owner_api.get(url).json()["results"]]

    assert ids(DRAFTS) == [ready.pk, first.pk]
    assert ids(f"{DRAFTS}?status=ready") == [ready.pk]
    assert ids(f"{DRAFTS}?lead={lead.pk}") == [first.pk]
    assert ids(lead_drafts(other_lead)) == [ready.pk]
    assert_error(owner_api.get(f"{DRAFTS}?status=lost"), 400, "validation_error")


# ---------------------------------------------------------------- suggestions


def test_a_qualify_run_suggests_and_accepting_moves_the_lead(owner_api, org, owner, lead, start):
    Activity.objects.create(
        organization=org, lead=lead, kind=ActivityKind.EMAIL_RECEIVED, body="Sounds good"
    )
    start(owner_api, lead_runs(lead), {"agent_type": "qualify"})
    listed = owner_api.get(f"{SUGGESTIONS}?lead={lead.pk}").json()
    assert listed["count"] == 1
    suggestion = listed["results"][0]
    assert (suggestion["state"], suggestion["status"], suggestion["decided_by"]) == (
        "pending",
        "replied",
        None,
    )
    assert "They replied to an email." in suggestion["reasons"]
    lead.refresh_from_db()
    assert lead.status == Status.NEW  # nothing changes until accepted

    response = owner_api.post(f"{SUGGESTIONS}{suggestion['id']}/accept/")
    assert response.status_code == 200, response.content
    accepted = response.json()
    assert accepted["state"] == "accepted" and accepted["decided_at"]
    assert accepted["decided_by"]["email"] == owner.email
    lead.refresh_from_db()
    assert (lead.status, lead.score) == (Status.REPLIED, suggestion["score"])
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.STATUS_CHANGE).exists()
    assert_error(owner_api.post(f"{SUGGESTIONS}{suggestion['id']}/accept/"), 409, "conflict")
    assert_error(owner_api.post(f"{SUGGESTIONS}{suggestion['id']}/dismiss/"), 409, "conflict")


def test_dismissing_a_suggestion_leaves_the_lead_alone(owner_api, org, lead):
    suggestion = Suggestion.objects.create(
        organization=org, lead=lead, status=Status.QUALIFIED, score=90, reasons=["Fit"]
    )
    score = lead.score
    response = owner_api.post(f"{SUGGESTIONS}{suggestion.pk}/dismiss/")
    assert response.status_code == 200 and response.json()["state"] == "dismissed"
    lead.refresh_from_db()
    assert (lead.status, lead.score) == (Status.NEW, score)
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionStatus.DISMISSED
    assert owner_api.get(f"{SUGGESTIONS}?state=pending").json()["count"] == 0
    assert owner_api.get(f"{SUGGESTIONS}{suggestion.pk}/").json()["score"] == 90


# ---------------------------------------------------------------- tenancy, scopes, roles


def test_another_organizations_ids_are_404(owner_api, org, other_org, outsider, lead, start):
    their_lead = factories.make_lead(other_org, actor=outsider)
    their_run = _run(other_org, their_lead)
    their_draft = _draft(other_org, their_lead)
    their_suggestion = Suggestion.objects.create(
        organization=other_org, lead=their_lead, status=Status.QUALIFIED, score=70
    )
    for response in (
        start(owner_api, lead_runs(their_lead), {"agent_type": "research"}),
        start(owner_api, lead_runs(their_lead), {}),
        owner_api.get(lead_runs(their_lead)),
        owner_api.get(lead_drafts(their_lead)),
        owner_api.get(f"{RUNS}{their_run.pk}/"),
        owner_api.post(f"{RUNS}{their_run.pk}/cancel/"),
        owner_api.get(f"{DRAFTS}{their_draft.pk}/"),
        owner_api.patch(f"{DRAFTS}{their_draft.pk}/", {"subject": "Mine"}, format="json"),
        owner_api.post(f"{DRAFTS}{their_draft.pk}/send/"),
        owner_api.post(f"{DRAFTS}{their_draft.pk}/discard/"),
        owner_api.post(f"{DRAFTS}{their_draft.pk}/regenerate/"),
        owner_api.get(f"{SUGGESTIONS}{their_suggestion.pk}/"),
        owner_api.post(f"{SUGGESTIONS}{their_suggestion.pk}/accept/"),
        owner_api.post(f"{SUGGESTIONS}{their_suggestion.pk}/dismiss/"),
    ):
        assert_error(response, 404, "not_found")
    # Nothing of theirs changed, and their rows are not in our lists.
    assert AgentRun.objects.filter(organization=org).count() == 0
    assert AgentRun.objects.get(pk=their_run.pk).status == RunStatus.QUEUED
    assert Draft.objects.get(pk=their_draft.pk).subject == "Hamburg"
    assert Suggestion.objects.get(pk=their_suggestion.pk).state == SuggestionStatus.PENDING
    assert owner_api.get(f"{RUNS}?lead={their_lead.pk}").json()["count"] == 0
    for url in (RUNS, DRAFTS, SUGGESTIONS):
        assert owner_api.get(url).json()["count"] == 0, url


def test_scopes_and_roles(org, owner, viewer, lead, start):
    run = _run(org, lead)
    draft = _draft(org, lead)
    read_only = key_client(org, owner, {"agents": "read"})
    assert read_only.get(RUNS).status_code == 200
    assert read_only.get(f"{RUNS}{run.pk}/").status_code == 200
    assert read_only.get(lead_drafts(lead)).status_code == 200
    for response in (
        start(read_only, lead_runs(lead), {"agent_type": "research"}),
        start(read_only, RUNS, {"agent_type": "daily_focus"}),
        read_only.post(f"{RUNS}{run.pk}/cancel/"),
        read_only.patch(f"{DRAFTS}{draft.pk}/", {"subject": "x"}, format="json"),
        read_only.post(f"{DRAFTS}{draft.pk}/send/"),
    ):
        error = assert_error(response, 403, "insufficient_scope")
        assert error["details"] == {"required_scope": "agents:write"}
    leads_only = key_client(org, owner, {"leads": "write"})
    assert_error(leads_only.get(RUNS), 403, "insufficient_scope")
    assert_error(leads_only.get(lead_runs(lead)), 403, "insufficient_scope")
    viewer_key = key_client(org, viewer)
    assert viewer_key.get(SUGGESTIONS).status_code == 200
    assert_error(start(viewer_key, lead_runs(lead), {"agent_type": "research"}), 403)
    assert_error(viewer_key.post(f"{DRAFTS}{draft.pk}/discard/"), 403, "permission_denied")
    assert AgentRun.objects.count() == 1
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.DRAFT


def test_wrong_methods_are_405(owner_api, org, lead):
    run = _run(org, lead)
    assert_error(owner_api.delete(f"{RUNS}{run.pk}/"), 405, "method_not_allowed")
    assert_error(owner_api.patch(f"{RUNS}{run.pk}/", {}, format="json"), 405)
    assert_error(owner_api.get(f"{RUNS}{run.pk}/cancel/"), 405)
    assert_error(owner_api.post(lead_drafts(lead), {}, format="json"), 405)
    assert_error(owner_api.delete(f"{DRAFTS}{_draft(org, lead).pk}/"), 405)
    assert_error(owner_api.post(SUGGESTIONS, {}, format="json"), 405)
