"""Public pages reached from campaign email (no login): the unsubscribe page (confirmation on
GET, RFC 8058 one-click POST), the open pixel and click redirects.

The signed token in the URL is the only credential. It names one message and the
organization is that message's own, so messages are read here without for_org()
(`_unscoped_messages`); a forged token never reaches the database.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, PositiveIntegerField, Value, When
from django.db.models.functions import Coalesce, Lower
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from accounts import events
from campaigns import tracking
from campaigns.models import Enrollment, EnrollmentStatus, Message
from leads import services as lead_services
from leads.models import ActivityKind, Suppression
from leads.utils import normalize_email

UNSUBSCRIBED_EVENT = "lead.unsubscribed"
# setdefault underneath: importing this module again registers nothing twice.

# 1x1 transparent GIF (GIF89a, one-colour palette, transparency on that colour).
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _unscoped_messages():
    return Message.objects.all()


def _read_or_404(token: str, salt: str) -> tuple[int, int | None]:
    try:
        return tracking.read(token, salt)
    except signing.BadSignature:
        raise Http404("This link is not valid.") from None


def masked_email(email: str) -> str:
    """j***@example.com: enough for the recipient to recognise, little for anyone else."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def unsubscribe_recipient(*, message: Message) -> bool:
    """Put the address the message went to (`to_email`, whatever became of the lead since) on
    its organization's suppression list, stop the lead's active enrollments there, and record
    it on the lead's timeline and as a `lead.unsubscribed` event.

    Scoped to the message's organization; atomic; idempotent: returns True only for the call
    that changed something, so a repeat adds no timeline entry and no event.
    """
    organization = message.organization
    email = normalize_email(message.to_email)
    lead = message.lead
    with transaction.atomic():
        # get_or_create without its leading SELECT: the caller just saw no suppression, and
        # the unique (organization, email) constraint settles a concurrent unsubscribe.
        try:
            with transaction.atomic():
                Suppression.objects.create(
                    organization=organization, email=email, reason="unsubscribed"
                )
            suppressed_now = True
        except IntegrityError:
            suppressed_now = False
        stopped = 0
        if lead is not None:
            stopped = (
                Enrollment.objects.for_org(organization)
                .filter(lead_id=lead.pk)
                .active()
                .update(
                    status=EnrollmentStatus.UNSUBSCRIBED,
                    stopped_reason="Unsubscribed from email",
                    updated_at=timezone.now(),
                )
            )
        if not (suppressed_now or stopped):
            return False
        details = {
            "email": email,
            "message_id": message.pk,
            "campaign_id": message.campaign_id,
            "enrollments_stopped": stopped,
        }
        if lead is not None:
            lead_services.add_activity(
                lead=lead, kind=ActivityKind.NOTE, body="Unsubscribed from email", data=details
            )
        # "id" is the lead's, like every lead.* event, so erasing the lead scrubs this payload.
        events.emit(
            organization,
            UNSUBSCRIBED_EVENT,
            {"id": message.lead_id, **details},
            actor_label="unsubscribe link",
        )
    return True


# CSRF-exempt: the signed token is the credential, not a session, and RFC 8058 one-click
# POSTs come from mail providers' servers with no cookie and no CSRF token. A forged
# cross-site POST can only unsubscribe the address whose token it already holds.
# GET only asks (link scanners and prefetchers open every link in a mail); POST, with any
# body, acts.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    message_id, _ = _read_or_404(token, tracking.SALT_UNSUBSCRIBE)
    # One query: the message, its organization and lead, and whether there is work left.
    message = (
        _unscoped_messages()
        .select_related("organization", "lead")
        .annotate(
            suppressed=Exists(
                Suppression.objects.filter(
                    organization_id=OuterRef("organization_id"), email=Lower(OuterRef("to_email"))
                )
            ),
            enrolled=Exists(
                Enrollment.objects.active().filter(
                    organization_id=OuterRef("organization_id"), lead_id=OuterRef("lead_id")
                )
            ),
        )
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise Http404("This link is not valid.")
    done = message.suppressed
    if request.method == "POST":
        if not done or message.enrolled:
            unsubscribe_recipient(message=message)
        done = True
    context = {
        "done": done,
        "masked_email": masked_email(message.to_email),
        "organization_name": message.organization.name,
    }
    return render(request, "campaigns/unsubscribe.html", context)


def _pixel() -> HttpResponse:
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """The GIF whatever the token (a forged one learns nothing); a GET with a valid token
    counts an open. HEAD only probes."""
    try:
        message_id, _ = tracking.read(token, tracking.SALT_OPEN)
    except signing.BadSignature:
        return _pixel()
    if request.method == "GET":
        _unscoped_messages().filter(pk=message_id).update(
            open_count=F("open_count") + 1,
            opened_at=Coalesce(F("opened_at"), Value(timezone.now())),
        )
    return _pixel()


def _safe_target(body_html: str, index: int | None) -> str | None:
    """The message's own link at `index`, if it is an absolute http(s) URL."""
    targets = tracking.links(body_html)
    if index is None or not 0 <= index < len(targets):
        return None
    target = targets[index].strip()
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return target


@require_safe
def click(request: HttpRequest, token: str) -> HttpResponse:
    """302 to the link the token's index names in that message, never anywhere else; a GET
    counts the click (and an open, if none was recorded: the pixel may have been blocked)."""
    message_id, index = _read_or_404(token, tracking.SALT_CLICK)
    body_html = _unscoped_messages().filter(pk=message_id).values_list("body_html", flat=True)
    target = _safe_target(body_html.first() or "", index)
    if target is None:
        raise Http404("This link is not valid.")
    if request.method == "GET":
        now = timezone.now()
        _unscoped_messages().filter(pk=message_id).update(
            click_count=F("click_count") + 1,
            clicked_at=Coalesce(F("clicked_at"), Value(now)),
            open_count=Case(
                When(open_count=0, then=Value(1)),
                default=F("open_count"),
                output_field=PositiveIntegerField(),
            ),
            opened_at=Coalesce(F("opened_at"), Value(now)),
        )
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = "no-store"
    return response
