"""Sending: due enrollment steps become Message rows, and queued messages go out over SMTP.

Two steps, both run by the dispatcher task every minute (campaigns.tasks):

- `materialize(now)` turns each active enrollment of a running campaign whose `next_send_at`
  has come (inside the campaign's window) into one queued Message for its current step:
  variant chosen by weight, subject and body rendered for the lead, suppression checked
  again. The enrollment's `next_send_at` goes to None in the same transaction (it is set
  again when the message is sent), so a step is materialized once however many dispatchers
  run: rows are locked with `select_for_update(skip_locked=True)` on PostgreSQL, and SQLite
  has one writer.
- `dispatch()` claims due queued messages per sender (status "sending", `claimed_at`),
  within the sender's daily cap, per-minute rate and the plan's monthly quota, opens one
  SMTP connection per sender per batch, checks the suppression list and the campaign's
  status again right before each send, and records each result at once.

Crash safety, and the one duplicate we accept
---------------------------------------------
A message's row is committed (queued, then claimed as "sending") before the SMTP
conversation starts, and marked "sent" in its own transaction right after the server's 250.
A worker killed at any moment therefore loses nothing: whatever it had claimed stays
"sending" and goes back to the queue when its lease (`LEASE`, 10 minutes) runs out. The
price is at most one duplicate per kill: the message in flight, accepted by the server but
not yet marked, is sent again. We chose that over the alternative (mark first, send after),
which would silently lose that message instead. A worker that is merely slow checks, right
before each send, that its claim still holds (same `claimed_at`), so a message requeued
under it is not sent twice. The mark, the enrollment's next step, the lead's status and
timeline, the event and the usage meter are one transaction: a kill leaves all or none.

The mark's commit does not wait for the WAL flush on PostgreSQL (`synchronous_commit` off
for that one transaction): a worker's death cannot undo a commit the server has
acknowledged, so the guarantee above holds; only a crash of the database server itself
could forget the marks of its last fraction of a second, and those messages would be
repeated (never lost). It makes each send about 2 ms cheaper.

Rules: transient SMTP errors (4xx, dropped connections, timeouts) put the message back in
the queue with a backoff, and fail it after `MAX_ATTEMPTS`; permanent ones (5xx) fail it.
When the address itself is refused (a 5.1.x status, or a bare 550/551/553 to RCPT) it goes
on the suppression list as "bounced" and the lead's enrollments stop as bounced; a policy
refusal (5.7.x) fails the message and the enrollment but suppresses no one. When failures
(transient or permanent) reach `FAILURE_SHARE` of at least `FAILURE_MIN` sends of one
campaign in one dispatcher run, the campaign pauses itself with the reason. Messages of
paused campaigns stay queued (and are released if already claimed); those of cancelled
campaigns are marked failed.

The window is the campaign's, in its time zone (`lead_timezone` is not followed yet).
`send_one_off()` sends an agent's draft through the same claim, checks, composing and
recording, synchronously, without retries (the rep sees the error).

These are sweepers over every organization, so their queries are unscoped by design
(`_unscoped_*`); each row carries its organization and everything written is scoped by it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import re
import smtplib
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.encoding import punycode

from accounts import crypto, events, usage
from campaigns import composing, rendering, schedule, services, tracking
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
from leads import services as lead_services
from leads.models import ActivityKind, Lead, Status, Suppression

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# The wait after the 1st, 2nd, ... transient failure.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
FAILURE_SHARE = 0.5
FAILURE_MIN = 10
# One claim holds at most this many seconds of sending at the sender's rate, so a pause or a
# suppression added meanwhile takes effect within one short batch.
CLAIM_SECONDS = 15
MATERIALIZE_CHUNK = 500
# A ramping sender may send (week + 1) / RAMP_WEEKS of its cap (at least RAMP_MINIMUM).
RAMP_WEEKS = 4
RAMP_MINIMUM = 20
USAGE_ACTION = "campaigns.email"
EMAIL_SENT_EVENT = "email.sent"

# Rendered in place of {{ unsubscribe_url }} until the message has its id (and its link).
_PLACEHOLDER = "https://unsubscribe.placeholder.invalid/pending"
_PLACEHOLDER_RE = re.compile(re.escape(_PLACEHOLDER), re.I)
_ENHANCED = re.compile(r"^\s*5\.(\d{1,3})\.\d{1,3}\b")
_SUPPRESSION_STATUS = {
    "bounced": EnrollmentStatus.BOUNCED,
    "unsubscribed": EnrollmentStatus.UNSUBSCRIBED,
    "complained": EnrollmentStatus.UNSUBSCRIBED,
}


def _unscoped_enrollments():
    return Enrollment.objects.all()


def _unscoped_messages():
    return Message.objects.all()


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _locking(qs):
    """Rows locked for this transaction, skipping those another dispatcher holds
    (PostgreSQL; SQLite's single writer needs no row locks)."""
    return qs.select_for_update(skip_locked=True, of=("self",)) if _is_postgres() else qs


# Materializing due steps into messages


def materialize(now: datetime | None = None, *, limit: int = 20_000, rng=None) -> int:
    """Create the queued Message of every due enrollment step (at most `limit` enrollments
    looked at); returns how many messages were created. Unscoped sweeper; atomic per chunk;
    idempotent (an enrollment step is materialized once, whoever runs concurrently)."""
    now = now or timezone.now()
    rng = rng or random.Random()
    _unscoped_campaigns().filter(status=CampaignStatus.SCHEDULED, start_at__lte=now).update(
        status=CampaignStatus.RUNNING
    )
    campaigns = _due_campaigns_in_window(now)
    if not campaigns:
        return 0
    steps = _steps_by_campaign(campaigns)
    created = looked_at = 0
    while looked_at < limit:
        size = min(MATERIALIZE_CHUNK, limit - looked_at)
        seen, made = _materialize_chunk(now, size, campaigns, steps, rng)
        looked_at += seen
        created += made
        if seen < size:
            break
    return created


def _unscoped_campaigns():
    return Campaign.objects.all()


def _due_campaigns_in_window(now: datetime) -> dict[int, Campaign]:
    ids = (
        _unscoped_enrollments()
        .filter(
            status=EnrollmentStatus.ACTIVE,
            next_send_at__lte=now,
            campaign__status=CampaignStatus.RUNNING,
        )
        .order_by()
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    campaigns = _unscoped_campaigns().filter(pk__in=list(ids)).select_related("sender")
    # Outside its window a campaign's due enrollments just wait: next_send_at stays in the
    # past and they are picked up when the window opens.
    return {c.pk: c for c in campaigns if schedule.in_window(c, now)}


def _steps_by_campaign(campaigns: dict[int, Campaign]) -> dict[int, list[Step]]:
    steps: dict[int, list[Step]] = {pk: [] for pk in campaigns}
    for step in Step.objects.filter(campaign_id__in=list(campaigns)).order_by("campaign", "order"):
        steps[step.campaign_id].append(step)
    return steps


def choose_variant(step: Step, rng) -> tuple[str, str, str]:
    """(variant key, subject template, body template) by the step's A/B weights. The step's
    own subject and body are variant "A" with the weight the others leave; a step without
    variants has no key."""
    others = [v for v in step.variants or [] if v.get("subject") or v.get("body")]
    if not others:
        return "", step.subject, step.body
    weights = [max(int(v.get("weight") or 0), 0) for v in others]
    options = [("A", step.subject, step.body)] + [
        (str(v.get("key") or "B")[:8], v.get("subject") or step.subject, v.get("body") or step.body)
        for v in others
    ]
    weights = [max(100 - sum(weights), 0), *weights]
    if not any(weights):
        weights = [1] * len(options)
    return rng.choices(options, weights=weights)[0]


def _materialize_chunk(now, size, campaigns, steps, rng) -> tuple[int, int]:
    with transaction.atomic():
        enrollments = list(
            _locking(
                _unscoped_enrollments().filter(
                    status=EnrollmentStatus.ACTIVE,
                    next_send_at__lte=now,
                    campaign_id__in=list(campaigns),
                )
            )
            .select_related("lead__company")
            .order_by("next_send_at", "pk")[:size]
        )
        if not enrollments:
            return 0, 0
        suppressed = {
            (org_id, email): reason
            for org_id, email, reason in Suppression.objects.filter(
                organization_id__in={e.organization_id for e in enrollments},
                email__in={e.lead.email for e in enrollments if e.lead.email},
            ).values_list("organization_id", "email", "reason")
        }
        existing = set(
            _unscoped_messages()
            .filter(enrollment__in=enrollments)
            .values_list("enrollment_id", "step_id")
        )
        messages: list[Message] = []
        stops: dict[tuple[str, str], list[int]] = {}
        for enrollment in enrollments:
            outcome = _message_for(enrollment, campaigns, steps, suppressed, existing, now, rng)
            if isinstance(outcome, Message):
                messages.append(outcome)
            elif outcome is not None:
                stops.setdefault(outcome, []).append(enrollment.pk)
        _create_messages(messages)
        _unscoped_enrollments().filter(pk__in=[e.pk for e in enrollments]).update(
            next_send_at=None, updated_at=now
        )
        for (status, reason), ids in stops.items():
            _unscoped_enrollments().filter(pk__in=ids).update(
                status=status, stopped_reason=reason[:300], updated_at=now
            )
    return len(enrollments), len(messages)


def _message_for(enrollment, campaigns, steps, suppressed, existing, now, rng):
    """The new Message for this enrollment's current step, or (status, reason) to end the
    enrollment with, or None when its message already exists."""
    campaign = campaigns[enrollment.campaign_id]
    lead = enrollment.lead
    sequence = steps[campaign.pk]
    if enrollment.current_step >= len(sequence):
        return (EnrollmentStatus.COMPLETED, "")
    if lead.archived_at is not None:
        return (EnrollmentStatus.STOPPED, "Lead archived")
    if not lead.email:
        return (EnrollmentStatus.STOPPED, "No email address")
    reason = suppressed.get((enrollment.organization_id, lead.email))
    if reason is not None:
        status = _SUPPRESSION_STATUS.get(reason, EnrollmentStatus.STOPPED)
        return (status, f"On the suppression list ({reason})")
    step = sequence[enrollment.current_step]
    if (enrollment.pk, step.pk) in existing:
        return None
    variant, subject_template, body_template = choose_variant(step, rng)
    context = rendering.context_for(lead, campaign.sender, _PLACEHOLDER)
    try:
        subject, missing = rendering.render(subject_template, context)
        body, missing_body = rendering.render(body_template, context)
    except rendering.TemplateError as exc:
        return (EnrollmentStatus.FAILED, f"Step {step.order}: {exc}")
    missing = (missing | missing_body) - {"unsubscribe_url"}
    if missing:
        return (EnrollmentStatus.STOPPED, f"Missing template values: {', '.join(sorted(missing))}")
    return Message(
        organization_id=enrollment.organization_id,
        enrollment=enrollment,
        campaign=campaign,
        step=step,
        lead=lead,
        sender=campaign.sender,
        variant=variant,
        to_email=lead.email,
        subject=" ".join(subject.split())[:300],
        body_text=body,
        body_html=rendering.text_to_html(body),
        message_id=new_message_id(campaign.sender),
        next_attempt_at=now,
        created_at=now,
    )


def new_message_id(sender: Sender) -> str:
    return f"{uuid.uuid4().hex}@{sender.domain}"


def _create_messages(messages: list[Message]) -> None:
    """Insert, then put each message's own unsubscribe link where the template asked for
    it (the link is signed over the message's id, known only after the insert)."""
    Message.objects.bulk_create(messages, batch_size=500)
    linked = []
    for message in messages:
        if _PLACEHOLDER_RE.search(message.body_text) or _PLACEHOLDER_RE.search(message.subject):
            url = tracking.unsubscribe_url(message.pk)
            message.subject = _PLACEHOLDER_RE.sub(url, message.subject)[:300]
            message.body_text = _PLACEHOLDER_RE.sub(url, message.body_text)
            message.body_html = rendering.text_to_html(message.body_text)
            linked.append(message)
    if linked:
        Message.objects.bulk_update(linked, ["subject", "body_text", "body_html"], batch_size=500)


# Transports: one SMTP connection per sender per batch


class SendError(Exception):
    """A send that did not go through: `transient` ones are retried; a permanent one at the
    recipient (`bounce`) suppresses the address."""

    def __init__(self, text: str, *, code: int | None = None, stage: str = "", transient: bool):
        super().__init__(text)
        self.code = code
        self.stage = stage
        self.transient = transient

    @property
    def bounce(self) -> bool:
        """The address itself is bad: an enhanced status 5.1.x (RFC 3463 "addressing"), or
        without one a 550/551/553 to RCPT. A policy refusal (5.7.x: our IP or content
        blocked) fails the message but leaves the address alone, or one blocklisting would
        suppress the whole list."""
        if self.transient:
            return False
        enhanced = _ENHANCED.match(str(self))
        if enhanced:
            return enhanced.group(1) == "1"
        return self.stage == "rcpt" and self.code in (550, 551, 553)

    @property
    def response(self) -> str:
        return f"{self.code} {self}" if self.code else str(self)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    timeout: float = 20


def _default_timeout() -> float:
    options = settings.MAILERS.get("default", {}).get("OPTIONS", {})
    return float(options.get("timeout") or 20)


def smtp_config(sender: Sender) -> SmtpConfig | None:
    """The sender's own SMTP server, or the install's default mailer when it speaks SMTP;
    None when the default mailer is another backend (console, file, locmem)."""
    if sender.smtp_host:
        use_ssl = sender.smtp_security == SmtpSecurity.SSL
        use_tls = sender.smtp_security == SmtpSecurity.STARTTLS
        password = ""
        if sender.smtp_password_encrypted:
            try:
                password = crypto.decrypt(sender.smtp_password_encrypted)
            except crypto.InvalidToken:
                raise SendError(
                    "The sender's SMTP password cannot be decrypted (encryption keys changed?).",
                    stage="connect",
                    transient=True,
                ) from None
        return SmtpConfig(
            host=sender.smtp_host,
            port=sender.smtp_port or (465 if use_ssl else 587 if use_tls else 25),
            username=sender.smtp_username,
            password=password,
            use_tls=use_tls,
            use_ssl=use_ssl,
            timeout=_default_timeout(),
        )
    config = settings.MAILERS.get("default", {})
    if config.get("BACKEND", "django.core.mail.backends.smtp.EmailBackend") != (
        "django.core.mail.backends.smtp.EmailBackend"
    ):
        return None
    options = config.get("OPTIONS", {})
    use_ssl = bool(options.get("use_ssl"))
    use_tls = bool(options.get("use_tls"))
    return SmtpConfig(
        host=options.get("host") or "localhost",
        port=int(options.get("port") or (465 if use_ssl else 587 if use_tls else 25)),
        username=options.get("username") or "",
        password=options.get("password") or "",
        use_tls=use_tls,
        use_ssl=use_ssl,
        timeout=float(options.get("timeout") or 20),
    )


def _envelope_address(address: str) -> str:
    local, _, domain = address.rpartition("@")
    if not local or not local.isascii():
        raise SendError(f"Cannot send to {address!r}.", stage="rcpt", transient=False)
    return f"{local}@{punycode(domain) if not domain.isascii() else domain}"


class SmtpTransport:
    """One connection, opened on the first send and reused; MAIL, RCPT and DATA are sent
    one by one so each failure is known with its stage and code."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        from django.core.mail.utils import DNS_NAME

        config = self.config
        try:
            if config.use_ssl:
                conn = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    local_hostname=DNS_NAME.get_fqdn(),
                    timeout=config.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                conn = smtplib.SMTP(
                    config.host,
                    config.port,
                    local_hostname=DNS_NAME.get_fqdn(),
                    timeout=config.timeout,
                )
            conn.ehlo()
            if config.use_tls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if config.username and config.password:
                conn.login(config.username, config.password)
        except smtplib.SMTPResponseException as exc:
            raise SendError(
                f"Connecting to {config.host}:{config.port}: {_text(exc.smtp_error)}",
                code=exc.smtp_code,
                stage="connect",
                transient=True,
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(
                f"Connecting to {config.host}:{config.port}: {exc or type(exc).__name__}",
                stage="connect",
                transient=True,
            ) from exc
        return conn

    def send(self, email_message, sender: Sender) -> str:
        raw = composing.to_bytes(email_message, sender)
        from_address = _envelope_address(sender.email)
        to_address = _envelope_address(email_message.to[0])
        if self.connection is None:
            self.connection = self._open()
        conn = self.connection
        stage = "mail"
        try:
            code, text = conn.mail(from_address)
            if code == 250:
                stage = "rcpt"
                code, text = conn.rcpt(to_address)
            if code in (250, 251):
                stage = "data"
                code, text = conn.data(raw)
        except smtplib.SMTPResponseException as exc:  # data() when DATA itself is refused
            code, text = exc.smtp_code, exc.smtp_error
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise SendError(
                f"Connection lost during {stage.upper()}: {exc or type(exc).__name__}",
                stage=stage,
                transient=True,
            ) from exc
        if code == 250:
            return f"{code} {_text(text)}"
        if code == 421 or code < 400:
            self._drop()
        else:
            self._reset()
        raise SendError(_text(text), code=code, stage=stage, transient=code < 500)

    def _reset(self) -> None:
        try:
            self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
            finally:
                self._drop()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class BackendTransport:
    """The install's default mailer when it is not SMTP (console, file, locmem)."""

    def __init__(self):
        from django.core.mail import mailers

        self.backend = mailers.default
        self.backend.open()

    def send(self, email_message, sender: Sender) -> str:
        try:
            self.backend.send_messages([email_message])
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(str(exc) or type(exc).__name__, transient=True) from exc
        return f"accepted by {type(self.backend).__module__}"

    def close(self) -> None:
        self.backend.close()


def transport_for(sender: Sender):
    config = smtp_config(sender)
    return BackendTransport() if config is None else SmtpTransport(config)


# Dispatching queued messages


@dataclass
class Clock:
    """Seconds (monotonic) and sleeping, for pacing; tests pass a fake one."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass
class SendState:
    """What one dispatcher run remembers across its dispatch() calls: when each sender may
    send next (its rate), and each campaign's sends and failures (its failure share)."""

    clock: Clock = field(default_factory=Clock)
    next_slot: dict[int, float] = field(default_factory=dict)
    tried: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    steps: dict[int, list[Step]] = field(default_factory=dict)

    def wait_turn(self, sender: Sender) -> None:
        if not sender.rate_per_minute:
            return
        now = self.clock.now()
        slot = self.next_slot.get(sender.pk, now)
        if slot > now:
            self.clock.sleep(slot - now)
            now = slot
        self.next_slot[sender.pk] = now + 60.0 / sender.rate_per_minute

    def steps_of(self, campaign_id: int) -> list[Step]:
        if campaign_id not in self.steps:
            self.steps[campaign_id] = list(
                Step.objects.filter(campaign_id=campaign_id).order_by("order")
            )
        return self.steps[campaign_id]


def effective_cap(sender: Sender, now: datetime | None = None) -> int:
    """The sender's daily cap; with ramp-up, a share of it that grows weekly."""
    if not sender.ramp_up:
        return sender.daily_cap
    weeks = max(((now or timezone.now()) - sender.created_at).days, 0) // 7
    share = min((weeks + 1) / RAMP_WEEKS, 1.0)
    return min(sender.daily_cap, max(RAMP_MINIMUM, math.floor(sender.daily_cap * share)))


def requeue_stale(now: datetime | None = None, lease: timedelta = LEASE) -> int:
    """Messages claimed longer than `lease` ago by a worker that died go back to the queue."""
    now = now or timezone.now()
    return (
        _unscoped_messages()
        .filter(status=MessageStatus.SENDING, claimed_at__lt=now - lease)
        .update(status=MessageStatus.QUEUED, claimed_at=None, next_attempt_at=now)
    )


def dispatch(
    *, limit: int = 500, state: SendState | None = None, lease: timedelta = LEASE
) -> Counter:
    """Claim and send due messages, at most `limit`; returns counts by outcome ("sent",
    "retry", "failed", "bounced", "suppressed", "released", "lost") plus "claimed" and
    "rate_limited" (senders that had due mail but no room in their rate this minute).
    Unscoped sweeper; each message is recorded in its own transaction at once."""
    state = state or SendState()
    now = timezone.now()
    counts: Counter = Counter()
    requeue_stale(now, lease)
    _unscoped_messages().filter(
        status=MessageStatus.QUEUED, campaign__status=CampaignStatus.CANCELLED
    ).update(status=MessageStatus.FAILED, error="Not sent: the campaign was cancelled.")
    sender_ids = (
        _unscoped_messages()
        .filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now)
        .filter(Q(campaign__isnull=True) | Q(campaign__status=CampaignStatus.RUNNING))
        .order_by()
        .values_list("sender_id", flat=True)
        .distinct()
    )
    for sender_id in list(sender_ids):
        room = limit - counts["claimed"]
        if room <= 0:
            break
        batch, rate_limited = _claim(sender_id, now, room)
        counts["rate_limited"] += rate_limited
        if batch:
            counts["claimed"] += len(batch)
            counts.update(_send_batch(batch, state))
    return counts


def _claim(sender_id: int, now: datetime, room: int) -> tuple[list[Message], bool]:
    """Claim up to `room` due messages of one sender, within its cap, rate and quota.
    Claims of one sender are serialized by locking its row (PostgreSQL), so two workers
    cannot both take the last of its cap."""
    with transaction.atomic():
        senders = Sender.objects.filter(pk=sender_id).select_related("organization")
        sender = (senders.select_for_update(of=("self",)) if _is_postgres() else senders).get()
        day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        minute_ago = now - timedelta(seconds=60)
        used = (
            Message.objects.for_org(sender.organization_id)
            .filter(sender=sender)
            .filter(Q(sent_at__gte=day_start) | Q(status=MessageStatus.SENDING))
            .aggregate(
                today=Count("pk", filter=Q(sent_at__gte=day_start)),
                minute=Count("pk", filter=Q(sent_at__gte=minute_ago)),
                flying=Count("pk", filter=Q(status=MessageStatus.SENDING)),
            )
        )
        budget = min(room, effective_cap(sender, now) - used["today"] - used["flying"])
        rate_limited = False
        if sender.rate_per_minute:
            rate_room = sender.rate_per_minute - used["minute"] - used["flying"]
            rate_limited = rate_room <= 0 < budget
            per_claim = max(1, math.ceil(sender.rate_per_minute * CLAIM_SECONDS / 60))
            budget = min(budget, rate_room, per_claim)
        quota = usage.remaining(sender.organization, USAGE_ACTION)
        if quota is not None:
            budget = min(budget, quota - used["flying"])
        if budget <= 0:
            return [], rate_limited
        due = Message.objects.for_org(sender.organization_id).filter(
            sender=sender, status=MessageStatus.QUEUED, next_attempt_at__lte=now
        )
        campaign_ids = (
            due.filter(campaign__status=CampaignStatus.RUNNING)
            .order_by()
            .values_list("campaign_id", flat=True)
            .distinct()
        )
        open_ids = [
            c.pk
            for c in Campaign.objects.filter(pk__in=list(campaign_ids))
            if schedule.in_window(c, now)
        ]
        ids = list(
            _locking(due.filter(Q(campaign__isnull=True) | Q(campaign_id__in=open_ids)))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:budget]
        )
        if not ids:
            return [], False
        Message.objects.filter(pk__in=ids).update(status=MessageStatus.SENDING, claimed_at=now)
    batch = list(
        Message.objects.for_org(sender.organization_id)
        .filter(pk__in=ids)
        .select_related("campaign", "enrollment", "lead__company", "lead__owner")
        .order_by("next_attempt_at", "pk")
    )
    for message in batch:  # one sender row and organization for the whole batch
        message.sender = sender
        message.organization = sender.organization
    return batch, False


