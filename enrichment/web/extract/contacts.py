"""Contact facts: social profiles, emails, phone numbers and the postal address."""

from __future__ import annotations

import copy as copy_module
import re
from urllib.parse import unquote

import phonenumbers

from .document import Document, class_id, clean, public_suffix, split_url

# --- social profiles -----------------------------------------------------------------------

_RESERVED = {
    "twitter": {
        "intent",
        "share",
        "home",
        "search",
        "hashtag",
        "i",
        "privacy",
        "tos",
        "login",
        "signup",
        "explore",
        "settings",
        "messages",
        "notifications",
        "widgets",
        "about",
    },
    "github": {
        "features",
        "pricing",
        "about",
        "login",
        "join",
        "marketplace",
        "topics",
        "collections",
        "explore",
        "sponsors",
        "enterprise",
        "security",
        "site",
        "contact",
        "settings",
        "search",
        "apps",
        "customer-stories",
        "readme",
        "team",
        "trending",
        "events",
    },
    "facebook": {
        "sharer",
        "sharer.php",
        "share.php",
        "share",
        "dialog",
        "plugins",
        "tr",
        "login",
        "login.php",
        "groups",
        "events",
        "watch",
        "hashtag",
        "help",
        "policies",
        "privacy",
        "legal",
        "photo.php",
        "story.php",
        "permalink.php",
        "l.php",
        "business",
    },
    "instagram": {
        "p",
        "reel",
        "reels",
        "explore",
        "accounts",
        "stories",
        "tv",
        "about",
        "legal",
        "direct",
    },
}
_HANDLE = r"[A-Za-z0-9_.\-]{1,80}"
SOCIAL_PATTERNS = {
    "linkedin": re.compile(
        r"^(?:[a-z]{2,3}\.)?linkedin\.com/(company|in|school|showcase)/([^/?#]+)", re.I
    ),
    "twitter": re.compile(rf"^(?:mobile\.)?(?:twitter|x)\.com/(?:#!/)?({_HANDLE})/?$", re.I),
    "github": re.compile(rf"^github\.com/(?:orgs/)?({_HANDLE})/?$", re.I),
    "facebook": re.compile(
        rf"^(?:[a-z]{{2,3}}(?:-[a-z]{{2}})?\.)?(?:facebook|fb)\.com/(?:pages/[^/]+/\d+|people/[^/]+/\d+|profile\.php\?id=\d+|({_HANDLE}))/?$",
        re.I,
    ),
    "instagram": re.compile(rf"^instagram\.com/({_HANDLE})/?$", re.I),
    "youtube": re.compile(
        r"^(?:m\.)?youtube\.com/(?:(?:channel|c|user)/[^/?#]+|@[^/?#]+)/?$", re.I
    ),
    "crunchbase": re.compile(r"^crunchbase\.com/(?:organization|company)/[^/?#]+/?$", re.I),
}
SOCIAL_NETWORKS = tuple(SOCIAL_PATTERNS)
_TWITTER_HANDLE = re.compile(r"^@?([A-Za-z0-9_]{1,15})$")


def twitter_handle(value: str) -> str:
    """The handle of a `twitter:site` meta value ("@acme" or "acme"), else ""."""
    match = _TWITTER_HANDLE.match((value or "").strip())
    return match.group(1) if match else ""


_SOCIAL_HOSTS = re.compile(
    r"^https?://[^/]*(?:linkedin|twitter|x|github|facebook|fb|instagram|youtube|crunchbase)\.com/",
    re.I,
)
_SHARE_CONTEXT = re.compile(r"share|sharing|social-share|sharethis|addthis|a2a|shariff", re.I)


