"""In a real browser: paste two companies on the enrichment page, land on the job page, watch
its progress fragment poll until the job is done, open a result and read its fields with
their sources, apply it to a company, and find the enrichment on the company's page.

Headless Chromium (Debian's `chromium`) driven by Playwright against live_server. The
companies' sites and a SearXNG-shaped search server are one local server answering by Host
header; the app's fetcher (monkeypatched, as in tests/enrichment/test_jobs.py) resolves their
names to 127.0.0.1 and may reach them only through its allow list. Under pytest the job's
task runs synchronously on commit of the start request; here it is held back on a thread
until the test has seen the job page waiting, so the page must catch up by polling alone.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


def _sites(port: int) -> dict[str, dict[str, str]]:
    acme = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": "Acme Robotics",
        "description": "Acme Robotics builds warehouse robots for logistics teams.",
        "foundingDate": "2016",
        "numberOfEmployees": {"@type": "QuantitativeValue", "value": 140},
        "address": {"@type": "PostalAddress", "addressLocality": "Munich", "addressCountry": "DE"},
        "sameAs": ["https://www.linkedin.com/company/acme-robotics"],
    }
    acme_home = (
        "<!doctype html><html><head><title>Acme Robotics</title>"
        f'<script type="application/ld+json">{json.dumps(acme)}</script></head>'
        '<body><a href="/contact">Contact</a><h1>Robots that pick and pack</h1></body></html>'
    )
    acme_contact = (
        "<html><body><h1>Contact</h1>"
        '<p><a href="mailto:hello@acme-robotics.io">hello@acme-robotics.io</a></p></body></html>'
    )
    beta_home = (
        "<!doctype html><html><head><title>Beta Bakery</title>"
        '<meta property="og:site_name" content="Beta Bakery">'
        '<meta name="description" content="Sourdough bread baked in Lyon since 1998.">'
        "</head><body><h1>Bread</h1></body></html>"
    )
    return {
        "acme-robotics.io": {"/": acme_home, "/contact": acme_contact},
        "beta-bakery.fr": {"/": beta_home},
    }


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        parts = urlsplit(self.path)
        if host == "search.local":
            query = parse_qs(parts.query).get("q", [""])[0].lower()
            results = []
            if "acme" in query and "funding" in query:
                results = [
                    {
                        "url": "https://news.example.com/acme-series-b",
                        "title": "Acme Robotics raises $30 million Series B led by Atomico",
                        "content": "The Munich startup will hire 50 engineers.",
                    }
                ]
            self._send(200, json.dumps({"query": query, "results": results}), "application/json")
            return
        if parts.path == "/robots.txt":
            self._send(200, "User-agent: *\nAllow: /\n", "text/plain")
            return
        body = self.server.sites.get(host, {}).get(parts.path)
        if body is None:
            self._send(404, "<h1>Not found</h1>")
        else:
            self._send(200, body)

    def _send(self, status, body, content_type="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def company_sites(monkeypatch):
    from enrichment import outside
    from enrichment.web.fetch import Fetcher
    from enrichment.web.search import SearXNG

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    server.sites = _sites(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hosts = ["acme-robotics.io", "beta-bakery.fr", "search.local"]
    fetcher = Fetcher(
        user_agent="ProspectorBot/1.0 (+https://prospector.example/bot)",
        allow_hosts=[f"{h}:{port}" for h in hosts],
        resolver=lambda host, _port: ["127.0.0.1"],
        per_host_delay=0.0,
        max_retries=0,
        timeout=(2.0, 2.0),
    )
    providers = [SearXNG(fetcher, f"http://search.local:{port}")]
    monkeypatch.setattr(outside, "fetcher", lambda: fetcher)
    monkeypatch.setattr(outside, "search_providers", lambda: providers)
    yield port
    server.shutdown()
    server.server_close()


@pytest.fixture
def held_worker(monkeypatch):
    """The job's task starts run_job on a thread that waits for `go` (the worker being
    slow to pick the job up), instead of running it inside the start request."""
    from django.db import connections

    from enrichment import jobs

    real_run_job = jobs.run_job
    go = threading.Event()
    threads: list[threading.Thread] = []
    outcomes: list[str] = []

    def run_later(organization_id, job_id, **kwargs):
        def work():
            try:
                if go.wait(30):
                    outcomes.append(real_run_job(organization_id, job_id, **kwargs))
            finally:
                connections.close_all()

        thread = threading.Thread(target=work, daemon=True)
        threads.append(thread)
        thread.start()
        return "queued"

    monkeypatch.setattr(jobs, "run_job", run_later)
    yield go, threads, outcomes
    go.set()
    for thread in threads:
        thread.join(30)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_paste_companies_watch_the_job_finish_and_apply_a_result(
    live_server, browser_page, company_sites, held_worker
):
    from django.urls import reverse
    from playwright.sync_api import expect

    from enrichment.models import EnrichmentJob, EnrichmentResult, JobStatus
    from leads.models import Company
    from tests import factories

    port = company_sites
    go, threads, outcomes = held_worker
    owner = factories.make_user("rep@example.com", name="Rita Rep")
    org = factories.make_org("Enrich Co", owner=owner)
    page = browser_page
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("rep@example.com")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/o/{org.slug}/")

    page.goto(f"{base}/o/{org.slug}/enrichment/")
    expect(page.get_by_role("heading", name="No enrichment jobs yet")).to_be_visible()
    page.get_by_label("Companies").fill(
        f"Acme Robotics, http://acme-robotics.io:{port}/\nhttp://beta-bakery.fr:{port}/"
    )
    page.get_by_role("button", name="Start enrichment").click()

    job = EnrichmentJob.objects.get(organization=org)
    job_url = base + reverse("enrichment:job_detail", args=[org.slug, job.pk])
    expect(page).to_have_url(job_url)
    expect(page.locator(".toast, .messages")).to_contain_text("Enriching 2 companies.")
    status = page.locator("#job-status")
    # The worker has not picked the job up yet: the page says so and keeps asking.
    expect(status).to_contain_text("Waiting for a worker to pick the job up")
    expect(status.get_by_role("button", name="Cancel job")).to_be_visible()
    assert status.get_attribute("hx-trigger") == "every 1s"

    go.set()
    # No reload: the fragment polls until the job is done, then stops.
    expect(status.locator(".card-header .status")).to_have_text("Completed", timeout=20_000)
    expect(status).to_contain_text("100% · 2 done, 0 failed, of 2")
    expect(status.locator("progress")).to_have_attribute("value", "100")
    assert page.url == job_url
    assert page.locator("#job-status").get_attribute("hx-trigger") is None
    for thread in threads:
        thread.join(10)
    assert outcomes == [JobStatus.COMPLETED]
    rows = status.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Acme Robotics")
    expect(rows.nth(0)).to_contain_text("Series B · $30M")
    expect(rows.nth(0)).to_contain_text("Munich, DE")
    expect(rows.nth(1)).to_contain_text("Beta Bakery")

    # A result: every field with where it came from.
    rows.nth(0).get_by_role("link", name="Acme Robotics").click()
    acme = EnrichmentResult.objects.get(job=job, position=0)
    result_path = reverse("enrichment:result_detail", args=[org.slug, job.pk, acme.pk])
    expect(page).to_have_url(base + result_path)
    fields = page.locator("table.result-fields")
    founded = fields.locator("tr", has=page.locator("th", has_text="Founded"))
    expect(founded).to_contain_text("2016")
    expect(founded.locator(".method")).to_have_text("json-ld")
    expect(founded.locator(".source a")).to_have_attribute(
        "href", f"http://acme-robotics.io:{port}/"
    )
    funding = fields.locator("tr", has=page.locator("th", has_text="Funding stage"))
    expect(funding).to_contain_text("Series B")
    expect(funding.locator(".method")).to_have_text("search")
    expect(funding.locator(".source a")).to_have_attribute(
        "href", "https://news.example.com/acme-series-b"
    )
    emails = fields.locator("tr", has=page.locator("th", has_text="Emails"))
    expect(emails).to_contain_text("hello@acme-robotics.io")
    expect(emails.locator(".source a")).to_have_attribute(
        "href", f"http://acme-robotics.io:{port}/contact"
    )
    expect(page.locator(".steps")).to_contain_text("Read contact page: ok")

    # Apply it: a company is made from it, with the profile and its sources.
    apply = page.locator("#apply")
    expect(apply).to_contain_text("Apply to a company")
    expect(apply.locator("tr", has=page.locator("th", has_text="Location"))).to_contain_text(
        "Munich, DE"
    )
    apply.get_by_role("button", name="Apply to company").click()
    expect(page.locator(".toast, .messages")).to_contain_text(
        "Applied to Acme Robotics; its leads were rescored."
    )
    company = Company.objects.get(organization=org)
    assert (company.name, company.domain, company.location) == (
        "Acme Robotics",
        "acme-robotics.io",
        "Munich, DE",
    )
    assert company.size_range == "51-200"

    page.get_by_role("link", name="Acme Robotics", exact=True).first.click()
    expect(page).to_have_url(base + reverse("leads:company_detail", args=[org.slug, company.pk]))
    card = page.locator("section[aria-labelledby='enriched-title']")
    expect(card).to_contain_text("Founded year")
    expect(card).to_contain_text("2016")
    expect(card).to_contain_text("Series B")
    expect(card.get_by_role("link", name="details and sources")).to_have_attribute(
        "href", result_path
    )

    assert not page.problems, page.problems
