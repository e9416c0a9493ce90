"""Sending through a real SMTP server (the aiosmtpd sink on 127.0.0.1): what arrives, and
the rules around it (suppression, retries, bounces, auto-pause, pause, window, cap, rate,
steps, the lead's timeline, one-off drafts)."""

from __future__ import annotations

import email
import email.policy
import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts import crypto
from accounts.management.commands.setup_schedules import collect_schedules
from accounts.models import Event, UsageEvent
from campaigns import composing, sending, services, tasks, tracking
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Enrollment,
    EnrollmentStatus,
    Message,
    MessageStatus,
    Sender,
    SmtpSecurity,
    Step,
)
from leads.models import Activity, ActivityKind, Lead, Suppression
from tests import factories
from tests.campaigns.conftest import _free_port

# A Monday, 10:00 UTC: inside the default window (Monday to Friday, 9:00 to 17:00, UTC).
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sender(org):
    return Sender.objects.create(
        organization=org,
        name="Rita Rep",
        email="rita@acme.example",
        reply_to="replies@acme.example",
        signature="Rita, Acme",
        daily_cap=1000,
        rate_per_minute=0,
    )


class FakeClock:
    """Monotonic time that only moves when slept; records the sleeps."""

    def __init__(self):
        self.t = 100.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.t += seconds


def make_campaign(org, sender, owner, steps=None, **fields) -> Campaign:
    campaign = Campaign.objects.create(
        organization=org, name="Q4 outreach", sender=sender, created_by=owner, **fields
    )
    for order, step in enumerate(steps or [{}], start=1):
        Step.objects.create(
            organization=org,
            campaign=campaign,
            order=order,
            subject=step.get("subject", "Hello {{ first_name }}"),
            body=step.get("body", "Hi {{ first_name }}, a word about {{ company }}."),
            delay_days=step.get("delay_days", 0),
            variants=step.get("variants", []),
        )
    return campaign


def make_leads(org, owner, count, **fields) -> list[Lead]:
    company = factories.make_company(org, name="Initech", domain="initech.example")
    return [
        factories.make_lead(
            org,
            actor=owner,
            first_name=f"Ada{n}",
            email=f"ada{n}@initech.example",
            company=company,
            **fields,
        )
        for n in range(count)
    ]


def launch(campaign, leads, owner) -> None:
    services.enroll(
        campaign=campaign, leads=Lead.objects.filter(pk__in=[x.pk for x in leads]), user=owner
    )
    services.launch(campaign=campaign, user=owner)


def cycle(**kwargs):
    sending.materialize()
    return sending.dispatch(**kwargs)


def test_received_mail_has_every_header_both_parts_and_the_footer(
    org, owner, sender, smtp_default, clock
):
    org.postal_address = "Acme Corp\n1 Main Street, Springfield"
    org.save(update_fields=["postal_address"])
    campaign = make_campaign(
        org,
        sender,
        owner,
        [{"subject": "Hi {{ first_name }}", "body": "About {{ company|upper }}: see you."}],
    )
    [lead] = make_leads(org, owner, 1)
    launch(campaign, [lead], owner)

    counts = cycle()

    assert counts["sent"] == 1
    [received] = smtp_default.received
    message = Message.objects.get()
    assert received.mail_from == "rita@acme.example"
    assert received.rcpt_tos == ["ada0@initech.example"]
    mail = received.message
    assert mail["From"] == "Rita Rep <rita@acme.example>"
    assert mail["Reply-To"] == "replies@acme.example"
    assert mail["To"] == "ada0@initech.example"
    assert mail["Subject"] == "Hi Ada0"
    assert mail["Message-ID"] == f"<{message.message_id}>"
    assert message.message_id.endswith("@acme.example")
    unsubscribe = tracking.unsubscribe_url(message.pk)
    token = tracking.token(message.pk, tracking.SALT_UNSUBSCRIBE)
    assert mail["List-Unsubscribe"] == (
        f"<mailto:unsubscribe+{token}@acme.example>, <{unsubscribe}>"
    )
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert text.startswith("About INITECH: see you.")
    assert f"Unsubscribe: {unsubscribe}" in text and "1 Main Street, Springfield" in text
    assert "<p>About INITECH: see you.</p>" in html
    assert f'<a href="{unsubscribe}">Unsubscribe</a>' in html
    assert "Acme Corp<br>\n1 Main Street, Springfield" in html
    assert "/t/o/" not in html  # tracking is off by default
    assert message.status == MessageStatus.SENT
    assert message.smtp_response.startswith("250 2.0.0 Ok: queued as")


