"""Framework-free normalization of what people type: emails, phones, domains, names."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
import tldextract


def normalize_email(value: str | None) -> str:
    """Stripped and lower-cased; "" for nothing. Validation is the form's job."""
    if not value:
        return ""
    value = value.strip().strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.lower()


def normalize_phone(value: str | None, default_region: str | None = None) -> str:
    """E.164 ("+14155550123") when the number parses and is possible, else ""."""
    if not value or not value.strip():
        return ""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # The bundled public-suffix snapshot: no download at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)

# Mailbox providers: their domain says nothing about a lead's company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "t-online.de",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "hey.com",
        "tutanota.com",
        "mail.ru",
        "rediffmail.com",
    }
)


def registered_domain(value: str | None) -> str:
    """The registered domain of a URL, host or email address ("https://www.acme.co.uk/x" ->
    "acme.co.uk"), lower case; "" when there is none."""
    if not value:
        return ""
    value = value.strip().lower()
    if "@" in value and not _SCHEME.match(value):
        value = value.rsplit("@", 1)[1]
    if not _SCHEME.match(value):
        value = "http://" + value
    parts = _extractor()(value)
    if not parts.domain or not parts.suffix:
        return ""
    return f"{parts.domain}.{parts.suffix}"


def company_domain_from_email(email: str) -> str:
    """The company domain an email address suggests; "" for free mail providers."""
    domain = registered_domain(email) if "@" in (email or "") else ""
    return "" if domain in FREE_MAIL_DOMAINS else domain


def split_full_name(value: str | None) -> tuple[str, str]:
    """("Ada", "Lovelace") from "Ada Lovelace" or "Lovelace, Ada"."""
    value = " ".join((value or "").split())
    if not value:
        return "", ""
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip(), last.strip()
    first, _, last = value.partition(" ")
    return first, last
