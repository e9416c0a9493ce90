"""API throughput with persistent database connections against a connection per request.

Not a test: run by hand against the local PostgreSQL (never in CI).

    .venv/bin/python bench/api_throughput.py            # 2,000 requests per variant
    .venv/bin/python bench/api_throughput.py --requests 5000

It migrates a scratch database, creates an organization with an API key, then serves the app
with gunicorn twice (CONN_MAX_AGE=600, then CONN_MAX_AGE=0) and sends the same authenticated
`GET /api/v1/auth/me` requests over keep-alive HTTP from 4 threads. It prints requests per
second for each and the ratio against the per-request baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import bench_env, create_database

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = 8199
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prospector_bench"
)


def _env(conn_max_age: int) -> dict[str, str]:
    return bench_env(DATABASE_URL, CONN_MAX_AGE=str(conn_max_age), ALLOWED_HOSTS="127.0.0.1")


def _prepare() -> str:
    create_database(DATABASE_URL)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=_env(0), check=True)
    script = (
        "from accounts import services; from accounts.models import User, Organization;"
        "u = User.objects.filter(email='bench@example.com').first() or "
        "User.objects.create_user('bench@example.com', 'x'*20);"
        "o = Organization.objects.filter(slug='bench').first() or "
        "services.create_organization(name='Bench', owner=u);"
        "print(services.create_api_key(organization=o, user=u, name='bench', "
        "scopes={'organization': 'read'})[1])"
    )
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=_env(0),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _measure(conn_max_age: int, key: str, total: int) -> float:
    server = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "config.wsgi",
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
        env=_env(conn_max_age),
    )
    try:
        url = f"http://127.0.0.1:{PORT}/api/v1/auth/me"
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(100):
            try:
                if requests.get(url, headers=headers, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not answer")

        def worker(count: int) -> None:
            with requests.Session() as session:
                for _ in range(count):
                    response = session.get(url, headers=headers, timeout=5)
                    assert response.status_code == 200, response.text

        threads = 4
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(worker, [total // threads] * threads))
        return total / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    key = _prepare()
    baseline = _measure(0, key, args.requests)
    persistent = _measure(600, key, args.requests)
    print(f"connection per request (baseline): {baseline:8.1f} req/s  1.00x")
    print(
        f"persistent connections:            {persistent:8.1f} req/s  {persistent / baseline:.2f}x"
    )


if __name__ == "__main__":
    main()
