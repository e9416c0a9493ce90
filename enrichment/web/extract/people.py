"""Key people (schema.org Person, team-page cards, "CEO: Name" lines) and open roles."""

from __future__ import annotations

import re
import threading
from urllib.parse import unquote

from lxml import etree

from .document import Document, clean, element_text, registered_domain, split_url
from .links import LINK_WORDS, fold
from .structured import Structured, first_text, has_type, postal_address, url_value

MAX_PEOPLE = 50
MAX_JOBS = 200

TITLE_WORDS = re.compile(
    r"\b(?:ceo|cto|cfo|coo|cmo|cpo|cro|ciso|chief|founder|co-?founder|president|vice president|vp|svp|evp|head|director|"
    r"manager|lead|leader|partner|principal|engineer|developer|designer|architect|scientist|officer|owner|chairman|chair|"
    r"board|advisor|investor|managing|general counsel|counsel|executive|specialist|consultant|analyst|recruiter|"
    r"geschäftsführer(?:in)?|gründer(?:in)?|mitgründer(?:in)?|inhaber(?:in)?|vorstand|vorsitzende[r]?|leiter(?:in)?|"
    r"prokurist(?:in)?|fondateur|fondatrice|directeur|directrice|président|presidente|gérant|responsable|fundador(?:a)?|"
    r"director(?:a)?|gerente|socio|consejero|jefe)\b",
    re.I,
)
_NAME_WORD = r"(?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+)?|[A-Z]\.)"
PERSON_NAME = re.compile(
    rf"^(?:(?:Dr|Prof|Mr|Mrs|Ms|Dipl\.-Ing)\.?\s+)*{_NAME_WORD}(?:\s+(?:von|van|de|der|den|del|da|di|du|la|le|zu|y)){{0,2}}(?:\s+{_NAME_WORD}){{1,3}}$"
)
_NOT_NAMES = re.compile(
    r"\b(?:our|the|team|about|contact|us|careers|jobs|blog|news|pricing|products?|services?|solutions?|company|"
    r"platform|features?|customers?|partners?|privacy|terms|policy|cookie|read|more|learn|get|started|sign|log|"
    r"home|world|leadership|management|board|investors?|welcome|join|open|roles?|positions?|apply|gmbh|inc|ltd|llc|ag)\b",
    re.I,
)
_ROLE_LINE = re.compile(
    r"(?P<title>Geschäftsführer(?:in)?|Geschäftsführende Gesellschafter(?:in)?|Vertreten durch|Vorstand|Inhaber(?:in)?|"
    r"Managing Directors?|CEO|Chief Executive Officer|Founders?|Co-Founders?|Gérant|Directeur général|Président|"
    r"Administrador(?:es)?|Director General)[ \t]*(?:\(.*?\))?[ \t]*:[ \t]*(?P<names>[^\n]{3,160})"
)


def looks_like_name(text: str) -> bool:
    return 4 <= len(text) <= 60 and bool(PERSON_NAME.match(text)) and not _NOT_NAMES.search(text)


def looks_like_title(text: str) -> bool:
    return 2 <= len(text) <= 90 and bool(TITLE_WORDS.search(text)) and "@" not in text


def schema_people(data: Structured) -> list[dict]:
    out: list[dict] = []
    for method in ("json-ld", "microdata"):
        for node in data.nodes(method):
            groups = [
                ("founder", "Founder"),
                ("founders", "Founder"),
                ("employee", ""),
                ("employees", ""),
                ("member", ""),
                ("members", ""),
            ]
            for key, default_title in groups:
                value = node.get(key)
                for person in value if isinstance(value, list) else [value]:
                    person = data.resolve(person)
                    if isinstance(person, dict):
                        person_name = first_text(person.get("name"))
                        title = first_text(person.get("jobTitle")) or default_title
                        out.append({"name": person_name, "title": title, "method": method})
                    elif isinstance(person, str) and default_title:
                        out.append(
                            {"name": clean(person), "title": default_title, "method": method}
                        )
            if has_type(node, "Person") and node.get("jobTitle"):
                out.append(
                    {
                        "name": first_text(node.get("name")),
                        "title": first_text(node.get("jobTitle")),
                        "method": method,
                    }
                )
    return out


