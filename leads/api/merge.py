"""`POST /api/v1/leads/{id}/merge/`: merge another lead into this one."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import StrictSerializer, error_response
from leads import merging
from leads.api.serializers import LeadSerializer, read_lead
from leads.models import Lead


class MergeSerializer(StrictSerializer):
    other_id = serializers.IntegerField(help_text="The lead merged into this one, then deleted.")
    fields = serializers.DictField(
        child=serializers.ChoiceField(choices=["keep", "other"]),
        required=False,
        default=dict,
        help_text="Which value wins per field: "
        + ", ".join(merging.MERGE_FIELDS)
        + '. "keep" (the default) or "other".',
    )

    def validate_fields(self, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(merging.MERGE_FIELDS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown fields: {', '.join(unknown)}; use {', '.join(merging.MERGE_FIELDS)}."
            )
        return value


class LeadMergeView(APIView):
    scope_family = "leads"

    @extend_schema(
        summary="Merge a lead into this one",
        description="The other lead's activities, tags, tasks, form submissions and every "
        "other linked record move to this lead, the chosen field values are copied, the "
        "other lead is deleted and a merge entry is added to the timeline.",
        request=MergeSerializer,
        responses={200: LeadSerializer, 400: error_response("Merging a lead into itself")},
    )
    def post(self, request, pk: str):
        leads = Lead.objects.for_org(request.org)
        keep = get_object_or_404(leads, pk=pk)
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["other_id"] == keep.pk:
            raise serializers.ValidationError(
                {"other_id": ["A lead cannot be merged into itself."]}
            )
        other = get_object_or_404(leads, pk=data["other_id"])
        merging.merge_leads(keep=keep, other=other, fields=data["fields"], actor=request.user)
        return Response(read_lead(request.org, keep.pk))
