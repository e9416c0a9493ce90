"""schema.org data: JSON-LD and microdata, normalised into plain dicts with a "@type" list.

JSON-LD is read leniently (HTML comments and CDATA around it, HTML-escaped JSON, trailing
commas, several objects in one script, raw control characters). `@graph`, arrays and nested
objects are all walked, and `{"@id": ...}` references are resolved against the page's nodes.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import json
import re
from dataclasses import dataclass, field

from .document import Document, absolute_url, clean, registered_domain

MAX_NODES = 2000
MAX_SCRIPT_CHARS = 1_000_000

ORGANIZATION_TYPES = frozenset(
    [
        "Organization",
        "Corporation",
        "NGO",
        "EducationalOrganization",
        "CollegeOrUniversity",
        "School",
        "ElementarySchool",
        "HighSchool",
        "MiddleSchool",
        "Preschool",
        "GovernmentOrganization",
        "NewsMediaOrganization",
        "MedicalOrganization",
        "SportsOrganization",
        "SportsTeam",
        "PerformingGroup",
        "Airline",
        "Consortium",
        "LibrarySystem",
        "OnlineBusiness",
        "OnlineStore",
        "ResearchOrganization",
        "Cooperative",
        "WorkersUnion",
        "PoliticalParty",
        "FundingScheme",
        "Project",
        "ResearchProject",
        "FundingAgency",
        "SearchRescueOrganization",
        "LocalBusiness",
        "ProfessionalService",
        "Store",
        "Restaurant",
        "FoodEstablishment",
        "LegalService",
        "FinancialService",
        "MedicalBusiness",
        "AutomotiveBusiness",
        "HomeAndConstructionBusiness",
        "LodgingBusiness",
        "RealEstateAgent",
        "TravelAgency",
        "EmploymentAgency",
        "EntertainmentBusiness",
        "HealthAndBeautyBusiness",
        "SportsActivityLocation",
        "InternetCafe",
        "Library",
        "RadioStation",
        "TelevisionStation",
        "RecyclingCenter",
        "SelfStorage",
        "ShoppingCenter",
        "TouristInformationCenter",
        "GovernmentOffice",
        "ChildCare",
        "DryCleaningOrLaundry",
        "EmergencyService",
        "AnimalShelter",
        "ArchiveOrganization",
        "Dentist",
        "Physician",
        "Attorney",
        "Notary",
        "AccountingService",
        "BankOrCreditUnion",
        "InsuranceAgency",
        "Bakery",
        "CafeOrCoffeeShop",
        "Hotel",
        "Pharmacy",
        "Hospital",
        "Clinic",
    ]
)
_ORG_SUFFIXES = ("Organization", "Business", "Service", "Store", "Agency", "Company")
# Where an organization hides inside other nodes (a SoftwareApplication's publisher...).
ORG_HOLDERS = (
    "publisher",
    "author",
    "creator",
    "provider",
    "brand",
    "manufacturer",
    "hiringOrganization",
    "organizer",
    "sourceOrganization",
    "copyrightHolder",
    "parentOrganization",
    "worksFor",
    "about",
    "mainEntity",
    "seller",
    "producer",
    "owner",
)


def type_names(node: dict) -> list[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if isinstance(v, str) and v:
            out.append(re.split(r"[/:#]", v.strip())[-1])
    return out


def is_organization(node: dict) -> bool:
    return any(t in ORGANIZATION_TYPES or t.endswith(_ORG_SUFFIXES) for t in type_names(node))


def has_type(node: dict, *names: str) -> bool:
    return any(t in names for t in type_names(node))


# --- JSON-LD -------------------------------------------------------------------------------

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_WRAPPERS = re.compile(
    r"^\s*(?:<!--|<!\[CDATA\[|/\*\s*<!\[CDATA\[\s*\*/|//\s*<!\[CDATA\[)|(?:-->|\]\]>|/\*\s*\]\]>\s*\*/|//\s*\]\]>)\s*$"
)
_LINE_COMMENT = re.compile(r"^\s*//[^\n]*$", re.M)


def _json_values(text: str) -> list:
    """All JSON values in a script body; [] when nothing could be read."""
    text = _WRAPPERS.sub("", text.strip()).strip()
    if not text:
        return []
    attempts = [text]
    if "&quot;" in text or "&#" in text or "&amp;" in text:
        attempts.append(html_lib.unescape(text))
    for candidate in list(attempts):
        fixed = _TRAILING_COMMA.sub(r"\1", _LINE_COMMENT.sub("", candidate))
        if fixed != candidate:
            attempts.append(fixed)
    for candidate in attempts:
        values = _decode_all(candidate)
        if values:
            return values
    return []


def _decode_all(text: str) -> list:
    decoder = json.JSONDecoder(strict=False)
    values: list = []
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos] in " \t\r\n;,":
            pos += 1
        if pos >= end:
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            break
        values.append(value)
    return values


def jsonld_blocks(doc: Document) -> list:
    if doc.root is None:
        return []
    out = []
    for script in doc.root.iter("script"):
        kind = (script.get("type") or "").lower()
        if "ld+json" not in kind:
            continue
        text = script.text or ""
        if not text or len(text) > MAX_SCRIPT_CHARS:
            continue
        out.extend(_json_values(text))
    return out


def collect_nodes(values: list) -> tuple[list[dict], list[dict]]:
    """(top-level nodes, all nodes) of typed objects found anywhere, @graph and arrays walked."""
    top: list[dict] = []
    every: list[dict] = []
    seen: set[int] = set()
    stack: list[tuple[object, bool]] = [(v, True) for v in reversed(values)]
    while stack and len(every) < MAX_NODES:
        value, is_top = stack.pop()
        if isinstance(value, list):
            stack.extend((v, is_top) for v in reversed(value))
            continue
        if not isinstance(value, dict) or id(value) in seen:
            continue
        seen.add(id(value))
        if "@graph" in value:
            stack.append((value["@graph"], True))
        if "@type" in value:
            every.append(value)
            if is_top:
                top.append(value)
        for key, child in value.items():
            if key != "@graph" and isinstance(child, dict | list):
                stack.append((child, False))
    return top, every


# --- microdata -----------------------------------------------------------------------------

_URL_PROPS_TAGS = {
    "a": "href",
    "link": "href",
    "area": "href",
    "img": "src",
    "audio": "src",
    "video": "src",
    "source": "src",
    "iframe": "src",
    "embed": "src",
    "track": "src",
    "object": "data",
}


def _microdata_value(el, base: str):
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "meta":
        return clean(el.get("content"))
    if tag in _URL_PROPS_TAGS:
        return absolute_url(base, el.get(_URL_PROPS_TAGS[tag])) or clean(
            el.get(_URL_PROPS_TAGS[tag])
        )
    if tag == "time" and el.get("datetime"):
        return clean(el.get("datetime"))
    if tag in ("data", "meter") and el.get("value") is not None:
        return clean(el.get("value"))
    if el.get("content") is not None:
        return clean(el.get("content"))
    try:
        return " ".join(el.text_content().split())
    except ValueError:
        return ""


def microdata_items(doc: Document) -> list[dict]:
    """Top-level microdata items as JSON-LD-like dicts (nested items as nested dicts)."""
    if doc.root is None:
        return []
    base = doc.base_url()
    items: list[dict] = []
    built: dict[object, dict] = {}
    scopes = doc.root.xpath("//*[@itemscope]")
    if not scopes:
        return []
    for scope in scopes[:MAX_NODES]:
        item: dict = {}
        itemtype = (scope.get("itemtype") or "").split()
        if itemtype:
            item["@type"] = [t.rstrip("/") for t in itemtype]
        if scope.get("itemid"):
            item["@id"] = scope.get("itemid")
        built[scope] = item
    for scope in scopes[:MAX_NODES]:
        item = built[scope]
        # Walk the descendants, not entering nested scopes (their properties are theirs).
        stack = list(reversed(scope))
        while stack:
            el = stack.pop()
            if not isinstance(el.tag, str):
                continue
            prop = el.get("itemprop")
            nested = el.get("itemscope") is not None
            if prop:
                value = built.get(el, {}) if nested else _microdata_value(el, base)
                for name in prop.split():
                    name = name.rsplit("/", 1)[-1]
                    if name in item:
                        existing = item[name]
                        item[name] = (
                            [*existing, value] if isinstance(existing, list) else [existing, value]
                        )
                    else:
                        item[name] = value
            if not nested:
                stack.extend(reversed(el))
        if scope.get("itemprop") is None:
            items.append(item)
    return items


# --- normalisation -------------------------------------------------------------------------


def first_text(value) -> str:
    if isinstance(value, list):
        for v in value:
            text = first_text(v)
            if text:
                return text
        return ""
    if isinstance(value, dict):
        return first_text(value.get("name") or value.get("@value") or value.get("value") or "")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return html_lib.unescape(clean(value))
    return ""


def url_value(value, base: str) -> str:
    if isinstance(value, list):
        for v in value:
            url = url_value(v, base)
            if url:
                return url
        return ""
    if isinstance(value, dict):
        return url_value(
            value.get("url") or value.get("contentUrl") or value.get("@id") or "", base
        )
    if isinstance(value, str):
        return absolute_url(base, html_lib.unescape(value.strip()))
    return ""


def names(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        name = first_text(v)
        if name and name not in out:
            out.append(name)
    return out


def postal_address(value) -> dict:
    """{street, locality, region, postal_code, country} of a PostalAddress (or its text)."""
    if isinstance(value, list):
        for v in value:
            address = postal_address(v)
            if address:
                return address
        return {}
    if isinstance(value, str):
        text = clean(value)
        return {"text": text} if text else {}
    if not isinstance(value, dict):
        return {}
    if "address" in value and not any(k.startswith("address") and k != "address" for k in value):
        return postal_address(value["address"])
    out = {
        "street": first_text(value.get("streetAddress")),
        "locality": first_text(value.get("addressLocality")),
        "region": first_text(value.get("addressRegion")),
        "postal_code": first_text(value.get("postalCode")),
        "country": first_text(value.get("addressCountry")),
    }
    out = {k: v for k, v in out.items() if v}
    if out:
        out["text"] = ", ".join(
            p
            for p in (
                out.get("street"),
                " ".join(x for x in (out.get("postal_code"), out.get("locality")) if x),
                out.get("region"),
                out.get("country"),
            )
            if p
        )
    return out


def employees(value):
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        lo, hi = value.get("minValue"), value.get("maxValue")
        if lo is not None or hi is not None:
            return {k: _number(v) for k, v in (("min", lo), ("max", hi)) if v is not None}
        return first_text(value.get("value"))
    return first_text(value)


def _number(value):
    try:
        return int(str(value).replace(",", "").strip())
    except ValueError:
        return clean(value)


def organization_fields(node: dict, base: str) -> dict:
    same_as = node.get("sameAs")
    same_as = same_as if isinstance(same_as, list) else [same_as]
    keywords = node.get("keywords")
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",")]
    keywords = names(keywords) if keywords else []
    out = {
        "name": first_text(node.get("name")),
        "legal_name": first_text(node.get("legalName")),
        "description": first_text(node.get("description")),
        "url": url_value(node.get("url"), base),
        "logo": url_value(node.get("logo") or node.get("image"), base) if node.get("logo") else "",
        "founding_date": first_text(node.get("foundingDate")),
        "founders": names(node.get("founder") or node.get("founders"))
        if (node.get("founder") or node.get("founders"))
        else [],
        "employees": employees(node.get("numberOfEmployees")),
        "address": postal_address(node.get("address") or node.get("location"))
        if (node.get("address") or node.get("location"))
        else {},
        "telephone": first_text(node.get("telephone")),
        "email": first_text(node.get("email")).removeprefix("mailto:").lower(),
        "same_as": [u for u in (url_value(s, base) for s in same_as) if u],
        "industry": first_text(node.get("industry") or node.get("naics") or node.get("isicV4")),
        "keywords": keywords,
    }
    return {k: v for k, v in out.items() if v}


@dataclass
class Structured:
    jsonld: list[dict] = field(default_factory=list)  # all typed JSON-LD nodes
    jsonld_top: list[dict] = field(default_factory=list)
    microdata: list[dict] = field(default_factory=list)  # all typed microdata items (flattened)
    microdata_top: list[dict] = field(default_factory=list)
    ids: dict = field(default_factory=dict)

    def resolve(self, value):
        if (
            isinstance(value, dict)
            and set(value) <= {"@id", "@type"}
            and value.get("@id") in self.ids
        ):
            return self.ids[value["@id"]]
        return value

    def nodes(self, method: str) -> list[dict]:
        return self.jsonld if method == "json-ld" else self.microdata


def read_structured(doc: Document) -> Structured:
    result = Structured()
    with contextlib.suppress(RecursionError):
        result.jsonld_top, result.jsonld = collect_nodes(jsonld_blocks(doc))
    with contextlib.suppress(RecursionError):
        result.microdata_top, result.microdata = collect_nodes(microdata_items(doc))
    for node in result.jsonld + result.microdata:
        node_id = node.get("@id")
        if isinstance(node_id, str) and len(node) > 2 and node_id not in result.ids:
            result.ids[node_id] = node
    return result


def _org_candidates(data: Structured, method: str) -> list[tuple[dict, bool]]:
    """(organization node, is top-level) in page order, @id references resolved."""
    top = data.jsonld_top if method == "json-ld" else data.microdata_top
    top_ids = {id(n) for n in top}
    out: list[tuple[dict, bool]] = []
    seen: set[int] = set()
    for node in data.nodes(method):
        candidates = [node] if is_organization(node) else []
        for key in ORG_HOLDERS:
            held = node.get(key)
            for h in held if isinstance(held, list) else [held]:
                h = data.resolve(h)
                if isinstance(h, dict) and is_organization(h):
                    candidates.append(h)
        for c in candidates:
            if id(c) not in seen:
                seen.add(id(c))
                out.append((c, id(c) in top_ids))
    return out


def find_organization(data: Structured, doc: Document) -> tuple[dict, str, list[dict]]:
    """(merged organization fields, method, the raw nodes used)."""
    base = doc.base_url()
    page_domain = doc.domain
    for method in ("json-ld", "microdata"):
        candidates = _org_candidates(data, method)
        if not candidates:
            continue
        scored = []
        for order, (node, is_top) in enumerate(candidates):
            fields = organization_fields(node, base)
            if not fields.get("name") and not fields.get("url") and not fields.get("logo"):
                continue
            score = len(fields) + (3 if is_top else 0)
            if (
                fields.get("url")
                and page_domain
                and registered_domain(fields["url"]) == page_domain
            ):
                score += 5
            if has_type(node, "Organization", "Corporation", "LocalBusiness", "OnlineBusiness"):
                score += 1
            scored.append((score, -order, node, fields))
        if not scored:
            continue
        scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
        _, _, best_node, merged = scored[0]
        used = [best_node]
        best_name = (merged.get("name") or "").casefold()
        best_domain = registered_domain(merged["url"]) if merged.get("url") else ""
        for _, _, node, fields in scored[1:]:
            same = (best_name and (fields.get("name") or "").casefold() == best_name) or (
                best_domain
                and fields.get("url")
                and registered_domain(fields["url"]) == best_domain
            )
            if best_node.get("@id") and node.get("@id") == best_node.get("@id"):
                same = True
            if not same:
                continue
            used.append(node)
            for key, value in fields.items():
                if key == "same_as":
                    merged["same_as"] = merged.get("same_as", []) + [
                        u for u in value if u not in merged.get("same_as", [])
                    ]
                elif key not in merged:
                    merged[key] = value
        # Founders and the address may be separate nodes referenced by @id.
        for node in used:
            for key in ("founder", "founders"):
                refs = node.get(key)
                if refs and not merged.get("founders"):
                    refs = [data.resolve(r) for r in (refs if isinstance(refs, list) else [refs])]
                    merged["founders"] = names(refs)
            if node.get("address") and not merged.get("address"):
                merged["address"] = postal_address(data.resolve(node["address"]))
            if node.get("logo") and not merged.get("logo"):
                merged["logo"] = url_value(data.resolve(node["logo"]), base)
        return {k: v for k, v in merged.items() if v}, method, used
    return {}, "", []


_PRODUCT_TYPES = (
    "Product",
    "ProductGroup",
    "SoftwareApplication",
    "WebApplication",
    "MobileApplication",
    "Service",
)


def product_names(data: Structured, limit: int = 20) -> list[str]:
    """Names of the products, applications and services the page describes (schema.org
    Product, SoftwareApplication and its kinds, Service), in page order, without repeats.
    A typed organization (FinancialService...) is not a product."""
    out: list[str] = []
    seen: set[str] = set()
    for node in data.jsonld + data.microdata:
        if not has_type(node, *_PRODUCT_TYPES):
            continue
        if is_organization(node) and "Service" not in type_names(node):
            continue
        name = first_text(node.get("name")).strip()
        if name and 1 < len(name) <= 120 and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
            if len(out) >= limit:
                break
    return out


def website_name(data: Structured) -> str:
    for node in data.jsonld + data.microdata:
        if has_type(node, "WebSite"):
            name = first_text(node.get("name"))
            if name:
                return name
    return ""


def postal_addresses(data: Structured) -> list[tuple[dict, str]]:
    """PostalAddress nodes of the page, not those of job postings, events or people."""
    skip: set[int] = set()
    for node in data.jsonld + data.microdata:
        if has_type(node, "JobPosting", "Event", "Person", "Offer", "Product"):
            stack = [v for k, v in node.items() if k != "@type"]
            while stack:
                value = stack.pop()
                if isinstance(value, list):
                    stack.extend(value)
                elif isinstance(value, dict) and id(value) not in skip:
                    skip.add(id(value))
                    stack.extend(value.values())
    out = []
    for method in ("json-ld", "microdata"):
        for node in data.nodes(method):
            if id(node) not in skip and has_type(node, "PostalAddress"):
                address = postal_address(node)
                if address:
                    out.append((address, method))
    return out
