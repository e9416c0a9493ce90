"""Signed links in campaign email: unsubscribe (one click, RFC 8058), the open pixel, and
click redirects that only lead to URLs that were in that message (no open redirect).

Tokens are Django signatures (SECRET_KEY, with the fallbacks for rotation) over the
message's id (and, for clicks, the link's position in the message), so a link cannot be
forged or pointed elsewhere, and no login is needed to use it.
"""

from __future__ import annotations

import html
import re

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT_UNSUBSCRIBE = "campaigns.unsubscribe"
SALT_OPEN = "campaigns.open"
SALT_CLICK = "campaigns.click"

HREF = re.compile(r'(<a\s[^>]*?href=")([^"]+)(")', re.I)


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def token(message_id: int, salt: str, extra: int | None = None) -> str:
    value = f"{message_id}" if extra is None else f"{message_id}.{extra}"
    return signing.Signer(salt=salt).sign(value).split(":", 1)[1] + f".{value}"


def read(token_value: str, salt: str) -> tuple[int, int | None]:
    """(message id, extra) from a token; raises signing.BadSignature when forged."""
    signature, _, value = token_value.partition(".")
    if not value:
        raise signing.BadSignature("No value")
    signing.Signer(salt=salt).unsign(f"{value}:{signature}")
    parts = value.split(".")
    try:
        return int(parts[0]), (int(parts[1]) if len(parts) > 1 else None)
    except ValueError as exc:
        raise signing.BadSignature("Bad value") from exc


def unsubscribe_url(message_pk: int) -> str:
    return _absolute(reverse("campaigns:unsubscribe", args=[token(message_pk, SALT_UNSUBSCRIBE)]))


def open_url(message_pk: int) -> str:
    return _absolute(reverse("campaigns:open", args=[token(message_pk, SALT_OPEN)]))


def click_url(message_pk: int, index: int) -> str:
    return _absolute(reverse("campaigns:click", args=[token(message_pk, SALT_CLICK, index)]))


def links(body_html: str) -> list[str]:
    """The message's link targets, in order (what click tokens index into)."""
    return [html.unescape(match.group(2)) for match in HREF.finditer(body_html)]


def add_tracking(body_html: str, message_pk: int, *, opens: bool, clicks: bool) -> str:
    """Click links rewritten to signed redirects (http(s) links only; the unsubscribe link
    is left alone), and the open pixel appended."""
    if clicks:
        counter = iter(range(10_000))

        def rewrite(match: re.Match) -> str:
            index = next(counter)
            target = html.unescape(match.group(2))
            if not target.lower().startswith(("http://", "https://")):
                return match.group(0)
            if target.startswith(f"{settings.SITE_URL}/u/"):
                return match.group(0)  # the unsubscribe link goes straight to its page
            return f"{match.group(1)}{html.escape(click_url(message_pk, index), quote=True)}{match.group(3)}"

        body_html = HREF.sub(rewrite, body_html)
    if opens:
        pixel = (
            f'<img src="{html.escape(open_url(message_pk), quote=True)}" width="1" height="1" '
            'alt="" style="display:block;border:0;width:1px;height:1px">'
        )
        body_html = f"{body_html}\n{pixel}"
    return body_html
