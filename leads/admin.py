"""Staff admin for leads: companies, leads and what hangs off them, imports, forms, scoring.

Every changelist fixes its query shape with `list_select_related` (tests/test_admin_apps.py
pins that the number of queries does not grow with rows). Foreign keys are raw ids or
autocompletes: an organization may hold 100,000 leads. A lead's status is read-only here:
it changes through leads.services.set_status (the board, the lead page, the API), which
records the timeline entry and sends the event. Records of what happened (activities,
import rows, submissions, counts) are read-only.
"""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from leads.models import (
    Activity,
    CaptureForm,
    Company,
    CustomFieldDefinition,
    FormSubmission,
    ImportJob,
    ImportRowError,
    Lead,
    LeadTask,
    SavedView,
    ScoringProfile,
    Suppression,
    Tag,
)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "organization", "industry", "size_range", "created_at")
    list_select_related = ("organization",)
    list_filter = ("size_range", "created_at")
    search_fields = ("name", "domain", "organization__name", "organization__slug")
    raw_id_fields = ("organization",)
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "organization", "company", "status", "score", "owner")
    list_select_related = ("organization", "company", "owner")
    list_filter = ("status", "archived_at", "created_at")
    search_fields = ("email", "first_name", "last_name", "organization__slug")
    raw_id_fields = ("organization", "company", "owner")
    readonly_fields = (
        "status",
        "score",
        "score_explanation",
        "converted_at",
        "created_at",
        "updated_at",
    )
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "organization")
    list_select_related = ("organization",)
    search_fields = ("name", "organization__slug")
    raw_id_fields = ("organization",)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("kind", "lead", "organization", "actor", "occurred_at")
    list_select_related = ("lead", "organization", "actor")
    list_filter = ("kind", "occurred_at")
    search_fields = ("lead__email", "organization__slug", "body")
    show_full_result_count = False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("email", "organization", "reason", "created_at")
    list_select_related = ("organization",)
    list_filter = ("reason",)
    search_fields = ("email", "organization__slug")
    raw_id_fields = ("organization",)


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "field_type", "organization")
    list_select_related = ("organization",)
    search_fields = ("label", "key", "organization__slug")
    raw_id_fields = ("organization",)


@admin.register(LeadTask)
class LeadTaskAdmin(admin.ModelAdmin):
    list_display = ("title", "lead", "assignee", "due_date", "done_at", "organization")
    list_select_related = ("lead", "assignee", "organization")
    list_filter = ("due_date",)
    search_fields = ("title", "lead__email", "organization__slug")
    raw_id_fields = ("organization", "lead", "assignee")


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "organization")
    list_select_related = ("user", "organization")
    search_fields = ("name", "user__email", "organization__slug")
    raw_id_fields = ("organization", "user")


class ImportRowErrorInline(admin.TabularInline):
    model = ImportRowError
    fields = ("line", "reason")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("line")[:200]


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = (
        "original_filename",
        "organization",
        "status",
        "total_rows",
        "created_count",
        "failed_count",
        "created_at",
    )
    list_select_related = ("organization",)
    list_filter = ("status", "created_at")
    search_fields = ("original_filename", "organization__slug")


@admin.register(CaptureForm)
class CaptureFormAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "public_id", "is_active", "created_at")
    list_select_related = ("organization",)
    search_fields = ("name", "public_id", "organization__slug")
    raw_id_fields = ("organization",)


@admin.register(FormSubmission)
class FormSubmissionAdmin(ReadOnlyAdmin):
    list_display = ("form", "lead", "organization", "created_at")
    list_select_related = ("form", "lead", "organization")
    list_filter = ("created_at",)
    search_fields = ("form__name", "lead__email", "organization__slug")


@admin.register(ScoringProfile)
class ScoringProfileAdmin(admin.ModelAdmin):
    list_display = ("organization", "updated_at")
    list_select_related = ("organization",)
    search_fields = ("organization__name", "organization__slug")
    raw_id_fields = ("organization",)
