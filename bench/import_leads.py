"""CSV import throughput: 100,000 generated leads through the real import path against a
raw PostgreSQL COPY of the same rows, in the same run.

Not a test: run by hand against the local PostgreSQL (never in CI).

    .venv/bin/python bench/import_leads.py                 # 100,000 rows
    .venv/bin/python bench/import_leads.py --rows 20000

It recreates and migrates a scratch database (every run starts empty), writes one CSV file (names, emails, phones, titles,
companies with websites, cities; a few rows broken on purpose), then:

- baseline: COPY of the same rows, already split into lead columns, into leads_lead;
- import: create_job (encoding, delimiter and header detection, the file stored as an upload
  would be) and start_job, whose django-q2 task runs synchronously on commit: parse,
  normalize (emails, E.164 phones, domains), dedupe against the database, companies, tags,
  leads, an IMPORT activity and an ImportChange per lead, counters, usage.

It prints both rates, their ratio (goal: at least 25%) and the process's peak memory
(goal: under 500 MB).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import bench_env, recreate_database

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prospector_imports"
)
FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Zoë",
    "José",
    "Priya",
    "Liam",
    "Aiko",
    "Noah",
    "Sofia",
    "Ethan",
    "Maya",
    "Lucas",
    "Elena",
    "Jonas",
    "Fatima",
    "Arjun",
    "Chloé",
    "Karl",
    "Ben",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Müller",
    "Núñez",
    "Raman",
    "O'Connor",
    "Tanaka",
    "Fischer",
    "Rossi",
    "Wright",
    "Cohen",
    "Silva",
    "Petrova",
    "Berg",
    "Zahra",
    "Mehta",
    "Dubois",
    "Jensen",
    "Okafor",
]
TITLES = [
    "CEO",
    "CTO",
    "VP Sales",
    "Head of Marketing",
    "Procurement Manager",
    "Engineer",
    "Director of Operations",
    "Founder",
    "Buyer",
    "Product Lead",
]
CITIES = [
    ("Berlin", "Germany"),
    ("Austin", "United States"),
    ("Madrid", "Spain"),
    ("Tokyo", "Japan"),
    ("Dublin", "Ireland"),
    ("Mumbai", "India"),
    ("Lyon", "France"),
]
HEADER = [
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Job Title",
    "Website URL",
    "City",
    "Country/Region",
]


def _setup_django() -> None:
    os.environ.update(bench_env(DATABASE_URL, Q_SYNC="1"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rows(count: int, run: str):
    rng = random.Random(42)
    companies = [f"Company {n} {run}" for n in range(count // 20 or 1)]
    for n in range(count):
        company = rng.choice(companies)
        slug = company.lower().replace(" ", "-")
        city, country = rng.choice(CITIES)
        email = f"person{n}.{run}@{slug}.com"
        if n % 500 == 7:
            email = f"broken{n}-at-{slug}"  # fails validation, on purpose
        yield [
            rng.choice(FIRST),
            rng.choice(LAST),
            email,
            f"+1 415 555 {n % 10000:04d}",
            company,
            rng.choice(TITLES),
            f"https://www.{slug}.com",
            city,
            country,
        ]


def _write_csv(path: Path, count: int, run: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(_rows(count, run))


def _copy_baseline(org, count: int, run: str) -> float:
    """COPY the same rows, already split into lead columns, into leads_lead."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    columns = [
        "organization_id", "first_name", "last_name", "email", "phone", "phone_raw", "title",
        "linkedin_url", "location", "source", "status", "score", "score_explanation",
        "custom_fields", "external_ids", "created_at", "updated_at",
    ]  # fmt: skip
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.connection
        with raw.cursor().copy(f"COPY leads_lead ({', '.join(columns)}) FROM STDIN") as copy:
            for first, last, email, phone, _company, title, _web, city, country in _rows(
                count, run
            ):
                copy.write_row(
                    [org.pk, first, last, email, phone.replace(" ", ""), phone, title, "",
                     f"{city}, {country}", "CSV import", "new", 0, "[]", "{}", "{}", now, now]
                )  # fmt: skip
        raw.commit()
    return time.perf_counter() - started


def _machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, every core, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return (sum(values) - idle) / ticks, sum(values) / ticks


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    recreate_database(DATABASE_URL)  # every run starts from empty tables
    _setup_django()

    from django.core.files import File

    from accounts.models import Plan
    from leads.importing import create_job, start_job
    from leads.models import ImportJob, Lead
    from tests import factories

    run = str(int(time.time()))
    owner = factories.make_user(f"bench-{run}@example.com")
    org = factories.make_org(f"Import bench {run}", owner=owner)
    copy_org = factories.make_org(f"Copy bench {run}", owner=owner)
    # The default plan meters imported rows; the benchmark measures speed, not quotas.
    org.plan = Plan.objects.create(name=f"Bench {run}", code=f"bench-{run}", limits={})
    org.save(update_fields=["plan"])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leads.csv"
        _write_csv(path, args.rows, run)
        size = path.stat().st_size

        copy_seconds = _copy_baseline(copy_org, args.rows, f"copy{run}")
        Lead.objects.for_org(copy_org).delete()

        busy_before, all_before = _machine_busy()
        cpu_before = _process_cpu()
        started = time.perf_counter()
        with path.open("rb") as handle:
            upload = File(handle, name="leads.csv")
            upload.size = size
            job = create_job(organization=org, actor=owner, upload=upload, filename="leads.csv")
        start_job(job=job, mapping=job.mapping, on_duplicate="skip")  # runs on commit (sync)
        import_seconds = time.perf_counter() - started
        python_cpu = _process_cpu() - cpu_before
        busy_after, all_after = _machine_busy()
        job = ImportJob.objects.get(pk=job.pk)
    if job.status != "completed":
        sys.exit(f"The import did not complete ({job.status}): {job.error}")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    copy_rate = args.rows / copy_seconds
    import_rate = args.rows / import_seconds
    out = io.StringIO()
    out.write(f"rows                {args.rows:>12,}   file {size / 1024 / 1024:.1f} MB\n")
    out.write(f"COPY baseline       {copy_seconds:>10.2f} s   {copy_rate:>10,.0f} rows/s\n")
    out.write(f"import (end to end) {import_seconds:>10.2f} s   {import_rate:>10,.0f} rows/s\n")
    out.write(
        f"  status {job.status}: created {job.created_count:,}, updated {job.updated_count:,}, "
        f"skipped {job.skipped_count:,}, failed {job.failed_count:,}\n"
    )
    ratio = import_rate / copy_rate
    out.write(f"ratio               {ratio:>10.1%}   (goal >= 25%)\n")
    cores = os.cpu_count() or 1
    machine = (busy_after - busy_before) / (all_after - all_before) * cores
    out.write(
        f"  during the import: this process used {python_cpu / import_seconds:.2f} cores, "
        f"the machine {machine:.2f} of {cores} (PostgreSQL and anything else running)\n"
    )
    out.write(f"peak memory         {peak_mb:>10.0f} MB  (goal < 500 MB)\n")
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
