"""Lead-capture forms: which fields a form may ask for, validating a public submission, and
turning it into a lead (created, or an existing one completed) with its timeline entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import F

from leads import services
from leads.models import (
    ActivityKind,
    CaptureForm,
    CustomFieldDefinition,
    FormSubmission,
    Lead,
)
from leads.utils import normalize_email, split_full_name

HONEYPOT = "website_url"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
CUSTOM_PREFIX = "custom."
MAX_VALUE = 2000


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    input_type: str  # the <input type> of the embed snippet, or "textarea"
    max_length: int
    lead_field: str = ""  # "" for values kept on the submission and timeline only


# What a form may ask for, in the order a form shows them.
LEAD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("email", "Email", "email", 254, "email"),
    FieldSpec("first_name", "First name", "text", 100, "first_name"),
    FieldSpec("last_name", "Last name", "text", 100, "last_name"),
    FieldSpec("name", "Full name", "text", 200),
    FieldSpec("company", "Company", "text", 200),
    FieldSpec("title", "Job title", "text", 200, "title"),
    FieldSpec("phone", "Phone", "tel", 50, "phone"),
    FieldSpec("linkedin_url", "LinkedIn profile", "url", 500, "linkedin_url"),
    FieldSpec("location", "Location", "text", 200, "location"),
    FieldSpec("message", "Message", "textarea", MAX_VALUE),
)
_BY_NAME = {spec.name: spec for spec in LEAD_FIELDS}


def available_fields(organization) -> list[FieldSpec]:
    """The lead fields plus the organization's custom fields (`custom.<key>`)."""
    custom = [
        FieldSpec(f"{CUSTOM_PREFIX}{d.key}", d.label, _input_type(d.field_type), 500)
        for d in CustomFieldDefinition.objects.for_org(organization).order_by("label")
    ]
    return [*LEAD_FIELDS, *custom]


def _input_type(field_type: str) -> str:
    return {"number": "number", "date": "date", "url": "url"}.get(field_type, "text")


def clean_field_config(organization, config: Any) -> list[dict[str, Any]]:
    """A form's `fields` as stored: [{name, label, required, type}], known names only, email
    always present and required. Raises ValidationError with what is wrong."""
    if not isinstance(config, list):
        raise ValidationError("Fields must be a list.")
    known = {spec.name: spec for spec in available_fields(organization)}
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in config:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValidationError("Each field needs a name.")
        name = item["name"]
        if name not in known:
            raise ValidationError(f"Unknown field {name!r}.")
        if name in seen:
            raise ValidationError(f"The field {name!r} is listed twice.")
        seen.add(name)
        label = item.get("label") or known[name].label
        if not isinstance(label, str) or len(label) > 100:
            raise ValidationError(f"The label of {name!r} must be text of at most 100 characters.")
        cleaned.append(
            {
                "name": name,
                "label": label.strip() or known[name].label,
                "required": bool(item.get("required")) or name == "email",
                "type": known[name].input_type,
            }
        )
    if "email" not in seen:
        raise ValidationError("A form needs the email field: leads are matched on it.")
    return cleaned


# ---------------------------------------------------------------- a public submission


@dataclass
class Submission:
    values: dict[str, str] = field(default_factory=dict)
    utm: dict[str, str] = field(default_factory=dict)
    referrer: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    is_spam: bool = False


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("\x00", "").strip()


def read_submission(form: CaptureForm, data: dict[str, Any], referrer_header: str) -> Submission:
    """Validate posted `data` (a dict of field name to value) against the form's fields."""
    sub = Submission()
    if _text(data.get(HONEYPOT)):
        sub.is_spam = True
        return sub
    nested = data.get("custom_fields") if isinstance(data.get("custom_fields"), dict) else {}
    for item in form.fields:
        name = item.get("name", "")
        raw = data.get(name)
        if raw is None and name.startswith(CUSTOM_PREFIX):
            raw = nested.get(name[len(CUSTOM_PREFIX) :])
        value = _text(raw)
        label = item.get("label") or name
        spec = _BY_NAME.get(name)
        limit = spec.max_length if spec else 500
        if not value:
            if item.get("required"):
                sub.errors[name] = f"{label} is required."
            continue
        if len(value) > limit:
            sub.errors[name] = f"{label} is too long (at most {limit} characters)."
            continue
        if name == "email":
            value = normalize_email(value)
            try:
                validate_email(value)
            except ValidationError:
                sub.errors[name] = f"{label}: enter a valid email address."
                continue
        elif item.get("type") == "url":
            try:
                URLValidator(schemes=["http", "https"])(value)
            except ValidationError:
                sub.errors[name] = f"{label}: enter a full web address (https://...)."
                continue
        sub.values[name] = value
    for key in UTM_FIELDS:
        value = _text(data.get(key))[:200]
        if value:
            sub.utm[key] = value
    sub.referrer = (_text(data.get("referrer")) or referrer_header or "")[:1000]
    return sub


