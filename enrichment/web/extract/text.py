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
# Boilerplate: each query runs only when the page's markup holds its marker (attribute tests
# over every element are the slow part of XPath).
BOILERPLATE = (
    ("<nav", "//nav"),
    ("navigation", "//*[@role='navigation']"),
    ("aria-hidden", "//*[@aria-hidden='true']"),
    (
        "cookie",
        "//*[contains(@class,'cookie-banner') or contains(@class,'cookie-consent') or contains(@class,'cookie-notice')]",
    ),
    ("onetrust-consent-sdk", "//*[@id='onetrust-consent-sdk']"),
    ("cybotcookiebotdialog", "//*[@id='CybotCookiebotDialog']"),
    ("skip-link", "//*[contains(@class,'skip-link')]"),
)
_HIDDEN_ATTR = re.compile(r"<[a-z][^>]*\shidden(?:[\s>=/])", re.I)
BREAK = "\ue000"  # a private-use character marks the block breaks we insert


def _serialize(root) -> list[str]:
    """Lines of text: the tree serialized once as text (C speed), split at the block breaks."""
    try:
        raw = etree.tostring(root, method="text", encoding="unicode", with_tail=False)
    except (ValueError, etree.SerialisationError):
        return []
    lines = []
    for part in raw.split(BREAK):
        line = " ".join(part.replace("\u200b", "").split())
        if line:
            lines.append(line)
    return lines


def page_text(root, markup_lower: str = "") -> tuple[str, str]:
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
    all_text = "\n".join(_serialize(body))
    queries = [q for marker, q in BOILERPLATE if not markup_lower or marker in markup_lower]
    if not markup_lower or _HIDDEN_ATTR.search(markup_lower):
        queries.append("//*[@hidden]")
    for query in queries:
        for el in body.xpath(query):
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
