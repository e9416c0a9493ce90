"""Campaigns and sequences: senders, campaigns with their steps, enrollments of leads, and
one Message per step sent (the message log). Suppression lives in leads (leads.Suppression):
one list per organization, checked at every door."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import OrgQuerySet, OrgScoped


class SmtpSecurity(models.TextChoices):
    STARTTLS = "starttls", "STARTTLS"
    SSL = "ssl", "SSL/TLS"
    NONE = "none", "None"


class Sender(OrgScoped):
    """A from-identity: name, address, reply-to, signature; its own SMTP server (password
    encrypted at rest) or the install's default; how much it may send."""

    name = models.CharField(max_length=120)
    email = models.EmailField(max_length=254)
    reply_to = models.EmailField(max_length=254, blank=True)
    signature = models.TextField(blank=True)
    # Empty host: the install's default SMTP (EMAIL_URL / EMAIL_HOST).
    smtp_host = models.CharField(max_length=253, blank=True)
    smtp_port = models.PositiveIntegerField(null=True, blank=True)
    smtp_username = models.CharField(max_length=254, blank=True)
    smtp_password_encrypted = models.TextField(blank=True)
    smtp_security = models.CharField(
        max_length=10, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS
    )
    daily_cap = models.PositiveIntegerField(default=200)
    rate_per_minute = models.PositiveIntegerField(default=20)
    # A new sender's cap grows over its first weeks (see campaigns.sending.effective_cap).
    ramp_up = models.BooleanField(default=False)
    dkim_selector = models.CharField(max_length=63, blank=True)
    dkim_private_key_encrypted = models.TextField(blank=True)
    # The last SPF/DKIM/DMARC lookup: {"checked_at", "spf": {...}, "dkim": {...}, "dmarc": {...}}
    dns_report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower()


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


def all_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class Campaign(OrgScoped):
    name = models.CharField(max_length=200)
    sender = models.ForeignKey(Sender, on_delete=models.PROTECT, related_name="campaigns")
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    # Sending window: days of the week (0 = Monday), hours, in `time_zone` (or, with
    # `lead_timezone`, each lead's own zone when known).
    window_days = models.JSONField(default=all_weekdays)
    window_start = models.TimeField(default=time(9, 0))
    window_end = models.TimeField(default=time(17, 0))
    time_zone = models.CharField(max_length=64, default="UTC")
    lead_timezone = models.BooleanField(default=False)
    start_at = models.DateTimeField(null=True, blank=True)
    track_opens = models.BooleanField(default=False)
    track_clicks = models.BooleanField(default=False)
    stop_on_reply = models.BooleanField(default=True)
    # A reply from anyone at the company pauses its other leads' enrollments here.
    stop_company_on_reply = models.BooleanField(default=False)
    paused_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Step(OrgScoped):
    """One email of the sequence: sent `delay_days`/`delay_hours` after the previous one
    (after enrollment for the first). `variants` are A/B alternatives:
    [{"key": "B", "subject": "...", "body": "...", "weight": 50}]; the step's own subject
    and body are variant "A" with the remaining weight."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    delay_days = models.PositiveIntegerField(default=0)
    delay_hours = models.PositiveIntegerField(default=0)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    variants = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["campaign", "order"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "order"], name="step_order_unique")
        ]

    def __str__(self) -> str:
        return f"Step {self.order} of {self.campaign_id}"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    REPLIED = "replied", "Replied"
    BOUNCED = "bounced", "Bounced"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    STOPPED = "stopped", "Stopped"
    FAILED = "failed", "Failed"


class EnrollmentQuerySet(OrgQuerySet):
    def active(self):
        return self.filter(status=EnrollmentStatus.ACTIVE)


class Enrollment(OrgScoped):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(
        max_length=12, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    # The index (0-based, by order) of the next step to send.
    current_step = models.PositiveSmallIntegerField(default=0)
    next_send_at = models.DateTimeField(null=True, blank=True)
    stopped_reason = models.CharField(max_length=300, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "lead"], name="enrollment_unique")
        ]
        indexes = [
            models.Index(
                fields=["next_send_at"],
                condition=Q(status="active"),
                name="enrollment_due",
            ),
            models.Index(fields=["organization", "lead"], name="enrollment_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.campaign_id}"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"


class MessageQuerySet(OrgQuerySet):
    pass


class Message(OrgScoped):
    """One email: a step sent to an enrolled lead, or a one-off (an agent's draft). Its row
    exists before the SMTP conversation and is marked at once after it, so a worker killed
    mid-send loses nothing and repeats at most the one message it was sending."""

    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # Kept when the lead is deleted (an import reverted): the log stays whole and the
    # message's unsubscribe link still works. Erasing a lead deletes its messages.
    lead = models.ForeignKey(
        "leads.Lead", null=True, on_delete=models.SET_NULL, related_name="messages"
    )
    sender = models.ForeignKey(Sender, on_delete=models.PROTECT, related_name="messages")
    variant = models.CharField(max_length=8, blank=True)
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # RFC 5322 Message-ID, without the angle brackets.
    message_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(
        max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    smtp_response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    clicked_at = models.DateTimeField(null=True, blank=True)
    click_count = models.PositiveIntegerField(default=0)
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="message_due",
            ),
            models.Index(fields=["organization", "campaign", "status"], name="message_campaign"),
            models.Index(fields=["organization", "lead", "-created_at"], name="message_lead"),
            models.Index(fields=["sender", "sent_at"], name="message_sender_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.to_email}"
