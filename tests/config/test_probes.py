"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.signing import SignedPackage
from django_q.status import Stat, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_mode(settings):
    """Readiness as in production: tasks go to a cluster, not run inline."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}


def report_cluster(cluster_id: str, seen_ago: timedelta) -> None:
    """Store a cluster status the way a running qcluster's sentinel does."""
    status = Status(pid=4242, cluster_id=cluster_id)
    status.timestamp = timezone.now() - seen_ago
    get_broker().set_stat(Stat.get_key(cluster_id), SignedPackage.dumps(status, True), 60)


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_with_the_database_and_inline_tasks(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["queue"] == {"ok": True, "mode": "sync", "clusters": 0}


def test_readyz_is_503_when_no_worker_was_seen(client, worker_mode):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["queue"]["ok"] is False
    assert "No task worker" in body["checks"]["queue"]["error"]


def test_readyz_is_ready_when_a_worker_reported_recently(client, worker_mode):
    report_cluster("cluster-a", seen_ago=timedelta(seconds=5))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["queue"] == {"ok": True, "clusters": 1}


def test_readyz_ignores_a_worker_last_seen_minutes_ago(client, worker_mode):
    report_cluster("cluster-old", seen_ago=timedelta(minutes=3))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"]["ok"] is False


def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False
    assert "connection refused" in checks["database"]["error"]
    assert checks["queue"]["ok"] is False


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_refuse_writes(client, path):
    assert client.post(path).status_code == 405


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_to_https(client, settings, path):
    # Load balancers probe over plain HTTP even when every page redirects to HTTPS.
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(path).status_code == 200
    assert client.get("/accounts/login/").status_code == 301
