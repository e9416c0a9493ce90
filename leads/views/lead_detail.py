"""The lead page: fields edited in place, tags, the timeline with notes, calls and meetings,
follow-up tasks, archive and restore. Without JavaScript the Edit page does the same job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Membership, Role, User
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page
from leads import services
from leads.extensions import LEAD_PANELS
from leads.forms import CustomValueForm
from leads.models import (
    Activity,
    ActivityKind,
    Company,
    CustomFieldDefinition,
    FieldType,
    Lead,
    LeadTask,
    Status,
)

TIMELINE_PAGE = 20
TEMPLATE = "leads/lead_detail.html"


# Fields -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    # How the value is shown: text, email, tel, url, company, owner, status (leads);
    # choice, long (companies).
    kind: str = "text"


FIELDS = {
    spec.name: spec
    for spec in (
        FieldSpec("first_name", "First name"),
        FieldSpec("last_name", "Last name"),
        FieldSpec("email", "Email", "email"),
        FieldSpec("phone", "Phone", "tel"),
        FieldSpec("title", "Job title"),
        FieldSpec("company", "Company", "company"),
        FieldSpec("status", "Status", "status"),
        FieldSpec("owner", "Owner", "owner"),
        FieldSpec("source", "Source"),
        FieldSpec("location", "Location"),
        FieldSpec("linkedin_url", "LinkedIn", "url"),
    )
}
# Timeline wording for the recorded fields (services.TRACKED_FIELDS).
FIELD_LABELS = {name: spec.label for name, spec in FIELDS.items()} | {
    "custom_fields": "Custom fields",
    "external_ids": "External ids",
}


def member_users(organization):
    """The organization's people, for owner and assignee choices."""
    return User.objects.filter(
        pk__in=Membership.objects.for_org(organization).values("user_id")
    ).order_by("name", "email")


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class LeadForm(forms.Form):
    """Every editable field of a lead; `only` keeps one of them for an in-place edit."""

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(max_length=254, required=False)
    phone = forms.CharField(max_length=50, required=False)
    title = forms.CharField(label="Job title", max_length=200, required=False)
    company = forms.CharField(
        max_length=200,
        required=False,
        help_text="An existing company by name, or a new one. Empty removes the company.",
    )
    status = forms.ChoiceField(choices=Status.choices)
    owner = OwnerChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    source = forms.CharField(max_length=60, required=False)
    location = forms.CharField(max_length=200, required=False)
    linkedin_url = forms.URLField(label="LinkedIn", max_length=500, required=False)
    tags = forms.CharField(
        max_length=1000, required=False, help_text="Separated by commas.", label="Tags"
    )

    def __init__(self, *args, organization, only: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        if only is not None:
            for name in list(self.fields):
                if name != only:
                    del self.fields[name]
            # The in-place form opens ready to type.
            self.fields[only].widget.attrs["autofocus"] = True
        if "company" in self.fields:
            self.fields["company"].widget.attrs["list"] = "company-names"
        if "owner" in self.fields:
            self.fields["owner"].queryset = member_users(organization)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"id_{name}")

    @staticmethod
    def initial_for(lead: Lead) -> dict[str, Any]:
        return {
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "email": lead.email,
            "phone": lead.phone_raw or lead.phone,
            "title": lead.title,
            "company": lead.company.name if lead.company_id else "",
            "status": lead.status,
            "owner": lead.owner_id,
            "source": lead.source,
            "location": lead.location,
            "linkedin_url": lead.linkedin_url,
            "tags": ", ".join(tag.name for tag in lead.tags.all()),
        }


