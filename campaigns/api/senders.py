"""Senders over the API: `senders/` (CRUD). The SMTP password is write-only, stored encrypted
(accounts.crypto); responses only say `smtp.password_set`."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from django.db.models import ProtectedError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.fields import empty

from accounts import crypto
from campaigns.models import Campaign, Sender, SmtpSecurity
from config.api import (
    Conflict,
    NamedChoiceField,
    OrgScopedViewSet,
    StrictModelSerializer,
    StrictSerializer,
    error_response,
)

TAGS = ["campaigns"]
DEFAULT_PORTS = {SmtpSecurity.STARTTLS: 587, SmtpSecurity.SSL: 465, SmtpSecurity.NONE: 25}
NO_SMTP = {"smtp_host": "", "smtp_port": None, "smtp_username": "", "smtp_password": ""}
HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$", re.I)


class SmtpSerializer(StrictSerializer):
    """A sender's own SMTP server; null (or an empty host) sends through the install's."""

    host = serializers.CharField(
        source="smtp_host",
        max_length=253,
        allow_blank=True,
        required=False,
        help_text="Empty: the install's own mail server.",
    )
    port = serializers.IntegerField(
        source="smtp_port",
        min_value=1,
        max_value=65535,
        required=False,
        allow_null=True,
        help_text="Default: 587 for starttls, 465 for ssl, 25 for none.",
    )
    username = serializers.CharField(
        source="smtp_username", max_length=254, allow_blank=True, required=False
    )
    password = serializers.CharField(
        source="smtp_password",
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1024,
        trim_whitespace=False,
        help_text="Write-only, stored encrypted. Leave it out to keep the current one.",
    )
    security = NamedChoiceField(
        source="smtp_security",
        enum_name="SmtpSecurity",
        choices=SmtpSecurity.choices,
        required=False,
    )
    password_set = serializers.SerializerMethodField()

    def get_password_set(self, sender: Sender) -> bool:
        return bool(sender.smtp_password_encrypted)

    def run_validation(self, data=empty):
        if data is None:
            return dict(NO_SMTP)
        return super().run_validation(data)

    def validate_host(self, value: str) -> str:
        value = value.strip().lower()
        if not value:
            return value
        try:
            ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            if not HOSTNAME.match(value):
                raise serializers.ValidationError("Give a host name or an IP address.") from None
        return value


class SenderSerializer(StrictModelSerializer):
    smtp = SmtpSerializer(
        source="*",
        required=False,
        allow_null=True,
        help_text="The sender's SMTP server; null for the install's own.",
    )

    class Meta:
        model = Sender
        fields = [
            "id",
            "name",
            "email",
            "reply_to",
            "signature",
            "daily_cap",
            "rate_per_minute",
            "ramp_up",
            "smtp",
            "dns_report",
            "created_at",
        ]
        read_only_fields = ["id", "dns_report", "created_at"]
        extra_kwargs = {
            "daily_cap": {"min_value": 1, "max_value": 1_000_000},
            "rate_per_minute": {"min_value": 1, "max_value": 10_000},
            "signature": {"max_length": 5000},
            "ramp_up": {"help_text": "Grow the daily cap over the sender's first weeks."},
            "dns_report": {"help_text": "The last SPF, DKIM and DMARC lookup of the domain."},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        sender = self.instance

        def current(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(sender, name, None)

        if not current("smtp_host"):
            if attrs.get("smtp_username") or attrs.get("smtp_password"):
                raise serializers.ValidationError(
                    {"smtp": {"host": ["Give the SMTP host these credentials are for."]}}
                )
            attrs.update(NO_SMTP)
        elif current("smtp_port") is None:
            security = current("smtp_security") or SmtpSecurity.STARTTLS
            attrs["smtp_port"] = DEFAULT_PORTS[SmtpSecurity(security)]
        return attrs

    def _encrypted(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "smtp_password" in attrs:
            password = attrs.pop("smtp_password")
            attrs["smtp_password_encrypted"] = crypto.encrypt(password) if password else ""
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Sender:
        return Sender.objects.create(**self._encrypted(validated_data))

    def update(self, instance: Sender, validated_data: dict[str, Any]) -> Sender:
        # Only what was given: a domain check may be writing dns_report meanwhile.
        changes = self._encrypted(validated_data)
        for name, value in changes.items():
            setattr(instance, name, value)
        instance.save(update_fields=list(changes))
        return instance


@extend_schema(tags=TAGS)
@extend_schema_view(
    list=extend_schema(summary="List senders", description="By name."),
    retrieve=extend_schema(summary="Get a sender"),
    create=extend_schema(
        summary="Create a sender",
        description="Without `smtp` (or with an empty host) it sends through the install's "
        "own mail server. The password is stored encrypted and never shown again.",
    ),
    update=extend_schema(summary="Replace a sender's fields"),
    partial_update=extend_schema(
        summary="Change a sender",
        description="Only the fields given; inside `smtp` too (leave `password` out to keep "
        'it, `""` to remove it). `"smtp": null` switches to the install\'s mail server.',
    ),
    destroy=extend_schema(
        summary="Delete a sender",
        responses={204: None, 409: error_response("A campaign or a sent message uses it")},
    ),
)
class SenderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    queryset = Sender.objects.all()
    serializer_class = SenderSerializer
    scope_family = "campaigns"
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def perform_create(self, serializer: SenderSerializer) -> None:
        # CreateModelMixin's own perform_create comes first in the MRO.
        serializer.save(organization=self.request.org)

    def perform_destroy(self, instance: Sender) -> None:
        if Campaign.objects.for_org(self.request.org).filter(sender=instance).exists():
            raise Conflict("A campaign uses this sender: change the campaign's sender first.")
        try:
            instance.delete()
        except ProtectedError:
            raise Conflict("Messages were sent from this sender: it stays in the log.") from None
