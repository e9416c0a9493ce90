"""schema.org JSON-LD and microdata: the merged Organization, people and jobs from it."""

from __future__ import annotations

import json

from enrichment.web.extract import extract_page
from tests.enrichment.extract_pages import extract


def test_graph_organization_with_website_and_breadcrumbs():
    facts = extract("rich_jsonld", "https://nimbusanalytics.io/")
    org = facts.organization
    assert facts.organization_method == "json-ld"
    assert org["name"] == "Nimbus Analytics"
    assert org["legal_name"] == "Nimbus Analytics, Inc."
    assert org["founding_date"] == "2018-04-01"
    assert org["founders"] == ["Priya Raman", "Tomás Ortega"]
    assert org["employees"] == {"min": 51, "max": 200}
    assert org["address"]["locality"] == "San Francisco"
    assert org["address"]["postal_code"] == "94104"
    assert org["telephone"] == "+1 415-555-0132"
    assert org["email"] == "hello@nimbusanalytics.io"
    assert org["keywords"] == ["product analytics", "B2B SaaS", "retention"]
    assert "https://github.com/nimbus-analytics" in org["same_as"]
    # The WebSite node names the site; BreadcrumbList is not an organization.
    assert facts.site_name == "Nimbus"
    assert facts.logo == "https://nimbusanalytics.io/static/logo-512.png"
    assert facts.logo_method == "json-ld"
    assert facts.address["region"] == "CA"
    assert facts.people[:2] == [
        {"name": "Priya Raman", "title": "CEO", "method": "json-ld"},
        {"name": "Tomás Ortega", "title": "CTO", "method": "json-ld"},
    ]


def test_yoast_graph_resolves_logo_and_types_as_list():
    facts = extract("wordpress", "https://greenleafgardens.co.uk/")
    assert facts.organization["name"] == "Greenleaf Gardens Ltd"
    assert facts.organization["logo"] == (
        "https://greenleafgardens.co.uk/wp-content/uploads/2023/02/greenleaf-logo.png"
    )
    assert facts.site_name == "Greenleaf Gardens"
    assert facts.social["youtube"] == "https://www.youtube.com/channel/UC1a2b3c4d5e6f7g8h9i0jkl"


def test_microdata_organization_subtype_with_nested_address_and_founder():
    facts = extract("microdata", "https://www.clinicasonrisa.es/")
    assert facts.organization_method == "microdata"
    org = facts.organization
    assert org["name"] == "Clínica Dental Sonrisa"
    assert org["logo"] == "https://www.clinicasonrisa.es/img/sonrisa-logo.png"
    assert org["founding_date"] == "2009"
    assert org["telephone"] == "910 123 456"
    assert org["email"] == "citas@clinicasonrisa.es"
    assert org["address"]["street"] == "Calle de Alcalá 120, 2º"
    assert org["address"]["country"] == "ES"
    assert facts.logo_method == "microdata"
    assert facts.people == [
        {"name": "Lucía Fernández", "title": "Directora médica", "method": "microdata"}
    ]
    assert facts.phones == [{"raw": "910 123 456", "e164": "+34910123456"}]
    assert facts.social == {
        "facebook": "https://www.facebook.com/clinicasonrisamadrid",
        "instagram": "https://www.instagram.com/clinicasonrisa",
    }


def test_malformed_json_ld_is_read_where_it_can_be():
    facts = extract("broken_jsonld", "https://driftwoodcoffee.com/")
    org = facts.organization
    # Block 2 (trailing commas inside an HTML comment) gives the Corporation; block 3
    # (HTML-escaped, a SoftwareApplication's publisher) adds what the first lacked.
    assert org["name"] == "Driftwood Coffee Roasters"
    assert org["logo"] == "https://driftwoodcoffee.com/img/driftwood-mark.png"
    assert org["telephone"] == "+1 503 555 0110"
    assert org["founding_date"] == "2012"
    assert org["same_as"] == ["https://www.instagram.com/driftwoodcoffee/"]
    # Block 5: two objects in one script with an odd type attribute.
    assert facts.site_name == "Driftwood"
    assert facts.title == "Driftwood Coffee Roasters"


def test_publisher_of_software_application_counts_as_organization():
    html = (
        '<script type="application/ld+json">'
        + json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "SoftwareApplication",
                "name": "Widgetly",
                "publisher": {
                    "@type": "Organization",
                    "name": "Widget Works",
                    "url": "https://widget.works",
                },
                "author": {"@type": "Person", "name": "Someone Else"},
            }
        )
        + "</script>"
    )
    facts = extract_page(html, "https://widget.works/app")
    # The application itself is the publisher's product.
    assert facts.organization == {
        "name": "Widget Works",
        "url": "https://widget.works/",
        "products": ["Widgetly"],
    }
    assert facts.organization_method == "json-ld"


def test_job_postings_from_json_ld():
    facts = extract("careers", "https://fernweh.travel/careers")
    json_ld = [j for j in facts.jobs if j["method"] == "json-ld"]
    assert json_ld == [
        {
            "title": "Senior Backend Engineer (Python)",
            "url": "https://fernweh.travel/careers/senior-backend-engineer",
            "location": "Berlin, DE",
            "method": "json-ld",
        },
        {
            "title": "Product Designer",
            "url": "https://fernweh.travel/careers/product-designer",
            "location": "Remote",
            "method": "json-ld",
        },
    ]
    # A job's location is not the company's address.
    assert facts.address == {}


def test_products_applications_and_services_are_named():
    import json

    from enrichment.web.extract import extract_page

    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Organization", "name": "Acme", "url": "https://acme.io/"},
            {
                "@type": "SoftwareApplication",
                "name": "Acme Analytics",
                "applicationCategory": "BusinessApplication",
            },
            {
                "@type": "Product",
                "name": "Acme Sensor Kit",
                "offers": {"@type": "Offer", "price": "99"},
            },
            {"@type": "Service", "name": "Acme Onboarding"},
            {"@type": "FinancialService", "name": "Acme Bank"},
            {"@type": "Product", "name": "acme sensor kit"},
        ],
    }
    html = f'<html><head><script type="application/ld+json">{json.dumps(graph)}</script></head><body></body></html>'
    facts = extract_page(html, "https://acme.io/")
    assert facts.organization["name"] == "Acme"
    assert facts.organization["products"] == [
        "Acme Analytics",
        "Acme Sensor Kit",
        "Acme Onboarding",
    ]
    only_products = '<html><body><div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Widget Pro</span></div></body></html>'
    facts = extract_page(only_products, "https://widgets.example/")
    assert facts.organization == {"products": ["Widget Pro"]}
    assert facts.organization_method == "microdata"
