"""CSV imports over the API: `POST leads/import/` (multipart) starts one; `imports/{id}/`
reports its progress and counts; `imports/{id}/failed-rows/` is the CSV of rows not
imported; `imports/{id}/revert/` undoes it. The work is leads.importing."""

from __future__ import annotations

import json
from typing import Any

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import (
    Conflict,
    NamedChoiceField,
    OrgScopedViewSet,
    PayloadTooLarge,
    StrictSerializer,
    error_response,
)
from leads import importing
from leads.importing.reading import MAX_UPLOAD_BYTES
from leads.importing.running import size_message
from leads.models import DuplicatePolicy, ImportJob, ImportStatus


class ImportJobSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        enum_name="ImportStatus", choices=ImportStatus.choices, read_only=True
    )
    on_duplicate = NamedChoiceField(
        enum_name="ImportDuplicatePolicy", choices=DuplicatePolicy.choices, read_only=True
    )
    file_name = serializers.CharField(source="original_filename", read_only=True)
    progress = serializers.SerializerMethodField(help_text="Percent of rows processed, 0-100.")
    total = serializers.IntegerField(source="total_rows", read_only=True)
    processed = serializers.IntegerField(source="processed_rows", read_only=True)
    created = serializers.IntegerField(source="created_count", read_only=True)
    updated = serializers.IntegerField(source="updated_count", read_only=True)
    skipped = serializers.IntegerField(source="skipped_count", read_only=True)
    failed = serializers.IntegerField(source="failed_count", read_only=True)
    failed_rows_url = serializers.SerializerMethodField(
        help_text="CSV of the rows not imported (failed and skipped), with line and reason."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "file_name",
            "size_bytes",
            "encoding",
            "delimiter",
            "headers",
            "mapping",
            "on_duplicate",
            "tags",
            "progress",
            "total",
            "processed",
            "created",
            "updated",
            "skipped",
            "failed",
            "error",
            "failed_rows_url",
            "created_at",
            "started_at",
            "finished_at",
            "reverted_at",
        ]
        read_only_fields = fields

    def get_progress(self, job: ImportJob) -> int:
        return importing.progress_percent(job)

    def get_failed_rows_url(self, job: ImportJob) -> str:
        path = reverse("import-failed-rows", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ImportUploadSerializer(StrictSerializer):
    file = serializers.FileField(help_text="The CSV file, up to 50 MB.")
    mapping = serializers.JSONField(
        required=False,
        help_text='Overrides of the automatic mapping, as JSON: {"CSV header": "field"}; "" '
        "leaves a column out. Fields: first_name, last_name, full_name, email, phone, title, "
        "company, website, industry, company_size, linkedin_url, location, city, state, "
        "country, source, tags, external_id:<system>, custom:<key>.",
    )
    on_duplicate = serializers.ChoiceField(
        choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP
    )
    tags = serializers.CharField(
        required=False, allow_blank=True, help_text="Comma-separated tags for every lead."
    )

    def validate_mapping(self, value: Any) -> Any:
        if isinstance(value, str):  # a multipart field arrives as text
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise serializers.ValidationError("The mapping is not valid JSON.") from exc
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str | type(None)) for k, v in value.items()
        ):
            raise serializers.ValidationError(
                'The mapping must be an object of strings: {"CSV header": "field"}.'
            )
        return value


@extend_schema_view(
    list=extend_schema(summary="List imports", description="Newest first."),
    retrieve=extend_schema(summary="Get an import's status, progress and counts"),
)
class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    queryset = ImportJob.objects.all()
    serializer_class = ImportJobSerializer
    scope_family = "leads"

    @extend_schema(
        summary="Import leads from a CSV file",
        description="Reads the file (encoding and delimiter detected, columns mapped from "
        "the headers of the common CRM exports, `mapping` overriding), queues the import and "
        "answers at once. Poll `GET imports/{id}/` for progress.",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: ImportJobSerializer,
            402: error_response("The plan has no import rows left this month"),
            413: error_response("The file is larger than 50 MB"),
        },
    )
    def create(self, request):
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD_BYTES + 1024 * 1024:
            raise PayloadTooLarge(size_message(int(request.META["CONTENT_LENGTH"])))
        upload_form = ImportUploadSerializer(data=request.data)
        upload_form.is_valid(raise_exception=True)
        data = upload_form.validated_data
        upload = data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(size_message(upload.size))
        tags = [t.strip() for t in data.get("tags", "").split(",") if t.strip()]
        try:
            job = importing.create_job(
                organization=request.org,
                actor=request.user,
                upload=upload,
                filename=upload.name,
                on_duplicate=data["on_duplicate"],
                tags=tags,
            )
        except importing.InvalidImport as exc:
            raise serializers.ValidationError({"file": [str(exc)]}) from exc
        try:
            mapping = importing.clean_mapping(
                job.headers, data.get("mapping"), importing.custom_field_labels(request.org)
            )
        except importing.InvalidImport as exc:
            job.file.delete(save=False)
            job.delete()
            raise serializers.ValidationError({"mapping": [str(exc)]}) from exc
        importing.start_job(job=job, mapping=mapping, on_duplicate=job.on_duplicate, tags=tags)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download the rows not imported",
        description="CSV: Line, Outcome (failed or skipped), Reason, then the file's columns.",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], url_path="failed-rows")
    def failed_rows(self, request, pk=None):
        job = self.get_object()
        response = StreamingHttpResponse(
            importing.failed_rows_csv(job), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="import-{job.pk}-rows-not-imported.csv"'
        )
        return response

    @extend_schema(
        summary="Revert an import",
        description="Deletes the leads the import created and puts back the fields it "
        "updated, on the worker. 409 while the import runs or once it is reverted.",
        request=None,
        responses={
            202: ImportJobSerializer,
            409: error_response("The import cannot be reverted now"),
        },
    )
    @action(detail=True, methods=["post"])
    def revert(self, request, pk=None):
        job = self.get_object()
        if not importing.request_revert(job=job, actor=request.user):
            raise Conflict(
                f"An import that is {job.get_status_display().lower()} cannot be reverted."
            )
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