def test_the_wire_form_says_what_djangos_own_serializer_says(
    org, owner, sender, smtp_default, clock
):
    sender.name = "Zoë Müller, Sales"
    sender.save()
    campaign = make_campaign(
        org,
        sender,
        owner,
        [{"subject": "Grüße, {{ first_name }}! " * 6, "body": "Schön. " * 40 + "\n\n. dot"}],
    )
    launch(campaign, make_leads(org, owner, 1), owner)
    cycle()
    message = Message.objects.select_related("sender", "organization", "campaign").get()

    ours = smtp_default.received[0].message
    raw = composing.build(message).message(policy=email.policy.SMTP).as_bytes()
    djangos = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert ours["From"] == '"Zoë Müller, Sales" <rita@acme.example>'
    assert ours["Subject"] == ("Grüße, Ada0! " * 6).strip()
    for name in (
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    ):
        assert ours[name] == djangos[name], name
    for kind in ("plain", "html"):
        # Django's parts carry CRLF inside their encoding and one more line end.
        theirs = djangos.get_body((kind,)).get_content().replace("\r\n", "\n").rstrip("\n")
        assert ours.get_body((kind,)).get_content() == theirs
    assert max(len(line) for line in smtp_default.received[0].raw.split(b"\r\n")) <= 998