def _lead_data(form: CaptureForm, values: dict[str, str]) -> tuple[dict[str, Any], str]:
    """(Lead field values, company name) from a submission's values."""
    data: dict[str, Any] = {}
    for name, value in values.items():
        spec = _BY_NAME.get(name)
        if spec and spec.lead_field:
            data[spec.lead_field] = value
    if values.get("name") and not (data.get("first_name") or data.get("last_name")):
        data["first_name"], data["last_name"] = split_full_name(values["name"])
        data["_split_name"] = True
    custom = {
        name[len(CUSTOM_PREFIX) :]: value
        for name, value in values.items()
        if name.startswith(CUSTOM_PREFIX)
    }
    if custom:
        data["custom_fields"] = custom
    return data, values.get("company", "")


def submit(
    *, form: CaptureForm, submission: Submission, ip_address: str | None
) -> FormSubmission | None:
    """Record a valid submission: create the lead, or complete the active lead with this email
    (only its empty fields; nothing is overwritten), tag it, add a FORM_SUBMISSION activity,
    store the FormSubmission and count it. A suppressed address is accepted and dropped
    (returns None). Atomic."""
    organization = form.organization
    email = submission.values.get("email", "")
    if services.is_suppressed(organization, email):
        return None
    data, company_name = _lead_data(form, submission.values)
    activity = {
        "form_id": form.pk,
        "form": form.name,
        "fields": submission.values,
        "utm": submission.utm,
        "referrer": submission.referrer,
    }
    with transaction.atomic():
        lead = (
            Lead.objects.for_org(organization)
            .active()
            .filter(email=email)
            .select_for_update()
            .first()
        )
        if lead is None:
            try:
                with transaction.atomic():
                    fields = {k: v for k, v in data.items() if k != "_split_name"}
                    lead = services.create_lead(
                        organization=organization,
                        actor=None,
                        data=fields | {"source": form.source, "owner": form.owner},
                        tags=form.tags,
                        company_name=company_name,
                    )
            except services.DuplicateLead as exc:  # created meanwhile by another request
                lead = Lead.objects.for_org(organization).get(pk=exc.existing_id)
                _complete(lead, form, data, company_name)
        else:
            _complete(lead, form, data, company_name)
        services.add_activity(
            lead=lead,
            kind=ActivityKind.FORM_SUBMISSION,
            body=submission.values.get("message", ""),
            data=activity,
        )
        record = FormSubmission.objects.create(
            organization=organization,
            form=form,
            lead=lead,
            data=submission.values,
            utm=submission.utm,
            referrer=submission.referrer,
            ip_address=ip_address or None,
        )
        CaptureForm.objects.filter(pk=form.pk).update(submission_count=F("submission_count") + 1)
    return record


def _complete(lead: Lead, form: CaptureForm, data: dict[str, Any], company_name: str) -> None:
    """Fill the lead's empty fields from the submission; never overwrite what it has."""
    changes: dict[str, Any] = {}
    data = dict(data)
    if data.pop("_split_name", False) and (lead.first_name or lead.last_name):
        # A full name is one value: it completes a lead with no name, never half of one.
        data.pop("first_name", None)
        data.pop("last_name", None)
    for name, value in data.items():
        if name == "custom_fields":
            merged = dict(lead.custom_fields or {})
            added = {k: v for k, v in value.items() if not merged.get(k)}
            if added:
                changes["custom_fields"] = merged | added
        elif name == "phone":
            if not lead.phone and not lead.phone_raw:
                changes["phone"] = value
        elif not getattr(lead, name):
            changes[name] = value
    if company_name and lead.company_id is None:
        changes["company"] = services.find_or_create_company(
            organization=lead.organization, name=company_name, email=lead.email
        )
    if not lead.owner_id and form.owner_id:
        changes["owner"] = form.owner
    if changes:
        services.update_lead(lead=lead, actor=None, changes=changes)
    if form.tags:
        services.add_tags(leads=[lead], names=form.tags, organization=lead.organization)
