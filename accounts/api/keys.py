"""The organization's API keys: `/api/v1/api-keys/` (owners and admins)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounts import services
from accounts.api.common import UserBriefSerializer
from accounts.models import Access, ApiKey, Role, Scope
from config.api import (
    NamedChoiceField,
    OrgScopedViewSet,
    StrictModelSerializer,
    StrictSerializer,
)


class ScopesSerializer(StrictSerializer):
    """`{"leads": "read", "campaigns": "write"}`: a family left out gets no access."""

    def get_fields(self):
        return {
            scope.value: NamedChoiceField(
                enum_name="Access",
                choices=Access.choices,
                required=False,
                help_text=str(scope.label),
            )
            for scope in Scope
        }


class ApiKeySerializer(serializers.ModelSerializer):
    scopes = ScopesSerializer(read_only=True)
    status = NamedChoiceField(
        enum_name="ApiKeyStatus", choices=["active", "expired", "revoked"], read_only=True
    )
    created_by = UserBriefSerializer(source="user", read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "status",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class ApiKeyCreateSerializer(StrictModelSerializer):
    scopes = ScopesSerializer()

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expires_at"]
        extra_kwargs = {"expires_at": {"required": False, "allow_null": True}}

    def validate_scopes(self, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise serializers.ValidationError("Grant at least one scope.")
        # A key may only hand out what it holds itself, or a narrow key could mint a wide one.
        caller = self.context["request"].auth
        if isinstance(caller, ApiKey):
            beyond = [
                f"{family}:{access}"
                for family, access in value.items()
                if not caller.allows(family, access == Access.WRITE)
            ]
            if beyond:
                raise serializers.ValidationError(
                    f"The API key making this request cannot grant {', '.join(sorted(beyond))}."
                )
        return value

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The expiry must be in the future.")
        return value


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The full key. Shown only in this response; store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List API keys",
        description="Every key of the organization, "
        "revoked and expired ones included. Owners and admins only.",
    ),
    retrieve=extend_schema(
        summary="Get an API key", description="Only the prefix of the key is ever shown again."
    ),
    create=extend_schema(
        summary="Create an API key",
        description="The key acts as you, within this organization, limited to its scopes. "
        "The full key is in `key`, in this response only.",
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
    ),
    destroy=extend_schema(
        summary="Revoke an API key",
        description="It stops working at once. Revoking a revoked key does nothing.",
        responses={204: None},
    ),
)
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    queryset = ApiKey.objects.all()
    serializer_class = ApiKeySerializer
    scope_family = "organization"
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def scope_queryset(self, qs):
        return qs.select_related("user")

    def get_serializer_class(self):
        return ApiKeyCreateSerializer if self.action == "create" else ApiKeySerializer

    def create(self, request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key, raw = services.create_api_key(
            organization=request.org,
            user=request.user,
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
        )
        key.key = raw
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args: Any, **kwargs: Any) -> Response:
        key = self.get_object()
        key.organization = request.org
        services.revoke_api_key(key=key, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
