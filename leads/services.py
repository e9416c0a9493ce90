"""Workflows on leads and companies. Every status change goes through `set_status`.

Forms and serializers validate; these functions assume valid input, run atomically, write the
lead's timeline and emit the organization's events (audit log and webhooks).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import events
from accounts.models import Organization, User
from leads import scoring
from leads.models import Activity, ActivityKind, Company, Lead, LeadTag, Status, Suppression, Tag
from leads.utils import (
    company_domain_from_email,
    normalize_email,
    normalize_phone,
    registered_domain,
)

# Fields whose edits are recorded on the timeline ("what changed").
TRACKED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "linkedin_url",
    "location",
    "source",
    "company",
    "owner",
    "custom_fields",
    "external_ids",
)


class DuplicateLead(Exception):
    """Another active lead of the organization has this email address."""

    def __init__(self, existing_id: int, email: str):
        self.existing_id = existing_id
        self.email = email
        super().__init__(f"A lead with the email {email} already exists (id {existing_id}).")


def lead_payload(lead: Lead) -> dict[str, Any]:
    """The lead as events and webhooks carry it."""
    return {
        "id": lead.pk,
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "title": lead.title,
        "status": lead.status,
        "score": lead.score,
        "source": lead.source,
        "company": {"id": lead.company_id, "name": lead.company.name, "domain": lead.company.domain}
        if lead.company_id
        else None,
        "owner": lead.owner.email if lead.owner_id else None,
    }


def find_or_create_company(
    *,
    organization: Organization,
    name: str = "",
    domain: str = "",
    website: str = "",
    email: str = "",
) -> Company | None:
    """The organization's company for this domain (from `domain`, `website` or a work email)
    or, without a domain, with this name (case-insensitively); created when missing."""
    name = (name or "").strip()
    domain = (
        registered_domain(domain) or registered_domain(website) or company_domain_from_email(email)
    )
    companies = Company.objects.for_org(organization)
    if domain:
        company = companies.filter(domain=domain).first()
        if company is None and name:
            # A company already known by name without a domain learns it now.
            company = (
                companies.annotate(lname=Lower("name"))
                .filter(lname=name.lower(), domain="")
                .first()
            )
            if company is not None:
                company.domain = domain
                company.website = company.website or website or f"https://{domain}"
                company.save(update_fields=["domain", "website", "updated_at"])
        if company is not None:
            return company
        try:
            with transaction.atomic():
                return Company.objects.create(
                    organization=organization,
                    name=name or domain,
                    domain=domain,
                    website=website or f"https://{domain}",
                )
        except IntegrityError:  # created meanwhile by another request
            return companies.get(domain=domain)
    if not name:
        return None
    company = companies.annotate(lname=Lower("name")).filter(lname=name.lower()).first()
    return company or Company.objects.create(organization=organization, name=name, website=website)


def active_lead_with_email(
    organization: Organization, email: str, *, exclude_id: int | None = None
):
    email = normalize_email(email)
    if not email:
        return None
    qs = Lead.objects.for_org(organization).active().filter(email=email)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.only("id").first()


def is_suppressed(organization: Organization, email: str) -> bool:
    email = normalize_email(email)
    return bool(email) and Suppression.objects.for_org(organization).filter(email=email).exists()


def add_activity(
    *,
    lead: Lead,
    kind: str,
    actor: User | None = None,
    body: str = "",
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Activity:
    return Activity.objects.create(
        organization_id=lead.organization_id,
        lead=lead,
        kind=kind,
        actor=actor,
        body=body,
        data=data or {},
        occurred_at=occurred_at or timezone.now(),
    )


def _tags_named(organization: Organization, names: Iterable[str]) -> list[Tag]:
    wanted = {}
    for name in names:
        clean = " ".join(str(name).split())[:50]
        if clean:
            wanted.setdefault(clean.lower(), clean)
    if not wanted:
        return []
    existing = {
        tag.name.lower(): tag
        for tag in Tag.objects.for_org(organization)
        .annotate(lname=Lower("name"))
        .filter(lname__in=list(wanted))
    }
    for key, name in wanted.items():
        if key not in existing:
            try:
                with transaction.atomic():
                    existing[key] = Tag.objects.create(organization=organization, name=name)
            except IntegrityError:
                existing[key] = (
                    Tag.objects.for_org(organization).annotate(lname=Lower("name")).get(lname=key)
                )
    return [existing[key] for key in wanted]


def add_tags(*, leads: Iterable[Lead], names: Iterable[str], organization: Organization) -> int:
    """Tag every lead with every name (tags created as needed). Returns links added."""
    tags = _tags_named(organization, names)
    lead_ids = [lead.pk for lead in leads]
    if not tags or not lead_ids:
        return 0
    existing = set(
        LeadTag.objects.for_org(organization)
        .filter(lead_id__in=lead_ids, tag__in=tags)
        .values_list("lead_id", "tag_id")
    )
    links = [
        LeadTag(organization=organization, lead_id=lead_id, tag=tag)
        for lead_id in lead_ids
        for tag in tags
        if (lead_id, tag.pk) not in existing
    ]
    LeadTag.objects.bulk_create(links, ignore_conflicts=True)
    return len(links)


def remove_tags(*, leads: Iterable[Lead], names: Iterable[str], organization: Organization) -> int:
    lowered = [str(name).strip().lower() for name in names if str(name).strip()]
    deleted, _ = (
        LeadTag.objects.for_org(organization)
        .filter(lead__in=[lead.pk for lead in leads])
        .annotate(lname=Lower("tag__name"))
        .filter(lname__in=lowered)
        .delete()
    )
    return deleted


def create_lead(
    *,
    organization: Organization,
    actor: User | None,
    data: dict[str, Any],
    tags: Iterable[str] = (),
    company_name: str = "",
    activity_kind: str = ActivityKind.CREATED,
    activity_data: dict[str, Any] | None = None,
) -> Lead:
    """Create a lead (company matched or created from `company_name` or the email's domain),
    record it on its timeline and emit `lead.created`. Raises DuplicateLead for an email
    that an active lead already has. Atomic."""
    fields = dict(data)
    fields["email"] = normalize_email(fields.get("email"))
    if fields.get("phone") and not fields.get("phone_raw"):
        fields["phone_raw"] = fields["phone"]
        fields["phone"] = normalize_phone(fields["phone"], organization.default_country or None)
    with transaction.atomic():
        existing = active_lead_with_email(organization, fields["email"])
        if existing is not None:
            raise DuplicateLead(existing.pk, fields["email"])
        if "company" not in fields and (company_name or fields["email"]):
            fields["company"] = find_or_create_company(
                organization=organization, name=company_name, email=fields["email"]
            )
        lead = Lead.objects.create(organization=organization, **fields)
        scoring.rescore_lead(lead)
        if tags:
            add_tags(leads=[lead], names=tags, organization=organization)
        add_activity(lead=lead, kind=activity_kind, actor=actor, data=activity_data or {})
        events.emit(organization, "lead.created", lead_payload(lead), actor=actor)
    return lead


def _comparable(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    return value


def _shown(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


def update_lead(*, lead: Lead, actor: User | None, changes: dict[str, Any]) -> Lead:
    """Apply field changes, record what changed on the timeline, emit `lead.updated`.
    Status is not a field here: use set_status. Raises DuplicateLead. Atomic."""
    changes = dict(changes)
    changes.pop("status", None)
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
    if "phone" in changes:
        changes["phone_raw"] = changes["phone"] or ""
        changes["phone"] = normalize_phone(
            changes["phone"], lead.organization.default_country or None
        )
    diff = {}
    for field, new in changes.items():
        old = getattr(lead, field)
        if _comparable(old) != _comparable(new):
            diff[field] = new
    if not diff:
        return lead
    with transaction.atomic():
        if "email" in diff and not lead.is_archived:
            existing = active_lead_with_email(lead.organization, diff["email"], exclude_id=lead.pk)
            if existing is not None:
                raise DuplicateLead(existing.pk, diff["email"])
        recorded = {
            field: [_shown(getattr(lead, field)), _shown(new)]
            for field, new in diff.items()
            if field in TRACKED_FIELDS
        }
        for field, new in diff.items():
            setattr(lead, field, new)
        lead.save(update_fields=[*diff, "updated_at"])
        scoring.rescore_lead(lead)
        if recorded:
            add_activity(
                lead=lead, kind=ActivityKind.FIELD_CHANGE, actor=actor, data={"changes": recorded}
            )
        events.emit(
            lead.organization,
            "lead.updated",
            lead_payload(lead) | {"changes": sorted(diff)},
            actor=actor,
        )
    return lead


def set_status(*, lead: Lead, status: str, actor: User | None, note: str = "") -> Lead:
    """Move a lead through the pipeline: the one place a status changes. Records the change
    (who, from, to, when), sets `converted_at` on conversion, emits `lead.status_changed`.
    Moving to the current status does nothing. Atomic, and safe against concurrent moves."""
    status = Status(status)
    with transaction.atomic():
        current = Lead.objects.select_for_update().only("status").get(pk=lead.pk)
        previous = current.status
        if previous == status:
            lead.status = status
            return lead
        now = timezone.now()
        lead.status = status
        update = ["status", "updated_at"]
        if status == Status.CONVERTED and lead.converted_at is None:
            lead.converted_at = now
            update.append("converted_at")
        lead.save(update_fields=update)
        add_activity(
            lead=lead,
            kind=ActivityKind.STATUS_CHANGE,
            actor=actor,
            body=note,
            data={"from": previous, "to": status.value},
            occurred_at=now,
        )
        events.emit(
            lead.organization,
            "lead.status_changed",
            lead_payload(lead) | {"from": previous, "to": status.value},
            actor=actor,
        )
    return lead


def set_score(*, lead: Lead, score: int, reasons: list[str], actor: User | None, by: str) -> Lead:
    """Put an assessed score on a lead (a qualify agent's, accepted by a rep), with its
    reasons as the explanation. The scoring rules take over again the next time the lead
    or the organization's scoring profile changes."""
    score = max(0, min(100, int(score)))
    with transaction.atomic():
        previous = Lead.objects.select_for_update().only("score").get(pk=lead.pk).score
        lead.score = score
        lead.score_explanation = [
            {"rule": f"Assessed by {by}", "points": score, "matched": True, "reasons": reasons}
        ]
        lead.save(update_fields=["score", "score_explanation", "updated_at"])
        if previous != score:
            add_activity(
                lead=lead,
                kind=ActivityKind.FIELD_CHANGE,
                actor=actor,
                body=f"Score set by {by}.",
                data={"changes": {"score": {"from": previous, "to": score}}},
            )
    return lead


def archive_lead(*, lead: Lead, actor: User | None) -> Lead:
    """Soft delete: the lead leaves lists and the board and frees its email. Idempotent."""
    if lead.archived_at is not None:
        return lead
    with transaction.atomic():
        lead.archived_at = timezone.now()
        lead.save(update_fields=["archived_at", "updated_at"])
        add_activity(lead=lead, kind=ActivityKind.ARCHIVED, actor=actor)
        events.emit(
            lead.organization, "lead.archived", {"id": lead.pk, "email": lead.email}, actor=actor
        )
    return lead


def restore_lead(*, lead: Lead, actor: User | None) -> Lead:
    """Bring an archived lead back. Raises DuplicateLead when its email was taken meanwhile."""
    if lead.archived_at is None:
        return lead
    with transaction.atomic():
        existing = active_lead_with_email(lead.organization, lead.email, exclude_id=lead.pk)
        if existing is not None:
            raise DuplicateLead(existing.pk, lead.email)
        lead.archived_at = None
        lead.save(update_fields=["archived_at", "updated_at"])
        add_activity(lead=lead, kind=ActivityKind.RESTORED, actor=actor)
        events.emit(
            lead.organization, "lead.restored", {"id": lead.pk, "email": lead.email}, actor=actor
        )
    return lead
