"""AI agents over the API (scope family `agents`).

- `POST leads/{lead_id}/agent-runs/` starts an agent on a lead (202; the worker runs it),
  `GET` there lists the lead's runs; `POST agent-runs/` starts any agent, daily focus
  included; `GET agent-runs/` lists runs (without trajectories), `GET agent-runs/{id}/`
  is one run with its trajectory, `POST agent-runs/{id}/cancel/` stops it.
- Drafts the agents wrote: `GET leads/{lead_id}/drafts/`, `GET drafts/`,
  `GET/PATCH drafts/{id}/`, `POST drafts/{id}/send/`, `.../discard/`, `.../regenerate/`.
- Suggestions (the qualify agent's status and score): `GET suggestions/`,
  `POST suggestions/{id}/accept/`, `.../dismiss/`.

The work is agents.services, as in the browser. BudgetExceeded (402 budget_exceeded),
QuotaExceeded (402 quota_exceeded) and AgentError (400 validation_error) become the error
shape in config.api's exception handler; a draft or suggestion that can no longer change
is a 409 here.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agents import services
from agents.models import (
    AgentRun,
    AgentStep,
    AgentType,
    Draft,
    DraftStatus,
    RunStatus,
    StepKind,
    Suggestion,
    SuggestionStatus,
)
from config.api import (
    Conflict,
    NamedChoiceField,
    OrgScopedViewSet,
    StrictSerializer,
    error_response,
)
from leads.api.serializers import UserRefSerializer
from leads.models import Lead, Status

TAGS = ["agents"]
LEAD_AGENT_TYPES = [(t.value, t.label) for t in services.AGENT_TYPES_FOR_LEADS]
NO_MAILER = "No sender is set up yet (Campaigns > Senders): the draft is marked ready to send."

_LEAD_ID = OpenApiParameter(
    "lead_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="One of your leads."
)
_QUEUED = "Queues the run and answers at once (202, status `queued`); poll `GET agent-runs/{id}/`."
_NOT_ALLOWED = {
    400: error_response("Unknown agent type, or a lead missing or not allowed for it"),
    402: error_response(
        "The AI budget of the month is spent (budget_exceeded) or the plan has no agent runs "
        "left (quota_exceeded)"
    ),
}


# ---------------------------------------------------------------- serializers


class AgentStepSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(enum_name="AgentStepKind", choices=StepKind.choices, read_only=True)

    class Meta:
        model = AgentStep
        fields = [
            "index",
            "kind",
            "name",
            "arguments",
            "summary",
            "ok",
            "tokens_input",
            "tokens_output",
            "cost_cents",
            "latency_ms",
            "attempts",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "name": {"help_text": "The tool's name, or provider/model for a model turn."},
            "attempts": {
                "help_text": "A model turn's provider attempts, failed ones first: "
                "[{provider, model, ok, error_kind, ...}]."
            },
            "cost_cents": {"help_text": "US cents, as a decimal string."},
        }


class AgentRunSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True, allow_null=True, help_text="Who started it.")
    agent_type = NamedChoiceField(enum_name="AgentType", choices=AgentType.choices, read_only=True)
    status = NamedChoiceField(enum_name="AgentRunStatus", choices=RunStatus.choices, read_only=True)

    class Meta:
        model = AgentRun
        fields = [
            "id",
            "lead",
            "user",
            "agent_type",
            "status",
            "success",
            "provider",
            "model",
            "tokens_input",
            "tokens_output",
            "cost_cents",
            "error",
            "result",
            "created_at",
            "started_at",
            "completed_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "lead": {"help_text": "The lead's id; null for daily focus."},
            "success": {"help_text": "null until the run finishes."},
            "provider": {"help_text": "Who gave the last answer (a fallback shows here)."},
            "cost_cents": {"help_text": "US cents, as a decimal string."},
            "result": {"help_text": "The agent's answer once completed; {} before."},
        }


class AgentRunDetailSerializer(AgentRunSerializer):
    trajectory = AgentStepSerializer(
        source="steps", many=True, read_only=True, help_text="Every model turn and tool call."
    )

    class Meta(AgentRunSerializer.Meta):
        fields = [*AgentRunSerializer.Meta.fields, "trajectory"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class OrgLeadField(serializers.PrimaryKeyRelatedField):
    """A lead id of the request's organization; others are 400."""

    def get_queryset(self):
        return Lead.objects.for_org(self.context["organization"])