def social_profile(url: str) -> tuple[str, str] | None:
    """(network, normalised profile URL) when `url` is a profile page, else None."""
    try:
        parts = split_url(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host or parts.scheme not in ("http", "https", ""):
        return None
    path = parts.path.rstrip("/")
    if (
        host.endswith(("facebook.com", "fb.com"))
        and path == "/profile.php"
        and parts.query.startswith("id=")
    ):
        return "facebook", f"https://www.facebook.com/profile.php?{parts.query.split('&')[0]}"
    if parts.query and re.search(r"(?:^|&)(?:url|u|text|shareArticle|mini)=", parts.query):
        return None
    hostpath = f"{host}{path}"
    for network, pattern in SOCIAL_PATTERNS.items():
        m = pattern.match(hostpath)
        if not m:
            continue
        handle = (m.groups() or [None])[-1]
        if handle and handle.lower() in _RESERVED.get(network, ()):
            return None
        if network == "linkedin" and m.group(2).lower() in ("share", "sharing"):
            return None
        canonical_host = {
            "linkedin": "www.linkedin.com",
            "twitter": host if host in ("x.com", "twitter.com") else "twitter.com",
            "github": "github.com",
            "facebook": "www.facebook.com",
            "instagram": "www.instagram.com",
            "youtube": "www.youtube.com",
            "crunchbase": "www.crunchbase.com",
        }[network]
        if network == "linkedin":
            path = f"/{m.group(1).lower()}/{m.group(2)}"
        return network, f"https://{canonical_host}{path}"
    return None


def social_links(doc: Document, same_as: list[str]) -> dict:
    """One profile per network: schema.org sameAs first, then header/footer links, then others."""
    found: dict[str, tuple[int, str]] = {}

    def offer(url: str, rank: int) -> None:
        profile = social_profile(url)
        if profile:
            network, normal = profile
            if network not in found or rank < found[network][0]:
                found[network] = (rank, normal)

    for url in same_as:
        offer(url, 0)
    for a, url, _raw in doc.anchors():
        if not url or not _SOCIAL_HOSTS.search(url):
            continue
        rank = 2
        for depth, anc in enumerate(a.iterancestors(), 1):
            tag = anc.tag if isinstance(anc.tag, str) else ""
            marker = class_id(anc)
            if _SHARE_CONTEXT.search(marker):
                rank = -1
                break
            if (
                tag in ("header", "footer")
                or "footer" in marker
                or "header" in marker
                or "social" in marker
            ):
                rank = 1
            if depth > 15:
                break
        if rank >= 0 and not _SHARE_CONTEXT.search(class_id(a)):
            offer(url, rank)
    return {network: found[network][1] for network in SOCIAL_NETWORKS if network in found}


# --- emails --------------------------------------------------------------------------------

EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_AT = re.compile(
    r"\s*(?:[\[\(\{<]\s*(?:at|@|ät|arroba|chez)\s*[\]\)\}>]|\s(?-i:AT)\s|\(a\))\s*", re.I
)
_DOT = re.compile(
    r"\s*(?:[\[\(\{<]\s*(?:dot|punkt|point|punto|\.)\s*[\]\)\}>]|\s(?-i:DOT)\s)\s*", re.I
)
_WORDY = re.compile(
    r"\b([a-z0-9][a-z0-9._-]{0,40})\s+at\s+([a-z0-9][a-z0-9-]{0,40}(?:\s+dot\s+[a-z0-9-]{2,20})+)\b",
    re.I,
)
_FILE_TLDS = frozenset(
    [
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "webp",
        "ico",
        "bmp",
        "avif",
        "css",
        "js",
        "json",
        "map",
        "woff",
        "woff2",
        "ttf",
        "mp4",
        "webm",
        "pdf",
    ]
)
_PLACEHOLDER_DOMAINS = frozenset(
    [
        "example.com",
        "example.org",
        "example.net",
        "example.de",
        "domain.com",
        "yourdomain.com",
        "yourcompany.com",
        "company.com",
        "email.com",
        "mail.com",
        "sentry.io",
        "wixpress.com",
        "sentry-next.wixpress.com",
        "test.com",
        "acme.example",
        "placeholder.com",
        "website.com",
        "yoursite.com",
        "mysite.com",
    ]
)
_PLACEHOLDER_LOCALS = frozenset(
    [
        "you",
        "your.name",
        "yourname",
        "name",
        "firstname.lastname",
        "first.last",
        "john.doe",
        "jane.doe",
        "max.mustermann",
        "vorname.nachname",
    ]
)


def normalize_email(value: str) -> str:
    email = unquote(value).strip().strip(".,;:").lower()
    email = email.removeprefix("mailto:").split("?")[0].strip()
    if not EMAIL.fullmatch(email):
        return ""
    local, _, domain = email.rpartition("@")
    tld = domain.rsplit(".", 1)[-1]
    if tld in _FILE_TLDS or re.search(r"@\d+x\.", email) or re.fullmatch(r"[0-9a-f]{16,}", local):
        return ""
    if domain in _PLACEHOLDER_DOMAINS or domain.endswith(
        (".example", ".invalid", ".test", ".sentry.io", ".wixpress.com", ".local")
    ):
        return ""
    if local in _PLACEHOLDER_LOCALS:
        return ""
    return email


def cloudflare_email(encoded: str) -> str:
    """Cloudflare's email protection: hex bytes XOR-ed with the first byte."""
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return ""
    if len(data) < 2:
        return ""
    return bytes(b ^ data[0] for b in data[1:]).decode("utf-8", "replace")


# Whether a text holds an "[at]"-style address at all, tested the cheap way first: the
# bracketed forms by one pattern that starts with a bracket, the " AT " and "(a)" forms and the
# " dot " words by plain substring searches before any pattern runs.
_AT_BRACKETED = re.compile(r"[\[\(\{<]\s*(?:at|@|ät|arroba|chez)\s*[\]\)\}>]", re.I)
_AT_CAPITALS = re.compile(r"\sAT\s")
_WORDY_HINT = re.compile(r"\sdot\s", re.I)


def _at_hint(text: str, lower: str) -> bool:
    return (
        bool(_AT_BRACKETED.search(text))
        or ("AT" in text and bool(_AT_CAPITALS.search(text)))
        or "(a)" in lower
    )


def deobfuscate(text: str) -> str:
    """ "name [at] domain [dot] com" and friends written as plain addresses."""
    lower = text.lower()
    if _at_hint(text, lower):
        text = _AT.sub("@", text)
        text = _DOT.sub(".", text)
    if "dot" in lower and _WORDY_HINT.search(text):
        text = _WORDY.sub(
            lambda m: f"{m.group(1)}@{re.sub(r'\s+dot\s+', '.', m.group(2), flags=re.I)}", text
        )
    return text


def _around_at(text: str) -> str:
    """Only the neighbourhood of each "@": the email pattern never runs over the whole page."""
    pieces = []
    pos = text.find("@")
    while pos != -1 and len(pieces) < 2000:
        pieces.append(text[max(0, pos - 70) : pos + 260])
        pos = text.find("@", pos + 1)
    return "\n".join(pieces)


def emails(doc: Document, text: str, extra: list[str] = ()) -> list[str]:
    out: list[str] = []

    def add(value: str) -> None:
        email = normalize_email(value)
        if email and email not in out:
            out.append(email)

    for _a, _url, raw in doc.anchors():
        if raw[:7].lower() == "mailto:":
            for part in raw[7:].split("?")[0].split(","):
                add(deobfuscate(unquote(part)))
        elif "/cdn-cgi/l/email-protection#" in raw:
            add(cloudflare_email(raw.rsplit("#", 1)[-1]))
    if doc.root is not None and "data-cfemail" in doc.html:
        for el in doc.root.xpath("//*[@data-cfemail]"):
            add(cloudflare_email(el.get("data-cfemail") or ""))
    for value in extra:
        add(value)
    for m in EMAIL.finditer(_around_at(deobfuscate(text))):
        add(m.group(0))
    return out


# --- phones --------------------------------------------------------------------------------

_LANG_COUNTRY = {
    "de": "DE",
    "fr": "FR",
    "es": "ES",
    "it": "IT",
    "nl": "NL",
    "pt": "PT",
    "pl": "PL",
    "sv": "SE",
    "da": "DK",
    "fi": "FI",
    "nb": "NO",
    "no": "NO",
    "cs": "CZ",
    "ja": "JP",
    "ko": "KR",
    "en": "US",
    "el": "GR",
    "hu": "HU",
    "ro": "RO",
    "tr": "TR",
}
_CC_TLD = {
    "uk": "GB",
    "co.uk": "GB",
    "com.au": "AU",
    "co.nz": "NZ",
    "com.br": "BR",
    "co.jp": "JP",
    "com.mx": "MX",
    "eu": "",
}
_COUNTRY_NAMES = {
    "germany": "DE",
    "deutschland": "DE",
    "austria": "AT",
    "österreich": "AT",
    "switzerland": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "france": "FR",
    "spain": "ES",
    "españa": "ES",
    "espana": "ES",
    "italy": "IT",
    "italia": "IT",
    "netherlands": "NL",
    "nederland": "NL",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "united states": "US",
    "usa": "US",
    "us": "US",
    "united states of america": "US",
    "canada": "CA",
    "belgium": "BE",
    "belgique": "BE",
    "belgië": "BE",
    "ireland": "IE",
    "sweden": "SE",
    "denmark": "DK",
    "norway": "NO",
    "finland": "FI",
    "poland": "PL",
    "polska": "PL",
    "portugal": "PT",
    "australia": "AU",
    "luxembourg": "LU",
    "czech republic": "CZ",
    "israel": "IL",
    "india": "IN",
    "japan": "JP",
}


def country_code(value: str) -> str:
    value = clean(value)
    if re.fullmatch(r"[A-Za-z]{2}", value):
        code = value.upper()
        return "GB" if code == "UK" else code
    return _COUNTRY_NAMES.get(value.lower(), "")


def region_hint(language: str, url: str, country: str = "") -> str:
    """A two-letter region for numbers written without +: address country, lang region, TLD."""
    if code := country_code(country):
        return code
    parts = language.split("-")
    if len(parts) > 1 and re.fullmatch(r"[A-Z]{2}", parts[1]):
        return parts[1]
    suffix = public_suffix(split_url(url).hostname or "") if url else ""
    if suffix in _CC_TLD:
        if _CC_TLD[suffix]:
            return _CC_TLD[suffix]
    elif len(suffix) == 2 and suffix not in (
        "io",
        "co",
        "ai",
        "me",
        "tv",
        "ly",
        "to",
        "gg",
        "fm",
        "so",
        "sh",
        "ac",
        "cc",
    ):
        return suffix.upper()
    return _LANG_COUNTRY.get(parts[0], "") if parts[0] else ""


PHONE_CANDIDATE = re.compile(
    r"(?<![\w+/.-])(?:\+|00)?\(?\d[\d\s().\u00a0/-]{5,20}\d(?![\w/-]|\.\d)"
)
_PHONE_KEYWORD = re.compile(
    r"(?:phone|tel(?:efon|éfono|éphone|ephone)?|fon|call(?: us)?|mobil[e]?|handy|hotline|zentrale|☎|📞)\.?\s*:?\s*$",
    re.I,
)
_FAX_KEYWORD = re.compile(r"fax|télécopie|telefax", re.I)


def _phone_entry(raw: str, region: str, *, trust: bool) -> dict | None:
    raw = clean(raw.replace("\u00a0", " "))
    digits = re.sub(r"\D", "", raw)
    if not 6 <= len(digits) <= 15:
        return None
    parse_raw = "+" + raw[2:] if raw.startswith("00") else raw
    e164 = ""
    try:
        number = phonenumbers.parse(
            parse_raw, None if parse_raw.startswith("+") else (region or None)
        )
        if phonenumbers.is_valid_number(number) or (
            trust and phonenumbers.is_possible_number(number)
        ):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    if not e164 and not trust:
        return None
    return {"raw": raw, "e164": e164}


def phones(
    doc: Document, text: str, region: str, extra: list[str] = (), limit: int = 20
) -> list[dict]:
    """tel: links first, then numbers in the text (kept when valid for the region or labelled)."""
    out: list[dict] = []
    seen_digits: list[str] = []

    def add(entry: dict | None) -> None:
        if not entry or len(out) >= limit:
            return
        digits = re.sub(r"\D", "", entry["e164"] or entry["raw"])
        national = re.sub(r"\D", "", entry["raw"]).lstrip("0")
        for other in seen_digits:
            if other.endswith(national[-9:]) or digits.endswith(other[-9:]):
                return  # the same number written another way
        seen_digits.append(digits)
        out.append(entry)

    for _a, _url, raw in doc.anchors():
        if raw[:4].lower() in ("tel:", "sms:") or raw[:7].lower() == "callto:":
            add(_phone_entry(unquote(raw.split(":", 1)[1]).split(";")[0], region, trust=True))
    for value in extra:
        add(_phone_entry(value, region, trust=True))
    if not region:
        # Numbers given with a country code tell how the others are written.
        for entry in out:
            if entry["e164"]:
                try:
                    region = phonenumbers.region_code_for_number(phonenumbers.parse(entry["e164"]))
                except phonenumbers.NumberParseException:
                    continue
                if region and region != "ZZ":
                    break
                region = ""
    checked = 0
    for m in PHONE_CANDIDATE.finditer(text):
        if checked > 300 or len(out) >= limit:
            break
        candidate = m.group(0).strip()
        if re.fullmatch(r"\d{4}\s*[-/]\s*\d{2,4}", candidate) or re.fullmatch(
            r"\d{1,4}([./-])\d{1,2}\1\d{2,4}", candidate
        ):
            continue  # years and dates
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line_start, m.start() - 30) : m.start()]
        if _FAX_KEYWORD.search(before[-14:]):
            continue
        keyword = bool(_PHONE_KEYWORD.search(before))
        if (
            not keyword
            and not candidate.startswith(("+", "00", "("))
            and sum(c.isdigit() for c in candidate) < 9
        ):
            continue
        checked += 1
        add(_phone_entry(candidate, region, trust=keyword))
    return out


