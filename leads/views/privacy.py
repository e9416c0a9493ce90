"""Privacy actions on one lead: download everything held about it (`leads:lead_export_json`)
and erase it (`leads:lead_erase`, a confirm page where the email is typed)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import page
from leads import privacy
from leads.models import Lead

ERASE_WORD = "erase"


def _lead(request: OrgRequest, lead_id: int) -> Lead:
    return get_object_or_404(
        Lead.objects.for_org(request.org).select_related("company", "owner", "organization"),
        pk=lead_id,
    )


@org_member_required(role=Role.MEMBER)
@require_GET
def lead_export_json(request: OrgRequest, lead_id: int):
    """A JSON download of the lead, its company, timeline, tasks, form submissions and
    import records (a data subject access request)."""
    lead = _lead(request, lead_id)
    body = json.dumps(privacy.export_lead(lead), cls=DjangoJSONEncoder, indent=2)
    response = HttpResponse(body, content_type="application/json")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


class EraseForm(forms.Form):
    confirm = forms.CharField(max_length=254, label="Type to confirm")

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value.lower() != self.expected.lower():
            raise forms.ValidationError(f"Type {self.expected} exactly to confirm.")
        return value


@org_member_required(role=Role.ADMIN)
@require_http_methods(["GET", "POST"])
def lead_erase(request: OrgRequest, lead_id: int):
    """Owners and admins: erase the lead for good once its email (or "erase") is typed."""
    lead = _lead(request, lead_id)
    expected = lead.email or ERASE_WORD
    form = EraseForm(request.POST if request.method == "POST" else None, expected=expected)
    if request.method == "POST" and form.is_valid():
        name = lead.display_name
        privacy.erase_lead(lead=lead, actor=request.user)
        messages.success(request, f"{name} was erased. Their address is on the suppression list.")
        return redirect("leads:lead_list", org_slug=request.org.slug)
    context = {"lead": lead, "form": form, "expected": expected}
    return page(request, "leads/privacy_erase.html", context, fragment="erase")
