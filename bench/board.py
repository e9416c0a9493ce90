"""The pipeline board and the filtered lead list on an organization with 100,000 leads,
against a bare view returning `values()` of 50 rows, in the same run.

Not a test: run by hand against the local PostgreSQL (never in CI).

    .venv/bin/python bench/board.py                     # 30 timed requests per page
    .venv/bin/python bench/board.py --runs 50 --leads 100000

It migrates a scratch database (BENCH_DATABASE_URL), fills one organization with the leads
(companies, owners and tags included; done once with bulk_create, reused by later runs), then
requests each page in-process with Django's test Client (the whole middleware stack, a logged-in
owner, no network) in interleaved rounds, and prints for each page its median time, its ratio
to the baseline's median and its number of queries. The issue's goal: each page within 50 ms
median, with a constant number of queries whatever the number of leads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import bench_env, create_database  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prospector_board"
)
ORG_SLUG = "bench-board"
BASELINE_PATH = "/bench/values/"

os.environ.update(bench_env(DATABASE_URL))

_org_id: list[int] = []


def plain_values(request):
    """The baseline: one query for 50 rows as values(), newest first, no template."""
    from django.http import JsonResponse

    from leads.models import Lead

    rows = list(
        Lead.objects.filter(organization_id=_org_id[0], archived_at__isnull=True)
        .order_by("-created_at", "-id")
        .values("id", "first_name", "last_name", "email", "status", "score", "created_at")[:50]
    )
    return JsonResponse({"results": rows})


def _urlpatterns():
    from django.urls import include, path

    return [path(BASELINE_PATH.strip("/") + "/", plain_values), path("", include("config.urls"))]


urlpatterns: list = []  # filled after django.setup(); this module is the bench's URLconf


def fill(total: int):
    """The organization with `total` leads, with owners, companies and tags; returns its owner."""
    import random

    from django.db import connection, transaction

    from accounts import services
    from accounts.models import Membership, Organization, Role, User
    from leads.models import Company, Lead, LeadTag, Tag

    owner = User.objects.filter(email="bench-board@example.com").first() or (
        User.objects.create_user("bench-board@example.com", "x" * 20, name="Bench Owner")
    )
    org = Organization.objects.filter(slug=ORG_SLUG).first() or services.create_organization(
        name="Bench Board", owner=owner
    )
    if org.slug != ORG_SLUG:
        Organization.objects.filter(pk=org.pk).update(slug=ORG_SLUG)
        org.slug = ORG_SLUG
    have = Lead.objects.for_org(org).count()
    if have < total:
        rng = random.Random(11)
        members = [owner]
        for n in range(4):
            user, _ = User.objects.get_or_create(
                email=f"rep{n}@bench-board.example", defaults={"name": f"Rep {n}"}
            )
            Membership.objects.get_or_create(
                organization=org, user=user, defaults={"role": Role.MEMBER}
            )
            members.append(user)
        companies = list(Company.objects.for_org(org)) or Company.objects.bulk_create(
            [
                Company(organization=org, name=f"Company {n}", domain=f"company{n}.example")
                for n in range(2000)
            ]
        )
        tags = [
            Tag.objects.get_or_create(organization=org, name=name)[0]
            for name in ("vip", "cold", "event", "partner", "churned")
        ]
        statuses = ["new", "new", "new", "contacted", "replied", "qualified", "converted", "lost"]
        batch = 5000
        started = time.perf_counter()
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
                            title=rng.choice(["CEO", "CTO", "VP Sales", "Engineer", ""]),
                            source=rng.choice(["import", "form", "webinar", "manual"]),
                            status=rng.choice(statuses),
                            score=rng.randint(0, 100),
                            owner=rng.choice([*members, None]),
                        )
                        for n in range(start, min(start + batch, total))
                    ]
                )
                LeadTag.objects.bulk_create(
                    [
                        LeadTag(organization=org, lead=lead, tag=tag)
                        for lead in leads
                        for tag in rng.sample(tags, rng.randint(0, 2))
                    ]
                )
            print(f"  {min(start + batch, total):,} leads", end="\r", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"  filled {total - have:,} leads in {time.perf_counter() - started:.1f} s")
    _org_id[:] = [org.pk]
    return org, owner


def measure(client, paths: dict[str, str], runs: int):
    """Median milliseconds and query count per page, requests interleaved by round."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings: dict[str, list[float]] = {name: [] for name in paths}
    queries: dict[str, int] = {}
    for name, path in paths.items():  # warm-up, and the query count
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        queries[name] = len(captured)
    for _ in range(runs):
        for name, path in paths.items():
            started = time.perf_counter()
            response = client.get(path)
            timings[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return {name: statistics.median(values) for name, values in timings.items()}, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        sys.exit("bench/board.py runs on PostgreSQL: set BENCH_DATABASE_URL=postgres://...")
    create_database(DATABASE_URL)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Hashed static names need collectstatic; the pages' timings do not depend on them.
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }
    urlpatterns[:] = _urlpatterns()
    settings.ROOT_URLCONF = __name__

    from django.test import Client

    from accounts.models import Membership
    from leads.models import Lead

    org, owner = fill(args.leads)
    count = Lead.objects.for_org(org).count()
    client = Client()
    client.force_login(owner)
    rep = Membership.objects.for_org(org).exclude(user=owner).first()
    owner_id = rep.user_id if rep else owner.pk
    base = f"/o/{ORG_SLUG}"
    paths = {
        "baseline: values() of 50 rows": BASELINE_PATH,
        "board": f"{base}/pipeline/",
        "board, filtered": f"{base}/pipeline/?owner={owner_id}&score_min=50&tag=vip",
        "list": f"{base}/leads/",
        "list, filtered": f"{base}/leads/?status=qualified&score_min=50&tag=vip&sort=-score",
    }
    print(f"{count:,} leads in {ORG_SLUG}; {args.runs} timed requests per page, median:")
    medians, queries = measure(client, paths, args.runs)
    baseline = medians["baseline: values() of 50 rows"]
    width = max(len(name) for name in paths)
    for name in paths:
        goal = (
            ""
            if name.startswith("baseline")
            else ("  within 50 ms" if medians[name] <= 50 else "  OVER the 50 ms goal")
        )
        print(
            f"  {name:<{width}}  {medians[name]:7.1f} ms  {medians[name] / baseline:5.1f}x baseline"
            f"  {queries[name]:3d} queries{goal}"
        )


if __name__ == "__main__":
    main()
