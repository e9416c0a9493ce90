"""Custom fields settings (`leads:custom_fields`): the organization's extra lead fields.
Owners and admins add, rename and delete them; everyone else reads the list. A field's
values live in `Lead.custom_fields[key]`: deleting the field keeps them unless asked."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page
from leads.forms import CustomFieldForm, RenameCustomFieldForm
from leads.models import CustomFieldDefinition, Lead

TEMPLATE = "leads/custom_fields.html"
# Leads rewritten per query when a field's values are removed.
REMOVE_CHUNK = 500


def _definitions(request: OrgRequest):
    return CustomFieldDefinition.objects.for_org(request.org)


def value_counts(organization, definitions) -> dict[int, int]:
    """How many leads (archived too) have a value for each definition; one query."""
    if not definitions:
        return {}
    totals = Lead.objects.for_org(organization).aggregate(
        **{f"d{d.pk}": Count("pk", filter=Q(custom_fields__has_key=d.key)) for d in definitions}
    )
    return {d.pk: totals[f"d{d.pk}"] for d in definitions}


def remove_values(organization, key: str) -> int:
    """Remove `key` from every lead's custom_fields, in chunks; returns how many changed."""
    changed = 0
    leads = Lead.objects.for_org(organization).filter(custom_fields__has_key=key)
    last = 0
    while True:
        batch = list(
            leads.filter(pk__gt=last).order_by("pk").only("pk", "custom_fields")[:REMOVE_CHUNK]
        )
        if not batch:
            return changed
        for lead in batch:
            lead.custom_fields.pop(key, None)
        Lead.objects.bulk_update(batch, ["custom_fields"])
        changed += len(batch)
        last = batch[-1].pk


def _page(request: OrgRequest, *, add_form=None, rename_forms=None, status: int = 200):
    definitions = list(_definitions(request).order_by("label", "id"))
    counts = value_counts(request.org, definitions)
    rename_forms = rename_forms or {}
    for definition in definitions:
        definition.value_count = counts[definition.pk]
        definition.rename_form = rename_forms.get(definition.pk) or RenameCustomFieldForm(
            initial={"label": definition.label}, prefix=f"f{definition.pk}"
        )
    can_manage = request.membership.can_manage
    context = {
        "definitions": definitions,
        "can_manage": can_manage,
        "add_form": (add_form or CustomFieldForm(organization=request.org)) if can_manage else None,
    }
    return page(request, TEMPLATE, context, fragment="custom-fields", status=status)


def _require_manage(request: OrgRequest) -> None:
    if not request.membership.can_manage:
        raise PermissionDenied("Only owners and admins can change custom fields.")


@org_member_required
@require_http_methods(["GET", "POST"])
def custom_fields(request: OrgRequest):
    """GET lists the fields to everyone; POST (owners and admins) adds one."""
    if request.method == "GET":
        return _page(request)
    _require_manage(request)
    form = CustomFieldForm(request.POST, organization=request.org)
    if not form.is_valid():
        return _page(request, add_form=form)
    data = form.cleaned_data
    CustomFieldDefinition.objects.create(
        organization=request.org,
        key=data["key"],
        label=data["label"],
        field_type=data["field_type"],
        choices=data["choices"],
    )
    messages.success(request, f"Custom field “{data['label']}” added. Every lead page shows it.")
    return done(request, "leads:custom_fields", org_slug=request.org.slug)


@org_member_required(role=Role.ADMIN)
@require_POST
def rename_custom_field(request: OrgRequest, field_id: int):
    definition = get_object_or_404(_definitions(request), pk=field_id)
    form = RenameCustomFieldForm(request.POST, prefix=f"f{definition.pk}")
    if not form.is_valid():
        return _page(request, rename_forms={definition.pk: form})
    old = definition.label
    definition.label = form.cleaned_data["label"]
    definition.save(update_fields=["label"])
    messages.success(request, f"Custom field “{old}” renamed to “{definition.label}”.")
    return done(request, "leads:custom_fields", org_slug=request.org.slug)


@org_member_required(role=Role.ADMIN)
@require_POST
def delete_custom_field(request: OrgRequest, field_id: int):
    """Delete the definition; with `remove_values`, its values on every lead too."""
    definition = get_object_or_404(_definitions(request), pk=field_id)
    with transaction.atomic():
        removed = (
            remove_values(request.org, definition.key) if request.POST.get("remove_values") else 0
        )
        definition.delete()
    if removed:
        messages.success(
            request,
            f"Custom field “{definition.label}” deleted, and its value on {removed} "
            f"lead{'s' if removed != 1 else ''}.",
        )
    else:
        messages.success(
            request,
            f"Custom field “{definition.label}” deleted. Values already entered stay on the "
            "leads (exports and the API keep them).",
        )
    return done(request, "leads:custom_fields", org_slug=request.org.slug)
