"""Email templates: `{{ variable }}` with the `default` and case filters, nothing else.

A template is parsed into text and variable slots; rendering only ever looks names up in a
dict of plain strings built for one lead (`context_for`). There are no tags, no attribute
access on objects, no method calls: a template cannot reach anything but those values.

    Hi {{ first_name|default:"there" }}, how is {{ company|title }}?
    {{ custom.plan }} · {{ sender.name }} · {{ unsubscribe_url }}
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

VARIABLE = re.compile(r"\{\{(.*?)\}\}", re.S)
NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z0-9_-]+)?$", re.I)
FILTER = re.compile(r'^(?P<name>[a-z_]+)(?::(?P<arg>"[^"]*"|\'[^\']*\'))?$', re.I)
FILTERS = {
    "default": None,  # handled in render
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "capitalize": lambda s: s[:1].upper() + s[1:],
}
LEAD_NAMES = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "title",
    "company",
    "company_domain",
    "location",
    "website",
)
SENDER_NAMES = ("sender.name", "sender.email", "sender.signature")
SPECIAL_NAMES = ("unsubscribe_url",)


class TemplateError(ValueError):
    """The template cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Slot:
    name: str
    filters: tuple[tuple[str, str | None], ...]
    default: str | None


def parse(template: str) -> list[str | Slot]:
    if "{%" in template or "{#" in template:
        raise TemplateError("Only {{ variables }} are supported: no {% tags %} or {# comments #}.")
    parts: list[str | Slot] = []
    position = 0
    for match in VARIABLE.finditer(template):
        parts.append(template[position : match.start()])
        parts.append(_slot(match.group(1), template, match.start()))
        position = match.end()
    rest = template[position:]
    if "{{" in rest or "}}" in rest:
        line = template.count("\n", 0, position) + 1
        raise TemplateError(f"Line {line}: a “{{{{” or “}}}}” is not closed.")
    parts.append(rest)
    return [part for part in parts if part != ""]


def _slot(expression: str, template: str, offset: int) -> Slot:
    line = template.count("\n", 0, offset) + 1
    pieces = [piece.strip() for piece in expression.split("|")]
    name = pieces[0]
    if not NAME.match(name):
        raise TemplateError(
            f"Line {line}: “{{{{ {expression.strip()} }}}}” is not a variable name."
        )
    filters, default = [], None
    for piece in pieces[1:]:
        match = FILTER.match(piece)
        if not match or match.group("name").lower() not in FILTERS:
            raise TemplateError(
                f'Line {line}: unknown filter “{piece}”; use default:"…", upper, lower, '
                "title or capitalize."
            )
        filter_name, arg = match.group("name").lower(), match.group("arg")
        if filter_name == "default":
            if arg is None:
                raise TemplateError(f'Line {line}: default needs a value: default:"there".')
            default = arg[1:-1]
        elif arg is not None:
            raise TemplateError(f"Line {line}: {filter_name} takes no value.")
        filters.append((filter_name, arg[1:-1] if arg else None))
    return Slot(name.lower(), tuple(filters), default)


def known_names(custom_keys: set[str] | frozenset[str] = frozenset()) -> set[str]:
    return {*LEAD_NAMES, *SENDER_NAMES, *SPECIAL_NAMES, *(f"custom.{k}" for k in custom_keys)}


def check(template: str, custom_keys: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Problems with a template: syntax, and names that nothing provides."""
    try:
        parts = parse(template)
    except TemplateError as exc:
        return [str(exc)]
    known = known_names(custom_keys)
    unknown = sorted({p.name for p in parts if isinstance(p, Slot) and p.name not in known})
    return [f"Unknown variable “{name}”." for name in unknown]


def render(template: str, context: dict[str, str]) -> tuple[str, set[str]]:
    """The rendered text and the variables that had no value (and no default)."""
    out, missing = [], set()
    for part in parse(template):
        if isinstance(part, str):
            out.append(part)
            continue
        value = str(context.get(part.name) or "").strip()
        if not value:
            if part.default is None:
                missing.add(part.name)
                continue
            value = part.default
        for filter_name, _arg in part.filters:
            if filter_name != "default":
                value = FILTERS[filter_name](value)
        out.append(value)
    return "".join(out), missing


def variables(template: str) -> set[str]:
    return {p.name for p in parse(template) if isinstance(p, Slot)}


def needed(template: str) -> set[str]:
    """Variables that must have a value for this lead (no default given)."""
    return {p.name for p in parse(template) if isinstance(p, Slot) and p.default is None}


def context_for(lead: Any, sender: Any, unsubscribe_url: str = "") -> dict[str, str]:
    """The only values a template can see: plain strings."""
    company = getattr(lead, "company", None)
    first, last = lead.first_name or "", lead.last_name or ""
    context = {
        "first_name": first,
        "last_name": last,
        "full_name": " ".join(p for p in (first, last) if p),
        "email": lead.email or "",
        "title": lead.title or "",
        "company": company.name if company else "",
        "company_domain": company.domain if company else "",
        "website": company.website if company else "",
        "location": lead.location or "",
        "sender.name": sender.name,
        "sender.email": sender.email,
        "sender.signature": sender.signature or "",
        "unsubscribe_url": unsubscribe_url,
    }
    for key, value in (lead.custom_fields or {}).items():
        if value is not None and not isinstance(value, dict | list):
            context[f"custom.{str(key).lower()}"] = str(value)
    return context


URL = re.compile(r"https?://[^\s<>\"')\]]+", re.I)


def text_to_html(text: str) -> str:
    """The HTML part of a plain-text email: escaped, links made clickable, paragraphs."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        pieces, position = [], 0
        for match in URL.finditer(paragraph):
            url = match.group(0).rstrip(".,;:!?")
            end = match.start() + len(url)
            pieces.append(html.escape(paragraph[position : match.start()]))
            pieces.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>')
            position = end
        pieces.append(html.escape(paragraph[position:]))
        rendered.append("<p>" + "".join(pieces).replace("\n", "<br>\n") + "</p>")
    return "\n".join(rendered)
