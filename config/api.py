"""DRF foundations shared by every app's API: the one error shape, organization-scoped
viewsets, strict serializers, pagination and the schema. Authentication, permissions and
rate limits are in config.api_auth."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts import usage
from config.middleware import get_request_id

logger = logging.getLogger("prospector.api")


# ---------------------------------------------------------------- errors


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "validation_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def error_body(
    code: str, message: str, details: Any = None, request_id: str | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details if details is not None else {},
            "request_id": request_id or get_request_id(),
        }
    }


def _message_of(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message_of(detail[0])
    if isinstance(detail, dict) and detail:
        return _message_of(next(iter(detail.values())))
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response:
    """Turn every exception raised in an API view into the error shape, 500 included."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        # Raised while DRF reads a form body: a malformed request, not a server error.
        exc = exceptions.ParseError("The request has too many form fields or files.")
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request could not be accepted as sent.")
    elif isinstance(exc, usage.QuotaExceeded):
        return Response(
            error_body("quota_exceeded", str(exc), exc.details),
            status=status.HTTP_402_PAYMENT_REQUIRED,
        )
    else:
        # Imported here: the agents app loads models, and this module loads with settings.
        from agents.ai import BudgetExceeded
        from agents.services import AgentError
        from campaigns.services import CampaignError

        if isinstance(exc, CampaignError):
            # The campaign cannot do that in its status (launch with broken templates or
            # leads missing values, pause a draft, ...): details say which.
            return Response(
                error_body("conflict", str(exc), exc.details), status=status.HTTP_409_CONFLICT
            )
        if isinstance(exc, BudgetExceeded):
            return Response(
                error_body("budget_exceeded", str(exc), exc.details),
                status=status.HTTP_402_PAYMENT_REQUIRED,
            )
        if isinstance(exc, AgentError):
            # A request the agents' services refuse (no lead for an agent that needs
            # one, say): a validation error like any other.
            exc = exceptions.ValidationError({"non_field_errors": [str(exc)]})

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in API view", exc_info=exc)
        return Response(
            error_body("server_error", "Something went wrong on our side. It has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    assert isinstance(exc, exceptions.APIException)
    code = _CODES.get(type(exc)) or getattr(exc, "default_code", None) or "error"
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        first = _message_of(details)
        message = f"The request is not valid: {first}" if first else "The request is not valid."
    else:
        details = {}
        message = _message_of(exc.detail)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details = {"retry_after": int(exc.wait)}
            message = f"Too many requests. Retry in {int(exc.wait)} seconds."
        if isinstance(exc, exceptions.PermissionDenied) and getattr(exc, "scope", None):
            code = "insufficient_scope"
            details = {"required_scope": exc.scope}
    response.data = error_body(code, message, details)
    return response


# ---------------------------------------------------------------- views and serializers


class StrictSerializerMixin:
    """Reject fields the serializer does not know instead of silently ignoring them, and
    numbers where text is expected (DRF would store `{"name": 12}` as "12")."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            return super().to_internal_value(data)
        known = {name for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(set(data) - known)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        not_text = {
            name: [serializers.ErrorDetail("Not a valid string.", code="invalid")]
            for name, field in self.fields.items()
            if isinstance(field, serializers.CharField)
            and data.get(name) is not None
            and not isinstance(data[name], str)
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not_text and isinstance(exc.detail, dict):
                exc.detail.update(not_text)
            raise
        if not_text:
            raise serializers.ValidationError(not_text)
        return value


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    pass


class OrgScopedViewSet(viewsets.GenericViewSet):
    """Base for every tenant resource: the queryset is always `for_org(request.org)`.

    Narrow results with `scope_queryset(qs)`; overriding `get_queryset` is refused so
    scoping cannot be skipped by accident. `perform_create` stamps the organization.
    """

    scope_family: str = "organization"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must use scope_queryset(), not get_queryset().")

    def get_queryset(self):
        qs = self.queryset.model.objects.all()
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        return self.scope_queryset(qs.for_org(self.request.org))

    def scope_queryset(self, qs):
        return qs

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["organization"] = getattr(self.request, "org", None)
        return context

    def perform_create(self, serializer) -> None:
        serializer.save(organization=self.request.org)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()
    request_id = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_ERROR_RESPONSES = {
    "400": "Validation error or malformed request",
    "401": "Missing or invalid credentials",
    "403": "Role or API key scope does not allow this",
    "404": "Not found (or not in your organization)",
    "415": "Unsupported Content-Type (send JSON)",
    "429": "Rate limit exceeded; see Retry-After",
}


def error_response(description: str) -> OpenApiResponse:
    """The error shape, for `@extend_schema(responses={409: error_response("...")})`."""
    return OpenApiResponse(ErrorSerializer, description=description)


class AutoSchema(SpectacularAutoSchema):
    """Documents the shared error shape on every operation: 401 and 403 where credentials
    are checked, 400 where a body, filters or paging parameters are read, 415 where a body
    is read, 404 and 429 everywhere."""

    def get_auth(self):
        # Public endpoints (register, token) take no credentials at all.
        if not self.view.get_authenticators():
            return [{}]
        # The SECURITY setting repeats what the authenticators declare: list each once.
        unique: list[dict] = []
        for requirement in super().get_auth():
            if requirement not in unique:
                unique.append(requirement)
        return unique

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        has_body = self.method in ("POST", "PUT", "PATCH")
        public = not self.view.get_authenticators()
        for code, description in _ERROR_RESPONSES.items():
            if code in responses:
                continue
            if (
                code == "400"
                and not has_body
                and not self._get_filter_parameters()
                and not (self._is_list_view() and self._get_paginator())
            ):
                continue
            if code == "415" and not has_body:
                continue
            if code in ("401", "403") and public:
                continue
            responses[code] = self._get_response_for_code(error_response(description), code)
        return responses


# ---------------------------------------------------------------- schema extensions


class NamedChoiceField(serializers.ChoiceField):
    """A ChoiceField documented as its own enum component (`enum_name`), for choice sets
    that would otherwise collide by field name (several resources have a `status`)."""

    def __init__(self, *, enum_name: str, **kwargs: Any):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": [str(choice) for choice in self.target.choices]}


class KeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Either header works: `Authorization: Bearer <key or token>` or `X-API-Key: <key>`."""

    target_class = "config.api_auth.KeyAuthentication"
    name = ["bearer", "apiKey"]

    def get_security_requirement(self, auto_schema):
        return [{"bearer": []}, {"apiKey": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key (pk_live_...) or a personal token (pt_...).",
            },
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        ]


class CsrfSessionScheme(SessionScheme):
    """The browser's session cookie; unsafe methods also need the X-CSRFToken header, and
    X-Organization (a slug) picks the organization."""

    target_class = "config.api_auth.CsrfSessionAuthentication"
    priority = 0
