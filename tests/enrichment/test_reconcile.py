"""The offline reconciler: evidence (pages with extracted facts, search results) to a
profile whose every field names its source, method and confidence."""

from __future__ import annotations

import pytest

from enrichment.reconcile import FIELDS, employee_range, reconcile

pytestmark = pytest.mark.django_db  # the suite's autouse cache reset needs the test database

HOME = "https://www.acme.io/"
ABOUT = "https://www.acme.io/about"
PRICING = "https://www.acme.io/pricing"


def page(url, kind, **facts):
    base = {
        "url": url,
        "title": "",
        "description": "",
        "organization": {},
        "organization_method": "",
        "social": {},
        "emails": [],
        "phones": [],
        "address": {},
        "links": {},
        "people": [],
        "jobs": [],
        "technologies": [],
        "text": "",
    }
    return {"url": url, "kind": kind, "facts": base | facts}


def evidence(pages, searches=None, **extra):
    return {
        "query": extra.pop("query", {"name": "Acme"}),
        "website": HOME,
        "domain": "acme.io",
        "pages": pages,
        "searches": searches or {},
        **extra,
    }


RICH_HOME = page(
    HOME,
    "home",
    title="Acme — Payments infrastructure for the internet",
    description="Acme builds payment APIs for online businesses.",
    site_name="Acme",
    organization={
        "name": "Acme Payments GmbH",
        "description": "Acme is a payments platform for developers.",
        "founding_date": "2014-05-01",
        "employees": {"min": 120, "max": 180},
        "address": {"locality": "Berlin", "country": "DE"},
        "email": "hello@acme.io",
        "telephone": "+49 30 1234567",
    },
    organization_method="json-ld",
    logo="https://www.acme.io/logo.svg",
    logo_method="json-ld",
    social={
        "linkedin": "https://www.linkedin.com/company/acme",
        "github": "https://github.com/acme",
    },
    emails=["sales@acme.io"],
    phones=[{"raw": "030 1234567", "e164": "+49301234567"}],
    technologies=[
        {"name": "Next.js", "category": "framework", "evidence": "__NEXT_DATA__"},
        {"name": "HubSpot", "category": "crm", "evidence": "js.hs-scripts.com"},
    ],
)


def test_structured_data_wins_and_every_field_names_its_source():
    about = page(
        ABOUT,
        "about",
        text="Founded in 2012 in a garage. Today we are 450 employees across 3 offices.",
        people=[{"name": "Jane Roe", "title": "CEO", "method": "json-ld"}],
    )
    profile = reconcile(evidence([RICH_HOME, about]))
    fields, sources = profile.fields, profile.sources
    assert fields["name"] == "Acme Payments GmbH"
    assert sources["name"] == {"url": HOME, "method": "json-ld", "confidence": 0.9}
    assert fields["description"] == "Acme is a payments platform for developers."
    # The structured founding date beats the about page's text; employees likewise.
    assert fields["founded_year"] == 2014 and sources["founded_year"]["method"] == "json-ld"
    assert fields["employee_range"] == "51-200"
    assert fields["headquarters"] == "Berlin, DE"
    assert fields["industry"] == "Financial Services" and fields["sub_industry"] == "Payments"
    assert fields["logo"] == "https://www.acme.io/logo.svg"
    assert fields["social"]["linkedin"] == "https://www.linkedin.com/company/acme"
    assert fields["emails"][:2] == ["hello@acme.io", "sales@acme.io"]
    assert "+49 30 1234567" in fields["phones"] and "+49301234567" in fields["phones"]
    assert [t["name"] for t in fields["technologies"]] == ["Next.js", "HubSpot"]
    assert fields["people"] == [{"name": "Jane Roe", "title": "CEO"}]
    assert sources["people"] == {"url": ABOUT, "method": "json-ld", "confidence": 0.9}
    assert fields["domain"] == "acme.io" and fields["website"] == HOME
    assert HOME in fields["sources"] and ABOUT in fields["sources"]
    assert set(fields) <= set(FIELDS)
    for name, source in sources.items():
        assert set(source) == {"url", "method", "confidence"}, name
        assert 0 < source["confidence"] <= 1


