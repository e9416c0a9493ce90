"""Reading settings from the environment, strictly.

A malformed value stops start-up with a message naming the variable: a typo in production
must not quietly fall back to a default.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    """A string, with `NAME_FILE` (a path whose contents are the value) for secrets.

    Set but empty counts as unset, as for the other types: `NAME=` in an env file means
    "the default", never an empty sender address or rate.
    """
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path!r}: {exc}") from exc
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number.")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value:g} must be at least {minimum:g}.")
    return value


# django-ratelimit's rates: "count/period", the period an optional multiplier and s, m, h or d.
RATE_RE = re.compile(r"^[0-9]+/[0-9]*[smhd]$")


def env_rate(name: str, default: str) -> str:
    """A rate limit like "600/m" or "10/5m"; anything else would fail every limited request."""
    value = env_str(name, default)
    if not RATE_RE.match(value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate: use count/period, like 600/m, 10/h or 100/15m."
        )
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name, default).strip().lower() or default
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name}={value!r} must be one of: {', '.join(sorted(choices))}."
        )
    return value


def mailer_from_env(base_dir: Path, debug: bool) -> dict:
    """The default mailer (Django 6.1 `MAILERS["default"]`) from `EMAIL_URL` or `EMAIL_*`.

    `EMAIL_URL` forms: `smtp://user:pass@host:587?tls=1`, `smtps://...` (implicit TLS),
    `console:`, `file:///path/to/dir`, `locmem:`. Without either, development writes mail
    to the console and production to files under `var/mail` (never silently dropped).
    """
    from urllib.parse import parse_qs, unquote, urlsplit

    url = env_str("EMAIL_URL")
    host = env_str("EMAIL_HOST")
    timeout = env_int("EMAIL_TIMEOUT", 20, minimum=1)
    if url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "console":
            return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
        if scheme == "locmem":
            return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
        if scheme == "file":
            return {
                "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OPTIONS": {"file_path": unquote(parts.path) or str(base_dir / "var" / "mail")},
            }
        if scheme in {"smtp", "smtps", "submission"}:
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            use_ssl = scheme == "smtps" or query.get("ssl", "").lower() in _TRUE
            use_tls = not use_ssl and (
                scheme == "submission" or query.get("tls", "").lower() in _TRUE
            )
            try:
                port = parts.port or (465 if use_ssl else 587 if use_tls else 25)
            except ValueError:
                raise ImproperlyConfigured("EMAIL_URL has an invalid port.") from None
            return {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {
                    "host": parts.hostname or "localhost",
                    "port": port,
                    "username": unquote(parts.username or ""),
                    "password": unquote(parts.password or ""),
                    "use_tls": use_tls,
                    "use_ssl": use_ssl,
                    "timeout": timeout,
                },
            }
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {scheme!r} is not supported: use smtp, smtps, console, file or locmem."
        )
    if host:
        use_ssl = env_bool("EMAIL_USE_SSL", False)
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": host,
                "port": env_int("EMAIL_PORT", 465 if use_ssl else 587, minimum=1),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", not use_ssl),
                "use_ssl": use_ssl,
                "timeout": timeout,
            },
        }
    if debug:
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    return {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(base_dir / "var" / "mail")},
    }


def require_secret_key() -> None:
    """Stop a serving process (web or worker) that has no SECRET_KEY, with a clear message."""
    from django.conf import settings

    if not getattr(settings, "_wrapped", None) or not settings._wrapped.SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY (or SECRET_KEY_FILE), "
            "or DEBUG=1 for local development."
        )
