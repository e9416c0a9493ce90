"""extract_page never raises and stays fast: garbage, empty input, odd encodings, huge pages."""

from __future__ import annotations

import os
import random
import time

import pytest

from enrichment.web.extract import PageFacts, extract_page
from tests.enrichment.extract_pages import page_bytes


@pytest.mark.parametrize("data", ["", b"", "   \n ", None, b"\x00\x01\x02\xff\xfe\xfd" * 100])
def test_empty_and_garbage_input(data):
    facts = extract_page(data, "https://acme.io/")
    assert isinstance(facts, PageFacts)
    assert facts.url == "https://acme.io/"
    assert facts.organization == {} and facts.emails == [] and facts.links == {}


def test_random_binary_garbage():
    rng = random.Random(4)
    data = bytes(rng.randrange(256) for _ in range(50_000))
    facts = extract_page(data, "https://acme.io/")
    assert facts.organization == {} and facts.jobs == [] and facts.people == []
    assert isinstance(facts.as_dict(), dict)


def test_truncated_and_deeply_nested_markup():
    truncated = page_bytes("rich_jsonld")[:3000]
    facts = extract_page(truncated, "https://nimbusanalytics.io/")
    assert facts.title == "Nimbus Analytics | Product analytics for B2B teams"
    deep = "<html><body>" + "<div>" * 20_000 + "<p>deep text info@deep.io</p>" + "</div>" * 20_000
    facts = extract_page(deep, "https://deep.io/")
    assert isinstance(facts, PageFacts)  # whatever lxml keeps of it, no recursion error


def test_xml_declaration_and_odd_url():
    html = "<?xml version='1.0' encoding='ISO-8859-1'?><html><head><title>Ünïcode</title></head></html>"
    facts = extract_page(html, "not a url")
    assert facts.title == "Ünïcode"
    assert extract_page("<a href='http://[::1'>x</a><a href='/about'>About</a>", "").links == {}


def test_latin1_bytes_with_meta_charset():
    html = '<html><head><meta charset="iso-8859-1"><title>Caf\xe9 M\xfcller</title></head></html>'.encode(
        "latin-1"
    )
    assert extract_page(html, "https://cafe.de/").title == "Café Müller"


def test_header_charset_wins_over_guessing():
    html = "<html><head><title>Stra\xdfe</title></head></html>".encode("cp1252")
    facts = extract_page(
        html, "https://x.de/", headers={"Content-Type": "text/html; charset=windows-1252"}
    )
    assert facts.title == "Straße"


def _typical_page(target: int = 200_000) -> str:
    base = page_bytes("rich_jsonld").decode()
    sections = []
    size = len(base)
    i = 0
    while size < target:
        sections.append(
            f'<section class="feature"><h2>Feature {i}</h2><p>Lorem ipsum dolor sit amet {i}, consectetur '
            f"adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>"
            f'<ul><li><a href="/docs/feature-{i}">Docs</a></li><li><a href="https://partner{i}.com/">Partner</a></li></ul></section>'
        )
        size += len(sections[-1])
        i += 1
    return base.replace("<main>", "<main>" + "".join(sections))


def test_typical_200kb_page_is_fast():
    page = _typical_page()
    assert 190_000 < len(page) < 220_000
    extract_page(page, "https://nimbusanalytics.io/")  # warm up (suffix list, regexes)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        facts = extract_page(page, "https://nimbusanalytics.io/")
        timings.append(time.perf_counter() - start)
    assert facts.organization["name"] == "Nimbus Analytics"
    assert facts.links["pricing"] == "https://nimbusanalytics.io/pricing"
    # 20 ms is the goal on an idle machine; the bound leaves room for a loaded CI box.
    limit = float(os.environ.get("EXTRACT_PAGE_MAX_SECONDS", "0.25"))
    assert min(timings) < limit


def test_five_megabyte_page():
    page = _typical_page(5_000_000)
    assert len(page) > 5_000_000
    start = time.perf_counter()
    facts = extract_page(page, "https://nimbusanalytics.io/", text_budget=5_000)
    elapsed = time.perf_counter() - start
    assert facts.organization["name"] == "Nimbus Analytics"
    assert len(facts.text) <= 5_000
    assert elapsed < 15
