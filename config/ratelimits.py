"""Per-IP rate limits on the browser's login and signup forms (django-ratelimit)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import get_usage


def _limited(group: str, setting: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            usage = get_usage(
                request,
                group=group,
                key="ip",
                rate=lambda g, r: getattr(settings, setting),
                method="POST",
                increment=True,
            )
            if usage and usage["should_limit"]:
                retry_after = max(usage["time_left"], 1)
                response = render(request, "429.html", {"retry_after": retry_after}, status=429)
                response["Retry-After"] = str(retry_after)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


login_rate_limited = _limited("browser-login", "LOGIN_RATE_LIMIT")
signup_rate_limited = _limited("browser-signup", "SIGNUP_RATE_LIMIT")
