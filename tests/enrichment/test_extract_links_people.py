"""Same-site page links, key people and open roles."""

from __future__ import annotations

from enrichment.web.extract import extract_page
from tests.enrichment.extract_pages import extract


def test_links_english():
    facts = extract("rich_jsonld", "https://nimbusanalytics.io/")
    assert facts.links == {
        "about": "https://nimbusanalytics.io/company/about",
        "contact": "https://nimbusanalytics.io/contact",
        "pricing": "https://nimbusanalytics.io/pricing",
        "careers": "https://nimbusanalytics.io/careers",
        "blog": "https://nimbusanalytics.io/blog",
        "customers": "https://nimbusanalytics.io/customers",
        "team": "https://nimbusanalytics.io/company/team",
    }


def test_links_german_with_language_prefix():
    facts = extract("impressum_de", "https://www.brueckner-maschinenbau.de/de/impressum/")
    assert facts.links == {
        "about": "https://www.brueckner-maschinenbau.de/de/ueber-uns/",
        "contact": "https://www.brueckner-maschinenbau.de/de/kontakt/",  # over the Impressum
        "careers": "https://www.brueckner-maschinenbau.de/de/karriere/",
        "blog": "https://www.brueckner-maschinenbau.de/de/aktuelles/",
        "customers": "https://www.brueckner-maschinenbau.de/de/referenzen/",
    }


def test_links_spanish_and_by_text_only():
    facts = extract("microdata", "https://www.clinicasonrisa.es/")
    assert facts.links["about"] == "https://www.clinicasonrisa.es/sobre-nosotros"
    assert facts.links["pricing"] == "https://www.clinicasonrisa.es/precios"
    assert facts.links["team"] == "https://www.clinicasonrisa.es/equipo"
    html = """<a href="/p/12">Nous contacter</a> <a href="/p/13">Tarifs</a>
    <a href="https://other.com/about">About</a> <a href="https://shop.atelier.fr/a-propos">À propos</a>"""
    facts = extract_page(html, "https://www.atelier.fr/")
    assert facts.links == {
        "about": "https://shop.atelier.fr/a-propos",  # same registered domain
        "contact": "https://www.atelier.fr/p/12",
        "pricing": "https://www.atelier.fr/p/13",
    }


def test_team_page_people():
    facts = extract("team", "https://corvidsec.com/team")
    assert facts.people == [
        {"name": "Hannah Lindqvist", "title": "Head of Research", "method": "json-ld"},
        {"name": "Amara Okafor", "title": "Co-Founder & CEO", "method": "team-page"},
        {
            "name": "Lukas Brenner",
            "title": "Co-Founder & Chief Technology Officer",
            "method": "team-page",
        },
        {"name": "Sofía de la Cruz", "title": "VP of Sales", "method": "team-page"},
    ]


def test_careers_page_jobs_from_json_ld_greenhouse_and_lever():
    facts = extract("careers", "https://fernweh.travel/careers")
    titles = [(j["title"], j["method"]) for j in facts.jobs]
    assert titles == [
        ("Senior Backend Engineer (Python)", "json-ld"),
        ("Product Designer", "json-ld"),
        ("Customer Support Specialist (German)", "ats-link"),
        ("Data Analyst", "ats-link"),
        ("Partnerships Manager DACH", "ats-link"),
    ]
    by_title = {j["title"]: j for j in facts.jobs}
    assert by_title["Data Analyst"]["url"] == "https://boards.greenhouse.io/fernweh/jobs/4567890003"
    assert by_title["Data Analyst"]["location"] == "Berlin, Germany"
    assert by_title["Partnerships Manager DACH"]["url"] == (
        "https://jobs.lever.co/fernweh/5c2b6e0e-8a7b-4b1e-9a53-2f1f8f0b7d11"
    )
    assert by_title["Partnerships Manager DACH"]["location"] == "Berlin"
    # The board's index page and the "Apply" button are not jobs.
    assert all(j["url"] != "https://boards.greenhouse.io/fernweh" for j in facts.jobs)


