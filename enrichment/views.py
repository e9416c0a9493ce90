"""Enrichment in the browser: start a job (pasted names and domains, selected leads, a
company), watch it run, read each result with where every field came from, apply results to
the companies, export them as CSV.

The work is enrichment.jobs; these views validate, call it and render.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts import usage
from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page
from config.tasks import queue_status
from enrichment import ai, jobs
from enrichment.models import EnrichmentJob, EnrichmentResult, JobSource, JobStatus, ResultStatus
from enrichment.reconcile import FIELD_LABELS, FIELDS
from leads.filters import bulk_selection
from leads.models import Company

JOBS_PER_PAGE = 25
RESULTS_SHOWN = 500
# Leads enriched from the list at most at once (their companies are fewer).
FROM_LEADS_LIMIT = 1000


class PasteForm(forms.Form):
    companies = forms.CharField(
        label="Companies",
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "placeholder": "One per line: a name, a domain or both\nAcme Robotics, acme.io\n"
                "stripe.com\nNotion",
            }
        ),
        help_text="One company per line: a name, a domain or a website, or “Name, domain”.",
    )


def _job(request: OrgRequest, job_id: int) -> EnrichmentJob:
    return get_object_or_404(
        EnrichmentJob.objects.for_org(request.org).select_related("created_by"), pk=job_id
    )


def _jobs_page(request: OrgRequest, form: PasteForm | None = None, status: int = 200):
    jobs_page = Paginator(
        EnrichmentJob.objects.for_org(request.org).select_related("created_by"), JOBS_PER_PAGE
    ).get_page(request.GET.get("page"))
    context = {
        "form": form or PasteForm(),
        "jobs_page": jobs_page,
        "jobs": list(jobs_page.object_list),
        "can_write": request.membership.can_write,
        "remaining": usage.remaining(request.org, jobs.ACTION),
        "max_companies": jobs.max_companies(),
    }
    return page(request, "enrichment/jobs.html", context, status=status)


@org_member_required
@require_GET
def job_list(request: OrgRequest):
    return _jobs_page(request)


def _start(request: OrgRequest, queries: list[dict], source: str, form: PasteForm | None = None):
    """Create the job and go to its page; a refusal comes back as a message."""
    try:
        job = jobs.create_job(
            organization=request.org, user=request.user, queries=queries, source=source
        )
    except (jobs.JobError, usage.QuotaExceeded) as exc:
        if form is not None:
            form.add_error(None, str(exc))
            return _jobs_page(request, form, status=400)
        messages.error(request, str(exc))
        return done(request, "enrichment:jobs", org_slug=request.org.slug)
    messages.success(request, f"Enriching {job.total:,} compan{'y' if job.total == 1 else 'ies'}.")
    return done(request, "enrichment:job_detail", org_slug=request.org.slug, job_id=job.pk)


@org_member_required(role=Role.MEMBER)
@require_POST
def job_create(request: OrgRequest):
    form = PasteForm(request.POST)
    if not form.is_valid():
        return _jobs_page(request, form, status=400)
    queries = jobs.parse_pasted(form.cleaned_data["companies"])
    return _start(request, queries, JobSource.PASTED, form)


@org_member_required(role=Role.MEMBER)
@require_POST
def from_leads(request: OrgRequest):
    """From the lead list's bulk bar: the ticked leads, or all matching its filters."""
    ids = bulk_selection(request, request.org, FROM_LEADS_LIMIT)
    if not ids:
        messages.error(request, "Tick the leads whose companies to enrich, or “All matching”.")
        return done(request, "leads:lead_list", org_slug=request.org.slug)
    if len(ids) > FROM_LEADS_LIMIT:
        messages.error(
            request,
            f"More than {FROM_LEADS_LIMIT:,} leads match: narrow the filters to enrich their "
            "companies.",
        )
        return done(request, "leads:lead_list", org_slug=request.org.slug)
    return _start(request, jobs.queries_for_leads(request.org, ids), JobSource.LEADS)


@org_member_required(role=Role.MEMBER)
@require_POST
def from_company(request: OrgRequest, company_id: int):
    company = get_object_or_404(Company.objects.for_org(request.org), pk=company_id)
    return _start(
        request, jobs.queries_for_companies(request.org, [company.pk]), JobSource.COMPANIES
    )


