"""Staff admin for agents: runs with their steps, drafts and suggestions (read-only records),
organizations' AI settings, and provider keys (shown only by their last characters: the
encrypted value never appears). Changelists fix their query shape (tests/test_admin_apps.py)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from agents.models import AgentRun, AgentStep, AISettings, Draft, ProviderKey, Suggestion


class AgentStepInline(admin.TabularInline):
    model = AgentStep
    fields = (
        "index",
        "kind",
        "name",
        "ok",
        "tokens_input",
        "tokens_output",
        "cost_cents",
        "latency_ms",
        "summary",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AgentRun)
class AgentRunAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "organization",
        "agent_type",
        "status",
        "provider",
        "model",
        "tokens_input",
        "tokens_output",
        "cost_cents",
        "created_at",
    )
    list_select_related = ("organization",)
    list_filter = ("agent_type", "status", "provider", "created_at")
    search_fields = ("organization__name", "organization__slug", "user__email")
    inlines = [AgentStepInline]
    show_full_result_count = False


@admin.register(Draft)
class DraftAdmin(ReadOnlyAdmin):
    list_display = (
        "subject",
        "organization",
        "lead",
        "agent_type",
        "status",
        "edited",
        "created_at",
    )
    list_select_related = ("organization", "lead")
    list_filter = ("status", "agent_type")
    search_fields = ("organization__slug", "subject")


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "organization", "status", "score", "state", "created_at")
    list_select_related = ("organization",)
    list_filter = ("state",)


@admin.register(AISettings)
class AISettingsAdmin(admin.ModelAdmin):
    list_display = ("organization", "providers", "monthly_budget_cents", "updated_at")
    list_select_related = ("organization",)
    search_fields = ("organization__name", "organization__slug")
    raw_id_fields = ("organization",)


@admin.register(ProviderKey)
class ProviderKeyAdmin(ReadOnlyAdmin):
    list_display = ("provider", "hint", "organization", "created_by", "created_at")
    list_select_related = ("organization", "created_by")
    fields = ("organization", "provider", "hint", "created_by", "created_at")
    search_fields = ("organization__slug",)
