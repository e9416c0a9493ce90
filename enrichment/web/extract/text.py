"""The page's visible text: scripts, styles and navigation removed, one line per block.

This runs last, because it changes the shared tree (it strips elements and adds line breaks).
"""

from __future__ import annotations

import threading
from copy import deepcopy

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
# Boilerplate, dropped from the visible text. Attribute tests over every element are the slow
# part of XPath, so the query walks the attribute axis by name, and a class test (a substring
# search in every class attribute) is part of it only when the page's markup holds its class.
BOILERPLATE = (
    "//nav",
    "//@role[.='navigation']/..",
    "//@aria-hidden[.='true']/..",
    "//@id[.='onetrust-consent-sdk' or .='CybotCookiebotDialog']/..",
    "//@hidden/..",
)
BOILERPLATE_CLASSES = ("cookie-banner", "cookie-consent", "cookie-notice", "skip-link")
BREAK = "\ue000"  # a private-use character marks the block breaks

_BLOCK_SET = frozenset(BLOCKS)
# The text with a break before and after every block (after a <br>), written by libxslt in one
# pass (C speed, no Python per element): the same characters as the tree's text with the
# breaks put into it, without changing the tree.
_STYLESHEET = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="utf-8"/>
<xsl:template match="{"|".join(t for t in BLOCKS if t != "br")}">&#xE000;<xsl:apply-templates/>&#xE000;</xsl:template>
<xsl:template match="br"><xsl:apply-templates/>&#xE000;</xsl:template>
</xsl:stylesheet>"""
_compiled = threading.local()  # XSLT and XPath objects, one per thread


def _to_text():
    xslt = getattr(_compiled, "xslt", None)
    if xslt is None:
        xslt = _compiled.xslt = etree.XSLT(etree.XML(_STYLESHEET))
    return xslt


def _boilerplate_query(markup_lower: str):
    classes = tuple(
        name for name in BOILERPLATE_CLASSES if not markup_lower or name in markup_lower
    )
    queries = getattr(_compiled, "boilerplate", None)
    if queries is None:
        queries = _compiled.boilerplate = {}
    if classes not in queries:
        parts = list(BOILERPLATE)
        if classes:
            tests = " or ".join(f"contains(.,'{name}')" for name in classes)
            parts.append(f"//@class[{tests}]/..")
        queries[classes] = etree.XPath(" | ".join(parts))
    return queries[classes]


def _mark_blocks(elements) -> None:
    for el in elements:
        el.tail = BREAK + el.tail if el.tail else BREAK
        if el.tag != "br":
            el.text = BREAK + el.text if el.text else BREAK


def _lines(raw: str) -> str:
    """Whitespace collapsed, one line per block, empty lines left out."""
    parts = " ".join(raw.replace("\u200b", "").split()).split(BREAK)
    return "\n".join(filter(None, map(str.strip, parts)))


def _serialize(body) -> str:
    try:
        raw = str(_to_text()(body))
    except etree.XSLTApplyError:
        # Deeper than libxslt goes: mark a copy's blocks and serialize that.
        copy = deepcopy(body)
        copy.tail = None
        _mark_blocks(copy.iter(*BLOCKS))
        try:
            raw = etree.tostring(copy, method="text", encoding="unicode", with_tail=False)
        except (ValueError, etree.SerialisationError):
            return ""
    return _lines(raw)


def page_text(root, markup_lower: str = "") -> tuple[str, str]:
    """(all text including navigation, visible text without boilerplate), one line per block.

    The tree is changed: invisible elements and boilerplate are removed, and the blocks of
    <address> elements carry the break marks (address_element reads them afterwards).
    """
    if root is None:
        return "", ""
    body = root.find("body")
    if body is None:
        body = root
    etree.strip_elements(body, *INVISIBLE, with_tail=False)
    etree.strip_tags(body, etree.Comment, etree.ProcessingInstruction)
    all_text = _serialize(body)
    for address in body.iter("address"):
        if next(address.iterancestors("address"), None) is None:
            _mark_blocks(address.iter(*BLOCKS))
    for el in _boilerplate_query(markup_lower)(body):
        if el.getparent() is not None:
            if el.tag in _BLOCK_SET:
                el.tail = BREAK + el.tail if el.tail else BREAK
            el.drop_tree()
    visible = _serialize(body)
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
