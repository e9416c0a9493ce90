"""Staff admin for campaigns: senders (the SMTP password and DKIM key never shown),
campaigns with their steps, enrollments and the message log (read-only records).
Changelists fix their query shape (tests/test_admin_apps.py)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from campaigns.models import Campaign, Enrollment, Message, Sender, Step


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "organization", "daily_cap", "rate_per_minute", "smtp_host")
    list_select_related = ("organization",)
    search_fields = ("email", "organization__slug")
    exclude = ("smtp_password_encrypted", "dkim_private_key_encrypted")
    raw_id_fields = ("organization",)


class StepInline(admin.StackedInline):
    model = Step
    extra = 0
    fields = ("order", "delay_days", "delay_hours", "subject", "body", "variants")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "organization", "status", "sender", "created_at", "launched_at")
    list_select_related = ("organization", "sender")
    list_filter = ("status",)
    search_fields = ("name", "organization__slug")
    inlines = [StepInline]


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "organization", "campaign", "status", "current_step", "next_send_at")
    list_select_related = ("organization", "campaign")
    list_filter = ("status",)
    show_full_result_count = False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("subject", "to_email", "organization", "status", "attempts", "sent_at")
    list_select_related = ("organization",)
    list_filter = ("status",)
    search_fields = ("to_email", "message_id", "organization__slug")
    show_full_result_count = False