def _send_batch(batch: list[Message], state: SendState) -> Counter:
    sender = batch[0].sender
    counts: Counter = Counter()
    transport = None
    unreachable: SendError | None = None
    try:
        for message in batch:
            if unreachable is not None:
                # The server could not be reached in this batch: the rest wait their
                # backoff instead of each waiting out its own connection timeout.
                counts[_record_failure(message, unreachable, state)] += 1
                continue
            state.wait_turn(sender)
            try:
                transport = transport or transport_for(sender)
            except SendError as exc:  # the sender's password cannot be read
                unreachable = exc
                counts[_record_failure(message, exc, state)] += 1
                continue
            outcome, error = send_claimed(message, transport, state)
            if error is not None and error.stage == "connect":
                unreachable = error
            counts[outcome] += 1
    finally:
        if transport is not None:
            transport.close()
    return counts


def _fresh(message: Message) -> dict[str, Any]:
    """What may have changed since the claim: whether it is still ours (a claim held past its
    lease may have been taken over), the campaign's status, the lead's status, and whether
    the address is suppressed now. One query, right before the send."""
    return (
        _unscoped_messages()
        .filter(pk=message.pk)
        .annotate(
            suppressed=Subquery(
                Suppression.objects.filter(
                    organization_id=OuterRef("organization_id"), email=OuterRef("to_email")
                ).values("reason")[:1]
            )
        )
        .values("status", "claimed_at", "campaign__status", "lead__status", "suppressed")
        .get()
    )


