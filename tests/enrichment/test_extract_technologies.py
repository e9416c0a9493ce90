"""Technology fingerprints: the rule table and one detection per category."""

from __future__ import annotations

import pytest

from enrichment.web.extract import TECHNOLOGIES, detect_technologies
from enrichment.web.extract.technologies import CATEGORIES
from tests.enrichment.extract_pages import extract, page_bytes


def names(found: list[dict]) -> set[str]:
    return {t["name"] for t in found}


def test_rule_table_has_at_least_forty_distinct_technologies():
    distinct = {t["name"] for t in TECHNOLOGIES}
    assert len(distinct) >= 40
    assert len(distinct) == len(TECHNOLOGIES)  # one entry per technology
    assert {t["category"] for t in TECHNOLOGIES} == set(CATEGORIES)
    keys = {"name", "category", "script", "html", "meta", "headers", "cookies", "implies"}
    assert all(
        set(t) <= keys and any(k in t for k in ("script", "html", "meta", "headers", "cookies"))
        for t in TECHNOLOGIES
    )


def test_analytics_from_script_sources_and_inline_snippets():
    found = extract("rich_jsonld", "https://nimbusanalytics.io/").technologies
    by_name = {t["name"]: t for t in found}
    assert by_name["Google Analytics"] == {
        "name": "Google Analytics",
        "category": "analytics",
        "evidence": "script: https://www.googletagmanager.com/gtag/js?id=g-7q2zc9x1lm",
    }
    assert by_name["Segment"]["evidence"] == "html: cdn.segment.com/analytics.js"
    assert by_name["Intercom"]["category"] == "chat"
    assert by_name["React"]["evidence"] == "implied by Next.js"


def test_crm_from_script_and_cookie():
    found = extract("footer_only", "https://www.harborlogistics.com/").technologies
    assert {"HubSpot", "jQuery", "Bootstrap"} <= names(found)
    hubspot = detect_technologies("<p>hi</p>", cookies=["hubspotutk=abc", "__hssc=1"])
    assert hubspot == [{"name": "HubSpot", "category": "crm", "evidence": "cookie hubspotutk"}]


def test_chat_widgets():
    html = '<script src="https://embed.tawk.to/5f1/default"></script><script>window.$crisp=[];CRISP_WEBSITE_ID="x";</script>'
    html += '<script src="https://client.crisp.chat/l.js"></script>'
    assert names(detect_technologies(html)) == {"tawk.to", "Crisp"}


def test_cms_wordpress_with_generator_and_plugins():
    found = extract("wordpress", "https://greenleafgardens.co.uk/").technologies
    by_name = {t["name"]: t for t in found}
    assert by_name["WordPress"]["evidence"] == "meta generator: WordPress 6.4.3"
    assert by_name["WooCommerce"]["category"] == "ecommerce"
    assert by_name["Hotjar"]["evidence"] == "html: static.hotjar.com"
    assert "jQuery" in by_name


def test_ecommerce_from_headers_and_html():
    found = detect_technologies(
        '<link rel="stylesheet" href="//cdn.shopify.com/s/files/1/theme.css"><script src="https://js.stripe.com/v3/"></script>',
        headers={"X-ShopId": "12345", "Server": "cloudflare"},
    )
    assert {"Shopify", "Stripe.js", "Cloudflare"} <= names(found)
    magento = detect_technologies('<script type="text/x-magento-init">{}</script>')
    assert names(magento) == {"Magento"}


def test_frameworks_from_markers():
    spa = extract("spa_next", "https://loopline.dev/").technologies
    assert {"Next.js", "React", "Stripe.js"} <= names(spa)
    assert names(detect_technologies('<app-root ng-version="17.1.0"></app-root>')) == {"Angular"}
    assert names(
        detect_technologies('<div id="__nuxt"></div><script>window.__NUXT__={}</script>')
    ) == {"Nuxt", "Vue.js"}
    assert "Tailwind CSS" in names(
        detect_technologies('<script src="https://cdn.tailwindcss.com"></script>')
    )


def test_infrastructure_from_response_headers_and_set_cookie():
    headers = {
        "Server": "Vercel",
        "X-Vercel-Id": "fra1::abcd",
        "X-Powered-By": "Next.js",
        "Via": "1.1 0a1b2c.cloudfront.net (CloudFront)",
        "Set-Cookie": "__cf_bm=abc; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/, _ga=GA1.1; Path=/",
    }
    found = detect_technologies("", headers=headers)
    by_name = {t["name"]: t for t in found}
    assert by_name["Vercel"]["evidence"] == "header x-vercel-id: fra1::abcd"
    assert by_name["AWS CloudFront"]["category"] == "infrastructure"
    assert by_name["Cloudflare"]["evidence"] == "cookie __cf_bm"
    assert by_name["Google Analytics"]["evidence"] == "cookie _ga"
    assert by_name["Next.js"]["evidence"] == "header x-powered-by: Next.js"
    assert names(detect_technologies("", headers={"server": "nginx/1.25.3"})) == {"nginx"}


def test_no_false_positive_from_plain_text():
    html = (
        "<p>We compared WordPress, Shopify and React in our blog post about hosting on nginx.</p>"
    )
    assert detect_technologies(html) == []


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<meta name="generator" content="Drupal 10 (https://www.drupal.org)">', "Drupal"),
        ('<html data-wf-page="64a" data-wf-site="64b">', "Webflow"),
        ('<script src="https://static.parastorage.com/services/x.js"></script>', "Wix"),
        ('<img src="https://images.ctfassets.net/abc/logo.png">', "Contentful"),
        ('<script src="https://munchkin.marketo.net/munchkin.js"></script>', "Marketo"),
        (
            '<script src="https://plausible.io/js/script.js" data-domain="x.io"></script>',
            "Plausible",
        ),
        ("<script>posthog.init('phc_x',{api_host:'https://eu.i.posthog.com'})</script>", "PostHog"),
    ],
)
def test_more_rules(html, expected):
    assert expected in names(detect_technologies(html))


def test_detect_on_bytes_page():
    assert "Matomo" in names(detect_technologies(page_bytes("impressum_de")))
