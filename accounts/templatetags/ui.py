"""Small presentation helpers for templates: relative times and initials."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()


@register.filter
def reltime(value: datetime | None, empty: str = "—"):
    """`3 hours ago` with the exact time on hover, in a <time> element."""
    if value is None:
        return empty
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        date_format(local, "j M Y, H:i T"),
        naturaltime(value),
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
