"""Enrichment jobs: create one from leads, companies, pasted lines or the API; run it on the
worker with many companies at once; cancel it; apply its results to the companies.

A job's row carries its progress (counters moved with F()), so the page's progress bar and
the API read the database, whichever process runs the job. Running is idempotent: a worker
that dies mid-job leaves results `pending` or `running`, and the next run of the task picks
them up again; finished results are never redone.
"""

from __future__ import annotations

import csv
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts import events, usage
from accounts.models import Organization, User
from config.tasks import enqueue_on_commit
from enrichment import ai
from enrichment.models import (
    EnrichmentJob,
    EnrichmentResult,
    JobSource,
    JobStatus,
    ResultStatus,
)
from enrichment.pipeline import Cancelled, in_worker_thread, research_company
from enrichment.reconcile import FIELDS
from enrichment.web.netguard import UnsafeURL, parse_ip_literal
from leads import services as lead_services
from leads.exports import Echo, neutralize
from leads.models import Activity, ActivityKind, Company, CompanySize, Lead
from leads.scoring import rescore_company_leads
from leads.utils import FREE_MAIL_DOMAINS, registered_domain

ACTION = "enrichment.company"
# Company fields a result can fill, and the profile field each comes from.
APPLY_FIELDS = {
    "name": "name",
    "website": "website",
    "domain": "domain",
    "description": "description",
    "industry": "industry",
    "size_range": "employee_range",
    "location": "headquarters",
    "linkedin_url": "social.linkedin",
}
APPLY_LABELS = {
    "name": "Name",
    "website": "Website",
    "domain": "Domain",
    "description": "Description",
    "industry": "Industry",
    "size_range": "Size",
    "location": "Location",
    "linkedin_url": "LinkedIn",
}


class JobError(ValueError):
    """A job that cannot be created as asked (nothing to enrich, too many companies)."""


def max_companies() -> int:
    return settings.ENRICH_MAX_COMPANIES


# ---------------------------------------------------------------- export

# Every profile field, in the profile's order.
EXPORT_COLUMNS = FIELDS


def _cell(value: Any) -> str:
    """One CSV cell: lists joined with "; ", objects as "key: value" pairs."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items() if v)
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                text = item.get("title") or item.get("name") or ""
                extra = item.get("url") or item.get("category") or ""
                parts.append(f"{text} ({extra})" if text and extra else text or extra)
            else:
                parts.append(str(item))
        return "; ".join(p for p in parts if p)
    return str(value)


def export_csv(job: EnrichmentJob):
    """The results as CSV bytes, streamed: a UTF-8 BOM (Excel), then export_rows, every
    cell a spreadsheet would run as a formula neutralized."""
    writer = csv.writer(Echo())
    yield "\ufeff".encode()
    for row in export_rows(job):
        yield writer.writerow([neutralize(cell) for cell in row]).encode("utf-8")


def export_rows(job: EnrichmentJob):
    """The job's results as CSV rows (header first), one company per row, streamed."""
    yield ["position", "query", "status", *EXPORT_COLUMNS, "error"]
    results = EnrichmentResult.objects.filter(job=job).order_by("position").iterator(500)
    for result in results:
        query = result.query or {}
        asked = query.get("name") or query.get("domain") or query.get("website") or ""
        profile = result.profile or {}
        yield [
            result.position + 1,
            asked,
            result.status,
            *(_cell(profile.get(column)) for column in EXPORT_COLUMNS),
            result.error,
        ]


# ---------------------------------------------------------------- creating


def _clean_query(item: dict[str, Any]) -> dict[str, Any]:
    query = {}
    for key in ("name", "domain", "website", "email"):
        value = str(item.get(key) or "").strip()[:500]
        if value:
            query[key] = value
    for key in ("lead_id", "company_id"):
        if item.get(key):
            query[key] = int(item[key])
    return query


def _identity(query: dict[str, Any]) -> str:
    """What makes two queries the same company: the domain, else the name, else the website
    as given (an address without a registered domain, such as an IP literal, is still a
    company to research: its result then says why it was refused)."""
    domain = registered_domain(query.get("domain") or query.get("website") or "")
    if not domain and query.get("email"):
        email_domain = query["email"].rpartition("@")[2].lower()
        domain = "" if email_domain in FREE_MAIL_DOMAINS else registered_domain(email_domain)
    return domain or (query.get("name") or "").lower() or (query.get("website") or "").lower()


