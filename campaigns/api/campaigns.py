"""Campaigns over the API: `campaigns/` (CRUD with the sending window and nested steps) and
`POST campaigns/{id}/enroll|launch|pause|resume|cancel/`, `GET campaigns/{id}/stats/`.

The workflows are campaigns.services, as in the browser; its CampaignError becomes a 409
`conflict` with the error's details (config.api's handler). Every state change and every
edit locks the campaign's row first, so a launch, a pause and a change of steps never
interleave."""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from zoneinfo import available_timezones

import django_filters
from django.db import transaction
from django.db.models import Prefetch
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import rendering, services
from campaigns.api.stats import CampaignStatsSerializer, campaign_stats
from campaigns.models import Campaign, CampaignStatus, Sender, Step
from config.api import (
    Conflict,
    NamedChoiceField,
    OrgScopedViewSet,
    StrictModelSerializer,
    StrictSerializer,
    error_response,
)
from leads.filters import LeadFilter
from leads.models import Lead

TAGS = ["campaigns"]
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.PAUSED)
UNDER_WAY = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)
VARIANT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,8}$")
ENROLL_MAX_IDS = 10_000
MAX_STEPS = 50
MAX_VARIANTS = 10

_CAMPAIGN_CONFLICT = {409: error_response("The campaign cannot do this in its current status")}


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _custom_keys(context: dict[str, Any]) -> set[str]:
    """The organization's custom field keys, read once per request (templates may use them)."""
    if "custom_keys" not in context:
        context["custom_keys"] = services.custom_keys(context["organization"])
    return context["custom_keys"]


@extend_schema_field(OpenApiTypes.INT)
class OrgSenderField(serializers.PrimaryKeyRelatedField):
    """A sender id of the request's organization; others are 400."""

    def get_queryset(self):
        return Sender.objects.for_org(self.context["organization"])


class WindowSerializer(StrictSerializer):
    days = serializers.ListField(
        source="window_days",
        child=serializers.IntegerField(min_value=0, max_value=6),
        min_length=1,
        max_length=7,
        required=False,
        help_text="Days of the week to send on: 0 is Monday, 6 Sunday.",
    )
    start = serializers.TimeField(
        source="window_start", format="%H:%M", required=False, help_text="HH:MM"
    )
    end = serializers.TimeField(
        source="window_end", format="%H:%M", required=False, help_text="HH:MM, after start."
    )
    time_zone = serializers.CharField(
        max_length=64, required=False, help_text="An IANA name such as Europe/Berlin."
    )
    lead_time_zone = serializers.BooleanField(
        source="lead_timezone",
        required=False,
        help_text="Follow each lead's own time zone when known.",
    )

    def validate_days(self, value: list[int]) -> list[int]:
        return sorted(set(value))

    def validate_time_zone(self, value: str) -> str:
        value = value.strip()
        if value not in _zones():
            raise serializers.ValidationError("Use a time zone name such as Europe/Berlin.")
        return value


class VariantSerializer(StrictSerializer):
    key = serializers.CharField(max_length=8, help_text="B, C, ...: the step itself is A.")
    subject = serializers.CharField(max_length=300)
    body = serializers.CharField(max_length=100_000, trim_whitespace=False)
    weight = serializers.IntegerField(
        min_value=1, max_value=99, help_text="Share of sends in percent; A gets the rest."
    )

    def validate_key(self, value: str) -> str:
        if not VARIANT_KEY.match(value) or value.upper() == "A":
            raise serializers.ValidationError(
                "Use up to 8 letters, digits, - or _; A is the step's own subject and body."
            )
        return value

    def validate_subject(self, value: str) -> str:
        return _checked(value, self.context)

    def validate_body(self, value: str) -> str:
        return _checked(value, self.context)


def _checked(template: str, context: dict[str, Any]) -> str:
    problems = rendering.check(template, _custom_keys(context))
    if problems:
        raise serializers.ValidationError(problems)
    return template


class StepListSerializer(serializers.ListSerializer):
    """Steps are always given whole, in a PATCH too: validated under a root of their own,
    since a partial root would let a step without its subject or body through."""

    def to_internal_value(self, data):
        steps = serializers.ListSerializer(
            child=StepSerializer(), data=data, max_length=MAX_STEPS, context=self.context
        )
        if not steps.is_valid():
            raise serializers.ValidationError(steps.errors)
        return steps.validated_data


class StepSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    order = serializers.IntegerField(
        min_value=1,
        max_value=1000,
        required=False,
        help_text="Sending order; default: the position in the list (1, 2, ...).",
    )
    delay_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        default=0,
        help_text="Wait after the previous step (after enrollment for the first).",
    )
    delay_hours = serializers.IntegerField(min_value=0, max_value=8760, default=0)
    subject = serializers.CharField(max_length=300)
    body = serializers.CharField(max_length=100_000, trim_whitespace=False)
    variants = VariantSerializer(many=True, required=False, max_length=MAX_VARIANTS)

    class Meta:
        list_serializer_class = StepListSerializer

    def validate_subject(self, value: str) -> str:
        return _checked(value, self.context)

    def validate_body(self, value: str) -> str:
        return _checked(value, self.context)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        variants = attrs.get("variants", [])
        keys = [v["key"].upper() for v in variants]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError({"variants": ["Each variant needs its own key."]})
        if sum(v["weight"] for v in variants) >= 100:
            raise serializers.ValidationError(
                {"variants": ["The weights add up to 100 or more: leave some for A."]}
            )
        attrs["variants"] = [dict(v) for v in variants]
        return attrs


class CampaignSerializer(StrictModelSerializer):
    sender = OrgSenderField(help_text="One of your senders.")
    status = NamedChoiceField(
        enum_name="CampaignStatus", choices=CampaignStatus.choices, read_only=True
    )
    window = WindowSerializer(source="*", required=False, help_text="When it may send.")
    steps = StepSerializer(
        many=True,
        required=False,
        max_length=MAX_STEPS,
        help_text="Replaces every step when given; only while draft or paused.",
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "sender",
            "status",
            "paused_reason",
            "track_opens",
            "track_clicks",
            "stop_on_reply",
            "stop_company_on_reply",
            "start_at",
            "window",
            "steps",
            "created_by",
            "created_at",
            "launched_at",
            "finished_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "paused_reason",
            "created_by",
            "created_at",
            "launched_at",
            "finished_at",
        ]
        extra_kwargs = {
            "start_at": {"help_text": "Not before this moment; null: as soon as launched."},
            "stop_company_on_reply": {
                "help_text": "A reply from anyone at a company stops its other leads here."
            },
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def current(name: str) -> Any:
            if name in attrs:
                return attrs[name]
            if self.instance is not None:
                return getattr(self.instance, name)
            return Campaign._meta.get_field(name).get_default()

        if current("window_start") >= current("window_end"):
            raise serializers.ValidationError(
                {"window": {"end": ["The window must end after it starts."]}}
            )
        if "steps" in attrs:
            steps = [dict(step) for step in attrs["steps"]]
            for position, step in enumerate(steps, start=1):
                step.setdefault("order", position)
            orders = [step["order"] for step in steps]
            if len(orders) != len(set(orders)):
                raise serializers.ValidationError({"steps": ["Each step needs its own order."]})
            attrs["steps"] = sorted(steps, key=lambda step: step["order"])
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Campaign:
        steps = validated_data.pop("steps", [])
        with transaction.atomic():
            campaign = Campaign.objects.create(**validated_data)
            _replace_steps(campaign, steps)
        return campaign

    def update(self, instance: Campaign, validated_data: dict[str, Any]) -> Campaign:
        steps = validated_data.pop("steps", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        # Only what was given: the dispatcher may be writing the status meanwhile.
        instance.save(update_fields=list(validated_data))
        if steps is not None:
            _replace_steps(instance, steps)
        return instance


_STEP_FIELDS = ("delay_days", "delay_hours", "subject", "body", "variants")


def _replace_steps(campaign: Campaign, steps: list[dict[str, Any]]) -> None:
    """Make the campaign's steps exactly these. A step keeps its row (and the messages
    sent for it) while its order stays; steps whose order is gone are deleted."""
    existing = {
        step.order: step
        for step in Step.objects.for_org(campaign.organization_id).filter(campaign=campaign)
    }
    wanted = {data["order"] for data in steps}
    gone = [step.pk for order, step in existing.items() if order not in wanted]
    if gone:
        Step.objects.filter(pk__in=gone).delete()
    for data in steps:
        fields = {name: data[name] for name in _STEP_FIELDS}
        step = existing.get(data["order"])
        if step is None:
            Step.objects.create(
                organization_id=campaign.organization_id,
                campaign=campaign,
                order=data["order"],
                **fields,
            )
        elif any(getattr(step, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(step, name, value)
            step.save(update_fields=list(fields))


class EnrollSerializer(StrictSerializer):
    lead_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        min_length=1,
        max_length=ENROLL_MAX_IDS,
        help_text=f"Lead ids, at most {ENROLL_MAX_IDS:,}.",
    )
    filter = serializers.DictField(
        required=False,
        help_text="Instead of ids: the lead list's filters (status, owner, tag, source, q, "
        "score_min, score_max, created_after, updated_after) as an object.",
    )
    allow_other_sequences = serializers.BooleanField(
        default=False, help_text="Enroll leads that are active in another campaign too."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lead_ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError({"lead_ids": ["Give either lead_ids or filter."]})
        return attrs


class EnrollResultSerializer(serializers.Serializer):
    enrolled = serializers.IntegerField()
    skipped = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Per reason: suppressed, archived, no_email, already_enrolled, "
        "in_other_sequence, not_found (ids that are not your leads).",
    )
    skipped_total = serializers.IntegerField()


class LaunchSerializer(StrictSerializer):
    skip_missing = serializers.BooleanField(
        default=False,
        help_text="Stop the enrollments of leads missing template values instead of refusing.",
    )


class PauseSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


def _lead_filter(organization, given: dict[str, Any]):
    """The organization's leads matching the lead list's filters, given as JSON values."""
    known = set(LeadFilter.base_filters)
    unknown = sorted(set(given) - known)
    if unknown:
        raise serializers.ValidationError(
            {"filter": [f"Unknown filters: {', '.join(unknown)}; use {', '.join(sorted(known))}."]}
        )
    params = QueryDict(mutable=True)
    for key, value in given.items():
        values = value if isinstance(value, list) else [value]
        if key == "status" and isinstance(value, str):
            values = value.split(",")
        if any(isinstance(v, dict | list) or "\x00" in str(v) for v in values):
            raise serializers.ValidationError({"filter": [f"{key}: give text or a number."]})
        params.setlist(
            key, [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]
        )
    leads = Lead.objects.for_org(organization)
    lead_filter = LeadFilter(params, queryset=leads, organization=organization)
    if not lead_filter.is_valid():
        raise serializers.ValidationError({"filter": lead_filter.errors})
    return lead_filter.qs


# ---------------------------------------------------------------- views


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CampaignStatus.choices)

    class Meta:
        model = Campaign
        fields: list[str] = []


def _steps() -> Prefetch:
    return Prefetch("steps", queryset=Step.objects.order_by("order"))


@extend_schema(tags=TAGS)
@extend_schema_view(
    list=extend_schema(summary="List campaigns", description="Newest first, with their steps."),
    retrieve=extend_schema(summary="Get a campaign"),
    create=extend_schema(
        summary="Create a campaign",
        description="A draft, with its window and steps. Templates use {{ variables }} with "
        "`default` and case filters only; every subject and body is checked (400 with the "
        "problems per step).",
    ),
    update=extend_schema(
        summary="Replace a campaign's fields",
        responses={200: CampaignSerializer, **_CAMPAIGN_CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Change a campaign",
        description="Only the fields given (inside `window` too). `steps`, when given, "
        "replaces every step, and only while the campaign is draft or paused (409 otherwise).",
        responses={200: CampaignSerializer, **_CAMPAIGN_CONFLICT},
    ),
    destroy=extend_schema(
        summary="Delete a campaign",
        description="With its enrollments and message log. A scheduled, running or paused "
        "campaign must be cancelled first (409).",
        responses={204: None, **_CAMPAIGN_CONFLICT},
    ),
)
class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    scope_family = "campaigns"
    filterset_class = CampaignFilter
    lookup_value_regex = r"[0-9]+"

    def scope_queryset(self, qs):
        return qs.prefetch_related(_steps())

    def _locked(self) -> Campaign:
        """The campaign, its row locked until the request's transaction ends (404 first,
        before any body is read)."""
        campaign = get_object_or_404(
            Campaign.objects.for_org(self.request.org).select_for_update(), pk=self.kwargs["pk"]
        )
        campaign.organization = self.request.org
        return campaign

    def _data(self, campaign: Campaign) -> dict[str, Any]:
        fresh = self.get_queryset().get(pk=campaign.pk)
        return CampaignSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = serializer.save(organization=request.org, created_by=request.user)
        return Response(self._data(campaign), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            campaign = self._locked()
            steps_given = isinstance(request.data, dict) and "steps" in request.data
            if steps_given and campaign.status not in EDITABLE:
                raise Conflict(
                    f"The campaign is {campaign.get_status_display().lower()}: pause it "
                    "to change its steps."
                )
            serializer = self.get_serializer(
                campaign, data=request.data, partial=kwargs.get("partial", False)
            )
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return Response(self._data(campaign))

    def perform_destroy(self, instance: Campaign) -> None:
        if instance.status in UNDER_WAY:
            raise Conflict(
                f"The campaign is {instance.get_status_display().lower()}: cancel it first."
            )
        instance.delete()

    @extend_schema(
        summary="Enroll leads",
        description="By `lead_ids` or by the lead list's `filter`. Suppressed, archived, "
        "already enrolled leads, leads without an email and (unless allowed) leads active in "
        "another campaign are skipped and counted by reason; ids that are not your leads "
        "count as `not_found`. A running campaign schedules them at once.",
        request=EnrollSerializer,
        responses={
            200: EnrollResultSerializer,
            409: error_response("The campaign is completed or cancelled"),
        },
    )
    @action(detail=True, methods=["post"])
    def enroll(self, request: Request, pk: str | None = None) -> Response:
        with transaction.atomic():
            campaign = self._locked()
            form = EnrollSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            if "lead_ids" in data:
                wanted = set(data["lead_ids"])
                leads = Lead.objects.for_org(request.org).filter(pk__in=wanted)
            else:
                leads = _lead_filter(request.org, data["filter"])
            result = services.enroll(
                campaign=campaign,
                leads=leads,
                user=request.user,
                allow_other_sequences=data["allow_other_sequences"],
            )
        if "lead_ids" in data:
            # Every lead found was enrolled or skipped: the rest are not the organization's.
            not_found = len(wanted) - result["enrolled"] - result["skipped_total"]
            if not_found:
                result["skipped"]["not_found"] = not_found
                result["skipped_total"] += not_found
        return Response(result)

    @extend_schema(
        summary="Launch a campaign",
        description="Starts sending (or schedules it for `start_at`). Refused (409) with "
        "`details.problems` when a template is broken, or with `details.missing` (the "
        "leads, at most 200) and `details.missing_total` when enrolled leads lack values the "
        "templates use without a default; `skip_missing` stops those leads instead.",
        request=LaunchSerializer,
        responses={200: CampaignSerializer, **_CAMPAIGN_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def launch(self, request: Request, pk: str | None = None) -> Response:
        with transaction.atomic():
            campaign = self._locked()
            form = LaunchSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            services.launch(
                campaign=campaign,
                user=request.user,
                skip_missing=form.validated_data["skip_missing"],
            )
        return Response(self._data(campaign))

    @extend_schema(
        summary="Pause a campaign",
        description="No message is sent from the next dispatch cycle on; an optional "
        "`reason` is shown.",
        request=PauseSerializer,
        responses={200: CampaignSerializer, **_CAMPAIGN_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        with transaction.atomic():
            campaign = self._locked()
            form = PauseSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            services.pause(
                campaign=campaign, user=request.user, reason=form.validated_data.get("reason", "")
            )
        return Response(self._data(campaign))

    @extend_schema(
        summary="Resume a paused campaign",
        request=None,
        responses={200: CampaignSerializer, **_CAMPAIGN_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        with transaction.atomic():
            campaign = self._locked()
            services.resume(campaign=campaign, user=request.user)
        return Response(self._data(campaign))

    @extend_schema(
        summary="Cancel a campaign",
        description="For good: its active enrollments stop.",
        request=None,
        responses={200: CampaignSerializer, **_CAMPAIGN_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        with transaction.atomic():
            campaign = self._locked()
            services.cancel(campaign=campaign, user=request.user)
        return Response(self._data(campaign))

    @extend_schema(
        summary="A campaign's numbers",
        description="Per campaign, step and A/B variant: enrolled, sent (went out or "
        "bounced), delivered (sent minus bounced), opened, clicked, replied, bounced, "
        "unsubscribed (counted on the last message the lead was sent), with rates as shares "
        "of sent. `by_day` counts each event on its day in the campaign's time zone.",
        responses={200: CampaignStatsSerializer},
    )
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str | None = None) -> Response:
        campaign = get_object_or_404(Campaign.objects.for_org(request.org), pk=pk)
        return Response(campaign_stats(campaign))