# --- postal address ------------------------------------------------------------------------

_STREET_WORDS = r"(?i:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|markt|straat|laan|gracht|plein)"
_STREET_FRONT = r"(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|quai|impasse|route|cours|calle|c/|avenida|avda\.|paseo|plaza|carrer|rua|via|viale|piazza|corso)"
_US_STREET = r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Drive|Dr\.?|Lane|Ln\.?|Way|Place|Pl\.?|Court|Ct\.?|Square|Sq\.?|Parkway|Pkwy\.?|Highway|Hwy\.?|Terrace|Plaza|Circle)"
_UK_STREET = r"(?:Road|Street|Lane|Avenue|Way|Place|Square|Terrace|Close|Drive|Court|Gardens|Hill|Row|Walk|Yard|Mews|Crescent|Park|Parade|Gate|Green|Wharf|Quay)"
_SEP = r"[ \t]*(?:,|\n|·|\||•)[ \t\n]*"
US_ADDRESS = re.compile(
    rf"(?P<street>(?:\d{{1,6}}|One|Two)\s+(?:[A-Z0-9][\w.'-]*\s+){{0,5}}{_US_STREET}(?:,?\s+(?:Suite|Ste\.?|Floor|Fl\.?|Unit|#)\s*[\w-]+)?)\s*[,\n]\s*"
    r"(?P<locality>[A-Z][A-Za-z.'-]+(?: [A-Z][A-Za-z.'-]+){0,3}),\s*(?P<region>[A-Z]{2})\s+(?P<postal_code>\d{5}(?:-\d{4})?)\b"
)
UK_ADDRESS = re.compile(
    rf"(?P<street>\d{{1,4}}[a-z]?\s+(?:[A-Z][\w'.-]*\s+){{0,4}}{_UK_STREET}){_SEP}(?P<locality>[A-Z][A-Za-z'-]+(?: [A-Z][A-Za-z'-]+){{0,2}}),?\s+"
    r"(?P<postal_code>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\b"
)
EU_ADDRESS = re.compile(
    rf"(?P<street>[A-ZÄÖÜÉ][\w'.-]*(?:[ -][\w'.-]+){{0,4}}{_STREET_WORDS}\s*\d+\s?[a-zA-Z]?(?:\s?[-/]\s?\d+[a-z]?)?"
    rf"|\d{{1,4}}(?:\s?(?:bis|ter|[a-z]))?,?\s{_STREET_FRONT}\s[^\n,·|]{{2,50}}"
    rf"|{_STREET_FRONT}\s[^\n,·|]{{2,50}}?\s\d{{1,4}}(?:[ ,]+\d+º)?"
    rf"|[A-ZÄÖÜ][\wäöüß.-]+(?:[ -][\wäöüß.-]+){{0,3}}\s\d{{1,4}}\s?[a-z]?)"
    rf"{_SEP}(?:[A-Z]{{1,2}}-)?(?P<postal_code>\d{{4,5}})[ \t]+(?P<locality>[A-ZÄÖÜÉ][\wäöüßéèàç.'-]+(?:[ -][A-ZÄÖÜÉ][\wäöüßéèàç.'-]+){{0,3}})"
    rf"(?:{_SEP}(?P<country>[A-ZÄÖÜÉ][\wäöüßñ]+(?: [A-Z][a-z]+){{0,3}}))?"
)
_NOT_STREET = re.compile(
    r"(?:tel|fon|fax|phone|p\.?o\.? box|hrb|ust|vat|order|invoice|no\.?|nr\.?|ref)\b", re.I
)


