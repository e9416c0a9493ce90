"""Contacts: social profiles, emails, phone numbers, postal address."""

from __future__ import annotations

from enrichment.web.extract import extract_page
from enrichment.web.extract.contacts import social_profile
from tests.enrichment.extract_pages import extract


def test_footer_only_company_facts():
    # windows-1252 bytes with a meta charset: decoded as such.
    facts = extract("footer_only", "https://www.harborlogistics.com/")
    assert "Partner office in Zürich" in facts.text and "Café area" in facts.text
    assert facts.emails == ["info@harborlogistics.com", "sales@harborlogistics.com"]
    # The tel: link first; the same number in the text is not repeated; the fax is left out;
    # "Quote reference 1234567", dates and years are not phone numbers.
    assert facts.phones == [
        {"raw": "+1-617-555-0199", "e164": "+16175550199"},
        {"raw": "617-555-0142", "e164": "+16175550142"},
    ]
    assert facts.address == {
        "street": "One Seaport Avenue, Suite 1200",
        "locality": "Boston",
        "region": "MA",
        "postal_code": "02210",
        "country": "US",
        "text": "One Seaport Avenue, Suite 1200, Boston, MA 02210",
    }
    assert facts.social == {
        "linkedin": "https://www.linkedin.com/company/harbor-logistics-llc",
        "twitter": "https://x.com/harborlog",
        "facebook": "https://www.facebook.com/HarborLogisticsBoston",
        "instagram": "https://www.instagram.com/harborlogistics",
    }


def test_social_prefers_same_as_and_ignores_share_buttons():
    facts = extract("rich_jsonld", "https://nimbusanalytics.io/")
    assert facts.social == {
        "linkedin": "https://www.linkedin.com/company/nimbus-analytics",
        "twitter": "https://twitter.com/nimbushq",  # sameAs wins over the footer's support account
        "github": "https://github.com/nimbus-analytics",
        "youtube": "https://www.youtube.com/@nimbusanalytics",
        "crunchbase": "https://www.crunchbase.com/organization/nimbus-analytics",
    }
    assert "facebook" not in facts.social  # only a sharer link
    assert "instagram" not in facts.social  # only a post, not a profile


def test_social_profile_rules():
    assert social_profile("https://twitter.com/intent/tweet?text=hi") is None
    assert social_profile("https://www.facebook.com/sharer/sharer.php?u=x") is None
    assert social_profile("https://www.linkedin.com/shareArticle?mini=true&url=x") is None
    assert social_profile("https://github.com/features") is None
    assert social_profile("https://github.com/acme/widget") is None  # a repository
    assert social_profile("https://www.instagram.com/p/abc/") is None
    assert social_profile("https://www.youtube.com/watch?v=abc") is None
    assert social_profile("https://de.linkedin.com/company/acme/jobs/") == (
        "linkedin",
        "https://www.linkedin.com/company/acme",
    )
    assert social_profile("https://www.linkedin.com/in/jane-doe-123/") == (
        "linkedin",
        "https://www.linkedin.com/in/jane-doe-123",
    )
    assert social_profile("http://twitter.com/acme/") == ("twitter", "https://twitter.com/acme")
    assert social_profile("https://www.crunchbase.com/organization/acme") == (
        "crunchbase",
        "https://www.crunchbase.com/organization/acme",
    )


def test_obfuscated_and_protected_emails_without_false_positives():
    facts = extract("obfuscated_emails", "https://quarrylabs.com/contact")
    assert set(facts.emails) == {
        "info@quarrylabs.com",
        "press@quarrylabs.com",
        "jobs@quarrylabs.com",
        "security@quarrylabs.com",  # Cloudflare email protection (href)
        "billing@quarrylabs.com",  # Cloudflare email protection (data-cfemail)
        "support@quarrylabs.com",  # lower-cased
        "partners@quarrylabs.com",  # HTML entities
    }
    assert len(facts.emails) == len(set(facts.emails))
    assert facts.emails.index("info@quarrylabs.com") < facts.emails.index("press@quarrylabs.com")
    # No logo@2x.png, no example.com, no Sentry DSN from the script.
    assert not any("2x" in e or "3x" in e or "example" in e or "sentry" in e for e in facts.emails)


def test_plain_words_at_are_not_emails():
    facts = extract_page(
        "<p>We meet at noon at the office. Find us at acme.com.</p>", "https://acme.com/"
    )
    assert facts.emails == []


def test_german_impressum():
    facts = extract("impressum_de", "https://www.brueckner-maschinenbau.de/de/impressum/")
    assert facts.language == "de"
    assert facts.address == {
        "street": "Industriestraße 42",
        "postal_code": "70565",
        "locality": "Stuttgart",
        "country": "Deutschland",
        "text": "Industriestraße 42, 70565 Stuttgart, Deutschland",
    }
    # +49 with the "(0)" trunk prefix, and a number without country code read as German;
    # the Telefax line is no phone number; the VAT id is no phone number.
    assert facts.phones == [
        {"raw": "+49 (0) 711 123456-0", "e164": "+497111234560"},
        {"raw": "0711 123456-20", "e164": "+4971112345620"},
    ]
    assert facts.emails == ["info@brueckner-maschinenbau.de"]
    assert facts.people == [
        {"name": "Dr. Katrin Brückner", "title": "Geschäftsführer", "method": "text"},
        {"name": "Jonas Weber", "title": "Geschäftsführer", "method": "text"},
    ]
    assert facts.social == {"linkedin": "https://www.linkedin.com/company/brueckner-maschinenbau"}


def test_uk_address_and_phone_from_footer_text():
    facts = extract("wordpress", "https://greenleafgardens.co.uk/")
    assert facts.address["street"] == "14 Whiteladies Road"
    assert facts.address["postal_code"] == "BS8 1PD"
    assert facts.address["locality"] == "Bristol"
    assert facts.phones == [{"raw": "0117 496 0123", "e164": "+441174960123"}]
    assert facts.emails == ["hello@greenleafgardens.co.uk"]


def test_address_element():
    html = """<html lang="fr-FR"><body><footer><address>Atelier Nord<br>12 rue des Forges<br>
    69002 Lyon<br>France<br>Tél : 04 72 00 00 00</address></footer></body></html>"""
    facts = extract_page(html, "https://atelier-nord.fr/")
    assert facts.address["street"] == "12 rue des Forges"
    assert facts.address["postal_code"] == "69002"
    assert facts.address["locality"] == "Lyon"
    assert facts.address["text"] == "Atelier Nord, 12 rue des Forges, 69002 Lyon, France"
    assert facts.phones == [{"raw": "04 72 00 00 00", "e164": "+33472000000"}]


def test_phone_without_region_hint_keeps_raw_form():
    facts = extract_page('<a href="tel:555-0100">Call</a>', "https://acme.io/")
    assert facts.phones == [{"raw": "555-0100", "e164": ""}]
