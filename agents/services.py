"""Agent workflows: start runs (one or many), cancel them, and what a rep does with their
output (edit, regenerate, discard or send a draft; accept or dismiss a suggestion)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import events, usage
from accounts.models import Organization, User
from agents import ai
from agents.kinds import KINDS
from agents.models import (
    AgentRun,
    AgentType,
    Draft,
    DraftStatus,
    RunStatus,
    Suggestion,
    SuggestionStatus,
)
from config.tasks import enqueue_on_commit
from leads import services as lead_services
from leads.models import Lead


class AgentError(ValueError):
    """A run cannot start, or a draft or suggestion cannot change; the message says why."""


def _check_can_run(organization: Organization, count: int) -> None:
    ai.check_budget(organization)
    usage.check(organization, ai.RUN_ACTION, count)


def start_run(
    *,
    organization: Organization,
    user: User | None,
    agent_type: str,
    lead: Lead | None = None,
    params: dict | None = None,
) -> AgentRun:
    """Queue one run (executed by the worker after commit). Raises BudgetExceeded,
    QuotaExceeded or AgentError."""
    if agent_type not in KINDS:
        raise AgentError(f"Unknown agent type {agent_type!r}.")
    kind = KINDS[agent_type]
    if kind.needs_lead and lead is None:
        raise AgentError("This agent works on a lead: choose one.")
    if lead is not None and lead.organization_id != organization.pk:
        raise AgentError("Unknown lead.")
    _check_can_run(organization, 1)
    with transaction.atomic():
        run = AgentRun.objects.create(
            organization=organization,
            user=user,
            lead=lead if kind.needs_lead else None,
            agent_type=agent_type,
            params=params or {},
        )
        usage.record(organization, ai.RUN_ACTION, 1, user=user, metadata={"run_id": run.pk})
        enqueue_on_commit("agents.tasks.run_agent", run.pk)
    return run


def start_bulk(
    *, organization: Organization, user: User | None, agent_type: str, leads: Iterable[Lead]
) -> list[AgentRun]:
    """One run per lead, sharing a batch id."""
    if agent_type not in KINDS or not KINDS[agent_type].needs_lead:
        raise AgentError("Choose an agent that works on leads.")
    leads = list(leads)
    if not leads:
        raise AgentError("Select at least one lead.")
    if len(leads) > settings.AGENT_BULK_MAX_LEADS:
        raise AgentError(
            f"At most {settings.AGENT_BULK_MAX_LEADS} leads at once; {len(leads)} were selected."
        )
    _check_can_run(organization, len(leads))
    batch = uuid.uuid4()
    with transaction.atomic():
        runs = AgentRun.objects.bulk_create(
            AgentRun(
                organization=organization,
                user=user,
                lead=lead,
                agent_type=agent_type,
                batch=batch,
            )
            for lead in leads
        )
        usage.record(
            organization, ai.RUN_ACTION, len(runs), user=user, metadata={"batch": str(batch)}
        )
        for run in runs:
            enqueue_on_commit("agents.tasks.run_agent", run.pk)
    return runs


def cancel_run(*, run: AgentRun, user: User | None) -> bool:
    """Stop a queued or running run (a running one stops before its next turn)."""
    cancelled = (
        AgentRun.objects.filter(pk=run.pk)
        .active()
        .update(status=RunStatus.CANCELLED, error=f"Cancelled by {user or 'the system'}.")
    )
    if cancelled:
        AgentRun.objects.filter(pk=run.pk, started_at__isnull=True).update(
            completed_at=timezone.now()
        )
        run.refresh_from_db()
    return bool(cancelled)


# Drafts


def _open_draft(draft: Draft) -> None:
    if draft.status not in (DraftStatus.DRAFT, DraftStatus.READY):
        raise AgentError(f"This draft is {draft.get_status_display().lower()}: it cannot change.")


def update_draft(*, draft: Draft, subject: str, body: str, user: User | None) -> Draft:
    _open_draft(draft)
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise AgentError("A draft needs a subject and a body.")
    if (subject, body) != (draft.subject, draft.body):
        draft.subject, draft.body, draft.edited = subject[:300], body, True
        draft.save(update_fields=["subject", "body", "edited", "updated_at"])
    return draft


def discard_draft(*, draft: Draft, user: User | None) -> Draft:
    _open_draft(draft)
    draft.status = DraftStatus.DISCARDED
    draft.save(update_fields=["status", "updated_at"])
    return draft


def mailer_available(organization) -> bool:
    """Whether one-off email can go out now: the organization has a sender (campaigns)."""
    from campaigns.sending import default_sender

    return default_sender(organization) is not None


def send_draft(*, draft: Draft, user: User | None) -> Draft:
    """Send the draft to its lead as a one-off email through the campaigns mailer (the same
    path as campaign email: suppression, headers, log, timeline). Without a sender yet,
    the draft is marked ready to send, and says so. Raises AgentError when it cannot go."""
    _open_draft(draft)
    if mailer_available(draft.organization):
        from campaigns.sending import send_one_off

        try:
            send_one_off(draft=draft, user=user)
        except ValueError as exc:  # no address, suppressed, refused by the server
            raise AgentError(str(exc)) from exc
        draft.refresh_from_db()
        return draft
    if draft.status == DraftStatus.READY:
        return draft  # already marked: no second event
    draft.status = DraftStatus.READY
    draft.save(update_fields=["status", "updated_at"])
    events.emit(
        draft.organization,
        "draft.ready",
        {"id": draft.pk, "lead_id": draft.lead_id, "subject": draft.subject},
        actor=user,
    )
    return draft


def regenerate_draft(*, draft: Draft, user: User | None) -> AgentRun:
    """A fresh run of the agent that wrote the draft; the old draft is discarded."""
    run = start_run(
        organization=draft.organization, user=user, agent_type=draft.agent_type, lead=draft.lead
    )
    if draft.status in (DraftStatus.DRAFT, DraftStatus.READY):
        discard_draft(draft=draft, user=user)
    return run


# Suggestions


def accept_suggestion(*, suggestion: Suggestion, user: User | None) -> Lead:
    if suggestion.state != SuggestionStatus.PENDING:
        raise AgentError("This suggestion was already decided.")
    lead = suggestion.lead
    with transaction.atomic():
        if suggestion.score is not None:
            lead_services.set_score(
                lead=lead,
                score=suggestion.score,
                reasons=suggestion.reasons,
                actor=user,
                by="the qualify agent",
            )
        if suggestion.status and suggestion.status != lead.status:
            lead_services.set_status(
                lead=lead,
                status=suggestion.status,
                actor=user,
                note="Accepted the qualify agent's suggestion.",
            )
        suggestion.state = SuggestionStatus.ACCEPTED
        suggestion.decided_by, suggestion.decided_at = user, timezone.now()
        suggestion.save(update_fields=["state", "decided_by", "decided_at"])
    return lead


def dismiss_suggestion(*, suggestion: Suggestion, user: User | None) -> None:
    if suggestion.state != SuggestionStatus.PENDING:
        raise AgentError("This suggestion was already decided.")
    suggestion.state = SuggestionStatus.DISMISSED
    suggestion.decided_by, suggestion.decided_at = user, timezone.now()
    suggestion.save(update_fields=["state", "decided_by", "decided_at"])


AGENT_TYPES_FOR_LEADS = [t for t in AgentType if KINDS[t].needs_lead]