def _following_text(el) -> list[str]:
    """Texts right after `el` in its card: next siblings, then the parent's next siblings."""
    texts = []
    if el.tail and el.tail.strip():
        texts.append(clean(el.tail))
    for sib in el.itersiblings():
        if not isinstance(sib.tag, str):
            continue
        text = element_text(sib)
        if text:
            texts.append(text)
        if len(texts) >= 2:
            break
    return texts


# A team page: its URL path, its title or a heading says so, or its structured data names people.
# Only such pages get the card scan: elsewhere (a product page's testimonials, a blog's
# authors) names next to job titles are not the company's people.
_TEAM_SLUGS = frozenset(fold(w) for kind in ("about", "team") for w in LINK_WORDS[kind][0])
_TEAM_PATH_WORDS = frozenset(
    [
        *("team", "teams", "about", "leadership", "leaders", "people", "founders", "founder"),
        *("management", "executives", "board", "directors", "company", "unternehmen"),
        *("equipe", "equipo", "squadra", "impressum", "imprint"),
    ]
)
_TEAM_HEADING = re.compile(
    r"\b(?:team|leadership|founders?|management|executives?|board of directors|our people|"
    r"who we are|about|meet the|impressum|imprint|unser team|das team|geschaftsfuhrung|vorstand|uber uns|"
    r"equipe|a propos|qui sommes nous|equipo|sobre nosotros|quienes somos|over ons|chi siamo)\b"
)
# The page's title and h1-h3 headings, one a line, written by libxslt in one pass.
_HEADINGS = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="utf-8"/>
<xsl:template match="/"><xsl:for-each select="//title|//h1|//h2|//h3">
<xsl:value-of select="."/><xsl:text>&#10;</xsl:text></xsl:for-each></xsl:template>
</xsl:stylesheet>"""
_compiled = threading.local()


def _headings(root) -> str:
    xslt = getattr(_compiled, "headings", None)
    if xslt is None:
        xslt = _compiled.headings = etree.XSLT(etree.XML(_HEADINGS))
    try:
        return str(xslt(root))
    except etree.XSLTApplyError:
        return ""


def is_team_page(doc: Document, data: Structured) -> bool:
    """Whether the page may show team cards: worth the card scan of `team_people`."""
    if doc.root is None:
        return False
    if any(has_type(node, "Person") for node in data.jsonld + data.microdata):
        return True
    if doc.url:
        path = fold(unquote(split_url(doc.url).path))
        if not _TEAM_SLUGS.isdisjoint(path.split("/")) or not _TEAM_PATH_WORDS.isdisjoint(
            re.split(r"[/_.\-]+", path)
        ):
            return True
    return bool(_TEAM_HEADING.search(fold(_headings(doc.root))))


def team_people(doc: Document) -> list[dict]:
    """Cards of a team page: a name (heading, strong, .name) followed by a title (.role, p)."""
    if doc.root is None:
        return []
    out: list[dict] = []
    candidates = doc.root.xpath(
        "//*[self::h2 or self::h3 or self::h4 or self::h5 or self::h6 or self::strong or self::b"
        " or ((contains(@class,'name') or contains(@itemprop,'name')) and not(self::a) and not(self::body))]"
    )
    seen: set[str] = set()
    for el in candidates[:3000]:
        name = element_text(el)
        if len(name) > 60 or not looks_like_name(name) or name in seen:
            continue
        title = ""
        marked = el.xpath(
            "following-sibling::*[1][contains(@class,'title') or contains(@class,'role') or contains(@class,'position') or contains(@class,'job')]"
        )
        if marked:
            title = element_text(marked[0])
        else:
            for text in _following_text(el):
                if looks_like_title(text):
                    title = text
                    break
            if (
                not title
                and el.getparent() is not None
                and el.getparent().tag in ("a", "div", "span")
                and not el.getnext()
            ):
                for text in _following_text(el.getparent())[:1]:
                    if looks_like_title(text):
                        title = text
        if title and len(title) <= 90:
            seen.add(name)
            out.append({"name": name, "title": title, "method": "team-page"})
        if len(out) >= MAX_PEOPLE:
            break
    return out


def role_lines(text: str) -> list[dict]:
    """ "Geschäftsführer: Max Muster, Erika Muster" and "CEO: Jane Doe" lines (imprints)."""
    out = []
    for m in _ROLE_LINE.finditer(text):
        title = m.group("title")
        if title == "Vertreten durch":
            title = "Managing Director"
        raw = re.split(r"\s*(?:,|;| und | and | et | y |&)\s*", m.group("names"))
        for part in raw:
            part = re.sub(r"\s*\(.*?\)", "", part).strip(" .")
            part = re.sub(r"^(?:den |die |der )?(?:Geschäftsführer(?:in)?|Vorstand)\s+", "", part)
            if looks_like_name(part):
                out.append({"name": part, "title": title, "method": "text"})
    return out


def key_people(doc: Document, data: Structured, text: str) -> list[dict]:
    out: list[dict] = []
    names: dict[str, dict] = {}
    for person in schema_people(data) + team_people(doc) + role_lines(text):
        name = clean(person.get("name"))
        if not name or len(name) > 80:
            continue
        key = fold(name)
        if key in names:
            if not names[key]["title"] and person.get("title"):
                names[key]["title"] = person["title"]
            continue
        entry = {"name": name, "title": clean(person.get("title")), "method": person["method"]}
        names[key] = entry
        out.append(entry)
        if len(out) >= MAX_PEOPLE:
            break
    return out


# --- jobs ----------------------------------------------------------------------------------

ATS_HOSTS = re.compile(
    r"(?:^|\.)(?:greenhouse\.io|lever\.co|ashbyhq\.com|workable\.com|personio\.(?:de|com)|smartrecruiters\.com|"
    r"recruitee\.com|teamtailor\.com|join\.com|bamboohr\.com|breezy\.hr|jobvite\.com|icims\.com|"
    r"myworkdayjobs\.com|workday\.com|softgarden\.io|jobs\.zalando\.com|rippling-ats\.com|rippling\.com|"
    r"pinpointhq\.com|homerun\.co|factorial\.co|successfactors\.(?:com|eu)|taleo\.net)$",
    re.I,
)
_JOB_PATH = re.compile(
    r"/(?:jobs?|careers?|positions?|openings?|vacanc(?:y|ies)|stellen(?:angebote)?|karriere|offres?-d-emploi|emplois?|empleos?|vacatures|postings?)/[^/]+",
    re.I,
)
_GENERIC_LINK = re.compile(
    r"^(?:apply(?: now)?|view(?: all)?(?: jobs| positions| openings| roles)?|see (?:all )?(?:open )?(?:jobs|positions|roles|openings)|"
    r"learn more|read more|more|details|mehr(?: erfahren)?|jetzt bewerben|bewerben|postuler|en savoir plus|ver más|"
    r"all jobs|open positions|careers|jobs|karriere|back|next|previous|\d+)$",
    re.I,
)
_CAREERS_PAGE = re.compile(
    r"career|jobs|join|karriere|stellen|emploi|carri[eè]re|empleo|vacature|hiring|positions", re.I
)


def _ats_job_url(url: str) -> bool:
    parts = split_url(url)
    host = parts.hostname or ""
    if not ATS_HOSTS.search(host):
        return False
    segments = [s for s in parts.path.split("/") if s]
    if (
        "personio" in host
        or "workable" in host
        or "recruitee" in host
        or "teamtailor" in host
        or "smartrecruiters" in host
        or "join.com" in host
    ):
        return "job" in parts.path.lower() or "/o/" in parts.path or len(segments) >= 2
    if "greenhouse" in host:
        return "/jobs/" in parts.path or "gh_jid=" in parts.query
    return len(segments) >= 2  # lever.co/acme/<id>, ashbyhq.com/acme/<id>


def _location_near(el) -> str:
    container = el
    for _ in range(3):
        nodes = container.xpath(
            ".//*[contains(@class,'location') or contains(@class,'Location') or contains(@itemprop,'jobLocation')]"
        )
        if nodes:
            return element_text(nodes[0])[:120]
        parent = container.getparent()
        if parent is None or parent.tag in ("ul", "ol", "body", "table", "tbody", "section"):
            break
        container = parent
    return ""


def schema_jobs(data: Structured, base: str) -> list[dict]:
    out = []
    for method in ("json-ld", "microdata"):
        for node in data.nodes(method):
            if not has_type(node, "JobPosting"):
                continue
            title = first_text(node.get("title") or node.get("name"))
            if not title:
                continue
            location = ""
            places = node.get("jobLocation")
            for place in places if isinstance(places, list) else [places]:
                place = data.resolve(place)
                if isinstance(place, dict):
                    address = postal_address(place.get("address") or place)
                    location = ", ".join(
                        x
                        for x in (
                            address.get("locality"),
                            address.get("region") or address.get("country"),
                        )
                        if x
                    ) or address.get("text", "")
                    if location:
                        break
            if not location and first_text(node.get("jobLocationType")).upper() == "TELECOMMUTE":
                location = "Remote"
            out.append(
                {
                    "title": title,
                    "url": url_value(node.get("url"), base),
                    "location": location,
                    "method": method,
                }
            )
    return out


def page_jobs(doc: Document) -> list[dict]:
    """Job links on a careers page: to ATS job pages anywhere, to own job pages on careers pages."""
    if doc.root is None:
        return []
    careers_page = bool(_CAREERS_PAGE.search(split_url(doc.url).path)) if doc.url else False
    page_domain = doc.domain
    own_links: list = []
    out = []
    seen: set[str] = set()
    for a, url, _raw in doc.anchors():
        if not url or url in seen:
            continue
        parts = split_url(url)
        if _ats_job_url(url):
            kind = "ats"
        elif registered_domain(parts.hostname or "") == page_domain and _JOB_PATH.search(
            parts.path
        ):
            kind = "own"
        else:
            continue
        heading = a.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6|.//*[contains(@class,'title')]")
        title = element_text(heading[0]) if heading else ""
        if not title:
            title = clean((a.text or "").strip()) or element_text(a)
        if not title or _GENERIC_LINK.match(fold(title)) or len(title) > 120:
            parent = a.getparent()
            found = (
                parent.xpath(".//h2|.//h3|.//h4|.//h5|.//*[contains(@class,'title')]")
                if parent is not None
                else []
            )
            title = element_text(found[0]) if found else ""
        if not title or _GENERIC_LINK.match(fold(title)) or len(title) > 120:
            continue
        location = _location_near(a)
        if location and title.endswith(location):
            title = title[: -len(location)].strip(" -–,")
        seen.add(url)
        entry = {
            "title": title,
            "url": url,
            "location": location,
            "method": "ats-link" if kind == "ats" else "careers-page",
        }
        if kind == "ats":
            out.append(entry)
        else:
            own_links.append((a, entry))
    # Own-site job links count on a careers page, or when several sit in one list.
    if own_links:
        parents: dict[int, int] = {}
        for a, _entry in own_links:
            box = next(
                (
                    anc
                    for anc in a.iterancestors()
                    if anc.tag in ("ul", "ol", "section", "table", "main")
                ),
                None,
            )
            parents[id(a)] = id(box)
        counts: dict[int, int] = {}
        for key in parents.values():
            counts[key] = counts.get(key, 0) + 1
        for a, entry in own_links:
            if careers_page or counts[parents[id(a)]] >= 2:
                out.append(entry)
    return out[:MAX_JOBS]


def open_roles(doc: Document, data: Structured) -> list[dict]:
    out: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for job in schema_jobs(data, doc.base_url()) + page_jobs(doc):
        key = (
            fold(job["title"]),
            job["url"] if job["method"] not in ("json-ld", "microdata") else "",
        )
        title_key = (fold(job["title"]), "")
        if key in seen or (job["url"] and any(j["url"] == job["url"] for j in out)):
            continue
        if (
            title_key in seen
            and job["method"] in ("ats-link", "careers-page")
            and not any(j["url"] == job["url"] for j in out)
        ):
            # The same role from JSON-LD and from the list: keep one, fill its URL.
            for j in out:
                if fold(j["title"]) == title_key[0] and not j["url"]:
                    j["url"] = job["url"]
            continue
        seen.add(key)
        seen.add(title_key)
        out.append(job)
        if len(out) >= MAX_JOBS:
            break
    return out
