"""Links to the site's own about, contact, pricing, careers, blog, customers and team pages.

Every same-site link is scored per kind by its path segments and its text, in English, German,
French and Spanish (plus a few Dutch and Italian words); the best link per kind wins.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlunsplit

from .document import Document, registered_domain, split_url

LINK_KINDS = ("about", "contact", "pricing", "careers", "blog", "customers", "team")

# kind -> (path words, link texts). Path words are compared to slugs ("ueber-uns"), texts to the
# folded link text ("uber uns"). The first words are the strongest.
LINK_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "about": (
        (
            "about",
            "about-us",
            "aboutus",
            "company",
            "who-we-are",
            "our-story",
            "ueber-uns",
            "uber-uns",
            "uberuns",
            "unternehmen",
            "wir",
            "a-propos",
            "apropos",
            "qui-sommes-nous",
            "societe",
            "entreprise",
            "sobre-nosotros",
            "quienes-somos",
            "nosotros",
            "empresa",
            "over-ons",
            "chi-siamo",
            "mission",
            "story",
        ),
        (
            "about",
            "about us",
            "company",
            "who we are",
            "our story",
            "uber uns",
            "unternehmen",
            "wir uber uns",
            "a propos",
            "qui sommes nous",
            "l'entreprise",
            "societe",
            "sobre nosotros",
            "quienes somos",
            "nosotros",
            "empresa",
            "over ons",
            "chi siamo",
            "our company",
            "our mission",
        ),
    ),
    "contact": (
        (
            "contact",
            "contact-us",
            "contactus",
            "kontakt",
            "kontaktieren",
            "contactez-nous",
            "nous-contacter",
            "contacto",
            "contactanos",
            "contacta",
            "contatti",
            "get-in-touch",
            "support",
            "impressum",
            "imprint",
            "mentions-legales",
            "aviso-legal",
        ),
        (
            "contact",
            "contact us",
            "kontakt",
            "kontaktieren sie uns",
            "nous contacter",
            "contactez nous",
            "contacto",
            "contactanos",
            "contatti",
            "get in touch",
            "talk to us",
            "impressum",
            "imprint",
        ),
    ),
    "pricing": (
        (
            "pricing",
            "prices",
            "price",
            "plans",
            "plans-pricing",
            "preise",
            "preis",
            "tarife",
            "preisliste",
            "tarifs",
            "prix",
            "offres",
            "precios",
            "planes",
            "tarifas",
            "prezzi",
            "prijzen",
        ),
        (
            "pricing",
            "prices",
            "plans",
            "plans & pricing",
            "plans and pricing",
            "preise",
            "tarife",
            "tarifs",
            "prix",
            "precios",
            "planes",
            "prezzi",
            "prijzen",
        ),
    ),
    "careers": (
        (
            "careers",
            "career",
            "jobs",
            "job",
            "join-us",
            "joinus",
            "work-with-us",
            "hiring",
            "open-positions",
            "positions",
            "vacancies",
            "karriere",
            "stellenangebote",
            "stellen",
            "jobs-karriere",
            "carrieres",
            "carriere",
            "recrutement",
            "rejoignez-nous",
            "emplois",
            "empleo",
            "empleos",
            "trabaja-con-nosotros",
            "unete",
            "carreras",
            "lavora-con-noi",
            "werken-bij",
            "vacatures",
        ),
        (
            "careers",
            "career",
            "jobs",
            "join us",
            "join our team",
            "we're hiring",
            "we are hiring",
            "work with us",
            "open positions",
            "karriere",
            "jobs & karriere",
            "stellenangebote",
            "carrieres",
            "recrutement",
            "rejoignez nous",
            "emplois",
            "empleo",
            "trabaja con nosotros",
            "unete",
            "lavora con noi",
            "werken bij",
            "vacatures",
        ),
    ),
    "blog": (
        (
            "blog",
            "news",
            "newsroom",
            "articles",
            "insights",
            "stories",
            "updates",
            "press",
            "magazine",
            "journal",
            "aktuelles",
            "neuigkeiten",
            "presse",
            "actualites",
            "nouvelles",
            "noticias",
            "actualidad",
            "notizie",
            "nieuws",
        ),
        (
            "blog",
            "news",
            "newsroom",
            "articles",
            "insights",
            "updates",
            "press",
            "magazine",
            "aktuelles",
            "neuigkeiten",
            "news & blog",
            "presse",
            "actualites",
            "noticias",
            "actualidad",
            "notizie",
            "nieuws",
        ),
    ),
    "customers": (
        (
            "customers",
            "customer-stories",
            "case-studies",
            "casestudies",
            "case-study",
            "success-stories",
            "clients",
            "references",
            "testimonials",
            "kunden",
            "referenzen",
            "kundenstimmen",
            "erfolgsgeschichten",
            "fallstudien",
            "cas-clients",
            "temoignages",
            "references-clients",
            "clientes",
            "casos-de-exito",
            "casos-de-estudio",
            "testimonios",
            "clienti",
            "klanten",
        ),
        (
            "customers",
            "customer stories",
            "case studies",
            "success stories",
            "clients",
            "references",
            "testimonials",
            "kunden",
            "referenzen",
            "kundenstimmen",
            "erfolgsgeschichten",
            "fallstudien",
            "nos clients",
            "temoignages",
            "etudes de cas",
            "clientes",
            "casos de exito",
            "testimonios",
            "clienti",
            "klanten",
        ),
    ),
    "team": (
        (
            "team",
            "our-team",
            "the-team",
            "meet-the-team",
            "leadership",
            "management",
            "people",
            "founders",
            "unser-team",
            "das-team",
            "geschaeftsfuehrung",
            "equipe",
            "notre-equipe",
            "equipo",
            "nuestro-equipo",
            "squadra",
            "ons-team",
        ),
        (
            "team",
            "our team",
            "the team",
            "meet the team",
            "leadership",
            "management",
            "our people",
            "founders",
            "unser team",
            "das team",
            "geschaftsfuhrung",
            "equipe",
            "notre equipe",
            "equipo",
            "nuestro equipo",
            "ons team",
        ),
    ),
}
_FILE_EXT = re.compile(r"\.(?:pdf|jpe?g|png|gif|svg|webp|zip|docx?|xlsx?|pptx?|mp4|mp3)$", re.I)


def fold(text: str) -> str:
    """Lower-case ASCII-ish form: "Über uns" -> "uber uns", "À propos" -> "a propos"."""
    if text.isascii():
        return text.lower().strip()
    text = text.lower().replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).strip()


_LOOKUP = {
    kind: (
        {fold(w): len(paths) - i for i, w in enumerate(paths)},
        {fold(t): len(texts) - i for i, t in enumerate(texts)},
    )
    for kind, (paths, texts) in LINK_WORDS.items()
}


_ALL_PATHS = frozenset(w for paths, _texts in _LOOKUP.values() for w in paths)


def _trie(words) -> str:
    """An alternation of `words` nested by common prefix: the regex engine tries a few first
    characters at each position instead of every word (same matches as a flat alternation;
    backtracking still reaches the shorter words)."""
    tree: dict = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(tree)


_LONG_PATHS = re.compile(_trie(sorted(w for w in _ALL_PATHS if len(w) >= 5)))
_ALL_TEXTS = re.compile(
    r"(?<![\w'])"
    + _trie(sorted({t for _p, texts in _LOOKUP.values() for t in texts}))
    + r"(?![\w'])"
)


_TEXT_SPLIT = re.compile(r"[^\w']+")
_FIRST_WORD = re.compile(r"[\w']+")
# A link text can only hold a known text where the text's first word is one of its words.
_TEXT_FIRST_WORDS = frozenset(
    m.group() if (m := _FIRST_WORD.match(t)) else ""
    for _p, texts in _LOOKUP.values()
    for t in texts
)
_PAGE_SUFFIX = re.compile(r"\.(?:html?|php|aspx?)$")
_LANGUAGE_PREFIX = re.compile(r"[a-z]{2}(?:[-_][a-z]{2})?")


def _maybe(segments: list[str], text: str, words: list[str] | None = None) -> bool:
    """A cheap test: could any kind score on this link at all?"""
    if segments and (not _ALL_PATHS.isdisjoint(segments) or _LONG_PATHS.search(segments[-1])):
        return True
    if not text:
        return False
    if "" not in _TEXT_FIRST_WORDS and _TEXT_FIRST_WORDS.isdisjoint(
        _TEXT_SPLIT.split(text) if words is None else words
    ):
        return False
    return bool(_ALL_TEXTS.search(text))


def _segments(path: str) -> list[str]:
    """Folded path segments, a page suffix (.html) and a language prefix (/en/) left out."""
    path = path.lower()
    if "%" not in path and path.isascii():
        segments = [s.strip() for s in path.split("/") if s]  # what fold(unquote()) gives
    else:
        segments = [fold(unquote(s)) for s in path.split("/") if s]
    if segments and "." in segments[-1]:
        segments[-1] = _PAGE_SUFFIX.sub("", segments[-1])
    # Language prefixes (/en/, /de-de/) do not count as depth.
    if segments and _LANGUAGE_PREFIX.fullmatch(segments[0]):
        segments = segments[1:]
    return segments


def _link_text(a) -> str:
    try:
        # An <a> without children holds only its text: no XPath string() call needed.
        content = (a.text or "") if len(a) == 0 else a.text_content()
        raw = content or a.get("title") or a.get("aria-label") or ""
    except ValueError:
        return ""
    raw = " ".join(raw.split())
    text = raw.lower().strip() if raw.isascii() else fold(raw)
    return text.strip(" →›»>|")


def _score(kind: str, segments: list[str], text: str, words: set[str] | None = None) -> float:
    paths, texts = _LOOKUP[kind]
    score = 0.0
    if segments:
        last = segments[-1]
        if last in paths:
            score = max(score, 10 + paths[last] / 100)
        for seg in segments[:-1]:
            if seg in paths:
                score = max(score, 5 + paths[seg] / 100)
        if not score:
            for word in paths:
                if len(word) >= 5 and word in last:
                    score = max(score, 3)
                    break
    if text:
        if text in texts:
            score += 8 + texts[text] / 100
        elif len(text) < 40:
            if words is None:
                words = set(_TEXT_SPLIT.split(text))
            if any(t in words or (" " in t and t in text) for t in texts):
                score += 3
    if score:
        score -= max(0, len(segments) - 1) * 1.5
    return score


def page_links(doc: Document) -> dict:
    if not doc.url:
        return {}
    page = split_url(doc.url)
    page_domain = doc.domain
    page_host = page.hostname
    page_key = (page_host or "", page.path.rstrip("/"))
    best: dict[str, tuple[float, int, str]] = {}
    for order, (a, url, _raw) in enumerate(doc.anchors()):
        if not url:
            continue
        parts = split_url(url)
        host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        if host != page_host and (
            not page_domain
            or not host.endswith(page_domain)
            or registered_domain(host) != page_domain
        ):
            continue
        if ((host, parts.path.rstrip("/")) == page_key and not parts.query) or _FILE_EXT.search(
            parts.path
        ):
            continue
        segments = _segments(parts.path)
        text = _link_text(a)
        words = _TEXT_SPLIT.split(text) if text else []
        if not _maybe(segments, text, words):
            continue
        word_set = set(words)
        for kind in LINK_KINDS:
            score = _score(kind, segments, text, word_set)
            if score >= 5 and (kind not in best or score > best[kind][0]):
                best[kind] = (
                    score,
                    order,
                    urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, "")),
                )
    return {kind: best[kind][2] for kind in LINK_KINDS if kind in best}