def _status_context(request: OrgRequest, job: EnrichmentJob) -> dict:
    results = list(
        EnrichmentResult.objects.filter(job=job)
        .select_related("company")
        .order_by("position")[:RESULTS_SHOWN]
    )
    applicable = [r for r in results if r.status == ResultStatus.SUCCEEDED and not r.applied_at]
    return {
        "job": job,
        "results": results,
        "more_results": max(job.total - len(results), 0),
        "percent": round(job.progress * 100),
        "finished": job.is_finished,
        "can_write": request.membership.can_write,
        "applicable": len(applicable),
        "ai_mode": ai.mode_label(request.org),
        # Queued with no worker alive: say so rather than wait in silence.
        "no_worker": job.status == JobStatus.QUEUED and not queue_status()["ok"],
    }


@org_member_required
@require_GET
def job_detail(request: OrgRequest, job_id: int):
    """The job with its progress and results; the status fragment polls itself until the
    job is finished (then 286 tells htmx to stop)."""
    job = _job(request, job_id)
    response = page(
        request, "enrichment/job_detail.html", _status_context(request, job), fragment="job-status"
    )
    if request.htmx and job.is_finished:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@org_member_required(role=Role.MEMBER)
@require_POST
def job_cancel(request: OrgRequest, job_id: int):
    job = _job(request, job_id)
    if jobs.cancel_job(job=job, user=request.user):
        messages.success(request, "Job cancelled: companies already researched keep their results.")
    else:
        messages.info(request, "This job had already finished.")
    return done(request, "enrichment:job_detail", org_slug=request.org.slug, job_id=job.pk)


@org_member_required(role=Role.MEMBER)
@require_POST
def job_apply(request: OrgRequest, job_id: int):
    """Apply every finished, not yet applied result: empty company fields are filled."""
    job = _job(request, job_id)
    results = EnrichmentResult.objects.filter(
        job=job, status=ResultStatus.SUCCEEDED, applied_at__isnull=True
    ).select_related("company", "organization")
    applied = 0
    for result in results:
        try:
            jobs.apply_result(result=result, user=request.user)
        except jobs.JobError:
            continue
        applied += 1
    messages.success(
        request,
        f"Applied {applied:,} result{'s' if applied != 1 else ''}: empty company fields filled.",
    )
    return done(request, "enrichment:job_detail", org_slug=request.org.slug, job_id=job.pk)


@org_member_required
@require_GET
def job_export(request: OrgRequest, job_id: int):
    job = _job(request, job_id)
    response = StreamingHttpResponse(jobs.export_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="enrichment-{job.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _result(request: OrgRequest, job_id: int, result_id: int) -> EnrichmentResult:
    return get_object_or_404(
        EnrichmentResult.objects.for_org(request.org).select_related("job", "company"),
        pk=result_id,
        job_id=job_id,
    )


def _field_rows(result: EnrichmentResult) -> list[dict]:
    rows = []
    profile, sources = result.profile or {}, result.sources or {}
    for name in FIELDS:
        if name == "sources":
            continue
        value = profile.get(name)
        rows.append(
            {
                "name": name,
                "label": FIELD_LABELS[name],
                "value": value,
                "empty": value in (None, "", [], {}),
                "is_list": isinstance(value, list),
                "source": sources.get(name) or {},
            }
        )
    return rows


@org_member_required
@require_http_methods(["GET", "POST"])
def result_detail(request: OrgRequest, job_id: int, result_id: int):
    """One company's profile: every field with its source, the steps taken, and applying
    it to the company (empty fields filled; ticked fields overwritten)."""
    result = _result(request, job_id, result_id)
    company = result.company
    if request.method == "POST":
        if not request.membership.can_write:
            raise PermissionDenied("Viewers cannot apply results.")
        overwrite = set(request.POST.getlist("overwrite")) & set(jobs.APPLY_FIELDS)
        try:
            company = jobs.apply_result(result=result, user=request.user, overwrite=overwrite)
        except jobs.JobError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Applied to {company.name}; its leads were rescored.")
        url = reverse("enrichment:result_detail", args=[request.org.slug, job_id, result_id])
        return done(request, url)
    proposed = jobs.proposed_changes(result, company)
    changes = [
        {
            "field": field,
            "label": jobs.APPLY_LABELS[field],
            "current": getattr(company, field) if company else "",
            "new": value,
        }
        for field, value in proposed.items()
    ]
    context = {
        "job": result.job,
        "result": result,
        "company": company,
        "rows": _field_rows(result),
        "changes": changes,
        "can_write": request.membership.can_write,
        "ai_mode": ai.result_label(result.steps),
        "search_skipped": any(
            s.get("step", "").startswith("search") and s.get("status") == "skipped"
            for s in result.steps or []
        ),
    }
    return page(request, "enrichment/result_detail.html", context)