def address_from_text(text: str) -> dict:
    """A street + postal code + city address written in the page text (US, UK, European forms)."""
    for pattern, country in ((US_ADDRESS, "US"), (UK_ADDRESS, "GB")):
        m = pattern.search(text)
        if m:
            out = {k: clean(v) for k, v in m.groupdict().items() if v}
            out["country"] = country
            out["text"] = clean(re.sub(r"\s*\n\s*", ", ", m.group(0)))
            return out
    for m in EU_ADDRESS.finditer(text):
        street = clean(m.group("street"))
        if not re.search(r"[A-Za-zÄÖÜäöüß]{3}", street) or _NOT_STREET.match(street):
            continue
        out = {
            "street": street,
            "postal_code": m.group("postal_code"),
            "locality": clean(m.group("locality")),
        }
        country = clean(m.group("country") or "")
        end = m.end()
        if country and country_code(country):
            out["country"] = country
        else:
            end = m.end("locality")
        out["text"] = clean(re.sub(r"\s*\n\s*", ", ", text[m.start() : end]))
        return out
    return {}


def address_element(doc: Document) -> dict:
    if doc.root is None:
        return {}
    for el in doc.root.iter("address"):
        # <br> and blocks become line breaks so the parts stay apart.
        copy = copy_module.deepcopy(el)
        for node in copy.iter("br", "p", "div", "li"):
            node.tail = "\n" + (node.tail or "")
        try:
            # (after the text step the tree carries its block breaks as U+E000)
            raw = copy.text_content().replace("\ue000", "\n")
        except ValueError:
            continue
        lines = [clean(line) for line in raw.split("\n")]
        lines = [
            line
            for line in lines
            if line
            and not re.match(r"(?:t[eé]l|phone|fax|e-?mail|fon|mobil)", line, re.I)
            and "@" not in line
        ]
        if not lines:
            continue
        text = "\n".join(lines)
        parsed = address_from_text(text)
        parsed["text"] = ", ".join(lines)
        return parsed
    return {}