def _split_tags(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def save_lead_form(*, lead: Lead, form: LeadForm, actor: User) -> bool:
    """Apply a valid form through the services (timeline, events). Returns False, with the
    error on the email field, when another active lead has that email. Atomic."""
    data = form.cleaned_data
    plain = {"first_name", "last_name", "email", "phone", "title", "source", "location"}
    changes = {name: data[name] for name in plain & set(data)}
    if "linkedin_url" in data:
        changes["linkedin_url"] = data["linkedin_url"]
    if "owner" in data:
        changes["owner"] = data["owner"]
    if "company" in data:
        name = data["company"].strip()
        current = lead.company.name if lead.company_id else ""
        if name != current:
            changes["company"] = (
                services.find_or_create_company(organization=form.organization, name=name)
                if name
                else None
            )
    try:
        with transaction.atomic():
            services.update_lead(lead=lead, actor=actor, changes=changes)
            if "status" in data:
                services.set_status(lead=lead, status=data["status"], actor=actor)
            if "tags" in data:
                wanted = {name.lower(): name for name in _split_tags(data["tags"])}
                current = {tag.name.lower() for tag in lead.tags.all()}
                services.add_tags(
                    leads=[lead],
                    names=[n for key, n in wanted.items() if key not in current],
                    organization=form.organization,
                )
                services.remove_tags(
                    leads=[lead],
                    names=[key for key in current if key not in wanted],
                    organization=form.organization,
                )
    except services.DuplicateLead as exc:
        form.duplicate_id = exc.existing_id
        form.add_error("email", "Another lead already has this email address.")
        return False
    return True


def field_display(lead: Lead, spec: FieldSpec, org_slug: str) -> dict[str, Any]:
    """What the read-only field shows: its text and, where useful, a link."""
    value: str = ""
    href = ""
    if spec.kind == "company":
        if lead.company_id:
            value = lead.company.name
            href = reverse("leads:company_detail", args=[org_slug, lead.company_id])
    elif spec.kind == "owner":
        value = lead.owner.display_name if lead.owner_id else ""
    elif spec.kind == "status":
        value = lead.get_status_display()
    elif spec.name == "phone":
        value = lead.phone or lead.phone_raw
        href = f"tel:{lead.phone}" if lead.phone else ""
    else:
        value = getattr(lead, spec.name)
        if value and spec.kind == "email":
            href = f"mailto:{value}"
        elif value and spec.kind == "url":
            href = value
    return {"spec": spec, "value": value, "href": href, "external": spec.kind == "url"}


# Timeline ---------------------------------------------------------------------------------

KIND_ICONS = {
    ActivityKind.NOTE: "note",
    ActivityKind.CALL: "call",
    ActivityKind.MEETING: "meeting",
    ActivityKind.EMAIL_SENT: "mail",
    ActivityKind.EMAIL_RECEIVED: "mail",
}
_STATUS_LABELS = dict(Status.choices)


def _text(value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _first(data: dict, *keys: str) -> str:
    for key in keys:
        if data.get(key):
            return str(data[key])
    return ""


def describe(activity: Activity) -> tuple[str, list[str]]:
    """A timeline entry in words: a title and detail lines, for every kind of activity.

    Other parts of the app record kind-specific facts in `data`; the common keys are read by
    name and anything else is listed as "key: value" so nothing recorded goes unseen.
    """
    data = activity.data if isinstance(activity.data, dict) else {}
    kind = activity.kind
    shown: set[str] = set()
    lines: list[str] = []
    if kind == ActivityKind.STATUS_CHANGE:
        old = _STATUS_LABELS.get(data.get("from"), data.get("from") or "—")
        new = _STATUS_LABELS.get(data.get("to"), data.get("to") or "—")
        title = f"Status changed: {old} → {new}"
        shown |= {"from", "to"}
    elif kind == ActivityKind.FIELD_CHANGE:
        changes = data.get("changes") if isinstance(data.get("changes"), dict) else {}
        names = [FIELD_LABELS.get(name, name.replace("_", " ").capitalize()) for name in changes]
        title = "Edited " + ", ".join(names) if names else "Edited"
        for name, pair in changes.items():
            label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
            if (
                isinstance(pair, list | tuple)
                and len(pair) == 2
                and isinstance(pair[0], dict | None)
                and isinstance(pair[1], dict)
            ):
                # Custom fields and external ids: only the keys that changed.
                before, after = pair[0] or {}, pair[1]
                for key in dict.fromkeys([*before, *after]):
                    if before.get(key) != after.get(key):
                        old, new = _text(before.get(key)), _text(after.get(key))
                        lines.append(f"{label}: {key}: {old} → {new}")
            elif isinstance(pair, list | tuple) and len(pair) == 2:
                lines.append(f"{label}: {_text(pair[0])} → {_text(pair[1])}")
            else:
                lines.append(f"{label}: {_text(pair)}")
        shown.add("changes")
    elif kind == ActivityKind.CREATED:
        title = "Lead created"
    elif kind == ActivityKind.IMPORT:
        name = _first(data, "filename", "file", "original_filename")
        title = f"Imported from {name}" if name else "Imported from a CSV file"
        shown |= {"filename", "file", "original_filename"}
    elif kind in (ActivityKind.EMAIL_SENT, ActivityKind.EMAIL_RECEIVED):
        subject = _first(data, "subject")
        verb = "Email sent" if kind == ActivityKind.EMAIL_SENT else "Email received"
        title = f"{verb}: {subject}" if subject else verb
        shown.add("subject")
    elif kind == ActivityKind.AGENT_RUN:
        agent = _first(data, "agent", "agent_type", "type", "name")
        title = f"Agent run: {agent}" if agent else "Agent run"
        shown |= {"agent", "agent_type", "type", "name"}
    elif kind == ActivityKind.ENRICHMENT:
        title = "Enriched"
        fields = data.get("fields")
        if isinstance(fields, list | dict) and fields:
            title = "Enriched: " + ", ".join(
                FIELD_LABELS.get(str(name), str(name)) for name in fields
            )
            shown.add("fields")
    elif kind == ActivityKind.FORM_SUBMISSION:
        form = _first(data, "form_name", "form")
        title = f"Submitted the form “{form}”" if form else "Submitted a form"
        shown |= {"form_name", "form"}
    elif kind == ActivityKind.MERGE:
        other = _first(data, "other_name", "merged_name", "other_email", "other_id", "merged_id")
        title = f"Merged with {other}" if other else "Merged with another lead"
        shown |= {"other_name", "merged_name", "other_email"}
    elif kind == ActivityKind.CALL:
        title = "Call logged"
    elif kind == ActivityKind.MEETING:
        title = "Meeting logged"
    elif kind == ActivityKind.NOTE:
        title = "Note"
    elif kind == ActivityKind.ARCHIVED:
        title = "Archived"
    elif kind == ActivityKind.RESTORED:
        title = "Restored"
    else:
        title = activity.get_kind_display() or kind
    for key, value in data.items():
        if key not in shown and not key.endswith("_id") and key != "id":
            lines.append(f"{key.replace('_', ' ').capitalize()}: {_text(value)}")
    return title, lines


def describe_activities(activities: list[Activity]) -> list[Activity]:
    for activity in activities:
        activity.title, activity.lines = describe(activity)
        activity.icon = KIND_ICONS.get(activity.kind, "dot")
    return activities


def _cursor(activity: Activity) -> str:
    return f"{activity.occurred_at.isoformat()}_{activity.pk}"


def timeline_page(lead: Lead, before: str | None) -> tuple[list[Activity], str]:
    """One page of the timeline, newest first, after the `before` cursor; one query.

    The cursor is the last shown entry's time and id, so entries added meanwhile neither
    repeat nor go missing (an offset would shift).
    """
    activities = Activity.objects.for_lead(lead).select_related("actor")
    if before:
        when, _, pk = before.rpartition("_")
        moment = parse_datetime(when) if when else None
        if moment is None or not pk.isdigit():
            raise Http404("No such page of the timeline.")
        activities = activities.filter(
            Q(occurred_at__lt=moment) | Q(occurred_at=moment, pk__lt=int(pk))
        )
    rows = list(activities.order_by("-occurred_at", "-id")[: TIMELINE_PAGE + 1])
    more = _cursor(rows[TIMELINE_PAGE - 1]) if len(rows) > TIMELINE_PAGE else ""
    return describe_activities(rows[:TIMELINE_PAGE]), more


class ActivityForm(forms.Form):
    """A note, or a call or meeting logged by hand with when it happened."""

    KINDS = [
        (ActivityKind.NOTE, "Note"),
        (ActivityKind.CALL, "Call"),
        (ActivityKind.MEETING, "Meeting"),
    ]
    kind = forms.ChoiceField(
        choices=KINDS, initial=ActivityKind.NOTE, widget=forms.RadioSelect, label="Add"
    )
    body = forms.CharField(
        label="What happened", max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = forms.DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text="Leave empty for now.",
    )

    def clean_occurred_at(self) -> datetime | None:
        value = self.cleaned_data["occurred_at"]
        if value and value > timezone.now() + timedelta(days=1):
            raise forms.ValidationError("A call or meeting that already happened: not the future.")
        return value


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200, label="Follow-up")
    due_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Due"
    )
    assignee = OwnerChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = member_users(organization)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"id_task_{name}")


