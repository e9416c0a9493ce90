"""Decoding and parsing once: the shared `Document` every extractor reads.

Bytes are decoded by BOM, the Content-Type charset, a `<meta charset>` in the first bytes, then
UTF-8 (Windows-1252 when UTF-8 fails badly). The tree is parsed by lxml's HTML parser with the
depth and size limits lifted (pages are already capped by the fetcher) and never raises: an
empty or unparsable input gives a Document whose `root` is None.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import lxml.html
import tldextract
from lxml import etree

MAX_HTML_CHARS = 12_000_000  # larger inputs are cut: returns what it could, in bounded time

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{2,40})", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)

# The public suffix snapshot bundled with tldextract: no network, no cache directory.
_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _known_encoding(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    try:
        enc = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    # Browsers read "latin-1" and "iso-8859-1" labels as windows-1252.
    return "cp1252" if enc in ("latin-1", "iso8859-1", "ascii") else enc


def decode_html(data: str | bytes | None, headers: Mapping[str, str] | None = None) -> str:
    """Text of a page, whatever it was given as; control characters removed."""
    if data is None:
        return ""
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data[: MAX_HTML_CHARS * 2])
        text = _decode_bytes(data, headers)
    else:
        text = str(data)[:MAX_HTML_CHARS]
    if _CONTROL.search(text, 0, 4096) or "\x00" in text:
        text = _CONTROL.sub("", text)
    return text


def _decode_bytes(data: bytes, headers: Mapping[str, str] | None) -> str:
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, "replace")
    candidates: list[str] = []
    content_type = _header(headers, "content-type")
    if content_type and (m := _HEADER_CHARSET.search(content_type)):
        candidates.append(m.group(1))
    if m := _META_CHARSET.search(data, 0, 8192):
        candidates.append(m.group(1).decode("ascii", "ignore"))
    for name in candidates:
        enc = _known_encoding(name)
        if enc and not enc.startswith("utf-16"):
            return data.decode(enc, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        if text.count("\ufffd") > max(8, len(text) // 200):
            return data.decode("cp1252", "replace")
        return text


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    if not headers:
        return ""
    try:
        value = headers.get(name)
        if value is None:
            for key, val in headers.items():
                if str(key).lower() == name:
                    value = val
                    break
    except Exception:
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_html(text: str):
    """The lxml root element of `text`, or None when there is no document."""
    if not text or not text.strip():
        return None
    text = _XML_DECL.sub("", text, count=1)
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True, remove_blank_text=False)
    try:
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def registered_domain(url_or_host: str) -> str:
    """ "example.co.uk" for "https://www.example.co.uk/x" (empty when there is none)."""
    try:
        ext = _TLD(url_or_host)
    except Exception:
        return ""
    domain = getattr(ext, "top_domain_under_public_suffix", None)
    if domain is None:
        domain = ext.registered_domain
    return (domain or "").lower()


@functools.lru_cache(maxsize=1024)
def public_suffix(url_or_host: str) -> str:
    try:
        return (_TLD(url_or_host).suffix or "").lower()
    except Exception:
        return ""


@functools.lru_cache(maxsize=16384)
def split_url(url: str):
    """urlsplit, cached: the same links are looked at by several extractors.

    Plain http(s) URLs (what absolute_url returns) are split by hand, the way urlsplit would:
    nothing to strip, an ASCII host without brackets."""
    if (
        url.startswith(("https://", "http://"))
        and "\t" not in url
        and "\r" not in url
        and "\n" not in url
    ):
        scheme, _, rest = url.partition("://")
        end = len(rest)
        for delimiter in "/?#":
            pos = rest.find(delimiter, 0, end)
            if pos >= 0:
                end = pos
        netloc, rest = rest[:end], rest[end:]
        if netloc.isascii() and "[" not in netloc and "]" not in netloc:
            rest, _, fragment = rest.partition("#")
            path, _, query = rest.partition("?")
            return SplitResult(scheme, netloc, path, query, fragment)
    return urlsplit(url)


@functools.lru_cache(maxsize=16384)
def absolute_url(base: str, href: str | None) -> str:
    """An absolute http(s) URL for `href` on page `base`, or "" (javascript:, data:, junk)."""
    if not href:
        return ""
    href = href.strip()
    if "\n" in href or "\t" in href or "\r" in href:
        href = href.replace("\n", "").replace("\t", "").replace("\r", "")
    if not href or href.startswith(("#", "javascript:", "data:", "mailto:", "tel:")):
        return ""
    try:
        if href[:8].lower() in ("https://",) or href[:7].lower() == "http://":
            url = href
        elif href.startswith("/") and not href.startswith("//") and base:
            base_parts = split_url(base)
            if base_parts.scheme in ("http", "https") and base_parts.netloc:
                # What urlsplit and urlunsplit below make of it, without them: the fragment
                # dropped, the query kept when there is one.
                path, _, query = href.split("#", 1)[0].partition("?")
                url = f"{base_parts.scheme}://{base_parts.netloc.lower()}{path}"
                return f"{url}?{query}" if query else url
            url = f"{base_parts.scheme}://{base_parts.netloc}{href}"
        else:
            url = urljoin(base, href) if base else href
        parts = split_url(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def clean(value) -> str:
    """Whitespace collapsed, stripped text of a value (str, number or None)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""
    return " ".join(str(value).split())


def element_text(el) -> str:
    try:
        return " ".join(el.text_content().split())
    except (ValueError, AttributeError):
        return ""


def class_id(el) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


@dataclass
class Document:
    """One page parsed once; extractors share it."""

    url: str
    html: str
    root: object | None
    headers: Mapping[str, str] | None = None
    _lower: str | None = field(default=None, repr=False)
    _anchors: list | None = field(default=None, repr=False)

    @property
    def html_lower(self) -> str:
        if self._lower is None:
            self._lower = self.html.lower()
        return self._lower

    @property
    def domain(self) -> str:
        return registered_domain(urlsplit(self.url).hostname or "") if self.url else ""

    def base_url(self) -> str:
        if self.root is not None:
            for base in self.root.iter("base"):
                href = absolute_url(self.url, base.get("href"))
                if href:
                    return href
                break
        return self.url

    def anchors(self) -> list:
        """(element, absolute URL, raw href) for every <a href> in document order."""
        if self._anchors is None:
            out = []
            if self.root is not None:
                base = self.base_url()
                for a in self.root.iter("a"):
                    raw = a.get("href")
                    if raw:
                        out.append((a, absolute_url(base, raw), raw.strip()))
            self._anchors = out
        return self._anchors

    def header(self, name: str) -> str:
        return _header(self.headers, name)


def load(html: str | bytes | None, url: str, headers: Mapping[str, str] | None = None) -> Document:
    text = decode_html(html, headers)
    return Document(url=url or "", html=text, root=parse_html(text), headers=headers)