def send_claimed(
    message: Message,
    transport,
    state: SendState,
    *,
    actor=None,
    on_sent: Callable[[Message], None] | None = None,
) -> tuple[str, SendError | None]:
    """Send one claimed message and record the outcome at once: (outcome, the error)."""
    fresh = _fresh(message)
    if fresh["status"] != MessageStatus.SENDING or fresh["claimed_at"] != message.claimed_at:
        return "lost", None  # requeued after our lease ran out: another worker has it
    if message.campaign_id and fresh["campaign__status"] != CampaignStatus.RUNNING:
        _ours(message).update(status=MessageStatus.QUEUED, claimed_at=None)
        return "released", None
    if fresh["suppressed"]:
        _record_suppressed(message, fresh["suppressed"])
        return "suppressed", None
    if message.campaign_id:
        state.tried[message.campaign_id] += 1
    try:
        response = transport.send(composing.build(message), message.sender)
    except SendError as exc:
        return _record_failure(message, exc, state), exc
    except Exception as exc:  # a bug or bad data in this one message: fail it, go on
        logger.exception("Sending message %s failed", message.pk)
        error = SendError(f"Not sent: {type(exc).__name__}: {exc}", transient=False)
        return _record_failure(message, error, state), error
    _record_sent(
        message,
        response,
        state,
        lead_was_new=fresh["lead__status"] == Status.NEW,
        actor=actor,
        on_sent=on_sent,
    )
    return "sent", None


