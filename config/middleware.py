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


def get_request_id() -> str:
    """The current request's id ('' outside a request)."""
    return _request_id.get()


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class RequestIdMiddleware:
    """Tag each request with an id (the caller's `X-Request-ID` when sane, else a new one),
    echo it in the response, refuse oversized API bodies with 413, and log one JSON line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self._too_large(request) or self.get_response(request)
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

    def _log(self, request, status: int, started: float) -> None:
        user = getattr(request, "user", None)
        org = getattr(request, "org", None)
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "user": user.pk if user is not None and user.is_authenticated else None,
                "organization": org.slug if org is not None else None,
            },
        )
