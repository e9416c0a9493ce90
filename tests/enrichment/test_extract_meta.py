"""Head facts: title, description, OpenGraph/Twitter, canonical URL, language, logo, favicon."""

from __future__ import annotations

from enrichment.web.extract import extract_page
from tests.enrichment.extract_pages import extract


def test_page_with_only_meta_tags():
    facts = extract("meta_only", "https://www.boulangerie-lumiere.fr/")
    assert facts.title == "Boulangerie Lumière — Pains au levain à Lyon"
    assert facts.description.startswith("Pains au levain, viennoiseries")  # og:description
    assert facts.canonical_url == "https://www.boulangerie-lumiere.fr/"  # from og:url
    assert facts.site_name == "Boulangerie Lumière"
    assert facts.language == "fr"
    assert facts.meta["twitter:site"] == "@boulangerielumiere"
    assert facts.meta["generator"] == "Hugo 0.121.1"
    assert facts.organization == {} and facts.organization_method == ""
    # The SVG icon (any size) is the favicon and a better logo than the og:image photo.
    assert facts.favicon == "https://www.boulangerie-lumiere.fr/icon.svg"
    assert facts.logo == "https://www.boulangerie-lumiere.fr/icon.svg"
    assert facts.logo_method == "link"


def test_og_image_is_the_logo_only_when_nothing_better():
    html = '<html><head><meta property="og:image" content="/share.png"><link rel="icon" href="/favicon.ico"></head></html>'
    facts = extract_page(html, "https://shop.example.org/a/b")
    assert facts.logo == "https://shop.example.org/share.png"
    assert facts.logo_method == "meta"
    assert facts.favicon == "https://shop.example.org/favicon.ico"


def test_favicon_best_size_first_and_description_prefers_meta_description():
    facts = extract("rich_jsonld", "https://nimbusanalytics.io/")
    assert facts.favicon == "https://nimbusanalytics.io/favicon-32x32.png"
    assert facts.description.startswith("Nimbus Analytics helps B2B product teams")
    assert facts.canonical_url == "https://nimbusanalytics.io/"
    assert facts.language == "en-US"
    assert facts.meta["og:site_name"] == "Nimbus"


def test_header_logo_image_without_schema():
    facts = extract("impressum_de", "https://www.brueckner-maschinenbau.de/de/impressum/")
    assert facts.logo == "https://www.brueckner-maschinenbau.de/assets/img/brueckner-logo.svg"
    assert facts.logo_method == "img"
    assert facts.favicon == "https://www.brueckner-maschinenbau.de/favicon.ico"
    assert facts.title == "Impressum | Brückner Maschinenbau GmbH"


def test_customer_logos_are_not_the_site_logo():
    html = """<html><body><section class="customers"><img src="/c/acme-logo.png" alt="Acme logo"></section>
    <link rel="apple-touch-icon" href="/touch.png"></body></html>"""
    facts = extract_page(html, "https://vendor.io/")
    assert facts.logo == "https://vendor.io/touch.png"
    assert facts.logo_method == "link"


def test_visible_text_drops_scripts_styles_and_navigation_and_respects_the_budget():
    facts = extract("rich_jsonld", "https://nimbusanalytics.io/")
    assert facts.text.startswith("Product analytics built for B2B\nSee which accounts activate")
    assert "gtag(" not in facts.text and "__NEXT_DATA__" not in facts.text
    assert "Book a demo" not in facts.text  # navigation
    assert "© 2024 Nimbus Analytics, Inc." in facts.text  # the footer stays
    short = extract("rich_jsonld", "https://nimbusanalytics.io/", text_budget=60)
    assert (
        short.text == "Product analytics built for B2B\nSee which accounts activate,"
    )  # at a word
    assert len(short.text) <= 60


def test_spa_shell_has_title_and_language_but_no_text():
    facts = extract("spa_next", "https://loopline.dev/")
    assert facts.title == "Loopline"
    assert facts.language == "en"
    assert facts.text == ""
    assert facts.emails == []


def test_as_dict_is_json_safe():
    import json

    facts = extract("rich_jsonld", "https://nimbusanalytics.io/")
    data = facts.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["organization"]["employees"] == {"min": 51, "max": 200}


def test_the_twitter_site_handle_is_the_sites_x_profile():
    from enrichment.web.extract import extract_page

    html = '<html><head><meta name="twitter:site" content="@AcmeHQ"></head><body></body></html>'
    assert extract_page(html, "https://acme.io/").social == {"twitter": "https://x.com/AcmeHQ"}
    # A profile link on the page wins; junk in the meta tag is ignored.
    linked = (
        '<html><head><meta name="twitter:site" content="@Other"></head>'
        '<body><footer><a href="https://twitter.com/acme">X</a></footer></body></html>'
    )
    assert extract_page(linked, "https://acme.io/").social["twitter"].endswith("/acme")
    junk = '<html><head><meta name="twitter:site" content="not a handle!"></head></html>'
    assert "twitter" not in extract_page(junk, "https://acme.io/").social
