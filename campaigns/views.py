"""Campaigns in the browser: senders, the campaign builder (settings, window, steps),
a campaign's page (launch, pause, resume, cancel; stats; a preview for any enrolled lead;
the message log), and adding leads from the lead list.

The work is campaigns.services (and campaigns.sending); these views validate and render.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page
from campaigns import dkim_keys, domain_checks, rendering, services, stats, tracking
from campaigns.forms import CampaignForm, SenderForm, StepFormSet
from campaigns.models import Campaign, CampaignStatus, Enrollment, Message, Sender
from leads.filters import bulk_selection
from leads.models import Lead

MESSAGES_PER_PAGE = 50
# Which part of the campaign page an HTMX GET gets, by its target.
FRAGMENTS = {"log": "log", "preview": "preview"}
ENROLL_LIMIT = 10_000


def _campaign(request: OrgRequest, campaign_id: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.for_org(request.org).select_related("sender", "created_by"),
        pk=campaign_id,
    )


# Senders


@org_member_required
@require_GET
def sender_list(request: OrgRequest):
    senders = Sender.objects.for_org(request.org).annotate(campaign_count=Count("campaigns"))
    context = {"senders": list(senders), "can_write": request.membership.can_manage}
    return page(request, "campaigns/senders.html", context)


@org_member_required(role=Role.ADMIN)
@require_http_methods(["GET", "POST"])
def sender_edit(request: OrgRequest, sender_id: int | None = None):
    sender = (
        get_object_or_404(Sender.objects.for_org(request.org), pk=sender_id) if sender_id else None
    )
    form = SenderForm(request.POST or None, instance=sender)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.organization = request.org
        saved.save()
        messages.success(request, f"Sender {saved.email} saved.")
        return done(request, "campaigns:senders", org_slug=request.org.slug)
    context = {"form": form, "sender": sender}
    if sender is not None and sender.dkim_private_key_encrypted:
        context["dkim_name"] = dkim_keys.record_name(sender)
        context["dkim_record"] = dkim_keys.record(sender)
    return page(request, "campaigns/sender_form.html", context, status=400 if form.errors else 200)


@org_member_required(role=Role.ADMIN)
@require_POST
def sender_domain(request: OrgRequest, sender_id: int, action: str):
    """Look up the sender's SPF, DKIM and DMARC records, or make its DKIM key."""
    sender = get_object_or_404(Sender.objects.for_org(request.org), pk=sender_id)
    if action == "dkim":
        selector = (request.POST.get("selector") or "").strip().lower()
        if selector and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", selector):
            messages.error(request, "A selector is letters, digits and dashes.")
        else:
            dkim_keys.generate(sender, selector)
            messages.success(
                request, "DKIM key made: publish the TXT record shown, then check again."
            )
    elif action == "check":
        report = domain_checks.check_sender(sender)
        failing = [
            name.upper() for name in ("spf", "dkim", "dmarc") if report[name]["status"] != "ok"
        ]
        if failing:
            messages.warning(request, f"To fix: {', '.join(failing)} (see below).")
        else:
            messages.success(request, "SPF, DKIM and DMARC are in order.")
    else:
        raise Http404("No such action.")
    return done(request, "campaigns:sender_edit", org_slug=request.org.slug, sender_id=sender.pk)


# Campaigns


@org_member_required
@require_GET
def campaign_list(request: OrgRequest):
    campaigns = (
        Campaign.objects.for_org(request.org)
        .select_related("sender")
        .annotate(
            enrolled=Count("enrollments", distinct=True),
            sent=Count("messages", filter=Q(messages__sent_at__isnull=False), distinct=True),
            replied=Count("messages", filter=Q(messages__replied_at__isnull=False), distinct=True),
        )
    )
    context = {
        "campaigns": list(campaigns),
        "can_write": request.membership.can_write,
        "has_sender": Sender.objects.for_org(request.org).exists(),
    }
    return page(request, "campaigns/campaigns.html", context)