def _ours(message: Message):
    """The message's row while this worker's claim on it holds."""
    return _unscoped_messages().filter(
        pk=message.pk, status=MessageStatus.SENDING, claimed_at=message.claimed_at
    )


def _fast_commit() -> None:
    """This transaction's commit returns before the WAL flush (see the module docstring)."""
    if _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _record_sent(
    message: Message,
    response: str,
    state: SendState,
    *,
    lead_was_new: bool,
    actor=None,
    on_sent: Callable[[Message], None] | None = None,
) -> None:
    """Mark the message sent and everything that follows from it, in one transaction: the
    enrollment's next step, the lead contacted (first email), its timeline, the event, the
    usage meter."""
    now = timezone.now()
    lead = message.lead
    lead.organization = message.organization  # loaded once per batch, not per event
    with transaction.atomic():
        _fast_commit()
        _unscoped_messages().filter(pk=message.pk).update(
            status=MessageStatus.SENT,
            sent_at=now,
            smtp_response=response[:1000],
            error="",
            attempts=message.attempts + 1,
        )
        message.status, message.sent_at, message.smtp_response = MessageStatus.SENT, now, response
        message.attempts += 1
        if message.enrollment_id:
            _advance(message, now, state)
        if lead_was_new:
            lead_services.set_status(
                lead=lead, status=Status.CONTACTED, actor=actor, note="First email sent"
            )
        Lead.objects.for_org(message.organization_id).filter(pk=lead.pk).filter(
            Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=now)
        ).update(last_contacted_at=now)
        lead.last_contacted_at = now
        lead_services.add_activity(
            lead=lead,
            kind=ActivityKind.EMAIL_SENT,
            actor=actor,
            body=message.subject,
            data={
                "subject": message.subject,
                "message_id": message.message_id,
                "campaign_id": message.campaign_id,
            },
            occurred_at=now,
        )
        events.emit(
            message.organization,
            EMAIL_SENT_EVENT,
            {
                "id": message.pk,
                "message_id": message.message_id,
                "lead_id": lead.pk,
                "campaign_id": message.campaign_id,
                "step": _step_order(message, state),
                "variant": message.variant,
                "to": message.to_email,
                "subject": message.subject,
            },
            actor=actor,
            actor_label="" if actor else "campaigns",
        )
        usage.record(message.organization, USAGE_ACTION, 1, user=actor)
        if on_sent is not None:
            on_sent(message)


