"""Companies: the searchable, sortable list with lead counts, and a company's page with its
fields (edited in place), its enrichment and its leads."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page, sort_order
from leads import scoring
from leads.extensions import COMPANY_ACTIONS, actions_for
from leads.models import Company, Lead
from leads.utils import registered_domain
from leads.views.lead_detail import FieldSpec

_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}")
COMPANIES_PER_PAGE = 50
LEADS_PER_PAGE = 50
TEMPLATE = "leads/company_detail.html"

_LEAD_COUNT = Count("leads", filter=Q(leads__archived_at__isnull=True))
SORTS = {
    "name": [Lower("name"), "id"],
    "domain": ["domain", "id"],
    "industry": ["industry", "id"],
    "leads": ["lead_count", "id"],
    "created": ["created_at", "id"],
}


@org_member_required
@require_GET
def company_list(request: OrgRequest):
    """All companies with their active lead counts (one grouped query per page)."""
    q = request.GET.get("q", "").strip()[:200]
    companies = Company.objects.for_org(request.org).search(q).annotate(lead_count=_LEAD_COUNT)
    sort, order = sort_order(request, SORTS, "name")
    companies_page = Paginator(companies.order_by(*order), COMPANIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "companies_page": companies_page,
        "companies": list(companies_page.object_list),
        "q": q,
        "sort": sort,
        "can_write": request.membership.can_write,
    }
    return page(request, "leads/company_list.html", context, fragment="companies")


FIELDS = {
    spec.name: spec
    for spec in (
        FieldSpec("name", "Name"),
        FieldSpec("domain", "Domain"),
        FieldSpec("website", "Website", "url"),
        FieldSpec("industry", "Industry"),
        FieldSpec("size_range", "Size", "choice"),
        FieldSpec("location", "Location"),
        FieldSpec("linkedin_url", "LinkedIn", "url"),
        FieldSpec("description", "Description", "long"),
    )
}


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = list(FIELDS)
        labels = {"size_range": "Size (employees)", "linkedin_url": "LinkedIn"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, only: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if only is not None:
            for name in list(self.fields):
                if name != only:
                    del self.fields[name]
            self.fields[only].widget.attrs["autofocus"] = True
        if "domain" in self.fields:
            self.fields["domain"].help_text = "Any URL or host: kept as the registered domain."

    def clean_domain(self) -> str:
        raw = self.cleaned_data["domain"].strip()
        # The registered domain when the suffix is public; else the host as typed (an
        # intranet or reserved name such as "acme.example"), lower case, without "www.".
        host = urlsplit(raw if "//" in raw else f"//{raw}").hostname or ""
        domain = registered_domain(raw) or (
            host.removeprefix("www.") if _HOST.fullmatch(host) else ""
        )
        if raw and not domain:
            raise forms.ValidationError("Enter a domain such as acme.com.")
        others = Company.objects.for_org(self.instance.organization).exclude(pk=self.instance.pk)
        if domain and others.filter(domain=domain).exists():
            raise forms.ValidationError("Another company already has this domain.")
        return domain


def _get_company(request: OrgRequest, company_id: int) -> Company:
    return get_object_or_404(Company.objects.for_org(request.org), pk=company_id)


def _field_display(company: Company, spec: FieldSpec) -> dict[str, Any]:
    value = getattr(company, spec.name)
    href = ""
    if spec.kind == "choice":
        value = company.get_size_range_display() if value else ""
    elif spec.kind == "url" and value:
        href = value
    elif spec.name == "domain" and value:
        href = f"https://{value}"
    return {"spec": spec, "value": value, "href": href}


def _enriched_rows(data: Any) -> list[dict[str, Any]]:
    """The enrichment facts as rows (label, value, and where the value came from).

    Applied enrichment results store {"profile": {...}, "sources": {field: {url, method}}};
    anything else (older or imported data) is shown key by key."""
    if not isinstance(data, dict):
        return []
    profile = data.get("profile") if isinstance(data.get("profile"), dict) else data
    sources = data.get("sources") if isinstance(data.get("sources"), dict) else {}
    rows = []
    for key, value in profile.items():
        if key == "sources" or value in (None, "", [], {}):
            continue
        source = sources.get(key) if isinstance(sources.get(key), dict) else {}
        rows.append(
            {
                "label": str(key).replace("_", " ").capitalize(),
                "value": value,
                "url": source.get("url", ""),
                "method": source.get("method", ""),
            }
        )
    return rows


def company_context(request: OrgRequest, company: Company) -> dict[str, Any]:
    leads = Lead.objects.for_org(request.org).active().filter(company=company).with_card_data()
    leads_page = Paginator(leads, LEADS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "company": company,
        "fields": [_field_display(company, spec) for spec in FIELDS.values()],
        "leads_page": leads_page,
        "leads": list(leads_page.object_list),
        "enriched": _enriched_rows(company.enriched_data),
        "enriched_at": (company.enriched_data or {}).get("enriched_at", "")
        if isinstance(company.enriched_data, dict)
        else "",
        "enriched_result_path": (company.enriched_data or {}).get("result_path", "")
        if isinstance(company.enriched_data, dict)
        else "",
        "company_actions": actions_for(COMPANY_ACTIONS, request.membership),
        "can_write": request.membership.can_write,
    }


@org_member_required
@require_GET
def company_detail(request: OrgRequest, company_id: int):
    company = _get_company(request, company_id)
    fragment = "company-leads" if request.htmx and request.htmx.target == "company-leads" else None
    return page(request, TEMPLATE, company_context(request, company), fragment=fragment)


def _spec(field: str) -> FieldSpec:
    spec = FIELDS.get(field)
    if spec is None:
        raise Http404("No such field.")
    return spec


def _field_fragment(request: OrgRequest, company: Company, spec: FieldSpec, form=None):
    context = {
        "company": company,
        "f": _field_display(company, spec),
        "can_write": request.membership.can_write,
    }
    if form is not None:
        context |= {"form": form, "bound": form[spec.name]}
        return page(request, TEMPLATE, context, fragment="field-form")
    return page(request, TEMPLATE, context, fragment="field")


def _save(form: CompanyForm) -> bool:
    try:
        with transaction.atomic():
            # Only the edited fields: enrichment writes enriched_data on the same row.
            form.instance.save(update_fields=[*form.fields, "updated_at"])
            # Industry, size and location feed the leads' scores.
            scoring.rescore_company_leads(form.instance)
    except IntegrityError:  # the same domain saved meanwhile by someone else
        form.add_error("domain", "Another company already has this domain.")
        return False
    return True


@org_member_required
@require_http_methods(["GET", "POST"])
def company_field(request: OrgRequest, company_id: int, field: str):
    """One field: GET shows it (Cancel), POST saves it; both answer with the field."""
    company = _get_company(request, company_id)
    spec = _spec(field)
    if request.method == "GET":
        if not request.htmx:
            return redirect("leads:company_detail", request.org.slug, company.pk)
        return _field_fragment(request, company, spec)
    if not request.membership.can_write:
        raise PermissionDenied("Viewers cannot change companies.")
    form = CompanyForm(request.POST, instance=company, only=spec.name)
    if not form.is_valid() or not _save(form):
        company.refresh_from_db()
        return _field_fragment(request, company, spec, form)
    messages.success(request, f"{spec.label} saved.")
    if not request.htmx:
        return redirect("leads:company_detail", request.org.slug, company.pk)
    return _field_fragment(request, company, spec)


@org_member_required(role=Role.MEMBER)
@require_GET
def edit_company_field(request: OrgRequest, company_id: int, field: str):
    company = _get_company(request, company_id)
    spec = _spec(field)
    if not request.htmx:
        return redirect("leads:company_edit", request.org.slug, company.pk)
    return _field_fragment(request, company, spec, CompanyForm(instance=company, only=field))


@org_member_required
@require_http_methods(["GET", "POST"])
def edit_company(request: OrgRequest, company_id: int):
    """The whole company in one form: the page for readers without JavaScript."""
    company = _get_company(request, company_id)
    if request.method == "POST" and not request.membership.can_write:
        raise PermissionDenied("Viewers cannot change companies.")
    form = CompanyForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid() and _save(form):
        messages.success(request, f"{company.name} saved.")
        return done(request, "leads:company_detail", request.org.slug, company.pk)
    context = {"company": company, "form": form, "can_write": request.membership.can_write}
    return page(request, "leads/company_edit.html", context, fragment="company-form")
