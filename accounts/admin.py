"""Staff admin for accounts: users, organizations, members, credentials, plans, usage, the
audit log and webhooks.

Every changelist fixes its query shape with `list_select_related` and annotations (pinned in
tests/accounts/test_admin.py). Secrets never appear: API keys and tokens show their prefix
only, webhook signing secrets are left out. Records of what happened (usage, events,
deliveries) are read-only.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from accounts import services
from accounts.models import (
    AccessToken,
    ApiKey,
    Event,
    Invitation,
    Membership,
    Organization,
    Plan,
    UsageEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records of what happened: staff may look, never edit or backdate."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# ---------------------------------------------------------------- users and organizations


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email address already exists.")
        return email


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A user with this email address already exists.")
        return email


class UserMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ("organization", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("organization",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = (
        "email",
        "name",
        "is_staff",
        "is_active",
        "has_mfa",
        "organization_count",
        "last_organization",
        "date_joined",
        "last_login",
    )
    list_select_related = ("last_organization",)
    list_filter = ("is_staff", "is_superuser", "is_active", "date_joined")
    search_fields = ("email", "name")
    ordering = ("email",)
    date_hierarchy = "date_joined"
    readonly_fields = ("last_login", "date_joined")
    autocomplete_fields = ("last_organization",)
    fieldsets = (
        (None, {"fields": ("email", "name", "password")}),
        ("Organizations", {"fields": ("last_organization",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )
    inlines = (UserMembershipInline,)

    def get_inlines(self, request, obj):
        # The add page only asks for email and password, as Django's own user admin does.
        return self.inlines if obj is not None else ()

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                membership_count=Count("memberships", distinct=True),
                mfa_enabled=Exists(Authenticator.objects.filter(user=OuterRef("pk"))),
            )
        )

    @admin.display(description="Organizations", ordering="membership_count")
    def organization_count(self, user: User) -> int:
        return user.membership_count

    @admin.display(description="2FA", boolean=True, ordering="mfa_enabled")
    def has_mfa(self, user: User) -> bool:
        return user.mfa_enabled


class OrganizationMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "organization"
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "plan", "member_count", "created_at")
    list_select_related = ("plan",)
    list_filter = ("plan", "created_at")
    search_fields = ("name", "slug")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"
    inlines = (OrganizationMembershipInline,)

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(member_total=Count("memberships", distinct=True))
        )

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, org: Organization) -> int:
        return org.member_total


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_select_related = ("user", "organization")
    list_filter = ("role", "created_at")
    search_fields = ("user__email", "user__name", "organization__name", "organization__slug")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("created_at",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "organization",
        "role",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
    )
    list_select_related = ("organization", "invited_by")
    list_filter = ("role", "created_at")
    search_fields = ("email", "organization__name", "organization__slug")
    # The token is mailed once and stored hashed: nothing here can recreate the link.
    exclude = ("token_hash",)
    readonly_fields = (
        "organization",
        "email",
        "invited_by",
        "created_at",
        "accepted_at",
        "accepted_by",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # invitations go out from the organization's members page (it mails the link)

    @admin.display(description="Status")
    def status(self, invitation: Invitation) -> str:
        return invitation.status


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "is_default",
        "api_rate_limit",
        "organization_count",
        "created_at",
    )
    list_filter = ("is_default",)
    search_fields = ("name", "code")
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(org_total=Count("organization", distinct=True))
        )

    @admin.display(description="Organizations", ordering="org_total")
    def organization_count(self, plan: Plan) -> int:
        return plan.org_total


# ---------------------------------------------------------------- API credentials


class CredentialAdmin(admin.ModelAdmin):
    """Keys and tokens are minted only by the app (the raw value is shown once to its owner);
    staff can see them by prefix and revoke them."""

    list_select_related = ("organization", "user")
    list_filter = ("created_at", "expires_at", "last_used_at")
    search_fields = ("prefix", "user__email", "organization__name", "organization__slug")
    # key_hash is left out entirely: neither shown nor editable.
    readonly_fields = (
        "organization",
        "user",
        "prefix",
        "status",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Status")
    def status(self, credential) -> str:
        return credential.status


@admin.register(ApiKey)
class ApiKeyAdmin(CredentialAdmin):
    list_display = (
        "name",
        "prefix",
        "organization",
        "user",
        "scope_list",
        "status",
        "last_used_at",
        "expires_at",
        "created_at",
    )
    search_fields = ("name", *CredentialAdmin.search_fields)
    # Staff may rename a key or shorten its life; scopes stay as the organization set them.
    readonly_fields = ("scopes", *CredentialAdmin.readonly_fields)
    fields = (
        "name",
        "organization",
        "user",
        "prefix",
        "scopes",
        "status",
        "expires_at",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    @admin.display(description="Scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scope_labels) or "none"

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True).select_related("organization"))
        for key in keys:
            services.revoke_api_key(key=key, actor=request.user)
        self.message_user(request, f"Revoked {len(keys)} API key(s).", messages.SUCCESS)


@admin.register(AccessToken)
class AccessTokenAdmin(CredentialAdmin):
    list_display = (
        "prefix",
        "organization",
        "user",
        "status",
        "last_used_at",
        "expires_at",
        "created_at",
    )
    fields = (
        "organization",
        "user",
        "prefix",
        "status",
        "expires_at",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


# ---------------------------------------------------------------- usage, audit log, webhooks


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization", "action", "quantity", "user")
    list_select_related = ("organization", "user")
    list_filter = ("action", "created_at")
    search_fields = ("organization__name", "organization__slug", "action")
    date_hierarchy = "created_at"
    # Metering tables grow large: skip the unfiltered COUNT(*) on every page.
    show_full_result_count = False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "type", "organization", "actor_label")
    list_select_related = ("organization",)
    list_filter = ("type", "created_at")
    search_fields = ("organization__name", "organization__slug", "type", "actor_label")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = (
        "url",
        "organization",
        "is_active",
        "consecutive_failures",
        "disabled_at",
        "created_at",
    )
    list_select_related = ("organization",)
    list_filter = ("is_active", "created_at")
    search_fields = ("url", "description", "organization__name", "organization__slug")
    # The signing secret stays with the organization's settings page.
    fields = (
        "organization",
        "url",
        "description",
        "event_types",
        "is_active",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
    )
    readonly_fields = (
        "organization",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "event_type",
        "endpoint",
        "organization",
        "status",
        "attempts",
        "response_status",
        "is_test",
    )
    list_select_related = ("event", "endpoint", "organization")
    list_filter = ("status", "is_test", "created_at")
    search_fields = ("endpoint__url", "event__type", "organization__name", "organization__slug")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type
