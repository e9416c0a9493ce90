"""Outbound webhook endpoints and their delivery log: `/api/v1/webhooks/` (owners and admins).

Delivery itself (signing, retries, disabling) is accounts.webhooks; this module only
validates input and calls it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import events
from accounts.models import Role, WebhookDelivery, WebhookEndpoint
from config.api import NamedChoiceField, OrgScopedViewSet, StrictModelSerializer


def webhook_service():
    # Imported late: accounts.webhooks pulls in the delivery machinery (tasks, HTTP client),
    # which URL loading should not depend on.
    from accounts import webhooks

    return webhooks


_EVENT_TYPE_HELP = 'Event types to deliver, or ["*"] for all of them.'


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField(), help_text=_EVENT_TYPE_HELP)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointDetailSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Standard Webhooks signing secret (whsec_...): verify the webhook-signature "
        "header with it.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(StrictModelSerializer):
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=80),
        min_length=1,
        max_length=100,
        help_text=_EVENT_TYPE_HELP,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types"]

    def validate_url(self, value: str) -> str:
        problem = webhook_service().check_webhook_url(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        unknown = sorted({t for t in value if t != "*" and t not in events.WEBHOOK_EVENT_TYPES})
        if unknown:
            known = ", ".join(sorted(events.WEBHOOK_EVENT_TYPES))
            raise serializers.ValidationError(
                f"Unknown event types: {', '.join(unknown)}. Known: {known}, or *."
            )
        return sorted(set(value))


class DeliveryEventSerializer(serializers.Serializer):
    id = serializers.CharField(source="webhook_id", help_text="The webhook-id header.")
    type = serializers.CharField()
    created_at = serializers.DateTimeField()


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = DeliveryEventSerializer(read_only=True)
    status = NamedChoiceField(
        enum_name="DeliveryStatus", choices=WebhookDelivery.Status.choices, read_only=True
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "is_test",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "response_status",
            "response_body",
            "error",
            "duration_ms",
            "created_at",
        ]
        read_only_fields = fields


class DeliveryFilter(django_filters.FilterSet):
    class Meta:
        model = WebhookDelivery
        fields = ["status"]


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints"),
    retrieve=extend_schema(
        summary="Get a webhook endpoint",
        description="Includes the signing secret.",
        responses={200: WebhookEndpointDetailSerializer},
    ),
    create=extend_schema(
        summary="Subscribe a URL",
        description="Events of the listed types are POSTed to the URL, signed as the Standard "
        "Webhooks specification says. Private and loopback addresses are refused.",
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointDetailSerializer},
    ),
    destroy=extend_schema(summary="Delete a webhook endpoint", responses={204: None}),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    scope_family = "organization"
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_serializer_class(self):
        if self.action == "create":
            return WebhookEndpointCreateSerializer
        if self.action == "retrieve":
            return WebhookEndpointDetailSerializer
        if self.action in ("deliveries", "test"):
            return WebhookDeliverySerializer
        return WebhookEndpointSerializer

    def create(self, request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = webhook_service().create_endpoint(
            organization=request.org,
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description", ""),
            actor=request.user,
        )
        return Response(
            WebhookEndpointDetailSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    def destroy(self, request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        endpoint.organization = request.org
        webhook_service().delete_endpoint(endpoint=endpoint, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test event",
        description="Queues a test event for this endpoint only; its result shows in the "
        "delivery log.",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        endpoint.organization = request.org
        delivery = webhook_service().send_test(endpoint=endpoint, actor=request.user)
        # The worker may already have run it (sync mode): answer with the row as it is now.
        delivery = (
            WebhookDelivery.objects.for_org(request.org).select_related("event").get(pk=delivery.pk)
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Enable a webhook endpoint again",
        description="After automatic disabling (repeated failures): deliveries resume and the "
        "failure count starts from zero.",
        request=None,
        responses={200: WebhookEndpointSerializer},
    )
    @action(detail=True, methods=["post"])
    def enable(self, request, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        endpoint.organization = request.org
        webhook_service().enable_endpoint(endpoint=endpoint, actor=request.user)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Delivery log of an endpoint",
        description="Newest first, with response codes and errors.",
        parameters=[
            OpenApiParameter(
                "status", enum=WebhookDelivery.Status.values, description="Only this outcome."
            )
        ],
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        qs = (
            WebhookDelivery.objects.for_org(request.org)
            .filter(endpoint=endpoint)
            .select_related("event")
            .order_by("-created_at", "-id")
        )
        filterset = DeliveryFilter(request.query_params, queryset=qs, request=request)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
