"""Probes and error pages. API paths get the JSON error shape, pages get HTML."""

from __future__ import annotations

import time

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from config.middleware import is_api_path
from config.tasks import queue_status


@never_cache
@require_GET
def healthz(request):
    """The process is alive (no dependencies checked)."""
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means not ready
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


@never_cache
@require_GET
def readyz(request):
    """Ready to serve: the database answers and a task worker was seen recently."""
    checks = {"database": _check_database()}
    checks["queue"] = (
        queue_status() if checks["database"]["ok"] else {"ok": False, "error": "database down"}
    )
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _error(request, status: int, code: str, message: str, template: str):
    if is_api_path(request.path):
        from config.api import error_body

        return JsonResponse(error_body(code, message), status=status)
    return render(request, template, {"message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "bad_request", "The request could not be understood.", "400.html")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You do not have access to this."
    return _error(request, 403, "permission_denied", message, "403.html")


def page_not_found(request, exception=None):
    return _error(request, 404, "not_found", "Nothing here. Check the address.", "404.html")


@csrf_exempt
def api_not_found(request, exception=None):
    """Unknown /api/v1/ paths, any method: a JSON 404. Exempt from CSRF like the API itself,
    or a POST without a CSRF cookie would get Django's HTML 403 instead."""
    return page_not_found(request, exception)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: the error shape under /api/, the 403 page elsewhere."""
    return _error(
        request,
        403,
        "csrf_failed",
        "The request has no valid CSRF token. Reload the page and try again.",
        "403.html",
    )


def server_error(request):
    return _error(
        request,
        500,
        "server_error",
        "Something went wrong on our side. It has been logged.",
        "500.html",
    )