def test_the_unsubscribe_variable_is_the_messages_own_link_and_tracking_follows_the_campaign(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(
        org,
        sender,
        owner,
        [{"body": "Read https://initech.example/pricing\n\nLeave: {{ unsubscribe_url }}"}],
        track_opens=True,
        track_clicks=True,
    )
    [lead] = make_leads(org, owner, 1)
    launch(campaign, [lead], owner)
    cycle()

    message = Message.objects.get()
    unsubscribe = tracking.unsubscribe_url(message.pk)
    assert message.body_text.endswith(f"Leave: {unsubscribe}")
    html = smtp_default.received[0].message.get_body(("html",)).get_content()
    assert tracking.click_url(message.pk, 0) in html  # the pricing link, redirected
    assert f'<a href="{unsubscribe}">{unsubscribe}</a>' in html  # never redirected
    assert tracking.open_url(message.pk) in html


def test_an_address_suppressed_after_enrollment_is_never_sent(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    early, late, kept = make_leads(org, owner, 3)
    launch(campaign, [early, late, kept], owner)
    # Suppressed before its message exists: no message, the enrollment ends.
    Suppression.objects.create(organization=org, email=early.email, reason="unsubscribed")
    sending.materialize()
    assert not Message.objects.filter(lead=early).exists()
    # Suppressed after its message was queued, right before the send.
    Suppression.objects.create(organization=org, email=late.email, reason="bounced")

    counts = sending.dispatch()

    assert smtp_default.recipients == [kept.email]
    assert counts["sent"] == 1 and counts["suppressed"] == 1
    statuses = dict(Enrollment.objects.values_list("lead_id", "status"))
    assert statuses == {
        early.pk: EnrollmentStatus.UNSUBSCRIBED,
        late.pk: EnrollmentStatus.BOUNCED,
        kept.pk: EnrollmentStatus.COMPLETED,
    }
    late_message = Message.objects.get(lead=late)
    assert late_message.status == MessageStatus.FAILED and "suppression" in late_message.error


def test_a_transient_failure_is_retried_with_backoff_then_sent(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    [lead] = make_leads(org, owner, 1)
    launch(campaign, [lead], owner)
    smtp_default.script(lead.email, "451 4.7.1 Greylisted, try again later")

    assert cycle()["retry"] == 1
    message = Message.objects.get()
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.next_attempt_at == MONDAY + sending.BACKOFF[0]
    assert message.smtp_response == "451 4.7.1 Greylisted, try again later"
    assert cycle()["claimed"] == 0  # not due yet
    clock.shift(sending.BACKOFF[0])

    assert cycle()["sent"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert smtp_default.recipients == [lead.email]
    assert not Suppression.objects.exists()


def test_a_dropped_connection_is_retried_and_the_batch_goes_on(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    first, second = make_leads(org, owner, 2)
    launch(campaign, [first, second], owner)
    smtp_default.script(first.email, "drop")

    counts = cycle()

    assert counts["retry"] == 1 and counts["sent"] == 1
    assert smtp_default.recipients == [second.email]
    assert Message.objects.get(lead=first).error.startswith("Connection lost during RCPT")


def test_transient_failures_fail_the_message_after_the_last_attempt(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    [lead] = make_leads(org, owner, 1)
    launch(campaign, [lead], owner)
    smtp_default.script(lead.email, *["452 4.2.2 Mailbox full"] * sending.MAX_ATTEMPTS)

    for backoff in sending.BACKOFF:
        assert cycle()["retry"] == 1
        clock.shift(backoff)
    assert cycle()["failed"] == 1

    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == sending.MAX_ATTEMPTS
    assert Enrollment.objects.get().status == EnrollmentStatus.FAILED
    assert not Suppression.objects.exists() and smtp_default.received == []


def test_a_permanent_failure_suppresses_the_address_and_bounces_the_enrollment(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    gone, fine, blocked = make_leads(org, owner, 3)
    launch(campaign, [gone, fine, blocked], owner)
    smtp_default.script(gone.email, "550 5.1.1 No such user here")
    smtp_default.script(blocked.email, "554 5.7.1 Client host blocked")

    counts = cycle()

    assert counts["bounced"] == 1 and counts["sent"] == 1 and counts["failed"] == 1
    assert smtp_default.recipients == [fine.email]
    message = Message.objects.get(lead=gone)
    assert message.status == MessageStatus.FAILED
    assert message.smtp_response == "550 5.1.1 No such user here"
    assert Suppression.objects.get(organization=org, email=gone.email).reason == "bounced"
    enrollment = Enrollment.objects.get(lead=gone)
    assert enrollment.status == EnrollmentStatus.BOUNCED
    assert "550 5.1.1" in enrollment.stopped_reason
    # A policy refusal says nothing about the address: failed, not suppressed.
    assert Message.objects.get(lead=blocked).status == MessageStatus.FAILED
    assert Enrollment.objects.get(lead=blocked).status == EnrollmentStatus.FAILED
    assert not Suppression.objects.filter(email=blocked.email).exists()


def test_the_campaign_pauses_itself_when_failures_pass_the_share(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    leads = make_leads(org, owner, 12)
    launch(campaign, leads, owner)
    for lead in leads:
        smtp_default.script(lead.email, "554 5.7.1 Rejected for policy reasons")

    counts = cycle()

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert campaign.paused_reason.startswith("Paused automatically: 10 of 10 sends failed")
    assert "554 5.7.1" in campaign.paused_reason
    assert counts["failed"] == 10 and counts["released"] == 2 and counts["sent"] == 0
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 2
    assert cycle()["claimed"] == 0  # paused: the rest wait
    assert smtp_default.received == []


def test_failures_below_the_share_do_not_pause_the_campaign(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    leads = make_leads(org, owner, 12)
    launch(campaign, leads, owner)
    for lead in leads[:4]:  # at most 4 of any first 10: under half
        smtp_default.script(lead.email, "554 5.7.1 Rejected for policy reasons")

    counts = cycle()

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING and campaign.paused_reason == ""
    assert counts["failed"] == 4 and counts["sent"] == 8


def test_a_pause_stops_sending_within_the_batch_and_resume_sends_the_rest(
    org, owner, sender, smtp_default, clock
):
    sender.rate_per_minute = 60
    sender.save()
    campaign = make_campaign(org, sender, owner)
    leads = make_leads(org, owner, 4)
    launch(campaign, leads, owner)
    fake = FakeClock()

    def sleep(seconds):  # the rep pauses while the worker waits between two sends
        fake.sleep(seconds)
        if len(fake.sleeps) == 1:
            services.pause(campaign=Campaign.objects.get(), user=owner, reason="Typo in step 1")

    state = sending.SendState(clock=sending.Clock(now=fake.now, sleep=sleep))
    counts = cycle(state=state)

    assert counts["claimed"] == 4 and counts["sent"] == 1 and counts["released"] == 3
    assert len(smtp_default.received) == 1
    assert cycle()["claimed"] == 0
    services.resume(campaign=Campaign.objects.get(), user=owner)
    assert cycle(state=sending.SendState(clock=sending.Clock(fake.now, fake.sleep)))["sent"] == 3
    assert sorted(smtp_default.recipients) == sorted(lead.email for lead in leads)


def test_a_cancelled_campaigns_queued_messages_are_not_sent(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    launch(campaign, make_leads(org, owner, 2), owner)
    sending.materialize()
    services.cancel(campaign=campaign, user=owner)

    assert sending.dispatch()["claimed"] == 0
    assert smtp_default.received == []
    assert set(Message.objects.values_list("status", "error")) == {
        (MessageStatus.FAILED, "Not sent: the campaign was cancelled.")
    }


def test_messages_wait_outside_the_window(org, owner, sender, smtp_default):
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    with time_machine.travel(saturday, tick=False) as traveller:
        campaign = make_campaign(org, sender, owner)
        first, second = make_leads(org, owner, 2)
        launch(campaign, [first, second], owner)
        # Due now (say, after a long pause), but the window is closed on Saturdays.
        Enrollment.objects.update(next_send_at=saturday - timedelta(hours=1))
        assert sending.materialize() == 0
        # A message queued on Friday and not sent by the window's end waits too.
        sending.materialize(now=MONDAY)
        Message.objects.update(next_attempt_at=saturday - timedelta(hours=1))
        assert Message.objects.count() == 2
        assert sending.dispatch()["claimed"] == 0

        traveller.move_to(datetime(2026, 11, 23, 8, 59, tzinfo=UTC))
        assert sending.dispatch()["claimed"] == 0
        traveller.move_to(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        assert sending.dispatch()["sent"] == 2
    assert len(smtp_default.received) == 2


def test_the_daily_cap_holds_the_rest_until_tomorrow(org, owner, sender, smtp_default, clock):
    sender.daily_cap = 3
    sender.save()
    campaign = make_campaign(org, sender, owner)
    launch(campaign, make_leads(org, owner, 5), owner)

    assert cycle()["sent"] == 3
    assert cycle()["claimed"] == 0
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 2
    clock.shift(timedelta(days=1))  # Tuesday 10:00

    assert cycle()["sent"] == 2
    assert len(smtp_default.received) == 5


def test_a_ramping_sender_gets_a_growing_share_of_its_cap(org, sender, clock):
    sender.daily_cap, sender.ramp_up = 400, True
    sender.created_at = MONDAY
    assert sending.effective_cap(sender, MONDAY) == 100
    assert sending.effective_cap(sender, MONDAY + timedelta(days=8)) == 200
    assert sending.effective_cap(sender, MONDAY + timedelta(days=60)) == 400
    sender.daily_cap = 30
    assert sending.effective_cap(sender, MONDAY) == sending.RAMP_MINIMUM


def test_sends_are_paced_at_the_senders_rate(org, owner, sender, smtp_default, clock):
    sender.rate_per_minute = 6  # one every 10 s; a claim holds 15 s of it: 2 messages
    sender.save()
    campaign = make_campaign(org, sender, owner)
    launch(campaign, make_leads(org, owner, 5), owner)
    fake = FakeClock()
    state = sending.SendState(clock=sending.Clock(now=fake.now, sleep=fake.sleep))

    first = cycle(state=state)
    second = sending.dispatch(state=state)
    third = sending.dispatch(state=state)

    assert (first["sent"], second["sent"], third["sent"]) == (2, 2, 1)
    assert fake.sleeps == [10.0, 10.0, 10.0, 10.0]
    assert len(smtp_default.received) == 5


def test_a_sender_at_its_rate_waits_for_the_next_minute(org, owner, sender, smtp_default, clock):
    sender.rate_per_minute = 2
    sender.save()
    campaign = make_campaign(org, sender, owner)
    launch(campaign, make_leads(org, owner, 3), owner)
    fake = FakeClock()
    state = sending.SendState(clock=sending.Clock(now=fake.now, sleep=fake.sleep))

    assert cycle(state=state)["sent"] == 1
    assert sending.dispatch(state=state)["sent"] == 1
    blocked = sending.dispatch(state=state)
    assert blocked["claimed"] == 0 and blocked["rate_limited"] == 1
    clock.shift(timedelta(seconds=61))
    assert sending.dispatch(state=state)["sent"] == 1


def test_the_second_step_is_due_after_its_delay_then_the_enrollment_completes(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(
        org,
        sender,
        owner,
        [
            {"subject": "First", "body": "One"},
            {"subject": "Re: First", "body": "Two", "delay_days": 2},
        ],
    )
    [lead] = make_leads(org, owner, 1)
    launch(campaign, [lead], owner)
    cycle()

    enrollment = Enrollment.objects.get()
    assert enrollment.status == EnrollmentStatus.ACTIVE and enrollment.current_step == 1
    due = MONDAY + timedelta(days=2)
    assert due <= enrollment.next_send_at <= due + timedelta(seconds=300)  # jitter
    assert cycle()["claimed"] == 0
    clock.move_to(enrollment.next_send_at)

    assert cycle()["sent"] == 1
    assert [r.message["Subject"] for r in smtp_default.received] == ["First", "Re: First"]
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.next_send_at is None
    assert list(Message.objects.order_by("pk").values_list("step__order", flat=True)) == [1, 2]


def test_materializing_is_idempotent_and_variants_follow_their_weights(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(
        org,
        sender,
        owner,
        [{"variants": [{"key": "B", "subject": "B for {{ first_name }}", "weight": 100}]}],
    )
    launch(campaign, make_leads(org, owner, 3), owner)

    assert sending.materialize() == 3
    assert sending.materialize() == 0
    assert set(Message.objects.values_list("variant", "subject")) == {
        ("B", "B for Ada0"),
        ("B", "B for Ada1"),
        ("B", "B for Ada2"),
    }
    step = Step.objects.get()
    step.variants = [{"key": "B", "subject": "b", "body": "b", "weight": 30}]
    picks = [sending.choose_variant(step, random.Random(n))[0] for n in range(400)]
    assert 80 < picks.count("B") < 160 and picks.count("A") == 400 - picks.count("B")


def test_a_message_left_sending_by_a_dead_worker_goes_out_after_its_lease(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(org, sender, owner)
    launch(campaign, make_leads(org, owner, 1), owner)
    sending.materialize()
    Message.objects.update(status=MessageStatus.SENDING, claimed_at=MONDAY)

    clock.shift(sending.LEASE - timedelta(seconds=1))
    assert sending.dispatch()["claimed"] == 0
    clock.shift(timedelta(seconds=2))
    assert sending.dispatch()["sent"] == 1
    assert len(smtp_default.received) == 1


def test_a_claim_taken_over_after_its_lease_is_not_sent_twice(
    org, owner, sender, smtp_default, clock
):
    sender.rate_per_minute = 60
    sender.save()
    campaign = make_campaign(org, sender, owner)
    first, second = make_leads(org, owner, 2)
    launch(campaign, [first, second], owner)
    fake = FakeClock()

    def sleep(seconds):  # meanwhile the lease ran out and another worker claimed it anew
        fake.sleep(seconds)
        Message.objects.filter(status=MessageStatus.SENDING).update(
            claimed_at=MONDAY + timedelta(minutes=11)
        )

    counts = cycle(state=sending.SendState(clock=sending.Clock(now=fake.now, sleep=sleep)))

    assert counts["sent"] == 1 and counts["lost"] == 1
    assert len(smtp_default.received) == 1
    assert Message.objects.filter(status=MessageStatus.SENDING).count() == 1


def test_the_first_send_marks_the_lead_contacted_on_its_timeline_with_an_event(
    org, owner, sender, smtp_default, clock
):
    campaign = make_campaign(
        org, sender, owner, [{"subject": "One"}, {"subject": "Two", "delay_days": 1}]
    )
    [lead] = make_leads(org, owner, 1)
    launch(campaign, [lead], owner)
    cycle()
    clock.move_to(Enrollment.objects.get().next_send_at)
    cycle()

    lead.refresh_from_db()
    assert lead.status == "contacted"
    first, second = Message.objects.order_by("pk")
    assert lead.last_contacted_at == second.sent_at
    changes = Activity.objects.filter(lead=lead, kind=ActivityKind.STATUS_CHANGE)
    assert [a.data for a in changes] == [{"from": "new", "to": "contacted"}]
    sent = Activity.objects.filter(lead=lead, kind=ActivityKind.EMAIL_SENT).order_by("pk")
    assert [a.data for a in sent] == [
        {"subject": "One", "message_id": first.message_id, "campaign_id": campaign.pk},
        {"subject": "Two", "message_id": second.message_id, "campaign_id": campaign.pk},
    ]
    events = Event.objects.filter(organization=org, type=sending.EMAIL_SENT_EVENT)
    assert sorted(e.payload["message_id"] for e in events) == sorted(
        [first.message_id, second.message_id]
    )
    assert Event.objects.filter(organization=org, type="lead.status_changed").count() == 1
    assert (
        sum(
            UsageEvent.objects.filter(organization=org, action="campaigns.email").values_list(
                "quantity", flat=True
            )
        )
        == 2
    )


def test_a_sender_with_its_own_smtp_server_logs_in_with_its_decrypted_password(
    org, owner, sink, clock
):
    own = Sender.objects.create(
        organization=org,
        name="Own",
        email="own@acme.example",
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_security=SmtpSecurity.NONE,
        smtp_username="own@acme.example",
        smtp_password_encrypted=crypto.encrypt("s3cret pass"),
        rate_per_minute=0,
    )
    campaign = make_campaign(org, own, owner)
    launch(campaign, make_leads(org, owner, 3), owner)

    assert cycle()["sent"] == 3
    assert sink.logins == [("own@acme.example", "s3cret pass")]
    assert sink.connections == 1  # one connection for the batch


def test_an_unreachable_server_puts_the_whole_batch_back_without_waiting_on_each(
    org, owner, sink, clock
):
    closed_port = _free_port()  # nothing listens there
    down = Sender.objects.create(
        organization=org,
        name="Down",
        email="down@acme.example",
        smtp_host="127.0.0.1",
        smtp_port=closed_port,
        smtp_security=SmtpSecurity.NONE,
        rate_per_minute=0,
    )
    campaign = make_campaign(org, down, owner)
    launch(campaign, make_leads(org, owner, 3), owner)

    assert cycle()["retry"] == 3
    errors = set(Message.objects.values_list("status", "attempts", "error"))
    assert len(errors) == 1
    status, attempts, error = errors.pop()
    assert (status, attempts) == (MessageStatus.QUEUED, 1)
    assert error.startswith(f"Connecting to 127.0.0.1:{closed_port}")
    assert not Suppression.objects.exists()


def test_the_dispatcher_task_sends_what_is_due_and_runs_every_minute(
    org, owner, sender, smtp_default, clock
):
    launch(make_campaign(org, sender, owner), make_leads(org, owner, 3), owner)

    totals = tasks.dispatch_campaigns(seconds=20)

    assert totals["materialized"] == 3 and totals["sent"] == 3
    assert len(smtp_default.received) == 3
    (periodic,) = [p for p in collect_schedules() if p.name == "campaigns.dispatch_campaigns"]
    assert periodic.func is tasks.dispatch_campaigns and periodic.minutes == 1


def test_one_off_send_of_an_agents_draft(org, owner, sender, smtp_default, clock):
    from agents.models import Draft

    [lead] = make_leads(org, owner, 1)
    draft = Draft.objects.create(
        organization=org,
        lead=lead,
        agent_type="outreach",
        subject="Quick question",
        body="Hi Ada,\n\nWorth a chat? https://initech.example",
    )

    message = sending.send_one_off(draft=draft, user=owner)

    draft.refresh_from_db()
    assert draft.status == "sent" and draft.sent_at == message.sent_at
    assert message.campaign_id is None and message.status == MessageStatus.SENT
    [received] = smtp_default.received
    assert received.message["Subject"] == "Quick question"
    assert received.message["Message-ID"] == f"<{message.message_id}>"
    html = received.message.get_body(("html",)).get_content()
    assert '<a href="https://initech.example">' in html and "/t/o/" not in html
    activity = Activity.objects.get(lead=lead, kind=ActivityKind.EMAIL_SENT)
    assert activity.actor == owner and activity.data["campaign_id"] is None

    Suppression.objects.create(organization=org, email=lead.email, reason="unsubscribed")
    with pytest.raises(ValueError, match="suppression list"):
        sending.send_one_off(draft=draft, user=owner)
    smtp_default.script("x@y.example", "550 5.1.1 Unknown")
    other = factories.make_lead(org, actor=owner, email="x@y.example")
    draft.lead, draft.status = other, "ready"
    with pytest.raises(sending.SendFailed, match=r"550 5\.1\.1 Unknown"):
        sending.send_one_off(draft=draft, user=owner)
    assert draft.status == "ready"
    elsewhere = factories.make_org("No Senders Ltd")
    draft.organization = elsewhere
    draft.lead = factories.make_lead(elsewhere, email="z@y.example")
    with pytest.raises(ValueError, match="Add a sender"):
        sending.send_one_off(draft=draft, user=owner)
