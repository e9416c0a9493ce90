"""Campaign numbers a rep can trust, counted by the database (a handful of aggregate
queries, whatever the size of the campaign). The one definition behind the campaign page
and `GET campaigns/{id}/stats/`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Value
from django.db.models.functions import TruncDate

from campaigns import schedule
from campaigns.models import Campaign, EnrollmentStatus, Message, MessageStatus

_COUNTED = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed")
_RATED = ("delivered", "opened", "clicked", "replied", "bounced", "unsubscribed")


def _rated(counts: dict[str, int]) -> dict[str, Any]:
    sent = counts["sent"]
    counts["rates"] = {name: (round(counts[name] / sent, 4) if sent else None) for name in _RATED}
    return counts


def campaign_stats(campaign: Campaign) -> dict[str, Any]:
    """Counted by the database in four queries, whatever the campaign's size.

    A message counts as sent once it went out or bounced (delivered = sent - bounced);
    opened, clicked and replied are messages with at least one. An unsubscribe counts for
    the last message its lead was sent. by_day counts each event on its own day in the
    campaign's time zone.
    """
    sent = Q(sent_at__isnull=False) | Q(
        status__in=[MessageStatus.BOUNCED, MessageStatus.COMPLAINED]
    )
    later = Message.objects.filter(
        organization=OuterRef("organization"),
        enrollment=OuterRef("enrollment"),
        sent_at__gt=OuterRef("sent_at"),
    )
    messages = Message.objects.for_org(campaign.organization_id).filter(campaign=campaign)
    rows = list(
        messages.values("step_id", "variant")
        .annotate(
            enrolled=Count("enrollment", distinct=True),
            sent=Count("pk", filter=sent),
            delivered=Count("pk", filter=sent & ~Q(status=MessageStatus.BOUNCED)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
            replied=Count("pk", filter=Q(replied_at__isnull=False)),
            bounced=Count("pk", filter=Q(status=MessageStatus.BOUNCED)),
            unsubscribed=Count(
                "pk",
                filter=Q(enrollment__status=EnrollmentStatus.UNSUBSCRIBED, sent_at__isnull=False)
                & ~Exists(later),
            ),
        )
        .order_by()
    )
    enrolled = campaign.enrollments.count()
    totals = {name: sum(row[name] for row in rows) for name in _COUNTED}

    zero = dict.fromkeys(("enrolled", *_COUNTED), 0)
    by_step: dict[int, dict[str, dict[str, int]]] = {}
    for row in rows:
        key = row["variant"] or "A"
        by_step.setdefault(row["step_id"], {})[key] = {name: row[name] for name in zero}
    steps = []
    for step in campaign.steps.order_by("order"):
        seen = by_step.get(step.pk, {})
        keys = ["A", *(str(v.get("key")) for v in step.variants or [])]
        keys += [key for key in sorted(seen) if key not in keys]
        variants = [_rated({"key": key} | seen.get(key, zero)) for key in keys]
        summed = {name: sum(v[name] for v in variants) for name in zero}
        steps.append(
            _rated({"id": step.pk, "order": step.order, "subject": step.subject} | summed)
            | {"variants": variants}
        )

    zone = schedule.zone(campaign.time_zone)
    parts = [
        messages.filter(**{f"{field}__isnull": False})
        .annotate(day=TruncDate(field, tzinfo=zone), kind=Value(kind))
        .values("day", "kind")
        .annotate(n=Count("pk"))
        .order_by()
        for field, kind in (
            ("sent_at", "sent"),
            ("opened_at", "opened"),
            ("clicked_at", "clicked"),
            ("replied_at", "replied"),
        )
    ]
    days: dict[Any, dict[str, Any]] = {}
    for row in parts[0].union(*parts[1:], all=True).order_by():
        day = days.setdefault(
            row["day"], {"date": row["day"], "sent": 0, "opened": 0, "clicked": 0, "replied": 0}
        )
        day[row["kind"]] += row["n"]
    return {
        "campaign": campaign.pk,
        "totals": _rated({"enrolled": enrolled, **totals}),
        "steps": steps,
        "by_day": [days[day] for day in sorted(days)],
    }
