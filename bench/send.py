"""Campaign sending throughput: 10,000 enrolled leads sent by one worker through the real
path, against a plain smtplib loop over one connection to the same SMTP sink, in the same
run; then a rate-limited run's accuracy.

Not a test: run by hand against the local PostgreSQL (never in CI).

    .venv/bin/python bench/send.py                       # 10,000 leads, 600/min for 90 s
    .venv/bin/python bench/send.py --leads 2000 --rate 1200 --rate-seconds 30

It recreates and migrates a scratch database (BENCH_DATABASE_URL) and starts an aiosmtpd
sink in its own process (an SMTP server does not share the worker's interpreter), then:

- baseline: smtplib, one connection, MAIL/RCPT/DATA for each of the leads' addresses with a
  message of the same size as the campaign's;
- the worker: one campaign, one step with variables, a sender with no rate limit, every
  lead enrolled and launched (not timed), then campaigns.tasks.dispatch_campaigns in this
  process until all is sent: materializing (rendering), claiming, the checks before each
  send, composing, SMTP, and recording each send with its consequences (message marked,
  enrollment completed, lead contacted, timeline entry, event, usage);
- rate: a second campaign whose sender allows --rate a minute, as many leads as that rate
  sends in --rate-seconds, the measured rate from the messages' sent_at.

It prints both rates and their ratio (goal: at least 50%), where the worker's time went,
and the rate-limited run's rate against the set one (goal: within 5%).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import socket
import sys
import time
from collections import defaultdict
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import bench_env, recreate_database  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prospector_send"
)


# The sink: its own process, counting what it accepts.


def _serve_sink(port: int, ready, counter) -> None:
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 2.0.0 Ok"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_sink():
    context = multiprocessing.get_context("spawn")
    port, ready, counter = _free_port(), context.Event(), context.Value("q", 0)
    process = context.Process(target=_serve_sink, args=(port, ready, counter), daemon=True)
    process.start()
    if not ready.wait(20):
        sys.exit("The SMTP sink did not start.")
    return process, port, counter


def _setup_django() -> None:
    os.environ.update(bench_env(DATABASE_URL, Q_SYNC="1"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _campaign(org, owner, port: int, leads: int, rate: int, label: str):
    """A running campaign of `leads` new leads, its sender on the sink."""
    from campaigns import services
    from campaigns.models import Campaign, Sender, SmtpSecurity, Step
    from leads.models import Company, Lead

    sender = Sender.objects.create(
        organization=org,
        name="Bench Sender",
        email=f"bench-{label}@sender.example",
        reply_to="replies@sender.example",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=SmtpSecurity.NONE,
        daily_cap=1_000_000,
        rate_per_minute=rate,
    )
    campaign = Campaign.objects.create(
        organization=org,
        name=f"Bench {label}",
        sender=sender,
        window_days=list(range(7)),
        window_start=clock_time(0, 0),
        window_end=clock_time(23, 59, 59, 999999),
    )
    Step.objects.create(
        organization=org,
        campaign=campaign,
        order=1,
        subject="{{ first_name }}, a question about {{ company }}",
        body=(
            "Hi {{ first_name }},\n\nI noticed {{ company }} is hiring for sales. We help "
            "teams like yours book more meetings: https://sender.example/how\n\nWorth a "
            "15-minute call next week?\n\n{{ sender.name }}"
        ),
    )
    company = Company.objects.create(
        organization=org, name=f"Acme {label}", domain=f"acme-{label}.example"
    )
    Lead.objects.bulk_create(
        [
            Lead(
                organization=org,
                first_name=f"Person{n}",
                last_name="Bench",
                email=f"p{n}.{label}@lead{n % 97}.example",
                company=company,
            )
            for n in range(leads)
        ],
        batch_size=2000,
    )
    services.enroll(
        campaign=campaign,
        leads=Lead.objects.for_org(org).filter(email__contains=f".{label}@"),
        user=owner,
    )
    services.launch(campaign=campaign, user=owner)
    return campaign


def _raw_loop(port: int, count: int, size: int) -> float:
    """smtplib over one connection: the rate the sink takes mail at, with nothing else."""
    body = ("x" * 70 + "\r\n") * max(size // 72, 1)
    connection = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for n in range(count):
        raw = (
            f"From: Bench <raw@sender.example>\r\nTo: r{n}@raw.example\r\n"
            f"Subject: Raw {n}\r\nMessage-ID: <{n}.raw@sender.example>\r\n\r\n{body}"
        ).encode()
        connection.sendmail("raw@sender.example", [f"r{n}@raw.example"], raw)
    seconds = time.perf_counter() - started
    connection.quit()
    return seconds


def _timed(module, name: str, totals: dict) -> None:
    """Wrap module.name to add its wall time to totals[name] (nested calls counted once
    each: the shares below are of the worker's whole run)."""
    original = getattr(module, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - started

    setattr(module, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=600, help="per minute, for the rate run")
    parser.add_argument("--rate-seconds", type=int, default=90)
    args = parser.parse_args()
    sink, port, received = _start_sink()
    recreate_database(DATABASE_URL)
    _setup_django()

    from accounts.models import Plan
    from campaigns import composing, sending, tasks
    from campaigns.models import Message
    from tests import factories

    run = str(int(time.time()))
    owner = factories.make_user(f"bench-{run}@example.com")
    org = factories.make_org(f"Send bench {run}", owner=owner)
    # The default plan meters campaign email; the benchmark measures speed, not quotas.
    org.plan = Plan.objects.create(name=f"Bench {run}", code=f"bench-{run}", limits={})
    org.save(update_fields=["plan"])

    campaign = _campaign(org, owner, port, args.leads, 0, "fast")
    sample = Message(
        pk=1,
        organization=org,
        sender=campaign.sender,
        campaign=campaign,
        to_email="p0@lead0.example",
        subject="Person0, a question about Acme",
        body_text="Hi Person0,\n\n" + "x" * 220,
        body_html="<p>Hi Person0,</p>",
        message_id="sample@sender.example",
    )
    size = len(composing.to_bytes(composing.build(sample), campaign.sender))

    raw_seconds = _raw_loop(port, args.leads, size)
    before = received.value

    totals: dict[str, float] = defaultdict(float)
    for name in ("materialize", "_claim", "_fresh", "_record_sent"):
        _timed(sending, name, totals)
    _timed(sending.SmtpTransport, "send", totals)
    _timed(composing, "build", totals)
    started = time.perf_counter()
    tasks.dispatch_campaigns(seconds=24 * 3600)
    worker_seconds = time.perf_counter() - started
    sent = Message.objects.filter(campaign=campaign, status="sent").count()
    if sent != args.leads or received.value - before != args.leads:
        sys.exit(f"Sent {sent} of {args.leads}; the sink took {received.value - before}.")

    raw_rate = args.leads / raw_seconds
    worker_rate = args.leads / worker_seconds
    print(f"leads               {args.leads:>10,}   message {size:,} bytes")
    print(f"smtplib loop        {raw_seconds:>10.2f} s   {raw_rate:>8,.0f} msg/s")
    print(f"worker (end to end) {worker_seconds:>10.2f} s   {worker_rate:>8,.0f} msg/s")
    print(f"ratio               {worker_rate / raw_rate:>10.1%}   (goal >= 50%)")
    labels = {
        "materialize": "materialize (render, insert)",
        "_claim": "claim",
        "_fresh": "check before each send",
        "build": "compose",
        "send": "SMTP (serialize, MAIL/RCPT/DATA)",
        "_record_sent": "record (mark, enrollment, lead, timeline, event, usage)",
    }
    for name, label in labels.items():
        share = totals[name] / worker_seconds
        per = totals[name] / args.leads * 1000
        print(f"  {label:<56} {per:>6.2f} ms/msg  {share:>6.1%}")

    if args.rate:
        count = max(args.rate * args.rate_seconds // 60, 2)
        limited = _campaign(org, owner, port, count, args.rate, "rate")
        tasks.dispatch_campaigns(seconds=args.rate_seconds * 2 + 60)
        times = sorted(
            Message.objects.filter(campaign=limited, status="sent").values_list(
                "sent_at", flat=True
            )
        )
        if len(times) != count:
            sys.exit(f"The rate-limited run sent {len(times)} of {count}.")
        span = (times[-1] - times[0]).total_seconds()
        measured = (len(times) - 1) / span * 60
        print(
            f"rate-limited run    {len(times):>10,} sent in {span:.1f} s: {measured:,.1f}/min "
            f"for {args.rate:,}/min set, {measured / args.rate - 1:+.2%} (goal within 5%)"
        )
    sink.terminate()


if __name__ == "__main__":
    main()
