"""extract_page on a typical company page: median CPU milliseconds per page, against a bare
lxml.html parse of the same page measured in the same run (the ratio is what to compare across
runs: the machine is shared and noisy).

Not a test: run by hand.

    .venv/bin/python bench/extract.py              # 200 KB marketing page, 50 runs
    .venv/bin/python bench/extract.py --runs 100 --size 400000
    .venv/bin/python bench/extract.py --steps      # also the median time of each extractor step
    .venv/bin/python bench/extract.py --write /tmp/page.html   # the page, to look at

The page is shaped like a real marketing site's home page: a header nav with a mega-menu
(about 60 links with descriptions and inline SVG icons), a hero with a customer logo cloud,
feature sections with cards, testimonials (names and job titles: person-like text on a page
that is not a team page), an FAQ, a footer with about 80 links, social icons, an address and
a cookie banner; in the head meta and OpenGraph tags, icons, stylesheets, critical CSS, JSON-LD
(Organization and WebSite) and 15 script tags (Google Tag Manager, gtag, HubSpot, Intercom,
Segment, Hotjar, Next.js chunks and its __NEXT_DATA__ blob, Stripe, reCAPTCHA, Cloudflare).

Goal (the extractor's brief): under 20 ms median for a typical 200 KB page.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402

import enrichment.web.extract as extract_module  # noqa: E402
from enrichment.web.extract import extract_page  # noqa: E402

URL = "https://www.loomwork.io/"
WORDS = [
    "analytics",
    "pipeline",
    "revenue",
    "teams",
    "customer",
    "workflow",
    "automate",
    "insight",
    "secure",
    "scale",
    "cloud",
    "integrate",
    "platform",
    "dashboard",
    "realtime",
    "forecast",
    "pipeline",
    "onboarding",
    "retention",
    "growth",
    "data",
    "reporting",
    "collaborate",
    "enterprise",
    "compliance",
    "audit",
    "alerts",
    "api",
    "developers",
    "sync",
    "warehouse",
    "segment",
    "campaign",
    "journey",
    "funnel",
    "conversion",
    "activation",
    "experiment",
    "feature",
    "release",
]
FIRST = [
    "Jane",
    "Marcus",
    "Priya",
    "Tomás",
    "Aisha",
    "Daniel",
    "Sofia",
    "Kenji",
    "Laura",
    "Omar",
    "Elena",
    "Noah",
    "Chloe",
    "Mateo",
]
LAST = [
    "Cooper",
    "Okafor",
    "Lindqvist",
    "Brenner",
    "Nakamura",
    "Rossi",
    "Haddad",
    "Novak",
    "Fischer",
    "Silva",
    "Moreau",
]
TITLES = (
    "VP of Marketing",
    "Head of Growth",
    "Director of Revenue Operations",
    "Chief Technology Officer",
    "Senior Product Manager",
    "Customer Success Lead",
)
COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Soylent",
]


def _svg(rng: random.Random, size: int = 24) -> str:
    """An inline icon: a few paths, as design tools export them."""
    paths = []
    for _ in range(rng.randint(1, 3)):
        points = " ".join(
            f"{rng.choice('LCQ')}{rng.uniform(0, size):.2f} {rng.uniform(0, size):.2f}"
            for _ in range(rng.randint(8, 18))
        )
        paths.append(
            f'<path fill-rule="evenodd" clip-rule="evenodd" d="M{rng.uniform(0, size):.2f} '
            f'{rng.uniform(0, size):.2f} {points}Z" fill="currentColor"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 '
        f'{size} {size}" fill="none" aria-hidden="true" class="icon">{"".join(paths)}</svg>'
    )


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _head(rng: random.Random) -> str:
    org = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "Organization",
                "@id": f"{URL}#organization",
                "name": "Loomwork",
                "legalName": "Loomwork, Inc.",
                "url": URL,
                "logo": f"{URL}static/logo-512.png",
                "foundingDate": "2017",
                "sameAs": [
                    "https://www.linkedin.com/company/loomwork/",
                    "https://twitter.com/loomworkhq",
                    "https://github.com/loomwork",
                ],
                "address": {
                    "@type": "PostalAddress",
                    "streetAddress": "200 Townsend Street",
                    "addressLocality": "San Francisco",
                    "addressRegion": "CA",
                    "postalCode": "94107",
                    "addressCountry": "US",
                },
            },
            {"@type": "WebSite", "@id": f"{URL}#website", "name": "Loomwork", "url": URL},
        ],
    }
    css = "".join(
        f".c{i}{{margin:{i % 7}px {i % 5}px;color:#{rng.randrange(0xFFFFFF):06x};"
        f"display:flex;align-items:center;--tw-ring-offset:{i}}}"
        for i in range(180)
    )
    next_data = {
        "props": {
            "pageProps": {
                "blocks": [
                    {"id": i, "type": rng.choice(WORDS), "body": _sentence(rng, 12)}
                    for i in range(90)
                ]
            }
        },
        "page": "/",
        "buildId": "x8Kq2",
    }
    chunks = "".join(
        f'<script src="/_next/static/chunks/{name}-{rng.randrange(16**8):08x}.js" defer></script>'
        for name in ("webpack", "framework", "main", "pages/_app", "pages/index")
    )
    return (
        f"""<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loomwork | Revenue workflows for B2B teams</title>