class LeadRunCreateSerializer(StrictSerializer):
    agent_type = NamedChoiceField(enum_name="LeadAgentType", choices=LEAD_AGENT_TYPES)


class RunCreateSerializer(StrictSerializer):
    agent_type = NamedChoiceField(enum_name="AgentType", choices=AgentType.choices)
    lead = OrgLeadField(
        required=False,
        allow_null=True,
        help_text="One of your leads; required for every agent but daily_focus.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["agent_type"] == AgentType.DAILY_FOCUS and attrs.get("lead") is not None:
            raise serializers.ValidationError(
                {"lead": ["Daily focus plans your day, not one lead's: leave `lead` out."]}
            )
        return attrs


class DraftSerializer(serializers.ModelSerializer):
    agent_type = NamedChoiceField(enum_name="AgentType", choices=AgentType.choices, read_only=True)
    status = NamedChoiceField(enum_name="DraftStatus", choices=DraftStatus.choices, read_only=True)

    class Meta:
        model = Draft
        fields = [
            "id",
            "lead",
            "run",
            "agent_type",
            "subject",
            "body",
            "status",
            "edited",
            "created_at",
            "updated_at",
            "sent_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "run": {"help_text": "The run that wrote it (null once that run is deleted)."},
            "body": {"help_text": "Plain text."},
            "edited": {"help_text": "true once a person changed the subject or body."},
        }


class DraftUpdateSerializer(StrictSerializer):
    subject = serializers.CharField(required=False, max_length=300)
    body = serializers.CharField(required=False, max_length=20_000)


class DraftSendSerializer(DraftSerializer):
    sent = serializers.BooleanField(help_text="Whether the email went out now.")
    detail = serializers.CharField(help_text="What happened, in a sentence.")

    class Meta(DraftSerializer.Meta):
        fields = [*DraftSerializer.Meta.fields, "sent", "detail"]
        read_only_fields = fields


class SuggestionSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        enum_name="LeadStatus",
        choices=Status.choices,
        read_only=True,
        help_text="The suggested lead status.",
    )
    state = NamedChoiceField(
        enum_name="SuggestionState", choices=SuggestionStatus.choices, read_only=True
    )
    decided_by = UserRefSerializer(read_only=True, allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "lead",
            "run",
            "status",
            "score",
            "reasons",
            "state",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"score": {"help_text": "The suggested score, 0..100."}}


