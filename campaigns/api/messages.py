"""A campaign's message log: `GET campaigns/{campaign_id}/messages/`."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from campaigns.models import Campaign, Message, MessageStatus
from config.api import NamedChoiceField, OrgScopedViewSet

TAGS = ["campaigns"]
_CAMPAIGN_ID = OpenApiParameter(
    "campaign_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="One of your campaigns."
)


class CampaignMessageSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        enum_name="MessageStatus", choices=MessageStatus.choices, read_only=True
    )
    step_order = serializers.IntegerField(source="step.order", read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "lead",
            "enrollment",
            "step",
            "step_order",
            "variant",
            "to_email",
            "subject",
            "status",
            "message_id",
            "attempts",
            "smtp_response",
            "error",
            "created_at",
            "sent_at",
            "opened_at",
            "open_count",
            "clicked_at",
            "click_count",
            "replied_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"message_id": {"help_text": "RFC 5322 Message-ID, without <>."}}


class MessageFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices)
    q = django_filters.CharFilter(method="filter_q", label="Search recipients and subjects.")

    class Meta:
        model = Message
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(to_email__icontains=value) | Q(subject__icontains=value))


@extend_schema(tags=TAGS, parameters=[_CAMPAIGN_ID])
@extend_schema_view(
    list=extend_schema(
        summary="A campaign's message log",
        description="Every email of the campaign, newest first, queued ones included.",
    )
)
class CampaignMessageViewSet(mixins.ListModelMixin, OrgScopedViewSet):
    queryset = Message.objects.all()
    serializer_class = CampaignMessageSerializer
    scope_family = "campaigns"
    filterset_class = MessageFilter

    def scope_queryset(self, qs):
        campaign = get_object_or_404(
            Campaign.objects.for_org(self.request.org), pk=self.kwargs["campaign_id"]
        )
        return qs.filter(campaign=campaign).select_related("step")
