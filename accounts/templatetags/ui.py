"""Small presentation helpers for templates: relative times, initials, sortable headers."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

register = template.Library()


def relative(value: datetime, now: datetime | None = None) -> str:
    """One unit, as people say it: `just now`, `3 hours ago`, `in 5 days`."""
    now = now or timezone.now()
    delta = (value - now).total_seconds()
    if abs(delta) < 60:
        return "just now"
    if delta < 0:
        return f"{timesince(value, now, depth=1)} ago"
    return f"in {timeuntil(value, now, depth=1)}"


@register.filter
def reltime(value: datetime | None, empty: str = "—"):
    """`3 hours ago` with the exact time on hover, in a <time> element.

    The title is the server's time zone; static/js/app.js rewrites it in the reader's own.
    """
    if value is None:
        return empty
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        date_format(local, "j M Y, H:i T"),
        relative(value),
    )


@register.filter
def initials(value: str) -> str:
    """Up to two initials of a name or an email address, for the avatar."""
    words = (value or "?").split("@")[0].replace(".", " ").replace("_", " ").split()
    return "".join(word[0] for word in words[:2]).upper() or "?"


# Which sidebar entry a page belongs to, by URL name.
_SETTINGS_PAGES = {
    "org_settings",
    "members",
    "api_keys",
    "webhooks",
    "webhook_detail",
    "audit_log",
    "usage",
    # Settings pages of the leads app (capture forms, scoring).
    "capture_forms",
    "capture_form_new",
    "capture_form_detail",
    "scoring",
    "custom_fields",
}


@register.simple_tag(takes_context=True)
def nav_section(context) -> str:
    match = getattr(context.get("request"), "resolver_match", None)
    name = (match.url_name or "") if match else ""
    if name in _SETTINGS_PAGES:
        return "settings"
    if name.startswith(("account_", "mfa_")):
        return "account"
    return name


@register.simple_tag(takes_context=True)
def nav_org(context, memberships):
    """The organization the sidebar links into: the page's, else the user's last one.

    Picked from the switcher's memberships (already loaded with their organizations), so
    pages outside an organization (account settings) cost no extra query.
    """
    org = context.get("org")
    if org is not None:
        return org
    user = context.get("user")
    last_id = getattr(user, "last_organization_id", None)
    for membership in memberships or ():
        if membership.organization_id == last_id:
            return membership.organization
    return memberships[0].organization if memberships else None


@register.inclusion_tag("_sort_header.html", takes_context=True)
def sort_header(context, label: str, key: str, *, default_desc: bool = False):
    """A column heading that sorts the table by `key`, toggling direction on a second click.

    The view reads `?sort=key` or `?sort=-key`; other query parameters (filters) are kept
    and the page number is dropped.
    """
    current = context.get("sort", "")
    active = current.lstrip("-") == key
    descending = active and current.startswith("-")
    # A second click flips the direction; a first click starts where the column reads best.
    flip = descending if active else not default_desc
    target = key if flip else f"-{key}"
    return {
        "request": context.get("request"),
        "label": label,
        "target": target,
        "active": active,
        "aria_sort": ("descending" if descending else "ascending") if active else None,
        "descending": descending,
    }


@register.filter
def plain(value) -> str:
    """A JSON value from an event payload as a person reads it: lists joined, maps as k: v."""
    if isinstance(value, dict):
        return ", ".join(f"{key}: {plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    if value is None:
        return "—"
    return str(value)
