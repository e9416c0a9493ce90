"""AI agents in the browser: the AI panel of a lead page (run an agent, watch it live,
edit/send/discard drafts, accept suggestions, read the brief), a run's timeline, the runs
list with the daily focus, bulk runs from the lead list, and Settings > AI.

The work is agents.services; these views validate, call it and render.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import usage
from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page
from agents import ai, services
from agents.forms import AISettingsForm, DraftForm, ProviderKeyForm
from agents.models import (
    AgentRun,
    AgentType,
    Draft,
    Provider,
    ProviderKey,
    RunStatus,
    Suggestion,
    SuggestionStatus,
)
from config.tasks import queue_status
from leads.filters import bulk_selection
from leads.models import Lead

RUNS_PER_PAGE = 25
LEAD_AGENTS = [
    (AgentType.RESEARCH, "Research", "An account brief with sources"),
    (AgentType.OUTREACH, "Draft first email", "From the brief, in your voice"),
    (AgentType.FOLLOW_UP, "Draft follow-up", "The next email, given the thread"),
    (AgentType.QUALIFY, "Qualify", "A suggested status and score"),
]
DRAFT_ACTIONS = ("save", "send", "discard", "regenerate")
REFUSALS = (ai.BudgetExceeded, usage.QuotaExceeded, services.AgentError)


def _lead(request: OrgRequest, lead_id: int) -> Lead:
    return get_object_or_404(
        Lead.objects.for_org(request.org).select_related("company"), pk=lead_id
    )


def _run(request: OrgRequest, run_id: int) -> AgentRun:
    return get_object_or_404(
        AgentRun.objects.for_org(request.org).select_related("lead", "user"), pk=run_id
    )


def _draft(request: OrgRequest, draft_id: int) -> Draft:
    return get_object_or_404(Draft.objects.for_org(request.org).select_related("lead"), pk=draft_id)


def ai_status(organization) -> dict:
    """What the pages say about where answers come from and what is left to spend."""
    chain = ai.chain_for(organization)
    usable = [config for config in chain if config.usable]
    network = [config for config in usable if config.name != "offline"]
    budget = ai.budget_cents(organization)
    spent = ai.spent_cents(organization)
    if network:
        label = " → ".join(f"{Provider(c.name).label} ({c.model})" for c in usable)
    elif usable:
        label = "Offline rules only: no AI key is configured, so answers come from rules and templates over your data"
    else:
        label = "No provider is available: add a key or put “offline” in the provider order"
    return {
        "chain_label": label,
        "network": bool(network),
        "available": bool(usable),
        "budget_cents": budget,
        "spent_cents": spent,
        "budget_left": network and spent >= budget,
    }


# The lead page's AI panel


def panel_context(request: OrgRequest, lead: Lead) -> dict:
    runs = list(AgentRun.objects.for_org(request.org).filter(lead=lead).select_related("user")[:10])
    active = [run for run in runs if run.status in (RunStatus.QUEUED, RunStatus.RUNNING)]
    brief_run = next(
        (
            run
            for run in runs
            if run.agent_type == AgentType.RESEARCH and run.success and run.result
        ),
        None,
    )
    drafts = list(Draft.objects.for_org(request.org).filter(lead=lead).open()[:5])
    suggestion = (
        Suggestion.objects.for_org(request.org)
        .filter(lead=lead, state=SuggestionStatus.PENDING)
        .first()
    )
    return {
        "lead": lead,
        "runs": runs,
        "active": active,
        "brief_run": brief_run,
        "drafts": drafts,
        "draft_forms": [
            (d, DraftForm(initial={"subject": d.subject, "body": d.body})) for d in drafts
        ],
        "suggestion": suggestion,
        "agents": LEAD_AGENTS,
        "can_write": request.membership.can_write,
        "ai": ai_status(request.org),
        "no_worker": bool(active) and not queue_status()["ok"],
        "mailer": services.mailer_available(request.org),
    }


@org_member_required
@require_GET
def lead_panel(request: OrgRequest, lead_id: int):
    lead = _lead(request, lead_id)
    return page(request, "agents/lead_panel.html", panel_context(request, lead), fragment="panel")


def _panel_or_back(request: OrgRequest, lead: Lead):
    if request.htmx:
        return page(
            request, "agents/lead_panel.html", panel_context(request, lead), fragment="panel"
        )
    return done(request, "leads:lead_detail", org_slug=request.org.slug, lead_id=lead.pk)


@org_member_required(role=Role.MEMBER)
@require_POST
def run_start(request: OrgRequest, lead_id: int):
    lead = _lead(request, lead_id)
    agent_type = request.POST.get("agent_type", "")
    try:
        services.start_run(
            organization=request.org, user=request.user, agent_type=agent_type, lead=lead
        )
    except REFUSALS as exc:
        messages.error(request, str(exc))
    return _panel_or_back(request, lead)


# Drafts and suggestions


@org_member_required(role=Role.MEMBER)
@require_POST
def draft_action(request: OrgRequest, draft_id: int, action: str):
    if action not in DRAFT_ACTIONS:
        raise Http404("No such action.")
    draft = _draft(request, draft_id)
    try:
        if action == "save":
            form = DraftForm(request.POST)
            if not form.is_valid():
                raise services.AgentError("A draft needs a subject and a body.")
            services.update_draft(draft=draft, user=request.user, **form.cleaned_data)
            messages.success(request, "Draft saved.")
        elif action == "send":
            form = DraftForm(request.POST)
            if form.is_valid():
                services.update_draft(draft=draft, user=request.user, **form.cleaned_data)
            services.send_draft(draft=draft, user=request.user)
            if draft.status == "sent":
                messages.success(request, "Email sent.")
            else:
                messages.info(
                    request,
                    "No sender is set up yet (Campaigns > Senders): the draft is marked ready "
                    "to send.",
                )
        elif action == "discard":
            services.discard_draft(draft=draft, user=request.user)
            messages.success(request, "Draft discarded.")
        elif action == "regenerate":
            services.regenerate_draft(draft=draft, user=request.user)
            messages.success(request, "Writing a new draft…")
    except REFUSALS as exc:
        messages.error(request, str(exc))
    return _panel_or_back(request, draft.lead)


@org_member_required(role=Role.MEMBER)
@require_POST
def suggestion_action(request: OrgRequest, suggestion_id: int, action: str):
    if action not in ("accept", "dismiss"):
        raise Http404("No such action.")
    suggestion = get_object_or_404(
        Suggestion.objects.for_org(request.org).select_related("lead"), pk=suggestion_id
    )
    try:
        if action == "accept":
            services.accept_suggestion(suggestion=suggestion, user=request.user)
            messages.success(request, "Suggestion applied to the lead.")
        else:
            services.dismiss_suggestion(suggestion=suggestion, user=request.user)
            messages.success(request, "Suggestion dismissed.")
    except services.AgentError as exc:
        messages.error(request, str(exc))
    # The lead's status and score on the page changed too: the whole page reloads.
    return done(request, "leads:lead_detail", org_slug=request.org.slug, lead_id=suggestion.lead_id)


# Runs


@org_member_required
@require_GET
def run_detail(request: OrgRequest, run_id: int):
    run = _run(request, run_id)
    steps = list(run.steps.all())
    context = {
        "run": run,
        "steps": steps,
        "can_write": request.membership.can_write,
        "no_worker": not run.finished and not queue_status()["ok"],
        "drafts": list(run.drafts.all())
        if run.agent_type in (AgentType.OUTREACH, AgentType.FOLLOW_UP)
        else [],
    }
    return page(request, "agents/run_detail.html", context, fragment="run-status")


@org_member_required(role=Role.MEMBER)
@require_POST
def run_cancel(request: OrgRequest, run_id: int):
    run = _run(request, run_id)
    if services.cancel_run(run=run, user=request.user):
        messages.success(request, "Run cancelled.")
    else:
        messages.error(request, "This run had already finished.")
    return done(request, "agents:run_detail", org_slug=request.org.slug, run_id=run.pk)


@org_member_required
@require_GET
def run_list(request: OrgRequest):
    runs = AgentRun.objects.for_org(request.org).select_related("lead", "user")
    filters = {
        "agent_type": request.GET.get("agent_type", ""),
        "status": request.GET.get("status", ""),
        "batch": request.GET.get("batch", ""),
    }
    if filters["agent_type"] in AgentType.values:
        runs = runs.filter(agent_type=filters["agent_type"])
    if filters["status"] in RunStatus.values:
        runs = runs.filter(status=filters["status"])
    if filters["batch"]:
        try:
            runs = runs.filter(batch=filters["batch"])
        except Exception:  # not a UUID: no run matches
            runs = runs.none()
    runs_page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    focus = (
        AgentRun.objects.for_org(request.org)
        .filter(agent_type=AgentType.DAILY_FOCUS, user=request.user)
        .first()
    )
    context = {
        "runs_page": runs_page,
        "runs": list(runs_page.object_list),
        "filters": filters,
        "agent_types": AgentType.choices,
        "statuses": RunStatus.choices,
        "focus": focus,
        "can_write": request.membership.can_write,
        "ai": ai_status(request.org),
        "polling": any(not run.finished for run in runs_page.object_list)
        or (focus is not None and not focus.finished),
    }
    return page(request, "agents/runs.html", context, fragment="runs")


@org_member_required(role=Role.MEMBER)
@require_POST
def focus_start(request: OrgRequest):
    try:
        services.start_run(
            organization=request.org, user=request.user, agent_type=AgentType.DAILY_FOCUS
        )
    except REFUSALS as exc:
        messages.error(request, str(exc))
    return done(request, "agents:runs", org_slug=request.org.slug)


@org_member_required(role=Role.MEMBER)
@require_POST
def bulk_run(request: OrgRequest, agent_type: str):
    """From the lead list's bulk bar: one run per ticked lead (or all matching)."""
    limit = settings.AGENT_BULK_MAX_LEADS
    ids = bulk_selection(request, request.org, limit)
    if not ids:
        messages.error(request, "Tick the leads to run the agent on, or “All matching”.")
        return done(request, "leads:lead_list", org_slug=request.org.slug)
    if len(ids) > limit:
        messages.error(request, f"More than {limit:,} leads match: narrow the filters first.")
        return done(request, "leads:lead_list", org_slug=request.org.slug)
    leads = Lead.objects.for_org(request.org).filter(pk__in=ids)
    try:
        runs = services.start_bulk(
            organization=request.org, user=request.user, agent_type=agent_type, leads=leads
        )
    except REFUSALS as exc:
        messages.error(request, str(exc))
        return done(request, "leads:lead_list", org_slug=request.org.slug)
    label = AgentType(agent_type).label
    messages.success(request, f"{label}: {len(runs):,} run{'s' if len(runs) != 1 else ''} queued.")
    response = done(request, "agents:runs", org_slug=request.org.slug)
    response["Location" if not request.htmx else "HX-Redirect"] += f"?batch={runs[0].batch}"
    return response


