"""What the organization holds about one person: a full JSON export, and erasure.

Both walk the lead's reverse relations (hidden ones included), so rows of models added later
that point at a lead are exported and erased too.
"""

from __future__ import annotations

from typing import Any

from django.core import serializers
from django.db import models, transaction
from django.utils import timezone

from accounts import events
from accounts.models import Event, User
from leads.merging import reverse_foreign_keys
from leads.models import (
    Activity,
    FormSubmission,
    ImportChange,
    Lead,
    LeadTag,
    LeadTask,
    Suppression,
)

EXPORT_VERSION = 1

# Sections with a name of their own in the export; other related rows go under "other".
_SECTIONS = {
    Activity: "activities",
    LeadTask: "tasks",
    FormSubmission: "form_submissions",
    ImportChange: "import_changes",
}


def _rows(queryset: models.QuerySet) -> list[dict[str, Any]]:
    out = []
    for item in serializers.serialize("python", queryset):
        fields = item["fields"]
        fields.pop("organization", None)
        out.append({"id": item["pk"], **fields})
    return out


def export_lead(lead: Lead) -> dict[str, Any]:
    """Everything held about `lead`, JSON-ready (DjangoJSONEncoder for dates)."""
    company = lead.company
    data: dict[str, Any] = {
        "format": "prospector.lead-export",
        "version": EXPORT_VERSION,
        "exported_at": timezone.now(),
        "organization": lead.organization.name,
        "lead": _rows(Lead.objects.filter(pk=lead.pk))[0],
        "company": _rows(type(company).objects.filter(pk=company.pk))[0] if company else None,
        "owner": lead.owner.email if lead.owner_id else None,
        "tags": sorted(
            LeadTag.objects.for_org(lead.organization_id)
            .filter(lead=lead)
            .values_list("tag__name", flat=True)
        ),
        "suppressed": Suppression.objects.for_org(lead.organization_id)
        .filter(email=lead.email)
        .exists()
        if lead.email
        else False,
    }
    data["lead"].pop("tags", None)
    other: dict[str, list] = {}
    for related, fk_name in reverse_foreign_keys(Lead):
        if related is LeadTag:
            continue
        rows = _rows(related._default_manager.filter(**{fk_name: lead}).order_by("pk"))
        section = _SECTIONS.get(related)
        if section:
            data[section] = rows
        elif rows:
            other[related._meta.label] = rows
    data["other"] = other
    return data


def erase_lead(*, lead: Lead, actor: User | None) -> int:
    """Hard-delete the lead with everything about it (activities, tasks, form submissions,
    import records, rows of other models), put its email on the organization's suppression
    list (reason "erased") so it is never imported or mailed again, and strip it from earlier
    events' payloads. The `lead.erased` event carries the id only. Returns the erased id."""
    organization = lead.organization
    lead_id = lead.pk
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.email:
            Suppression.objects.get_or_create(
                organization=organization, email=lead.email, defaults={"reason": "erased"}
            )
        # Rows that would only lose their link (SET_NULL) still hold personal data.
        for related, fk_name in reverse_foreign_keys(Lead):
            related._default_manager.filter(**{fk_name: lead}).delete()
        lead.delete()
        Event.objects.for_org(organization).filter(
            type__startswith="lead.", payload__id=lead_id
        ).update(payload={"id": lead_id, "erased": True})
        events.emit(organization, "lead.erased", {"id": lead_id}, actor=actor)
    return lead_id
