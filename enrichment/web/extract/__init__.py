"""Extractors over fetched HTML: company facts from one page, as plain data.

A leaf library: it imports only the standard library, lxml, tldextract and phonenumbers. The
page is decoded and parsed once; every extractor reads the same tree (the visible text runs
last, because it strips the tree). `extract_page` never raises on bad input: it returns what
it could read.

    facts = extract_page(html, url, headers=response.headers, cookies=names)
    facts.organization, facts.social, facts.technologies, facts.as_dict()
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from . import contacts, links, meta, people, structured, technologies, text
from .document import Document, absolute_url, load
from .technologies import TECHNOLOGIES

__all__ = ["TECHNOLOGIES", "PageFacts", "detect_technologies", "extract_page"]

log = logging.getLogger(__name__)

DEFAULT_TEXT_BUDGET = 20_000


@dataclass
class PageFacts:
    url: str  # the page's URL (final URL after redirects)
    title: str = ""
    description: str = ""  # meta description, else og:description
    canonical_url: str = ""
    site_name: str = ""
    language: str = ""
    organization: dict = field(default_factory=dict)  # merged schema.org Organization
    organization_method: str = ""  # "json-ld" | "microdata" | ""
    meta: dict = field(
        default_factory=dict
    )  # {"og:title": ..., "twitter:site": ..., "generator": ...}
    logo: str = ""
    logo_method: str = ""  # "json-ld" | "microdata" | "link" | "meta" | "img"
    favicon: str = ""
    social: dict = field(default_factory=dict)  # network -> profile URL
    emails: list = field(default_factory=list)  # normalized lower-case, unique, in page order
    phones: list = field(default_factory=list)  # [{"raw": ..., "e164": ...}]
    address: dict = field(
        default_factory=dict
    )  # {street, locality, region, postal_code, country, text}
    links: dict = field(default_factory=dict)  # kind -> absolute URL on the same registered domain
    people: list = field(default_factory=list)  # [{"name", "title", "method"}]
    jobs: list = field(default_factory=list)  # [{"title", "url", "location", "method"}]
    technologies: list = field(default_factory=list)  # [{"name", "category", "evidence"}]
    text: str = ""

    def as_dict(self) -> dict:
        return _json_safe(asdict(self))


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _step(facts: PageFacts, name: str, func, *args, default=None):
    """Run one extractor; a failure in one keeps what the others found."""
    try:
        return func(*args)
    except Exception:
        log.debug("extractor %s failed on %s", name, facts.url, exc_info=True)
        return copy.copy(default)


def extract_page(
    html: str | bytes,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    cookies: Iterable[str] = (),
    text_budget: int = DEFAULT_TEXT_BUDGET,
) -> PageFacts:
    """Everything the page says about the company behind it."""
    facts = PageFacts(url=url or "")
    try:
        doc = load(html, facts.url, headers)
    except Exception:
        log.debug("could not decode %s", url, exc_info=True)
        return facts
    facts.technologies = _step(
        facts, "technologies", technologies.detect, doc, headers, cookies, default=[]
    )
    if doc.root is None:
        return facts

    data = _step(
        facts, "structured", structured.read_structured, doc, default=structured.Structured()
    )
    organization, method, _nodes = _step(
        facts, "organization", structured.find_organization, data, doc, default=({}, "", [])
    )
    products = _step(facts, "products", structured.product_names, data, default=[])
    # A product named like its maker ("Widgetly" by Widgetly) says nothing new.
    own = (organization.get("name") or "").casefold()
    products = [p for p in products if p.casefold() != own]
    if products:
        organization = {**organization, "products": products}
        if not method:  # products described, the organization not
            method = "json-ld" if data.jsonld else "microdata"
    facts.organization, facts.organization_method = organization, method

    found = _step(facts, "meta", meta.read_meta, doc, default={})
    facts.meta = found
    facts.title = _step(facts, "title", meta.title, doc, found, default="")
    facts.description = meta.description(found) or organization.get("description", "")
    facts.canonical_url = _step(facts, "canonical", meta.canonical_url, doc, found, default="")
    facts.language = _step(facts, "language", meta.language, doc, found, default="")
    facts.site_name = (
        found.get("og:site_name")
        or _step(facts, "site name", structured.website_name, data, default="")
        or found.get("application-name")
        or organization.get("name", "")
    )

    icon_list = _step(facts, "icons", meta.icons, doc, default=[])
    facts.favicon = meta.favicon(icon_list)
    facts.logo, facts.logo_method = _step(
        facts,
        "logo",
        meta.choose_logo,
        doc,
        organization.get("logo", ""),
        method,
        icon_list,
        found,
        default=("", ""),
    )

    facts.social = _step(
        facts, "social", contacts.social_links, doc, organization.get("same_as", []), default={}
    )
    if "twitter" not in facts.social:  # the site's own handle in <meta name="twitter:site">
        handle = contacts.twitter_handle(found.get("twitter:site", ""))
        if handle:
            facts.social = {**facts.social, "twitter": f"https://x.com/{handle}"}
    facts.links = _step(facts, "links", links.page_links, doc, default={})
    facts.jobs = _step(facts, "jobs", people.open_roles, doc, data, default=[])

    # The tree-reading people patterns run before the text step strips the tree, and only on
    # pages that look like team pages.
    team = (
        _step(facts, "team", people.team_people, doc, default=[])
        if _step(facts, "team page", people.is_team_page, doc, data, default=False)
        else []
    )
    all_text, visible = _step(
        facts, "text", text.page_text, doc.root, doc.html_lower, default=("", "")
    )
    facts.text = text.cut(visible, text_budget)

    org_address = organization.get("address") or {}
    schema_addresses = _step(facts, "addresses", structured.postal_addresses, data, default=[])
    if org_address and any(k != "text" for k in org_address):
        facts.address = dict(org_address)
    elif schema_addresses:
        facts.address = dict(schema_addresses[0][0])
    else:
        facts.address = _step(
            facts, "address element", contacts.address_element, doc, default={}
        ) or _step(facts, "address text", contacts.address_from_text, all_text, default={})
    if not facts.address and org_address:
        facts.address = dict(org_address)

    region = contacts.region_hint(facts.language, facts.url, facts.address.get("country", ""))
    org_email = [organization["email"]] if organization.get("email") else []
    facts.emails = _step(facts, "emails", contacts.emails, doc, all_text, org_email, default=[])
    org_phone = [organization["telephone"]] if organization.get("telephone") else []
    facts.phones = _step(
        facts, "phones", contacts.phones, doc, all_text, region, org_phone, default=[]
    )

    facts.people = _step(facts, "people", _people, doc, data, team, all_text, default=[])
    return facts


def _people(
    doc: Document, data: structured.Structured, team: list[dict], all_text: str
) -> list[dict]:
    out: list[dict] = []
    seen: set[str] = set()
    for person in people.schema_people(data) + team + people.role_lines(all_text):
        name = " ".join(str(person.get("name") or "").split())
        key = links.fold(name)
        if not name or key in seen or len(name) > 80:
            if key in seen and person.get("title"):
                for p in out:
                    if links.fold(p["name"]) == key and not p["title"]:
                        p["title"] = person["title"]
            continue
        seen.add(key)
        out.append(
            {
                "name": name,
                "title": " ".join(str(person.get("title") or "").split()),
                "method": person["method"],
            }
        )
    return out[: people.MAX_PEOPLE]


def detect_technologies(
    html: str | bytes, *, headers: Mapping[str, str] | None = None, cookies: Iterable[str] = ()
) -> list[dict]:
    """[{"name", "category", "evidence"}] for the technologies the page and its headers show."""
    try:
        return technologies.detect(load(html, "", headers), headers, cookies)
    except Exception:
        log.debug("technology detection failed", exc_info=True)
        return []


# Re-exported for callers that build URLs the same way the extractors do.
absolute_url = absolute_url
