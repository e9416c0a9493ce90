"""Follow-up tasks over the API: `/api/v1/tasks/` (list with filters, create, read, change,
delete). A task belongs to one of the organization's leads and may be assigned to a member."""

from __future__ import annotations

from datetime import date

from django.db.models import F
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from accounts.models import Membership, User
from config.api import OrgScopedViewSet, StrictModelSerializer
from leads.models import Lead, LeadTask


class OrgLeadField(serializers.PrimaryKeyRelatedField):
    """A lead id of the request's organization (archived leads too); others are 400."""

    def get_queryset(self):
        return Lead.objects.for_org(self.context["organization"])


class MemberField(serializers.PrimaryKeyRelatedField):
    """A user id of one of the organization's members; others are 400."""

    def get_queryset(self):
        organization = self.context["organization"]
        return User.objects.filter(
            pk__in=Membership.objects.for_org(organization).values("user_id")
        )


class LeadTaskSerializer(StrictModelSerializer):
    lead_id = OrgLeadField(source="lead", help_text="The task's lead, set on creation.")
    assignee_id = MemberField(
        source="assignee",
        required=False,
        allow_null=True,
        help_text="A member of the organization, or null for nobody.",
    )
    created_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    done = serializers.BooleanField(
        required=False,
        help_text="true marks the task done (sets done_at), false opens it again.",
    )

    class Meta:
        model = LeadTask
        fields = [
            "id",
            "lead_id",
            "title",
            "due_date",
            "assignee_id",
            "done",
            "done_at",
            "created_by_id",
            "created_at",
        ]
        read_only_fields = ["id", "done_at", "created_by_id", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        # The lead is chosen once: a task does not move to another lead.
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["lead_id"].read_only = True
        return fields

    def to_representation(self, instance: LeadTask):
        data = super().to_representation(instance)
        data["done"] = instance.done_at is not None
        return data

    def _apply_done(self, validated: dict, instance: LeadTask | None) -> dict:
        if "done" not in validated:
            return validated
        done = validated.pop("done")
        already = instance is not None and instance.done_at is not None
        if done and not already:
            validated["done_at"] = timezone.now()
        elif not done:
            validated["done_at"] = None
        return validated

    def create(self, validated_data):
        return super().create(self._apply_done(validated_data, None))

    def update(self, instance, validated_data):
        return super().update(instance, self._apply_done(validated_data, instance))


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise serializers.ValidationError({"done": ["Use true or false."]})


def _day(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise serializers.ValidationError({name: ["Use a date as YYYY-MM-DD."]}) from None


def _id(name: str, value: str | None) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise serializers.ValidationError({name: ["Use a numeric id."]})
    return int(value)


_FILTERS = [
    OpenApiParameter(
        "assignee",
        OpenApiTypes.STR,
        description="A user id, or `me` for the tasks assigned to you.",
    ),
    OpenApiParameter("lead", OpenApiTypes.INT, description="The tasks of one lead."),
    OpenApiParameter("done", OpenApiTypes.BOOL, description="true: finished; false: open."),
    OpenApiParameter(
        "due_before", OpenApiTypes.DATE, description="Due on or before this day (YYYY-MM-DD)."
    ),
    OpenApiParameter(
        "due_after", OpenApiTypes.DATE, description="Due on or after this day (YYYY-MM-DD)."
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="List follow-up tasks",
        description="Open tasks first, by due date. Filters combine.",
        parameters=_FILTERS,
    ),
    retrieve=extend_schema(summary="Get a task"),
    create=extend_schema(summary="Create a task on a lead"),
    partial_update=extend_schema(
        summary="Change a task",
        description="Title, due date, assignee, or `done` to finish or reopen it.",
    ),
    destroy=extend_schema(summary="Delete a task", responses={204: None}),
)
class LeadTaskViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    queryset = LeadTask.objects.all()
    serializer_class = LeadTaskSerializer
    scope_family = "leads"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scope_queryset(self, qs):
        if self.action != "list":
            return qs
        params = self.request.query_params
        assignee = params.get("assignee")
        if assignee == "me":
            qs = qs.filter(assignee_id=self.request.user.pk)
        elif (assignee_id := _id("assignee", assignee)) is not None:
            qs = qs.filter(assignee_id=assignee_id)
        if (lead_id := _id("lead", params.get("lead"))) is not None:
            qs = qs.filter(lead_id=lead_id)
        done = _bool(params.get("done"))
        if done is not None:
            qs = qs.filter(done_at__isnull=not done)
        if (before := _day("due_before", params.get("due_before"))) is not None:
            qs = qs.filter(due_date__lte=before)
        if (after := _day("due_after", params.get("due_after"))) is not None:
            qs = qs.filter(due_date__gte=after)
        # Open tasks first, the soonest due first, undated ones last (on every database).
        return qs.order_by(
            F("done_at").asc(nulls_first=True), F("due_date").asc(nulls_last=True), "id"
        )

    def perform_create(self, serializer) -> None:
        serializer.save(organization=self.request.org, created_by=self.request.user)