# ---------------------------------------------------------------- filters


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id: whole numbers only (a NumberFilter would take 1.5 as 1)."""

    field_class = forms.IntegerField


class RunFilter(django_filters.FilterSet):
    lead = IdFilter(field_name="lead_id", label="The runs of one lead.")
    agent_type = django_filters.ChoiceFilter(choices=AgentType.choices)
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = AgentRun
        fields: list[str] = []


class DraftFilter(django_filters.FilterSet):
    lead = IdFilter(field_name="lead_id", label="The drafts of one lead.")
    status = django_filters.ChoiceFilter(choices=DraftStatus.choices)

    class Meta:
        model = Draft
        fields: list[str] = []


class SuggestionFilter(django_filters.FilterSet):
    lead = IdFilter(field_name="lead_id", label="The suggestions for one lead.")
    state = django_filters.ChoiceFilter(choices=SuggestionStatus.choices)

    class Meta:
        model = Suggestion
        fields: list[str] = []


# ---------------------------------------------------------------- runs


def _steps() -> Prefetch:
    return Prefetch("steps", queryset=AgentStep.objects.order_by("index"))


def _accepted(request: Request, run: AgentRun) -> Response:
    """202 with the run as `GET agent-runs/{id}/` shows it."""
    runs = AgentRun.objects.for_org(request.org).select_related("user")
    run = runs.prefetch_related(_steps()).get(pk=run.pk)
    return Response(AgentRunDetailSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=TAGS)
@extend_schema_view(
    list=extend_schema(
        summary="List agent runs",
        description="Newest first, without trajectories (read one run for its steps).",
    ),
    retrieve=extend_schema(
        summary="Get an agent run",
        description="Its status, cost, result and trajectory: every model turn and tool "
        "call in order.",
        responses={200: AgentRunDetailSerializer},
    ),
    create=extend_schema(
        summary="Start an agent",
        description=f"`research`, `outreach`, `follow_up` and `qualify` need a `lead`; "
        f"`daily_focus` plans the day of the user behind the key. {_QUEUED}",
        request=RunCreateSerializer,
        responses={202: AgentRunDetailSerializer, **_NOT_ALLOWED},
    ),
)
class AgentRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    queryset = AgentRun.objects.all()
    serializer_class = AgentRunSerializer
    scope_family = "agents"
    filterset_class = RunFilter
    lookup_value_regex = r"[0-9]+"

    def scope_queryset(self, qs):
        qs = qs.select_related("user")
        if self.action == "list":
            return qs
        return qs.prefetch_related(_steps())

    def get_serializer_class(self):
        return AgentRunSerializer if self.action == "list" else AgentRunDetailSerializer

    def create(self, request: Request) -> Response:
        form = RunCreateSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        run = services.start_run(
            organization=request.org,
            user=request.user,
            agent_type=form.validated_data["agent_type"],
            lead=form.validated_data.get("lead"),
        )
        return _accepted(request, run)

    @extend_schema(
        summary="Cancel an agent run",
        description="A queued run never starts; a running one stops before its next turn. "
        "409 once the run has finished.",
        request=None,
        responses={200: AgentRunDetailSerializer, 409: error_response("The run has finished")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        if not services.cancel_run(run=run, user=request.user):
            raise Conflict(f"The run is {run.get_status_display().lower()}: nothing to cancel.")
        return Response(self.get_serializer(self.get_object()).data)


class LeadScopedMixin:
    """For `leads/{lead_id}/...` routes: the lead of the request's organization, or 404
    (before any body is read, so another organization's lead id is always a 404)."""

    def lead(self) -> Lead:
        if not hasattr(self, "_lead"):
            self._lead = get_object_or_404(
                Lead.objects.for_org(self.request.org), pk=self.kwargs["lead_id"]
            )
        return self._lead


@extend_schema(tags=TAGS, parameters=[_LEAD_ID])
@extend_schema_view(
    list=extend_schema(summary="List a lead's agent runs", description="Newest first."),
    create=extend_schema(
        summary="Start an agent on a lead",
        description=f"{_QUEUED} Daily focus is not for one lead: start it at `agent-runs/`.",
        request=LeadRunCreateSerializer,
        responses={202: AgentRunDetailSerializer, **_NOT_ALLOWED},
    ),
)
class LeadAgentRunViewSet(LeadScopedMixin, mixins.ListModelMixin, OrgScopedViewSet):
    queryset = AgentRun.objects.all()
    serializer_class = AgentRunSerializer
    scope_family = "agents"
    filter_backends: list = []

    def scope_queryset(self, qs):
        return qs.filter(lead=self.lead()).select_related("user")

    def create(self, request: Request, lead_id: str | None = None) -> Response:
        lead = self.lead()
        form = LeadRunCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        run = services.start_run(
            organization=request.org,
            user=request.user,
            agent_type=form.validated_data["agent_type"],
            lead=lead,
        )
        return _accepted(request, run)


# ---------------------------------------------------------------- drafts


def _open(draft: Draft) -> None:
    if draft.status not in (DraftStatus.DRAFT, DraftStatus.READY):
        raise Conflict(f"This draft is {draft.get_status_display().lower()}: it cannot change.")


_CLOSED = {409: error_response("The draft was sent or discarded")}


@extend_schema(tags=TAGS)
@extend_schema_view(
    list=extend_schema(summary="List drafts", description="Newest first."),
    retrieve=extend_schema(summary="Get a draft"),
    partial_update=extend_schema(
        summary="Edit a draft",
        description="The subject, the body or both; the draft is marked `edited`.",
        request=DraftUpdateSerializer,
        responses={200: DraftSerializer, **_CLOSED},
    ),
)
class DraftViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, OrgScopedViewSet
):
    queryset = Draft.objects.all()
    serializer_class = DraftSerializer
    scope_family = "agents"
    filterset_class = DraftFilter
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _draft(self) -> Draft:
        draft = self.get_object()
        draft.organization = self.request.org
        return draft

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        draft = self._draft()
        form = DraftUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        _open(draft)
        services.update_draft(
            draft=draft,
            subject=form.validated_data.get("subject", draft.subject),
            body=form.validated_data.get("body", draft.body),
            user=request.user,
        )
        return Response(DraftSerializer(draft).data)

    @extend_schema(
        summary="Send a draft",
        description="Sends it to its lead as a one-off email through the campaigns mailer "
        "(the organization's first sender). Without a sender nothing is sent: `sent` is "
        f'false and the draft is marked `ready` ("{NO_MAILER}"). A refused send (no address, '
        "suppressed, the server said no) is a 400.",
        request=None,
        responses={200: DraftSendSerializer, **_CLOSED},
    )
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        draft = self._draft()
        _open(draft)
        services.send_draft(draft=draft, user=request.user)
        sent = draft.status == DraftStatus.SENT
        data = DraftSerializer(draft).data
        data["sent"] = sent
        data["detail"] = "The email was sent." if sent else NO_MAILER
        return Response(data)

    @extend_schema(
        summary="Discard a draft",
        request=None,
        responses={200: DraftSerializer, **_CLOSED},
    )
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        draft = self._draft()
        _open(draft)
        services.discard_draft(draft=draft, user=request.user)
        return Response(DraftSerializer(draft).data)

    @extend_schema(
        summary="Write a draft again",
        description="Starts a fresh run of the agent that wrote it (202, as starting a run); "
        "an open draft is discarded.",
        request=None,
        responses={202: AgentRunDetailSerializer, **_NOT_ALLOWED},
    )
    @action(detail=True, methods=["post"])
    def regenerate(self, request: Request, pk: str | None = None) -> Response:
        run = services.regenerate_draft(draft=self._draft(), user=request.user)
        return _accepted(request, run)


