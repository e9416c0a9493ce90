"""Sign-up, personal tokens and the caller: `/api/v1/auth/...`."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.utils import has_verified_email
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.common import OrganizationBriefSerializer
from accounts.models import AccessToken, ApiKey, Membership, Role, User
from config.api import Conflict, StrictSerializer, error_response
from config.api_auth import LoginRateThrottle, SignupRateThrottle

logger = logging.getLogger(__name__)


class EmailUnverified(exceptions.PermissionDenied):
    default_detail = "Verify your email address first: follow the link in the email we sent you."
    default_code = "email_unverified"


# ---------------------------------------------------------------- serializers


class AccountSerializer(serializers.Serializer):
    """A user as seen from one organization (the one the request acts in)."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices, allow_null=True)
    organization = OrganizationBriefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()


class MembershipBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="organization.id")
    name = serializers.CharField(source="organization.name")
    slug = serializers.CharField(source="organization.slug")
    role = serializers.ChoiceField(choices=Role.choices)


class CredentialInfoSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["api_key", "access_token", "session"])
    prefix = serializers.CharField(allow_null=True)
    scopes = serializers.DictField(child=serializers.CharField(), allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class MeSerializer(AccountSerializer):
    is_staff = serializers.BooleanField()
    organizations = MembershipBriefSerializer(
        many=True, help_text="Every organization of the user."
    )
    credential = CredentialInfoSerializer(help_text="How this request authenticated.")


def account_data(user: User, membership: Membership | None) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.name,
        "role": membership.role if membership else None,
        "organization": membership.organization if membership else None,
        "created_at": user.date_joined,
    }


