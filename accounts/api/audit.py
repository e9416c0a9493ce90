"""The organization's audit log: `/api/v1/events/` (owners and admins, as the settings page).

Payloads name invitees, API keys and webhook URLs (which often carry the receiver's own
secret in their path), so members and viewers read neither here nor in the browser.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from accounts.models import Event, Role
from config.api import OrgScopedViewSet


class ActorSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="actor_id", allow_null=True)
    label = serializers.CharField(
        source="actor_label", help_text="The actor's email when it happened, or system."
    )


class EventSerializer(serializers.ModelSerializer):
    actor = ActorSerializer(source="*", read_only=True)
    payload = serializers.DictField(read_only=True)

    class Meta:
        model = Event
        fields = ["id", "type", "payload", "actor", "created_at"]
        read_only_fields = fields


class EventFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(label="Exact event type, like member.joined.")
    type_prefix = django_filters.CharFilter(
        field_name="type", lookup_expr="startswith", label="Event types starting with this."
    )
    created_at = django_filters.IsoDateTimeFromToRangeFilter(
        label="created_at_after / created_at_before: ISO 8601 bounds, inclusive."
    )

    class Meta:
        model = Event
        fields = ["type", "type_prefix", "created_at"]


@extend_schema_view(
    list=extend_schema(summary="List events", description="Newest first."),
    retrieve=extend_schema(summary="Get an event"),
)
class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    scope_family = "organization"
    read_role = Role.ADMIN
