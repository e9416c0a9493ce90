"""From evidence to a company profile: the offline reconciler.

The enrichment pipeline (enrichment.pipeline) gathers evidence about one company: the pages it
fetched with what the extractors found on each (enrichment.web.extract.PageFacts.as_dict()),
and the search results it got. `reconcile()` turns that into the profile, every field with the
URL it came from, the method (json-ld, microdata, meta, page text, search, ai) and a confidence.

These are rules, not a model: structured data first, then meta tags, then patterns in the
page text and in search snippets. The agents issue plugs an AI model in through
`enrichment.ai.fill_profile`, which calls this first and lets the model fill and correct
the rest; without a model, this is the whole answer, plainly labelled by its methods.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

# The profile's fields, in the order a page shows them.
FIELDS = (
    "name",
    "website",
    "domain",
    "description",
    "industry",
    "sub_industry",
    "employee_range",
    "founded_year",
    "headquarters",
    "funding_stage",
    "total_funding",
    "investors",
    "recent_news",
    "competitors",
    "products",
    "pricing_model",
    "technologies",
    "social",
    "emails",
    "phones",
    "logo",
    "hiring",
    "people",
    "sources",
)
LIST_FIELDS = frozenset(
    {
        "investors",
        "recent_news",
        "competitors",
        "products",
        "technologies",
        "emails",
        "phones",
        "hiring",
        "people",
        "sources",
    }
)
FIELD_LABELS = {
    "name": "Name",
    "website": "Website",
    "domain": "Domain",
    "description": "Description",
    "industry": "Industry",
    "sub_industry": "Sub-industry",
    "employee_range": "Employees",
    "founded_year": "Founded",
    "headquarters": "Headquarters",
    "funding_stage": "Funding stage",
    "total_funding": "Total funding",
    "investors": "Investors",
    "recent_news": "Recent news",
    "competitors": "Competitors",
    "products": "Products",
    "pricing_model": "Pricing model",
    "technologies": "Technologies",
    "social": "Social profiles",
    "emails": "Emails",
    "phones": "Phones",
    "logo": "Logo",
    "hiring": "Open roles",
    "people": "Key people",
    "sources": "Sources",
}

# Confidence by method: structured data says what the company says about itself.
CONFIDENCE = {
    "json-ld": 0.9,
    "microdata": 0.85,
    "meta": 0.75,
    "links": 0.8,
    "headers": 0.8,
    "page text": 0.55,
    "search": 0.45,
    "ai": 0.6,
    "input": 1.0,
}

# The same buckets as leads.models.CompanySize, so a result can fill a company's size.
EMPLOYEE_RANGES = (
    (1, 10, "1-10"),
    (11, 50, "11-50"),
    (51, 200, "51-200"),
    (201, 500, "201-500"),
    (501, 1000, "501-1000"),
    (1001, 5000, "1001-5000"),
    (5001, 10000, "5001-10000"),
    (10001, 10**9, "10001+"),
)

# Industry and sub-industry from words of the description, keywords and page text. First
# match wins, so the more specific rows come first.
INDUSTRY_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Financial Services", "Payments", ("payment", "payments", "checkout", "acquiring", "payouts")),
    ("Financial Services", "Banking", ("neobank", "bank account", "banking")),
    ("Financial Services", "Insurance", ("insurance", "insurtech", "underwriting")),
    ("Financial Services", "Fintech", ("fintech", "lending", "invoicing", "expense management")),
    ("Software", "Developer Tools", ("developer", "developers", "api platform", "devops", "sdk")),
    ("Software", "Cybersecurity", ("security", "cybersecurity", "threat", "zero trust", "siem")),
    ("Software", "Data and Analytics", ("analytics", "data warehouse", "business intelligence")),
    ("Software", "Artificial Intelligence", ("artificial intelligence", "machine learning", "llm")),
    ("Software", "Sales and Marketing", ("crm", "marketing automation", "sales engagement")),
    ("Software", "HR and Recruiting", ("recruiting", "payroll", "hr software", "applicant")),
    ("Software", "Collaboration", ("collaboration", "project management", "workspace")),
    ("Software", "SaaS", ("saas", "software as a service", "cloud platform", "platform for")),
    ("Healthcare", "Health Tech", ("healthcare", "patients", "clinical", "telehealth", "medical")),
    ("Healthcare", "Biotech", ("biotech", "drug discovery", "therapeutics", "pharma")),
    ("Retail", "E-commerce", ("e-commerce", "ecommerce", "online store", "shop now", "webshop")),
    ("Education", "EdTech", ("education", "learning platform", "students", "courses")),
    ("Manufacturing", "Industrial", ("manufacturing", "industrial", "factory", "machinery")),
    ("Logistics", "Supply Chain", ("logistics", "shipping", "freight", "supply chain")),
    ("Real Estate", "PropTech", ("real estate", "property management", "proptech")),
    ("Energy", "Clean Energy", ("solar", "renewable", "energy storage", "clean energy")),
    ("Media", "Publishing", ("publisher", "newsroom", "magazine", "media company")),
    ("Professional Services", "Consulting", ("consulting", "consultancy", "advisory")),
    ("Professional Services", "Agency", ("agency", "design studio", "digital agency")),
    ("Hospitality", "Travel", ("travel", "hotel", "booking", "hospitality")),
    ("Telecommunications", "Telecom", ("telecom", "mobile network", "connectivity")),
)

_STAGES = (
    ("ipo", "Public", r"\b(ipo|initial public offering|nasdaq|nyse|publicly traded)\b"),
    ("series_e", "Series E+", r"\bseries [e-h]\b"),
    ("series_d", "Series D", r"\bseries d\b"),
    ("series_c", "Series C", r"\bseries c\b"),
    ("series_b", "Series B", r"\bseries b\b"),
    ("series_a", "Series A", r"\bseries a\b"),
    ("seed", "Seed", r"\b(pre-seed|seed round|seed funding|seed)\b"),
)
_MONEY = re.compile(
    r"(?P<cur>[$€£])\s?(?P<num>\d+(?:[.,]\d+)?)\s?(?P<unit>billion|million|bn|m|b|k)\b",
    re.IGNORECASE,
)
_RAISED = re.compile(r"\b(raise[sd]?|raising|funding|round|investment|secures?|closed?)\b", re.I)
_LED_BY = re.compile(
    r"\b(?i:led by|from investors?(?: including)?|backed by|participation (?:from|of))\s+"
    r"(?P<names>[A-Z][\w&.'-]*(?:\s+[A-Z][\w&.'-]*)*(?:\s*(?:,|and|&)\s*[A-Z][\w&.'-]*"
    r"(?:\s+[A-Z][\w&.'-]*)*)*)"
)
_FOUNDED = re.compile(
    r"\b(?:founded|established|since|gegründet|fondée?|fundad[ao])\s+(?:in\s+|im\s+|en\s+)?"
    r"(?P<year>(?:18|19|20)\d{2})\b",
    re.IGNORECASE,
)
_EMPLOYEES = re.compile(
    r"\b(?P<n>\d{1,3}(?:[,.]\d{3})*|\d+)\+?\s+(?:employees|people|team members|staff|"
    r"mitarbeiter(?:innen)?|salariés|empleados)\b",
    re.IGNORECASE,
)
_VS = re.compile(r"\bvs\.?\s+(?P<other>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,2})")
_ALTERNATIVES = re.compile(r"(?P<name>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,2})\s+alternatives?\b")
_LIST_OF_NAMES = re.compile(
    r"\b(?:competitors|alternatives|rivals)\s+(?:include|are|like|such as)\s+(?P<names>[^.;:]+)",
    re.I,
)

_PRICING = (
    ("Free", r"\b(free forever|free plan|always free|100% free)\b"),
    ("Freemium", r"\b(freemium|free tier|start for free|get started free)\b"),
    (
        "Usage-based",
        r"\b(pay as you go|per request|per api call|usage-based|per gb|per transaction)\b",
    ),
    ("Per seat", r"\b(per user|per seat|/user|/seat|per member)\b"),
    ("Subscription", r"\b(per month|/mo\b|/month|monthly|annually|billed yearly|subscription)\b"),
    (
        "Quote-based",
        r"\b(contact sales|request a quote|get a quote|custom pricing|talk to sales)\b",
    ),
)
_PRICE = re.compile(r"[$€£]\s?\d|\d\s?(?:€|eur|usd)\b", re.I)
_TRIAL = re.compile(r"\b(free trial|try (?:it )?free|\d+[- ]day trial)\b", re.I)


@dataclass
class Profile:
    """The reconciled profile: `fields` (flat, JSON-safe) and per field its source."""

    fields: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, name: str, value: Any, url: str, method: str, confidence: float | None = None):
        """Set a field unless it already has a value (callers try the best evidence first)."""
        if _empty(value) or not _empty(self.fields.get(name)):
            return
        self.fields[name] = value
        self.sources[name] = {
            "url": url,
            "method": method,
            "confidence": CONFIDENCE.get(method, 0.5) if confidence is None else confidence,
        }


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def registered_domain_of(url: str) -> str:
    """The host of a URL without "www." (the pipeline passes the registered domain in the
    evidence; this is the fallback for URLs found along the way)."""
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def employee_range(count: int) -> str:
    for low, high, label in EMPLOYEE_RANGES:
        if low <= count <= high:
            return label
    return ""


def _employees_from(value: Any) -> str:
    """numberOfEmployees as schema.org writes it: 250, "250", "51-200", {min, max}."""
    if isinstance(value, dict):
        value = value.get("max") or value.get("maxValue") or value.get("value") or value.get("min")
    if isinstance(value, (int, float)):
        return employee_range(int(value))
    text = str(value or "").replace(",", "").replace(".", "")
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    return employee_range(max(numbers)) if numbers else ""


def _year(value: Any) -> int | None:
    match = re.search(r"\b(1[89]\d{2}|20\d{2})\b", str(value or ""))
    if not match:
        return None
    year = int(match.group(1))
    return year if 1800 <= year <= date.today().year else None


def money_to_number(currency: str, number: str, unit: str) -> tuple[str, float]:
    value = float(number.replace(",", "."))
    scale = {"k": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
    return {"$": "USD", "€": "EUR", "£": "GBP"}[currency], value * scale[unit.lower()]


def format_money(currency: str, amount: float) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}[currency]
    if amount >= 1e9:
        return f"{symbol}{amount / 1e9:.3g}B"
    if amount >= 1e6:
        return f"{symbol}{amount / 1e6:.3g}M"
    return f"{symbol}{amount / 1e3:.3g}K"


_TITLE_PARTS = re.compile(r"\s+[|·•–—:-]\s+|\s+[|·•–—]\s*|\s*[|·•–—]\s+")


def name_from_title(title: str, domain: str) -> str:
    """The brand in a page title: "Acme — Payments for the internet" -> "Acme". The part that
    matches the domain's label wins; else a short first or last part; else nothing."""
    parts = [p.strip() for p in _TITLE_PARTS.split(title or "") if p.strip()]
    if not parts:
        return ""
    label = re.sub(r"[^a-z0-9]", "", domain.split(".")[0].lower()) if domain else ""
    if label:
        for part in parts:
            squashed = re.sub(r"[^a-z0-9]", "", part.lower())
            if squashed and (squashed == label or (len(part) <= 40 and label in squashed)):
                return part
    if len(parts) > 1:
        short = [p for p in (parts[0], parts[-1]) if len(p) <= 30]
        return min(short, key=len) if short else ""
    return parts[0] if len(parts[0]) <= 30 else ""