def test_page_text_and_meta_fill_what_structured_data_lacks():
    home = page(
        HOME,
        "home",
        description="The collaborative workspace for product teams.",
        site_name="Acme",
        text="Acme was founded in 2019. Our team of 35 people works remotely.",
    )
    pricing = page(
        PRICING,
        "pricing",
        text="Starter $8 per user / month, billed yearly. Start your 14-day free trial.",
    )
    fields = reconcile(evidence([home, pricing])).fields
    assert fields["name"] == "Acme"
    assert fields["founded_year"] == 2019
    assert fields["employee_range"] == "11-50"
    assert fields["industry"] == "Software" and fields["sub_industry"] == "Collaboration"
    assert fields["pricing_model"] == "Per seat with free trial"
    profile = reconcile(evidence([home, pricing]))
    assert profile.sources["pricing_model"]["url"] == PRICING
    assert profile.sources["founded_year"]["method"] == "page text"


def test_search_snippets_give_funding_investors_news_and_competitors():
    searches = {
        "funding": [
            {
                "title": "Acme raises $40 million Series B led by Accel and Index Ventures",
                "url": "https://news.example.com/acme-series-b",
                "snippet": "The round brings total funding to $55M.",
            },
            {
                "title": "Acme closes $8M Series A",
                "url": "https://news.example.com/acme-a",
                "snippet": "Backed by Seedcamp.",
            },
        ],
        "news": [
            {
                "title": "Acme opens a London office",
                "url": "https://news.example.com/london",
                "snippet": "",
                "published": "2026-10-02",
            }
        ],
        "competitors": [
            {
                "title": "Top 10 Acme alternatives in 2026",
                "url": "https://reviews.example.com/acme-alternatives",
                "snippet": "Acme competitors include Stripe, Adyen and Mollie.",
            },
            {"title": "Acme vs Paddle: which is better?", "url": "https://x.example/vs"},
        ],
    }
    profile = reconcile(evidence([RICH_HOME], searches))
    fields = profile.fields
    assert fields["funding_stage"] == "Series B"
    assert fields["total_funding"] == "$55M"
    assert fields["investors"][:2] == ["Accel", "Index Ventures"]
    assert "Seedcamp" in fields["investors"]
    assert fields["recent_news"] == [
        {
            "title": "Acme opens a London office",
            "url": "https://news.example.com/london",
            "date": "2026-10-02",
        }
    ]
    assert fields["competitors"][:3] == ["Stripe", "Adyen", "Mollie"]
    assert "Paddle" in fields["competitors"] and "Acme" not in fields["competitors"]
    assert profile.sources["funding_stage"] == {
        "url": "https://news.example.com/acme-series-b",
        "method": "search",
        "confidence": 0.45,
    }


def test_nothing_found_leaves_fields_empty_not_invented():
    profile = reconcile(evidence([], query={"name": "Obscure Ltd"}, website="", domain=""))
    assert profile.fields["name"] == "Obscure Ltd"
    assert profile.sources["name"]["method"] == "input"
    for name in ("industry", "founded_year", "employee_range", "funding_stage", "competitors"):
        assert name not in profile.fields


def test_a_bare_domain_gives_a_name_with_low_confidence():
    profile = reconcile(
        evidence(
            [],
            query={"domain": "zyxcorp.com"},
            website="https://zyxcorp.com/",
            domain="zyxcorp.com",
        )
    )
    assert profile.fields["name"] == "Zyxcorp"
    assert profile.sources["name"]["confidence"] == 0.3


def test_employee_ranges_match_company_sizes():
    assert [employee_range(n) for n in (1, 10, 11, 200, 201, 5000, 10001)] == [
        "1-10",
        "1-10",
        "11-50",
        "51-200",
        "201-500",
        "1001-5000",
        "10001+",
    ]


def test_the_title_names_a_company_without_structured_data():
    from enrichment.reconcile import name_from_title

    assert name_from_title("Acme — Payments infrastructure for the internet", "acme.io") == "Acme"
    assert name_from_title("Home | Globex Corporation", "globex.com") == "Globex Corporation"
    assert name_from_title("Pricing - Initech", "initech.com") == "Initech"
    assert name_from_title("Welcome to our website", "zyx.io") == "Welcome to our website"
    assert name_from_title("", "zyx.io") == ""
    home = page(HOME, "home", title="Acme | Robots that pick and pack")
    profile = reconcile(evidence([home], query={}))
    assert profile.fields["name"] == "Acme"
    assert profile.sources["name"] == {"url": HOME, "method": "meta", "confidence": 0.5}