# Page -------------------------------------------------------------------------------------


def get_lead(request: OrgRequest, lead_id: int) -> Lead:
    """The organization's lead (archived ones too), with what the page shows; else 404."""
    return get_object_or_404(
        Lead.objects.for_org(request.org).select_related("company", "owner"), pk=lead_id
    )


def require_write(request: OrgRequest) -> None:
    if not request.membership.can_write:
        raise PermissionDenied("Viewers cannot change leads.")


def lead_tasks(lead: Lead) -> list[LeadTask]:
    return list(
        LeadTask.objects.for_org(lead.organization_id)
        .filter(lead=lead)
        .select_related("assignee")
        .order_by("done_at", "due_date", "id")
    )


def custom_display(lead: Lead, definition: CustomFieldDefinition) -> dict[str, Any]:
    """A custom field's row: the definition, the stored value as text, a link for URLs."""
    stored = (
        lead.custom_fields.get(definition.key) if isinstance(lead.custom_fields, dict) else None
    )
    if stored in (None, "", [], {}):
        text = ""
    elif definition.field_type == FieldType.BOOLEAN and isinstance(stored, bool):
        text = "Yes" if stored else "No"
    else:
        text = _text(stored)
    href = (
        text
        if definition.field_type == FieldType.URL and text.startswith(("http://", "https://"))
        else ""
    )
    return {"definition": definition, "value": text, "href": href}


