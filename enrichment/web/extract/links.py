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
_LONG_PATHS = re.compile(
    "|".join(sorted((re.escape(w) for w in _ALL_PATHS if len(w) >= 5), key=len, reverse=True))
)
_ALL_TEXTS = re.compile(
    r"(?<![\w'])(?:"
    + "|".join(
        sorted(
            (re.escape(t) for _p, texts in _LOOKUP.values() for t in texts), key=len, reverse=True
        )
    )
    + r")(?![\w'])"
)


def _maybe(segments: list[str], text: str) -> bool:
    """A cheap test: could any kind score on this link at all?"""
    if segments and (not _ALL_PATHS.isdisjoint(segments) or _LONG_PATHS.search(segments[-1])):
        return True
    return bool(text) and bool(_ALL_TEXTS.search(text))


def _score(kind: str, segments: list[str], text: str) -> float:
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
            words = set(re.split(r"[^\w']+", text))
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
    page_key = (page.hostname or "", page.path.rstrip("/"))
    best: dict[str, tuple[float, int, str]] = {}
    for order, (a, url, _raw) in enumerate(doc.anchors()):
        if not url:
            continue
        parts = split_url(url)
        host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        if host != page.hostname and (
            not page_domain
            or not host.endswith(page_domain)
            or registered_domain(host) != page_domain
        ):
            continue
        if ((host, parts.path.rstrip("/")) == page_key and not parts.query) or _FILE_EXT.search(
            parts.path
        ):
            continue
        segments = [fold(unquote(s)) for s in parts.path.lower().split("/") if s]
        if segments and "." in segments[-1]:
            segments[-1] = re.sub(r"\.(?:html?|php|aspx?)$", "", segments[-1])
        # Language prefixes (/en/, /de-de/) do not count as depth.
        if segments and re.fullmatch(r"[a-z]{2}(?:[-_][a-z]{2})?", segments[0]):
            segments = segments[1:]
        try:
            text = fold(
                " ".join((a.text_content() or a.get("title") or a.get("aria-label") or "").split())
            )
        except ValueError:
            text = ""
        text = text.strip(" →›»>|")
        if not _maybe(segments, text):
            continue
        for kind in LINK_KINDS:
            score = _score(kind, segments, text)
            if score >= 5 and (kind not in best or score > best[kind][0]):
                best[kind] = (
                    score,
                    order,
                    urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, "")),
                )
    return {kind: best[kind][2] for kind in LINK_KINDS if kind in best}