class RegisterSerializer(StrictSerializer):
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )
    organization_name = serializers.CharField(max_length=120)

    def validate_email(self, value: str) -> str:
        return value.strip().lower()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The similarity validator compares the password with the name and email.
        candidate = User(email=attrs["email"], name=attrs["name"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=254, help_text="The user's email address.")
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )
    organization = serializers.SlugField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text="Slug of the organization the token acts in. Optional when the user has one "
        "organization; otherwise the one they last worked in.",
    )
    # OAuth2 password-grant clients send these; only grant_type is checked.
    grant_type = serializers.ChoiceField(choices=["password"], required=False, allow_blank=True)
    scope = serializers.CharField(required=False, allow_blank=True, max_length=500)
    client_id = serializers.CharField(required=False, allow_blank=True, max_length=200)
    client_secret = serializers.CharField(
        required=False, allow_blank=True, max_length=200, write_only=True
    )


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    token_type = serializers.ChoiceField(choices=["bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the token expires.")
    expires_at = serializers.DateTimeField()
    organization = OrganizationBriefSerializer()
    role = serializers.ChoiceField(choices=Role.choices)


# ---------------------------------------------------------------- views


class RegisterView(APIView):
    """A new user who owns a new organization."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [SignupRateThrottle]

    @extend_schema(
        operation_id="auth_register",
        summary="Sign up",
        description="Create a user and an organization they own. The password must pass the "
        "server's password rules. Rate-limited per client IP.",
        request=RegisterSerializer,
        responses={201: AccountSerializer, 409: error_response("The email is already registered")},
        tags=["auth"],
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Another account may hold the address as a secondary email (allauth's address book).
        taken = User.objects.filter(email__iexact=data["email"]).exists() or (
            EmailAddress.objects.filter(email__iexact=data["email"]).exists()
        )
        if taken:
            raise Conflict("An account with this email already exists. Log in instead.")
        try:
            membership = services.register_user(
                email=data["email"],
                password=data["password"],
                name=data["name"],
                organization_name=data["organization_name"],
            )
        except IntegrityError:  # lost a race with another sign-up of the same email
            raise Conflict("An account with this email already exists. Log in instead.") from None
        self._send_verification(request, membership.user)
        body = AccountSerializer(account_data(membership.user, membership)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @staticmethod
    def _send_verification(request, user: User) -> None:
        """The same verification mail as the browser's sign-up (allauth's address book).
        The account exists by now: a mail failure is logged, not turned into a 500, and the
        user can ask for a new link from the browser."""
        try:
            address = EmailAddress.objects.add_email(
                request._request, user, user.email, confirm=True, signup=True
            )
        except Exception:
            logger.exception("Could not send the verification email to user %s", user.pk)
            address = EmailAddress.objects.filter(user=user, email=user.email).first()
        if address is not None and not address.primary:
            address.set_as_primary(conditional=True)


class TokenView(APIView):
    """POST exchanges a password for a personal token; DELETE revokes the token in use."""

    organization_required = False

    _method = ""

    def initialize_request(self, request, *args: Any, **kwargs: Any):
        # Authenticators are chosen by method, before DRF's Request exists.
        self._method = request.method
        return super().initialize_request(request, *args, **kwargs)

    def _is_login(self) -> bool:
        return self._method == "POST"

    def get_authenticators(self):
        # The login reads credentials from its body only: no session, hence no CSRF either.
        return [] if self._is_login() else super().get_authenticators()

    def get_permissions(self):
        return [AllowAny()] if self._is_login() else super().get_permissions()

    def get_throttles(self):
        return [LoginRateThrottle()] if self._is_login() else super().get_throttles()

    def get_authenticate_header(self, request) -> str:
        # Without it DRF would turn the 401 for wrong credentials into a 403.
        return 'Bearer realm="api"'

    @extend_schema(
        operation_id="auth_token_create",
        summary="Get a personal token",
        description="OAuth2-style password grant, JSON or form-encoded. The token acts as the "
        "user, with their role, in one organization, until it expires or is revoked. "
        "Rate-limited per client IP.",
        request={
            "application/json": TokenRequestSerializer,
            "application/x-www-form-urlencoded": TokenRequestSerializer,
        },
        responses={
            200: TokenResponseSerializer,
            401: error_response("Wrong email or password"),
            403: error_response("The email address is not verified yet (when required)"),
        },
        examples=[
            OpenApiExample(
                "Password grant",
                value={"grant_type": "password", "username": "ann@example.com", "password": "…"},
                request_only=True,
            )
        ],
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(
            request._request, username=data["username"].strip().lower(), password=data["password"]
        )
        if user is None:
            raise exceptions.AuthenticationFailed("The email or password is not correct.")
        # As for the browser's login: no way in before the address is verified, when required.
        if settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory" and not has_verified_email(user):
            raise EmailUnverified()
        membership = self._choose_membership(user, data.get("organization") or "")
        token, raw = services.issue_access_token(organization=membership.organization, user=user)
        body = {
            "access_token": raw,
            "token_type": "bearer",
            "expires_in": settings.API_TOKEN_TTL_HOURS * 3600,
            "expires_at": token.expires_at,
            "organization": membership.organization,
            "role": membership.role,
        }
        response = Response(TokenResponseSerializer(body).data)
        response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _choose_membership(user: User, slug: str) -> Membership:
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("organization")
            .order_by("organization__slug")
        )
        slugs = [m.organization.slug for m in memberships]
        if slug:
            for membership in memberships:
                if membership.organization.slug == slug:
                    return membership
            raise serializers.ValidationError(
                {
                    "organization": [
                        f"You are not a member of {slug!r}. Yours: {', '.join(slugs) or 'none'}."
                    ]
                }
            )
        if not memberships:
            raise serializers.ValidationError(
                {"organization": ["You are not a member of any organization."]}
            )
        if len(memberships) == 1:
            return memberships[0]
        for membership in memberships:
            if membership.organization_id == user.last_organization_id:
                return membership
        raise serializers.ValidationError(
            {
                "organization": [
                    f"You belong to several organizations; name one of: {', '.join(slugs)}."
                ]
            }
        )

    @extend_schema(
        operation_id="auth_token_revoke",
        summary="Revoke the token in use",
        description="Log out: the personal token that authenticated this request stops working.",
        request=None,
        responses={204: None, 400: error_response("The request did not use a personal token")},
        tags=["auth"],
    )
    def delete(self, request):
        if not isinstance(request.auth, AccessToken):
            raise serializers.ValidationError(
                "Only a personal token can be revoked here. Revoke API keys with "
                "DELETE /api/v1/api-keys/{id}/."
            )
        services.revoke_access_token(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The caller, in the organization the request acts in."""

    organization_required = False

    @extend_schema(
        operation_id="auth_me",
        summary="Who am I",
        description="The user behind the credential, the organization the request acts in with "
        "their role there, every organization they belong to, and the credential used.",
        responses={200: MeSerializer},
        tags=["auth"],
    )
    def get(self, request):
        user = request.user
        current = getattr(request, "membership", None)
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("organization")
            .order_by("organization__name")
        )
        credential = request.auth
        if isinstance(credential, ApiKey):
            info = {
                "type": "api_key",
                "prefix": credential.prefix,
                "scopes": credential.scopes,
                "expires_at": credential.expires_at,
            }
        elif isinstance(credential, AccessToken):
            info = {
                "type": "access_token",
                "prefix": credential.prefix,
                "scopes": None,
                "expires_at": credential.expires_at,
            }
        else:
            info = {"type": "session", "prefix": None, "scopes": None, "expires_at": None}
        body = account_data(user, current) | {
            "is_staff": user.is_staff,
            "organizations": memberships,
            "credential": info,
        }
        return Response(MeSerializer(body).data)
