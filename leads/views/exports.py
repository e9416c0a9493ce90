"""Export the lead list's current filter (`leads:export`): a streamed CSV or JSON download."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.views.decorators.http import require_GET

from accounts.tenancy import OrgRequest, org_member_required
from leads import exports
from leads.filters import LeadFilter
from leads.models import Lead


@org_member_required
@require_GET
def export_leads(request: OrgRequest):
    """`?format=csv|json` plus the list's filters (invalid filters are left out, as the list
    does). Every role may export what it can see."""
    params = request.GET.copy()
    fmt = params.pop("format", ["csv"])[-1] or "csv"
    if fmt not in exports.FORMATS:
        return HttpResponseBadRequest("Unknown export format: use csv or json.")
    for key in ("page", "sort"):
        params.pop(key, None)
    filterset = LeadFilter(
        params, queryset=Lead.objects.for_org(request.org), organization=request.org
    )
    return exports.export_response(filterset.qs, request.org, fmt)