def _step_order(message: Message, state: SendState) -> int | None:
    if not message.campaign_id:
        return None
    return next(
        (s.order for s in state.steps_of(message.campaign_id) if s.pk == message.step_id), None
    )


def _advance(message: Message, now: datetime, state: SendState) -> None:
    """The enrollment moves past the step just sent: the next one is due after its delay
    (inside the window), or the enrollment is completed. A stopped enrollment stays so."""
    enrollment = message.enrollment
    steps = state.steps_of(message.campaign_id)
    following = enrollment.current_step + 1
    active = _unscoped_enrollments().filter(pk=enrollment.pk, status=EnrollmentStatus.ACTIVE)
    if following < len(steps):
        moment = schedule.after_delay(message.campaign, steps[following], now)
        active.update(current_step=following, next_send_at=moment, updated_at=now)
    else:
        active.update(
            current_step=following,
            next_send_at=None,
            status=EnrollmentStatus.COMPLETED,
            updated_at=now,
        )


def _end_enrollments(message: Message, status: str, reason: str, *, every_one: bool) -> None:
    """End the message's enrollment (`every_one`: all the lead's active enrollments)."""
    enrollments = Enrollment.objects.for_org(message.organization_id).active()
    if every_one:
        enrollments = enrollments.filter(lead_id=message.lead_id)
    elif message.enrollment_id:
        enrollments = enrollments.filter(pk=message.enrollment_id)
    else:
        return
    enrollments.update(
        status=status, stopped_reason=reason[:300], next_send_at=None, updated_at=timezone.now()
    )