def _save_campaign(request: OrgRequest, form: CampaignForm, formset) -> Campaign:
    with transaction.atomic():
        campaign = form.save(commit=False)
        campaign.organization = request.org
        if campaign.created_by_id is None:
            campaign.created_by = request.user
        campaign.save()
        formset.instance = campaign
        formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        forms_in_order = [
            f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        # Orders are the steps' positions; written in two passes past the unique constraint.
        for offset, step_form in enumerate(forms_in_order):
            step = step_form.instance
            step.organization = request.org
            step.campaign = campaign
            step.order = 1000 + offset
            step.save()
        for offset, step_form in enumerate(forms_in_order, start=1):
            step_form.instance.order = offset
            step_form.instance.save(update_fields=["order"])
    return campaign


@org_member_required(role=Role.MEMBER)
@require_http_methods(["GET", "POST"])
def campaign_edit(request: OrgRequest, campaign_id: int | None = None):
    campaign = _campaign(request, campaign_id) if campaign_id else None
    if campaign and campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.PAUSED):
        messages.error(request, "Pause the campaign to change it.")
        return done(request, "campaigns:detail", org_slug=request.org.slug, campaign_id=campaign.pk)
    senders = Sender.objects.for_org(request.org)
    if not senders.exists():
        messages.info(request, "Add a sender first: the address campaigns send from.")
        return done(request, "campaigns:sender_new", org_slug=request.org.slug)
    keys = services.custom_keys(request.org)
    form = CampaignForm(request.POST or None, instance=campaign, organization=request.org)
    formset = StepFormSet(
        request.POST or None,
        instance=campaign or Campaign(organization=request.org),
        form_kwargs={"custom_keys": keys},
        prefix="steps",
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        saved = _save_campaign(request, form, formset)
        messages.success(request, f"Campaign “{saved.name}” saved.")
        return done(request, "campaigns:detail", org_slug=request.org.slug, campaign_id=saved.pk)
    context = {
        "form": form,
        "formset": formset,
        "campaign": campaign,
        "variables": sorted(rendering.known_names(keys)),
    }
    status = 400 if request.method == "POST" else 200
    return page(request, "campaigns/campaign_form.html", context, status=status)


def _preview(campaign: Campaign, lead: Lead | None) -> list[dict]:
    if lead is None:
        return []
    context = rendering.context_for(lead, campaign.sender, tracking.unsubscribe_url(0))
    rows = []
    for step in campaign.steps.all():
        subject, missing_subject = rendering.render(step.subject, context)
        body, missing_body = rendering.render(step.body, context)
        rows.append(
            {
                "step": step,
                "subject": subject,
                "body": body,
                "missing": sorted(missing_subject | missing_body),
            }
        )
    return rows


def _detail_context(request: OrgRequest, campaign: Campaign, **extra) -> dict:
    enrollments = Enrollment.objects.filter(campaign=campaign)
    preview_lead = None
    wanted = request.GET.get("preview")
    if wanted and wanted.isdigit():
        preview_lead = (
            Lead.objects.for_org(request.org)
            .filter(pk=wanted, enrollments__campaign=campaign)
            .select_related("company")
            .first()
        )
    if preview_lead is None:
        first = enrollments.select_related("lead__company").order_by("pk").first()
        preview_lead = first.lead if first else None
    log = (
        Message.objects.filter(campaign=campaign)
        .select_related("lead")
        .order_by("-created_at", "-id")
    )
    query = request.GET.get("q", "").strip()
    if query:
        log = log.filter(Q(to_email__icontains=query) | Q(subject__icontains=query))
    log_page = Paginator(log, MESSAGES_PER_PAGE).get_page(request.GET.get("page"))
    numbers = stats.campaign_stats(campaign)
    peak = max((row["sent"] for row in numbers["by_day"]), default=0) or 1
    # Bars of the per-day chart in a 10-units-per-day, 100-high viewBox (SVG attributes:
    # the content security policy allows no inline styles).
    bars = [
        row | {"x": 10 * i + 1, "height": round(100 * row["sent"] / peak)}
        for i, row in enumerate(numbers["by_day"])
    ]
    for bar in bars:
        bar["y"] = 100 - bar["height"]
    queued = Message.objects.filter(campaign=campaign, status__in=["queued", "sending"]).count()
    context = {
        "campaign": campaign,
        "steps": list(campaign.steps.all()),
        "stats": numbers["totals"],
        "step_stats": numbers["steps"],
        "queued": queued,
        "chart_bars": bars,
        "preview": _preview(campaign, preview_lead),
        "preview_lead": preview_lead,
        "preview_choices": list(
            enrollments.select_related("lead")
            .order_by("pk")
            .values_list("lead_id", "lead__first_name", "lead__last_name", "lead__email")[:50]
        ),
        "log_page": log_page,
        "log": list(log_page.object_list),
        "q": query,
        "can_write": request.membership.can_write,
    }
    context.update(extra)
    return context


@org_member_required
@require_GET
def campaign_detail(request: OrgRequest, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    return page(
        request,
        "campaigns/campaign_detail.html",
        _detail_context(request, campaign),
        fragment=FRAGMENTS.get(request.htmx.target) if request.htmx else None,
    )


@org_member_required(role=Role.MEMBER)
@require_POST
def campaign_action(request: OrgRequest, campaign_id: int, action: str):
    campaign = _campaign(request, campaign_id)
    try:
        if action == "launch":
            services.launch(
                campaign=campaign,
                user=request.user,
                skip_missing=request.POST.get("skip_missing") == "1",
            )
            messages.success(
                request,
                "Campaign launched." if campaign.status == "running" else "Campaign scheduled.",
            )
        elif action == "pause":
            services.pause(campaign=campaign, user=request.user)
            messages.success(request, "Campaign paused: nothing more is sent until you resume it.")
        elif action == "resume":
            services.resume(campaign=campaign, user=request.user)
            messages.success(request, "Campaign resumed.")
        elif action == "cancel":
            services.cancel(campaign=campaign, user=request.user)
            messages.success(request, "Campaign cancelled.")
        else:
            raise services.CampaignError("Unknown action.")
    except services.CampaignError as exc:
        context = _detail_context(
            request, campaign, launch_error=str(exc), launch_details=exc.details
        )
        return page(request, "campaigns/campaign_detail.html", context, status=409)
    return done(request, "campaigns:detail", org_slug=request.org.slug, campaign_id=campaign.pk)


# Adding leads from the lead list


SELECTION_KEY = "campaigns.enroll_selection"


@org_member_required(role=Role.MEMBER)
@require_http_methods(["GET", "POST"])
def enroll_from_leads(request: OrgRequest):
    """The lead list's bulk bar posts the selection here; it is kept in the session while
    the rep picks the campaign (GET), then enrolled (POST with `campaign`)."""
    key = f"{SELECTION_KEY}.{request.org.pk}"
    if request.method == "POST" and "campaign" not in request.POST:
        ids = bulk_selection(request, request.org, ENROLL_LIMIT)
        if not ids:
            messages.error(request, "Tick the leads to add, or “All matching”.")
            return done(request, "leads:lead_list", org_slug=request.org.slug)
        if len(ids) > ENROLL_LIMIT:
            messages.error(
                request, f"More than {ENROLL_LIMIT:,} leads match: narrow the filters first."
            )
            return done(request, "leads:lead_list", org_slug=request.org.slug)
        request.session[key] = ids
        return done(request, "campaigns:enroll_from_leads", org_slug=request.org.slug)
    ids = request.session.get(key) or []
    if not ids:
        messages.error(request, "Select leads in the lead list first.")
        return done(request, "leads:lead_list", org_slug=request.org.slug)
    open_campaigns = Campaign.objects.for_org(request.org).exclude(
        status__in=[CampaignStatus.COMPLETED, CampaignStatus.CANCELLED]
    )
    if request.method == "POST":
        chosen = request.POST.get("campaign", "")
        if not chosen.isdigit():
            raise Http404("No such campaign.")
        campaign = get_object_or_404(open_campaigns, pk=chosen)
        result = services.enroll(
            campaign=campaign,
            leads=Lead.objects.for_org(request.org).filter(pk__in=ids),
            user=request.user,
            allow_other_sequences=request.POST.get("allow_other_sequences") == "on",
        )
        request.session.pop(key, None)
        skipped = ", ".join(
            f"{count:,} {services.SKIP_REASONS[reason].lower()}"
            for reason, count in result["skipped"].items()
        )
        added = result["enrolled"]
        messages.success(
            request,
            f"{added:,} lead{'s' if added != 1 else ''} added to “{campaign.name}”."
            + (f" Skipped: {skipped}." if skipped else ""),
        )
        return done(request, "campaigns:detail", org_slug=request.org.slug, campaign_id=campaign.pk)
    context = {"count": len(ids), "campaigns": list(open_campaigns.select_related("sender"))}
    return page(request, "campaigns/enroll.html", context)
