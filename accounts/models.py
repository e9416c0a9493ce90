"""Users, organizations and everything an organization owns at the platform level."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address; belongs to organizations via Membership."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # The organization the user last worked in: where login lands, and the API's default.
    last_organization = models.ForeignKey(
        "Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split(" ")[0]

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]


class Plan(models.Model):
    """What an organization may spend per month. `limits` maps a usage action to a quota."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    limits = models.JSONField(default=dict, blank=True)
    api_rate_limit = models.CharField(
        max_length=20,
        blank=True,
        help_text='Requests per key, like "600/m". Empty: the default.',
        # A malformed rate would make every API request of the plan's organizations fail.
        validators=[
            RegexValidator(
                r"^[0-9]+/[0-9]*[smhd]$", "Use count/period, like 600/m, 10/h or 100/15m."
            )
        ],
    )
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_plan"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def limit_for(self, action: str) -> int | None:
        value = self.limits.get(action)
        return None if value is None else int(value)


def default_plan_id() -> int | None:
    plan = Plan.objects.filter(is_default=True).only("id").first()
    return plan.id if plan else None


class Organization(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT)
    # ISO 3166-1 alpha-2 ("DE"): the country of phone numbers written without a country code
    # ("030 1234567"), so they still become E.164. Empty: such numbers are kept as typed.
    default_country = models.CharField(max_length=2, blank=True)
    # Shown in the footer of every campaign email (CAN-SPAM and similar laws ask for it).
    postal_address = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrgQuerySet(models.QuerySet):
    def for_org(self, org: Organization | int):
        return self.filter(organization=org)


class OrgScoped(models.Model):
    """Base for every tenant-owned model: a non-null, indexed organization and `for_org()`."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    objects = OrgQuerySet.as_manager()

    class Meta:
        abstract = True


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


class MembershipQuerySet(OrgQuerySet):
    def owners(self):
        return self.filter(role=Role.OWNER)


class Membership(OrgScoped):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    def has_role(self, minimum: str) -> bool:
        return role_at_least(self.role, minimum)

    @property
    def can_write(self) -> bool:
        return self.has_role(Role.MEMBER)

    @property
    def can_manage(self) -> bool:
        return self.has_role(Role.ADMIN)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class InvitationQuerySet(OrgQuerySet):
    def pending(self):
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(OrgScoped):
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization_id}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @classmethod
    def default_expiry(cls):
        return timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)


class Scope(models.TextChoices):
    """Resource families an API key may touch; each is granted read or read-write."""

    LEADS = "leads", "Leads and companies"
    ENRICHMENT = "enrichment", "Enrichment"
    AGENTS = "agents", "AI agents"
    CAMPAIGNS = "campaigns", "Campaigns"
    ORGANIZATION = "organization", "Organization administration"


class Access(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class CredentialQuerySet(OrgQuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class Credential(OrgScoped):
    """A secret that authenticates API requests as its user within its organization.

    Only the SHA-256 of the secret is stored, with a short visible prefix for recognition.
    """

    PREFIX = ""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=24)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def generate(cls) -> tuple[str, str, str]:
        """A new secret: (raw, visible prefix, hash). The raw value is shown once."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        return raw, raw[: len(cls.PREFIX) + 6], hash_secret(raw)

    @property
    def is_usable(self) -> bool:
        if self.revoked_at:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    def touch(self) -> None:
        """Record use, at most once a minute per credential to keep writes off the hot path."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < timedelta(minutes=1):
            return
        type(self).objects.filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now


class ApiKey(Credential):
    PREFIX = "pk_live_"

    name = models.CharField(max_length=100)
    # {"leads": "write", "campaigns": "read"}: a family absent is no access.
    scopes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, family: str, write: bool) -> bool:
        granted = self.scopes.get(family)
        if granted is None:
            return False
        return granted == Access.WRITE or not write

    @property
    def scope_labels(self) -> list[str]:
        return [f"{family}:{access}" for family, access in sorted(self.scopes.items())]


class AccessToken(Credential):
    """A personal token from `POST /api/v1/auth/token`: the user's full role, expiring."""

    PREFIX = "pt_"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Token {self.prefix}… for {self.user_id}"

    def allows(self, family: str, write: bool) -> bool:
        return True


class UsageEvent(OrgScoped):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="usage_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60)
    quantity = models.PositiveIntegerField(default=1)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "action", "created_at"])]

    def __str__(self) -> str:
        return f"{self.action} x{self.quantity}"


class Event(OrgScoped):
    """Something that happened in an organization: its audit log and the webhooks' outbox."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=80)
    payload = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the log still says who after the user is deleted ("system" for tasks).
    actor_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "type", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.type

    @property
    def webhook_id(self) -> str:
        return f"evt_{self.pk}"


class WebhookEndpointQuerySet(OrgQuerySet):
    def active(self):
        return self.filter(is_active=True)


class WebhookEndpoint(OrgScoped):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Event types to deliver; ["*"] means every type.
    event_types = models.JSONField(default=list)
    # Standard Webhooks secret: "whsec_" + base64 of 24 random bytes.
    secret = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class DeliveryQuerySet(OrgQuerySet):
    def due(self, now=None):
        return self.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now or timezone.now()
        )

    def finished_before(self, cutoff):
        """Deliveries that reached an outcome and were created before `cutoff` (for pruning)."""
        return self.filter(
            status__in=[WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED],
            created_at__lt=cutoff,
        )


class WebhookDelivery(OrgScoped):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["organization", "endpoint", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.status})"

    def is_due(self, now=None) -> bool:
        return (
            self.status == self.Status.PENDING
            and self.next_attempt_at is not None
            and self.next_attempt_at <= (now or timezone.now())
        )