<meta name="description" content="Loomwork automates the revenue workflows of B2B teams: pipeline, forecasting and reporting in one place.">
<meta property="og:title" content="Loomwork – Revenue workflows for B2B teams">
<meta property="og:description" content="Pipeline, forecasting and reporting in one place.">
<meta property="og:site_name" content="Loomwork">
<meta property="og:image" content="{URL}og/home.png">
<meta property="og:url" content="{URL}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@loomworkhq">
<meta name="theme-color" content="#0b1020">
<link rel="canonical" href="{URL}">
<link rel="icon" href="/favicon-32x32.png" sizes="32x32" type="image/png">
<link rel="icon" href="/favicon.ico">
<link rel="apple-touch-icon" href="/apple-touch-icon.png" sizes="180x180">
<link rel="preconnect" href="https://fonts.googleapis.com">
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter:wght@400;600&display=swap">
<link rel="preload" href="/_next/static/css/a1b2c3d4.css" as="style">
<link rel="stylesheet" href="/_next/static/css/a1b2c3d4.css">
<style>{css}</style>
<script type="application/ld+json">{json.dumps(org)}</script>
<script>(function(w,d,s,l,i){{w[l]=w[l]||[];w[l].push({{'gtm.start':new Date().getTime(),event:'gtm.js'}});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);}})(window,document,'script','dataLayer','GTM-K9X2LQ');</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-7Q2ZC9X1LM"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}gtag('js',new Date());gtag('config','G-7Q2ZC9X1LM');</script>
<script>!function(){{var analytics=window.analytics=window.analytics||[];analytics.load=function(key){{var t=document.createElement("script");t.src="https://cdn.segment.com/analytics.js/v1/"+key+"/analytics.min.js";}};analytics.load("wr1Tk");analytics.page();}}();</script>
<script>(function(h,o,t,j,a,r){{h.hj=h.hj||function(){{(h.hj.q=h.hj.q||[]).push(arguments)}};h._hjSettings={{hjid:3141592,hjsv:6}};r=o.createElement('script');r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;}})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');</script>
{chunks}
</head>""",
        next_data,
    )


def _mega_menu(rng: random.Random) -> str:
    columns = []
    menus = {
        "Product": ["Pipeline", "Forecasting", "Reporting", "Automation", "Integrations", "API"],
        "Solutions": ["Sales", "Marketing", "Customer Success", "RevOps", "Startups", "Enterprise"],
        "Resources": ["Blog", "Guides", "Webinars", "Docs", "Changelog", "Community"],
        "Company": ["About", "Careers", "Customers", "Partners", "Press", "Contact"],
    }
    for menu, items in menus.items():
        links = []
        for item in items + [f"{item} {rng.choice(WORDS)}" for item in items[:4]]:
            slug = item.lower().replace(" ", "-")
            links.append(
                f'<li class="menu-item"><a class="menu-link flex gap-3" href="/{menu.lower()}/{slug}">'
                f'<span class="menu-icon">{_svg(rng, 20)}</span><span class="menu-text">'
                f'<span class="menu-title">{item}</span><span class="menu-desc">{_sentence(rng, 7)}</span>'
                "</span></a></li>"
            )
        columns.append(
            f'<li class="nav-item has-dropdown"><button class="nav-toggle" aria-expanded="false">{menu}'
            f'</button><div class="mega-menu" role="menu"><ul class="mega-col">{"".join(links)}</ul>'
            f'<div class="mega-promo"><h4>New: {_sentence(rng, 4)}</h4><a href="/blog/{rng.choice(WORDS)}">Read more</a></div></div></li>'
        )
    return (
        '<header class="site-header sticky top-0"><div class="container flex">'
        f'<a href="/" class="logo" aria-label="Loomwork home"><img src="/static/logo.svg" alt="Loomwork logo" class="site-logo"></a>'
        f'<nav aria-label="Main"><ul class="nav-list">{"".join(columns)}'
        '<li><a href="/pricing">Pricing</a></li></ul></nav>'
        '<div class="nav-cta"><a href="https://app.loomwork.io/login">Log in</a>'
        '<a class="btn btn-primary" href="/demo">Book a demo</a></div></div></header>'
    )


def _section(rng: random.Random, i: int) -> str:
    cards = "".join(
        f'<div class="card c{rng.randrange(180)}"><div class="card-icon">{_svg(rng)}</div>'
        f"<h3>{_sentence(rng, 3)[:-1]}</h3><p>{_sentence(rng, 22)}</p>"
        f'<a class="card-link" href="/product/{rng.choice(WORDS)}-{i}">Learn more <span aria-hidden="true">→</span></a></div>'
        for _ in range(4)
    )
    return (
        f'<section class="feature-section section-{i}" id="feature-{i}"><div class="container">'
        f'<span class="eyebrow">{rng.choice(WORDS).title()}</span><h2>{_sentence(rng, 6)[:-1]}</h2>'
        f'<p class="lead">{_sentence(rng, 30)}</p><div class="grid grid-cols-2">{cards}</div></div></section>'
    )


def _testimonials(rng: random.Random) -> str:
    quotes = []
    for _ in range(6):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        quotes.append(
            f'<figure class="testimonial"><blockquote><p>“{_sentence(rng, 25)}”</p></blockquote>'
            f'<figcaption class="author"><img src="/img/people/{name.lower().replace(" ", "-")}.jpg" alt="">'
            f"<div><strong>{name}</strong><span>{rng.choice(TITLES)}, {rng.choice(COMPANIES)}</span></div>"
            "</figcaption></figure>"
        )
    return (
        f'<section class="testimonials"><h2>Loved by revenue teams</h2>{"".join(quotes)}</section>'
    )


def _footer(rng: random.Random) -> str:
    columns = []
    for title in (
        "Product",
        "Solutions",
        "Resources",
        "Company",
        "Compare",
        "Legal",
        "Integrations",
        "Industries",
    ):
        links = "".join(
            f'<li><a href="/{title.lower()}/{rng.choice(WORDS)}-{j}">{rng.choice(WORDS).title()} {rng.choice(WORDS)}</a></li>'
            for j in range(10)
        )
        columns.append(f'<div class="footer-col"><h5>{title}</h5><ul>{links}</ul></div>')
    social = "".join(
        f'<a href="{href}" aria-label="{label}" class="social-icon" rel="noopener">{_svg(rng, 20)}</a>'
        for label, href in (
            ("LinkedIn", "https://www.linkedin.com/company/loomwork/"),
            ("Twitter", "https://twitter.com/loomworkhq"),
            ("GitHub", "https://github.com/loomwork"),
            ("YouTube", "https://www.youtube.com/@loomwork"),
            ("Facebook", "https://www.facebook.com/loomworkhq"),
            ("Instagram", "https://www.instagram.com/loomworkhq/"),
        )
    )
    return (
        f'<footer class="site-footer"><div class="footer-grid">{"".join(columns)}</div>'
        f'<div class="footer-social social-links">{social}</div>'
        '<div class="footer-bottom"><address>Loomwork, Inc.<br>200 Townsend Street<br>San Francisco, CA 94107</address>'
        '<p>Questions? <a href="mailto:hello@loomwork.io">hello@loomwork.io</a> · <a href="tel:+14155550198">+1 415 555 0198</a></p>'
        "<p>© 2025 Loomwork, Inc. All rights reserved.</p>"
        '<a href="/privacy">Privacy</a> <a href="/terms">Terms</a> <a href="/security">Security</a></div></footer>'
    )


def make_page(size: int = 200_000, seed: int = 7) -> str:
    rng = random.Random(seed)
    head, next_data = _head(rng)
    logos = "".join(
        f'<img src="/img/customers/{c.lower()}.svg" alt="{c} logo" width="120" height="40" loading="lazy">'
        for c in COMPANIES
    )
    hero = (
        '<section class="hero"><div class="container"><h1>Revenue workflows, without the spreadsheets</h1>'
        f'<p class="lead">{_sentence(rng, 28)}</p><div class="cta"><a class="btn" href="/demo">Book a demo</a>'
        '<a class="btn btn-ghost" href="/pricing">See pricing</a></div>'
        f'<div class="logo-cloud customers">{logos}</div></div></section>'
    )
    faq = "".join(
        f"<details><summary>{_sentence(rng, 8)[:-1]}?</summary><p>{_sentence(rng, 35)}</p></details>"
        for _ in range(8)
    )
    tail = (
        _testimonials(rng)
        + f'<section class="faq"><h2>Frequently asked questions</h2>{faq}</section>'
        + "</main>"
        + _footer(rng)
        + '<div id="onetrust-consent-sdk"><div class="cookie-banner"><p>We use cookies to improve your experience.</p>'
        "<button>Accept all</button><button>Settings</button></div></div>"
        '<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-K9X2LQ" height="0" width="0" style="display:none"></iframe></noscript>'
        f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(next_data)}</script>'
        '<script>window.intercomSettings={app_id:"q8xw2k1p"};(function(){var w=window;var ic=w.Intercom;'
        "if(typeof ic===\"function\"){ic('update',w.intercomSettings);}else{var s=document.createElement('script');"
        "s.src='https://widget.intercom.io/widget/q8xw2k1p';}})();</script>"
        '<script type="text/javascript" id="hs-script-loader" async defer src="//js.hs-scripts.com/4815162.js"></script>'
        '<script src="https://js.stripe.com/v3/" async></script>'
        '<script src="https://www.google.com/recaptcha/api.js?render=explicit" async defer></script>'
        '<script defer src="https://static.cloudflareinsights.com/beacon.min.js" data-cf-beacon=\'{"token": "4b1c"}\'></script>'
        "</body></html>"
    )
    start = (
        f'<!DOCTYPE html><html lang="en">{head}<body class="antialiased"><div id="__next">'
        f'<a class="skip-link" href="#main">Skip to content</a>{_mega_menu(rng)}<main id="main">{hero}'
    )
    sections = []
    total = len(start) + len(tail)
    i = 0
    while total < size:
        sections.append(_section(rng, i))
        total += len(sections[-1])
        i += 1
    return start + "".join(sections) + tail.replace("</body>", "</div></body>", 1)


def _url_caches() -> list:
    """The extractors' lru_caches (absolute URLs, split URLs, registered domains...)."""
    caches = []
    for name, module in sorted(sys.modules.items()):
        if name.startswith("enrichment.web.extract"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)) and value not in caches:
                    caches.append(value)
    return caches


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--steps", action="store_true", help="median time of each step too")
    parser.add_argument("--write", metavar="PATH", help="write the page there and stop")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="keep the extractors' URL caches between runs (by default they are cleared: a "
        "page is read once, so its links are new to them)",
    )
    args = parser.parse_args()

    page = make_page(args.size)
    if args.write:
        Path(args.write).write_text(page, encoding="utf-8")
        print(f"wrote {len(page.encode()):,} bytes to {args.write}")
        return
    data = page.encode("utf-8")

    steps: dict[str, list[float]] = {}
    if args.steps:
        plain_step = extract_module._step

        def timed_step(facts, name, func, *a, default=None):
            start = time.process_time()
            try:
                return plain_step(facts, name, func, *a, default=default)
            finally:
                steps.setdefault(name, []).append(time.process_time() - start)

        extract_module._step = timed_step

    facts = extract_page(data, URL)  # warm up: suffix list, compiled patterns
    steps.clear()
    parse_times, extract_times = [], []
    caches = _url_caches()
    for _ in range(args.runs):
        # Interleaved, so both see the same load from the machine's other users.
        start = time.process_time()
        lxml.html.document_fromstring(data)
        parse_times.append(time.process_time() - start)
        if not args.warm:
            for cache in caches:
                cache.cache_clear()
        start = time.process_time()
        facts = extract_page(data, URL)
        extract_times.append(time.process_time() - start)

    parse_ms, extract_ms = _median_ms(parse_times), _median_ms(extract_times)
    print(
        f"page: {len(data):,} bytes, {args.runs} runs, CPU time (time.process_time), "
        f"URL caches {'kept' if args.warm else 'cleared before each run'}"
    )
    print(f"bare lxml.html parse:  median {parse_ms:7.2f} ms")
    print(
        f"extract_page:          median {extract_ms:7.2f} ms  (best {min(extract_times) * 1000:.2f} ms)"
        f"  = {extract_ms / parse_ms:.1f}x the bare parse"
    )
    print(
        f"found: {len(facts.links)} links, {len(facts.social)} social, "
        f"{len(facts.technologies)} technologies, {len(facts.people)} people, "
        f"{len(facts.emails)} emails, {len(facts.phones)} phones, text {len(facts.text):,} chars"
    )
    if args.steps:
        print("steps (median ms):")
        for name, samples in sorted(steps.items(), key=lambda kv: -statistics.median(kv[1])):
            print(f"  {name:18} {_median_ms(samples):7.2f}")


if __name__ == "__main__":
    main()