def _ip_address(text: str):
    """The IP address `text` writes (any notation), or None."""
    try:
        return parse_ip_literal(text.strip("[]"))
    except UnsafeURL:  # looked like IPv6 but is not one
        return None


def parse_pasted(text: str) -> list[dict[str, str]]:
    """One company per line: a name, a domain, a URL, or "Name, domain" / "Name<TAB>domain"."""
    queries = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in re.split(r"[,;\t]", line) if p.strip()]
        if not parts:
            continue
        query: dict[str, str] = {}
        for part in parts:
            looks_like_site = "." in part and " " not in part
            address = None if "://" in part else _ip_address(part.split("/")[0])
            if address is not None and "website" not in query:
                # An address, not a domain: tried as a website, so the fetcher says whether
                # it may be reached (a private one never is) instead of it being dropped.
                host = f"[{address}]" if address.version == 6 else part.split("/")[0]
                query["website"] = f"http://{host}/"
            elif looks_like_site and "domain" not in query and "website" not in query:
                key = "website" if "://" in part else "domain"
                query[key] = part
            elif "name" not in query:
                query["name"] = part
        queries.append(query)
    return queries


def queries_for_leads(organization: Organization, lead_ids) -> list[dict[str, Any]]:
    """One query per company of these leads (leads without a company: from their email)."""
    leads = (
        Lead.objects.for_org(organization)
        .filter(pk__in=list(lead_ids))
        .select_related("company")
        .order_by("pk")
    )
    queries = []
    for lead in leads:
        company = lead.company
        if company is not None:
            queries.append(
                {
                    "name": company.name,
                    "domain": company.domain,
                    "website": company.website,
                    "company_id": company.pk,
                    "lead_id": lead.pk,
                }
            )
        elif lead.email:
            queries.append({"email": lead.email, "lead_id": lead.pk})
    return queries


def queries_for_companies(organization: Organization, company_ids) -> list[dict[str, Any]]:
    companies = Company.objects.for_org(organization).filter(pk__in=list(company_ids))
    return [
        {"name": c.name, "domain": c.domain, "website": c.website, "company_id": c.pk}
        for c in companies.order_by("pk")
    ]


def create_job(
    *,
    organization: Organization,
    user: User | None,
    queries: list[dict[str, Any]],
    source: str = JobSource.API,
    start: bool = True,
) -> EnrichmentJob:
    """A job over these companies (duplicates by domain or name merged), queued on the
    worker. Raises JobError for nothing to do or too many companies, and
    accounts.usage.QuotaExceeded when the plan's monthly quota cannot cover them all."""
    cleaned, seen = [], set()
    for item in queries:
        query = _clean_query(item)
        identity = _identity(query)
        if not identity or identity in seen:
            continue
        seen.add(identity)
        cleaned.append(query)
    if not cleaned:
        raise JobError("Nothing to enrich: give each company a name, a domain or a website.")
    if len(cleaned) > max_companies():
        raise JobError(
            f"{len(cleaned):,} companies is more than one job takes ({max_companies():,}); "
            "split them into several jobs."
        )
    usage.check(organization, ACTION, len(cleaned))
    with transaction.atomic():
        job = EnrichmentJob.objects.create(
            organization=organization, created_by=user, source=source, total=len(cleaned)
        )
        EnrichmentResult.objects.bulk_create(
            EnrichmentResult(
                organization=organization,
                job=job,
                position=n,
                company_id=query.get("company_id"),
                query=query,
            )
            for n, query in enumerate(cleaned)
        )
        events.emit(
            organization,
            "enrichment.job_created",
            {"job_id": job.pk, "total": job.total, "source": source},
            actor=user,
        )
        if start:
            from enrichment import tasks

            enqueue_on_commit(tasks.run_enrichment_job, organization.pk, job.pk)
    return job


# ---------------------------------------------------------------- running


def _cancelled_in_db(job_id: int) -> bool:
    status = EnrichmentJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status in (None, JobStatus.CANCELLED)


