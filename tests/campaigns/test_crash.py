"""Workers killed with SIGKILL in the middle of a 2,000-recipient send, several times:
restarted each time, the job finishes with every recipient mailed, at most one duplicate per
kill, and every Message row sent (with its timeline entry and event, written with it).

Two workers run at once, real processes (forked, like django-q2's, from this file run as a
script) on the same database, sending over TCP to the SMTP sink in this process, so their
claims race too.
Three kills come from the sink itself while it holds a message it has accepted, before the
worker that sent it (named in its EHLO) hears the 250: the worst moment, where the message
cannot be marked and must be sent again. One more comes from a watcher thread, at whatever
point a worker happens to be.

Database: on PostgreSQL the workers use the test database itself (a transactional test, so
they see committed rows). SQLite's test database lives in this process's memory, so the
prepared database is copied to a file (sqlite3's backup API) for the workers, and the
outcome is read back from that file.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import time as clock_time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 2000
KILL_IN_DATA_AT = (300, 900, 1500)  # accepted messages when the sink kills the worker
KILL_ANYWHERE_AT = 1200  # the watcher kills the worker once this many were accepted
LEASE_SECONDS = 3  # a dead worker's claimed messages go back to the queue this soon
TIME_LIMIT = 150  # a guard against a hang; it takes 30-50 s on an idle 2-core machine
WORKERS = 2  # at once, so claims race as well


def _child_env(database_url: str) -> dict[str, str]:
    from django.conf import settings

    return dict(os.environ) | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "SITE_URL": settings.SITE_URL,
        "LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT),
    }


def _database_url(tmp_path: Path) -> str:
    """A URL for the child processes to reach what this test wrote (see the docstring)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return (
            f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    import sqlite3

    path = tmp_path / "crash.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


def _prepare(org, owner, sink) -> list[str]:
    from accounts.models import Plan
    from campaigns import services
    from campaigns.models import Campaign, Sender, SmtpSecurity, Step
    from leads.models import Lead

    org.plan = Plan.objects.create(name="Unmetered", code="unmetered", limits={})
    org.save(update_fields=["plan"])
    sender = Sender.objects.create(
        organization=org,
        name="Crash Test",
        email="crash@acme.example",
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_security=SmtpSecurity.NONE,
        daily_cap=100_000,
        rate_per_minute=0,
    )
    campaign = Campaign.objects.create(
        organization=org,
        name="Crash",
        sender=sender,
        window_days=list(range(7)),
        window_start=clock_time(0, 0),
        window_end=clock_time(23, 59, 59, 999999),
    )
    Step.objects.create(
        organization=org, campaign=campaign, order=1, subject="Hi {{ first_name }}", body="Hello."
    )
    emails = [f"r{n}@crash{n % 50}.example" for n in range(RECIPIENTS)]
    # Contacted before (a follow-up campaign): the first-contact path is test_sending's; here
    # every send costs what a follow-up costs, so the test stays short.
    Lead.objects.bulk_create(
        [
            Lead(organization=org, first_name=f"R{n}", email=e, status="contacted")
            for n, e in enumerate(emails)
        ]
    )
    services.enroll(campaign=campaign, leads=Lead.objects.for_org(org), user=owner)
    services.launch(campaign=campaign, user=owner)
    return emails


class Workers:
    """The worker processes, each restarted after every kill. They are forked from one
    process that has loaded Django once (as django-q2's cluster forks its workers), so a
    restart takes milliseconds, not seconds of imports. A worker says who it is in EHLO
    (worker-<pid>), so the sink can kill the very one whose message it holds."""

    def __init__(self, env: dict[str, str], count: int, log: Path):
        self.log = log.open("wb")
        self.zygote = subprocess.Popen(
            [sys.executable, __file__],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self.events: queue.Queue[tuple[str, int, int]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.alive: set[int] = set()
        self.kills = 0
        self.lock = threading.Lock()
        for _ in range(count):
            self.start()

    def _read(self) -> None:
        for line in self.zygote.stdout:
            kind, pid, *code = line.decode().split()
            self.events.put((kind, int(pid), int(code[0]) if code else 0))

    def start(self) -> None:
        self.zygote.stdin.write(b"fork\n")
        self.zygote.stdin.flush()
        kind, pid, _ = self.events.get(timeout=30)
        assert kind == "started", (kind, pid)
        with self.lock:
            self.alive.add(pid)

    def kill(self, pid: int | None = None) -> None:
        with self.lock:
            victims = [pid] if pid in self.alive else [] if pid else sorted(self.alive)[:1]
            for victim in victims:
                os.kill(victim, signal.SIGKILL)
                self.alive.discard(victim)
                self.kills += 1

    def wait(self, deadline: float) -> None:
        """Until every worker has exited by itself (all work done), restarting the killed."""
        running = len(self.alive)
        while running:
            try:
                kind, pid, code = self.events.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise AssertionError(f"not finished in {TIME_LIMIT} s") from None
            assert kind == "exited", (kind, pid)
            if code == -signal.SIGKILL:
                self.start()
                continue
            self.log.flush()
            assert code == 0, f"worker {pid} failed: {self._log_tail()}"
            with self.lock:
                self.alive.discard(pid)
            running -= 1

    def _log_tail(self) -> str:
        return Path(self.log.name).read_bytes().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        with self.lock:
            for pid in self.alive:
                os.kill(pid, signal.SIGKILL)
            self.alive.clear()
        self.zygote.stdin.close()
        self.zygote.wait(timeout=30)
        self.log.close()


@pytest.mark.django_db(transaction=True)
def test_workers_killed_mid_send_lose_nothing_and_repeat_at_most_one_per_kill(
    org, owner, sink, tmp_path
):
    emails = _prepare(org, owner, sink)
    env = _child_env(_database_url(tmp_path))

    def on_data(received):
        # The server has taken the message; its worker dies before it hears the 250.
        if len(sink.received) in KILL_IN_DATA_AT:
            workers.kill(int(received.helo.removeprefix("worker-")))

    def watch():
        while len(sink.received) < KILL_ANYWHERE_AT and not done.is_set():
            time.sleep(0.01)
        workers.kill()

    done = threading.Event()
    sink.on_data = on_data
    workers = Workers(env, WORKERS, tmp_path / "workers.log")
    threading.Thread(target=watch, daemon=True).start()
    try:
        workers.wait(time.monotonic() + TIME_LIMIT)
    finally:
        done.set()
        workers.stop()

    report = _report(tmp_path)
    assert workers.kills == len(KILL_IN_DATA_AT) + 1
    recipients = [address for r in sink.received for address in r.rcpt_tos]
    assert set(recipients) == set(emails)  # everyone got it
    duplicates = len(recipients) - len(emails)
    assert 0 <= duplicates <= workers.kills
    # A duplicate is the same message again (same Message-ID), never a second message.
    message_ids = {r.message["Message-ID"] for r in sink.received}
    assert len(message_ids) == len(emails)
    assert report["messages"] == {"sent": RECIPIENTS}
    assert report["enrollments"] == {"completed": RECIPIENTS}
    assert report["sent_message_ids"] == sorted(m.strip("<>") for m in message_ids)
    # Marked with its consequences in one transaction: one timeline entry and event each.
    assert report["email_sent_activities"] == RECIPIENTS
    assert report["email_sent_events"] == RECIPIENTS


# The child processes


def _worker_main() -> None:
    from datetime import timedelta

    from django.core.mail.utils import DNS_NAME

    from campaigns import sending
    from campaigns.models import Enrollment, EnrollmentStatus, Message, MessageStatus

    DNS_NAME._fqdn = f"worker-{os.getpid()}"  # what EHLO says
    lease = timedelta(seconds=LEASE_SECONDS)
    while True:
        sending.materialize(limit=500)
        counts = sending.dispatch(limit=20, lease=lease)
        if counts["claimed"]:
            continue
        pending = (
            Message.objects.filter(
                status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]
            ).exists()
            or Enrollment.objects.filter(
                status=EnrollmentStatus.ACTIVE, next_send_at__isnull=False
            ).exists()
        )
        if not pending:
            return
        time.sleep(0.2)  # claimed rows of a killed worker wait out their lease


def _report(tmp_path: Path) -> dict:
    """What the workers left in the database, read with plain SQL (the test database on
    PostgreSQL, the copied file on SQLite)."""
    import sqlite3

    from django.db import connection

    if connection.vendor == "postgresql":
        cursor = connection.cursor()
    else:
        cursor = sqlite3.connect(tmp_path / "crash.sqlite3").cursor()

    def rows(sql: str) -> list:
        cursor.execute(sql)
        return cursor.fetchall()

    return {
        "messages": dict(rows("SELECT status, COUNT(*) FROM campaigns_message GROUP BY status")),
        "enrollments": dict(
            rows("SELECT status, COUNT(*) FROM campaigns_enrollment GROUP BY status")
        ),
        "sent_message_ids": sorted(
            r[0] for r in rows("SELECT message_id FROM campaigns_message WHERE status = 'sent'")
        ),
        "email_sent_activities": rows(
            "SELECT COUNT(*) FROM leads_activity WHERE kind = 'email_sent'"
        )[0][0],
        "email_sent_events": rows("SELECT COUNT(*) FROM accounts_event WHERE type = 'email.sent'")[
            0
        ][0],
    }


def _zygote_main() -> None:
    """Load Django and warm up (URL resolver, modules), then fork a worker for each "fork"
    line on stdin; report "started <pid>" and, when one ends, "exited <pid> <code>"."""
    import selectors
    import traceback

    from django.db import connections

    from campaigns import sending, tracking

    tracking.unsubscribe_url(1)
    assert sending.dispatch  # imported before forking
    connections.close_all()  # each worker opens its own
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.buffer, selectors.EVENT_READ)
    children: set[int] = set()
    while True:
        if selector.select(timeout=0.02):
            line = sys.stdin.buffer.readline()
            if not line:  # the test is done
                return
            pid = os.fork()
            if pid == 0:
                try:
                    _worker_main()
                except BaseException:
                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            children.add(pid)
            print("started", pid, flush=True)
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                print("exited", pid, os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    _zygote_main()
