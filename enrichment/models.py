"""Enrichment jobs, their per-company results, and the shared cache of fetched pages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import OrgQuerySet, OrgScoped


class FetchCacheEntry(models.Model):
    """One cached response of the public web (enrichment.web.fetch's cache, backed by the
    database so every web and worker process shares it). Not tenant data: public pages,
    fetched without credentials, shared by the whole install."""

    key = models.CharField(max_length=64, unique=True)  # sha256 of method + URL
    url = models.TextField()
    final_url = models.TextField()
    status = models.PositiveSmallIntegerField()
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    fetched_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.status} {self.url}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class JobSource(models.TextChoices):
    LEADS = "leads", "Leads"
    COMPANIES = "companies", "Companies"
    PASTED = "pasted", "Pasted names and domains"
    API = "api", "API"


class EnrichmentJob(OrgScoped):
    """A batch of companies to research. Counters move with F() as results finish, so the
    page and the API read progress from this row."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    source = models.CharField(max_length=12, choices=JobSource.choices, default=JobSource.API)
    total = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="enrich_job_list")]

    def __str__(self) -> str:
        return f"Enrichment job #{self.pk}"

    @property
    def done(self) -> int:
        return self.completed + self.failed

    @property
    def progress(self) -> float:
        return round(self.done / self.total, 4) if self.total else 1.0

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class ResultStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Researching"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class EnrichmentResult(OrgScoped):
    """One company of a job: what it was asked for, the profile found and where each field
    came from (`sources[field] = {"url", "method", "confidence"}`), and the steps taken."""

    job = models.ForeignKey(EnrichmentJob, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField(default=0)
    company = models.ForeignKey(
        "leads.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What was asked: {"name", "domain", "website", "lead_id"} (any of them).
    query = models.JSONField(default=dict)
    status = models.CharField(
        max_length=12, choices=ResultStatus.choices, default=ResultStatus.PENDING
    )
    profile = models.JSONField(default=dict, blank=True)
    sources = models.JSONField(default=dict, blank=True)
    # [{"step", "status": ok|failed|skipped, "ms", "note"}], in the order they ran.
    steps = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["job", "position", "id"]
        indexes = [models.Index(fields=["job", "position"], name="enrich_result_order")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        query = self.query or {}
        return (
            self.profile.get("name")
            or query.get("name")
            or query.get("domain")
            or query.get("website")
            or f"Company #{self.position + 1}"
        )
