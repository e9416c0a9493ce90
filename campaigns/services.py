"""Campaign workflows: enroll leads (skipping, and counting, those that may not be mailed),
check templates against every enrolled lead, launch, pause, resume and cancel.

Sending itself (claiming due messages, SMTP, recording) is campaigns.sending.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts import events
from accounts.models import User
from campaigns import rendering, schedule
from campaigns.models import Campaign, CampaignStatus, Enrollment, EnrollmentStatus, Step
from leads.models import CustomFieldDefinition, Lead, Suppression


class CampaignError(ValueError):
    """The campaign cannot do that now; the message says why (and `details` which leads)."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


SKIP_REASONS = {
    "suppressed": "On the suppression list",
    "archived": "Archived",
    "no_email": "No email address",
    "already_enrolled": "Already in this campaign",
    "in_other_sequence": "In another active sequence",
}


def custom_keys(organization) -> set[str]:
    return {
        key.lower()
        for key in CustomFieldDefinition.objects.for_org(organization).values_list("key", flat=True)
    }


def template_problems(campaign: Campaign, steps: Iterable[Step] | None = None) -> list[str]:
    keys = custom_keys(campaign.organization)
    problems = []
    for step in steps if steps is not None else campaign.steps.all():
        texts = [("subject", step.subject), ("body", step.body)]
        for variant in step.variants or []:
            texts += [
                (f"variant {variant.get('key')} subject", variant.get("subject", "")),
                (f"variant {variant.get('key')} body", variant.get("body", "")),
            ]
        for label, text in texts:
            problems += [f"Step {step.order} {label}: {p}" for p in rendering.check(text, keys)]
    return problems