def custom_rows(request: OrgRequest, lead: Lead, open_form=None) -> list[dict[str, Any]]:
    """Every custom field of the organization with the lead's value; one query. `open_form`
    (definition id, form) shows that field's form in place (the page without JavaScript)."""
    rows = []
    for definition in CustomFieldDefinition.objects.for_org(request.org).order_by("label", "id"):
        row = custom_display(lead, definition)
        if open_form is not None and open_form[0] == definition.pk:
            row["form"] = open_form[1]
            row["bound"] = open_form[1]["value"]
        rows.append(row)
    return rows


def lead_context(request: OrgRequest, lead: Lead, **extra: Any) -> dict[str, Any]:
    """Everything the page (or any of its fragments) shows, in a fixed number of queries."""
    # Archived leads stay editable: restoring one may first need a new email address.
    can_write = request.membership.can_write
    extra["custom_fields"] = custom_rows(request, lead, extra.pop("custom_form", None))
    timeline, more = timeline_page(lead, request.GET.get("before"))
    context = {
        "lead": lead,
        "tags": list(lead.tags.all()),
        "fields": [field_display(lead, spec, request.org.slug) for spec in FIELDS.values()],
        "can_write": can_write,
        "timeline": timeline,
        "more": more,
        "tasks": lead_tasks(lead),
        "today": timezone.localdate(),
        "statuses": Status.choices,
        "panels": LEAD_PANELS,
    }
    if can_write:
        context.setdefault("activity_form", ActivityForm())
        context.setdefault("task_form", TaskForm(organization=request.org))
    context.update(extra)
    return context


# Which fragment an HTMX GET of the page gets, by its target.
FRAGMENTS = {
    "timeline-more": "timeline-page",
    "timeline-list": "timeline-list",
    "lead-header": "lead-header",
    "tasks": "tasks",
}


@org_member_required
@require_GET
def lead_detail(request: OrgRequest, lead_id: int):
    lead = get_lead(request, lead_id)
    fragment = FRAGMENTS.get(request.htmx.target if request.htmx else None)
    return page(request, TEMPLATE, lead_context(request, lead), fragment=fragment)


@org_member_required
@require_http_methods(["GET", "POST"])
def edit_lead(request: OrgRequest, lead_id: int):
    """The whole lead in one form: the page for readers without JavaScript."""
    lead = get_lead(request, lead_id)
    if request.method == "POST":
        require_write(request)
    initial = LeadForm.initial_for(lead)
    form = LeadForm(request.POST or None, initial=initial, organization=request.org)
    saved = (
        request.method == "POST"
        and form.is_valid()
        and save_lead_form(lead=lead, form=form, actor=request.user)
    )
    if saved:
        messages.success(request, f"{lead.display_name} saved.")
        return done(request, "leads:lead_detail", request.org.slug, lead.pk)
    context = {
        "lead": lead,
        "form": form,
        "can_write": request.membership.can_write,
        "company_names": _company_names(request),
    }
    return page(request, "leads/lead_edit.html", context, fragment="lead-form")


