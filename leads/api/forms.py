"""Lead-capture forms over the API: `/api/v1/forms/` (list, create, read, change, delete)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers

from accounts.models import Membership, User
from config.api import OrgScopedViewSet, StrictModelSerializer
from leads import capture
from leads.models import CaptureForm


class FormFieldSerializer(serializers.Serializer):
    name = serializers.CharField(
        help_text="email, first_name, last_name, name, company, title, phone, linkedin_url, "
        "location, message, or custom.<key> for a custom field."
    )
    label = serializers.CharField(required=False, allow_blank=True, max_length=100)
    required = serializers.BooleanField(required=False, default=False)
    type = serializers.CharField(read_only=True)


class MemberField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        organization = self.context["organization"]
        return User.objects.filter(
            pk__in=Membership.objects.for_org(organization).values("user_id")
        )


class CaptureFormSerializer(StrictModelSerializer):
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )
    owner = MemberField(required=False, allow_null=True)
    endpoint = serializers.SerializerMethodField()

    class Meta:
        model = CaptureForm
        fields = [
            "id",
            "name",
            "public_id",
            "endpoint",
            "fields",
            "success_message",
            "redirect_url",
            "source",
            "tags",
            "owner",
            "is_active",
            "submission_count",
            "created_at",
        ]
        read_only_fields = ["id", "public_id", "endpoint", "submission_count", "created_at"]

    def get_fields(self):
        # Declared here: a `fields` class attribute would hide Serializer.fields.
        fields = super().get_fields()
        fields["fields"] = FormFieldSerializer(many=True)
        return fields

    @extend_schema_field(serializers.URLField())
    def get_endpoint(self, obj: CaptureForm) -> str:
        return settings.SITE_URL + reverse("leads:form_submit", args=[obj.public_id])

    def validate_fields(self, value):
        try:
            return capture.clean_field_config(self.context["organization"], value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_tags(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(" ".join(t.split()) for t in value if t.strip()))


@extend_schema_view(
    list=extend_schema(summary="List capture forms"),
    retrieve=extend_schema(summary="Get a capture form"),
    create=extend_schema(
        summary="Create a capture form",
        description="Its `endpoint` accepts public POSTs (form-encoded, multipart or JSON) "
        "from any website.",
    ),
    partial_update=extend_schema(summary="Change a capture form"),
    update=extend_schema(summary="Replace a capture form"),
    destroy=extend_schema(summary="Delete a capture form", responses={204: None}),
)
class CaptureFormViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    queryset = CaptureForm.objects.all()
    serializer_class = CaptureFormSerializer
    scope_family = "leads"

    def scope_queryset(self, qs):
        return qs.order_by("name", "id")

    def perform_create(self, serializer) -> None:
        serializer.save(organization=self.request.org, created_by=self.request.user)