# Settings > AI


def _settings_page(request: OrgRequest, form=None, key_form=None, status: int = 200):
    ai_settings = ai.settings_for(request.org)
    keys = {row.provider: row for row in ProviderKey.objects.for_org(request.org)}
    sources = ai.key_sources(request.org)
    providers = [
        {
            "name": name,
            "label": Provider(name).label,
            "key": keys.get(name),
            "source": sources[name],
        }
        for name in ai.NETWORK_PROVIDERS
    ]
    context = {
        "form": form or AISettingsForm(instance=ai_settings),
        "key_form": key_form or ProviderKeyForm(),
        "providers": providers,
        "can_manage": request.membership.can_manage,
        "ai": ai_status(request.org),
        "default_chain": ", ".join(settings.AI_PROVIDERS),
        "default_budget": settings.AI_MONTHLY_BUDGET_CENTS,
    }
    return page(request, "agents/settings.html", context, status=status)


@org_member_required
@require_http_methods(["GET", "POST"])
def ai_settings_page(request: OrgRequest):
    if request.method == "GET":
        return _settings_page(request)
    if not request.membership.can_manage:
        raise PermissionDenied("Only owners and admins change the AI settings.")
    form = AISettingsForm(request.POST, instance=ai.settings_for(request.org))
    if not form.is_valid():
        return _settings_page(request, form=form, status=400)
    form.save()
    messages.success(request, "AI settings saved.")
    return done(request, "agents:settings", org_slug=request.org.slug)


@sensitive_post_parameters("key")
@org_member_required(role=Role.ADMIN)
@require_POST
def key_save(request: OrgRequest):
    form = ProviderKeyForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, key_form=form, status=400)
    row = ai.set_key(
        organization=request.org,
        provider=form.cleaned_data["provider"],
        key=form.cleaned_data["key"],
        user=request.user,
    )
    messages.success(request, f"{row.get_provider_display()} key {row.hint} saved.")
    return done(request, "agents:settings", org_slug=request.org.slug)


@org_member_required(role=Role.ADMIN)
@require_POST
def key_remove(request: OrgRequest, provider: str):
    if ai.remove_key(organization=request.org, provider=provider):
        messages.success(request, "Key removed.")
    return done(request, "agents:settings", org_slug=request.org.slug)
