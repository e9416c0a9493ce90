"""The app as configured, no injected fetcher: FETCH_ALLOW_HOSTS opens one local server (by
address and by name) and Brave Search is reached at BRAVE_API_URL with BRAVE_API_KEY."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from enrichment import jobs, outside
from enrichment.models import EnrichmentResult, ResultStatus

pytestmark = pytest.mark.django_db(transaction=True)

HOME = """<!doctype html><html><head><title>Zephyr Labs</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Organization",
"name": "Zephyr Labs", "foundingDate": "2019", "numberOfEmployees": 42}</script></head>
<body><a href="/about">About</a></body></html>"""


class Handler(BaseHTTPRequestHandler):
    seen: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Handler.seen.append(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/res/v1/web/search":
            assert self.headers.get("X-Subscription-Token") == "test-key"
            q = parse_qs(parts.query)["q"][0]
            body = {
                "type": "search",
                "query": {"original": q},
                "web": {
                    "type": "search",
                    "results": [
                        {
                            "title": "Zephyr Labs raises $12 million Series A",
                            "url": "https://news.example.com/zephyr",
                            "description": "Led by Northzone.",
                            "age": "2 weeks ago",
                        }
                    ],
                },
            }
            self._send(200, json.dumps(body), "application/json")
        elif parts.path == "/res/v1/news/search":
            self._send(200, json.dumps({"type": "news", "results": []}), "application/json")
        elif parts.path == "/robots.txt":
            self._send(404, "")
        elif parts.path == "/":
            self._send(200, HOME)
        else:
            self._send(200, "<html><body><p>Founded in 2019.</p></body></html>")

    def _send(self, status, body, content_type="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server(settings):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Handler.seen = []
    settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}", f"localhost:{port}"]
    settings.FETCH_PER_HOST_DELAY = 0
    settings.BRAVE_API_KEY = "test-key"
    settings.BRAVE_API_URL = f"http://127.0.0.1:{port}/res/v1"
    settings.SEARXNG_URL = ""
    outside.reset_fetcher()
    yield port
    httpd.shutdown()
    httpd.server_close()
    outside.reset_fetcher()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_allowed_local_hosts_are_enriched_with_brave_search(org, server, host):
    port = server
    job = jobs.create_job(
        organization=org,
        user=None,
        queries=[{"name": "Zephyr Labs", "website": f"http://{host}:{port}/"}],
        start=False,
    )
    jobs.run_job(org.pk, job.pk)
    result = EnrichmentResult.objects.get(job=job)
    assert result.status == ResultStatus.SUCCEEDED, result.error
    assert result.profile["name"] == "Zephyr Labs"
    assert result.profile["founded_year"] == 2019
    assert result.profile["employee_range"] == "11-50"
    assert result.profile.get("funding_stage") == "Series A", result.steps
    assert result.profile["total_funding"] == "$12M"
    assert result.profile["investors"] == ["Northzone"]
    assert any(path.startswith("/res/v1/web/search?") for path in Handler.seen)


def _sessions() -> int | None:
    """Open PostgreSQL sessions on the test database (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_a_job_leaves_no_database_sessions_open(org, server):
    """Worker threads read and write the fetch cache; their connections close with them."""
    port = server
    before = _sessions()
    job = jobs.create_job(
        organization=org,
        user=None,
        queries=[
            {"website": f"http://127.0.0.1:{port}/"},
            {"website": f"http://localhost:{port}/"},
        ],
        start=False,
    )
    jobs.run_job(org.pk, job.pk)
    assert EnrichmentResult.objects.filter(job=job, status=ResultStatus.SUCCEEDED).count() == 2
    assert _sessions() == before


def test_a_port_not_on_the_allow_list_is_refused(org, server):
    port = server
    job = jobs.create_job(
        organization=org,
        user=None,
        queries=[{"website": f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/"}],
        start=False,
    )
    jobs.run_job(org.pk, job.pk)
    result = EnrichmentResult.objects.get(job=job)
    assert result.status == ResultStatus.FAILED
    assert "public addresses" in result.error