def _record_suppressed(message: Message, reason: str) -> None:
    with transaction.atomic():
        _ours(message).update(
            status=MessageStatus.FAILED,
            error=f"Not sent: the address is on the suppression list ({reason}).",
        )
        status = _SUPPRESSION_STATUS.get(reason, EnrollmentStatus.STOPPED)
        _end_enrollments(message, status, f"On the suppression list ({reason})", every_one=False)
    message.status = MessageStatus.FAILED


def _record_failure(message: Message, exc: SendError, state: SendState) -> str:
    """Back to the queue with a backoff (transient, attempts left; campaign messages only:
    a one-off fails at once, in front of the rep), or failed; a bounce suppresses the
    address and ends the lead's enrollments."""
    now = timezone.now()
    attempts = message.attempts + 1
    retry = exc.transient and message.campaign_id is not None and attempts < MAX_ATTEMPTS
    outcome = "retry" if retry else "bounced" if exc.bounce else "failed"
    with transaction.atomic():
        _fast_commit()
        messages = _ours(message)
        if retry:
            messages.update(
                status=MessageStatus.QUEUED,
                attempts=attempts,
                claimed_at=None,
                next_attempt_at=now + BACKOFF[min(attempts, len(BACKOFF)) - 1],
                error=str(exc)[:2000],
                smtp_response=exc.response[:1000],
            )
        else:
            messages.update(
                status=MessageStatus.FAILED,
                attempts=attempts,
                error=str(exc)[:2000],
                smtp_response=exc.response[:1000],
            )
        if outcome == "bounced":
            try:
                with transaction.atomic():
                    Suppression.objects.create(
                        organization_id=message.organization_id,
                        email=message.to_email,
                        reason="bounced",
                    )
            except IntegrityError:
                pass  # already on the list
            _end_enrollments(
                message, EnrollmentStatus.BOUNCED, f"Bounced: {exc.response}", every_one=True
            )
        elif outcome == "failed":
            _end_enrollments(
                message, EnrollmentStatus.FAILED, f"Failed: {exc.response}", every_one=False
            )
    message.attempts = attempts
    message.status = MessageStatus.QUEUED if retry else MessageStatus.FAILED
    message.error = str(exc)
    if message.campaign_id:
        _count_failure(message.campaign_id, exc, state)
    return outcome