def enroll(
    *,
    campaign: Campaign,
    leads: QuerySet[Lead],
    user: User | None,
    allow_other_sequences: bool = False,
) -> dict:
    """Enroll the leads that may be mailed; the others are counted by reason."""
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        raise CampaignError(f"The campaign is {campaign.get_status_display().lower()}.")
    organization = campaign.organization
    leads = leads.filter(organization=organization).annotate(
        suppressed=Exists(
            Suppression.objects.filter(organization=organization, email=OuterRef("email"))
        ),
        enrolled_here=Exists(Enrollment.objects.filter(campaign=campaign, lead=OuterRef("pk"))),
        enrolled_elsewhere=Exists(
            Enrollment.objects.filter(lead=OuterRef("pk"), status=EnrollmentStatus.ACTIVE)
            .exclude(campaign=campaign)
            .filter(
                campaign__status__in=[
                    CampaignStatus.RUNNING,
                    CampaignStatus.SCHEDULED,
                    CampaignStatus.PAUSED,
                    CampaignStatus.DRAFT,
                ]
            )
        ),
    )
    skipped: Counter[str] = Counter()
    chosen = []
    for lead in leads.only("pk", "email", "archived_at").iterator(chunk_size=2000):
        if lead.enrolled_here:
            skipped["already_enrolled"] += 1
        elif lead.archived_at is not None:
            skipped["archived"] += 1
        elif not lead.email:
            skipped["no_email"] += 1
        elif lead.suppressed:
            skipped["suppressed"] += 1
        elif lead.enrolled_elsewhere and not allow_other_sequences:
            skipped["in_other_sequence"] += 1
        else:
            chosen.append(lead.pk)
    running = campaign.status == CampaignStatus.RUNNING
    first = schedule.first_send_at(campaign) if running else None
    with transaction.atomic():
        created = Enrollment.objects.bulk_create(
            [
                Enrollment(
                    organization=organization,
                    campaign=campaign,
                    lead_id=lead_id,
                    enrolled_by=user,
                    next_send_at=first,
                )
                for lead_id in chosen
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
    return {
        "enrolled": len(created),
        "skipped": dict(skipped),
        "skipped_total": sum(skipped.values()),
    }


def missing_variables(campaign: Campaign, limit: int = 200) -> list[dict]:
    """Enrolled leads whose templates would have an empty variable (without a default)."""
    steps = list(campaign.steps.all())
    needed = set()
    for step in steps:
        texts = [step.subject, step.body] + [
            t for v in step.variants or [] for t in (v.get("subject", ""), v.get("body", ""))
        ]
        for text in texts:
            try:
                needed |= rendering.needed(text)
            except rendering.TemplateError:
                continue
    needed.discard("unsubscribe_url")
    if not needed:
        return []
    sender = campaign.sender
    rows = []
    enrollments = (
        Enrollment.objects.filter(campaign=campaign, status=EnrollmentStatus.ACTIVE)
        .select_related("lead__company")
        .order_by("pk")
    )
    for enrollment in enrollments.iterator(chunk_size=1000):
        context = rendering.context_for(enrollment.lead, sender, "x")
        missing = sorted(name for name in needed if not str(context.get(name) or "").strip())
        if missing:
            lead = enrollment.lead
            rows.append(
                {
                    "lead_id": lead.pk,
                    "name": " ".join(p for p in (lead.first_name, lead.last_name) if p)
                    or lead.email,
                    "missing": missing,
                }
            )
            if len(rows) >= limit:
                break
    return rows


def launch(*, campaign: Campaign, user: User | None, skip_missing: bool = False) -> Campaign:
    """Start sending (or schedule for `start_at`). Refuses with the leads whose variables are
    missing unless `skip_missing`, which stops those enrollments instead."""
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise CampaignError(
            f"A {campaign.get_status_display().lower()} campaign cannot be launched."
        )
    steps = list(campaign.steps.all())
    if not steps:
        raise CampaignError("Add at least one step before launching.")
    problems = template_problems(campaign, steps)
    if problems:
        raise CampaignError("Fix the templates first.", {"problems": problems})
    missing = missing_variables(campaign, limit=100_000)
    if missing and not skip_missing:
        raise CampaignError(
            f"{len(missing):,} enrolled lead{'s are' if len(missing) != 1 else ' is'} missing "
            "values the templates use.",
            {"missing": missing[:200], "missing_total": len(missing)},
        )
    now = timezone.now()
    with transaction.atomic():
        if missing:
            Enrollment.objects.filter(
                campaign=campaign, lead_id__in=[row["lead_id"] for row in missing]
            ).update(status=EnrollmentStatus.STOPPED, stopped_reason="Missing template values")
        campaign.status = (
            CampaignStatus.SCHEDULED
            if campaign.start_at and campaign.start_at > now
            else CampaignStatus.RUNNING
        )
        campaign.launched_at = now
        campaign.paused_reason = ""
        campaign.save(update_fields=["status", "launched_at", "paused_reason"])
        first = schedule.first_send_at(campaign, now)
        Enrollment.objects.filter(
            campaign=campaign, status=EnrollmentStatus.ACTIVE, next_send_at__isnull=True
        ).update(next_send_at=first)
        events.emit(
            campaign.organization,
            "campaign.launched",
            {"id": campaign.pk, "name": campaign.name, "status": campaign.status},
            actor=user,
        )
    return campaign


def pause(*, campaign: Campaign, user: User | None, reason: str = "") -> Campaign:
    if campaign.status not in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED):
        raise CampaignError("Only a running or scheduled campaign can be paused.")
    campaign.status = CampaignStatus.PAUSED
    campaign.paused_reason = reason or (f"Paused by {user}" if user else "Paused")
    campaign.save(update_fields=["status", "paused_reason"])
    return campaign


def resume(*, campaign: Campaign, user: User | None) -> Campaign:
    if campaign.status != CampaignStatus.PAUSED:
        raise CampaignError("Only a paused campaign can be resumed.")
    now = timezone.now()
    campaign.status = (
        CampaignStatus.SCHEDULED
        if campaign.start_at and campaign.start_at > now
        else CampaignStatus.RUNNING
    )
    campaign.paused_reason = ""
    campaign.save(update_fields=["status", "paused_reason"])
    return campaign


def cancel(*, campaign: Campaign, user: User | None) -> Campaign:
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        raise CampaignError(f"The campaign is already {campaign.get_status_display().lower()}.")
    with transaction.atomic():
        campaign.status = CampaignStatus.CANCELLED
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])
        Enrollment.objects.filter(campaign=campaign, status=EnrollmentStatus.ACTIVE).update(
            status=EnrollmentStatus.STOPPED, stopped_reason="Campaign cancelled"
        )
    return campaign