def run_job(
    organization_id: int,
    job_id: int,
    *,
    fetcher=None,
    providers=None,
    time_limit: float | None = None,
    company_seconds: float | None = None,
) -> str:
    """Research every pending company of the job, many at once; returns the job's status.
    `company_seconds` bounds each company's research (the synchronous API's time limit).
    Safe to run twice (see the module docstring).

    Worker threads do the network and parsing only; this thread does every database write
    (claiming a company, spending its credit, saving its result) as their outcomes arrive.
    So a job holds one database connection however many companies run at once, and SQLite,
    with its single writer, works too. A cancel (written by another process) is read here
    about once a second and passed to the threads, which stop between steps.
    """
    from enrichment.outside import fetcher as default_fetcher
    from enrichment.outside import search_providers

    job = EnrichmentJob.objects.filter(organization_id=organization_id, pk=job_id).first()
    if job is None or job.is_finished:
        return job.status if job else "missing"
    organization = Organization.objects.get(pk=organization_id)
    fetcher = fetcher or default_fetcher()
    providers = search_providers() if providers is None else providers
    model = ai.model_for(organization)
    EnrichmentJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    pending = list(
        EnrichmentResult.objects.filter(job=job)
        .exclude(status__in=[ResultStatus.SUCCEEDED, ResultStatus.FAILED])
        .order_by("position")
    )
    stop = threading.Event()
    # Past this moment no new company starts: the rest goes to a fresh task, so a long job
    # never runs into the worker's timeout.
    limit = settings.ENRICH_TASK_SECONDS if time_limit is None else time_limit
    stop_starting = time.monotonic() + limit
    workers = max(1, min(settings.ENRICH_CONCURRENCY, len(pending) or 1))
    checked_at = 0.0
    in_flight: dict[Future, EnrichmentResult] = {}
    queue = list(reversed(pending))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="enrich") as pool:
        while queue or in_flight:
            now = time.monotonic()
            if now - checked_at >= 1.0:
                checked_at = now
                if _cancelled_in_db(job.pk):
                    stop.set()
            while queue and len(in_flight) < workers and not stop.is_set():
                if time.monotonic() > stop_starting:
                    break
                result = queue.pop()
                if not _claim(organization, job, result):
                    continue
                future = pool.submit(
                    in_worker_thread,
                    research_company,
                    result.query,
                    fetcher=fetcher,
                    providers=providers,
                    cancelled=stop.is_set,
                    text_budget=settings.ENRICH_TEXT_BUDGET,
                    deadline=None
                    if company_seconds is None
                    else time.monotonic() + company_seconds,
                    model=model,
                )
                in_flight[future] = result
            if not in_flight:
                break
            finished, _running = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                _record(job, in_flight.pop(future), future)
            if finished and model is not None:
                model.settle()
    if stop.is_set() or _cancelled_in_db(job.pk):
        EnrichmentResult.objects.filter(
            job=job, status__in=[ResultStatus.PENDING, ResultStatus.RUNNING]
        ).update(status=ResultStatus.CANCELLED, finished_at=timezone.now())
        return JobStatus.CANCELLED
    if queue:
        from enrichment import tasks

        enqueue_on_commit(tasks.run_enrichment_job, organization_id, job_id)
        return JobStatus.RUNNING
    EnrichmentJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.COMPLETED, finished_at=timezone.now()
    )
    job.refresh_from_db()
    events.emit(
        organization,
        "enrichment.job_completed",
        {"job_id": job.pk, "total": job.total, "completed": job.completed, "failed": job.failed},
    )
    return job.status