def _company_names(request: OrgRequest) -> list[str]:
    """Suggestions for the company field (a datalist: typing a new name is fine too)."""
    companies = Company.objects.for_org(request.org).order_by("name")
    return list(companies.values_list("name", flat=True)[:200])


def _field_spec(field: str) -> FieldSpec:
    spec = FIELDS.get(field)
    if spec is None:
        raise Http404("No such field.")
    return spec


def _field_fragment(request: OrgRequest, lead: Lead, spec: FieldSpec, form=None):
    context = {
        "lead": lead,
        "f": field_display(lead, spec, request.org.slug),
        "can_write": request.membership.can_write,
    }
    if form is not None:
        context["form"] = form
        context["bound"] = form[spec.name]
        if spec.kind == "company":
            context["company_names"] = _company_names(request)
        return page(request, TEMPLATE, context, fragment="field-form")
    return page(request, TEMPLATE, context, fragment="field")


@org_member_required
@require_http_methods(["GET", "POST"])
def lead_field(request: OrgRequest, lead_id: int, field: str):
    """One field: GET shows it (Cancel), POST saves it; both answer with the field."""
    lead = get_lead(request, lead_id)
    spec = _field_spec(field)
    if request.method == "GET":
        if not request.htmx:
            return redirect("leads:lead_detail", request.org.slug, lead.pk)
        return _field_fragment(request, lead, spec)
    require_write(request)
    form = LeadForm(request.POST, organization=request.org, only=spec.name)
    if not form.is_valid() or not save_lead_form(lead=lead, form=form, actor=request.user):
        return _field_fragment(request, lead, spec, form)  # 200: htmx 2 swaps it
    messages.success(request, f"{spec.label} saved.")
    if not request.htmx:
        return redirect("leads:lead_detail", request.org.slug, lead.pk)
    response = _field_fragment(request, lead, spec)
    response["HX-Trigger-After-Swap"] = "leadChanged"
    return response


@org_member_required(role=Role.MEMBER)
@require_GET
def edit_lead_field(request: OrgRequest, lead_id: int, field: str):
    """The in-place form of one field (HTMX); without JavaScript, the Edit page."""
    lead = get_lead(request, lead_id)
    spec = _field_spec(field)
    if not request.htmx:
        return redirect("leads:lead_edit", request.org.slug, lead.pk)
    initial = LeadForm.initial_for(lead)
    form = LeadForm(initial={spec.name: initial[spec.name]}, organization=request.org, only=field)
    return _field_fragment(request, lead, spec, form)


def _after(request: OrgRequest, lead: Lead, fragment: str, **extra: Any) -> HttpResponse:
    """After a change on the page: the changed fragment for HTMX, else back to the page."""
    if not request.htmx:
        return redirect("leads:lead_detail", request.org.slug, lead.pk)
    return page(request, TEMPLATE, lead_context(request, lead, **extra), fragment=fragment)


@org_member_required(role=Role.MEMBER)
@require_POST
def lead_tags(request: OrgRequest, lead_id: int, action: str):
    """Add tags (comma-separated `name`) or remove one tag (`name`)."""
    lead = get_lead(request, lead_id)
    if action not in ("add", "remove"):
        raise Http404("No such action.")
    raw = request.POST.get("name", "")
    # Several tags are added at once ("vip, q3"); a tag is removed by its exact name.
    names = _split_tags(raw)[:20] if action == "add" else [raw.strip()[:50]]
    if action == "add" and names:
        services.add_tags(leads=[lead], names=names, organization=request.org)
    elif action == "remove" and names:
        services.remove_tags(leads=[lead], names=names, organization=request.org)
    return _after(request, lead, "tags")


