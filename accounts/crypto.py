"""Secrets at rest: AI provider keys, SMTP passwords.

Values are encrypted with Fernet (cryptography) under the keys of `FIELD_ENCRYPTION_KEYS`
(comma separated, newest first). MultiFernet encrypts with the first key and decrypts with
any, so rotating is: put a new key in front, run `manage.py rotate_encryption_keys` (which
re-encrypts every stored secret with it), then drop the old key.

Without FIELD_ENCRYPTION_KEYS a key derived from SECRET_KEY is used (development; `check
--deploy` warns), so changing SECRET_KEY then makes stored secrets unreadable.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "hint", "rotate"]


def _derived_key() -> bytes:
    digest = hashlib.sha256(f"prospector-field-encryption:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        return MultiFernet([Fernet(_derived_key())])
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The plain value; raises InvalidToken when no configured key opens it."""
    return fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same value encrypted under the newest key."""
    return fernet().rotate(token.encode()).decode()


def hint(value: str) -> str:
    """What may be shown of a secret again: its last four characters."""
    value = value.strip()
    return f"…{value[-4:]}" if len(value) > 8 else "…"
