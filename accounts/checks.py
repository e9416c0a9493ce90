"""System checks of the accounts app."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security)
def encryption_keys_valid(app_configs, **kwargs):
    """FIELD_ENCRYPTION_KEYS, when set, must be Fernet keys."""
    from accounts import crypto

    if not settings.FIELD_ENCRYPTION_KEYS:
        return []
    try:
        crypto.fernet()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="accounts.E001")]
    return []


@register(Tags.security, deploy=True)
def encryption_keys_set(app_configs, **kwargs):
    """In production, secrets at rest have keys of their own."""
    if settings.FIELD_ENCRYPTION_KEYS:
        return []
    return [
        Warning(
            "FIELD_ENCRYPTION_KEYS is not set: secrets at rest (AI keys) are encrypted with a "
            "key derived from SECRET_KEY, so changing SECRET_KEY makes them unreadable.",
            hint="Set FIELD_ENCRYPTION_KEYS to a key made with Fernet.generate_key().",
            id="accounts.W001",
        )
    ]