@org_member_required(role=Role.MEMBER)
@require_POST
def log_activity(request: OrgRequest, lead_id: int):
    """Add a note, or log a call or a meeting, on the lead's timeline."""
    lead = get_lead(request, lead_id)
    form = ActivityForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            messages.error(request, "Write what happened before saving.")
        return _after(request, lead, "timeline-card", activity_form=form)
    data = form.cleaned_data
    services.add_activity(
        lead=lead,
        kind=data["kind"],
        actor=request.user,
        body=data["body"],
        occurred_at=data["occurred_at"],
    )
    if data["kind"] in (ActivityKind.CALL, ActivityKind.MEETING):
        moment = data["occurred_at"] or timezone.now()
        if lead.last_contacted_at is None or moment > lead.last_contacted_at:
            Lead.objects.for_org(request.org).filter(pk=lead.pk).update(last_contacted_at=moment)
    messages.success(request, f"{dict(ActivityForm.KINDS)[data['kind']]} added.")
    return _after(request, lead, "timeline-card")


@org_member_required(role=Role.MEMBER)
@require_POST
def archive_lead(request: OrgRequest, lead_id: int):
    lead = get_lead(request, lead_id)
    services.archive_lead(lead=lead, actor=request.user)
    messages.success(request, f"{lead.display_name} archived. Restore it from its page.")
    return done(request, "leads:lead_detail", request.org.slug, lead.pk)


@org_member_required(role=Role.MEMBER)
@require_POST
def restore_lead(request: OrgRequest, lead_id: int):
    lead = get_lead(request, lead_id)
    try:
        services.restore_lead(lead=lead, actor=request.user)
    except services.DuplicateLead as exc:
        messages.error(
            request,
            f"Another active lead has {exc.email} now (lead #{exc.existing_id}): "
            "change this lead's email first, then restore it.",
        )
    else:
        messages.success(request, f"{lead.display_name} restored.")
    return done(request, "leads:lead_detail", request.org.slug, lead.pk)


# Custom fields ----------------------------------------------------------------------------


def _custom_definition(request: OrgRequest, field_id: int) -> CustomFieldDefinition:
    return get_object_or_404(CustomFieldDefinition.objects.for_org(request.org), pk=field_id)


def _custom_fragment(request: OrgRequest, lead: Lead, definition, form=None) -> HttpResponse:
    """The field's row (or its form) for HTMX; without JavaScript, the whole page with the
    form open in place."""
    if not request.htmx:
        if form is None:
            return redirect("leads:lead_detail", request.org.slug, lead.pk)
        context = lead_context(request, lead, custom_form=(definition.pk, form))
        return page(request, TEMPLATE, context)
    row = custom_display(lead, definition)
    context = {"lead": lead, "c": row, "can_write": request.membership.can_write}
    if form is None:
        return page(request, TEMPLATE, context, fragment="custom-field")
    row["form"] = form
    row["bound"] = form["value"]
    return page(request, TEMPLATE, context, fragment="custom-field-form")


@org_member_required
@require_http_methods(["GET", "POST"])
def lead_custom_field(request: OrgRequest, lead_id: int, field_id: int):
    """One custom field: GET shows it (Cancel), POST saves it, checked by the field's type;
    the change goes through update_lead so the timeline records it."""
    lead = get_lead(request, lead_id)
    definition = _custom_definition(request, field_id)
    if request.method == "GET":
        return _custom_fragment(request, lead, definition)
    require_write(request)
    form = CustomValueForm(request.POST, definition=definition)
    if not form.is_valid():
        return _custom_fragment(request, lead, definition, form)  # 200: htmx 2 swaps it
    merged = dict(lead.custom_fields) if isinstance(lead.custom_fields, dict) else {}
    value = form.value()
    if value is None:
        merged.pop(definition.key, None)
    else:
        merged[definition.key] = value
    services.update_lead(lead=lead, actor=request.user, changes={"custom_fields": merged})
    messages.success(request, f"{definition.label} saved.")
    response = _custom_fragment(request, lead, definition)
    if request.htmx:
        response["HX-Trigger-After-Swap"] = "leadChanged"
    return response


@org_member_required(role=Role.MEMBER)
@require_GET
def edit_lead_custom_field(request: OrgRequest, lead_id: int, field_id: int):
    """The in-place form of one custom field, with the stored value."""
    lead = get_lead(request, lead_id)
    definition = _custom_definition(request, field_id)
    stored = (
        lead.custom_fields.get(definition.key) if isinstance(lead.custom_fields, dict) else None
    )
    form = CustomValueForm(
        initial={"value": CustomValueForm.initial_for(definition, stored)}, definition=definition
    )
    return _custom_fragment(request, lead, definition, form)
