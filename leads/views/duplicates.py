"""Likely duplicates (`leads:duplicates`) and merging them: two leads field by field
(`leads:merge`), two companies (`leads:company_merge`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import page
from leads import merging
from leads.models import Company, Lead

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "title": "Title",
    "company": "Company",
    "linkedin_url": "LinkedIn",
    "location": "Location",
    "source": "Source",
    "status": "Status",
    "owner": "Owner",
}


@org_member_required
@require_GET
def duplicates(request: OrgRequest):
    context = {
        "lead_groups": merging.duplicate_lead_groups(request.org),
        "company_groups": merging.duplicate_company_groups(request.org),
        "shown": merging.DUPLICATE_GROUPS_SHOWN,
        "can_write": request.membership.can_write,
    }
    return page(request, "leads/duplicates.html", context)


def _shown(lead: Lead, name: str) -> str:
    if name == "company":
        return lead.company.name if lead.company else ""
    if name == "owner":
        return lead.owner.display_name if lead.owner else ""
    if name == "status":
        return lead.get_status_display()
    if name == "phone":
        return lead.phone or lead.phone_raw
    return getattr(lead, name) or ""


def _merge_rows(keep: Lead, other: Lead, chosen: dict[str, str] | None) -> list[dict[str, Any]]:
    rows = []
    for name in merging.MERGE_FIELDS:
        mine, theirs = _shown(keep, name), _shown(other, name)
        default = "other" if (not mine and theirs) else "keep"
        rows.append(
            {
                "name": name,
                "label": FIELD_LABELS[name],
                "keep": mine,
                "other": theirs,
                "same": mine == theirs,
                "choice": (chosen or {}).get(name, default),
            }
        )
    return rows


def _leads_pair(request: OrgRequest, lead_id: int, other_id: str | None) -> tuple[Lead, Lead]:
    leads = Lead.objects.for_org(request.org).select_related("company", "owner")
    keep = get_object_or_404(leads, pk=lead_id)
    if not (other_id or "").isdigit():
        raise Http404("Choose the lead to merge.")
    other = get_object_or_404(leads, pk=int(other_id))
    return keep, other


@org_member_required
@require_http_methods(["GET", "POST"])
def merge_leads(request: OrgRequest, lead_id: int):
    """GET `?other=<id>`: the two leads side by side, a radio per field; POST merges `other`
    into this lead with the chosen values (members and above)."""
    source = request.POST if request.method == "POST" else request.GET
    keep, other = _leads_pair(request, lead_id, source.get("other"))
    error = ""
    if keep.pk == other.pk:
        error = "A lead cannot be merged into itself."
    if request.method == "POST" and not error:
        if not request.membership.can_write:
            raise PermissionDenied("Viewers cannot merge leads.")
        fields = {name: request.POST.get(f"field_{name}", "keep") for name in merging.MERGE_FIELDS}
        try:
            kept = merging.merge_leads(keep=keep, other=other, fields=fields, actor=request.user)
        except merging.MergeError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Merged into {kept.display_name}.")
            return redirect("leads:lead_detail", org_slug=request.org.slug, lead_id=kept.pk)
    chosen = (
        {n: request.POST.get(f"field_{n}", "keep") for n in merging.MERGE_FIELDS}
        if request.method == "POST"
        else None
    )
    context = {
        "keep": keep,
        "other": other,
        "rows": _merge_rows(keep, other, chosen),
        "error": error,
        "can_write": request.membership.can_write,
    }
    return page(request, "leads/merge.html", context, fragment="merge")


@org_member_required(role=Role.MEMBER)
@require_POST
def merge_companies(request: OrgRequest, company_id: int):
    """Merge company `other` (POST) into this one; its leads move here."""
    companies = Company.objects.for_org(request.org)
    keep = get_object_or_404(companies, pk=company_id)
    other_id = request.POST.get("other", "")
    if not other_id.isdigit():
        raise Http404("Choose the company to merge.")
    other = get_object_or_404(companies, pk=int(other_id))
    try:
        kept = merging.merge_companies(keep=keep, other=other, actor=request.user)
    except merging.MergeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{other.name} was merged into {kept.name}.")
    return redirect("leads:duplicates", org_slug=request.org.slug)
