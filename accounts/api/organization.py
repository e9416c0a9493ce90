"""The active organization, its members and invitations: `/api/v1/organization/...`."""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services, usage
from accounts.api.common import UserBriefSerializer
from accounts.models import Invitation, Membership, Plan, Role
from config.api import (
    Conflict,
    NamedChoiceField,
    OrgScopedViewSet,
    StrictModelSerializer,
    StrictSerializer,
    error_response,
)

# ---------------------------------------------------------------- the organization


class PlanSerializer(serializers.ModelSerializer):
    limits = serializers.DictField(
        child=serializers.IntegerField(), help_text="Monthly quota per usage action."
    )

    class Meta:
        model = Plan
        fields = ["code", "name", "limits", "api_rate_limit"]
        read_only_fields = fields


class UsageLineSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True, help_text="Null: no limit on this plan.")


class UsageSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM (UTC).")
    actions = UsageLineSerializer(many=True)


class OrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    created_at = serializers.DateTimeField()
    default_country = serializers.CharField(
        help_text="ISO 3166-1 alpha-2 country of phone numbers given without a country code "
        "(empty: such numbers are kept as given)."
    )
    role = serializers.ChoiceField(choices=Role.choices, help_text="Your role here.")
    plan = PlanSerializer(allow_null=True)
    usage = UsageSerializer(help_text="This month's usage against the plan's limits.")


class OrganizationView(APIView):
    scope_family = "organization"

    @extend_schema(
        operation_id="organization_retrieve",
        summary="The active organization",
        description="The organization this request acts in (the API key's, the token's, or "
        "the session's `X-Organization`), with its plan and this month's usage.",
        responses={200: OrganizationSerializer},
        tags=["organization"],
    )
    def get(self, request):
        org = request.org
        body = {
            "id": org.pk,
            "name": org.name,
            "slug": org.slug,
            "created_at": org.created_at,
            "default_country": org.default_country,
            "role": request.membership.role,
            "plan": usage.plan_for(org),
            "usage": {
                "month": usage.month_start().strftime("%Y-%m"),
                "actions": usage.summary(org),
            },
        }
        return Response(OrganizationSerializer(body).data)


# ---------------------------------------------------------------- members


class MemberSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "joined_at"]
        read_only_fields = fields


class MemberUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


def _require_owner_for_owners(actor: Membership, *roles: str) -> None:
    # Admins run the team, but only an owner may make or unmake an owner.
    if Role.OWNER in roles and actor.role != Role.OWNER:
        raise exceptions.PermissionDenied("Only an owner can change an owner's membership.")


@extend_schema_view(
    list=extend_schema(summary="List members"),
    retrieve=extend_schema(summary="Get a member"),
    partial_update=extend_schema(
        summary="Change a member's role",
        description="Admins and owners; only an owner may grant or take away the owner role. "
        "The last owner cannot be demoted (409).",
        request=MemberUpdateSerializer,
        responses={200: MemberSerializer, 409: error_response("It would leave no owner")},
    ),
    destroy=extend_schema(
        summary="Remove a member, or leave",
        description="Admins and owners remove others; anyone may remove themselves (leave). "
        "The member's API keys and tokens here are revoked. The last owner cannot leave (409).",
        responses={204: None, 409: error_response("It would leave no owner")},
    ),
)
class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    """Members are addressed by membership id (`id` in the list), not user id."""

    queryset = Membership.objects.all()
    serializer_class = MemberSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    scope_family = "organization"

    @property
    def write_role(self) -> str:
        # Leaving is open to every role; who else may be removed is checked in destroy().
        return Role.VIEWER if self.action == "destroy" else Role.ADMIN

    def scope_queryset(self, qs):
        return qs.select_related("user").order_by("created_at", "id")

    def partial_update(self, request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        role = serializer.validated_data["role"]
        _require_owner_for_owners(request.membership, membership.role, role)
        membership.organization = request.org
        try:
            services.change_role(membership=membership, role=role, actor=request.user)
        except services.LastOwnerError as exc:
            raise Conflict(str(exc)) from None
        return Response(MemberSerializer(membership).data)

    def destroy(self, request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        if membership.user_id != request.user.pk:
            if not request.membership.has_role(Role.ADMIN):
                raise exceptions.PermissionDenied(
                    "Only admins and owners can remove other members."
                )
            _require_owner_for_owners(request.membership, membership.role)
        membership.organization = request.org
        try:
            services.remove_member(membership=membership, actor=request.user)
        except services.LastOwnerError as exc:
            raise Conflict(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- invitations


class InvitationSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        enum_name="InvitationStatus",
        choices=["pending", "accepted", "revoked", "expired"],
        read_only=True,
    )
    invited_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(StrictModelSerializer):
    class Meta:
        model = Invitation
        fields = ["email", "role"]
        extra_kwargs = {"role": {"required": False}}

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


class InvitationCreatedSerializer(InvitationSerializer):
    accept_url = serializers.URLField(
        read_only=True,
        help_text="The link mailed to the invitee. Shown only in this response.",
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "accept_url"]
        read_only_fields = fields


class InvitationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(s, s) for s in ("pending", "accepted", "revoked", "expired")],
        method="filter_status",
        label="Only invitations in this state.",
    )

    class Meta:
        model = Invitation
        fields = ["status"]

    def filter_status(self, qs, name: str, value: str):
        now = timezone.now()
        open_ = Q(accepted_at__isnull=True, revoked_at__isnull=True)
        return {
            "pending": qs.filter(open_, expires_at__gt=now),
            "accepted": qs.filter(accepted_at__isnull=False),
            "revoked": qs.filter(accepted_at__isnull=True, revoked_at__isnull=False),
            "expired": qs.filter(open_, expires_at__lte=now),
        }[value]


@extend_schema_view(
    list=extend_schema(summary="List invitations"),
    retrieve=extend_schema(summary="Get an invitation"),
    create=extend_schema(
        summary="Invite someone",
        description="Mails an invitation link (it replaces an open invitation to the same "
        "address). Only an owner may invite an owner. 409 when the person is already a member.",
        request=InvitationCreateSerializer,
        responses={201: InvitationCreatedSerializer, 409: error_response("Already a member")},
    ),
    destroy=extend_schema(
        summary="Revoke an invitation",
        description="The link stops working. 409 when it was already accepted.",
        responses={204: None, 409: error_response("Already accepted")},
    ),
)
class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    scope_family = "organization"
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def scope_queryset(self, qs):
        return qs.select_related("invited_by")

    def get_serializer_class(self):
        return InvitationCreateSerializer if self.action == "create" else InvitationSerializer

    def create(self, request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        role = serializer.validated_data.get("role", Role.MEMBER)
        _require_owner_for_owners(request.membership, role)
        if Membership.objects.for_org(request.org).filter(user__email__iexact=email).exists():
            raise Conflict(f"{email} is already a member of this organization.")
        invitation = services.invite_member(
            organization=request.org,
            email=email,
            role=role,
            actor=request.user,
            accept_url_base=settings.SITE_URL,
        )
        return Response(
            InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED
        )

    def destroy(self, request, *args: Any, **kwargs: Any) -> Response:
        invitation = self.get_object()
        if invitation.accepted_at:
            raise Conflict("This invitation was already accepted; remove the member instead.")
        if invitation.revoked_at is None:
            invitation.organization = request.org
            services.revoke_invitation(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
