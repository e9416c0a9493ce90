"""Head facts: title, meta description, OpenGraph/Twitter tags, canonical URL, language, icons."""

from __future__ import annotations

import re

from .document import Document, absolute_url, class_id, clean, split_url

KEPT_META = frozenset(
    [
        "description",
        "keywords",
        "author",
        "generator",
        "application-name",
        "theme-color",
        "robots",
        "apple-mobile-web-app-title",
        "msapplication-tileimage",
    ]
)
_KEPT_PREFIXES = ("og:", "twitter:", "article:", "fb:", "al:", "business:contact_data:")


def read_meta(doc: Document) -> dict:
    """meta name/property -> content, first occurrence wins, for the tags worth keeping."""
    out: dict[str, str] = {}
    if doc.root is None:
        return out
    for el in doc.root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if not key:
            http_equiv = (el.get("http-equiv") or "").strip().lower()
            if http_equiv == "content-language":
                key = "content-language"
            else:
                continue
        if (
            key not in KEPT_META
            and not key.startswith(_KEPT_PREFIXES)
            and key != "content-language"
        ):
            continue
        content = clean(el.get("content"))
        if content and key not in out:
            out[key] = content
    return out


def title(doc: Document, meta: dict) -> str:
    if doc.root is not None:
        for el in doc.root.iter("title"):
            text = clean(el.text_content())
            if text:
                return text
            break
    return meta.get("og:title") or meta.get("twitter:title") or ""


def description(meta: dict) -> str:
    return (
        meta.get("description")
        or meta.get("og:description")
        or meta.get("twitter:description")
        or ""
    )


def _links(doc: Document):
    if doc.root is None:
        return
    for el in doc.root.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        if rel:
            yield el, rel


def canonical_url(doc: Document, meta: dict) -> str:
    for el, rel in _links(doc):
        if "canonical" in rel:
            url = absolute_url(doc.url, el.get("href"))
            if url:
                return url
    return absolute_url(doc.url, meta.get("og:url")) if meta.get("og:url") else ""


def language(doc: Document, meta: dict) -> str:
    lang = ""
    if doc.root is not None:
        lang = doc.root.get("lang") or doc.root.get("xml:lang") or ""
        if not lang:
            body = doc.root.find("body")
            lang = body.get("lang", "") if body is not None else ""
    lang = lang or meta.get("content-language", "").split(",")[0] or meta.get("og:locale", "")
    lang = lang.strip().replace("_", "-")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang):
        return ""
    parts = lang.split("-")
    parts[0] = parts[0].lower()
    if len(parts) > 1 and len(parts[1]) == 2:
        parts[1] = parts[1].upper()
    return "-".join(parts)


def _size(el) -> int:
    sizes = (el.get("sizes") or "").lower()
    if "any" in sizes:
        return 512
    best = 0
    for m in re.finditer(r"(\d+)\s*x\s*(\d+)", sizes):
        best = max(best, min(int(m.group(1)), int(m.group(2))))
    if best:
        return best
    href = (el.get("href") or "").lower()
    if m := re.search(r"(\d{2,4})x\d{2,4}", href):
        return int(m.group(1))
    if href.split("?")[0].endswith(".svg"):
        return 512
    return 0


def icons(doc: Document) -> list[tuple[int, str, str]]:
    """(size, kind, absolute URL) of declared icons, best first; kind "apple" or "icon"."""
    out = []
    for order, (el, rel) in enumerate(_links(doc)):
        if "apple-touch-icon" in rel or "apple-touch-icon-precomposed" in rel:
            kind, default = "apple", 180
        elif "icon" in rel or "mask-icon" in rel:
            kind, default = (
                "icon",
                16 if (el.get("href") or "").lower().split("?")[0].endswith(".ico") else 32,
            )
            if "mask-icon" in rel:
                default = 1
        else:
            continue
        url = absolute_url(doc.base_url(), el.get("href"))
        if url:
            out.append((_size(el) or default, -order, kind, url))
    out.sort(reverse=True)
    return [(size, kind, url) for size, _, kind, url in out]


def favicon(icon_list: list) -> str:
    plain = [url for size, kind, url in icon_list if kind == "icon" and size > 1]
    if plain:
        return plain[0]
    return icon_list[0][2] if icon_list else ""


_LOGO = re.compile(r"logo|brand", re.I)
_HEADERISH = re.compile(r"header|navbar|masthead|topbar|site-brand|branding", re.I)


def _is_home(base: str, href: str | None) -> bool:
    url = absolute_url(base, href)
    if not url:
        return False
    parts = split_url(url)
    return parts.path in ("", "/") and parts.hostname == split_url(base).hostname


def img_logo(doc: Document) -> str:
    """The site's own logo image: an <img> marked "logo" in the header, nav or home link."""
    if doc.root is None:
        return ""
    base = doc.base_url()
    for img in doc.root.iter("img"):
        src = img.get("src") or img.get("data-src") or ""
        marker = f"{class_id(img)} {img.get('alt') or ''} {src}"
        if not src or not _LOGO.search(marker):
            continue
        in_header = False
        for depth, anc in enumerate(img.iterancestors(), 1):
            tag = anc.tag if isinstance(anc.tag, str) else ""
            if (
                tag in ("header", "nav")
                or _HEADERISH.search(class_id(anc))
                or (tag == "a" and _is_home(base, anc.get("href")))
            ):
                in_header = True
                break
            if tag == "footer" or depth > 12:
                break
            if re.search(r"customer|client|partner|logos|trusted|press", class_id(anc)):
                break
        if in_header:
            url = absolute_url(base, src)
            if url:
                return url
    return ""


def choose_logo(
    doc: Document, schema_logo: str, schema_method: str, icon_list: list, meta: dict
) -> tuple[str, str]:
    if schema_logo:
        return schema_logo, schema_method
    if url := img_logo(doc):
        return url, "img"
    apple = [url for size, kind, url in icon_list if kind == "apple" or size >= 96]
    if apple:
        return apple[0], "link"
    for key in ("og:logo", "og:image", "og:image:url", "og:image:secure_url", "twitter:image"):
        if meta.get(key):
            url = absolute_url(doc.base_url(), meta[key])
            if url:
                return url, "meta"
    if icon_list:
        return icon_list[0][2], "link"
    return "", ""
