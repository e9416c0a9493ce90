"""Enrichment throughput: a job of 100 companies whose sites (and the search server) answer
every request after 200 ms, against the one-at-a-time design of shared/seeds/000; and the
fetcher's own overhead per request.

Not a test: run by hand against the local PostgreSQL (never in CI).

    .venv/bin/python bench/enrich.py                        # 100 companies, 200 ms latency
    .venv/bin/python bench/enrich.py --companies 50 --latency 0.1

It recreates a scratch database (BENCH_DATABASE_URL), serves every company's site from one
local server by host name (company<n>.com resolved to 127.0.0.1 by the fetcher's resolver and
allowed only through its allow list: nothing leaves the machine) with a home page linking to
about, contact, pricing and careers pages and a robots.txt, and a SearXNG-shaped search
server, every answer delayed by --latency. Then:

- baseline: the seeds' design, one company at a time with a 2 s pause between companies,
  measured on a few companies and extrapolated to the job's size;
- the job: enrichment.jobs.run_job with the app's settings (ENRICH_CONCURRENCY, the
  fetcher's per-host limits and politeness delay as configured);
- the fetcher's overhead: the same local requests (no latency) through the Fetcher and
  through a bare requests.Session, the difference per request.

Goals (issue 4): the job within 20 s; the fetcher's overhead under 5 ms per request.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import bench_env, recreate_database  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prospector_enrich"
)
LATENCY = [0.2]


def _page(n: int, port: int, path: str) -> tuple[int, str]:
    base = f"http://company{n}.com:{port}"
    if path == "/robots.txt":
        return 200, "User-agent: *\nAllow: /\n"
    if path == "/":
        org = {
            "@context": "https://schema.org",
            "@type": "Organization",
            "name": f"Company {n}",
            "url": f"{base}/",
            "description": f"Company {n} builds analytics software for retailers.",
            "foundingDate": str(2000 + n % 25),
            "numberOfEmployees": 20 + n,
        }
        return 200, (
            f"<html><head><title>Company {n}</title>"
            f'<script type="application/ld+json">{json.dumps(org)}</script></head><body>'
            '<a href="/about">About</a> <a href="/contact">Contact</a> '
            '<a href="/pricing">Pricing</a> <a href="/careers">Careers</a>'
            f"<p>{'Analytics for retail. ' * 200}</p></body></html>"
        )
    if path in ("/about", "/contact", "/pricing", "/careers"):
        return 200, f"<html><body><h1>{path[1:].title()}</h1><p>{'Text. ' * 300}</p></body></html>"
    return 404, "<h1>Not found</h1>"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in separate writes: no 40 ms stalls

    def log_message(self, *args):
        pass

    def do_GET(self):
        if LATENCY[0]:
            time.sleep(LATENCY[0])
        host = (self.headers.get("Host") or "").split(":")[0]
        parts = urlsplit(self.path)
        if host == "search.local":
            q = parse_qs(parts.query).get("q", [""])[0]
            body = json.dumps(
                {
                    "results": [
                        {
                            "url": f"https://news.example.com/{abs(hash(q)) % 1000}",
                            "title": f"{q} raises $10 million Series A",
                            "content": "Led by Example Ventures.",
                        }
                    ]
                }
            )
            self._send(200, body, "application/json")
            return
        if host.startswith("company") and host.endswith(".com"):
            n = int(host[len("company") : -len(".com")])
            status, body = _page(n, self.server.server_address[1], parts.path)
            self._send(status, body)
            return
        self._send(404, "no such host")

    def _send(self, status, body, content_type="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _fetcher(port: int, hosts: list[str], **overrides):
    from django.conf import settings

    from enrichment.web.fetch import Fetcher

    options = {
        "user_agent": settings.FETCH_USER_AGENT,
        "allow_hosts": [f"{h}:{port}" for h in hosts],
        "resolver": lambda host, _port: ["127.0.0.1"],
        "max_bytes": settings.FETCH_MAX_BYTES,
        "per_host_limit": settings.FETCH_PER_HOST_LIMIT,
        "per_host_delay": settings.FETCH_PER_HOST_DELAY,
        "max_retries": 0,
    }
    return Fetcher(**(options | overrides))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--baseline-sample", type=int, default=3)
    args = parser.parse_args()
    LATENCY[0] = args.latency

    recreate_database(DATABASE_URL)
    os.environ.update(bench_env(DATABASE_URL, Q_SYNC="1"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    import requests

    from enrichment import jobs
    from enrichment.pipeline import research_company
    from enrichment.web.search import SearXNG
    from tests import factories

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hosts = [f"company{n}.com" for n in range(args.companies)] + ["search.local"]

    owner = factories.make_user("bench-enrich@example.com")
    org = factories.make_org("Enrich bench", owner=owner)

    # Baseline: the seeds' design, one company after another, 2 s pause between them.
    fetcher = _fetcher(port, hosts)
    # Search APIs go through the same fetcher, without per-host politeness (as configured).
    providers = [SearXNG(fetcher, f"http://search.local:{port}")]
    sample = min(args.baseline_sample, args.companies)
    started = time.perf_counter()
    for n in range(sample):
        research_company(
            {"website": f"http://company{1000 + n}.com:{port}/"},
            fetcher=_fetcher(port, [f"company{1000 + n}.com"], per_host_limit=1),
            providers=providers,
        )
    per_company = (time.perf_counter() - started) / sample
    baseline = per_company * args.companies + 2.0 * (args.companies - 1)

    # The job, as the worker runs it.
    queries = [{"website": f"http://company{n}.com:{port}/"} for n in range(args.companies)]
    job = jobs.create_job(organization=org, user=owner, queries=queries, start=False)
    started = time.perf_counter()
    status = jobs.run_job(org.pk, job.pk, fetcher=fetcher, providers=providers)
    job_seconds = time.perf_counter() - started
    job.refresh_from_db()

    # The fetcher's own overhead per request: no latency, the same URL, no cache.
    LATENCY[0] = 0.0
    url = f"http://company0.com:{port}/about"
    bare = requests.Session()
    plain_fetcher = _fetcher(port, ["company0.com"], per_host_delay=0, respect_robots=False)
    rounds = 300
    for _ in range(20):  # warm both up
        bare.get(f"http://127.0.0.1:{port}/about", headers={"Host": f"company0.com:{port}"})
        plain_fetcher.get(url, use_cache=False)
    started = time.perf_counter()
    for _ in range(rounds):
        bare.get(f"http://127.0.0.1:{port}/about", headers={"Host": f"company0.com:{port}"})
    bare_ms = (time.perf_counter() - started) * 1000 / rounds
    started = time.perf_counter()
    for _ in range(rounds):
        plain_fetcher.get(url, use_cache=False)
    fetcher_ms = (time.perf_counter() - started) * 1000 / rounds
    server.shutdown()

    print(
        f"companies                 {args.companies:>8}   latency {args.latency * 1000:.0f} ms per request"
    )
    print(
        f"baseline (seeds' design)  {baseline:>8.1f} s   ({per_company:.2f} s per company, 2 s pauses; {sample} measured)"
    )
    print(
        f"job (run_job)             {job_seconds:>8.1f} s   {status}: {job.completed} done, "
        f"{job.failed} failed   ({baseline / job_seconds:.0f}x faster; goal <= 20 s)"
    )
    print(
        f"fetcher overhead          {fetcher_ms - bare_ms:>8.2f} ms per request "
        f"(fetcher {fetcher_ms:.2f} ms, bare requests {bare_ms:.2f} ms; goal < 5 ms)"
    )


if __name__ == "__main__":
    main()