def test_own_site_job_list_without_json_ld():
    html = """<html><body><h1>Karriere</h1><ul>
    <li><a href="/karriere/werkstudent-marketing"><h3>Werkstudent Marketing (m/w/d)</h3><span class="location">Hamburg</span></a></li>
    <li><a href="/karriere/java-entwickler">Java-Entwickler (m/w/d)</a></li>
    <li><a href="/karriere/java-entwickler">Mehr erfahren</a></li></ul>
    <a href="https://acme.jobs.personio.de/job/123456">Office Manager</a></body></html>"""
    facts = extract_page(html, "https://acme.de/karriere/")
    assert facts.jobs == [
        {
            "title": "Office Manager",
            "url": "https://acme.jobs.personio.de/job/123456",
            "location": "",
            "method": "ats-link",
        },
        {
            "title": "Werkstudent Marketing (m/w/d)",
            "url": "https://acme.de/karriere/werkstudent-marketing",
            "location": "Hamburg",
            "method": "careers-page",
        },
        {
            "title": "Java-Entwickler (m/w/d)",
            "url": "https://acme.de/karriere/java-entwickler",
            "location": "",
            "method": "careers-page",
        },
    ]


def test_no_people_from_headings_that_are_not_names():
    html = "<h3>Our Mission</h3><p>Head of everything</p><h3>Get Started</h3><p>CEO talk</p>"
    assert extract_page(html, "https://x.io/").people == []


_CARDS = """<div class="cards">
  <div class="card"><h3>Jane Cooper</h3><p>VP of Marketing, Globex</p></div>
  <div class="card"><h3>Marcus Okafor</h3><p>Head of Growth, Initech</p></div>
</div>"""
_PRODUCT_PAGE = f"""<html><head><title>Loomwork | Revenue workflows</title></head><body>
<h1>Revenue workflows, without the spreadsheets</h1><h2>Loved by revenue teams</h2>{_CARDS}
</body></html>"""


def test_people_cards_read_on_team_pages_only(monkeypatch):
    from enrichment.web.extract import people

    scanned = []
    scan = people.team_people
    monkeypatch.setattr(people, "team_people", lambda doc: scanned.append(doc.url) or scan(doc))
    expected = [
        {"name": "Jane Cooper", "title": "VP of Marketing, Globex", "method": "team-page"},
        {"name": "Marcus Okafor", "title": "Head of Growth, Initech", "method": "team-page"},
    ]
    # A product page's testimonials: names next to job titles, but not the company's people,
    # and the card scan does not run at all.
    assert extract_page(_PRODUCT_PAGE, "https://loomwork.io/").people == []
    assert extract_page(_PRODUCT_PAGE, "https://loomwork.io/customers").people == []
    assert scanned == []
    # The same cards on a team page: by its path, by a heading, by its title.
    assert extract_page(_PRODUCT_PAGE, "https://loomwork.io/company/leadership").people == expected
    heading = _PRODUCT_PAGE.replace("Loved by revenue teams", "Meet the team")
    assert extract_page(heading, "https://loomwork.io/").people == expected
    titled = _PRODUCT_PAGE.replace("Revenue workflows</title>", "Über uns</title>")
    assert extract_page(titled, "https://loomwork.de/").people == expected
    assert scanned == [
        "https://loomwork.io/company/leadership",
        "https://loomwork.io/",
        "https://loomwork.de/",
    ]


def test_people_cards_read_when_structured_data_names_people():
    person = '<script type="application/ld+json">{"@type":"Person","name":"Ada Lindqvist","jobTitle":"CEO"}</script>'
    facts = extract_page(_PRODUCT_PAGE.replace("</body>", person + "</body>"), "https://x.io/")
    assert [(p["name"], p["method"]) for p in facts.people] == [
        ("Ada Lindqvist", "json-ld"),
        ("Jane Cooper", "team-page"),
        ("Marcus Okafor", "team-page"),
    ]
