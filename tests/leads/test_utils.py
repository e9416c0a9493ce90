import pytest

from leads.utils import (
    company_domain_from_email,
    normalize_email,
    normalize_phone,
    registered_domain,
    split_full_name,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ada@Example.COM ", "ada@example.com"),
        ("<bob@example.com>", "bob@example.com"),
        ("mailto:Carol@Example.com", "carol@example.com"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 (415) 555-0123", None, "+14155550123"),
        ("415-555-0123", "US", "+14155550123"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("call me maybe", None, ""),
        ("12", None, ""),
        ("", None, ""),
    ],
)
def test_normalize_phone(raw, region, expected):
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.acme.co.uk/about", "acme.co.uk"),
        ("WWW.Example.com", "example.com"),
        ("jane@sales.initech.com", "initech.com"),
        ("http://localhost:8000", ""),
        ("not a domain", ""),
        ("", ""),
    ],
)
def test_registered_domain(raw, expected):
    assert registered_domain(raw) == expected


def test_free_mail_domains_suggest_no_company():
    assert company_domain_from_email("someone@gmail.com") == ""
    assert company_domain_from_email("someone@acme.io") == "acme.io"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ada Lovelace", ("Ada", "Lovelace")),
        ("Lovelace, Ada", ("Ada", "Lovelace")),
        ("  Jean  Claude Van Damme ", ("Jean", "Claude Van Damme")),
        ("Cher", ("Cher", "")),
        ("", ("", "")),
    ],
)
def test_split_full_name(raw, expected):
    assert split_full_name(raw) == expected
