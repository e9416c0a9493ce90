"""The page's visible text: scripts, styles and navigation removed, one line per block.

This runs last, because it changes the shared tree (it strips elements and adds line breaks).
"""

from __future__ import annotations

import re

from lxml import etree

INVISIBLE = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "object",
    "embed",
    "canvas",
    "head",
    "select",
    "datalist",
    "dialog",
    "button",
)
BLOCKS = (
    "p",
    "div",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "main",
    "nav",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "tr",
    "td",
    "th",
    "table",
    "blockquote",
    "pre",
    "address",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "label",
    "hr",
    "details",
    "summary",
    "option",
)
# One pass over the tree (each "//" in a union would be a walk of its own).
BOILERPLATE_XPATH = (
    "//*[self::nav or @role='navigation' or @aria-hidden='true' or @hidden"
    " or @id='onetrust-consent-sdk' or @id='CybotCookiebotDialog'"
    " or (@class and (contains(@class,'cookie-banner') or contains(@class,'cookie-consent')"
    " or contains(@class,'cookie-notice') or contains(@class,'skip-link')))]"
)
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
BREAK = "\ue000"  # a private-use character marks the block breaks we insert


def _serialize(root) -> list[str]:
    try:
        raw = etree.tostring(root, method="text", encoding="unicode", with_tail=False)
    except (ValueError, etree.SerialisationError):
        return []
    raw = _SPACES.sub(" ", raw)
    return [line for line in (part.strip() for part in raw.split(BREAK)) if line]


def page_text(root) -> tuple[str, str]:
    """(all text including navigation, visible text without boilerplate), one line per block."""
    if root is None:
        return "", ""
    body = root.find("body")
    if body is None:
        body = root
    etree.strip_elements(body, *INVISIBLE, with_tail=False)
    etree.strip_tags(body, etree.Comment, etree.ProcessingInstruction)
    for el in body.iter(*BLOCKS):
        el.tail = BREAK + el.tail if el.tail else BREAK
        if el.tag != "br":
            el.text = BREAK + el.text if el.text else BREAK
    for el in body.iter("td", "th"):
        el.tail = " " + (el.tail or "")
    all_text = "\n".join(_serialize(body))
    for el in body.xpath(BOILERPLATE_XPATH):
        if el.getparent() is not None:
            el.drop_tree()
    visible = "\n".join(_serialize(body))
    return all_text, visible


def cut(text: str, budget: int) -> str:
    """At most `budget` characters, cut at a line or word boundary when one is near."""
    if budget <= 0:
        return ""
    if len(text) <= budget:
        return text
    head = text[:budget]
    for sep in ("\n", " "):
        pos = head.rfind(sep)
        if pos >= budget * 0.9:
            return head[:pos].rstrip()
    return head
