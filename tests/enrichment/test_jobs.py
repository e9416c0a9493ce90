"""Enrichment jobs end to end against local servers: company sites (named hosts resolved to
127.0.0.1 and allowed only through the fetcher's allow list) and a SearXNG-shaped search
server. Starting from pasted lines, leads and a company page; progress and results; a failing
site; cancelling; applying a result to its company (fields, rescoring, timeline); CSV export;
the plan's quota; roles."""

from __future__ import annotations

import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from accounts.models import Plan
from enrichment import jobs, outside
from enrichment.models import EnrichmentJob, EnrichmentResult, JobStatus, ResultStatus
from enrichment.web.fetch import Fetcher
from enrichment.web.search import SearXNG
from leads.models import Activity, ActivityKind, Company, ScoringProfile
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

SITES: dict[str, dict[str, tuple[int, str]]] = {}


def _acme(port: int) -> dict[str, tuple[int, str]]:
    base = f"http://acme-robotics.io:{port}"
    org = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": "Acme Robotics",
        "url": f"{base}/",
        "description": "Acme Robotics builds warehouse robots for logistics and supply chain teams.",
        "foundingDate": "2016",
        "numberOfEmployees": {"@type": "QuantitativeValue", "value": 140},
        "address": {
            "@type": "PostalAddress",
            "addressLocality": "Munich",
            "addressCountry": "DE",
        },
        "sameAs": ["https://www.linkedin.com/company/acme-robotics"],
        "logo": f"{base}/logo.png",
    }
    home = f"""<!doctype html><html lang="en"><head><title>Acme Robotics</title>
<meta name="description" content="Warehouse robots for logistics teams.">
<script type="application/ld+json">{json.dumps(org)}</script></head>
<body><nav><a href="/about">About us</a> <a href="/pricing">Pricing</a>
<a href="/careers">Careers</a> <a href="/contact">Contact</a></nav>
<h1>Robots that pick and pack</h1></body></html>"""
    about = """<html><body><h1>About Acme Robotics</h1><p>Founded in 2016 in Munich.</p>
<p>Our team of 140 people ships robots to 30 countries.</p></body></html>"""
    pricing = """<html><body><h1>Pricing</h1><p>Contact sales for a quote. Every plan is
billed yearly.</p></body></html>"""
    careers = """<html><body><h1>Careers</h1><ul>
<li><a href="https://boards.greenhouse.io/acme/jobs/1">Senior Robotics Engineer</a></li>
<li><a href="https://boards.greenhouse.io/acme/jobs/2">Account Executive</a></li></ul>
</body></html>"""
    contact = """<html><body><h1>Contact</h1><p>Write to <a href="mailto:hello@acme-robotics.io">
hello@acme-robotics.io</a> or call <a href="tel:+498912345678">+49 89 12345678</a>.</p>
<address>Acme Robotics GmbH, Hauptstr. 1, 80331 Munich, Germany</address></body></html>"""
    return {
        "/": (200, home),
        "/about": (200, about),
        "/pricing": (200, pricing),
        "/careers": (200, careers),
        "/contact": (200, contact),
        "/robots.txt": (200, "User-agent: *\nAllow: /\n"),
    }


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        path = urlsplit(self.path).path
        if host == "search.local":
            self._search()
            return
        site = SITES.get(host, {})
        if host == "down-site.io":  # no robots.txt (allowed), every page a server error
            self._send(404 if path == "/robots.txt" else 500, "<h1>Internal error</h1>")
            return
        status, body = site.get(path, (404, "<h1>Not found</h1>"))
        self._send(status, body)

    def _search(self):
        query = parse_qs(urlsplit(self.path).query)
        q = query.get("q", [""])[0].lower()
        results = []
        if "acme" in q and "funding" in q:
            results = [
                {
                    "url": "https://news.example.com/acme-series-b",
                    "title": "Acme Robotics raises $30 million Series B led by Atomico",
                    "content": "The Munich startup will hire 50 engineers.",
                }
            ]
        elif "acme" in q and "competitors" in q:
            results = [
                {
                    "url": "https://reviews.example.com/acme",
                    "title": "Acme Robotics vs Locus Robotics",
                    "content": "Acme Robotics competitors include Locus Robotics and Geek Plus.",
                }
            ]
        elif "acme" in q and query.get("categories") == ["news"]:
            results = [
                {
                    "url": "https://news.example.com/acme-plant",
                    "title": "Acme Robotics opens a plant in Leipzig",
                    "content": "",
                    "publishedDate": "2026-11-01T00:00:00",
                }
            ]
        body = json.dumps({"query": q, "number_of_results": len(results), "results": results})
        self._send(200, body, "application/json")

    def _send(self, status, body, content_type="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def web(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    SITES.clear()
    SITES["acme-robotics.io"] = _acme(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hosts = ["acme-robotics.io", "down-site.io", "search.local"]
    fetcher = Fetcher(
        user_agent="ProspectorBot/1.0 (+https://prospector.example/bot)",
        allow_hosts=[f"{h}:{port}" for h in hosts],
        resolver=lambda host, _port: ["127.0.0.1"],
        per_host_delay=0.0,
        per_host_limit=4,
        max_retries=0,
        timeout=(2.0, 2.0),
    )
    providers = [SearXNG(fetcher, f"http://search.local:{port}")]
    monkeypatch.setattr(outside, "fetcher", lambda: fetcher)
    monkeypatch.setattr(outside, "search_providers", lambda: providers)
    yield port
    server.shutdown()
    server.server_close()


def _jobs_url(org):
    return reverse("enrichment:jobs", args=[org.slug])


def _start(client, org, text):
    return client.post(reverse("enrichment:job_create", args=[org.slug]), {"companies": text})


def test_a_pasted_job_researches_each_company_with_sources(member_client, org, member, web):
    port = web
    response = _start(
        member_client,
        org,
        f"Acme Robotics, http://acme-robotics.io:{port}/\nhttp://down-site.io:{port}/",
    )
    job = EnrichmentJob.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("enrichment:job_detail", args=[org.slug, job.pk])
    assert (job.status, job.total, job.completed, job.failed) == (JobStatus.COMPLETED, 2, 1, 1)
    assert job.created_by == member and job.started_at and job.finished_at

    acme, down = EnrichmentResult.objects.filter(job=job).order_by("position")
    assert acme.status == ResultStatus.SUCCEEDED
    profile, sources = acme.profile, acme.sources
    home = f"http://acme-robotics.io:{port}/"
    assert profile["name"] == "Acme Robotics"
    assert sources["name"]["url"] == home and sources["name"]["method"] == "json-ld"
    assert profile["founded_year"] == 2016
    assert profile["employee_range"] == "51-200"
    assert profile["headquarters"] == "Munich, DE"
    assert profile["industry"] == "Logistics"
    assert profile["social"]["linkedin"] == "https://www.linkedin.com/company/acme-robotics"
    assert "hello@acme-robotics.io" in profile["emails"]
    assert [j["title"] for j in profile["hiring"]] == [
        "Senior Robotics Engineer",
        "Account Executive",
    ]
    assert profile["pricing_model"].startswith("Quote-based")
    assert profile["funding_stage"] == "Series B" and profile["total_funding"] == "$30M"
    assert "Atomico" in profile["investors"]
    assert "Locus Robotics" in profile["competitors"]
    assert profile["recent_news"][0]["title"] == "Acme Robotics opens a plant in Leipzig"
    assert sources["funding_stage"]["url"] == "https://news.example.com/acme-series-b"
    steps = {s["step"]: s["status"] for s in acme.steps}
    assert steps["read home page"] == "ok" and steps["read careers page"] == "ok"
    assert steps["search funding"] == "ok" and steps["reconcile"] == "ok"

    assert down.status == ResultStatus.FAILED
    assert "HTTP 500" in down.error

    page = member_client.get(reverse("enrichment:job_detail", args=[org.slug, job.pk]))
    html = page.content.decode()
    assert "Acme Robotics" in html and "Completed" in html and "HTTP 500" in html
    detail = member_client.get(
        reverse("enrichment:result_detail", args=[org.slug, job.pk, acme.pk])
    ).content.decode()
    assert (
        "Series B" in detail
        and "json-ld" in detail
        and "https://news.example.com/acme-series-b" in detail
    )


def test_the_job_page_polls_until_finished_and_then_stops(member_client, org, web):
    job = jobs.create_job(organization=org, user=None, queries=[{"name": "X"}], start=False)
    url = reverse("enrichment:job_detail", args=[org.slug, job.pk])
    htmx = {"HX-Request": "true", "HX-Target": "job-status"}
    running = member_client.get(url, headers=htmx)
    assert running.status_code == 200 and 'hx-trigger="every 1s"' in running.content.decode()
    jobs.run_job(org.pk, job.pk)
    done = member_client.get(url, headers=htmx)
    assert done.status_code == 286 and "every 1s" not in done.content.decode()


def test_without_a_website_or_search_the_result_says_why(member_client, org, web, monkeypatch):
    monkeypatch.setattr(outside, "search_providers", lambda: [])
    job = jobs.create_job(
        organization=org, user=None, queries=[{"name": "Nowhere Inc"}], start=False
    )
    jobs.run_job(org.pk, job.pk)
    result = EnrichmentResult.objects.get(job=job)
    assert result.status == ResultStatus.FAILED
    assert "No search provider is configured" in result.error
    assert {s["step"]: s["status"] for s in result.steps}["search funding"] == "skipped"


def test_starting_from_leads_and_from_a_company(member_client, org, member, web):
    port = web
    company = factories.make_company(org, name="Acme Robotics", domain="")
    company.website = f"http://acme-robotics.io:{port}/"
    company.save()
    lead = factories.make_lead(org, company=company)
    other = factories.make_lead(org, email="x@gmail.com", first_name="Free", company=None)
    response = member_client.post(
        reverse("enrichment:from_leads", args=[org.slug]), {"ids": [lead.pk, other.pk]}
    )
    job = EnrichmentJob.objects.for_org(org).latest("pk")
    assert response.status_code == 302 and job.source == "leads"
    # The gmail lead has no company to research; the other lead's company is researched once.
    assert job.total == 1
    assert EnrichmentResult.objects.get(job=job).company == company

    member_client.post(reverse("enrichment:from_company", args=[org.slug, company.pk]))
    job = EnrichmentJob.objects.for_org(org).latest("pk")
    assert job.source == "companies" and job.total == 1 and job.completed == 1

    # The lead list shows the registered bulk action, the company page its button.
    html = member_client.get(reverse("leads:lead_list", args=[org.slug])).content.decode()
    assert "Enrich companies" in html and reverse("enrichment:from_leads", args=[org.slug]) in html
    html = member_client.get(
        reverse("leads:company_detail", args=[org.slug, company.pk])
    ).content.decode()
    assert reverse("enrichment:from_company", args=[org.slug, company.pk]) in html


def test_applying_fills_the_company_rescores_and_records(member_client, org, member, web):
    port = web
    company = Company.objects.create(organization=org, name="Acme Robotics", industry="Robots")
    lead = factories.make_lead(org, company=company, title="CEO")
    ScoringProfile.objects.update_or_create(
        organization=org, defaults={"industries": ["Logistics"], "countries": ["DE"]}
    )
    job = jobs.create_job(
        organization=org,
        user=member,
        queries=[
            {
                "name": "Acme Robotics",
                "website": f"http://acme-robotics.io:{port}/",
                "company_id": company.pk,
            }
        ],
        start=False,
    )
    jobs.run_job(org.pk, job.pk)
    result = EnrichmentResult.objects.get(job=job)
    url = reverse("enrichment:result_detail", args=[org.slug, job.pk, result.pk])
    page = member_client.get(url).content.decode()
    assert 'name="overwrite" value="industry"' in page  # the company has an industry already

    member_client.post(url, {})
    company.refresh_from_db()
    assert company.industry == "Robots"  # not overwritten without asking
    assert company.size_range == "51-200" and company.location == "Munich, DE"
    assert company.linkedin_url == "https://www.linkedin.com/company/acme-robotics"
    assert company.enriched_data["profile"]["founded_year"] == 2016
    assert company.enriched_data["result_path"] == url
    member_client.post(url, {"overwrite": ["industry"]})
    company.refresh_from_db()
    assert company.industry == "Logistics"
    lead.refresh_from_db()
    assert lead.score > 0
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.ENRICHMENT).count() == 2
    result.refresh_from_db()
    assert result.applied_at and result.applied_by == member


def test_export_is_a_csv_of_the_profiles(member_client, org, web):
    port = web
    job = jobs.create_job(
        organization=org,
        user=None,
        queries=[{"website": f"http://acme-robotics.io:{port}/"}, {"name": "=HYPERLINK(1)"}],
        start=False,
    )
    jobs.run_job(org.pk, job.pk)
    response = member_client.get(reverse("enrichment:job_export", args=[org.slug, job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    assert header[:5] == ["position", "query", "status", "name", "website"]
    acme = dict(zip(header, rows[1], strict=True))
    assert acme["name"] == "Acme Robotics" and acme["founded_year"] == "2016"
    assert "Senior Robotics Engineer" in acme["hiring"]
    assert rows[2][1] == "'=HYPERLINK(1)"  # neutralized for spreadsheets


def test_cancelling_stops_the_job(member_client, org, web):
    job = jobs.create_job(
        organization=org, user=None, queries=[{"name": "A"}, {"name": "B"}], start=False
    )
    response = member_client.post(reverse("enrichment:job_cancel", args=[org.slug, job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.cancelled_at
    assert jobs.run_job(org.pk, job.pk) == JobStatus.CANCELLED
    assert set(EnrichmentResult.objects.filter(job=job).values_list("status", flat=True)) == {
        ResultStatus.CANCELLED
    }


def test_the_plans_quota_refuses_cleanly(member_client, org, web):
    plan = Plan.objects.create(code="tiny", name="Tiny", limits={"enrichment.company": 1})
    org.plan = plan
    org.save()
    response = _start(member_client, org, "one.io\ntwo.io")
    assert response.status_code == 400
    assert "Monthly limit reached for companies enriched" in response.content.decode()
    assert not EnrichmentJob.objects.for_org(org).exists()


def test_bad_input_is_explained(member_client, org, web, settings):
    assert "Nothing to enrich" in _start(member_client, org, " , ;\n").content.decode()
    settings.ENRICH_MAX_COMPANIES = 2
    html = _start(member_client, org, "a.io\nb.io\nc.io").content.decode()
    assert "3 companies is more than one job takes (2)" in html


def test_viewers_read_but_do_not_start_or_apply(viewer_client, org, web):
    job = jobs.create_job(organization=org, user=None, queries=[{"name": "X"}], start=False)
    assert viewer_client.get(_jobs_url(org)).status_code == 200
    assert _start(viewer_client, org, "acme.io").status_code == 403
    assert (
        viewer_client.post(reverse("enrichment:job_cancel", args=[org.slug, job.pk])).status_code
        == 403
    )


def test_parse_pasted_lines():
    assert jobs.parse_pasted(
        "Acme, acme.io\nhttps://beta.com/x\nGamma Inc\n\n stripe.com ;Stripe"
    ) == [
        {"name": "Acme", "domain": "acme.io"},
        {"website": "https://beta.com/x"},
        {"name": "Gamma Inc"},
        {"domain": "stripe.com", "name": "Stripe"},
    ]


def test_pasted_addresses_are_tried_as_websites_and_refused(member_client, org, web):
    assert jobs.parse_pasted("127.0.0.1\n2130706433\n[::1]\n10.0.0.5, Internal Co") == [
        {"website": "http://127.0.0.1/"},
        {"website": "http://2130706433/"},
        {"website": "http://[::1]/"},
        {"website": "http://10.0.0.5/", "name": "Internal Co"},
    ]
    _start(member_client, org, "127.0.0.1\n169.254.169.254")
    job = EnrichmentJob.objects.for_org(org).get()
    assert job.total == 2 and job.failed == 2
    for result in EnrichmentResult.objects.filter(job=job):
        assert result.status == ResultStatus.FAILED
        assert "only public addresses are allowed" in result.error


def test_a_queued_job_says_when_no_worker_is_running(member_client, org, settings, web):
    job = jobs.create_job(organization=org, user=None, queries=[{"name": "X"}], start=False)
    url = reverse("enrichment:job_detail", args=[org.slug, job.pk])
    assert "No task worker is running" not in member_client.get(url).content.decode()  # sync
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    html = member_client.get(url).content.decode()
    assert "No task worker is running" in html and "manage.py qcluster" in html
    jobs.run_job(org.pk, job.pk)
    assert "No task worker is running" not in member_client.get(url).content.decode()
