"""Staff admin for enrichment: jobs and their results (read-only records of what was
found), and the shared cache of fetched pages (staff may delete entries to force a refetch).
Changelists fix their query shape (tests/test_admin_apps.py)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from enrichment.models import EnrichmentJob, EnrichmentResult, FetchCacheEntry


@admin.register(EnrichmentJob)
class EnrichmentJobAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "organization",
        "status",
        "source",
        "total",
        "completed",
        "failed",
        "created_by",
        "created_at",
    )
    list_select_related = ("organization", "created_by")
    list_filter = ("status", "source", "created_at")
    search_fields = ("organization__name", "organization__slug", "created_by__email")


@admin.register(EnrichmentResult)
class EnrichmentResultAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "job", "organization", "status", "company", "finished_at")
    list_select_related = ("job", "organization", "company")
    list_filter = ("status",)
    search_fields = ("organization__slug", "company__name", "company__domain")
    show_full_result_count = False


@admin.register(FetchCacheEntry)
class FetchCacheEntryAdmin(admin.ModelAdmin):
    list_display = ("url", "status", "fetched_at", "expires_at")
    list_filter = ("status",)
    search_fields = ("url",)
    readonly_fields = ("key", "url", "final_url", "status", "headers", "fetched_at", "expires_at")
    exclude = ("body",)
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
