"""Request id, the structured request log line, and body limits for the API."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings
from django.http import JsonResponse

logger = logging.getLogger("prospector.request")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Paths that carry a secret (invitation links, password-reset and email-confirmation keys):
# whoever reads the logs must not be able to use them.
_SECRET_PATHS = (
    re.compile(r"^(/invitations/)[^/]+"),
    re.compile(r"^(/accounts/password/reset/key/)(?!done/)[^/]+"),
    re.compile(r"^(/accounts/confirm-email/)[^/]+"),
)


def get_request_id() -> str:
    """The current request's id ('' outside a request)."""
    return _request_id.get()


def loggable_path(path: str) -> str:
    """`path` with any secret it carries replaced by `[redacted]`."""
    for pattern in _SECRET_PATHS:
        path = pattern.sub(r"\1[redacted]", path)
    return path


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class RequestIdMiddleware:
    """Tag each request with an id (the caller's `X-Request-ID` when sane, else a new one),
    echo it in the response, refuse oversized API bodies with 413 and NUL characters in the
    address with 400, and log one JSON line (secret tokens in paths redacted)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = (
                self._too_large(request)
                or self._null_character(request)
                or self.get_response(request)
            )
            response["X-Request-ID"] = request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            _request_id.reset(token)

    def _too_large(self, request):
        # DRF parsers read the raw stream, bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
        if not is_api_path(request.path) or request.content_type == "multipart/form-data":
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or length <= limit:
            return None
        from config.api import error_body

        return JsonResponse(
            error_body(
                "payload_too_large",
                f"The request body is {length:,} bytes; the limit is {limit:,}.",
                {"limit": limit},
                request.request_id,
            ),
            status=413,
        )

    def _null_character(self, request):
        """400 for a NUL in the path or query string: never meaningful, and PostgreSQL refuses
        it in any query, so a view filtering on a raw parameter would answer 500."""
        if "\x00" not in request.path and "%00" not in request.META.get("QUERY_STRING", ""):
            return None
        if "\x00" not in request.path and not any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return None
        message = "The address contains a NUL character (%00)."
        if is_api_path(request.path):
            from config.api import error_body

            return JsonResponse(
                error_body("malformed_request", message, {}, request.request_id), status=400
            )
        from config.views import bad_request

        return bad_request(request)

    def _log(self, request, status: int, started: float) -> None:
        user = getattr(request, "user", None)
        org = getattr(request, "org", None)
        path = loggable_path(request.path)
        logger.info(
            "%s %s %s",
            request.method,
            path,
            status,
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": path,
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "user": user.pk if user is not None and user.is_authenticated else None,
                "organization": org.slug if org is not None else None,
            },
        )
