"""`GET /api/v1/leads/?limit=100` against a plain Django view returning `values()` of the
same 100 rows, on an organization with 100,000 leads.

Not a test: run by hand against the local PostgreSQL (never in CI).

    .venv/bin/python bench/api.py                    # 2,000 requests per variant
    .venv/bin/python bench/api.py --requests 5000 --leads 100000

It migrates a scratch database (BENCH_DATABASE_URL), fills one organization with the leads
(companies, owners and tags included; done once, reused by later runs), then serves the app
with gunicorn (2 workers, persistent connections, rate limits off) and sends the same
requests over keep-alive HTTP from 4 client threads to the plain view (the baseline) and to
the API with an API key, alternating in 5 rounds. It prints requests per second for each and their ratio.
The issue's goal is a ratio of at least 0.50.

The plain view is mounted only here: gunicorn serves `bench.api:application`, this module's
URLconf (the baseline at /bench/values/, every project URL after it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import bench_env, create_database

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = 8198
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prospector_bench_api"
)
ORG_SLUG = "bench-api"
API_PATH = "/api/v1/leads/?limit=100"
PLAIN_PATH = "/bench/values/"


def _env() -> dict[str, str]:
    return bench_env(DATABASE_URL, CONN_MAX_AGE="600", ALLOWED_HOSTS="127.0.0.1")


# ---------------------------------------------------------------- served by gunicorn


_org_id: list[int] = []


def plain_values(request):
    """The baseline: the same 100 rows as the API's first page, as values(), no framework,
    no credentials, no count: one query (the organization's id is looked up once)."""
    from django.http import JsonResponse

    from accounts.models import Organization
    from leads.models import Lead

    if not _org_id:
        _org_id.append(Organization.objects.get(slug=ORG_SLUG).pk)
    rows = list(
        Lead.objects.filter(organization_id=_org_id[0], archived_at__isnull=True)
        .order_by("-created_at", "-id")
        .values()[:100]
    )
    return JsonResponse({"results": rows})


def _urlpatterns():
    from django.urls import include, path

    return [path("bench/values/", plain_values), path("", include("config.urls"))]


if os.environ.get("BENCH_API_SERVE"):
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = __name__
    urlpatterns = _urlpatterns()

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()


# ---------------------------------------------------------------- preparing the data


def fill(total: int) -> str:
    """Runs inside Django: the organization with `total` leads; prints a leads:read key."""
    import random

    from django.db import connection, transaction

    from accounts import services
    from accounts.models import Membership, Organization, Role, User
    from leads.models import Company, Lead, LeadTag, Tag

    owner = User.objects.filter(email="bench-api@example.com").first() or (
        User.objects.create_user("bench-api@example.com", "x" * 20, name="Bench Owner")
    )
    org = Organization.objects.filter(slug=ORG_SLUG).first() or services.create_organization(
        name="Bench API", owner=owner
    )
    if org.slug != ORG_SLUG:
        Organization.objects.filter(pk=org.pk).update(slug=ORG_SLUG)
    have = Lead.objects.for_org(org).count()
    if have < total:
        rng = random.Random(7)
        members = [owner]
        for n in range(4):
            user, _ = User.objects.get_or_create(
                email=f"rep{n}@bench.example", defaults={"name": f"Rep {n}"}
            )
            Membership.objects.get_or_create(
                organization=org, user=user, defaults={"role": Role.MEMBER}
            )
            members.append(user)
        companies = list(Company.objects.for_org(org)) or Company.objects.bulk_create(
            [
                Company(
                    organization=org,
                    name=f"Company {n}",
                    domain=f"company{n}.example",
                    industry=rng.choice(["Software", "Retail", "Banking", "Mining"]),
                    enriched_data={"summary": f"What company {n} does", "employees": n},
                )
                for n in range(2000)
            ]
        )
        tags = [
            Tag.objects.get_or_create(organization=org, name=name)[0]
            for name in ("vip", "cold", "event", "partner", "churned")
        ]
        statuses = ["new", "new", "new", "contacted", "replied", "qualified", "lost"]
        batch = 5000
        for start in range(have, total, batch):
            with transaction.atomic():
                leads = Lead.objects.bulk_create(
                    [
                        Lead(
                            organization=org,
                            company=rng.choice(companies),
                            first_name=f"First{n}",
                            last_name=f"Last{n}",
                            email=f"lead{n}@company{n % 2000}.example",
                            phone=f"+1415555{n % 10000:04d}",
                            phone_raw=f"(415) 555-{n % 10000:04d}",
                            title=rng.choice(["CEO", "CTO", "VP Sales", "Engineer", ""]),
                            source=rng.choice(["web", "import", "event"]),
                            status=rng.choice(statuses),
                            score=rng.randint(0, 100),
                            owner=rng.choice([*members, None]),
                            custom_fields={"budget": rng.randint(1, 100) * 1000},
                        )
                        for n in range(start, min(start + batch, total))
                    ]
                )
                LeadTag.objects.bulk_create(
                    [
                        LeadTag(organization=org, lead=lead, tag=rng.choice(tags))
                        for lead in leads
                        if rng.random() < 0.4
                    ]
                )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _key, raw = services.create_api_key(
        organization=org, user=owner, name="bench", scopes={"leads": "read"}
    )
    return raw


def _prepare(total: int) -> str:
    create_database(DATABASE_URL)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=_env(), check=True)
    script = f"from bench.api import fill; print(fill({total}))"
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- measuring


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> bytes:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status} {body[:300]!r}")
    return body


def _run(path: str, headers: dict[str, str], total: int, threads: int = 4) -> float:
    """Seconds to send `total` requests from `threads` keep-alive connections."""

    def worker(count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        for _ in range(count):
            _get(conn, path, headers)
        conn.close()

    pool = [threading.Thread(target=worker, args=(total // threads,)) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


def _measure(variants: dict[str, tuple[str, dict[str, str]]], total: int, rounds: int):
    """Requests per second of each variant, alternating in rounds so that a change of load
    on the machine during the run weighs on both alike."""
    for path, headers in variants.values():
        _run(path, headers, 80)  # warm every worker process and its connection
    per_round = total // rounds
    elapsed = dict.fromkeys(variants, 0.0)
    for _ in range(rounds):
        for name, (path, headers) in variants.items():
            elapsed[name] += _run(path, headers, per_round)
    return {name: per_round * rounds / seconds for name, seconds in elapsed.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()
    key = _prepare(args.leads)
    server = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "bench.api:application",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            "2",
            "--threads",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=_env() | {"BENCH_API_SERVE": "1"},
    )
    try:
        api_headers = {"Authorization": f"Bearer {key}"}
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
                body = json.loads(_get(conn, API_PATH, api_headers))
                plain = json.loads(_get(conn, PLAIN_PATH, {}))
                break
            except (ConnectionError, OSError):
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not answer")
        same = [row["id"] for row in body["results"]] == [row["id"] for row in plain["results"]]
        assert same, "the API and the plain view list different rows"
        print(f"{body['count']:,} leads; 100 rows a page; {args.requests:,} requests each")
        rates = _measure(
            {"plain": (PLAIN_PATH, {}), "api": (API_PATH, api_headers)}, args.requests, 5
        )
        baseline, api = rates["plain"], rates["api"]
    finally:
        server.terminate()
        server.wait(10)
    print(f"plain view, values() (baseline): {baseline:8.1f} req/s  1.00x")
    print(f"GET /api/v1/leads/?limit=100:    {api:8.1f} req/s  {api / baseline:.2f}x")


if __name__ == "__main__":
    main()
