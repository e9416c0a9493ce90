"""Enrichment over the API.

- `POST enrichment/jobs/` with `{"companies": [{"name", "domain", "website"}, ...]}` or
  `{"lead_ids": [...]}` queues a job (202); `GET enrichment/jobs/{id}/` reports status,
  progress (0..1), counts and timings; `GET .../results/` the companies' results;
  `GET .../export/` the CSV; `POST .../cancel/` stops it.
- `POST enrichment/enrich/` with `{"website"}`, `{"domain"}` or `{"name"}` researches one
  company while the request waits (within ENRICH_SYNC_SECONDS) and answers the profile.

The work is enrichment.jobs, as in the browser.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import (
    Conflict,
    NamedChoiceField,
    OrgScopedViewSet,
    StrictSerializer,
    error_response,
)
from config.pagination import Pagination
from enrichment import ai, jobs
from enrichment.models import (
    EnrichmentJob,
    EnrichmentResult,
    JobSource,
    JobStatus,
    ResultStatus,
)
from enrichment.reconcile import FIELDS, LIST_FIELDS
from leads.models import Lead


class JobSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(enum_name="EnrichmentJobStatus", choices=JobStatus.choices)
    source = NamedChoiceField(enum_name="EnrichmentJobSource", choices=JobSource.choices)
    progress = serializers.FloatField(help_text="Share of companies finished, 0..1.")
    seconds = serializers.SerializerMethodField(
        help_text="Run time so far (or in all), in seconds; null before it starts."
    )

    class Meta:
        model = EnrichmentJob
        fields = [
            "id",
            "status",
            "source",
            "total",
            "completed",
            "failed",
            "progress",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "cancelled_at",
            "seconds",
        ]
        read_only_fields = fields

    def get_seconds(self, job: EnrichmentJob) -> float | None:
        if not job.started_at:
            return None
        end = job.finished_at or timezone.now()
        return round((end - job.started_at).total_seconds(), 3)


class SourceSerializer(serializers.Serializer):
    url = serializers.CharField(allow_blank=True)
    method = serializers.CharField(
        help_text="json-ld, microdata, meta, links, headers, page text, search, ai or input."
    )
    confidence = serializers.FloatField()


class ResultSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(enum_name="EnrichmentResultStatus", choices=ResultStatus.choices)
    field_sources = serializers.DictField(
        source="sources",
        child=SourceSerializer(),
        help_text="Per profile field: the URL it came from, how it was found and a confidence.",
    )
    company_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = EnrichmentResult
        fields = [
            "id",
            "position",
            "query",
            "status",
            "company_id",
            "profile",
            "field_sources",
            "steps",
            "error",
            "started_at",
            "finished_at",
            "applied_at",
        ]
        read_only_fields = fields


class CompanyQuerySerializer(StrictSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    domain = serializers.CharField(required=False, allow_blank=True, max_length=253)
    website = serializers.CharField(required=False, allow_blank=True, max_length=500)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any((attrs.get(key) or "").strip() for key in ("name", "domain", "website")):
            raise serializers.ValidationError("Give a name, a domain or a website.")
        return attrs


class JobCreateSerializer(StrictSerializer):
    companies = CompanyQuerySerializer(many=True, required=False)
    lead_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=10_000
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("companies")) == bool(attrs.get("lead_ids")):
            raise serializers.ValidationError("Give either `companies` or `lead_ids` (not both).")
        return attrs


@extend_schema_view(
    list=extend_schema(summary="List enrichment jobs", description="Newest first."),
    retrieve=extend_schema(summary="Get a job's status, progress, counts and timings"),
)
class EnrichmentJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    queryset = EnrichmentJob.objects.all()
    serializer_class = JobSerializer
    scope_family = "enrichment"

    @extend_schema(
        summary="Start an enrichment job",
        description="Queues the research of these companies (duplicates by domain or name "
        "merged) and answers at once; poll `GET enrichment/jobs/{id}/`. With `lead_ids`, the "
        "leads' companies (or their work email domains) are researched.",
        request=JobCreateSerializer,
        responses={
            202: JobSerializer,
            400: error_response("Nothing to enrich, or too many companies"),
            402: error_response("The plan has no enrichment credits left this month"),
        },
    )
    def create(self, request):
        form = JobCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data.get("lead_ids"):
            known = set(
                Lead.objects.for_org(request.org)
                .filter(pk__in=data["lead_ids"])
                .values_list("pk", flat=True)
            )
            missing = sorted(set(data["lead_ids"]) - known)
            if missing:
                raise serializers.ValidationError(
                    {"lead_ids": [f"No such leads: {', '.join(map(str, missing[:20]))}."]}
                )
            queries = jobs.queries_for_leads(request.org, data["lead_ids"])
            source = JobSource.LEADS
        else:
            queries = [dict(item) for item in data["companies"]]
            source = JobSource.API
        try:
            job = jobs.create_job(
                organization=request.org, user=request.user, queries=queries, source=source
            )
        except jobs.JobError as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="A job's results",
        description="One per company, in the job's order: the profile, each field's source, "
        "the steps taken.",
        responses={200: ResultSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=Pagination)
    def results(self, request, pk=None):
        job = self.get_object()
        results = EnrichmentResult.objects.for_org(request.org).filter(job=job).order_by("position")
        page = self.paginate_queryset(results)
        return self.get_paginated_response(ResultSerializer(page, many=True).data)

    @extend_schema(
        summary="Export a job's results as CSV",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        job = self.get_object()
        response = StreamingHttpResponse(
            jobs.export_csv(job), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="enrichment-{job.pk}.csv"'
        return response

    @extend_schema(
        summary="Cancel a job",
        description="Stops a queued or running job between steps; companies already "
        "researched keep their results. 409 once the job has finished.",
        request=None,
        responses={200: JobSerializer, 409: error_response("The job has already finished")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        if not jobs.cancel_job(job=job, user=request.user):
            raise Conflict(f"The job is {job.get_status_display().lower()}: nothing to cancel.")
        return Response(self.get_serializer(job).data)


def flat_result(result: EnrichmentResult) -> dict[str, Any]:
    """One result as the synchronous API answers it: every profile field as a flat key
    (lists as arrays, `social` as an object), then `field_sources` and the bookkeeping."""
    profile = result.profile or {}
    body: dict[str, Any] = {}
    for name in FIELDS:
        value = profile.get(name)
        if value is None:
            value = [] if name in LIST_FIELDS else {} if name == "social" else None
        body[name] = value
    body["field_sources"] = result.sources or {}
    body["status"] = result.status
    body["error"] = result.error
    body["steps"] = result.steps or []
    body["result_id"] = result.pk
    body["job_id"] = result.job_id
    body["reconciled_by"] = ai.reconciled_by(result.steps)
    return body


@extend_schema(
    summary="Enrich one company now",
    description="Researches one company while the request waits (at most "
    "ENRICH_SYNC_SECONDS, 30 by default; steps not started by then are skipped and said so "
    "in `steps`) and answers its profile: every field as a flat key (lists as arrays, "
    "`social` an object keyed by network), `field_sources` with each field's URL, method "
    "and confidence. Metered like a job of one company, and kept as one.",
    request=CompanyQuerySerializer,
    responses={
        200: OpenApiTypes.OBJECT,
        402: error_response("The plan has no enrichment credits left this month"),
    },
    tags=["enrichment"],
)
class EnrichView(APIView):
    scope_family = "enrichment"

    def post(self, request):
        form = CompanyQuerySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = jobs.create_job(
            organization=request.org,
            user=request.user,
            queries=[dict(form.validated_data)],
            source=JobSource.API,
            start=False,
        )
        seconds = settings.ENRICH_SYNC_SECONDS
        jobs.run_job(request.org.pk, job.pk, company_seconds=seconds)
        result = EnrichmentResult.objects.get(job=job)
        return Response(flat_result(result))
