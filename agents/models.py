"""AI agents: the organization's AI settings and keys, agent runs with their steps, and
what runs leave for a rep to review (email drafts, suggestions)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import OrgQuerySet, OrgScoped


class Provider(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"
    OFFLINE = "offline", "Offline rules (no AI model)"


class AISettings(models.Model):
    """One row per organization: its fallback chain, models, budget, and the words agents
    write with (what the organization sells, its voice, its ideal customer)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="ai_settings"
    )
    # Comma list of providers in order; empty: the install's AI_PROVIDERS.
    providers = models.CharField(max_length=100, blank=True)
    openai_model = models.CharField(max_length=100, blank=True)
    anthropic_model = models.CharField(max_length=100, blank=True)
    # US cents per calendar month; null: the install's AI_MONTHLY_BUDGET_CENTS.
    monthly_budget_cents = models.PositiveIntegerField(null=True, blank=True)
    offer = models.TextField(blank=True, help_text="What the organization sells, and to whom.")
    voice = models.TextField(blank=True, help_text="How emails should sound.")
    ideal_customer = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "AI settings"
        verbose_name_plural = "AI settings"

    def __str__(self) -> str:
        return f"AI settings of {self.organization_id}"


class ProviderKeyQuerySet(OrgQuerySet):
    pass


class ProviderKey(OrgScoped):
    """An organization's own key for a provider, encrypted at rest (accounts.crypto).
    Only `hint` (its last characters) is ever shown again."""

    provider = models.CharField(
        max_length=12, choices=[c for c in Provider.choices if c[0] != Provider.OFFLINE]
    )
    encrypted_key = models.TextField()
    hint = models.CharField(max_length=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProviderKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider"], name="provider_key_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} key {self.hint}"


class AgentType(models.TextChoices):
    RESEARCH = "research", "Research brief"
    OUTREACH = "outreach", "First email"
    FOLLOW_UP = "follow_up", "Follow-up email"
    QUALIFY = "qualify", "Qualify"
    DAILY_FOCUS = "daily_focus", "Daily focus"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


class AgentRunQuerySet(OrgQuerySet):
    def active(self):
        return self.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])

    def this_month(self, start):
        return self.filter(created_at__gte=start)


class AgentRun(OrgScoped):
    """One agent working on one lead (or, for daily focus, for one rep)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="agent_runs"
    )
    agent_type = models.CharField(max_length=20, choices=AgentType.choices)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # What the run was asked: {"instructions": "..."} and the like.
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    success = models.BooleanField(null=True)
    # The provider and model of the last answer (a fallback shows here); "" before any.
    provider = models.CharField(max_length=12, blank=True)
    model = models.CharField(max_length=100, blank=True)
    tokens_input = models.PositiveIntegerField(default=0)
    tokens_output = models.PositiveIntegerField(default=0)
    cost_cents = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    error = models.TextField(blank=True)
    # Runs started together over selected leads share a batch id.
    batch = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = AgentRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "lead", "-created_at"], name="agentrun_lead"),
            models.Index(fields=["organization", "-created_at"], name="agentrun_recent"),
            models.Index(
                fields=["organization", "status"],
                condition=Q(status__in=["queued", "running"]),
                name="agentrun_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_agent_type_display()} run {self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.completed_at:
            return (self.completed_at - self.started_at).total_seconds()
        return None


class StepKind(models.TextChoices):
    MODEL = "model", "Model turn"
    TOOL = "tool", "Tool call"


class AgentStep(OrgScoped):
    """One entry of a run's trajectory: a model turn (its text or tool requests, tokens,
    cost, which provider answered after which failed attempts) or a tool call (arguments
    and a summary of what it returned)."""

    run = models.ForeignKey(AgentRun, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=StepKind.choices)
    # The tool's name, or "provider/model" for a model turn.
    name = models.CharField(max_length=120)
    arguments = models.JSONField(default=dict, blank=True)
    summary = models.TextField(blank=True)
    ok = models.BooleanField(default=True)
    tokens_input = models.PositiveIntegerField(default=0)
    tokens_output = models.PositiveIntegerField(default=0)
    cost_cents = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    # Provider attempts of a model turn: [{"provider", "model", "ok", "error_kind", ...}].
    attempts = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="agentstep_unique_index")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.index} {self.name}"


class DraftStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    READY = "ready", "Ready to send"
    SENT = "sent", "Sent"
    DISCARDED = "discarded", "Discarded"


class DraftQuerySet(OrgQuerySet):
    def open(self):
        return self.filter(status__in=[DraftStatus.DRAFT, DraftStatus.READY])


class Draft(OrgScoped):
    """An email an agent wrote for a lead, for the rep to edit, regenerate, discard or send.
    The body is plain text; it is shown escaped (and sanitized where rendered as HTML)."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="drafts")
    run = models.ForeignKey(
        AgentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    agent_type = models.CharField(max_length=20, choices=AgentType.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=DraftStatus.choices, default=DraftStatus.DRAFT)
    edited = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DraftQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "lead", "-created_at"], name="draft_lead")]

    def __str__(self) -> str:
        return self.subject


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class Suggestion(OrgScoped):
    """A change an agent proposes (the qualify agent's status and score); nothing changes
    until a rep accepts it."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="suggestions")
    run = models.ForeignKey(
        AgentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions"
    )
    status = models.CharField(max_length=12, blank=True)  # the suggested pipeline status
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    state = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Suggestion for lead {self.lead_id}"
