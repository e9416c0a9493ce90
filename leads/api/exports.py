"""`GET /api/v1/leads/export/?format=csv|json&<filters>`: the filtered leads, streamed."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from leads import exports
from leads.filters import LeadFilter
from leads.models import Lead


class LeadExportView(APIView):
    scope_family = "leads"

    def perform_content_negotiation(self, request, force=False):
        # `format` names the export, not a DRF renderer: errors are always JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Export leads",
        description="The leads matching the list filters, streamed as CSV (UTF-8 with a BOM, "
        "custom fields as `custom.<key>` columns, formula-like cells prefixed with a quote) "
        "or as a JSON array. Archived leads only with `include_archived=true`.",
        parameters=[
            OpenApiParameter("format", enum=list(exports.FORMATS), default="csv"),
            OpenApiParameter("status", str, many=True),
            OpenApiParameter("owner", int),
            OpenApiParameter("tag", str, description="Comma-separated tag names (any of them)."),
            OpenApiParameter("source", str),
            OpenApiParameter("q", str, description="Search text."),
            OpenApiParameter("score_min", int),
            OpenApiParameter("score_max", int),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("updated_after", OpenApiTypes.DATETIME),
            OpenApiParameter("include_archived", bool),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV file"),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="JSON array of leads"
            ),
        },
    )
    def get(self, request):
        params = request.query_params.copy()
        fmt = params.pop("format", ["csv"])[-1] or "csv"
        if fmt not in exports.FORMATS:
            raise serializers.ValidationError({"format": ["Use csv or json."]})
        filterset = LeadFilter(
            params, queryset=Lead.objects.for_org(request.org), organization=request.org
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return exports.export_response(filterset.qs, request.org, fmt)