def _count_failure(campaign_id: int, exc: SendError, state: SendState) -> None:
    """Pause the campaign when its failures in this dispatcher run pass the share."""
    state.failed[campaign_id] += 1
    tried = max(state.tried[campaign_id], state.failed[campaign_id])
    failed = state.failed[campaign_id]
    if tried < FAILURE_MIN or failed / tried < FAILURE_SHARE:
        return
    campaign = _unscoped_campaigns().filter(pk=campaign_id, status=CampaignStatus.RUNNING).first()
    if campaign is None:
        return
    with contextlib.suppress(services.CampaignError):  # paused or cancelled meanwhile
        services.pause(
            campaign=campaign,
            user=None,
            reason=(
                f"Paused automatically: {failed} of {tried} sends failed "
                f"(last: {exc.response[:200]}). Check the sender's SMTP settings and the "
                "list, then resume."
            ),
        )


# One-off email (an agent's draft)


class SendFailed(ValueError):
    """A one-off email was not sent; the message says why."""


def default_sender(organization) -> Sender | None:
    """The sender one-off email goes out from: the organization's first."""
    return Sender.objects.for_org(organization).order_by("created_at", "pk").first()


def send_one_off(*, draft, user) -> Message:
    """Send an agent's draft (an agents.models.Draft, read by its attributes: organization,
    lead, subject, body) to its lead now, through the same path as campaign email, and mark
    the draft sent in the transaction that records the send. Raises ValueError when it
    cannot go (no sender, no address, suppressed) and SendFailed when the server refused it
    or could not be reached (the Message stays as failed, with why)."""
    organization = draft.organization
    lead = draft.lead
    sender = default_sender(organization)
    if sender is None:
        raise ValueError("Add a sender (Campaigns > Senders) before sending email.")
    if not lead.email:
        raise ValueError("This lead has no email address.")
    if lead_services.is_suppressed(organization, lead.email):
        raise ValueError(f"{lead.email} is on the suppression list: it is never emailed.")
    now = timezone.now()
    message = Message.objects.create(
        organization=organization,
        lead=lead,
        sender=sender,
        to_email=lead.email,
        subject=" ".join(draft.subject.split())[:300],
        body_text=draft.body,
        body_html=rendering.text_to_html(draft.body),
        message_id=new_message_id(sender),
        status=MessageStatus.SENDING,
        claimed_at=now,
        next_attempt_at=now,
    )

    def mark_draft(sent: Message) -> None:
        draft.status = "sent"
        draft.sent_at = sent.sent_at
        draft.save(update_fields=["status", "sent_at", "updated_at"])

    state = SendState()
    try:
        transport = transport_for(sender)
    except SendError as exc:
        _record_failure(message, exc, state)
        raise SendFailed(f"The email was not sent: {exc}") from exc
    try:
        outcome, error = send_claimed(message, transport, state, actor=user, on_sent=mark_draft)
    finally:
        transport.close()
    if outcome != "sent":
        reason = error.response if error else message.error or outcome
        raise SendFailed(f"The email was not sent: {reason}")
    return message