@extend_schema(tags=TAGS, parameters=[_LEAD_ID])
@extend_schema_view(list=extend_schema(summary="List a lead's drafts", description="Newest first."))
class LeadDraftViewSet(LeadScopedMixin, mixins.ListModelMixin, OrgScopedViewSet):
    queryset = Draft.objects.all()
    serializer_class = DraftSerializer
    scope_family = "agents"
    filter_backends: list = []

    def scope_queryset(self, qs):
        return qs.filter(lead=self.lead())


# ---------------------------------------------------------------- suggestions


_DECIDED = {409: error_response("The suggestion was already accepted or dismissed")}


@extend_schema(tags=TAGS)
@extend_schema_view(
    list=extend_schema(summary="List suggestions", description="Newest first."),
    retrieve=extend_schema(summary="Get a suggestion"),
)
class SuggestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    queryset = Suggestion.objects.all()
    serializer_class = SuggestionSerializer
    scope_family = "agents"
    filterset_class = SuggestionFilter
    lookup_value_regex = r"[0-9]+"

    def scope_queryset(self, qs):
        return qs.select_related("decided_by")

    def _pending(self) -> Suggestion:
        suggestion = self.get_object()
        if suggestion.state != SuggestionStatus.PENDING:
            raise Conflict(f"This suggestion was already {suggestion.state}.")
        return suggestion

    @extend_schema(
        summary="Accept a suggestion",
        description="Applies the suggested score and status to the lead (recorded on its "
        "timeline).",
        request=None,
        responses={200: SuggestionSerializer, **_DECIDED},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        suggestion = self._pending()
        services.accept_suggestion(suggestion=suggestion, user=request.user)
        return Response(self.get_serializer(suggestion).data)

    @extend_schema(
        summary="Dismiss a suggestion",
        description="The lead stays as it is.",
        request=None,
        responses={200: SuggestionSerializer, **_DECIDED},
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        suggestion = self._pending()
        services.dismiss_suggestion(suggestion=suggestion, user=request.user)
        return Response(self.get_serializer(suggestion).data)
