"""The organization's do-not-mail list over the API: `suppressions/` (list, add, read, remove).
The rows are leads.Suppression, checked at enrollment and again before each send."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import (
    NamedChoiceField,
    OrgScopedViewSet,
    StrictSerializer,
    error_body,
    error_response,
)
from leads.models import Suppression
from leads.utils import normalize_email

TAGS = ["campaigns"]
SUPPRESSION_REASONS = [
    ("manual", "Added by hand"),
    ("unsubscribed", "Unsubscribed"),
    ("bounced", "Bounced"),
    ("complained", "Complained"),
]


class SuppressionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suppression
        fields = ["id", "email", "reason", "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "reason": {
                "help_text": "manual, unsubscribed, bounced, complained or erased (a lead "
                "erased for privacy)."
            }
        }


class SuppressionCreateSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    reason = NamedChoiceField(
        enum_name="SuppressionReason", choices=SUPPRESSION_REASONS, default="manual"
    )

    def validate_email(self, value: str) -> str:
        return normalize_email(value)


class SuppressionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="email", lookup_expr="icontains", label="Part of the address."
    )

    class Meta:
        model = Suppression
        fields: list[str] = []


@extend_schema(tags=TAGS)
@extend_schema_view(
    list=extend_schema(summary="List suppressed addresses", description="Newest first."),
    retrieve=extend_schema(summary="Get a suppressed address"),
    create=extend_schema(
        summary="Suppress an address",
        description="It is never enrolled or mailed again (checked again right before each "
        "send). The address is stored in lower case.",
        request=SuppressionCreateSerializer,
        responses={
            201: SuppressionSerializer,
            409: error_response("The address is already suppressed (details.id)"),
        },
    ),
    destroy=extend_schema(summary="Remove an address from the list"),
)
class SuppressionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    queryset = Suppression.objects.all()
    serializer_class = SuppressionSerializer
    scope_family = "campaigns"
    filterset_class = SuppressionFilter
    lookup_value_regex = r"[0-9]+"

    def scope_queryset(self, qs):
        return qs.order_by("-created_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = SuppressionCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        email = form.validated_data["email"]
        suppressions = Suppression.objects.for_org(request.org)
        try:
            with transaction.atomic():
                suppression = suppressions.create(
                    organization=request.org, email=email, reason=form.validated_data["reason"]
                )
        except IntegrityError:
            existing = suppressions.filter(email=email).first()
            if existing is None:
                raise
            return Response(
                error_body("conflict", f"{email} is already suppressed.", {"id": existing.pk}),
                status=status.HTTP_409_CONFLICT,
            )
        return Response(SuppressionSerializer(suppression).data, status=status.HTTP_201_CREATED)
