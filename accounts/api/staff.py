"""Installation-wide views for staff: `/api/v1/admin/...`.

These read across every organization on purpose, so their querysets are named
`unscoped_*`; the IsStaff permission is what guards them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django.db.models import Count, Q, Sum
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from accounts.models import Organization, UsageEvent, User
from config.api_auth import IsStaff


class StaffViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsStaff]
    organization_required = False
    # Through an API key, the key needs the organization family as well.
    scope_family = "organization"


class SearchFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Text to look for.")
    search_fields: tuple[str, ...] = ()

    def filter_search(self, qs, name: str, value: str):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return qs.filter(condition)


# ---------------------------------------------------------------- users


class StaffUserSerializer(serializers.ModelSerializer):
    organization_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "is_active",
            "is_staff",
            "date_joined",
            "last_login",
            "organization_count",
        ]
        read_only_fields = fields


class StaffUserFilter(SearchFilter):
    search_fields = ("email", "name")

    class Meta:
        model = User
        fields = ["search", "is_active", "is_staff"]


def unscoped_users():
    return User.objects.annotate(organization_count=Count("memberships")).order_by("email")


@extend_schema_view(
    list=extend_schema(
        summary="All users",
        description="Every user of the installation with their number of organizations. "
        "Staff with two-factor authentication only.",
    )
)
class StaffUserViewSet(StaffViewSet):
    serializer_class = StaffUserSerializer
    filterset_class = StaffUserFilter
    queryset = User.objects.none()  # for the schema; get_queryset() is the real one

    def get_queryset(self):
        return unscoped_users()


# ---------------------------------------------------------------- organizations


class StaffOrganizationSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "plan", "member_count", "created_at"]
        read_only_fields = fields


class StaffOrganizationFilter(SearchFilter):
    search_fields = ("name", "slug")
    plan = django_filters.CharFilter(field_name="plan__code", label="Plan code.")

    class Meta:
        model = Organization
        fields = ["search", "plan"]


def unscoped_organizations():
    return (
        Organization.objects.select_related("plan")
        .annotate(member_count=Count("memberships"))
        .order_by("name", "id")
    )


@extend_schema_view(
    list=extend_schema(
        summary="All organizations",
        description="Every organization with its plan code and member count. Staff only.",
    )
)
class StaffOrganizationViewSet(StaffViewSet):
    serializer_class = StaffOrganizationSerializer
    filterset_class = StaffOrganizationFilter
    queryset = Organization.objects.none()

    def get_queryset(self):
        return unscoped_organizations()


# ---------------------------------------------------------------- usage


class UsageOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="organization_id")
    name = serializers.CharField(source="organization__name")
    slug = serializers.SlugField(source="organization__slug")


class UsageTotalSerializer(serializers.Serializer):
    organization = UsageOrganizationSerializer(source="*")
    action = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Sum of the metered quantities.")
    events = serializers.IntegerField(help_text="Number of usage records.")


def parse_month(value: str | None) -> tuple[datetime, datetime]:
    """`YYYY-MM` (UTC) as [start, end); the current month when empty."""
    if not value:
        now = timezone.now().astimezone(UTC)
        value = now.strftime("%Y-%m")
    try:
        start = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
        if start.month == 12:
            end = start.replace(year=start.year + 1, month=1)
        else:
            end = start.replace(month=start.month + 1)
    except ValueError:  # not YYYY-MM, or past year 9999
        raise serializers.ValidationError({"month": ["Use the form YYYY-MM."]}) from None
    return start, end


def unscoped_usage_totals(start: datetime, end: datetime):
    """One row per organization and action with usage in [start, end)."""
    return (
        UsageEvent.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("organization_id", "organization__name", "organization__slug", "action")
        .annotate(quantity=Sum("quantity"), events=Count("id"))
        .order_by("organization__slug", "action")
    )


@extend_schema_view(
    list=extend_schema(
        summary="Usage totals for a month",
        description="Totals per organization and action for one calendar month (UTC). Staff only.",
        parameters=[
            OpenApiParameter("month", description="YYYY-MM; the current month by default."),
            OpenApiParameter("organization", description="Only this organization (slug)."),
            OpenApiParameter("action", description="Only this usage action."),
        ],
    )
)
class StaffUsageViewSet(StaffViewSet):
    serializer_class = UsageTotalSerializer
    queryset = UsageEvent.objects.none()
    filter_backends: list = []  # the parameters are read in get_queryset()

    def get_queryset(self):
        params = self.request.query_params
        start, end = parse_month(params.get("month"))
        qs = unscoped_usage_totals(start, end)
        if params.get("organization"):
            qs = qs.filter(organization__slug=params["organization"])
        if params.get("action"):
            qs = qs.filter(action=params["action"])
        return qs