def _classify_industry(texts: Iterable[str]) -> tuple[str, str, str] | None:
    """(industry, sub-industry, the word that matched) from the first text with a match."""
    for text in texts:
        lowered = f" {text.lower()} "
        for industry, sub, words in INDUSTRY_RULES:
            for word in words:
                if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", lowered):
                    return industry, sub, word
    return None


def _names(text: str) -> list[str]:
    parts = re.split(r"\s*(?:,|\band\b|&)\s*", text)
    names = []
    for part in parts:
        part = part.strip(" .")
        if 1 < len(part) <= 60 and part[0].isupper():
            names.append(part)
    return names


def _unique(values: Iterable[Any], key=lambda v: v) -> list[Any]:
    seen, out = set(), []
    for value in values:
        marker = key(value)
        if marker in seen or _empty(value):
            continue
        seen.add(marker)
        out.append(value)
    return out


def _pages(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    return [page for page in evidence.get("pages", []) if page.get("facts")]


def reconcile(evidence: dict[str, Any]) -> Profile:
    """The profile from the evidence (see the module docstring for its shape)."""
    profile = Profile()
    query = evidence.get("query") or {}
    pages = _pages(evidence)
    home = next((p for p in pages if p.get("kind") == "home"), pages[0] if pages else None)
    searches = evidence.get("searches") or {}

    _identity(profile, evidence, query, pages, home)
    _firmographics(profile, pages, searches)
    _funding(profile, searches)
    own_names = {
        str(n).lower()
        for n in (
            profile.fields.get("name"),
            query.get("name"),
            evidence.get("domain", "").split(".")[0],
        )
        if n
    }
    _news_and_competitors(profile, searches, own_names)
    _offer(profile, pages)
    _contacts(profile, pages)
    _people_and_hiring(profile, pages)
    urls = [p["url"] for p in pages] + [
        r["url"] for results in searches.values() for r in results if r.get("url")
    ]
    used = [source["url"] for source in profile.sources.values() if source.get("url")]
    profile.fields["sources"] = _unique(used + urls)[:40]
    return profile


def _identity(profile, evidence, query, pages, home) -> None:
    website = evidence.get("website") or ""
    domain = evidence.get("domain") or (registered_domain_of(website) if website else "")
    if home:
        facts, url = home["facts"], home["url"]
        org = facts.get("organization") or {}
        method = facts.get("organization_method") or "json-ld"
        profile.put("name", org.get("name") or org.get("legal_name"), url, method)
        profile.put("name", facts.get("site_name"), url, "meta")
        profile.put("description", org.get("description"), url, method)
        profile.put("description", facts.get("description"), url, "meta")
        profile.put("logo", facts.get("logo"), url, facts.get("logo_method") or "meta")
        profile.put("logo", facts.get("favicon"), url, "links", 0.4)
        profile.put("website", facts.get("canonical_url") or url, url, "links")
    for page in pages:  # structured data anywhere on the site
        org = page["facts"].get("organization") or {}
        method = page["facts"].get("organization_method") or "json-ld"
        profile.put("name", org.get("name"), page["url"], method)
        profile.put("description", org.get("description"), page["url"], method)
    if query.get("name"):
        profile.put("name", query["name"], "", "input")
    profile.put("website", website, website, "input" if query.get("website") else "search")
    profile.put("domain", domain, website, "input" if query.get("domain") else "links")
    if home and not profile.fields.get("name"):
        profile.put(
            "name",
            name_from_title(home["facts"].get("title", ""), domain),
            home["url"],
            "meta",
            0.5,
        )
    if not profile.fields.get("name") and domain:
        label = domain.split(".")[0]
        profile.put("name", label[:1].upper() + label[1:], website, "page text", 0.3)


def _firmographics(profile, pages, searches) -> None:
    for page in pages:
        facts, url = page["facts"], page["url"]
        org = facts.get("organization") or {}
        method = facts.get("organization_method") or "json-ld"
        profile.put("founded_year", _year(org.get("founding_date")), url, method)
        profile.put("employee_range", _employees_from(org.get("employees")), url, method)
        address = org.get("address") or facts.get("address") or {}
        place = ", ".join(
            part for part in (address.get("locality"), address.get("country")) if part
        ) or (address.get("text") or "")
        profile.put("headquarters", place, url, method if org.get("address") else "page text")
        if org.get("industry"):
            profile.put("industry", str(org["industry"]), url, method)
    texts = []
    for page in pages:
        facts = page["facts"]
        org = facts.get("organization") or {}
        texts.append(
            (
                page["url"],
                " ".join(str(v) for v in (org.get("description"), org.get("keywords")) if v),
                "json-ld",
            )
        )
        texts.append((page["url"], facts.get("description") or "", "meta"))
    for page in pages:
        texts.append((page["url"], page["facts"].get("text") or "", "page text"))
    for url, text, method in texts:
        if not text:
            continue
        found = _classify_industry([text])
        if found:
            industry, sub, _word = found
            profile.put("industry", industry, url, method, CONFIDENCE[method] - 0.15)
            profile.put("sub_industry", sub, url, method, CONFIDENCE[method] - 0.2)
            break
    for url, text, _method in texts:
        if not profile.fields.get("founded_year"):
            match = _FOUNDED.search(text)
            if match:
                profile.put("founded_year", _year(match.group("year")), url, "page text")
        if not profile.fields.get("employee_range"):
            match = _EMPLOYEES.search(text)
            if match:
                count = int(re.sub(r"[,.]", "", match.group("n")))
                profile.put("employee_range", employee_range(count), url, "page text")
    for result in searches.get("funding", []) + searches.get("news", []):
        text = f"{result.get('title', '')}. {result.get('snippet', '')}"
        match = _FOUNDED.search(text)
        if match:
            profile.put("founded_year", _year(match.group("year")), result.get("url", ""), "search")
        match = _EMPLOYEES.search(text)
        if match:
            count = int(re.sub(r"[,.]", "", match.group("n")))
            profile.put("employee_range", employee_range(count), result.get("url", ""), "search")


def _funding(profile, searches) -> None:
    best_stage: tuple[int, str, str] | None = None
    largest: tuple[float, str, str] | None = None
    investors: list[str] = []
    investor_url = ""
    for result in searches.get("funding", []) + searches.get("news", []):
        text = f"{result.get('title', '')}. {result.get('snippet', '')}"
        url = result.get("url", "")
        lowered = text.lower()
        for rank, (_code, label, pattern) in enumerate(_STAGES):
            if re.search(pattern, lowered):
                if best_stage is None or rank < best_stage[0]:
                    best_stage = (rank, label, url)
                break
        if _RAISED.search(text):
            for match in _MONEY.finditer(text):
                currency, amount = money_to_number(match["cur"], match["num"], match["unit"])
                if largest is None or amount > largest[0]:
                    largest = (amount, format_money(currency, amount), url)
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            for match in _LED_BY.finditer(sentence):
                names = _names(match.group("names"))
                if names and not investor_url:
                    investor_url = url
                investors.extend(names)
    if best_stage:
        profile.put("funding_stage", best_stage[1], best_stage[2], "search")
    if largest:
        profile.put("total_funding", largest[1], largest[2], "search", 0.35)
    profile.put("investors", _unique(investors)[:10], investor_url, "search")


def _news_and_competitors(profile, searches, own_names: set[str]) -> None:
    news = [
        {"title": r.get("title", ""), "url": r.get("url", ""), "date": r.get("published") or ""}
        for r in searches.get("news", [])
        if r.get("url") and r.get("title")
    ]
    if news:
        profile.put("recent_news", news[:8], "", "search")

    def is_own(candidate: str) -> bool:
        lowered = candidate.lower()
        return any(lowered == own or own.startswith(lowered + " ") for own in own_names)

    competitors: list[str] = []
    first_url = ""
    for result in searches.get("competitors", []):
        text = f"{result.get('title', '')}. {result.get('snippet', '')}"
        found = [m.group("other") for m in _VS.finditer(text)]
        found += [m.group("name") for m in _ALTERNATIVES.finditer(text)]
        for match in _LIST_OF_NAMES.finditer(text):
            found += _names(match.group("names"))
        found = [
            f.strip()
            for f in found
            if f.strip() and not is_own(f.strip()) and f.strip().lower() not in ("top", "best")
        ]
        if found and not first_url:
            first_url = result.get("url", "")
        competitors.extend(found)
    profile.put("competitors", _unique(competitors, key=str.lower)[:10], first_url, "search")


def _offer(profile, pages) -> None:
    products: list[str] = []
    product_url = ""
    for page in pages:
        org = page["facts"].get("organization") or {}
        for item in org.get("products") or []:
            if item and not product_url:
                product_url = page["url"]
            products.append(str(item))
    profile.put("products", _unique(products)[:15], product_url, "json-ld")
    pricing = [p for p in pages if p.get("kind") == "pricing"] or pages
    for page in pricing:
        text = (page["facts"].get("text") or "").lower()
        models = [label for label, pattern in _PRICING if re.search(pattern, text)]
        if "Quote-based" in models and not _PRICE.search(text):
            models = ["Quote-based"]  # no prices shown, only "talk to us"
        if models:
            value = models[0]
            if _TRIAL.search(text) and value not in ("Free", "Freemium"):
                value = f"{value} with free trial"
            confidence = 0.6 if page.get("kind") == "pricing" else 0.35
            profile.put("pricing_model", value, page["url"], "page text", confidence)
            break
    technologies = []
    tech_url = ""
    for page in pages:
        for tech in page["facts"].get("technologies") or []:
            if not tech_url:
                tech_url = page["url"]
            technologies.append(
                {"name": tech.get("name", ""), "category": tech.get("category", "")}
            )
    profile.put(
        "technologies", _unique(technologies, key=lambda t: t["name"])[:40], tech_url, "headers"
    )


def _contacts(profile, pages) -> None:
    social: dict[str, str] = {}
    social_url = ""
    emails: list[str] = []
    phones: list[str] = []
    email_url = phone_url = ""
    ordered = sorted(pages, key=lambda p: p.get("kind") != "contact")
    for page in ordered:
        facts = page["facts"]
        org = facts.get("organization") or {}
        for network, link in (facts.get("social") or {}).items():
            if link and network not in social:
                social[network] = link
                social_url = social_url or page["url"]
        found_emails = [e for e in facts.get("emails") or [] if e]
        if org.get("email"):
            found_emails.insert(0, str(org["email"]).removeprefix("mailto:").lower())
        if found_emails and not email_url:
            email_url = page["url"]
        emails.extend(found_emails)
        found_phones = [p.get("e164") or p.get("raw") for p in facts.get("phones") or []]
        if org.get("telephone"):
            found_phones.insert(0, str(org["telephone"]))
        if found_phones and not phone_url:
            phone_url = page["url"]
        phones.extend(p for p in found_phones if p)
    profile.put("social", social, social_url, "links")
    profile.put("emails", _unique(emails)[:10], email_url, "page text")
    profile.put("phones", _unique(phones)[:10], phone_url, "page text")


def _people_and_hiring(profile, pages) -> None:
    people, jobs = [], []
    people_url = jobs_url = ""
    people_method = jobs_method = "page text"
    for page in pages:
        facts = page["facts"]
        for person in facts.get("people") or []:
            if person.get("name"):
                people_url = people_url or page["url"]
                if person.get("method") in ("json-ld", "microdata"):
                    people_method = person["method"]
                people.append({"name": person["name"], "title": person.get("title", "")})
        for job in facts.get("jobs") or []:
            if job.get("title"):
                jobs_url = jobs_url or page["url"]
                if job.get("method") in ("json-ld", "microdata"):
                    jobs_method = job["method"]
                jobs.append(
                    {
                        "title": job["title"],
                        "url": job.get("url", ""),
                        "location": job.get("location", ""),
                    }
                )
    profile.put(
        "people", _unique(people, key=lambda p: p["name"].lower())[:20], people_url, people_method
    )
    profile.put(
        "hiring", _unique(jobs, key=lambda j: (j["title"], j["url"]))[:50], jobs_url, jobs_method
    )