def _claim(organization: Organization, job: EnrichmentJob, result: EnrichmentResult) -> bool:
    """Mark the company running and spend its credit; False when there is nothing to do
    (another run took it) or the quota is spent (the result fails with the reason)."""
    claimed = EnrichmentResult.objects.filter(
        pk=result.pk, status__in=[ResultStatus.PENDING, ResultStatus.RUNNING]
    ).update(status=ResultStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return False
    try:
        usage.spend(organization, ACTION, 1, user=job.created_by, metadata={"job_id": job.pk})
    except usage.QuotaExceeded as exc:
        _finish(result, job, ok=False, error=str(exc))
        return False
    return True


def _record(job: EnrichmentJob, result: EnrichmentResult, future: Future) -> None:
    """Save one company's outcome (or why it has none)."""
    try:
        outcome = future.result()
    except Cancelled:
        EnrichmentResult.objects.filter(pk=result.pk).update(
            status=ResultStatus.CANCELLED, finished_at=timezone.now()
        )
        return
    except Exception as exc:  # a bug must not stop the other companies
        _finish(result, job, ok=False, error=f"{type(exc).__name__}: {exc}"[:1000])
        return
    result.profile = outcome.profile.fields
    result.sources = outcome.profile.sources
    result.steps = outcome.steps
    ok = outcome.succeeded
    error = outcome.error if ok else (outcome.error or "Nothing was found about this company.")
    _finish(result, job, ok=ok, error=error)


def _finish(result: EnrichmentResult, job: EnrichmentJob, *, ok: bool, error: str) -> None:
    result.status = ResultStatus.SUCCEEDED if ok else ResultStatus.FAILED
    result.error = error
    result.finished_at = timezone.now()
    with transaction.atomic():
        result.save(update_fields=["status", "error", "finished_at", "profile", "sources", "steps"])
        counter = "completed" if ok else "failed"
        EnrichmentJob.objects.filter(pk=job.pk).update(**{counter: F(counter) + 1})


def cancel_job(*, job: EnrichmentJob, user: User | None) -> bool:
    """Stop a queued or running job: the worker stops between steps. False if finished."""
    updated = EnrichmentJob.objects.filter(
        pk=job.pk, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=JobStatus.CANCELLED, cancelled_at=timezone.now(), finished_at=timezone.now())
    if updated:
        EnrichmentResult.objects.filter(job=job, status=ResultStatus.PENDING).update(
            status=ResultStatus.CANCELLED, finished_at=timezone.now()
        )
        events.emit(job.organization, "enrichment.job_cancelled", {"job_id": job.pk}, actor=user)
    job.refresh_from_db()
    return bool(updated)


# ---------------------------------------------------------------- applying


def _profile_value(profile: dict[str, Any], path: str) -> Any:
    value: Any = profile
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def proposed_changes(result: EnrichmentResult, company: Company | None) -> dict[str, Any]:
    """Company field -> the value the result offers (only fields it has a value for)."""
    changes = {}
    for field_name, path in APPLY_FIELDS.items():
        value = _profile_value(result.profile or {}, path)
        if value in (None, "", [], {}):
            continue
        if field_name == "size_range" and value not in CompanySize.values:
            continue
        if field_name == "domain":
            value = registered_domain(str(value))
        changes[field_name] = str(value)[:500] if field_name != "description" else str(value)
    return changes


def apply_result(
    *,
    result: EnrichmentResult,
    user: User | None,
    overwrite: frozenset[str] | set[str] = frozenset(),
) -> Company:
    """Write a result onto its company (found or created by domain or name): empty fields
    are filled, the fields named in `overwrite` replaced; `enriched_data` keeps the whole
    profile with its sources. The company's leads are rescored and get an activity."""
    organization = result.organization
    with transaction.atomic():
        company = result.company
        if company is None:
            profile = result.profile or {}
            company = lead_services.find_or_create_company(
                organization=organization,
                name=profile.get("name") or result.query.get("name", ""),
                domain=profile.get("domain") or result.query.get("domain", ""),
                website=profile.get("website") or result.query.get("website", ""),
            )
            if company is None:
                raise JobError("This result has no name or domain to make a company of.")
        company = Company.objects.select_for_update().get(pk=company.pk)
        changed = {}
        for field_name, value in proposed_changes(result, company).items():
            current = getattr(company, field_name)
            if current and field_name not in overwrite:
                continue
            if field_name == "domain" and value != current:
                taken = (
                    Company.objects.for_org(organization)
                    .filter(domain=value)
                    .exclude(pk=company.pk)
                    .exists()
                )
                if taken:
                    continue
            if current != value:
                changed[field_name] = {"from": current, "to": value}
                setattr(company, field_name, value)
        company.enriched_data = {
            "profile": result.profile,
            "sources": result.sources,
            "job_id": result.job_id,
            "result_id": result.pk,
            "result_path": reverse(
                "enrichment:result_detail", args=[organization.slug, result.job_id, result.pk]
            ),
            "enriched_at": (result.finished_at or timezone.now()).isoformat(),
        }
        company.save()
        result.company = company
        result.applied_at = timezone.now()
        result.applied_by = user
        result.save(update_fields=["company", "applied_at", "applied_by"])
        leads = Lead.objects.for_org(organization).filter(company=company).only("pk")
        body = (
            f"Company enriched: {', '.join(APPLY_LABELS[f] for f in changed)} updated."
            if changed
            else "Company enriched: profile saved, no field changed."
        )
        now = timezone.now()
        data = {"company_id": company.pk, "result_id": result.pk, "changes": changed}
        Activity.objects.bulk_create(
            Activity(
                organization=organization,
                lead=lead,
                kind=ActivityKind.ENRICHMENT,
                actor=user,
                body=body,
                data=data,
                occurred_at=now,
            )
            for lead in leads
        )
        events.emit(
            organization,
            "company.enriched",
            {"company_id": company.pk, "result_id": result.pk, "changes": changed},
            actor=user,
        )
    rescore_company_leads(company)
    return company
