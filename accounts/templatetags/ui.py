"""Small presentation helpers for templates: relative times, initials, sortable headers."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

register = template.Library()


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _amount(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _span(earlier: datetime, later: datetime) -> str:
    """The largest whole unit between two moments: `3 hours`, `2 weeks`, `1 year`. Months
    and years are calendar ones (10 Jan to 9 Feb is not yet a month)."""
    seconds = int((later - earlier).total_seconds())
    if seconds < 3600:
        return _amount(max(1, seconds // 60), "minute")
    if seconds < 86400:
        return _amount(seconds // 3600, "hour")
    days = seconds // 86400
    if days < 7:
        return _amount(days, "day")
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if (later.day, later.time()) < (earlier.day, earlier.time()):
        months -= 1
    if months < 1:
        return _amount(days // 7, "week")
    if months < 12:
        return _amount(months, "month")
    return _amount(months // 12, "year")


def relative(value: datetime, now: datetime | None = None) -> str:
    """One unit, as people say it: `just now`, `3 hours ago`, `in 5 days`. Plain arithmetic
    rather than Django's timesince: a list page shows a hundred of these, and timesince
    (translated, calendar-aware to the second) took a tenth of a millisecond each."""
    now = now or timezone.now()
    delta = (value - now).total_seconds()
    if abs(delta) < 60:
        return "just now"
    if delta < 0:
        return f"{_span(value, now)} ago"
    return f"in {_span(now, value)}"


@register.filter
def reltime(value: datetime | None, empty: str = "—"):
    """`3 hours ago` with the exact time on hover, in a <time> element.

    The title is the server's time zone; static/js/app.js rewrites it in the reader's own.
    Everything in it is generated here (digits, month names, the zone's abbreviation), so it
    needs no escaping.
    """
    if value is None:
        return empty
    local = timezone.localtime(value)
    title = f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M} {local.tzname()}"
    return mark_safe(
        f'<time datetime="{value.isoformat()}" title="{title}">{relative(value)}</time>'
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
