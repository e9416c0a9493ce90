"""Showing model output safely: text from a model is sanitized (nh3) before it becomes
HTML, and sources become links only when they are http(s) URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

import nh3
from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_TAGS = {"b", "strong", "i", "em", "a", "ul", "ol", "li", "p", "br", "code"}


@register.filter
def ai_text(value) -> str:
    """Model text as HTML: any markup but a few inline tags is removed, links keep only
    http(s) and mailto, blank lines make paragraphs."""
    cleaned = nh3.clean(
        str(value or ""),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    paragraphs = [p.strip() for p in cleaned.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return mark_safe("".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs))


@register.filter
def source_link(value) -> str:
    """A fact's source: a link to the page (shown as its host), or "CRM"."""
    value = str(value or "").strip()
    if value.lower() == "crm":
        return mark_safe('<span class="badge">CRM</span>')
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        host = parts.netloc.removeprefix("www.")
        return format_html(
            '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', value, host
        )
    return format_html('<span class="muted">{}</span>', value) if value else ""


@register.filter
def cents(value) -> str:
    """A cost in cents as dollars: $0.0123, $1.20."""
    try:
        amount = float(value or 0) / 100
    except (TypeError, ValueError):
        return ""
    if amount == 0:
        return "$0"
    return f"${amount:,.4f}" if amount < 1 else f"${amount:,.2f}"
